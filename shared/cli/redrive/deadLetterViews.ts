/**
 * What each dead-letter queue's messages are, for `tkp redrive`, and whether trying one again can
 * help. The start DLQ holds S3 event records (with the start function's reason), which go back to
 * the start queue, but for those whose own content fails them (not an S3 event, another bucket, a
 * recording Transcribe cannot take). The verify DLQ holds Lambda's records of verify and sweep
 * invocations that failed after their retries, and events EventBridge could not deliver (to the
 * verify function, or a page to the alarm topic); only an invocation of this stage's own verify or
 * sweep function is tried again, with the event it failed on. Anything in a DLQ may have been
 * written by anyone allowed to send to it, so a record naming another function is never invoked.
 */
import { EncryptionMismatchError, EventShapeError, ForeignBucketError, ForeignJobError, JobNotFoundError, UnsupportedRecordingError } from '../../aws/errors';
import { functionNameOf } from '../../stack/stackNames';
import { parseS3Notification } from '../../start/s3Notification';
import { parseCompletionEvent } from '../../verify/completionEvent';
import type { DeadLetterMessage, LetterView } from './redriveDeadLetters';

/** A start DLQ message the start function did not write: the queue's redrive policy moved it. */
export const NO_ERROR_NAME = '(none: moved by the redrive policy)';

/** The objects a start DLQ body names, for the operator to recognise. */
export function objectsOf(body: string): string[] {
  try {
    const notification = parseS3Notification(body);
    return notification.kind === 'test-event' ? ['(s3:TestEvent)'] : notification.objects.map((o) => `s3://${o.bucket}/${o.key}`);
  } catch {
    return [`(not an S3 event: ${JSON.stringify(body.slice(0, 60))})`];
  }
}

/** Why a start letter of this error type stays: the message itself would fail the same way again. */
const START_LETTER_STAYS: Record<string, string> = {
  [new EventShapeError('').name]: 'not an S3 ObjectCreated record, and sending it again will not make it one: find what sends it to the start queue, then --discard EventShapeError',
  [new ForeignBucketError('').name]: 'an object in another bucket than the stack\'s input bucket: copy it into the input bucket if it should be transcribed, then --discard ForeignBucketError',
  [new UnsupportedRecordingError('').name]: 'the recording itself must change (convert or split it, as the reason says) and be uploaded again; then --discard UnsupportedRecordingError',
};

export function startLetterView(message: DeadLetterMessage): LetterView {
  const errorName = message.attributes.errorName ?? NO_ERROR_NAME;
  const stays = START_LETTER_STAYS[errorName];
  return {
    errorName,
    reason: message.attributes.reason ?? 'no reason recorded: see the start function\'s logs',
    objects: objectsOf(message.body),
    ...(stays && { stays }),
    retry: { payload: message.body },
  };
}

/** This stage's functions whose failures the verify DLQ holds. */
export interface VerifyFunctionNames {
  verify: string;
  sweep: string;
}

/** Why a verify letter of this error type stays, whatever is fixed. */
const NO_RETRY_HELPS: Record<string, string> = {
  [new EncryptionMismatchError('').name]:
    'a Mismatch verdict, already published on the outcome bus and the alarm topic: nothing to try again; once the transcript is dealt with, --discard EncryptionMismatchError',
  [new JobNotFoundError('').name]: 'the job no longer exists: judge its transcript with tkp audit, re-upload or tkp backfill the media, then --discard JobNotFoundError',
  [new ForeignJobError('').name]: 'another stack\'s job: this stage does not verify it; --discard ForeignJobError',
};

/** What a completion event is about: its job, or the start of what it is when it is none. */
function jobOf(event: unknown): string[] {
  try {
    const { jobName, deletion } = parseCompletionEvent(event);
    return [deletion ? `job ${jobName} (deleted by ${deletion.by})` : `job ${jobName}`];
  } catch {
    return [`(not a completion event: ${JSON.stringify(JSON.stringify(event ?? null).slice(0, 60))})`];
  }
}

interface LambdaFailureRecord {
  timestamp?: string;
  requestContext: { functionArn: string };
  requestPayload?: unknown;
  responsePayload?: { errorType?: string; errorMessage?: string } | null;
}

function isLambdaFailureRecord(value: unknown): value is LambdaFailureRecord {
  const context = (value as { requestContext?: { functionArn?: unknown } } | null)?.requestContext;
  return typeof context?.functionArn === 'string';
}

export function verifyLetterView(message: DeadLetterMessage, functions: VerifyFunctionNames): LetterView {
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch {
    body = undefined;
  }
  const targetArn = message.attributes.TARGET_ARN;
  if (targetArn !== undefined) return undeliveredEventView(message, body, targetArn, functions);
  if (!isLambdaFailureRecord(body)) {
    return { errorName: '(unknown)', reason: `not a record this stack writes: ${JSON.stringify(message.body.slice(0, 80))}`, objects: [], stays: 'not Lambda\'s record of a failed invocation, nor an event EventBridge could not deliver', retry: { payload: message.body } };
  }
  const name = functionNameOf(body.requestContext.functionArn);
  const errorName = body.responsePayload?.errorType ?? '(no error type)';
  const reason = `${errorName}: ${body.responsePayload?.errorMessage ?? '(no message)'}`;
  const payload = JSON.stringify(body.requestPayload ?? {});
  if (name === functions.sweep) return { errorName, reason, objects: [`sweep run of ${body.timestamp ?? 'unknown time'}`], retry: { payload, functionName: name } };
  const objects = jobOf(body.requestPayload);
  if (name !== functions.verify) return { errorName, reason, objects, stays: `names function ${name}, not this stage's ${functions.verify} or ${functions.sweep}: not invoked`, retry: { payload } };
  const stays = NO_RETRY_HELPS[errorName];
  return { errorName, reason, objects, ...(stays && { stays }), retry: { payload, functionName: name } };
}

/** An event EventBridge could not deliver to a rule's target, with its ERROR_CODE and ERROR_MESSAGE attributes. */
function undeliveredEventView(message: DeadLetterMessage, event: unknown, targetArn: string, functions: VerifyFunctionNames): LetterView {
  const errorName = message.attributes.ERROR_CODE ?? '(no error code)';
  const reason = `${errorName}: ${message.attributes.ERROR_MESSAGE ?? '(no message)'} (rule ${message.attributes.RULE_ARN ?? 'unknown'})`;
  const isVerify = targetArn.startsWith('arn:') && targetArn.split(':')[2] === 'lambda' && functionNameOf(targetArn) === functions.verify;
  if (isVerify) return { errorName, reason, objects: jobOf(event), retry: { payload: message.body, functionName: functions.verify } };
  return {
    errorName,
    reason,
    objects: [`a page for ${targetArn}`],
    content: message.body,
    stays: `a page EventBridge could not deliver, so no one received it: read it, run tkp check to see the alarm topic deliver again, then --discard ${errorName}`,
    retry: { payload: message.body },
  };
}
