import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketEncryptionCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DeleteMedicalTranscriptionJobCommand,
  DeleteTranscriptionJobCommand,
  GetCallAnalyticsJobCommand,
  GetMedicalTranscriptionJobCommand,
  GetTranscriptionJobCommand,
  ListCallAnalyticsJobsCommand,
  ListMedicalTranscriptionJobsCommand,
  ListTranscriptionJobsCommand,
  StartCallAnalyticsJobCommand,
  StartMedicalTranscriptionJobCommand,
  StartTranscriptionJobCommand,
  TranscribeClient,
  type StartCallAnalyticsJobCommandInput,
  type StartMedicalTranscriptionJobCommandInput,
  type StartTranscriptionJobCommandInput,
} from '@aws-sdk/client-transcribe';
import { MONO_CALL_FAILURE } from '../local/emulator/outputWriter';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../local/runtime/eventBus';
import { startGateway, type Gateway } from '../local/emulator/gateway';
import { makeWav } from '../local/emulator/mediaProbe';
import { MOTO_DEFAULT_ACCOUNT, startMoto, type Moto } from '../local/emulator/moto';
import { kmsClientFor, LOCAL_CREDENTIALS } from '../local/runtime/provision';
import { transcriptKeyFor, type TranscribeEmulator } from '../local/emulator/emulatorModel';
import { startTranscribeEmulator } from '../local/emulator/transcribeEmulator';
import { motoAvailable } from '../support/moto';

const REGION = 'us-east-1';
const OTHER = '222233334444';
const MEDIA = 'emulator-media';
const OUT = 'emulator-out';

