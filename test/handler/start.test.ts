import { DescribeKeyCommand, KMSClient, type KeyMetadata } from '@aws-sdk/client-kms';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  GetCallAnalyticsJobCommand,
  GetTranscriptionJobCommand,
  StartCallAnalyticsJobCommand,
  StartMedicalTranscriptionJobCommand,
  StartTranscriptionJobCommand,
  TranscribeClient,
} from '@aws-sdk/client-transcribe';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { jobNameFor } from '../../shared/aws/jobName';
import { decodeTagValue } from '../../shared/aws/jobTags';
import { ruleFingerprint } from '../../shared/config/expectedEncryption';
import { validatePipelineConfig } from '../../shared/config/pipelineConfig';
import bundledConfig from '../../pipeline.config.json' with { type: 'json' };
import { lambdaContext, loadEvent } from '../support/fixtures';
import { HANDLER_ENV, loadHandler } from '../support/handlerEnv';

const transcribe = mockClient(TranscribeClient);
const kms = mockClient(KMSClient);
const sqs = mockClient(SQSClient);

const ACCOUNT = '123456789012';
const OTHER = '222233334444';
const KEYS: Record<string, KeyMetadata> = {
  '1234abcd-12ab-34cd-56ef-1234567890ab': metadata(ACCOUNT, '1234abcd-12ab-34cd-56ef-1234567890ab'),
  'alias/legal-transcripts': metadata(ACCOUNT, '11111111-2222-4333-8444-555555555555'),
  'arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321': metadata(ACCOUNT, '0987dcba-09fe-87dc-65ba-ab0987654321'),
  'arn:aws:kms:us-east-1:123456789012:alias/partner-intake': metadata(ACCOUNT, '66666666-7777-4888-9999-aaaaaaaaaaaa'),
  'arn:aws:kms:us-east-1:222233334444:alias/acme-transcripts': metadata(OTHER, 'bbbbbbbb-cccc-4ddd-8eee-ffffffffffff'),
};

