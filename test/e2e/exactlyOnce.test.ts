import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWav } from '../local/emulator/mediaProbe';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { motoAvailable } from '../support/moto';

/**
 * At-least-once everywhere, exactly once where it counts: for every object version, one job
 * and one verdict event, whatever S3 and EventBridge deliver twice or lose.
 */
describe.runIf(motoAvailable('exactly-once tests'))('exactly once, observably', () => {
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipeline = await LocalPipeline.start({ timeScale: 50, sweepGraceSeconds: 0 });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  const jobsFor = (key: string) => pipeline.emulator.jobs().filter((j) => j.mediaUri === `s3://${pipeline.stack.names.inputBucket}/${key}`);
  const verdictsFor = (key: string) => pipeline.outcomes.filter((o) => o.detail.source?.key === key);

  async function notification(key: string) {
    const head = await pipeline.s3.send(new HeadObjectCommand({ Bucket: pipeline.stack.names.inputBucket, Key: key }));
    return JSON.stringify({
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          // A redelivery is the same record: in the versioned input bucket, with the version ID.
          s3: { bucket: { name: pipeline.stack.names.inputBucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: head.ContentLength, eTag: head.ETag?.replace(/"/g, ''), versionId: head.VersionId } },
        },
      ],
    });
  }

  it('gives one job and one verdict when S3 delivers the same notification three times at once', async () => {
    const key = 'calls/delivered-three-times.wav';
    await pipeline.upload(key, makeWav(1));
    const body = await notification(key);
    await Promise.all([1, 2].map(() => pipeline.sqs.send(new SendMessageCommand({ QueueUrl: pipeline.stack.startQueueUrl, MessageBody: body }))));
    await pipeline.settle();
    expect(jobsFor(key)).toHaveLength(1);
    expect(verdictsFor(key).map((o) => o.detailType)).toEqual(['Transcript Encryption Verified']);
    expect(pipeline.logs.filter((l) => l.key === key && (l.message === 'job started' || l.message === 'job already started')).map((l) => l.message).sort()).toEqual([
      'job already started',
      'job already started',
      'job started',
    ]);
  });

  it('gives one verdict when EventBridge delivers the completion event twice', async () => {
    const key = 'legal/completed-twice.wav';
    pipeline.emulator.setFaults({ duplicateCompletionEvent: () => true });
    await pipeline.upload(key, makeWav(1));
    await pipeline.settle();
    pipeline.emulator.setFaults({});
    const [job] = jobsFor(key);
    expect(jobsFor(key)).toHaveLength(1);
    const invocations = pipeline.logs.filter((l) => l.jobName === job?.name && (l.message === 'verdict published' || l.message === 'verdict already reported' || l.message === 'verification failed'));
    expect(invocations.length).toBeGreaterThanOrEqual(2);
    expect(verdictsFor(key)).toHaveLength(1);
  });

  it('gives one verdict, through the sweeper, when the completion event is lost', async () => {
    const key = 'partners/acme/completion-lost.wav';
    pipeline.emulator.setFaults({ loseCompletionEvent: () => true });
    await pipeline.upload(key, makeWav(1));
    await pipeline.settle();
    pipeline.emulator.setFaults({});
    expect(jobsFor(key).map((j) => j.status)).toEqual(['COMPLETED']);
    expect(verdictsFor(key)).toEqual([]);
    expect(pipeline.emulator.stats.eventsLost).toBe(1);

    await pipeline.sweep();
    await pipeline.settle();
    expect(verdictsFor(key).map((o) => [o.detailType, o.detail.checkedBy])).toEqual([['Transcript Encryption Verified', 'sweeper']]);

    await pipeline.sweep();
    await pipeline.settle();
    expect(verdictsFor(key)).toHaveLength(1);
  });

  it('never lets the sweeper report a job its completion event already reported', async () => {
    const before = pipeline.outcomes.length;
    await pipeline.sweep();
    await pipeline.settle();
    expect(pipeline.outcomes.length).toBe(before);
  });

  it('treats a new version of the same key as a new object: a second job and a second verdict', async () => {
    const key = 'public/re-recorded.wav';
    await pipeline.upload(key, makeWav(1));
    await pipeline.settle();
    await pipeline.upload(key, makeWav(2));
    await pipeline.settle();
    expect(jobsFor(key)).toHaveLength(2);
    expect(new Set(verdictsFor(key).map((o) => o.detail.jobName)).size).toBe(2);
    expect(verdictsFor(key)).toHaveLength(2);
  });
});
