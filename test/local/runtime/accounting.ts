import type { LocalPipeline } from './localPipeline';
import { parseCompletionEvent } from '../../../shared/verify/completionEvent';
import { deadLetterKeys } from '../cli/report';

/**
 * Where every uploaded object ended. The contract: each object version ends in exactly one of
 * two places, a verdict event or a dead letter with a reason; none gets two jobs or two
 * verdicts; none is forgotten.
 */
export interface Accounting {
  uploaded: number;
  jobsStarted: number;
  /** Jobs started per job type: transcription, Call Analytics, medical. */
  jobsByType: Record<string, number>;
  duplicateJobs: number;
  verified: number;
  mismatches: number;
  failed: number;
  deadLettered: number;
  deadLettersWithoutReason: number;
  duplicateVerdicts: number;
  unaccounted: number;
  unaccountedKeys: string[];
  deadLetterReasons: Record<string, number>;
}

export function account(pipeline: LocalPipeline, uploadedKeys: readonly string[]): Accounting {
  const bucket = pipeline.stack.names.inputBucket;
  // A job deleted through Delete*Job still counts, and its dead letter still maps to its media.
  const jobs = [...pipeline.emulator.jobs(), ...pipeline.emulator.deletedJobs()];
  const jobsPerKey = new Map<string, number>();
  const keyOfJob = new Map<string, string>();
  const jobsByType: Record<string, number> = {};
  for (const job of jobs) {
    const key = job.mediaUri.slice(`s3://${bucket}/`.length);
    jobsPerKey.set(key, (jobsPerKey.get(key) ?? 0) + 1);
    keyOfJob.set(job.name, key);
    jobsByType[job.jobType] = (jobsByType[job.jobType] ?? 0) + 1;
  }
  const verdicts = new Map<string, string[]>();
  for (const outcome of pipeline.outcomes) {
    const key = String(outcome.detail.source?.key ?? keyOfJob.get(String(outcome.detail.jobName)) ?? '');
    verdicts.set(key, [...(verdicts.get(key) ?? []), String(outcome.detail.outcome)]);
  }
  const dead = new Map<string, string>();
  for (const letter of pipeline.deadLetters) {
    const keys = letter.queue === 'start' ? deadLetterKeys(letter) : jobNamesOfAsyncFailure(letter).map((name) => keyOfJob.get(name) ?? '');
    for (const key of keys) if (!dead.has(key)) dead.set(key, letter.reason);
  }

  const result: Accounting = {
    uploaded: uploadedKeys.length,
    jobsStarted: jobs.length,
    jobsByType,
    duplicateJobs: [...jobsPerKey.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0),
    verified: 0,
    mismatches: 0,
    failed: 0,
    deadLettered: 0,
    deadLettersWithoutReason: 0,
    duplicateVerdicts: 0,
    unaccounted: 0,
    unaccountedKeys: [],
    deadLetterReasons: {},
  };
  for (const key of new Set(uploadedKeys)) {
    const list = verdicts.get(key) ?? [];
    if (list.length > 1) result.duplicateVerdicts += list.length - 1;
    const verdict = list[0];
    if (verdict === 'verified') result.verified++;
    else if (verdict === 'mismatch') result.mismatches++;
    else if (verdict === 'failed') result.failed++;
    else if (dead.has(key)) {
      result.deadLettered++;
      const reason = dead.get(key) ?? '';
      if (!reason.trim()) result.deadLettersWithoutReason++;
      const kind = reason.split(':')[0] ?? 'unknown';
      result.deadLetterReasons[kind] = (result.deadLetterReasons[kind] ?? 0) + 1;
    } else {
      result.unaccounted++;
      result.unaccountedKeys.push(key);
    }
  }
  return result;
}

/**
 * The jobs a failed asynchronous invocation was about: the job of a completion event (either
 * kind) or of CloudTrail's record of its deletion, or, for a failed sweep, every job its
 * SweepIncompleteError lists (one line each).
 */
function jobNamesOfAsyncFailure(letter: { body: string; reason: string }): string[] {
  let event: unknown;
  try {
    event = (JSON.parse(letter.body) as { requestPayload?: unknown }).requestPayload;
  } catch {
    return [];
  }
  try {
    return [parseCompletionEvent(event).jobName];
  } catch {
    // not an event the verifier takes: a sweep's failure
  }
  return [...letter.reason.matchAll(/^ {2}- (?:\w+ job )?(\S+): /gm)].map((match) => match[1] as string);
}

export function accountingHolds(result: Accounting): boolean {
  return result.duplicateJobs === 0 && result.unaccounted === 0 && result.duplicateVerdicts === 0 && result.deadLettersWithoutReason === 0;
}

export function formatAccounting(result: Accounting): string {
  const rows: [string, number | string][] = [
    ['uploaded', result.uploaded],
    ['jobs started', `${result.jobsStarted} (${Object.entries(result.jobsByType).map(([type, n]) => `${type} ${n}`).join(', ')})`],
    ['duplicate jobs (must be 0)', result.duplicateJobs],
    ['verified', result.verified],
    ['mismatches', result.mismatches],
    ['failed', result.failed],
    ['in the DLQ with a reason', result.deadLettered],
    ['duplicate verdict events (must be 0)', result.duplicateVerdicts],
    ['unaccounted (must be 0)', result.unaccounted],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const reasons = Object.entries(result.deadLetterReasons).map(([kind, n]) => `    ${kind}: ${n}`);
  return [
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    ...(reasons.length ? ['  dead letters by reason:', ...reasons] : []),
    ...(result.unaccountedKeys.length ? [`  unaccounted keys: ${result.unaccountedKeys.slice(0, 10).join(', ')}`] : []),
    `  verified + mismatches + failed + DLQ + unaccounted = ${result.verified + result.mismatches + result.failed + result.deadLettered + result.unaccounted} of ${result.uploaded} uploaded`,
  ].join('\n');
}
