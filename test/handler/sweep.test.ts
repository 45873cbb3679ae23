import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetBucketEncryptionCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetMedicalTranscriptionJobCommand,
  GetTranscriptionJobCommand,
  ListCallAnalyticsJobsCommand,
  ListMedicalTranscriptionJobsCommand,
  ListTranscriptionJobsCommand,
  TranscribeClient,
} from '@aws-sdk/client-transcribe';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../support/fixtures';
import { loadHandler } from '../support/handlerEnv';

const transcribe = mockClient(TranscribeClient);
const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
/** A GetObject body as the SDK hands it over. */
const body = (text: string) => ({ transformToString: async () => text }) as never;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

describe('sweep handler', () => {
  beforeEach(() => {
    transcribe.reset();
    s3.reset();
    events.reset();
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('none'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
    s3.on(PutObjectCommand).resolves({ ETag: '"v1"' });
    s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } });
    transcribe.on(ListTranscriptionJobsCommand).resolves({ TranscriptionJobSummaries: [] });
    transcribe.on(ListCallAnalyticsJobsCommand).resolves({ CallAnalyticsJobSummaries: [] });
    transcribe.on(ListMedicalTranscriptionJobsCommand).resolves({ MedicalTranscriptionJobSummaries: [] });
  });

  it('lists this stack’s finished jobs and verifies only those without a verdict', async () => {
    transcribe.on(ListTranscriptionJobsCommand, { Status: 'COMPLETED' }).resolves({
      TranscriptionJobSummaries: [
        { TranscriptionJobName: 'tkp.test.lost', CreationTime: minutesAgo(20), CompletionTime: minutesAgo(10) },
        { TranscriptionJobName: 'tkp.test.done', CreationTime: minutesAgo(20), CompletionTime: minutesAgo(10) },
        { TranscriptionJobName: 'tkp.test.fresh', CreationTime: minutesAgo(1), CompletionTime: minutesAgo(0.5) },
      ],
    });
    transcribe.on(ListTranscriptionJobsCommand, { Status: 'FAILED' }).resolves({ TranscriptionJobSummaries: [] });
    const tags = [
      { Key: 'tkp:expected-sse', Value: 'AES256' },
      { Key: 'tkp:source-key', Value: 'public/a.wav' },
    ];
    transcribe.on(GetTranscriptionJobCommand, { TranscriptionJobName: 'tkp.test.lost' }).resolves({
      TranscriptionJob: {
        TranscriptionJobName: 'tkp.test.lost',
        TranscriptionJobStatus: 'COMPLETED',
        Media: { MediaFileUri: 's3://tkp-dev-input-123456789012-us-east-1/public/a.wav' },
        Transcript: { TranscriptFileUri: 'https://s3.us-east-1.amazonaws.com/tkp-test-transcripts/transcripts/tkp.test.lost.json' },
        Tags: tags,
      },
    });
    const published = JSON.stringify({ state: 'published', claimedAt: '2026-11-28T09:00:00Z', detail: { outcome: 'verified', jobName: 'tkp.test.done' } });
    s3.on(GetObjectCommand, { Key: 'verdicts/tkp.test.done.json' }).resolves({ ETag: '"v0"', Body: body(published) });
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'AES256' });

    const { handler } = await loadHandler(() => import('../../functions/sweep'));
    await handler({}, lambdaContext);

    expect(transcribe.commandCalls(ListTranscriptionJobsCommand).map((c) => c.args[0].input)).toEqual([
      { Status: 'COMPLETED', JobNameContains: 'tkp.test.', MaxResults: 100 },
      { Status: 'FAILED', JobNameContains: 'tkp.test.', MaxResults: 100 },
    ]);
    expect(transcribe.commandCalls(GetTranscriptionJobCommand).map((c) => c.args[0].input.TranscriptionJobName)).toEqual(['tkp.test.lost']);
    const outcomes = events.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries?.[0]?.Detail as string));
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ jobName: 'tkp.test.lost', outcome: 'verified', checkedBy: 'sweeper' });
  });

  it('fails the run, listing each job it could not verify, after trying them all', async () => {
    transcribe.on(ListTranscriptionJobsCommand, { Status: 'COMPLETED' }).resolves({
      TranscriptionJobSummaries: [{ TranscriptionJobName: 'tkp.test.gone', CreationTime: minutesAgo(20), CompletionTime: minutesAgo(10) }],
    });
    transcribe.on(ListTranscriptionJobsCommand, { Status: 'FAILED' }).resolves({ TranscriptionJobSummaries: [] });
    transcribe.on(GetTranscriptionJobCommand).rejects(Object.assign(new Error('not found'), { name: 'BadRequestException', $metadata: { httpStatusCode: 400 } }));
    const { handler } = await loadHandler(() => import('../../functions/sweep'));
    await expect(handler({}, lambdaContext)).rejects.toThrow(/1 job\(s\) could not be verified or did not match:\n  - tkp\.test\.gone: JobNotFoundError/);
  });

  it('finds a medical job, which has no completion event, as soon as it finished, and judges it under the rule\'s key', async () => {
    const clinicKey = 'arn:aws:kms:us-east-1:123456789012:key/7c1d1c5e-2f4a-4b6e-9a3d-5e8f0c2b1a47';
    transcribe.on(ListMedicalTranscriptionJobsCommand, { Status: 'COMPLETED' }).resolves({
      MedicalTranscriptionJobSummaries: [{ MedicalTranscriptionJobName: 'tkp.test.visit', CreationTime: minutesAgo(2), CompletionTime: minutesAgo(1) }],
    });
    transcribe.on(GetMedicalTranscriptionJobCommand, { MedicalTranscriptionJobName: 'tkp.test.visit' }).resolves({
      MedicalTranscriptionJob: {
        MedicalTranscriptionJobName: 'tkp.test.visit',
        TranscriptionJobStatus: 'COMPLETED',
        CreationTime: minutesAgo(2),
        Media: { MediaFileUri: 's3://tkp-dev-input-123456789012-us-east-1/clinic/visit.wav' },
        Transcript: { TranscriptFileUri: 'https://s3.us-east-1.amazonaws.com/tkp-test-transcripts/transcripts/tkp.test.visit.json' },
        Tags: [
          { Key: 'tkp:expected-sse', Value: 'aws:kms' },
          { Key: 'tkp:expected-kms-key-arn', Value: clinicKey },
        ],
      },
    });
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: clinicKey });
    const kms = mockClient(KMSClient);
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: clinicKey, Arn: clinicKey, AWSAccountId: '123456789012', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' } });
    const { handler } = await loadHandler(() => import('../../functions/sweep'));
    await handler({}, lambdaContext);
    expect(transcribe.commandCalls(ListMedicalTranscriptionJobsCommand).map((c) => c.args[0].input)).toEqual([
      { Status: 'COMPLETED', JobNameContains: 'tkp.test.', MaxResults: 100 },
      { Status: 'FAILED', JobNameContains: 'tkp.test.', MaxResults: 100 },
    ]);
    expect(s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'tkp-test-transcripts', Key: 'transcripts/tkp.test.visit.json' }]);
    const outcomes = events.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries?.[0]?.Detail as string));
    expect(outcomes).toEqual([expect.objectContaining({ jobName: 'tkp.test.visit', jobType: 'medical', outcome: 'verified', rulePrefix: 'clinic/', checkedBy: 'sweeper' })]);
    kms.restore();
  });

  it('fails the run, naming the medical job and what to do, when Transcribe no longer has it', async () => {
    transcribe.on(ListMedicalTranscriptionJobsCommand, { Status: 'COMPLETED' }).resolves({
      MedicalTranscriptionJobSummaries: [{ MedicalTranscriptionJobName: 'tkp.test.deleted', CreationTime: minutesAgo(20), CompletionTime: minutesAgo(10) }],
    });
    transcribe.on(GetMedicalTranscriptionJobCommand).rejects(Object.assign(new Error("The requested job couldn't be found."), { name: 'BadRequestException', $metadata: { httpStatusCode: 400 } }));
    const { handler } = await loadHandler(() => import('../../functions/sweep'));
    await expect(handler({}, lambdaContext)).rejects.toThrow(
      /1 job\(s\) could not be verified or did not match:\n  - medical job tkp\.test\.deleted: JobNotFoundError: medical transcription job tkp\.test\.deleted no longer exists .*re-upload the media/,
    );
  });
});
