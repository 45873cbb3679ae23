/**
 * Reads an output bucket's default encryption, so a rule that names no key is judged by what S3
 * actually applies there (SSE-S3, or the bucket's KMS key), not by an assumption. Cached with
 * the same TTL as key resolution; a key named by alias or ID in the bucket default is resolved
 * to its ARN, because S3 reports the ARN on every object.
 */
import type { KeyMetadata } from '@aws-sdk/client-kms';
import type { ServerSideEncryptionConfiguration } from '@aws-sdk/client-s3';
import { BucketEncryptionUnknownError, describeError } from '../aws/errors';
import type { BucketDefaultEncryption } from '../config/expectedEncryption';

/** The key S3 uses for `aws:kms` with no key named: the account's AWS managed key for S3. */
export const AWS_MANAGED_S3_KEY = 'alias/aws/s3';

/** The default that applies, from GetBucketEncryption's answer (undefined: no configuration, so SSE-S3). */
export function bucketDefaultOf(configuration: ServerSideEncryptionConfiguration | undefined): { serverSideEncryption: BucketDefaultEncryption['serverSideEncryption']; keyId?: string } {
  const rule = configuration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
  if (!rule || rule.SSEAlgorithm === 'AES256') return { serverSideEncryption: 'AES256' };
  const algorithm = rule.SSEAlgorithm === 'aws:kms:dsse' ? 'aws:kms:dsse' : 'aws:kms';
  return { serverSideEncryption: algorithm, keyId: rule.KMSMasterKeyID || AWS_MANAGED_S3_KEY };
}

export function createBucketDefaultReader(
  getEncryption: (bucket: string) => Promise<ServerSideEncryptionConfiguration | undefined>,
  describeKey: (keyId: string) => Promise<KeyMetadata | undefined>,
  options: { ttlMs: number; now?: () => number },
) {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<BucketDefaultEncryption> }>();
  async function read(bucket: string): Promise<BucketDefaultEncryption> {
    const found = bucketDefaultOf(await getEncryption(bucket));
    if (found.serverSideEncryption === 'AES256' || found.keyId === undefined) return { serverSideEncryption: 'AES256' };
    let metadata: KeyMetadata | undefined;
    try {
      metadata = await describeKey(found.keyId);
    } catch (error) {
      throw new BucketEncryptionUnknownError(
        `s3://${bucket} encrypts by default with KMS key ${found.keyId}, which DescribeKey cannot resolve (${describeError(error)}); ` +
          `allow kms:DescribeKey on it for the verify and sweep roles, in IAM and in the key policy`,
        { cause: error },
      );
    }
    if (!metadata?.Arn) throw new BucketEncryptionUnknownError(`s3://${bucket}'s default key ${found.keyId} has no ARN in DescribeKey's answer`);
    return { serverSideEncryption: found.serverSideEncryption, kmsKeyArn: metadata.Arn };
  }
  return function bucketDefaultEncryption(bucket: string): Promise<BucketDefaultEncryption> {
    const cached = cache.get(bucket);
    if (cached && now() - cached.at <= options.ttlMs) return cached.value;
    const value = read(bucket);
    cache.set(bucket, { at: now(), value });
    value.catch(() => cache.delete(bucket));
    return value;
  };
}
