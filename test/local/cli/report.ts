import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Notification } from '../../../shared/start/s3Notification';
import { buildRuleIndex, matchRule } from '../../../shared/config/ruleIndex';
import { parseS3Uri } from '../../../shared/aws/s3Location';
import type { PipelineConfig } from '../../../shared/config/rule';
import type { DeadLetter, LocalPipeline } from '../runtime/localPipeline';
import type { LogRecord } from '../runtime/logCapture';
import stringWidth from 'string-width';
import { columnWidths, padToWidth, terminalText } from '../../../shared/cli/terminalOutput';

export type Verdict = 'verified' | 'mismatch' | 'failed' | 'skipped' | 'ignored' | 'dead-lettered' | 'not uploaded' | 'unaccounted';

/** Why an object under no rule gets no job: the stack's notification filters never send it. */
export const NO_RULE_REASON = "no rule's prefix covers this key, so S3 sends the pipeline no notification for it";

export interface ObjectRow {
  key: string;
  rule: string;
  jobType: string;
  keyAskedFor: string;
  jobName: string;
  jobStatus: string;
  actualEncryption: string;
  verdict: Verdict;
  detail: string;
  outcomeEvents: number;
}

/** Where one uploaded object ended: its verdict event, its skip line, its dead letter, no rule, or nowhere. */
export async function objectRows(pipeline: LocalPipeline, keys: readonly string[]): Promise<ObjectRow[]> {
  const index = buildRuleIndex(pipeline.config.rules);
  const jobs = new Map(pipeline.emulator.jobs().map((j) => [j.name, j]));
  const rows: ObjectRow[] = [];
  for (const key of keys) {
    const rule = matchRule(index, key);
    const outcomes = pipeline.outcomes.filter((o) => o.detail.source?.key === key);
    const outcome = outcomes[0];
    const started = pipeline.logs.find((l) => (l.message === 'job started' || l.message === 'job already started') && l.key === key);
    const skipped = pipeline.logs.find((l) => l.message === 'object skipped' && l.key === key);
    const dead = pipeline.deadLetters.find((d) => deadLetterKeys(d).includes(key));
    const jobName = String(outcome?.detail.jobName ?? started?.jobName ?? '');
    const row: ObjectRow = {
      key,
      rule: rule ? rule.prefix || '(whole bucket)' : '(none)',
      jobType: rule ? rule.job.jobType : '-',
      keyAskedFor: rule ? (rule.kmsKey?.value ?? 'none: bucket default') : '-',
      jobName: jobName || '-',
      jobStatus: jobs.get(jobName)?.status ?? '-',
      actualEncryption: outcome?.detail.transcriptUri ? await describeOutputs(pipeline.s3, outputUris(outcome.detail)) : '-',
      verdict: 'unaccounted',
      detail: '',
      outcomeEvents: outcomes.length,
    };
    if (outcome) {
      row.verdict = outcome.detail.outcome as Verdict;
      row.detail = outcome.detail.outcome === 'failed' ? String(outcome.detail.failureReason) : (outcome.detail.problems as string[]).join('; ');
    } else if (skipped) {
      row.verdict = 'skipped';
      row.detail = String(skipped.reason);
    } else if (dead) {
      row.verdict = 'dead-lettered';
      row.detail = dead.reason;
    } else if (!rule) {
      row.verdict = 'ignored';
      row.detail = NO_RULE_REASON;
    }
    rows.push(row);
  }
  return rows;
}

/** The row of a file that never reached the bucket, with why. */
export function notUploadedRow(key: string, reason: string): ObjectRow {
  return { key, rule: '-', jobType: '-', keyAskedFor: '-', jobName: '-', jobStatus: '-', actualEncryption: '-', verdict: 'not uploaded', detail: reason, outcomeEvents: 0 };
}

/** The object keys a dead letter is about, read from the S3 event or the failed invocation. */
export function deadLetterKeys(letter: DeadLetter): string[] {
  try {
    if (letter.queue === 'start') {
      const parsed = parseS3Notification(letter.body);
      return parsed.kind === 'objects' ? parsed.objects.map((o) => o.key) : [];
    }
  } catch {
    return [];
  }
  return [];
}

/** Every object the verifier judged (a Call Analytics job writes up to three), the transcript first. */
function outputUris(detail: Record<string, any>): string[] {
  const judged = ((detail.actual ?? []) as { uri: string }[]).map((object) => object.uri);
  return judged.length > 0 ? judged : [String(detail.transcriptUri)];
}

