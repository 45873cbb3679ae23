/**
 * The per-prefix config as the pipeline uses it, after validation (pipelineConfig.ts makes it
 * from the raw file). Types only, so every flow can name a rule without importing the checks.
 */
import type { KeyReference } from '../aws/keyReference';

export type LanguageSettings =
  | { languageCode: string }
  | { identifyLanguage: true; languageOptions?: string[] };

export interface OutputLocation {
  /** Undefined means the stack's transcript bucket. */
  bucket?: string;
  prefix: string;
}

export interface Rule {
  /** Position in the config file, used in every message about this rule. */
  index: number;
  prefix: string;
  kmsKey?: KeyReference;
  account?: string;
  encryptionContext?: Record<string, string>;
  language: LanguageSettings;
  output: OutputLocation;
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
