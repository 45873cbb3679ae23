/**
 * The per-prefix config as the pipeline uses it, after validation (pipelineConfig.ts makes it
 * from the raw file). Types only, so every flow can name a rule without importing the checks.
 */
import type { JobType } from '../aws/jobTypes';
import type { KeyReference } from '../aws/keyReference';

export type LanguageSettings =
  | { languageCode: string }
  | { identifyLanguage: true; languageOptions?: string[] };

export interface OutputLocation {
  /** Undefined means the stack's transcript bucket. */
  bucket?: string;
  prefix: string;
}

/** Which participant speaks on which channel of a two-channel call recording. */
export interface CallChannels {
  agent: 0 | 1;
  customer: 0 | 1;
}

/** PII redaction of a Call Analytics job: the transcript always, the audio when asked. */
export interface CallRedaction {
  output: 'redacted' | 'redacted_and_unredacted';
  audio: boolean;
  piiEntityTypes?: string[];
}

/** The Transcribe API a rule's jobs go to, with the options only that API takes. */
export type JobSettings =
  | { jobType: 'transcription' }
  | { jobType: 'callAnalytics'; channels: CallChannels; redaction?: CallRedaction }
  | { jobType: 'medical'; specialty: string; type: 'CONVERSATION' | 'DICTATION' };

export type { JobType };

export interface Rule {
  /** Position in the config file, used in every message about this rule. */
  index: number;
  prefix: string;
  kmsKey?: KeyReference;
  account?: string;
  encryptionContext?: Record<string, string>;
  language: LanguageSettings;
  output: OutputLocation;
  job: JobSettings;
}

export interface PipelineConfig {
  rules: Rule[];
  deferredExecution: boolean;
}

export interface ValidationContext {
  /** The deployment region: KMS keys for S3 SSE-KMS must live in the bucket's region. */
  region: string;
  /** Name of the input bucket when known (at cold start; at package time only if existing). */
  inputBucket?: string;
  /** Name of the stack's transcript bucket when known. */
  transcriptBucket?: string;
  /**
   * At package time, when the stack creates the input bucket, its name holds the account ID,
   * which is not known yet: this tells whether a bucket name is that bucket's.
   */
  isInputBucketName?: (bucket: string) => boolean;
  /** At package time, whether a bucket name is the transcript bucket the stack creates. */
  isTranscriptBucketName?: (bucket: string) => boolean;
  /** Where the config came from, for messages. */
  source?: string;
}
