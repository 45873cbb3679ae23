/**
 * Every failure the pipeline can name. Each message says what an operator should change.
 *
 * `retryable` decides where a record goes: true leaves it on the queue (or lets Lambda retry
 * the async event); false sends it to a dead-letter queue with the message as its reason.
 */
export abstract class PipelineError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One line per problem, each naming the rule and the field. */
export class ConfigError extends PipelineError {
  readonly retryable = false;
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export class EnvironmentError extends PipelineError {
  readonly retryable = false;
}

/** An event or message that does not have the shape this function consumes. */
export class EventShapeError extends PipelineError {
  readonly retryable = false;
}

/** The configured key cannot be used: missing, not visible to this role, disabled, wrong kind. */
export class KeyNotUsableError extends PipelineError {
  readonly retryable = false;
  constructor(
    message: string,
    readonly keyReference: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Transcribe refused the request as invalid; resending it unchanged cannot succeed. */
export class StartRejectedError extends PipelineError {
  readonly retryable = false;
}

/** The deterministic job name is already used by a job for a different media file. */
export class JobNameTakenError extends PipelineError {
  readonly retryable = false;
}

/** Quota, throttling or a 5xx: the same request can succeed later. */
export class TransientAwsError extends PipelineError {
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
  readonly retryable = false;
}

export class JobNotFoundError extends PipelineError {
  readonly retryable = false;
}

/** The completion event arrived before GetTranscriptionJob shows a final state. */
export class JobNotFinishedError extends PipelineError {
  readonly retryable = true;
}

export class TranscriptUriError extends PipelineError {
  readonly retryable = false;
}

export class TranscriptAccessDeniedError extends PipelineError {
  readonly retryable = false;
}

/** Thrown after the mismatch event is published, so the invocation fails and alarms fire. */
export class EncryptionMismatchError extends PipelineError {
  readonly retryable = false;
}

export function isRetryable(error: unknown): boolean {
  return error instanceof PipelineError ? error.retryable : true;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Another invocation holds the job's verdict claim; checking again later settles it. */
export class VerdictInProgressError extends PipelineError {
  readonly retryable = true;
}

/** Fails the sweep invocation after every job was tried, listing each job that did not pass. */
export class SweepIncompleteError extends PipelineError {
  readonly retryable = true;
  constructor(readonly failures: readonly { jobName: string; error: string }[]) {
    super(`${failures.length} job(s) could not be verified or did not match:\n${failures.map((f) => `  - ${f.jobName}: ${f.error}`).join('\n')}`);
  }
}
