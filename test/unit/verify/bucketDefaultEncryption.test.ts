import { describe, expect, it, vi } from 'vitest';
import { AWS_MANAGED_S3_KEY, bucketDefaultOf, createBucketDefaultReader } from '../../../shared/verify/bucketDefaultEncryption';

const ARN = 'arn:aws:kms:us-east-1:123456789012:key/5555aaaa-12ab-34cd-56ef-1234567890ab';
const kmsDefault = (KMSMasterKeyID?: string) => ({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' as const, ...(KMSMasterKeyID && { KMSMasterKeyID }) } }] });

describe('bucket default encryption', () => {
  it('reads SSE-S3, no configuration at all (SSE-S3 since 2023), and SSE-KMS with or without a named key', () => {
    expect(bucketDefaultOf({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] })).toEqual({ serverSideEncryption: 'AES256' });
    expect(bucketDefaultOf(undefined)).toEqual({ serverSideEncryption: 'AES256' });
    expect(bucketDefaultOf(kmsDefault('alias/transcripts'))).toEqual({ serverSideEncryption: 'aws:kms', keyId: 'alias/transcripts' });
    expect(bucketDefaultOf(kmsDefault())).toEqual({ serverSideEncryption: 'aws:kms', keyId: AWS_MANAGED_S3_KEY });
  });

  it('resolves the default key to its ARN, as S3 reports it, and caches per bucket for the TTL', async () => {
    let now = 0;
    const getEncryption = vi.fn(async () => kmsDefault('alias/transcripts'));
    const describeKey = vi.fn(async (_keyId: string) => ({ KeyId: 'k', Arn: ARN }));
    const read = createBucketDefaultReader(getEncryption, describeKey, { ttlMs: 1000, now: () => now });
    await expect(read('b')).resolves.toEqual({ serverSideEncryption: 'aws:kms', kmsKeyArn: ARN });
    await read('b');
    expect(getEncryption).toHaveBeenCalledTimes(1);
    now = 2000;
    await read('b');
    expect(getEncryption).toHaveBeenCalledTimes(2);
    expect(describeKey).toHaveBeenCalledWith('alias/transcripts');
  });

  it('names the grant to add when the default key cannot be described, and does not cache the failure', async () => {
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    const describeKey = vi.fn().mockRejectedValueOnce(denied).mockResolvedValue({ KeyId: 'k', Arn: ARN });
    const read = createBucketDefaultReader(async () => kmsDefault('alias/transcripts'), describeKey, { ttlMs: 60_000 });
    await expect(read('out')).rejects.toMatchObject({
      name: 'BucketEncryptionUnknownError',
      message: expect.stringContaining('s3://out encrypts by default with KMS key alias/transcripts, which DescribeKey cannot resolve'),
    });
    await expect(read('out')).resolves.toEqual({ serverSideEncryption: 'aws:kms', kmsKeyArn: ARN });
  });
});
