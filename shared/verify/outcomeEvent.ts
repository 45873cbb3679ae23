import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { ExpectedEncryption } from '../config/expectedEncryption';
import type { ObservedObject } from './encryptionVerdict';

export type Outcome = 'verified' | 'mismatch' | 'failed';

/** One EventBridge detail-type per outcome, so consumers route with a plain rule. */
export const OUTCOME_DETAIL_TYPE: Record<Outcome, string> = {
  verified: 'Transcript Encryption Verified',
  mismatch: 'Transcript Encryption Mismatch',
  failed: 'Transcription Failed',
};

export const OUTCOME_SCHEMA_VERSION = '1';

export interface OutcomeDetail {
  schemaVersion: typeof OUTCOME_SCHEMA_VERSION;
  outcome: Outcome;
  /** Stable per job and outcome; consumers deduplicate on it. */
  verdictId: string;
  jobName: string;
  jobStatus: string;
  mediaUri: string | null;
  transcriptUri: string | null;
  rulePrefix: string | null;
  source: { bucket: string | null; key: string | null; version: string | null };
  expected: ExpectedEncryption;
  actual: ObservedObject[];
  problems: string[];
  failureReason: string | null;
  checkedBy: 'completion-event' | 'sweeper';
  checkedAt: string;
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
