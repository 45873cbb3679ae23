import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallAnalyticsJobCommand, GetMedicalTranscriptionJobCommand, GetTranscriptionJobCommand, TranscribeClient, type CallAnalyticsJob, type TranscriptionJob } from '@aws-sdk/client-transcribe';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext, loadEvent } from '../support/fixtures';
import { loadHandler } from '../support/handlerEnv';
import { NO_RECORD } from '../../shared/verify/outcomeEvent';

const transcribe = mockClient(TranscribeClient);
const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
const kms = mockClient(KMSClient);

const JOB = 'tkp.test.support-call-0142-5d3c9b2e7f1a4c6d8e0b2a4f6c8e0d2b4a6c8e0f';
const ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const TRANSCRIPT_KEY = `transcripts/${JOB}.json`;

function completed(overrides: Partial<TranscriptionJob> = {}): TranscriptionJob {
  return {
    TranscriptionJobName: JOB,
    TranscriptionJobStatus: 'COMPLETED',
    Media: { MediaFileUri: 's3://tkp-dev-input-123456789012-us-east-1/calls/2026/support-call-0142.wav' },
    Transcript: { TranscriptFileUri: `https://s3.us-east-1.amazonaws.com/tkp-test-transcripts/${TRANSCRIPT_KEY}` },
    Tags: [
      { Key: 'tkp:expected-sse', Value: 'aws:kms' },
      { Key: 'tkp:expected-kms-key-arn', Value: ARN },
      { Key: 'tkp:rule-prefix', Value: 'calls/' },
      { Key: 'tkp:source-bucket', Value: 'tkp-dev-input-123456789012-us-east-1' },
      { Key: 'tkp:source-key', Value: 'calls/2026/support-call-0142.wav' },
      { Key: 'tkp:source-version', Value: 'version:3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' },
    ],
    ...overrides,
  };
}

function completionEvent(status = 'COMPLETED', name = JOB) {
  const event = loadEvent(status === 'FAILED' ? 'transcribe-failed.json' : 'transcribe-completed.json');
  event.detail.TranscriptionJobName = name;
  return event;
}

async function verify() {
  return (await loadHandler(() => import('../../functions/verify'))).handler;
}

/** A GetObject body as the SDK hands it over. */
const body = (text: string) => ({ transformToString: async () => text }) as never;
const awsError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

/** Every client's mocks cleared, an empty verdict ledger that takes writes, and an outcome bus that takes events. */
function resetAws(): void {
  transcribe.reset();
  s3.reset();
  events.reset();
  kms.reset();
  s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));
  s3.on(PutObjectCommand).resolves({ ETag: '"v1"' });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
}