function metadata(account: string, keyId: string): KeyMetadata {
  return { KeyId: keyId, Arn: `arn:aws:kms:us-east-1:${account}:key/${keyId}`, AWSAccountId: account, KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' };
}

function sqsEvent(...keys: string[]): SQSEvent {
  const template = loadEvent('sqs-s3-put.json');
  const body = JSON.parse(template.Records[0].body);
  return {
    Records: keys.map((key, i) => ({
      ...template.Records[0],
      messageId: `m-${i}`,
      receiptHandle: `r-${i}`,
      body: JSON.stringify({ Records: [{ ...body.Records[0], s3: { ...body.Records[0].s3, object: { ...body.Records[0].s3.object, key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+') } } }] }),
    })),
  };
}

const BUCKET = HANDLER_ENV.INPUT_BUCKET;
const DEPLOYED = validatePipelineConfig(bundledConfig, { region: 'us-east-1' });
const VERSION = '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY';
/** The tags the start function records, with the rule's fingerprint from the config given. */
const tags = (sse: string, arn: string | undefined, prefix: string, key: string, config = DEPLOYED) => [
  { Key: 'tkp:expected-sse', Value: sse },
  ...(arn ? [{ Key: 'tkp:expected-kms-key-arn', Value: arn }] : []),
  { Key: 'tkp:rule-prefix', Value: prefix },
  { Key: 'tkp:rule-fingerprint', Value: ruleFingerprint(config.rules.find((rule) => rule.prefix === prefix)!) },
  { Key: 'tkp:source-bucket', Value: BUCKET },
  { Key: 'tkp:source-key', Value: key },
  { Key: 'tkp:source-version', Value: `version:${VERSION}` },
];

async function start() {
  return (await loadHandler(() => import('../../functions/start'))).handler;
}

/** A config of the test's own, where PIPELINE_CONFIG_PATH names it, validated, and the start handler built from it. */
function withConfig(raw: unknown, name: string) {
  const path = join(mkdtempSync(join(tmpdir(), `tkp-${name}-`)), 'config.json');
  writeFileSync(path, JSON.stringify(raw));
  return {
    config: validatePipelineConfig(raw, { region: 'us-east-1' }),
    start: async () => (await loadHandler(() => import('../../functions/start'), { PIPELINE_CONFIG_PATH: path })).handler,
  };
}

/** Every client's mocks cleared, and DescribeKey answering for the keys of KEYS. */
function resetClients(): void {
  transcribe.reset();
  kms.reset();
  sqs.reset();
  kms.on(DescribeKeyCommand).callsFake(({ KeyId }: { KeyId: string }) => ({ KeyMetadata: KEYS[KeyId] }));
}

describe('start handler: what Transcribe receives', () => {
  beforeEach(() => {
    transcribe.reset();
    kms.reset();
    sqs.reset();
    kms.on(DescribeKeyCommand).callsFake(({ KeyId }: { KeyId: string }) => {
      if (!KEYS[KeyId]) throw Object.assign(new Error('not found'), { name: 'NotFoundException', $metadata: { httpStatusCode: 400 } });
      return { KeyMetadata: KEYS[KeyId] };
    });
    transcribe.on(StartTranscriptionJobCommand).resolves({});
  });

  it.each([
    ['a key ID', 'calls/2026/support-call-0142.wav', 'calls/', '1234abcd-12ab-34cd-56ef-1234567890ab', { KMSEncryptionContext: { department: 'support' } }, 'transcripts/'],
    ['an alias', 'legal/deposition.mp3', 'legal/', 'alias/legal-transcripts', {}, 'transcripts/legal/'],
    ['a key ARN', 'hr/exit-interview.m4a', 'hr/', 'arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321', {}, 'transcripts/'],
    ['an alias ARN', 'partners/globex/call.flac', 'partners/', 'arn:aws:kms:us-east-1:123456789012:alias/partner-intake', {}, 'transcripts/'],
    ['a cross-account alias ARN', 'partners/acme/call.ogg', 'partners/acme/', 'arn:aws:kms:us-east-1:222233334444:alias/acme-transcripts', {}, 'transcripts/'],
  ])('sends the resolved key ARN for %s', async (_label, key, prefix, reference, extra, outputPrefix) => {
    const response = await (await start())(sqsEvent(key), lambdaContext);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(kms.commandCalls(DescribeKeyCommand).map((c) => c.args[0].input)).toEqual([{ KeyId: reference }]);
    const arn = KEYS[reference]?.Arn as string;
    const jobName = jobNameFor('tkp.test.', { bucket: BUCKET, key, versionId: VERSION });
    const calls = transcribe.commandCalls(StartTranscriptionJobCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      TranscriptionJobName: jobName,
      Media: { MediaFileUri: `s3://${BUCKET}/${key}` },
      MediaFormat: key.slice(key.lastIndexOf('.') + 1),
      LanguageCode: 'en-US',
      OutputBucketName: 'tkp-test-transcripts',
      OutputKey: `${outputPrefix}${jobName}.json`,
      OutputEncryptionKMSKeyId: arn,
      ...extra,
      Tags: tags('aws:kms', arn, prefix, key),
    });
  });

  it('sends neither key nor encryption context for the SSE-S3 default, and identifies the language', async () => {
    await (await start())(sqsEvent('public/town-hall.webm'), lambdaContext);
    const jobName = jobNameFor('tkp.test.', { bucket: BUCKET, key: 'public/town-hall.webm', versionId: VERSION });
    expect(kms.commandCalls(DescribeKeyCommand)).toHaveLength(0);
    expect(transcribe.commandCalls(StartTranscriptionJobCommand)[0]?.args[0].input).toEqual({
      TranscriptionJobName: jobName,
      Media: { MediaFileUri: `s3://${BUCKET}/public/town-hall.webm` },
      MediaFormat: 'webm',
      IdentifyLanguage: true,
      LanguageOptions: ['en-US', 'de-DE', 'fr-FR'],
      OutputBucketName: 'tkp-test-transcripts',
      OutputKey: `transcripts/${jobName}.json`,
      Tags: tags('AES256', undefined, 'public/', 'public/town-hall.webm'),
    });
  });

  it('sends the format past whitespace after the extension, and the key as it is in the media URI', async () => {
    const key = 'public/Town Hall.webm\r';
    expect(await (await start())(sqsEvent(key), lambdaContext)).toEqual({ batchItemFailures: [] });
    const input = transcribe.commandCalls(StartTranscriptionJobCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ Media: { MediaFileUri: `s3://${BUCKET}/${key}` }, MediaFormat: 'webm' });
    // A tag value cannot hold a CR: the key is recorded encoded, and reads back whole.
    const recorded = input?.Tags?.find((tag) => tag.Key === 'tkp:source-key')?.Value;
    expect(recorded).toMatch(/^b64:/);
    expect(decodeTagValue(recorded as string)).toBe(key);
  });

  it('resolves each key once per cold start', async () => {
    const handler = await start();
    await handler(sqsEvent('legal/a.wav', 'legal/b.wav'), lambdaContext);
    await handler(sqsEvent('legal/c.wav'), lambdaContext);
    expect(kms.commandCalls(DescribeKeyCommand)).toHaveLength(1);
    expect(transcribe.commandCalls(StartTranscriptionJobCommand)).toHaveLength(3);
  });

  it('reports a LimitExceededException as a batch item failure and delays the message', async () => {
    transcribe.on(StartTranscriptionJobCommand).rejects(Object.assign(new Error('quota'), { name: 'LimitExceededException', $metadata: { httpStatusCode: 400 } }));
    const response = await (await start())(sqsEvent('public/a.wav', 'calls/b.wav'), lambdaContext);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }] });
    const delays = sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toMatchObject({ QueueUrl: HANDLER_ENV.START_QUEUE_URL, ReceiptHandle: 'r-0' });
    expect(delays[0]?.VisibilityTimeout).toBeGreaterThanOrEqual(5);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('sends a BadRequestException to the dead-letter queue with the reason, and reports success', async () => {
    transcribe.on(StartTranscriptionJobCommand).rejects(Object.assign(new Error('Invalid OutputKey'), { name: 'BadRequestException', $metadata: { httpStatusCode: 400 } }));
    const event = sqsEvent('public/a.wav');
    const response = await (await start())(event, lambdaContext);
    expect(response).toEqual({ batchItemFailures: [] });
    const [letter] = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(letter).toMatchObject({
      QueueUrl: HANDLER_ENV.START_DLQ_URL,
      MessageBody: event.Records[0]?.body,
      MessageAttributes: {
        errorName: { DataType: 'String', StringValue: 'StartRejectedError' },
        sourceMessageId: { DataType: 'String', StringValue: 'm-0' },
        receiveCount: { DataType: 'Number', StringValue: '1' },
      },
    });
    expect(letter?.MessageAttributes?.reason?.StringValue).toMatch(/^StartRejectedError: Transcribe rejected job tkp\.test\.a-[0-9a-f]{40} for rules\[5\] \(prefix "public\/"\): BadRequestException: Invalid OutputKey/);
  });

  it('treats ConflictException for its own job as started', async () => {
    transcribe.on(StartTranscriptionJobCommand).rejects(Object.assign(new Error('exists'), { name: 'ConflictException', $metadata: { httpStatusCode: 400 } }));
    transcribe.on(GetTranscriptionJobCommand).resolves({ TranscriptionJob: { Media: { MediaFileUri: `s3://${BUCKET}/public/a.wav` } } });
    const response = await (await start())(sqsEvent('public/a.wav'), lambdaContext);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('dead-letters a missing key with a message naming rule and key', async () => {
    kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('Alias not found'), { name: 'NotFoundException', $metadata: { httpStatusCode: 400 } }));
    await (await start())(sqsEvent('legal/a.wav'), lambdaContext);
    const reason = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes?.reason?.StringValue;
    expect(reason).toBe('KeyNotUsableError: rules[1] (prefix "legal/"): kmsKey alias/legal-transcripts was not found; check that the key or alias exists in this region');
    expect(transcribe.commandCalls(StartTranscriptionJobCommand)).toHaveLength(0);
  });

  it('dead-letters a recording whose name holds characters SQS refuses with its reason, each written as escape() writes it', async () => {
    const key = 'public/\u0001call\ttab \uffff 🎧 \u007f.aiff';
    expect(await (await start())(sqsEvent(key), lambdaContext)).toEqual({ batchItemFailures: [] });
    const letter = sqsEvent(key).Records[0];
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({
        QueueUrl: HANDLER_ENV.START_DLQ_URL,
        MessageBody: letter?.body,
        MessageAttributes: expect.objectContaining({
          reason: { DataType: 'String', StringValue: expect.stringMatching(/^UnsupportedRecordingError: s3:\/\/\S+\/public\/%01call\ttab %uFFFF 🎧 \u007f\.aiff \(rules\[\d+\] \(prefix "public\/"\)\): \.aiff is a recording format/) },
        }),
      }),
    ]);
    expect(transcribe.commandCalls(StartTranscriptionJobCommand)).toHaveLength(0);
  });

  it('dead-letters a non-JSON body and a non-ObjectCreated record, each with its reason', async () => {
    const event = sqsEvent('public/a.wav', 'public/b.wav');
    (event.Records[0] as { body: string }).body = 'not json';
    const removed = JSON.parse(event.Records[1]?.body as string);
    removed.Records[0].eventName = 'ObjectRemoved:Delete';
    (event.Records[1] as { body: string }).body = JSON.stringify(removed);
    await (await start())(event, lambdaContext);
    const reasons = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageAttributes?.reason?.StringValue);
    expect(reasons.sort()).toEqual([
      'EventShapeError: Records[0] is ObjectRemoved:Delete, not ObjectCreated; limit the bucket notification to s3:ObjectCreated:* events',
      'EventShapeError: message body is not JSON (starts "not json"); only S3 event notifications belong on this queue',
    ]);
  });

  it('dead-letters an S3 event with no Records', async () => {
    const event = sqsEvent('public/a.wav');
    (event.Records[0] as { body: string }).body = '{"Records":[]}';
    await (await start())(event, lambdaContext);
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes?.reason?.StringValue).toBe(
      'EventShapeError: S3 event has no Records (its fields: Records); only S3 ObjectCreated notifications belong on this queue, sent by S3 itself, not through SNS or EventBridge',
    );
  });

  it('dead-letters an S3 event wrapped by SNS, naming the envelope and what to change', async () => {
    const event = sqsEvent('public/a.wav');
    const wrapped = { Type: 'Notification', MessageId: 'n-1', TopicArn: 'arn:aws:sns:us-east-1:123456789012:uploads', Message: (event.Records[0] as { body: string }).body };
    (event.Records[0] as { body: string }).body = JSON.stringify(wrapped);
    expect(await (await start())(event, lambdaContext)).toEqual({ batchItemFailures: [] });
    expect(transcribe.commandCalls(StartTranscriptionJobCommand)).toHaveLength(0);
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({
      MessageBody: JSON.stringify(wrapped),
      MessageAttributes: {
        reason: {
          StringValue:
            'EventShapeError: S3 event has no Records (its fields: Type, MessageId, TopicArn, Message); only S3 ObjectCreated notifications belong on this queue, sent by S3 itself, not through SNS or EventBridge',
        },
      },
    });
  });

  it('keeps a record on the queue when the dead-letter queue refuses it, so nothing is lost', async () => {
    sqs.on(SendMessageCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const event = sqsEvent('public/a.wav');
    (event.Records[0] as { body: string }).body = 'not json';
    expect(await (await start())(event, lambdaContext)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    // It waits like a record after a fault, rather than coming straight back to a DLQ that refuses it.
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input)).toEqual([expect.objectContaining({ ReceiptHandle: 'r-0', VisibilityTimeout: expect.any(Number) })]);
  });

  it('fails the cold start with the name of a missing variable', async () => {
    await expect(loadHandler(() => import('../../functions/start'), { START_DLQ_URL: '' })).rejects.toThrow('environment variable START_DLQ_URL is not set');
  });
});

