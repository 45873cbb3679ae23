import { describe, expect, it } from 'vitest';
import { NO_ERROR_NAME, objectsOf, startLetterView, verifyLetterView } from '../../../../shared/cli/redrive/deadLetterViews';
import type { DeadLetterMessage } from '../../../../shared/cli/redrive/redriveDeadLetters';
import { s3EventFor } from '../../../../shared/start/backfillUploads';
import { asyncFailureRecord } from '../../../local/runtime/lambdaRuntime';
import { loadEvent } from '../../../support/fixtures';

const functions = { verify: 'transcribe-kms-pipeline-prod-verify', sweep: 'transcribe-kms-pipeline-prod-sweep' };
const at = { region: 'eu-west-1', account: '123456789012' };
const message = (body: unknown, attributes: Record<string, string> = {}): DeadLetterMessage => ({
  messageId: 'm',
  receiptHandle: 'h',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes,
});
/** Lambda's record of an asynchronous invocation that failed after its retries, as its on-failure destination receives it. */
const failed = (functionName: string, event: unknown, error: Error) => message(asyncFailureRecord({ functionName, ...at }, event, error, 3));
const named = (name: string, text: string) => Object.assign(new Error(text), { name });

const completion = loadEvent('transcribe-completed.json');
const deletion = loadEvent('transcribe-job-deleted.json');

describe('the start DLQ\'s letters', () => {
  it('go back to the start queue as they are, described by the start function\'s attributes', () => {
    const body = s3EventFor('in', 'us-east-1', { key: 'calls/a.wav', size: 1, eTag: 'e' });
    expect(startLetterView(message(body, { errorName: 'KeyNotUsableError', reason: 'KeyNotUsableError: rules[0] ...' }))).toEqual({
      errorName: 'KeyNotUsableError',
      reason: 'KeyNotUsableError: rules[0] ...',
      objects: ['s3://in/calls/a.wav'],
      retry: { payload: body },
    });
    expect(startLetterView(message(body))).toMatchObject({ errorName: NO_ERROR_NAME, reason: expect.stringMatching(/no reason recorded/) });
  });

  it('stay when the message itself would fail again: not an S3 event, another bucket, a recording Transcribe cannot take', () => {
    const body = s3EventFor('in', 'us-east-1', { key: 'calls/a.aiff', size: 1, eTag: 'e' });
    expect(startLetterView(message(body, { errorName: 'UnsupportedRecordingError', reason: 'r' })).stays).toMatch(/^the recording itself must change/);
    expect(startLetterView(message(body, { errorName: 'ForeignBucketError', reason: 'r' })).stays).toMatch(/^an object in another bucket/);
    expect(startLetterView(message('{"Type":"Notification"}', { errorName: 'EventShapeError', reason: 'r' })).stays).toMatch(/^not an S3 ObjectCreated record/);
    for (const errorName of ['KeyNotUsableError', 'StartRejectedError', 'JobNameTakenError', 'TransientAwsError']) expect(startLetterView(message(body, { errorName, reason: 'r' })).stays).toBeUndefined();
  });

  it('name the objects of an S3 event (decoded), a test event, or the start of a body that is neither', () => {
    expect(objectsOf(s3EventFor('b', 'us-east-1', { key: 'Zoë/x y+z.wav', size: 1, eTag: 'e' }))).toEqual(['s3://b/Zoë/x y+z.wav']);
    expect(objectsOf(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'b' }))).toEqual(['(s3:TestEvent)']);
    expect(objectsOf('hello')).toEqual(['(not an S3 event: "hello")']);
  });
});

