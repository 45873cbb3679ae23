/**
 * The project's reading of AWS SDK errors. Which codes mean throttling or a transient fault is
 * the SDK's own classification (`@smithy/core/retry`), the same the SDK's retry strategy uses,
 * so the pipeline and the SDK never disagree about what may succeed later.
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';

/** The AWS error code (`name`) of an SDK error, or undefined for anything else. */
export function awsErrorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

export function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** A refused permission, whichever way the service says it: 403, or an AccessDenied / AccessDeniedException / Forbidden code. */
export function isAccessDenied(error: unknown): boolean {
  const name = awsErrorName(error);
  return httpStatusOf(error) === 403 || name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'Forbidden';
}

/** A missing object, whichever way S3 says it: 404, NotFound (HEAD has no body to name it) or NoSuchKey. */
export function isMissingObject(error: unknown): boolean {
  const name = awsErrorName(error);
  return httpStatusOf(error) === 404 || name === 'NotFound' || name === 'NoSuchKey';
}

/** A queue that does not exist: QueueDoesNotExist in SQS's JSON protocol, AWS.SimpleQueueService.NonExistentQueue in its query protocol. */
export function isMissingQueue(error: unknown): boolean {
  return /QueueDoesNotExist|NonExistentQueue/.test(awsErrorName(error) ?? '');
}

function asSdkError(error: unknown): SdkError | undefined {
  return typeof error === 'object' && error !== null ? (error as SdkError) : undefined;
}

/**
 * Whether the same request may succeed later: throttling and quotas (LimitExceededException is
 * Transcribe's answer to both a rate and a full concurrent-job quota, and the SDK counts it as
 * throttling), 5xx answers and network faults. Everything else is a property of the request and
 * will fail again.
 */
export function isTransientAwsError(error: unknown): boolean {
  const sdkError = asSdkError(error);
  return sdkError !== undefined && (isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError));
}

/** Throttling or a full quota: the answer that asks for a longer wait than other faults. */
export function isQuotaError(error: unknown): boolean {
  const sdkError = asSdkError(error);
  return sdkError !== undefined && isThrottlingError(sdkError);
}
