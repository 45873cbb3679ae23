import { VERDICT_PREFIX } from '../config/reservedPrefixes';
import type { JobType } from '../aws/jobTypes';
import type { OutcomeDetail } from './outcomeEvent';

/**
 * One object per job in the stack's transcript bucket, `verdicts/<job name>.json` (a Call
 * Analytics or medical job's under `verdicts/<job type>/`), written with
 * S3 conditional writes. It is how a verdict is published exactly once although completion
 * events arrive at least once, sometimes twice at the same moment, and the sweeper may reach
 * the same job: whoever creates the object (If-None-Match: *) publishes; everyone else finds
 * it and stops.
 */

export interface VerdictRecord {
  state: 'claimed' | 'published';
  claimedAt: string;
  publishedAt?: string;
  detail: OutcomeDetail;
}

export interface StoredVerdict {
  record: VerdictRecord;
  /** The S3 ETag, for a conditional overwrite. */
  etag: string;
}

/**
 * A job's place in the ledger: its name for a transcription job (as before job types), and
 * `<job type>/<name>` for the others. Each Transcribe API has its own name space, so a job of
 * another type may carry one of this stack's names (anyone allowed to start jobs can compute
 * one); keyed by name alone, its verdict would take the real job's place in the ledger.
 */
export function verdictLedgerId(jobName: string, jobType: JobType): string {
  return jobType === 'transcription' ? jobName : `${jobType}/${jobName}`;
}

/** The ledger object of a job, by its ledger ID (verdictLedgerId). */
export function verdictKey(ledgerId: string): string {
  return `${VERDICT_PREFIX}${ledgerId}.json`;
}

/**
 * An empty marker per verdict whose key says which rule (by fingerprint) judged the job, so
 * `tkp audit` maps every transcript to its rule by listing `verdicts/_rules/` instead of reading
 * one record per transcript. Written once, conditionally, like every ledger write.
 */
export const RULE_MARKER_PREFIX = `${VERDICT_PREFIX}_rules/`;

/** A job's marker, by its ledger ID (verdictLedgerId), so each job type's markers stay apart too. */
export function ruleMarkerKey(ruleFingerprint: string, ledgerId: string): string {
  return `${RULE_MARKER_PREFIX}${ruleFingerprint}/${ledgerId}`;
}

/** The rule fingerprint and ledger ID of a marker key, or undefined for any other key. */
export function parseRuleMarkerKey(key: string): { ruleFingerprint: string; ledgerId: string } | undefined {
  const match = /^([0-9a-f]{32})\/((?:[A-Za-z]+\/)?[^/]+)$/.exec(key.startsWith(RULE_MARKER_PREFIX) ? key.slice(RULE_MARKER_PREFIX.length) : '');
  return match ? { ruleFingerprint: match[1] as string, ledgerId: match[2] as string } : undefined;
}

/**
 * Where the ledger records when a config (by its fingerprint) was first used to judge. Job
 * names start with the stack's prefix, so `_config/` never collides with a verdict.
 */
export function configEpochKey(fingerprint: string): string {
  return `${VERDICT_PREFIX}_config/${fingerprint}.json`;
}

/** The moment recorded in a config epoch object, or undefined for a missing or unreadable one. */
export function parseConfigEpoch(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    const at = Date.parse((JSON.parse(text) as { firstSeenAt?: unknown }).firstSeenAt as string);
    return Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}

export type ClaimDecision = { action: 'already-published' } | { action: 'wait' } | { action: 'take-over' } | { action: 'overrule'; reason: string };

/** Seconds a claim may seem to come from the future (clock skew) before it is treated as forged. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * What to do when another invocation already holds the claim. A published verdict is final,
 * unless it contradicts the verdict just reached (it says `verified` where this judgement finds
 * a wrong key, or it is about another job): only the verify and sweep roles may write the ledger
 * (a bucket policy says so), so such a record was planted or the object changed since, and the
 * new verdict is published over it. A claim younger than the lease belongs to an invocation that
 * is publishing right now. An older claim, or one dated in the future, is taken over.
 */
export function decideOnExistingClaim(
  existing: VerdictRecord,
  now: Date,
  leaseSeconds: number,
  fresh?: Pick<OutcomeDetail, 'jobName' | 'outcome' | 'cause'>,
): ClaimDecision {
  if (fresh && existing.detail.jobName !== fresh.jobName) {
    return { action: 'overrule', reason: `the verdict ledger held a record about job ${JSON.stringify(existing.detail.jobName)} under this job's key; it was replaced` };
  }
  if (existing.state === 'published') {
    const contradicted = fresh && existing.detail.outcome === 'verified' && fresh.outcome === 'mismatch' && fresh.cause !== 'missing-output';
    return contradicted
      ? { action: 'overrule', reason: 'the verdict ledger held a published "verified" record for this job that this judgement contradicts; it was planted, or the transcript changed after it was verified' }
      : { action: 'already-published' };
  }
  const age = (now.getTime() - Date.parse(existing.claimedAt)) / 1000;
  return Number.isFinite(age) && age < leaseSeconds && age > -CLOCK_SKEW_SECONDS ? { action: 'wait' } : { action: 'take-over' };
}

export function parseVerdictRecord(text: string): VerdictRecord | undefined {
  try {
    const record = JSON.parse(text) as Partial<VerdictRecord>;
    if ((record.state === 'claimed' || record.state === 'published') && typeof record.claimedAt === 'string' && typeof record.detail?.jobName === 'string') {
      return record as VerdictRecord;
    }
  } catch {
    // fall through: an unreadable record is treated as no record by the caller
  }
  return undefined;
}
