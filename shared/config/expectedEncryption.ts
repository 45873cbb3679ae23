/**
 * What a rule demands of a transcript's encryption, and how that demand is recorded in a job's
 * tags. Start and verify share it, so the two sides cannot describe an expectation differently.
 */
import { TAG, type Tags } from '../aws/jobTags';
import { parseKeyArn } from '../aws/keyReference';
import type { ResolvedKey } from './keyResolution';

export type ExpectedEncryption = { serverSideEncryption: 'aws:kms'; kmsKeyArn: string } | { serverSideEncryption: 'AES256' };

export function expectedEncryptionFor(key: ResolvedKey | undefined): ExpectedEncryption {
  return key ? { serverSideEncryption: 'aws:kms', kmsKeyArn: key.arn } : { serverSideEncryption: 'AES256' };
}

export function expectedEncryptionTags(expected: ExpectedEncryption): Tags {
  return expected.serverSideEncryption === 'aws:kms'
    ? { [TAG.expectedSse]: 'aws:kms', [TAG.expectedKeyArn]: expected.kmsKeyArn }
    : { [TAG.expectedSse]: 'AES256' };
}

/**
 * Reads back what the start function recorded. Returns undefined when the tags do not describe
 * an expectation this service wrote, so a job this service did not start is never judged.
 */
export function expectedEncryptionFromTags(tags: Tags): ExpectedEncryption | undefined {
  const sse = tags[TAG.expectedSse];
  if (sse === 'AES256') return { serverSideEncryption: 'AES256' };
  if (sse !== 'aws:kms') return undefined;
  const kmsKeyArn = tags[TAG.expectedKeyArn];
  return kmsKeyArn && parseKeyArn(kmsKeyArn) ? { serverSideEncryption: 'aws:kms', kmsKeyArn } : undefined;
}
