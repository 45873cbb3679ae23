/**
 * CPU per record in the service's own code, over the same records parsed with JSON.parse alone:
 * the start handler (and the verify handler) run
 * in-process with every AWS call answered locally by aws-sdk-client-mock, so what is measured
 * is parsing, rule matching, naming, request building, batching, logging and metrics, not the
 * network. Run by bench.ts in a child process whose stdout (the handlers' logs) is discarded;
 * the figures go to the file named in argv[2].
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetTranscriptionJobCommand, StartTranscriptionJobCommand, TranscribeClient } from '@aws-sdk/client-transcribe';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { writeFileSync } from 'node:fs';
import { lambdaContext, loadEvent } from '../support/fixtures';
import { HANDLER_ENV } from '../support/functionEnvironment';

const [output] = process.argv.slice(2);
Object.assign(process.env, HANDLER_ENV, {
  POWERTOOLS_SERVICE_NAME: 'transcribe-kms-pipeline',
  POWERTOOLS_METRICS_NAMESPACE: 'TranscribeKmsPipeline',
  POWERTOOLS_LOG_LEVEL: 'INFO',
});

const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
mockClient(KMSClient)
  .on(DescribeKeyCommand)
  .resolves({ KeyMetadata: { KeyId: 'k', Arn: keyArn, AWSAccountId: '123456789012', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' } });
const transcribe = mockClient(TranscribeClient);
transcribe.on(StartTranscriptionJobCommand).resolves({});
mockClient(SQSClient).on(SendMessageCommand).resolves({}).on(ChangeMessageVisibilityCommand).resolves({});
const s3 = mockClient(S3Client);
s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn });
s3.on(PutObjectCommand).resolves({ ETag: '"e"' });
s3.on(GetObjectCommand).rejects(Object.assign(new Error('none'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
mockClient(EventBridgeClient).on(PutEventsCommand).resolves({ FailedEntryCount: 0 });

const { handler: start } = await import('../../functions/start');
const { handler: verify } = await import('../../functions/verify');

const template = loadEvent('sqs-s3-put.json').Records[0];
const s3Event = JSON.parse(template.body);
const prefixes = ['calls/', 'legal/', 'hr/', 'partners/', 'partners/acme/', 'public/'];
let serial = 0;
function batch(size: number): SQSEvent {
  return {
    Records: Array.from({ length: size }, () => {
      const n = serial++;
      const record = structuredClone(s3Event);
      record.Records[0].s3.object.key = `${prefixes[n % prefixes.length]}2026/11/call-${n}.wav`;
      record.Records[0].s3.object.versionId = `v${n}`;
      return { ...template, messageId: `m${n}`, body: JSON.stringify(record) };
    }),
  };
}

/** CPU microseconds per item of `run`, which handles `perCall` items, over `calls` calls. */
async function cpuMicros(calls: number, perCall: number, run: () => Promise<unknown> | unknown): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / (calls * perCall);
}

/**
 * The handler against a baseline of the same items parsed with JSON.parse alone, alternating
 * rounds (A B A B ...); the figure is the median of the per-round ratios, with both sides'
 * medians for scale.
 */
async function againstJsonParse(rounds: number, calls: number, perCall: number, handle: () => Promise<unknown>, parseOnly: () => unknown) {
  for (let i = 0; i < 50; i++) await handle();
  const handler: number[] = [];
  const baseline: number[] = [];
  for (let round = 0; round < rounds; round++) {
    handler.push(await cpuMicros(calls, perCall, handle));
    baseline.push(await cpuMicros(calls, perCall, parseOnly));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  return { handlerMs: median(handler) / 1000, jsonParseMs: median(baseline) / 1000, ratio: median(handler.map((h, i) => h / (baseline[i] as number))) };
}

const startBatch = () => batch(10);
let lastBatch = startBatch();
const start_ = await againstJsonParse(
  11,
  200,
  10,
  () => start((lastBatch = startBatch()), lambdaContext),
  () => {
    for (const record of lastBatch.Records) JSON.parse(record.body);
  },
);
let job = 0;
const completion = loadEvent('transcribe-completed.json');
transcribe.on(GetTranscriptionJobCommand).callsFake(({ TranscriptionJobName }: { TranscriptionJobName: string }) => ({
  TranscriptionJob: {
    TranscriptionJobName,
    TranscriptionJobStatus: 'COMPLETED',
    Media: { MediaFileUri: 's3://tkp-dev-input-123456789012-us-east-1/calls/x.wav' },
    Transcript: { TranscriptFileUri: `https://s3.us-east-1.amazonaws.com/tkp-test-transcripts/transcripts/${TranscriptionJobName}.json` },
    Tags: [
      { Key: 'tkp:expected-sse', Value: 'aws:kms' },
      { Key: 'tkp:expected-kms-key-arn', Value: keyArn },
    ],
  },
}));
s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } });
const completionText = JSON.stringify(completion);
const verify_ = await againstJsonParse(
  11,
  300,
  1,
  () => {
    completion.detail.TranscriptionJobName = `tkp.test.call-${job++}`;
    return verify(completion, lambdaContext);
  },
  () => JSON.parse(completionText),
);
writeFileSync(output as string, JSON.stringify({ start: start_, verify: verify_ }));
