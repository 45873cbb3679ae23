import { CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetTranscriptionJobCommand, TranscribeClient } from '@aws-sdk/client-transcribe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWav } from '../local/emulator/mediaProbe';
import { MOTO_DEFAULT_ACCOUNT } from '../local/emulator/moto';
import { LocalPipeline, type OutcomeEvent } from '../local/runtime/localPipeline';
import { kmsClientFor } from '../local/runtime/provision';
import { parseS3Uri, type S3Location } from '../../shared/aws/s3Location';
import { motoAvailable } from '../support/moto';
import { fileURLToPath } from 'node:url';

const CONFIG = fileURLToPath(new URL('./e2e.config.json', import.meta.url));
const OTHER_ACCOUNT = '222233334444';
const audio = makeWav(1.5);

describe.runIf(motoAvailable('end-to-end pipeline tests'))('the local pipeline end to end', () => {
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipeline = await LocalPipeline.start({ configPath: CONFIG, timeScale: 50 });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  const outcomesFor = (key: string): OutcomeEvent[] => pipeline.outcomes.filter((o) => o.detail.source?.key === key);
  const keyArnOf = (reference: string) => pipeline.stack.keys.get(reference)?.arn as string;

  async function transcriptOf(outcome: OutcomeEvent) {
    const { bucket, key } = parseS3Uri(outcome.detail.transcriptUri) as S3Location;
    const head = await pipeline.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const body = JSON.parse(await (await pipeline.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString());
    return { head, body, bucket, key };
  }

  async function uploadAndSettle(key: string, body: Buffer | string = audio) {
    await pipeline.upload(key, body);
    await pipeline.settle({ timeoutMs: 60_000 });
  }

  async function expectVerifiedUnder(key: string, keyArn: string) {
    await uploadAndSettle(key);
    const outcomes = outcomesFor(key);
    expect(outcomes.map((o) => o.detailType)).toEqual(['Transcript Encryption Verified']);
    const [outcome] = outcomes as [OutcomeEvent];
    expect(outcome.detail).toMatchObject({
      outcome: 'verified',
      mediaUri: `s3://${pipeline.stack.names.inputBucket}/${key}`,
      expected: { serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn },
      actual: [{ serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn }],
      problems: [],
    });
    const { head, body } = await transcriptOf(outcome);
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe(keyArn);
    expect(body.results.transcripts[0].transcript).toContain('local emulator');
    return outcome;
  }

  it('encrypts under a key named by key ID, with its encryption context', async () => {
    const arn = keyArnOf('1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(arn).toBe(`arn:aws:kms:us-east-1:${MOTO_DEFAULT_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`);
    const outcome = await expectVerifiedUnder('calls/key-id.wav', arn);
    expect(outcome.detail.rulePrefix).toBe('calls/');
    expect(outcome.detail.jobName).toMatch(/^tkp\.local\.key-id-[0-9a-f]{40}$/);
  });

  it('encrypts under a key named by alias, reporting the key ARN S3 reports', async () => {
    const arn = keyArnOf('alias/legal-transcripts');
    expect(arn).toMatch(/:key\/[0-9a-f-]{36}$/);
    const outcome = await expectVerifiedUnder('legal/alias.wav', arn);
    expect(outcome.detail.transcriptUri).toContain('/transcripts/legal/tkp.local.alias-');
  });

  it('encrypts under a key named by key ARN', async () => {
    await expectVerifiedUnder('hr/key-arn.wav', keyArnOf('arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321'));
  });

  it('encrypts under a key named by alias ARN', async () => {
    await expectVerifiedUnder('partners/alias-arn.wav', keyArnOf('arn:aws:kms:us-east-1:123456789012:alias/partner-intake'));
  });

  it('encrypts under another account’s key named by alias ARN, with the longest prefix winning', async () => {
    const arn = keyArnOf('arn:aws:kms:us-east-1:222233334444:alias/acme-transcripts');
    expect(arn).toContain(`:${OTHER_ACCOUNT}:key/`);
    const outcome = await expectVerifiedUnder('partners/acme/cross-account.wav', arn);
    expect(outcome.detail.rulePrefix).toBe('partners/acme/');
  });

  it('uses SSE-S3 where the rule names no key', async () => {
    const key = 'public/sse-s3.wav';
    await uploadAndSettle(key);
    const [outcome] = outcomesFor(key) as [OutcomeEvent];
    expect(outcome.detailType).toBe('Transcript Encryption Verified');
    expect(outcome.detail.expected).toEqual({ serverSideEncryption: 'AES256', source: 'bucket-default' });
    const { head, body } = await transcriptOf(outcome);
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.SSEKMSKeyId).toBeUndefined();
    expect(body.results.language_code).toBe('en-US');
  });

  it('handles a key with spaces, +, %, = and non-ASCII characters', async () => {
    const key = 'calls/Q3 review + notes 100% =final/Überprüfung café.wav';
    const outcome = await expectVerifiedUnder(key, keyArnOf('1234abcd-12ab-34cd-56ef-1234567890ab'));
    expect(outcome.detail.source.key).toBe(key);
    expect(outcome.detail.jobName).toMatch(/^tkp\.local\.Uberprufung_cafe-[0-9a-f]{40}$/);
  });

  it('delivers uploads under a rule prefix with a space, +, %, =, & and non-ASCII characters, as S3 matches encoded filters', async () => {
    const key = 'Call Recordings/Zürich +50% =A&B/kundin 1.wav';
    const outcome = await expectVerifiedUnder(key, pipeline.stack.keys.get('alias/zurich-calls')?.arn as string);
    expect(outcome.detail.rulePrefix).toBe('Call Recordings/Zürich +50% =A&B/');
    expect(pipeline.stack.notificationFilters).toContain('Call+Recordings/Z%C3%BCrich+%2B50%25+%3DA%26B/');
  });

  it('starts one job for a duplicated S3 notification', async () => {
    const key = 'calls/duplicate.wav';
    await uploadAndSettle(key);
    const started = pipeline.logs.find((l) => l.message === 'job started' && l.key === key);
    expect(started).toBeDefined();
    const event = { Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: pipeline.stack.names.inputBucket }, object: { key: 'calls/duplicate.wav', size: audio.length, ...(await versionOf(key)) } } }] };
    await pipeline.sqs.send(new SendMessageCommand({ QueueUrl: pipeline.stack.startQueueUrl, MessageBody: JSON.stringify(event) }));
    await pipeline.settle({ timeoutMs: 60_000 });
    expect(pipeline.emulator.jobs().filter((j) => j.mediaUri.endsWith(`/${key}`))).toHaveLength(1);
    expect(outcomesFor(key)).toHaveLength(1);
    expect(pipeline.logs.some((l) => l.message === 'job already started' && l.key === key && l.jobName === started?.jobName)).toBe(true);
  });

  it('skips an unsupported file with its reason and starts no job', async () => {
    const key = 'public/notes.txt';
    await uploadAndSettle(key, 'meeting notes');
    expect(pipeline.logs.find((l) => l.message === 'object skipped' && l.key === key)?.reason).toBe(
      'unsupported extension .txt; Transcribe takes amr, flac, m4a, mp3, mp4, ogg, wav, webm',
    );
    expect(pipeline.emulator.jobs().some((j) => j.mediaUri.endsWith(key))).toBe(false);
    expect(outcomesFor(key)).toEqual([]);
    expect(pipeline.deadLetters.some((d) => d.body.includes('notes.txt'))).toBe(false);
  });

  it('transcribes a recording copied from a Mac through a mounted bucket once, and skips the ._ metadata macOS writes beside it', async () => {
    const key = 'public/mounted/Interview 3.wav';
    const metadata = 'public/mounted/._Interview 3.wav';
    await pipeline.upload(key, audio);
    // An AppleDouble header (magic 0x00051607), not audio: as a job it would fail and page.
    await uploadAndSettle(metadata, Buffer.concat([Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]), Buffer.alloc(4088)]));
    expect(outcomesFor(key).map((o) => o.detail.outcome)).toEqual(['verified']);
    expect(pipeline.logs.find((l) => l.message === 'object skipped' && l.key === metadata)?.reason).toBe('hidden file');
    expect(pipeline.emulator.jobs().filter((j) => j.mediaUri.includes('/mounted/'))).toHaveLength(1);
    expect(outcomesFor(metadata)).toEqual([]);
    expect(pipeline.deadLetters.some((d) => d.body.includes('mounted'))).toBe(false);
  });

  it('transcribes an object named without an extension, sending no MediaFormat, so that Transcribe determines the format', async () => {
    const key = 'public/ingest/4f0c2a9e-77b1-4c35-9d2e-0a1b2c3d4e5f';
    await uploadAndSettle(key);
    expect(outcomesFor(key).map((o) => [o.detailType, o.detail.outcome])).toEqual([['Transcript Encryption Verified', 'verified']]);
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith(`/${key}`));
    const sent = await new TranscribeClient({ region: 'us-east-1', endpoint: pipeline.emulator.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }).send(
      new GetTranscriptionJobCommand({ TranscriptionJobName: job?.name }),
    );
    expect(sent.TranscriptionJob?.MediaFormat).toBeUndefined();
  });

  it('ends an object named without an extension that is not media as a Failed verdict, which pages, not as a log line', async () => {
    const key = 'public/ingest/manifest';
    await uploadAndSettle(key, 'not audio: a list of files');
    const outcomes = outcomesFor(key);
    expect(outcomes.map((o) => o.detailType)).toEqual(['Transcription Failed']);
    expect(outcomes[0]?.detail.failureReason).toContain('media format');
    expect(pipeline.alarms.some((a) => a.detail.source?.key === key)).toBe(true);
  });

  it('dead-letters a recording in a format Transcribe does not take, saying what to do, and starts no job', async () => {
    const key = 'public/Interview (take 2).aiff';
    await uploadAndSettle(key, 'FORM....AIFF');
    expect(pipeline.emulator.jobs().some((j) => j.mediaUri.endsWith(key))).toBe(false);
    const letter = pipeline.deadLetters.find((d) => d.body.includes('Interview'));
    expect(letter?.reason).toMatch(/^UnsupportedRecordingError: s3:\/\/\S+\/public\/Interview \(take 2\)\.aiff \(rules\[\d+\] \(prefix "public\/"\)\): \.aiff is a recording format Transcribe does not take \(it takes amr, flac, m4a, mp3, mp4, ogg, wav, webm\): convert the recording to one of them and upload that$/);
  });

  it('dead-letters with its reason a recording whose name holds control characters, which SQS refuses in a message', async () => {
    // An ingestion script that colours its output (ESC [31m) or writes a form feed into a name.
    const key = 'public/Interview \u001b[31mred\u001b[0m \f.aiff';
    await uploadAndSettle(key, 'FORM....AIFF');
    const letter = pipeline.deadLetters.find((d) => d.queue === 'start' && d.body.includes('Interview+%1B'));
    expect(letter?.reason).toMatch(/^UnsupportedRecordingError: s3:\/\/\S+\/public\/Interview %1B\[31mred%1B\[0m %0C\.aiff \(rules\[\d+\] \(prefix "public\/"\)\): \.aiff is a recording format/);
    expect(pipeline.emulator.jobs().some((j) => j.mediaUri.includes('Interview \u001b'))).toBe(false);
  });

  it('reports a job whose key was disabled after it started as a failed transcription', async () => {
    const arn = keyArnOf('alias/paused-key');
    await expectVerifiedUnder('paused/before.wav', arn);
    await disableKey('alias/paused-key');
    const key = 'paused/after.wav';
    await uploadAndSettle(key);
    const outcomes = outcomesFor(key);
    expect(outcomes.map((o) => o.detailType)).toEqual(['Transcription Failed']);
    expect(outcomes[0]?.detail).toMatchObject({ outcome: 'failed', jobStatus: 'FAILED', transcriptUri: null, expected: { kmsKeyArn: arn } });
    expect(outcomes[0]?.detail.failureReason).toContain(`The KMS key you specified (${arn}) is Disabled`);
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith(key));
    expect(job?.status).toBe('FAILED');
    const head = await pipeline.s3
      .send(new HeadObjectCommand({ Bucket: pipeline.stack.names.transcriptBucket, Key: `transcripts/${job?.name}.json` }))
      .catch((error: Error) => error.name);
    expect(head).toBe('NotFound');
  });

  it('transcribes an upload stored under SSE-KMS, and fails one whose own key is disabled, naming that key', async () => {
    const kms = kmsClientFor(pipeline.moto.endpoint, 'us-east-1', MOTO_DEFAULT_ACCOUNT);
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeyUsage: 'ENCRYPT_DECRYPT' }));
    const mediaKey = KeyMetadata?.Arn as string;
    const put = (key: string) =>
      pipeline.s3.send(new PutObjectCommand({ Bucket: pipeline.stack.names.inputBucket, Key: key, Body: audio, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: mediaKey }));
    await put('calls/sealed/readable.wav');
    await pipeline.settle({ timeoutMs: 60_000 });
    expect(outcomesFor('calls/sealed/readable.wav').map((o) => o.detailType)).toEqual(['Transcript Encryption Verified']);

    await kms.send(new DisableKeyCommand({ KeyId: KeyMetadata?.KeyId }));
    const key = 'calls/sealed/unreadable.wav';
    await put(key);
    await pipeline.settle({ timeoutMs: 60_000 });
    const outcomes = outcomesFor(key);
    expect(outcomes.map((o) => o.detailType)).toEqual(['Transcription Failed']);
    expect(outcomes[0]?.detail).toMatchObject({ outcome: 'failed', jobStatus: 'FAILED', transcriptUri: null });
    expect(outcomes[0]?.detail.failureReason).toContain(`the media is encrypted with the KMS key ${mediaKey}, which is Disabled`);
    expect(pipeline.alarms.some((a) => a.detail.source?.key === key)).toBe(true);
  });

  it('dead-letters an upload whose key is disabled before it is ever used, naming rule and key', async () => {
    await disableKey('alias/retired-key');
    await uploadAndSettle('retired/a.wav');
    const letter = pipeline.deadLetters.find((d) => d.queue === 'start' && d.body.includes('retired%2Fa.wav'));
    expect(letter?.attributes.errorName).toBe('KeyNotUsableError');
    expect(letter?.reason).toMatch(/^KeyNotUsableError: rules\[7\] \(prefix "retired\/"\): kmsKey alias\/retired-key \(arn:aws:kms:[^)]+\) is Disabled \(enable it\)$/);
    expect(pipeline.emulator.jobs().some((j) => j.mediaUri.endsWith('retired/a.wav'))).toBe(false);
  });

  /** One batch of what the alarm topic delivered to its subscriber queue, each message as received once. */
  async function receive(QueueUrl: string | undefined) {
    const { Messages = [] } = await pipeline.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 3600 }));
    return Messages.map((m) => JSON.parse(JSON.parse(m.Body as string).Message));
  }

  it('catches a transcript written under the wrong key: mismatch event, then a failed invocation in the DLQ', async () => {
    pipeline.emulator.setFaults({ tamper: { match: 'hr/tampered', mode: 'wrong-key', wrongKeyArn: pipeline.stack.tamperKeyArn } });
    const key = 'hr/tampered.wav';
    const expected = keyArnOf('arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321');
    await uploadAndSettle(key);
    pipeline.emulator.setFaults({});
    const outcomes = outcomesFor(key);
    expect(outcomes.map((o) => o.detailType)).toEqual(['Transcript Encryption Mismatch']);
    const [outcome] = outcomes as [OutcomeEvent];
    expect(outcome.detail.expected.kmsKeyArn).toBe(expected);
    expect(outcome.detail.actual[0].kmsKeyArn).toBe(pipeline.stack.tamperKeyArn);
    expect(outcome.detail.problems[0]).toContain(`is encrypted under ${pipeline.stack.tamperKeyArn}, expected ${expected}`);
    const { head } = await transcriptOf(outcome);
    expect(head.SSEKMSKeyId).toBe(pipeline.stack.tamperKeyArn);
    const letter = pipeline.deadLetters.find((d) => d.queue === 'verify' && d.body.includes(outcome.detail.jobName));
    expect(letter?.reason).toMatch(/^EncryptionMismatchError: transcript encryption of job tkp\.local\.tampered-/);
    // Through the paging rule's target in moto, to the alarm topic and on to its subscriber, as a person receives it.
    const { QueueUrl } = await pipeline.sqs.send(new GetQueueUrlCommand({ QueueName: 'tkp-alarm-inbox' }));
    const pages: { 'detail-type': string; detail: { jobName: string; outcome: string; whatToDo: string } }[] = [];
    for (let batch = await receive(QueueUrl); batch.length > 0; batch = await receive(QueueUrl)) pages.push(...batch);
    // The page itself says what to do.
    expect(pages.filter((page) => page.detail.jobName === outcome.detail.jobName).map((page) => [page['detail-type'], page.detail.outcome, page.detail.whatToDo])).toEqual([
      ['Transcript Encryption Mismatch', 'mismatch', expect.stringMatching(/^Treat the transcript as exposed until you know why: find in CloudTrail who wrote it \(s3:PutObject, s3:CopyObject\)/)],
    ]);
  });

  it('catches a transcript written without KMS where a key was asked for', async () => {
    pipeline.emulator.setFaults({ tamper: { match: 'legal/plain', mode: 'no-kms' } });
    const key = 'legal/plain.wav';
    await uploadAndSettle(key);
    pipeline.emulator.setFaults({});
    const [outcome] = outcomesFor(key) as [OutcomeEvent];
    expect(outcome.detailType).toBe('Transcript Encryption Mismatch');
    expect(outcome.detail.actual[0]).toMatchObject({ serverSideEncryption: 'AES256' });
    expect((await transcriptOf(outcome)).head.ServerSideEncryption).toBe('AES256');
  });

  async function disableKey(alias: string) {
    const kms = kmsClientFor(pipeline.moto.endpoint, 'us-east-1', MOTO_DEFAULT_ACCOUNT);
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: alias }));
    await kms.send(new DisableKeyCommand({ KeyId: KeyMetadata?.KeyId }));
  }

  /** The version fields of S3's record for the object: the input bucket is versioned, so the version ID too. */
  async function versionOf(key: string): Promise<{ eTag: string; versionId?: string }> {
    const head = await pipeline.s3.send(new HeadObjectCommand({ Bucket: pipeline.stack.names.inputBucket, Key: key }));
    return { eTag: (head.ETag ?? '').replace(/"/g, ''), ...(head.VersionId && { versionId: head.VersionId }) };
  }
});
