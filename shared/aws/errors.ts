/**
 * Every failure the pipeline can name. Each message says what an operator should change.
 *
 * `retryable` decides where a record goes: true leaves it on the queue (or lets Lambda retry
 * the async event); false sends it to a dead-letter queue with the message as its reason.
 */
export abstract class PipelineError extends Error {
  abstract readonly retryable: boolean;
  /**
   * Each class spells its own name: the bundles are minified, which renames classes, and
   * operators filter dead letters and logs on these names (README, "Errors").
   */
  abstract override readonly name: string;
}

/** One line per problem, each naming the rule and the field. */
export class ConfigError extends PipelineError {
  override readonly name = 'ConfigError';
  readonly retryable = false;
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export class EnvironmentError extends PipelineError {
  override readonly name = 'EnvironmentError';
  readonly retryable = false;
}

/** An event or message that does not have the shape this function consumes. */
export class EventShapeError extends PipelineError {
  override readonly name = 'EventShapeError';
  readonly retryable = false;
}

/** The configured key cannot be used: missing, not visible to this role, disabled, wrong kind. */
export class KeyNotUsableError extends PipelineError {
  override readonly name = 'KeyNotUsableError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly keyReference: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The object is a recording that can never become a job (too large, or a format Transcribe does not take). */
export class UnsupportedRecordingError extends PipelineError {
  override readonly name = 'UnsupportedRecordingError';
  readonly retryable = false;
}

/** Transcribe refused the request as invalid; resending it unchanged cannot succeed. */
export class StartRejectedError extends PipelineError {
  override readonly name = 'StartRejectedError';
  readonly retryable = false;
}

/** The deterministic job name is already used by a job for a different media file. */
export class JobNameTakenError extends PipelineError {
  override readonly name = 'JobNameTakenError';
  readonly retryable = false;
}

/** Quota, throttling or a 5xx: the same request can succeed later. */
export class TransientAwsError extends PipelineError {
  override readonly name = 'TransientAwsError';
  readonly retryable = true;
  constructor(
    message: string,
    readonly quotaExceeded: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ForeignJobError extends PipelineError {
  override readonly name = 'ForeignJobError';
  readonly retryable = false;
}

export class JobNotFoundError extends PipelineError {
  override readonly name = 'JobNotFoundError';
  readonly retryable = false;
}

/** The completion event arrived before GetTranscriptionJob shows a final state. */
export class JobNotFinishedError extends PipelineError {
  override readonly name = 'JobNotFinishedError';
  readonly retryable = true;
}

export class TranscriptUriError extends PipelineError {
  override readonly name = 'TranscriptUriError';
  readonly retryable = false;
}

export class TranscriptAccessDeniedError extends PipelineError {
  override readonly name = 'TranscriptAccessDeniedError';
  readonly retryable = false;
}

/** Get*Job was refused: the verify or sweep role cannot read the job. */
export class JobAccessDeniedError extends PipelineError {
  override readonly name = 'JobAccessDeniedError';
  readonly retryable = false;
}

/** PutEvents to the outcome bus was refused, or the bus does not exist. */
export class PublishRefusedError extends PipelineError {
  override readonly name = 'PublishRefusedError';
  readonly retryable = false;
}

/** The verifier cannot read or write its verdict ledger: a bucket policy, IAM or the bucket's default KMS key refuses it. */
export class LedgerAccessDeniedError extends PipelineError {
  override readonly name = 'LedgerAccessDeniedError';
  readonly retryable = false;
}

/** A ledger object the verifier must read is not in the form it writes. */
export class LedgerRecordError extends PipelineError {
  override readonly name = 'LedgerRecordError';
  readonly retryable = false;
}

/** The output bucket's default encryption cannot be read or its key cannot be resolved. */
export class BucketEncryptionUnknownError extends PipelineError {
  override readonly name = 'BucketEncryptionUnknownError';
  readonly retryable = false;
}

/** An S3 record names a bucket other than the stack's input bucket. */
export class ForeignBucketError extends PipelineError {
  override readonly name = 'ForeignBucketError';
  readonly retryable = false;
}

/** Thrown after the mismatch event is published, so the invocation fails and alarms fire. */
export class EncryptionMismatchError extends PipelineError {
  override readonly name = 'EncryptionMismatchError';
  readonly retryable = false;
}

export function isRetryable(error: unknown): boolean {
  return error instanceof PipelineError ? error.retryable : true;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** describeError on one line, for a message that lists errors line by line (an SDK deserialization error spans several). */
export function describeErrorOnOneLine(error: unknown): string {
  return describeError(error).replace(/\s*\n\s*/g, ' ');
}

/** Another invocation holds the job's verdict claim; checking again later settles it. */
export class VerdictInProgressError extends PipelineError {
  override readonly name = 'VerdictInProgressError';
  readonly retryable = true;
}

/** Fails the sweep invocation after every job was tried, listing each job that did not pass. */
export class SweepIncompleteError extends PipelineError {
  override readonly name = 'SweepIncompleteError';
  readonly retryable = true;
  constructor(
    readonly failures: readonly { jobName: string; jobType?: string; error: string }[],
    readonly listingFailures: readonly { operation: string; status: string; error: string }[] = [],
  ) {
    const lines = [
      ...(failures.length > 0 ? [`${failures.length} job(s) could not be verified or did not match:`] : []),
      ...failures.map((f) => `  - ${f.jobType && f.jobType !== 'transcription' ? `${f.jobType} job ` : ''}${f.jobName}: ${f.error}`),
      ...(listingFailures.length > 0 ? [`${listingFailures.length} listing(s) failed, so those jobs were not swept this run (the next run lists them again):`] : []),
      ...listingFailures.map((f) => `  - ${f.operation} (Status ${f.status}): ${f.error}`),
    ];
    super(lines.join('\n'));
  }
}
