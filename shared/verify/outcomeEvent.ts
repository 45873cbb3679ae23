import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { ExpectedEncryption } from '../config/expectedEncryption';
import type { JobType } from '../aws/jobTypes';
import type { ObservedObject } from './encryptionVerdict';

export type Outcome = 'verified' | 'mismatch' | 'failed';

/** One EventBridge detail-type per outcome, so consumers route with a plain rule. */
export const OUTCOME_DETAIL_TYPE: Record<Outcome, string> = {
  verified: 'Transcript Encryption Verified',
  mismatch: 'Transcript Encryption Mismatch',
  failed: 'Transcription Failed',
};

export const OUTCOME_SCHEMA_VERSION = '1';

/**
 * Why a verdict is not `verified`, for routing and for the operator who reads it:
 * - `wrong-encryption`: an output object is not encrypted the way the deployed rule demands;
 * - `missing-output`: an output object does not exist;
 * - `tags-altered`: the job's tags name another key than the rule, under an unchanged rule;
 * - `alias-retargeted`: the rule's alias now points at another key than the one the job used;
 * - `rule-changed`: the rule was changed by a config deploy after the job started; reported, not paged;
 * - `no-rule`: the job's media lies under no rule of the deployed config, or outside the input bucket.
 */
export type MismatchCause = 'wrong-encryption' | 'missing-output' | 'tags-altered' | 'alias-retargeted' | 'rule-changed' | 'no-rule';

/** Causes that are a config deploy's doing, not a forgery or a fault: reported without paging. */
export const UNPAGED_CAUSES: ReadonlySet<MismatchCause> = new Set(['rule-changed']);

export interface OutcomeDetail {
  schemaVersion: typeof OUTCOME_SCHEMA_VERSION;
  outcome: Outcome;
  /** Stable per job and outcome; consumers deduplicate on it. */
  verdictId: string;
  jobName: string;
  /** Which Transcribe API ran the job; added in schema 1 without a version change (a new field). */
  jobType: JobType;
  jobStatus: string;
  mediaUri: string | null;
  transcriptUri: string | null;
  rulePrefix: string | null;
  source: { bucket: string | null; key: string | null; version: string | null };
  /** What the deployed config demands (the authority); `source` says rule or bucket default. */
  expected: ExpectedEncryption;
  /** What the job's tags say was asked; null when the tags hold no record. */
  recorded: ExpectedEncryption | null;
  /** Null for verified and failed; otherwise why the verdict is a mismatch. */
  cause: MismatchCause | null;
  actual: ObservedObject[];
  problems: string[];
  /** What the person it pages should do, by outcome and cause; null for verified. Added in schema 1 (a new field). */
  whatToDo: string | null;
  failureReason: string | null;
  checkedBy: 'completion-event' | 'sweeper';
  checkedAt: string;
}

/**
 * What to do about a verdict that is not `verified`, by its cause (or `failed`), so that the page
 * itself says it, not only README's "When an alarm fires". Each names where to look first.
 */
export const WHAT_TO_DO: Record<MismatchCause | 'failed', string> = {
  failed:
    'Transcribe failed the job and wrote no transcript: fix what failureReason names (the media, the key, its grants, the quota), then upload the media again (where the input bucket keeps no versions, an unchanged file keeps its job name: delete the failed job first)',
  'wrong-encryption':
    'Treat the transcript as exposed until you know why: find in CloudTrail who wrote it (s3:PutObject, s3:CopyObject) or changed its bucket\'s default encryption, then run tkp audit --since the job\'s start to find others',
  'missing-output': 'Find in CloudTrail who deleted the transcript (s3:DeleteObject); to transcribe the media again, upload it again',
  'tags-altered': 'Treat the transcript as exposed until you know why: find in CloudTrail who changed the job\'s tags (transcribe:TagResource, transcribe:UntagResource)',
  'alias-retargeted':
    'Find in CloudTrail who pointed the rule\'s alias at another key (kms:UpdateAlias); if nobody planned it, point it back, then run tkp audit --since the change',
  'rule-changed': 'Nothing, if the config deploy that changed the rule after the job started was planned (this verdict does not page)',
  'no-rule':
    'If a config deploy removed the rule, nothing; otherwise find in CloudTrail who started the job (transcribe:Start*Job) and treat its transcript as exposed until you know why',
};

/** The `whatToDo` of a verdict: null when it is verified. */
export function whatToDo(detail: Pick<OutcomeDetail, 'outcome' | 'cause'>): string | null {
  if (detail.outcome === 'failed') return WHAT_TO_DO.failed;
  return detail.cause === null ? null : WHAT_TO_DO[detail.cause];
}

export function outcomeEntry(detail: OutcomeDetail, busName: string, source: string): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: source,
    DetailType: OUTCOME_DETAIL_TYPE[detail.outcome],
    Detail: JSON.stringify(detail),
    Resources: [],
  };
}

export const OUTCOME_METRIC: Record<Outcome, string> = {
  verified: 'TranscriptsVerified',
  mismatch: 'EncryptionMismatches',
  failed: 'TranscriptionsFailed',
};

/** The metric a verdict counts in: a config deploy's rule change is not counted as a mismatch, which pages. */
export function verdictMetric(detail: Pick<OutcomeDetail, 'outcome' | 'cause'>): string {
  return detail.cause !== null && UNPAGED_CAUSES.has(detail.cause) ? 'RuleChangedVerdicts' : OUTCOME_METRIC[detail.outcome];
}

/** Whether a verdict must reach a person: a mismatch of any paging cause, or a failed job. */
export function pagesOperator(detail: Pick<OutcomeDetail, 'outcome' | 'cause'>): boolean {
  if (detail.outcome === 'failed') return true;
  return detail.outcome === 'mismatch' && !(detail.cause !== null && UNPAGED_CAUSES.has(detail.cause));
}

/** What a verdict's log line says in place of a null `recorded` (loggers drop null fields). */
export const NO_RECORD = "none: the job carries none of the start function's tags (removed? check CloudTrail for transcribe:UntagResource)";

/**
 * How loudly a published verdict is logged: an error when it pages; a warning when the job held
 * no record of what was asked (`recorded` null: its tags were removed, which in AWS only a person
 * does; check CloudTrail for transcribe:UntagResource); otherwise info.
 */
export function verdictLogLevel(detail: Pick<OutcomeDetail, 'outcome' | 'cause' | 'recorded'>): 'error' | 'warn' | 'info' {
  if (pagesOperator(detail)) return 'error';
  return detail.recorded === null ? 'warn' : 'info';
}