describe('verify handler', () => {
  beforeEach(() => {
    resetAws();
    transcribe.on(GetTranscriptionJobCommand).resolves({ TranscriptionJob: completed() });
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: ARN, BucketKeyEnabled: false });
    kms.on(DescribeKeyCommand, { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }).resolves({
      KeyMetadata: { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', Arn: ARN, AWSAccountId: '123456789012', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' },
    });
    s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } });
    vi.useRealTimers();
  });

  it('heads the transcript, claims the verdict, publishes Verified and confirms it in the ledger', async () => {
    await (await verify())(completionEvent(), lambdaContext);
    expect(transcribe.commandCalls(GetTranscriptionJobCommand)[0]?.args[0].input).toEqual({ TranscriptionJobName: JOB });
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({ Bucket: 'tkp-test-transcripts', Key: TRANSCRIPT_KEY });
    expect(kms.commandCalls(DescribeKeyCommand).map((c) => c.args[0].input)).toEqual([{ KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }]);
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({ EventBusName: 'tkp-test-outcomes', Source: 'transcribe-kms-pipeline', DetailType: 'Transcript Encryption Verified', Resources: [] });
    expect(JSON.parse(entry?.Detail as string)).toMatchObject({
      schemaVersion: '1',
      outcome: 'verified',
      verdictId: `${JOB}:verified`,
      jobName: JOB,
      mediaUri: 's3://tkp-dev-input-123456789012-us-east-1/calls/2026/support-call-0142.wav',
      transcriptUri: `s3://tkp-test-transcripts/${TRANSCRIPT_KEY}`,
      rulePrefix: 'calls/',
      source: { bucket: 'tkp-dev-input-123456789012-us-east-1', key: 'calls/2026/support-call-0142.wav', version: 'version:3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' },
      expected: { serverSideEncryption: 'aws:kms', kmsKeyArn: ARN, source: 'rule' },
      recorded: { serverSideEncryption: 'aws:kms', kmsKeyArn: ARN },
      cause: null,
      actual: [{ uri: `s3://tkp-test-transcripts/${TRANSCRIPT_KEY}`, serverSideEncryption: 'aws:kms', kmsKeyArn: ARN, bucketKeyEnabled: false }],
      problems: [],
      whatToDo: null,
      failureReason: null,
      checkedBy: 'completion-event',
    });
    const writes = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(writes.map((w) => [w.Bucket, w.Key, w.IfNoneMatch, w.IfMatch, w.Body === '' ? '(marker)' : JSON.parse(w.Body as string).state])).toEqual([
      ['tkp-test-transcripts', `verdicts/${JOB}.json`, '*', undefined, 'claimed'],
      // The audit's index of which rule judged the job, written once like every ledger object.
      ['tkp-test-transcripts', expect.stringMatching(new RegExp(`^verdicts/_rules/[0-9a-f]{32}/${JOB.replace(/\./g, '\\.')}$`)), '*', undefined, '(marker)'],
      ['tkp-test-transcripts', `verdicts/${JOB}.json`, undefined, '"v1"', 'published'],
    ]);
  });

  it('publishes a mismatch for the wrong key and then fails the invocation', async () => {
    const wrong = 'arn:aws:kms:us-east-1:123456789012:key/99999999-9999-4999-8999-999999999999';
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: wrong });
    await expect((await verify())(completionEvent(), lambdaContext)).rejects.toThrow(/^transcript encryption of job .* does not match its rule: .* is encrypted under arn:aws:kms:us-east-1:123456789012:key\/9999/);
    expect(events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.DetailType).toBe('Transcript Encryption Mismatch');
    expect(JSON.parse(s3.commandCalls(PutObjectCommand).at(-1)?.args[0].input.Body as string).detail.outcome).toBe('mismatch');
  });

  it('judges from the deployed config: a tag rewritten to the key the transcript is under is a mismatch and fails the invocation', async () => {
    const forged = 'arn:aws:kms:us-east-1:123456789012:key/99999999-9999-4999-8999-999999999999';
    const tags = completed().Tags?.map((tag) => (tag.Key === 'tkp:expected-kms-key-arn' ? { ...tag, Value: forged } : tag));
    transcribe.on(GetTranscriptionJobCommand).resolves({ TranscriptionJob: completed({ Tags: tags }) });
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: forged });
    const error = await (await verify())(completionEvent(), lambdaContext).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'EncryptionMismatchError' });
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry?.DetailType).toBe('Transcript Encryption Mismatch');
    expect(JSON.parse(entry?.Detail as string)).toMatchObject({
      cause: 'tags-altered',
      expected: { kmsKeyArn: ARN },
      recorded: { kmsKeyArn: forged },
      // The page says what to do, not only README.
      whatToDo: "Treat the transcript as exposed until you know why: find in CloudTrail who changed the job's tags (transcribe:TagResource, transcribe:UntagResource)",
    });
  });

  it('judges a job whose tags are gone on the deployed config: publishes Verified with recorded null, and logs a warning', async () => {
    transcribe.on(GetTranscriptionJobCommand).resolves({ TranscriptionJob: completed({ Tags: undefined }) });
    const written: string[] = [];
    const capture = (chunk: string | Uint8Array) => (written.push(String(chunk)), true);
    const handler = (await loadHandler(() => import('../../functions/verify'), { POWERTOOLS_LOG_LEVEL: 'WARN' })).handler;
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      await handler(completionEvent(), lambdaContext);
    } finally {
      out.mockRestore();
      err.mockRestore();
      vi.unstubAllEnvs();
    }
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry?.DetailType).toBe('Transcript Encryption Verified');
    expect(JSON.parse(entry?.Detail as string)).toMatchObject({ outcome: 'verified', expected: { kmsKeyArn: ARN, source: 'rule' }, recorded: null, source: { version: null } });
    const logged = written.flatMap((line) => line.split('\n')).filter(Boolean).map((line) => JSON.parse(line));
    expect(logged).toContainEqual(expect.objectContaining({ level: 'WARN', message: 'verdict published', outcome: 'verified', recorded: NO_RECORD }));
  });

  it('expects the bucket default key of an SSE-KMS transcript bucket for a rule without a key', async () => {
    const bucketKey = 'arn:aws:kms:us-east-1:123456789012:key/77777777-7777-4777-8777-777777777777';
    s3.on(GetBucketEncryptionCommand).resolves({
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/transcripts-default' } }] },
    });
    kms.on(DescribeKeyCommand, { KeyId: 'alias/transcripts-default' }).resolves({ KeyMetadata: { KeyId: '7', Arn: bucketKey, AWSAccountId: '123456789012' } });
    const tags = completed().Tags?.filter((tag) => tag.Key !== 'tkp:expected-kms-key-arn').map((tag) => (tag.Key === 'tkp:expected-sse' ? { ...tag, Value: 'AES256' } : tag));
    transcribe.on(GetTranscriptionJobCommand).resolves({
      TranscriptionJob: completed({ Media: { MediaFileUri: 's3://tkp-dev-input-123456789012-us-east-1/public/town-hall.wav' }, Tags: tags }),
    });
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: bucketKey });
    await (await verify())(completionEvent(), lambdaContext);
    expect(s3.commandCalls(GetBucketEncryptionCommand)[0]?.args[0].input).toEqual({ Bucket: 'tkp-test-transcripts' });
    expect(JSON.parse(events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail as string)).toMatchObject({
      outcome: 'verified',
      expected: { serverSideEncryption: 'aws:kms', kmsKeyArn: bucketKey, source: 'bucket-default' },
    });
  });

  it('names the grant to add when the ledger write is refused, e.g. by the bucket default key', async () => {
    s3.on(PutObjectCommand).rejects(awsError('AccessDenied', 403));
    const error = await (await verify())(completionEvent(), lambdaContext).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'LedgerAccessDeniedError', message: expect.stringContaining('kms:GenerateDataKey and kms:Decrypt on that key') });
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  describe('a rule fingerprint that differs from the deployed rule', () => {
    const forged = 'arn:aws:kms:us-east-1:123456789012:key/99999999-9999-4999-8999-999999999999';
    const changedJob = () =>
      completed({
        CreationTime: new Date(Date.now() - 3_600_000),
        Tags: [
          ...(completed().Tags ?? []).map((tag) => (tag.Key === 'tkp:expected-kms-key-arn' ? { ...tag, Value: forged } : tag)),
          { Key: 'tkp:rule-fingerprint', Value: 'f'.repeat(32) },
        ],
      });
    const epochWrites = () => s3.commandCalls(PutObjectCommand).filter((c) => String(c.args[0].input.Key).startsWith('verdicts/_config/'));

    it('records when this config was first used, and reports an older job as a rule change without failing', async () => {
      transcribe.on(GetTranscriptionJobCommand).resolves({ TranscriptionJob: changedJob() });
      s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: forged });
      await (await verify())(completionEvent(), lambdaContext);
      expect(epochWrites().map((c) => [c.args[0].input.IfNoneMatch, JSON.parse(c.args[0].input.Body as string).configFingerprint])).toEqual([['*', expect.stringMatching(/^[0-9a-f]{32}$/)]]);
      expect(JSON.parse(events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail as string)).toMatchObject({ outcome: 'mismatch', cause: 'rule-changed' });
    });

    it('treats a job created after this config was first used as altered tags, and fails', async () => {
      transcribe.on(GetTranscriptionJobCommand).resolves({ TranscriptionJob: changedJob() });
      s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: forged });
      const epoch = JSON.stringify({ configFingerprint: 'x', firstSeenAt: new Date(Date.now() - 2 * 86_400_000).toISOString() });
      s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
        if (input.Key.startsWith('verdicts/_config/')) return { ETag: '"c1"', Body: body(epoch) };
        throw awsError('NoSuchKey', 404);
      });
      await expect((await verify())(completionEvent(), lambdaContext)).rejects.toMatchObject({ name: 'EncryptionMismatchError' });
      expect(epochWrites()).toHaveLength(0);
      expect(JSON.parse(events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail as string)).toMatchObject({ cause: 'tags-altered' });
    });
  });

  it('publishes Transcription Failed with the FailureReason', async () => {
    transcribe.on(GetTranscriptionJobCommand).resolves({ TranscriptionJob: completed({ TranscriptionJobStatus: 'FAILED', FailureReason: 'media format mismatch', Transcript: undefined }) });
    await (await verify())(completionEvent('FAILED'), lambdaContext);
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry?.DetailType).toBe('Transcription Failed');
    expect(JSON.parse(entry?.Detail as string)).toMatchObject({
      outcome: 'failed',
      failureReason: 'media format mismatch',
      transcriptUri: null,
      whatToDo: 'Transcribe failed the job and wrote no transcript: fix what failureReason names (the media, the key, its grants, the quota), then upload the media again (where the input bucket keeps no versions, an unchanged file keeps its job name: delete the failed job first)',
    });
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
  });

  it('publishes nothing for a job whose verdict is already in the ledger', async () => {
    const published = JSON.stringify({ state: 'published', claimedAt: '2026-11-28T09:00:00Z', detail: { outcome: 'verified', jobName: JOB } });
    s3.on(GetObjectCommand).resolves({ ETag: '"v9"', Body: body(published) });
    s3.on(PutObjectCommand).rejects(awsError('PreconditionFailed', 412));
    await (await verify())(completionEvent(), lambdaContext);
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.IfNoneMatch).toBe('*');
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('publishes nothing when another invocation claimed the verdict first', async () => {
    s3.on(PutObjectCommand).rejects(awsError('PreconditionFailed', 412));
    const claimed = JSON.stringify({ state: 'claimed', claimedAt: new Date().toISOString(), detail: { outcome: 'verified', jobName: JOB } });
    s3.on(GetObjectCommand).rejectsOnce(awsError('NoSuchKey', 404)).resolves({ ETag: '"v2"', Body: body(claimed) });
    await expect((await verify())(completionEvent(), lambdaContext)).rejects.toThrow('another invocation is publishing the verdict');
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('rejects an event for another service’s job without calling AWS', async () => {
    await expect((await verify())(completionEvent('COMPLETED', 'their-job-1'), lambdaContext)).rejects.toThrow(
      "job their-job-1 does not start with this stack's prefix tkp.test.",
    );
    expect(transcribe.commandCalls(GetTranscriptionJobCommand)).toHaveLength(0);
  });

  it('rejects a COMPLETED event whose job no longer exists', async () => {
    transcribe.on(GetTranscriptionJobCommand).rejects(awsError('BadRequestException', 400));
    await expect((await verify())(completionEvent(), lambdaContext)).rejects.toThrow(/no longer exists .* re-upload the media/);
  });

  describe('a job\'s deletion, as CloudTrail records it', () => {
    const MEDICAL = 'tkp.test.clinic-dictation-0007-9a1c3e5f7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a';
    function deletionEvent() {
      const event = loadEvent('transcribe-job-deleted.json');
      event.detail.requestParameters.medicalTranscriptionJobName = MEDICAL;
      return event;
    }

    it('reads the ledger, finds no verdict and no job, and fails naming who deleted the job, publishing nothing', async () => {
      transcribe.on(GetMedicalTranscriptionJobCommand).rejects(awsError('BadRequestException', 400));
      await expect((await verify())(deletionEvent(), lambdaContext)).rejects.toThrow(
        `medical transcription job ${MEDICAL} was deleted by arn:aws:sts::123456789012:assumed-role/ops/mallory at 2026-11-28T09:19:58Z before it was verified`,
      );
      expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({ Bucket: 'tkp-test-transcripts', Key: `verdicts/medical/${MEDICAL}.json` });
      expect(transcribe.commandCalls(GetMedicalTranscriptionJobCommand)[0]?.args[0].input).toEqual({ MedicalTranscriptionJobName: MEDICAL });
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
      expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
    });

    it('does nothing more for a job deleted after its verdict: no job read, no event', async () => {
      const published = JSON.stringify({ state: 'published', claimedAt: '2026-11-28T09:00:00Z', detail: { outcome: 'verified', jobName: MEDICAL } });
      s3.on(GetObjectCommand).resolves({ ETag: '"v9"', Body: body(published) });
      await (await verify())(deletionEvent(), lambdaContext);
      expect(transcribe.commandCalls(GetMedicalTranscriptionJobCommand)).toHaveLength(0);
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
      expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
    });

    it('refuses another stack\'s deleted job without reading anything', async () => {
      const event = deletionEvent();
      event.detail.requestParameters.medicalTranscriptionJobName = 'tkp.prod.clinic-1';
      await expect((await verify())(event, lambdaContext)).rejects.toThrow(/job tkp\.prod\.clinic-1 does not start with this stack's prefix tkp\.test\./);
      expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    });
  });

  it('rejects a transcript URI in an unexpected form', async () => {
    transcribe.on(GetTranscriptionJobCommand).resolves({ TranscriptionJob: completed({ Transcript: { TranscriptFileUri: 'https://example.com/t.json' } }) });
    await expect((await verify())(completionEvent(), lambdaContext)).rejects.toThrow('is not a path-style S3 URL');
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('names the permission to grant when HEAD is refused', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('Forbidden', 403));
    await expect((await verify())(completionEvent(), lambdaContext)).rejects.toThrow(/HeadObject on s3:\/\/tkp-test-transcripts\/.* was denied; grant the verifier's role s3:GetObject/);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('retries a missing transcript, then reports it as a mismatch', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
    await expect((await verify())(completionEvent(), lambdaContext)).rejects.toThrow(/does not exist/);
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(2);
    expect(JSON.parse(events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail as string).problems).toEqual([
      `s3://tkp-test-transcripts/${TRANSCRIPT_KEY} does not exist`,
    ]);
  });

  it('rejects a malformed event, naming the field', async () => {
    const event = completionEvent();
    delete event.detail.TranscriptionJobName;
    await expect((await verify())(event, lambdaContext)).rejects.toThrow(/detail\.TranscriptionJobName is required/);
  });

  it('refuses a job name Transcribe cannot have given (the name keys the verdict ledger) without calling AWS', async () => {
    for (const [name, problem] of [
      ['tkp.test.a/b', 'must be a Transcribe job name (letters, digits, ".", "_" and "-")'],
      ['', 'must be a Transcribe job name (letters, digits, ".", "_" and "-")'],
      [`tkp.test.${'x'.repeat(200)}`, 'must be a Transcribe job name (at most 200 characters)'],
    ]) {
      const event = completionEvent();
      event.detail.TranscriptionJobName = name;
      await expect((await verify())(event, lambdaContext)).rejects.toThrow(`detail.TranscriptionJobName ${problem}`);
    }
    expect(transcribe.commandCalls(GetTranscriptionJobCommand)).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  it('fails when EventBridge does not take the outcome, before recording a verdict', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    await expect((await verify())(completionEvent(), lambdaContext)).rejects.toThrow('PutEvents to tkp-test-outcomes failed');
    const verdictWrites = s3.commandCalls(PutObjectCommand).filter((c) => c.args[0].input.Key === `verdicts/${JOB}.json`);
    expect(verdictWrites.map((c) => JSON.parse(c.args[0].input.Body as string).state)).toEqual(['claimed']);
  });
});

describe('verify handler: Call Analytics completions', () => {
  const CALL = 'tkp.test.sample-call-763d0e8b49a1fec34260996bc4d4130904941437';
  const CC_KEY = 'arn:aws:kms:us-east-1:123456789012:key/cccccccc-1111-4222-8333-444444444444';
  const OUT = 'https://s3.us-east-1.amazonaws.com/tkp-test-transcripts/transcripts/contact-centre';
  const callJob = (overrides: Partial<CallAnalyticsJob> = {}): CallAnalyticsJob => ({
    CallAnalyticsJobName: CALL,
    CallAnalyticsJobStatus: 'COMPLETED',
    Media: { MediaFileUri: 's3://tkp-dev-input-123456789012-us-east-1/contact-centre/call.wav', RedactedMediaFileUri: `${OUT}/redacted-${CALL}.wav` },
    Transcript: { TranscriptFileUri: `${OUT}/${CALL}.json`, RedactedTranscriptFileUri: `${OUT}/redacted-${CALL}.json` },
    Tags: [
      { Key: 'tkp:expected-sse', Value: 'aws:kms' },
      { Key: 'tkp:expected-kms-key-arn', Value: CC_KEY },
    ],
    ...overrides,
  });
  const callEvent = (name = CALL, status = 'COMPLETED', failureReason?: string) => {
    const event = loadEvent('transcribe-call-analytics-completed.json');
    event.detail = { JobName: name, JobStatus: status, ...(failureReason && { FailureReason: failureReason }) };
    return event;
  };

  beforeEach(() => {
    resetAws();
    transcribe.on(GetCallAnalyticsJobCommand).resolves({ CallAnalyticsJob: callJob() });
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: CC_KEY });
    kms.on(DescribeKeyCommand, { KeyId: 'alias/contact-centre-transcripts' }).resolves({
      KeyMetadata: { KeyId: 'cccccccc-1111-4222-8333-444444444444', Arn: CC_KEY, AWSAccountId: '123456789012', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' },
    });
  });

  it('reads the job with GetCallAnalyticsJob, heads the transcript, the redacted transcript and the redacted audio, and publishes the job type', async () => {
    await (await verify())(callEvent(), lambdaContext);
    expect(transcribe.commandCalls(GetCallAnalyticsJobCommand).map((c) => c.args[0].input)).toEqual([{ CallAnalyticsJobName: CALL }]);
    expect(transcribe.commandCalls(GetTranscriptionJobCommand)).toHaveLength(0);
    expect(s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      `transcripts/contact-centre/${CALL}.json`,
      `transcripts/contact-centre/redacted-${CALL}.json`,
      `transcripts/contact-centre/redacted-${CALL}.wav`,
    ]);
    const detail = JSON.parse(events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail as string);
    expect(detail).toMatchObject({ schemaVersion: '1', jobType: 'callAnalytics', outcome: 'verified', rulePrefix: 'contact-centre/', expected: { kmsKeyArn: CC_KEY } });
  });

  it('fails on the redacted audio under the wrong key, after publishing the mismatch', async () => {
    const wrong = 'arn:aws:kms:us-east-1:123456789012:key/99999999-9999-4999-8999-999999999999';
    s3.on(HeadObjectCommand, { Key: `transcripts/contact-centre/redacted-${CALL}.wav` }).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: wrong });
    await expect((await verify())(callEvent(), lambdaContext)).rejects.toThrow(/redacted-.*\.wav is encrypted under arn:aws:kms:us-east-1:123456789012:key\/9999/);
    expect(events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.DetailType).toBe('Transcript Encryption Mismatch');
  });

  it('publishes Transcription Failed with Transcribe\'s reason for audio Call Analytics rejects', async () => {
    const reason = 'Call Analytics requires two-channel audio with the agent and the customer on separate channels; this media has 1 channel.';
    transcribe.on(GetCallAnalyticsJobCommand).resolves({ CallAnalyticsJob: callJob({ CallAnalyticsJobStatus: 'FAILED', FailureReason: reason, Transcript: undefined, Media: { MediaFileUri: callJob().Media?.MediaFileUri } }) });
    await (await verify())(callEvent(CALL, 'FAILED', reason), lambdaContext);
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry?.DetailType).toBe('Transcription Failed');
    expect(JSON.parse(entry?.Detail as string)).toMatchObject({ jobType: 'callAnalytics', outcome: 'failed', failureReason: reason });
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
  });

  it('refuses a Call Analytics event for another stack\'s job without reading it', async () => {
    await expect((await verify())(callEvent('tkp.prod.sample-call-1'), lambdaContext)).rejects.toThrow(/job tkp\.prod\.sample-call-1 does not start with this stack's prefix tkp\.test\./);
    expect(transcribe.commandCalls(GetCallAnalyticsJobCommand)).toHaveLength(0);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('names both event kinds and the field when a Call Analytics event is malformed', async () => {
    const event = callEvent();
    delete (event.detail as Record<string, unknown>).JobName;
    await expect((await verify())(event, lambdaContext)).rejects.toThrow(
      'not a "Transcribe Job State Change" or "Call Analytics Job State Change" event from aws.transcribe with status COMPLETED or FAILED, ' +
        "nor CloudTrail's record of a Delete*Job call: detail.JobName is required (string); check the EventBridge rules that target this function",
    );
  });

  it('names the detail-types it takes, and an unknown status, without reading any job', async () => {
    const other = { ...callEvent(), 'detail-type': 'Transcribe Vocabulary State Change' };
    await expect((await verify())(other, lambdaContext)).rejects.toThrow(
      'detail-type must be "Transcribe Job State Change" or "Call Analytics Job State Change" or "AWS API Call via CloudTrail", not "Transcribe Vocabulary State Change"',
    );
    const running = callEvent();
    (running.detail as Record<string, unknown>).JobStatus = 'IN_PROGRESS';
    await expect((await verify())(running, lambdaContext)).rejects.toThrow('detail.JobStatus must be "COMPLETED" or "FAILED", not "IN_PROGRESS"');
    expect(transcribe.commandCalls(GetCallAnalyticsJobCommand)).toHaveLength(0);
  });
});

describe('verify handler: a media key that spells an accented letter otherwise than its rule', () => {
  // The rule's prefix composed (NFC), as typed; the upload named decomposed (NFD), as a Mac may. A catch-all rule without a key beside it.
  const path = join(mkdtempSync(join(tmpdir(), 'tkp-nfd-')), 'config.json');
  writeFileSync(path, JSON.stringify({ defaults: { languageCode: 'de-DE' }, rules: [{ prefix: '' }, { prefix: 'Überweisungen/', kmsKey: '1234abcd-12ab-34cd-56ef-1234567890ab' }] }));
  const key = 'U\u0308berweisungen/Ma\u0308rz/anruf.wav';
  const media = `s3://tkp-dev-input-123456789012-us-east-1/${key}`;

  beforeEach(() => {
    resetAws();
    transcribe.on(GetTranscriptionJobCommand).resolves({
      TranscriptionJob: completed({ Media: { MediaFileUri: media }, Tags: completed().Tags?.map((tag) => (tag.Key === 'tkp:rule-prefix' ? { ...tag, Value: 'Überweisungen/' } : tag)) }),
    });
    kms.on(DescribeKeyCommand, { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }).resolves({
      KeyMetadata: { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', Arn: ARN, AWSAccountId: '123456789012', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' },
    });
    s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } });
  });
  const verifyNfd = async () => (await loadHandler(() => import('../../functions/verify'), { PIPELINE_CONFIG_PATH: path })).handler;

  it('judges it by the rule whose prefix looks the same: its key verifies', async () => {
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: ARN });
    await (await verifyNfd())(completionEvent(), lambdaContext);
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry?.DetailType).toBe('Transcript Encryption Verified');
    expect(JSON.parse(entry?.Detail as string)).toMatchObject({ rulePrefix: 'Überweisungen/', mediaUri: media, expected: { serverSideEncryption: 'aws:kms', kmsKeyArn: ARN, source: 'rule' } });
  });

  it('and the catch-all rule\'s SSE-S3 is a mismatch, never a pass', async () => {
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'AES256' });
    await expect((await verifyNfd())(completionEvent(), lambdaContext)).rejects.toMatchObject({ name: 'EncryptionMismatchError' });
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry?.DetailType).toBe('Transcript Encryption Mismatch');
    expect(JSON.parse(entry?.Detail as string)).toMatchObject({ rulePrefix: 'Überweisungen/', expected: { kmsKeyArn: ARN } });
  });
});