describe('start handler: Call Analytics and medical requests, for every key form', () => {
  const FORMS: [string, string, string | undefined][] = [
    ['a key ID', 'id/', '1234abcd-12ab-34cd-56ef-1234567890ab'],
    ['an alias', 'alias/', 'alias/legal-transcripts'],
    ['a key ARN', 'arn/', 'arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321'],
    ['an alias ARN', 'alias-arn/', 'arn:aws:kms:us-east-1:123456789012:alias/partner-intake'],
    ['another account\'s alias ARN', 'acme/', 'arn:aws:kms:us-east-1:222233334444:alias/acme-transcripts'],
    ['no key (SSE-S3)', 'plain/', undefined],
  ];
  const raw = {
    defaults: { languageCode: 'en-US' },
    transcripts: { prefix: 'transcripts/' },
    rules: FORMS.flatMap(([, folder, kmsKey]) => [
      {
        prefix: `cc/${folder}`,
        jobType: 'callAnalytics',
        ...(kmsKey && { kmsKey }),
        ...(folder === 'acme/' && { account: OTHER }),
        channels: { agent: 1, customer: 0 },
        redaction: { output: 'redacted_and_unredacted', audio: true, piiEntityTypes: ['NAME'] },
        output: { prefix: 'analytics/' },
      },
      {
        prefix: `med/${folder}`,
        jobType: 'medical',
        ...(kmsKey && { kmsKey }),
        ...(folder === 'acme/' && { account: OTHER }),
        ...(kmsKey && { encryptionContext: { ward: 'b' } }),
        type: 'DICTATION',
      },
    ]),
  };
  const { config, start: startTyped } = withConfig(raw, 'jobtypes');
  const recorded = (prefix: string, key: string, arn: string | undefined) => tags(arn ? 'aws:kms' : 'AES256', arn, prefix, key, config);

  beforeEach(() => {
    resetClients();
    transcribe.on(StartCallAnalyticsJobCommand).resolves({});
    transcribe.on(StartMedicalTranscriptionJobCommand).resolves({});
  });

  it.each(FORMS)('sends StartCallAnalyticsJob with the resolved key ARN for %s, and no encryption context', async (_label, folder, reference) => {
    const key = `cc/${folder}call-0142.wav`;
    const response = await (await startTyped())(sqsEvent(key), lambdaContext);
    expect(response).toEqual({ batchItemFailures: [] });
    const arn = reference ? (KEYS[reference]?.Arn as string) : undefined;
    const jobName = jobNameFor('tkp.test.', { bucket: BUCKET, key, versionId: VERSION }, 'callAnalytics');
    expect(jobName).not.toBe(jobNameFor('tkp.test.', { bucket: BUCKET, key, versionId: VERSION }));
    expect(transcribe.commandCalls(StartTranscriptionJobCommand)).toHaveLength(0);
    expect(transcribe.commandCalls(StartCallAnalyticsJobCommand).map((c) => c.args[0].input)).toEqual([
      {
        CallAnalyticsJobName: jobName,
        Media: { MediaFileUri: `s3://${BUCKET}/${key}`, RedactedMediaFileUri: `s3://${BUCKET}/${key}` },
        OutputLocation: 's3://tkp-test-transcripts/analytics/',
        ...(arn && { OutputEncryptionKMSKeyId: arn }),
        DataAccessRoleArn: 'arn:aws:iam::123456789012:role/transcribe-kms-pipeline-dev-us-east-1-transcribe-data',
        Settings: {
          LanguageOptions: ['en-US'],
          ContentRedaction: { RedactionType: 'PII', RedactionOutput: 'redacted_and_unredacted', PiiEntityTypes: ['NAME'] },
        },
        ChannelDefinitions: [
          { ChannelId: 1, ParticipantRole: 'AGENT' },
          { ChannelId: 0, ParticipantRole: 'CUSTOMER' },
        ],
        Tags: recorded(`cc/${folder}`, key, arn),
      },
    ]);
  });

  it.each(FORMS)('sends StartMedicalTranscriptionJob with the resolved key ARN and its context for %s, en-US', async (_label, folder, reference) => {
    const key = `med/${folder}visit.flac`;
    await (await startTyped())(sqsEvent(key), lambdaContext);
    const arn = reference ? (KEYS[reference]?.Arn as string) : undefined;
    const jobName = jobNameFor('tkp.test.', { bucket: BUCKET, key, versionId: VERSION }, 'medical');
    expect(transcribe.commandCalls(StartMedicalTranscriptionJobCommand).map((c) => c.args[0].input)).toEqual([
      {
        MedicalTranscriptionJobName: jobName,
        LanguageCode: 'en-US',
        Media: { MediaFileUri: `s3://${BUCKET}/${key}` },
        MediaFormat: 'flac',
        OutputBucketName: 'tkp-test-transcripts',
        OutputKey: `transcripts/${jobName}.json`,
        ...(arn && { OutputEncryptionKMSKeyId: arn, KMSEncryptionContext: { ward: 'b' } }),
        Specialty: 'PRIMARYCARE',
        Type: 'DICTATION',
        Tags: recorded(`med/${folder}`, key, arn),
      },
    ]);
  });

  it('counts a ConflictException for its own Call Analytics job as already started, read back with GetCallAnalyticsJob', async () => {
    const key = 'cc/id/again.wav';
    transcribe.on(StartCallAnalyticsJobCommand).rejects(Object.assign(new Error('exists'), { name: 'ConflictException', $metadata: { httpStatusCode: 400 } }));
    transcribe.on(GetCallAnalyticsJobCommand).resolves({ CallAnalyticsJob: { Media: { MediaFileUri: `s3://${BUCKET}/${key}` } } });
    const response = await (await startTyped())(sqsEvent(key), lambdaContext);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(transcribe.commandCalls(GetCallAnalyticsJobCommand).map((c) => c.args[0].input)).toEqual([
      { CallAnalyticsJobName: jobNameFor('tkp.test.', { bucket: BUCKET, key, versionId: VERSION }, 'callAnalytics') },
    ]);
    expect(transcribe.commandCalls(GetTranscriptionJobCommand)).toHaveLength(0);
  });

  it('sends a Call Analytics quota answer back to the queue with a delay, without a second call', async () => {
    transcribe.on(StartCallAnalyticsJobCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'LimitExceededException', $metadata: { httpStatusCode: 400 } }));
    const response = await (await startTyped())(sqsEvent('cc/id/busy.wav'), lambdaContext);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    expect(transcribe.commandCalls(StartCallAnalyticsJobCommand)).toHaveLength(1);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(1);
  });
});