/** The encryption of each output, read again with HeadObject: one description when all agree, with the count. */
export async function describeOutputs(s3: S3Client, uris: readonly string[]): Promise<string> {
  const seen = await Promise.all(uris.map((uri) => describeEncryption(s3, uri)));
  const distinct = [...new Set(seen)];
  return uris.length === 1 ? (distinct[0] ?? '-') : `${distinct.join(', ')} (${uris.length} objects)`;
}

export async function describeEncryption(s3: S3Client, transcriptUri: string): Promise<string> {
  const location = parseS3Uri(transcriptUri);
  if (!location) return '?';
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
    if (!head.ServerSideEncryption) return 'none';
    return head.SSEKMSKeyId ? `${head.ServerSideEncryption} ${shortKeyArn(head.SSEKMSKeyId)}` : head.ServerSideEncryption;
  } catch (error) {
    return (error as { name?: string }).name === 'NotFound' ? 'missing' : `HEAD failed (${(error as Error).name})`;
  }
}

/** `arn:aws:kms:us-east-1:123456789012:key/1234abcd-...` as `key/1234abcd… @123456789012`. */
export function shortKeyArn(arn: string): string {
  const match = /:(\d{12}):key\/([0-9a-z-]+)$/.exec(arn);
  return match ? `key/${(match[2] as string).slice(0, 8)}… @${match[1]}` : arn;
}

/** The longest run of `chars` from the start that a terminal shows in at most `width` columns. */
function fitting(chars: readonly string[], width: number): string {
  let text = '';
  for (const char of chars) {
    if (stringWidth(text + char) > width) break;
    text += char;
  }
  return text;
}

/** A long cell as its first `head` and last `tail` columns, joined by an ellipsis: by what a terminal shows, so a CJK name is cut as wide as any other. */
function shortened(value: string, head: number, tail: number): string {
  if (stringWidth(value) <= head + 1 + tail) return value;
  const chars = [...value];
  return `${fitting(chars, head)}…${[...fitting([...chars].reverse(), tail)].reverse().join('')}`;
}

export function formatTable(rows: readonly ObjectRow[]): string {
  const headers = ['object', 'rule', 'job type', 'key asked for', 'job', 'status', 'output encryption', 'verdict'];
  const cells = rows.map((r) => [
    shortened(terminalText(r.key), 28, 31),
    r.rule,
    r.jobType,
    shortened(r.keyAskedFor, 20, 23),
    r.jobName.length > 30 ? `${r.jobName.slice(0, 29)}…` : r.jobName,
    r.jobStatus,
    r.actualEncryption,
    r.verdict,
  ]);
  const widths = columnWidths(headers, cells);
  const line = (values: string[]) => values.map((v, i) => padToWidth(v, widths[i] ?? 0)).join('  ').trimEnd();
  const notes = rows.filter((r) => r.verdict !== 'verified' && r.detail).map((r) => `  ${terminalText(r.key)}: ${r.detail}`);
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n');
}

/** A live line per handler log record; keys and reasons shown as one line of a terminal (terminalText), since an uploader's names may hold escapes. */
export function describeProgress(record: LogRecord): string | undefined {
  const shown = (value: unknown) => terminalText(String(value));
  switch (record.message) {
    case 'job started':
      return `  started   ${shown(record.key)} -> ${String(record.jobName)}`;
    case 'job already started':
      return `  duplicate ${shown(record.key)}: ${String(record.jobName)} already exists, no second job`;
    case 'object skipped':
      return `  skipped   ${shown(record.key)}: ${shown(record.reason)}`;
    case 'record sent to dead-letter queue':
      return `  DLQ       ${shown(record.reason)}`;
    case 'verdict published':
      return `  verdict   ${String(record.jobName ?? '')}: ${String(record.outcome)}${record.outcome === 'failed' ? ` (${shown(record.failureReason)})` : ''}`;
    default:
      return undefined;
  }
}

export function configSummary(config: PipelineConfig): string[] {
  return config.rules.map(
    (r) =>
      `  ${(r.prefix || '(whole bucket)').padEnd(16)} ${r.job.jobType.padEnd(14)}${r.kmsKey ? `${r.kmsKey.form.padEnd(9)} ${r.kmsKey.value}` : 'no key: the bucket default (SSE-S3 unless set otherwise)'}`,
  );
}
