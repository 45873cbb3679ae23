import { DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verdictKey } from '../../shared/verify/verdictLedger';
import { makeWav } from '../local/emulator/mediaProbe';
import { MOTO_DEFAULT_ACCOUNT } from '../local/emulator/moto';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { kmsClientFor } from '../local/runtime/provision';
import { motoAvailable } from '../support/moto';

/**
 * A transcript bucket whose default encryption is SSE-KMS (an existing bucket, say): a rule that
 * names no key gets its transcripts under the bucket's key, which is correct, and the ledger's
 * writes succeed under that default.
 */
describe.runIf(motoAvailable('bucket default tests'))('a transcript bucket with an SSE-KMS default', () => {
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipeline = await LocalPipeline.start({ timeScale: 50, transcriptBucketDefault: 'aws:kms' });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('verifies a no-key rule’s transcript under the bucket default key, saying so, and writes the ledger', async () => {
    const key = 'public/bucket-default.wav';
    await pipeline.upload(key, makeWav(1));
    await pipeline.settle();
    const [outcome] = pipeline.outcomes.filter((o) => o.detail.source?.key === key);
    const bucketKey = pipeline.stack.transcriptBucketKeyArn as string;
    expect(outcome?.detailType).toBe('Transcript Encryption Verified');
    expect(outcome?.detail.expected).toEqual({ serverSideEncryption: 'aws:kms', kmsKeyArn: bucketKey, source: 'bucket-default' });
    const transcript = outcome?.detail.transcriptUri.replace(`s3://${pipeline.stack.names.transcriptBucket}/`, '');
    const head = await pipeline.s3.send(new HeadObjectCommand({ Bucket: pipeline.stack.names.transcriptBucket, Key: transcript }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    const ledger = await pipeline.s3.send(new GetObjectCommand({ Bucket: pipeline.stack.names.transcriptBucket, Key: verdictKey(outcome?.detail.jobName) }));
    expect(ledger.ServerSideEncryption).toBe('aws:kms');
    expect(JSON.parse(await ledger.Body!.transformToString()).state).toBe('published');
  });

  it('still verifies a key rule’s transcript under the rule’s own key', async () => {
    const key = 'calls/bucket-default.wav';
    await pipeline.upload(key, makeWav(1));
    await pipeline.settle();
    const [outcome] = pipeline.outcomes.filter((o) => o.detail.source?.key === key);
    expect(outcome?.detailType).toBe('Transcript Encryption Verified');
    expect(outcome?.detail.expected.source).toBe('rule');
  });

  it('fails a no-key rule’s job when the bucket default key is disabled, naming the key, and pages', async () => {
    const bucketKey = pipeline.stack.transcriptBucketKeyArn as string;
    const kms = kmsClientFor(pipeline.moto.endpoint, 'us-east-1', MOTO_DEFAULT_ACCOUNT);
    const keyId = bucketKey.split('/').pop();
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    try {
      const key = 'public/bucket-default (key disabled).wav';
      await pipeline.upload(key, makeWav(1));
      await pipeline.settle();
      const outcomes = pipeline.outcomes.filter((o) => o.detail.source?.key === key);
      expect(outcomes.map((o) => o.detailType)).toEqual(['Transcription Failed']);
      expect(outcomes[0]?.detail.failureReason).toBe(
        `Amazon Transcribe can't write to s3://${pipeline.stack.names.transcriptBucket}: the bucket encrypts new objects by default with the KMS key ${bucketKey}, which is Disabled. Enable the key, or change the bucket's default encryption, and try your request again.`,
      );
      expect(pipeline.alarms.some((a) => a.detail.source?.key === key)).toBe(true);
    } finally {
      await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    }
  });
});