describe('start handler: a key that spells an accented letter otherwise than its rule', () => {
  // The rules' prefixes composed (NFC), as typed; a Mac may name an upload decomposed (NFD): "U" and a combining diaeresis.
  const raw = {
    defaults: { languageCode: 'de-DE' },
    rules: [
      { prefix: '' },
      { prefix: 'Überweisungen/', kmsKey: 'alias/legal-transcripts' },
    ],
  };
  const { config, start: startNfd } = withConfig(raw, 'nfd');

  beforeEach(() => {
    resetClients();
    transcribe.on(StartTranscriptionJobCommand).resolves({});
  });

  it.each([
    ['decomposed (NFD)', 'U\u0308berweisungen/Ma\u0308rz/anruf.wav'],
    ['composed (NFC)', 'Überweisungen/März/anruf.wav'],
  ])('gives a key spelled %s the rule whose prefix looks the same, with its key, not the catch-all rule; the media URI keeps the key as stored', async (_label, key) => {
    expect(await (await startNfd())(sqsEvent(key), lambdaContext)).toEqual({ batchItemFailures: [] });
    const arn = KEYS['alias/legal-transcripts']?.Arn as string;
    const jobName = jobNameFor('tkp.test.', { bucket: BUCKET, key, versionId: VERSION });
    expect(transcribe.commandCalls(StartTranscriptionJobCommand).map((c) => c.args[0].input)).toEqual([
      {
        TranscriptionJobName: jobName,
        Media: { MediaFileUri: `s3://${BUCKET}/${key}` },
        MediaFormat: 'wav',
        LanguageCode: 'de-DE',
        OutputBucketName: 'tkp-test-transcripts',
        OutputKey: `transcripts/${jobName}.json`,
        OutputEncryptionKMSKeyId: arn,
        Tags: expect.arrayContaining(tags('aws:kms', arn, 'Überweisungen/', key, config).filter((tag) => tag.Key !== 'tkp:source-key')),
      },
    ]);
  });
});