describe.runIf(motoAvailable('Transcribe emulator tests'))('the local Transcribe emulator', () => {
  let moto: Moto;
  let gateway: Gateway;
  let s3: S3Client;
  let emulator: TranscribeEmulator;
  let transcribe: TranscribeClient;
  let events: EventEnvelope[];
  let keyArn: string;
  let otherKeyArn: string;
  let disabledKeyArn: string;
  let serial = 0;

  async function emulate(options: Partial<Parameters<typeof startTranscribeEmulator>[0]> = {}) {
    await emulator?.close();
    emulator = await startTranscribeEmulator({
      region: REGION,
      account: MOTO_DEFAULT_ACCOUNT,
      s3,
      kms: new KMSClient({ region: REGION, endpoint: gateway.endpoint, credentials: LOCAL_CREDENTIALS }),
      events: new EventBridgeClient({ region: REGION, endpoint: moto.endpoint, credentials: LOCAL_CREDENTIALS }),
      deliver: async (event) => {
        events.push(event);
      },
      timeScale: 1000,
      ...options,
    });
    transcribe = new TranscribeClient({ region: REGION, endpoint: emulator.endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  }

  beforeAll(async () => {
    moto = await startMoto();
    gateway = await startGateway(moto.endpoint);
    s3 = new S3Client({ region: REGION, endpoint: moto.endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: MEDIA }));
    await s3.send(new CreateBucketCommand({ Bucket: OUT }));
    // Every S3 bucket encrypts with SSE-S3 by default since January 2023; moto needs telling.
    await s3.send(new PutBucketEncryptionCommand({ Bucket: OUT, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
    await s3.send(new PutObjectCommand({ Bucket: MEDIA, Key: 'ok.wav', Body: makeWav(2) }));
    await s3.send(new PutObjectCommand({ Bucket: MEDIA, Key: 'stereo.wav', Body: makeWav(2, { channels: 2 }) }));
    await s3.send(new PutObjectCommand({ Bucket: MEDIA, Key: 'short.wav', Body: makeWav(0.2) }));
    await s3.send(new PutObjectCommand({ Bucket: MEDIA, Key: 'empty.wav', Body: Buffer.alloc(0) }));
    await s3.send(new PutObjectCommand({ Bucket: MEDIA, Key: 'text.mp3', Body: 'this is not audio at all' }));
    const long = makeWav(0.01);
    long.writeUInt32LE(1, 28); // one byte a second: 20,160 bytes of samples claim 5.6 hours
    long.writeUInt32LE(20_160, 40);
    await s3.send(new PutObjectCommand({ Bucket: MEDIA, Key: 'long.wav', Body: Buffer.concat([long, Buffer.alloc(20_000)]) }));
    const own = kmsClientFor(moto.endpoint, REGION, MOTO_DEFAULT_ACCOUNT);
    const key = await own.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }));
    keyArn = key.KeyMetadata?.Arn as string;
    await own.send(new CreateAliasCommand({ AliasName: 'alias/emulator', TargetKeyId: key.KeyMetadata?.KeyId }));
    const disabled = await own.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }));
    disabledKeyArn = disabled.KeyMetadata?.Arn as string;
    await own.send(new DisableKeyCommand({ KeyId: disabled.KeyMetadata?.KeyId }));
    const other = kmsClientFor(moto.endpoint, REGION, OTHER);
    const otherKey = await other.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }));
    otherKeyArn = otherKey.KeyMetadata?.Arn as string;
    await other.send(new CreateAliasCommand({ AliasName: 'alias/partner', TargetKeyId: otherKey.KeyMetadata?.KeyId }));
  });

  beforeEach(async () => {
    events = [];
    await emulate();
  });

  afterAll(async () => {
    await emulator?.close();
    await gateway?.close();
    await moto?.stop();
  });

  const request = (overrides: Partial<StartTranscriptionJobCommandInput> = {}): StartTranscriptionJobCommandInput => ({
    TranscriptionJobName: `job-${serial++}`,
    Media: { MediaFileUri: `s3://${MEDIA}/ok.wav` },
    MediaFormat: 'wav',
    LanguageCode: 'en-US',
    OutputBucketName: OUT,
    OutputKey: 'transcripts/',
    ...overrides,
  });
  const start = (input: StartTranscriptionJobCommandInput) => transcribe.send(new StartTranscriptionJobCommand(input));
  const finished = async (name: string) => {
    await emulator.idle();
    return (await transcribe.send(new GetTranscriptionJobCommand({ TranscriptionJobName: name }))).TranscriptionJob;
  };
  const rejection = (input: StartTranscriptionJobCommandInput) => start(input).then(() => 'accepted', (error: Error) => `${error.name}: ${error.message}`);

  describe('validation, against the model the SDK ships and the published patterns', () => {
    it.each([
      ['a job name with a slash', { TranscriptionJobName: 'calls/a.wav' }, /BadRequestException: .*transcriptionJobName.*\^\[0-9a-zA-Z._-\]\+/],
      ['a job name over 200 characters', { TranscriptionJobName: 'x'.repeat(201) }, /BadRequestException: .*length less than or equal to 200/],
      ['an OutputKey with = and a space', { OutputKey: 'a b=c/' }, /BadRequestException: .*outputKey/],
      ['an unknown MediaFormat', { MediaFormat: 'aiff' as never }, /BadRequestException: .*mediaFormat.*enum/],
      ['two language options', { IdentifyLanguage: true }, /exactly one of these parameters: LanguageCode, IdentifyLanguage, or IdentifyMultipleLanguages/],
      ['no language option', { LanguageCode: undefined }, /exactly one of these parameters/],
      ['a key id outside the pattern', { OutputEncryptionKMSKeyId: '-bad key' }, /BadRequestException: .*outputEncryptionKMSKeyId/],
      ['an encryption context without a key', { KMSEncryptionContext: { a: 'b' } }, /KMSEncryptionContext when you also specify an OutputEncryptionKMSKeyId/],
      ['a blank encryption context value', { OutputEncryptionKMSKeyId: 'alias/emulator', KMSEncryptionContext: { a: ' ' } }, /kMSEncryptionContext/],
      ['a key without an output bucket', { OutputBucketName: undefined, OutputKey: undefined, OutputEncryptionKMSKeyId: 'alias/emulator' }, /OutputBucketName when you specify an OutputEncryptionKMSKeyId/],
      ['deferred execution without a role', { JobExecutionSettings: { AllowDeferredExecution: true } }, /DataAccessRoleArn when AllowDeferredExecution/],
    ])('rejects %s with BadRequestException', async (_label, overrides, message) => {
      expect(await rejection(request(overrides as Partial<StartTranscriptionJobCommandInput>))).toMatch(message);
    });

    it('rejects a member the model does not have (the SDK never sends one, so this is a raw request)', async () => {
      const response = await fetch(emulator.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Transcribe.StartTranscriptionJob' },
        body: JSON.stringify({ ...request(), Bogus: 1 }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ __type: 'BadRequestException', Message: 'Unknown parameter Bogus in the request.' });
    });

    it('answers ConflictException for a name already used', async () => {
      const input = request();
      await start(input);
      expect(await rejection(input)).toBe('ConflictException: The requested job name already exists. Use a different job name.');
    });
  });

  describe('quotas', () => {
    it('refuses starts over the requests-per-second quota', async () => {
      await emulate({ timeScale: 1, quotas: { startTps: 3 } });
      const answers = await Promise.all(Array.from({ length: 5 }, () => rejection(request())));
      expect(answers.filter((a) => a === 'accepted')).toHaveLength(3);
      expect(answers.filter((a) => a.startsWith('LimitExceededException'))).toHaveLength(2);
    });

    it('refuses starts over the concurrent-job quota, and queues deferrable ones instead', async () => {
      await emulate({ timeScale: 1, quotas: { maxConcurrentJobs: 2 }, timing: { queuedSeconds: 60, processingSeconds: 1, processingPerAudioSecond: 0 } });
      expect(await rejection(request())).toBe('accepted');
      expect(await rejection(request())).toBe('accepted');
      expect(await rejection(request())).toMatch(/^LimitExceededException: You have exceeded the maximum number of concurrent transcription jobs/);
      const deferred = request({ JobExecutionSettings: { AllowDeferredExecution: true, DataAccessRoleArn: 'arn:aws:iam::123456789012:role/transcribe' } });
      expect(await rejection(deferred)).toBe('accepted');
      expect((await transcribe.send(new GetTranscriptionJobCommand({ TranscriptionJobName: deferred.TranscriptionJobName }))).TranscriptionJob?.TranscriptionJobStatus).toBe('QUEUED');
      expect(emulator.stats.peakConcurrency).toBe(2);
    });

    it('defaults to the service quotas', async () => {
      await emulate({ timeScale: 1 });
      const began = performance.now();
      const answers = await Promise.all(Array.from({ length: 30 }, () => rejection(request())));
      // A full bucket of 25, plus what the bucket refilled (25 a second) while a loaded machine served the burst.
      const refilled = Math.floor(((performance.now() - began) / 1000) * 25);
      const accepted = answers.filter((a) => a === 'accepted').length;
      expect(accepted).toBeGreaterThanOrEqual(25);
      expect(accepted).toBeLessThanOrEqual(25 + refilled);
    });
  });

  describe('jobs', () => {
    it('completes a job: probe, transcript under the resolved key ARN with its context, and the completion event', async () => {
      const input = request({ OutputEncryptionKMSKeyId: 'alias/emulator', KMSEncryptionContext: { team: 'support' } });
      const accepted = await start(input);
      expect(accepted.TranscriptionJob?.TranscriptionJobStatus).toBe('QUEUED');
      const job = await finished(input.TranscriptionJobName as string);
      expect(job?.TranscriptionJobStatus).toBe('COMPLETED');
      const key = `transcripts/${input.TranscriptionJobName}.json`;
      expect(job?.Transcript?.TranscriptFileUri).toBe(`https://s3.${REGION}.amazonaws.com/${OUT}/${key}`);
      expect(job).not.toHaveProperty('OutputEncryptionKMSKeyId');
      const head = await s3.send(new HeadObjectCommand({ Bucket: OUT, Key: key }));
      expect(head.ServerSideEncryption).toBe('aws:kms');
      expect(head.SSEKMSKeyId).toBe(keyArn);
      await expect(s3.send(new HeadObjectCommand({ Bucket: OUT, Key: 'transcripts/.write_access_check_file.temp' }))).resolves.toBeDefined();
      const body = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: OUT, Key: key }))).Body!.transformToString());
      expect(body).toMatchObject({ jobName: input.TranscriptionJobName, status: 'COMPLETED' });
      expect(body.results.transcripts[0].transcript).toMatch(/local emulator\] No speech recognition ran.*wav media of 2\.00 s/);
      expect(events).toEqual([
        expect.objectContaining({
          version: '0',
          source: 'aws.transcribe',
          'detail-type': 'Transcribe Job State Change',
          account: MOTO_DEFAULT_ACCOUNT,
          region: REGION,
          resources: [],
          detail: { TranscriptionJobName: input.TranscriptionJobName, TranscriptionJobStatus: 'COMPLETED' },
        }),
      ]);
    });

    it('writes without an encryption header when no key is given, so the bucket default (here SSE-S3) applies', async () => {
      const input = request();
      await start(input);
      await finished(input.TranscriptionJobName as string);
      expect((await s3.send(new HeadObjectCommand({ Bucket: OUT, Key: `transcripts/${input.TranscriptionJobName}.json` }))).ServerSideEncryption).toBe('AES256');
    });

    it('reaches another account’s key by alias ARN but not by bare alias', async () => {
      const byArn = request({ OutputEncryptionKMSKeyId: `arn:aws:kms:${REGION}:${OTHER}:alias/partner` });
      const bare = request({ OutputEncryptionKMSKeyId: 'alias/partner' });
      await start(byArn);
      await start(bare);
      expect((await finished(byArn.TranscriptionJobName as string))?.TranscriptionJobStatus).toBe('COMPLETED');
      expect((await s3.send(new HeadObjectCommand({ Bucket: OUT, Key: `transcripts/${byArn.TranscriptionJobName}.json` }))).SSEKMSKeyId).toBe(otherKeyArn);
      const failed = await finished(bare.TranscriptionJobName as string);
      expect(failed?.TranscriptionJobStatus).toBe('FAILED');
      expect(failed?.FailureReason).toContain("(alias/partner) doesn't exist or Amazon Transcribe doesn't have permission to use it");
    });

    it.each([
      ['a disabled key', () => ({ OutputEncryptionKMSKeyId: disabledKeyArn }), /is Disabled\. Enable the key/],
      ['missing media', () => ({ Media: { MediaFileUri: `s3://${MEDIA}/nothing.wav` } }), /can't be accessed/],
      ['empty media', () => ({ Media: { MediaFileUri: `s3://${MEDIA}/empty.wav` } }), /media file is empty/],
      ['media that is not the declared format', () => ({ Media: { MediaFileUri: `s3://${MEDIA}/text.mp3` }, MediaFormat: 'mp3' as const }), /doesn't match the detected media format/],
      ['media shorter than 500 ms', () => ({ Media: { MediaFileUri: `s3://${MEDIA}/short.wav` } }), /at least 500 milliseconds/],
      ['media longer than 4 hours', () => ({ Media: { MediaFileUri: `s3://${MEDIA}/long.wav` } }), /shorter than 4 hours/],
    ])('fails the job for %s, with a FailureReason, and emits FAILED', async (_label, overrides, reason) => {
      const input = request(overrides());
      await start(input);
      const job = await finished(input.TranscriptionJobName as string);
      expect(job?.TranscriptionJobStatus).toBe('FAILED');
      expect(job?.FailureReason).toMatch(reason);
      expect(events.at(-1)?.detail).toEqual({ TranscriptionJobName: input.TranscriptionJobName, TranscriptionJobStatus: 'FAILED', FailureReason: job?.FailureReason });
    });

    it('tampers with exactly one chosen job when asked', async () => {
      await emulate({ faults: { tamper: { match: 'ok.wav', mode: 'wrong-key', wrongKeyArn: otherKeyArn } } });
      const first = request({ OutputEncryptionKMSKeyId: keyArn });
      const second = request({ OutputEncryptionKMSKeyId: keyArn });
      await start(first);
      await emulator.idle();
      await start(second);
      await emulator.idle();
      const keyOf = async (name: string | undefined) => (await s3.send(new HeadObjectCommand({ Bucket: OUT, Key: `transcripts/${name}.json` }))).SSEKMSKeyId;
      expect(await keyOf(first.TranscriptionJobName)).toBe(otherKeyArn);
      expect(await keyOf(second.TranscriptionJobName)).toBe(keyArn);
    });

    it('lists, pages and deletes jobs', async () => {
      const names = ['list-a', 'list-b', 'list-c'];
      for (const name of names) await start(request({ TranscriptionJobName: name }));
      await emulator.idle();
      const first = await transcribe.send(new ListTranscriptionJobsCommand({ JobNameContains: 'LIST-', Status: 'COMPLETED', MaxResults: 2 }));
      expect(first.TranscriptionJobSummaries?.map((j) => j.TranscriptionJobName)).toHaveLength(2);
      const second = await transcribe.send(new ListTranscriptionJobsCommand({ JobNameContains: 'list-', Status: 'COMPLETED', MaxResults: 2, NextToken: first.NextToken }));
      expect([...(first.TranscriptionJobSummaries ?? []), ...(second.TranscriptionJobSummaries ?? [])].map((j) => j.TranscriptionJobName).sort()).toEqual(names);
      expect(second.NextToken).toBeUndefined();
      await transcribe.send(new DeleteTranscriptionJobCommand({ TranscriptionJobName: 'list-a' }));
      await expect(transcribe.send(new GetTranscriptionJobCommand({ TranscriptionJobName: 'list-a' }))).rejects.toThrow("The requested job couldn't be found");
    });
  });

  it('places transcripts the way OutputKey says', () => {
    expect(transcriptKeyFor('j', undefined)).toBe('j.json');
    expect(transcriptKeyFor('j', 'a/b/')).toBe('a/b/j.json');
    expect(transcriptKeyFor('j', 'a/b')).toBe('a/b/j.json');
    expect(transcriptKeyFor('j', 'a/b.json')).toBe('a/b.json');
  });

  describe('Call Analytics and medical jobs', () => {
    const call = (overrides: Partial<StartCallAnalyticsJobCommandInput> = {}): StartCallAnalyticsJobCommandInput => ({
      CallAnalyticsJobName: `call-${serial++}`,
      Media: { MediaFileUri: `s3://${MEDIA}/stereo.wav` },
      OutputLocation: `s3://${OUT}/analytics/`,
      OutputEncryptionKMSKeyId: keyArn,
      ChannelDefinitions: [
        { ChannelId: 0, ParticipantRole: 'AGENT' },
        { ChannelId: 1, ParticipantRole: 'CUSTOMER' },
      ],
      Tags: [{ Key: 'tkp:expected-sse', Value: 'aws:kms' }],
      ...overrides,
    });
    const medical = (overrides: Partial<StartMedicalTranscriptionJobCommandInput> = {}): StartMedicalTranscriptionJobCommandInput => ({
      MedicalTranscriptionJobName: `visit-${serial++}`,
      LanguageCode: 'en-US',
      Media: { MediaFileUri: `s3://${MEDIA}/ok.wav` },
      MediaFormat: 'wav',
      OutputBucketName: OUT,
      OutputKey: 'clinic/',
      OutputEncryptionKMSKeyId: keyArn,
      KMSEncryptionContext: { ward: 'b' },
      Specialty: 'PRIMARYCARE',
      Type: 'CONVERSATION',
      ...overrides,
    });
    const refusal = (send: Promise<unknown>) => send.then(() => 'accepted', (error: Error) => `${error.name}: ${error.message}`);
    const keyOf = async (uri: string | undefined) => {
      const path = new URL(uri as string).pathname.split('/').slice(2).map(decodeURIComponent).join('/');
      return (await s3.send(new HeadObjectCommand({ Bucket: OUT, Key: path }))).SSEKMSKeyId;
    };

    it.each([
      ['one channel definition', { ChannelDefinitions: [{ ChannelId: 0, ParticipantRole: 'AGENT' }] }, /BadRequestException: .*channelDefinitions.*length 2/],
      ['channel 2', { ChannelDefinitions: [{ ChannelId: 2, ParticipantRole: 'AGENT' }, { ChannelId: 1, ParticipantRole: 'CUSTOMER' }] }, /channelId.*between 0 and 1/],
      ['two agents', { ChannelDefinitions: [{ ChannelId: 0, ParticipantRole: 'AGENT' }, { ChannelId: 1, ParticipantRole: 'AGENT' }] }, /different participants/],
      ['an unknown redaction output', { Settings: { ContentRedaction: { RedactionType: 'PII', RedactionOutput: 'everything' as never } } }, /redactionOutput.*enum/],
      ['a job name with a slash', { CallAnalyticsJobName: 'a/b' }, /callAnalyticsJobName/],
      ['a data access role that is not a role ARN', { DataAccessRoleArn: 'arn:aws:iam::123456789012:user/someone' }, /dataAccessRoleArn/],
    ])('refuses a Call Analytics request with %s', async (_label, overrides, message) => {
      expect(await refusal(transcribe.send(new StartCallAnalyticsJobCommand(call(overrides as Partial<StartCallAnalyticsJobCommandInput>))))).toMatch(message);
    });

    it('refuses a Call Analytics request with an encryption context, which its model does not have (a raw request: the SDK drops it)', async () => {
      const response = await fetch(emulator.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Transcribe.StartCallAnalyticsJob' },
        body: JSON.stringify({ ...call(), KMSEncryptionContext: { team: 'cc' } }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ __type: 'BadRequestException', Message: 'Unknown parameter KMSEncryptionContext in the request.' });
    });

    it.each([
      ['a language other than en-US', { LanguageCode: 'en-GB' as const }, /only US English/],
      ['no Type (required by the model)', { Type: undefined }, /Value null at 'Type'/],
      ['an unknown specialty', { Specialty: 'CARDIOLOGY' as never }, /specialty.*enum.*PRIMARYCARE/],
      ['an OutputKey with a space', { OutputKey: 'a b/' }, /outputKey/],
    ])('refuses a medical request with %s', async (_label, overrides, message) => {
      expect(await refusal(transcribe.send(new StartMedicalTranscriptionJobCommand(medical(overrides))))).toMatch(message);
    });

    it('writes every Call Analytics output under the key asked, reports them, and emits the Call Analytics event', async () => {
      const input = call({
        Media: { MediaFileUri: `s3://${MEDIA}/stereo.wav`, RedactedMediaFileUri: `s3://${MEDIA}/stereo.wav` },
        Settings: { LanguageOptions: ['en-US'], ContentRedaction: { RedactionType: 'PII', RedactionOutput: 'redacted_and_unredacted' } },
      });
      await transcribe.send(new StartCallAnalyticsJobCommand(input));
      await emulator.idle();
      const job = (await transcribe.send(new GetCallAnalyticsJobCommand({ CallAnalyticsJobName: input.CallAnalyticsJobName }))).CallAnalyticsJob;
      expect(job).toMatchObject({ CallAnalyticsJobStatus: 'COMPLETED', Media: { MediaFileUri: `s3://${MEDIA}/stereo.wav` } });
      expect(job).not.toHaveProperty('OutputEncryptionKMSKeyId');
      const uris = [job?.Transcript?.TranscriptFileUri, job?.Transcript?.RedactedTranscriptFileUri, job?.Media?.RedactedMediaFileUri];
      expect(uris.map((uri) => new URL(uri as string).pathname)).toEqual([
        `/${OUT}/analytics/${input.CallAnalyticsJobName}.json`,
        `/${OUT}/analytics/redacted-${input.CallAnalyticsJobName}.json`,
        `/${OUT}/analytics/redacted-${input.CallAnalyticsJobName}.wav`,
      ]);
      for (const uri of uris) expect(await keyOf(uri)).toBe(keyArn);
      expect(events.map((e) => [e['detail-type'], e.detail])).toEqual([['Call Analytics Job State Change', { JobName: input.CallAnalyticsJobName, JobStatus: 'COMPLETED' }]]);
      const listed = await transcribe.send(new ListCallAnalyticsJobsCommand({ JobNameContains: input.CallAnalyticsJobName, Status: 'COMPLETED' }));
      expect(listed.CallAnalyticsJobSummaries?.map((j) => j.CallAnalyticsJobName)).toEqual([input.CallAnalyticsJobName]);
    });

    it('writes only the redacted transcript for RedactionOutput redacted', async () => {
      const input = call({ Settings: { ContentRedaction: { RedactionType: 'PII', RedactionOutput: 'redacted' } } });
      await transcribe.send(new StartCallAnalyticsJobCommand(input));
      await emulator.idle();
      const job = (await transcribe.send(new GetCallAnalyticsJobCommand({ CallAnalyticsJobName: input.CallAnalyticsJobName }))).CallAnalyticsJob;
      expect(job?.Transcript).toEqual({ RedactedTranscriptFileUri: expect.stringContaining(`/analytics/redacted-${input.CallAnalyticsJobName}.json`) });
    });

    it('fails a Call Analytics job on one-channel audio, with the reason in the job and the event', async () => {
      const input = call({ Media: { MediaFileUri: `s3://${MEDIA}/ok.wav` } });
      await transcribe.send(new StartCallAnalyticsJobCommand(input));
      await emulator.idle();
      const job = (await transcribe.send(new GetCallAnalyticsJobCommand({ CallAnalyticsJobName: input.CallAnalyticsJobName }))).CallAnalyticsJob;
      expect(job).toMatchObject({ CallAnalyticsJobStatus: 'FAILED', FailureReason: MONO_CALL_FAILURE });
      expect(events[0]?.detail).toEqual({ JobName: input.CallAnalyticsJobName, JobStatus: 'FAILED', FailureReason: MONO_CALL_FAILURE });
    });

    it('writes a medical transcript under the key asked, emits no event (as AWS), lists and deletes the job', async () => {
      const input = medical();
      await transcribe.send(new StartMedicalTranscriptionJobCommand(input));
      await emulator.idle();
      const job = (await transcribe.send(new GetMedicalTranscriptionJobCommand({ MedicalTranscriptionJobName: input.MedicalTranscriptionJobName }))).MedicalTranscriptionJob;
      expect(job).toMatchObject({ TranscriptionJobStatus: 'COMPLETED', LanguageCode: 'en-US', Specialty: 'PRIMARYCARE', Type: 'CONVERSATION' });
      expect(new URL(job?.Transcript?.TranscriptFileUri as string).pathname).toBe(`/${OUT}/clinic/${input.MedicalTranscriptionJobName}.json`);
      expect(await keyOf(job?.Transcript?.TranscriptFileUri)).toBe(keyArn);
      expect(events).toEqual([]);
      const listed = await transcribe.send(new ListMedicalTranscriptionJobsCommand({ JobNameContains: input.MedicalTranscriptionJobName }));
      expect(listed.MedicalTranscriptionJobSummaries?.map((j) => j.MedicalTranscriptionJobName)).toEqual([input.MedicalTranscriptionJobName]);
      await transcribe.send(new DeleteMedicalTranscriptionJobCommand({ MedicalTranscriptionJobName: input.MedicalTranscriptionJobName }));
      expect(await refusal(transcribe.send(new GetMedicalTranscriptionJobCommand({ MedicalTranscriptionJobName: input.MedicalTranscriptionJobName })))).toMatch(/couldn't be found/);
    });

    it('keeps each job type in its own name space: one name may be a transcription and a medical job', async () => {
      await start(request({ TranscriptionJobName: 'shared-name' }));
      await transcribe.send(new StartMedicalTranscriptionJobCommand(medical({ MedicalTranscriptionJobName: 'shared-name' })));
      await emulator.idle();
      expect(emulator.jobs().filter((j) => j.name === 'shared-name').map((j) => j.jobType).sort()).toEqual(['medical', 'transcription']);
      expect(await refusal(transcribe.send(new StartMedicalTranscriptionJobCommand(medical({ MedicalTranscriptionJobName: 'shared-name' }))))).toMatch(/ConflictException/);
    });

    it('holds Call Analytics to its own, smaller rate quota (10 of StartTranscriptionJob\'s 25)', async () => {
      await emulate({ timeScale: 1, quotas: { startTps: 5 } });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await refusal(transcribe.send(new StartCallAnalyticsJobCommand(call()))));
      expect(answers.filter((a) => a === 'accepted')).toHaveLength(2);
      expect(answers.filter((a) => a.startsWith('LimitExceededException'))).toHaveLength(2);
    });
  });
});
