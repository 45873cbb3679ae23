import { PutObjectCommand } from '@aws-sdk/client-s3';
import { TagResourceCommand, TranscribeClient } from '@aws-sdk/client-transcribe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verdictKey } from '../../shared/verify/verdictLedger';
import { makeWav } from '../local/emulator/mediaProbe';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { motoAvailable } from '../support/moto';

const CONFIG = new URL('./e2e.config.json', import.meta.url).pathname;

/**
 * An insider who would like a transcript under the wrong key to pass as verified. Each forgery
 * ends in a Mismatch event, a failed verify invocation and a message on the alarm topic. (A
 * ledger write by another role is refused by the bucket policy, which moto does not enforce:
 * the template tests assert that policy.)
 */
describe.runIf(motoAvailable('forgery tests'))('forgeries against the local pipeline', () => {
  let pipeline: LocalPipeline;
  let transcribe: TranscribeClient;

  beforeAll(async () => {
    pipeline = await LocalPipeline.start({ configPath: CONFIG, timeScale: 50, sweepGraceSeconds: 0 });
    transcribe = new TranscribeClient({ region: 'us-east-1', endpoint: pipeline.emulator.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  /** Uploads one object whose transcript the emulator writes under the wrong key, with its completion event held back. */
  async function tamperedJob(key: string) {
    pipeline.emulator.setFaults({ tamper: { match: key, mode: 'wrong-key', wrongKeyArn: pipeline.stack.tamperKeyArn }, loseCompletionEvent: () => true });
    await pipeline.upload(key, makeWav(1));
    await pipeline.settle();
    pipeline.emulator.setFaults({});
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri === `s3://${pipeline.stack.names.inputBucket}/${key}`);
    expect(job?.status).toBe('COMPLETED');
    return job?.name as string;
  }

  async function deliverAndSettle(jobName: string) {
    const failuresBefore = pipeline.counters.verifyFailures;
    await pipeline.deliverCompletion(jobName);
    await pipeline.settle();
    return pipeline.counters.verifyFailures - failuresBefore;
  }

  it('a tag rewritten to the wrong key: Mismatch (tags altered), failed invocation, alarm', async () => {
    const jobName = await tamperedJob('calls/forged-tag.wav');
    await transcribe.send(
      new TagResourceCommand({
        ResourceArn: `arn:aws:transcribe:us-east-1:123456789012:transcription-job/${jobName}`,
        Tags: [{ Key: 'tkp:expected-kms-key-arn', Value: pipeline.stack.tamperKeyArn }],
      }),
    );
    const failures = await deliverAndSettle(jobName);
    const verdicts = pipeline.outcomes.filter((o) => o.detail.jobName === jobName);
    expect(verdicts.map((o) => [o.detailType, o.detail.cause])).toEqual([['Transcript Encryption Mismatch', 'tags-altered']]);
    expect(verdicts[0]?.detail.recorded.kmsKeyArn).toBe(pipeline.stack.tamperKeyArn);
    expect(failures).toBeGreaterThan(0);
    expect(pipeline.alarms.filter((a) => a.detail.jobName === jobName)).toHaveLength(1);
  });

  it('a "verified" ledger record planted in advance: Mismatch published over it, failed invocation, alarm', async () => {
    const jobName = await tamperedJob('hr/planted-ledger.wav');
    const planted = { state: 'published', claimedAt: new Date().toISOString(), publishedAt: new Date().toISOString(), detail: { jobName, outcome: 'verified' } };
    await pipeline.s3.send(new PutObjectCommand({ Bucket: pipeline.stack.names.transcriptBucket, Key: verdictKey(jobName), Body: JSON.stringify(planted) }));
    const failures = await deliverAndSettle(jobName);
    const verdicts = pipeline.outcomes.filter((o) => o.detail.jobName === jobName);
    expect(verdicts.map((o) => o.detailType)).toEqual(['Transcript Encryption Mismatch']);
    expect(verdicts[0]?.detail.problems).toEqual(expect.arrayContaining([expect.stringContaining('held a published "verified" record for this job')]));
    expect(failures).toBeGreaterThan(0);
    expect(pipeline.alarms.filter((a) => a.detail.jobName === jobName)).toHaveLength(1);
  });

  it('sends nothing to the alarm topic for a verified transcript', async () => {
    const key = 'public/clean.wav';
    await pipeline.upload(key, makeWav(1));
    await pipeline.settle();
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith(`/${key}`));
    expect(pipeline.outcomes.filter((o) => o.detail.jobName === job?.name).map((o) => o.detailType)).toEqual(['Transcript Encryption Verified']);
    expect(pipeline.alarms.filter((a) => a.detail.jobName === job?.name)).toEqual([]);
  });
});
