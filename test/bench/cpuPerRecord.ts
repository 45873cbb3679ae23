/**
 * CPU per record in the service's own code: the start handler (and the verify handler) run
 * in-process with every AWS call answered locally by aws-sdk-client-mock, so what is measured
 * is parsing, rule matching, naming, request building, batching, logging and metrics, not the
 * network. Run by bench.ts in a child process whose stdout (the handlers' logs) is discarded;
 * the figures go to the file named in argv[2].
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
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

async function cpuMicrosPerItem(items: number, perCall: number, run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 50; i++) await run();
  const before = process.cpuUsage();
  for (let i = 0; i < items / perCall; i++) await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / items;
}

const RECORDS = 20_000;
const startMicros = await cpuMicrosPerItem(RECORDS, 10, () => start(batch(10), lambdaContext));
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
const verifyMicros = await cpuMicrosPerItem(5_000, 1, () => {
  completion.detail.TranscriptionJobName = `tkp.test.call-${job++}`;
  return verify(completion, lambdaContext);
});
writeFileSync(output as string, JSON.stringify({ startCpuMsPerRecord: startMicros / 1000, verifyCpuMsPerEvent: verifyMicros / 1000, records: RECORDS }));