describe('the verify DLQ\'s letters', () => {
  it('a verification that failed on a grant is invoked again, asynchronously, with the event it failed on', () => {
    const view = verifyLetterView(failed(functions.verify, completion, named('TranscriptAccessDeniedError', 'HeadObject was denied')), functions);
    expect(view).toEqual({
      errorName: 'TranscriptAccessDeniedError',
      reason: 'TranscriptAccessDeniedError: HeadObject was denied',
      objects: [`job ${completion.detail.TranscriptionJobName}`],
      retry: { payload: JSON.stringify(completion), functionName: functions.verify },
    });
  });

  it('a sweep that failed is run again', () => {
    const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
    const view = verifyLetterView(failed(functions.sweep, scheduled, named('SweepIncompleteError', '2 jobs failed')), functions);
    expect(view).toMatchObject({ errorName: 'SweepIncompleteError', objects: [expect.stringMatching(/^sweep run of \d{4}-/)], retry: { payload: JSON.stringify(scheduled), functionName: functions.sweep } });
    expect(view.stays).toBeUndefined();
  });

  it('a Mismatch, a deleted job and another stack\'s job stay, saying what to do instead', () => {
    const mismatch = verifyLetterView(failed(functions.verify, completion, named('EncryptionMismatchError', 'wrong key')), functions);
    expect(mismatch.stays).toMatch(/^a Mismatch verdict, already published .*once the transcript is dealt with, --discard EncryptionMismatchError$/);
    const deleted = verifyLetterView(failed(functions.verify, deletion, named('JobNotFoundError', 'deleted')), functions);
    expect(deleted).toMatchObject({ objects: [`job ${deletion.detail.requestParameters.medicalTranscriptionJobName} (deleted by arn:aws:sts::123456789012:assumed-role/ops/mallory)`], stays: expect.stringMatching(/tkp audit, re-upload or tkp backfill the media, then --discard JobNotFoundError$/) });
    expect(verifyLetterView(failed(functions.verify, completion, named('ForeignJobError', 'x')), functions).stays).toMatch(/another stack's job/);
  });

  it('never invokes a function other than this stage\'s verify and sweep functions, whatever a record names', () => {
    const view = verifyLetterView(failed('transcribe-kms-pipeline-dev-verify', completion, named('TranscriptAccessDeniedError', 'x')), functions);
    expect(view.stays).toBe(`names function transcribe-kms-pipeline-dev-verify, not this stage's ${functions.verify} or ${functions.sweep}: not invoked`);
    expect(view.retry.functionName).toBeUndefined();
  });

  it('an event EventBridge could not deliver to the verify function is invoked; a page it could not deliver to the alarm topic stays, to be read', () => {
    const rule = 'arn:aws:events:eu-west-1:123456789012:rule/transcribe-kms-pipeline-prod-verify-transcription';
    const toVerify = verifyLetterView(
      message(completion, { RULE_ARN: rule, TARGET_ARN: `arn:aws:lambda:eu-west-1:123456789012:function:${functions.verify}`, ERROR_CODE: 'SDK_CLIENT_ERROR', ERROR_MESSAGE: 'Rate exceeded' }),
      functions,
    );
    expect(toVerify).toEqual({
      errorName: 'SDK_CLIENT_ERROR',
      reason: `SDK_CLIENT_ERROR: Rate exceeded (rule ${rule})`,
      objects: [`job ${completion.detail.TranscriptionJobName}`],
      retry: { payload: JSON.stringify(completion), functionName: functions.verify },
    });
    const topic = 'arn:aws:sns:eu-west-1:123456789012:transcribe-kms-pipeline-prod-alarms';
    const page = verifyLetterView(message('{"page": "x"}', { RULE_ARN: rule, TARGET_ARN: topic, ERROR_CODE: 'NO_PERMISSIONS', ERROR_MESSAGE: 'denied' }), functions);
    expect(page).toMatchObject({ objects: [`a page for ${topic}`], content: '{"page": "x"}', stays: expect.stringMatching(/^a page EventBridge could not deliver, so no one received it: .*--discard NO_PERMISSIONS$/) });
  });

  it('anything else stays, as not a record this stack writes', () => {
    expect(verifyLetterView(message('hello'), functions)).toMatchObject({ errorName: '(unknown)', stays: expect.stringMatching(/^not Lambda's record/) });
  });
});
