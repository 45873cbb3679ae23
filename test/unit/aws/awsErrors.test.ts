import { describe, expect, it } from 'vitest';
import { awsErrorName, httpStatusOf, isAccessDenied, isMissingObject, isMissingQueue, isQuotaError, isTransientAwsError } from '../../../shared/aws/awsErrors';

function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(name), { name, ...(status !== undefined && { $metadata: { httpStatusCode: status } }), ...extra });
}

describe('AWS error classification (the SDK retry classifiers, same decisions as the hand-written sets they replaced)', () => {
  it.each([
    ['LimitExceededException', 400],
    ['ThrottlingException', 400],
    ['Throttling', 400],
    ['TooManyRequestsException', 429],
    ['RequestLimitExceeded', 503],
    ['SlowDown', 503],
  ])('counts %s as a quota answer and transient', (name, status) => {
    expect(isQuotaError(sdkError(name, status))).toBe(true);
    expect(isTransientAwsError(sdkError(name, status))).toBe(true);
  });

  it('counts any 429 as a quota answer', () => {
    expect(isQuotaError(sdkError('Whatever', 429))).toBe(true);
  });

  it.each([500, 502, 503, 504, 507])('counts HTTP %i as transient but not as a quota answer', (status) => {
    expect(isTransientAwsError(sdkError('InternalFailureException', status))).toBe(true);
    expect(isQuotaError(sdkError('InternalFailureException', status))).toBe(false);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'])('counts network code %s as transient', (code) => {
    expect(isTransientAwsError(Object.assign(new Error('socket'), { code }))).toBe(true);
  });

  it.each(['TimeoutError', 'RequestTimeout'])('counts %s as transient', (name) => {
    expect(isTransientAwsError(sdkError(name))).toBe(true);
  });

  it('counts an error the SDK marked $retryable as transient', () => {
    expect(isTransientAwsError(sdkError('Odd', 400, { $retryable: {} }))).toBe(true);
  });

  it.each([
    ['BadRequestException', 400],
    ['ConflictException', 409],
    ['AccessDeniedException', 403],
    ['NotFoundException', 400],
    ['KeyUnavailableException', 400],
  ])('counts %s as permanent', (name, status) => {
    expect(isTransientAwsError(sdkError(name, status))).toBe(false);
    expect(isQuotaError(sdkError(name, status))).toBe(false);
  });

  it('reads name and status, and nothing from non-errors', () => {
    expect(awsErrorName(sdkError('NoSuchKey', 404))).toBe('NoSuchKey');
    expect(httpStatusOf(sdkError('NoSuchKey', 404))).toBe(404);
    expect(awsErrorName('boom')).toBeUndefined();
    expect(isTransientAwsError(undefined)).toBe(false);
    expect(isQuotaError(null)).toBe(false);
  });

  it('tells a missing object from a refused permission, however S3 names either', () => {
    for (const missing of [sdkError('NotFound', 404), sdkError('NoSuchKey', 404), sdkError('NoSuchKey'), sdkError('UnknownError', 404)]) {
      expect(isMissingObject(missing)).toBe(true);
      expect(isAccessDenied(missing)).toBe(false);
    }
    for (const denied of [sdkError('Forbidden', 403), sdkError('AccessDenied', 403), sdkError('AccessDeniedException', 400)]) {
      expect(isAccessDenied(denied)).toBe(true);
      expect(isMissingObject(denied)).toBe(false);
    }
    expect(isMissingObject(sdkError('InternalError', 500))).toBe(false);
    expect(isMissingObject('NoSuchKey')).toBe(false);
  });

  it('knows a missing queue in SQS\'s JSON protocol and in its query protocol', () => {
    expect(isMissingQueue(sdkError('QueueDoesNotExist', 400))).toBe(true);
    expect(isMissingQueue(sdkError('AWS.SimpleQueueService.NonExistentQueue', 400))).toBe(true);
    expect(isMissingQueue(sdkError('AccessDenied', 403))).toBe(false);
  });
});
