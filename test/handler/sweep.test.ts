import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetTranscriptionJobCommand, ListTranscriptionJobsCommand, TagResourceCommand, TranscribeClient } from '@aws-sdk/client-transcribe';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../support/fixtures';
import { loadHandler } from '../support/handlerEnv';

const transcribe = mockClient(TranscribeClient);
const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

describe('sweep handler', () => {
  beforeEach(() => {
    transcribe.reset();
    s3.reset();
    events.reset();
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    transcribe.on(TagResourceCommand).resolves({});
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
        Transcript: { TranscriptFileUri: 'https://s3.us-east-1.amazonaws.com/tkp-test-transcripts/transcripts/tkp.test.lost.json' },
        Tags: tags,
      },
    });
    transcribe.on(GetTranscriptionJobCommand, { TranscriptionJobName: 'tkp.test.done' }).resolves({
      TranscriptionJob: { TranscriptionJobName: 'tkp.test.done', TranscriptionJobStatus: 'COMPLETED', Tags: [...tags, { Key: 'tkp:verdict', Value: 'verified' }] },
    });
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'AES256' });

    const { handler } = await loadHandler(() => import('../../functions/sweep'));
    await handler({}, lambdaContext);

    expect(transcribe.commandCalls(ListTranscriptionJobsCommand).map((c) => c.args[0].input)).toEqual([
      { Status: 'COMPLETED', JobNameContains: 'tkp.test.', MaxResults: 100 },
      { Status: 'FAILED', JobNameContains: 'tkp.test.', MaxResults: 100 },
    ]);
    expect(transcribe.commandCalls(GetTranscriptionJobCommand).map((c) => c.args[0].input.TranscriptionJobName).sort()).toEqual(['tkp.test.done', 'tkp.test.lost']);
    const published = events.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries?.[0]?.Detail as string));
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ jobName: 'tkp.test.lost', outcome: 'verified', checkedBy: 'sweeper' });
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
});
