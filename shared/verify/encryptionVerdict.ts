import type { ExpectedEncryption } from '../config/expectedEncryption';

export type { ExpectedEncryption };

/** What HeadObject reported for one output object; `missing` when there is no such object. */
export interface ObservedObject {
  uri: string;
  missing?: true;
  serverSideEncryption?: string;
  kmsKeyArn?: string;
  bucketKeyEnabled?: boolean;
}

export type EncryptionVerdict = { verdict: 'verified' } | { verdict: 'mismatch'; problems: string[] };

/**
 * Compares every output object with what was asked. Key ARNs are compared exactly: S3 always
 * reports the key ARN, and the start function resolved the configured alias or ID to that ARN
 * before the job ran, so an alias that was re-pointed in between shows up as a mismatch.
 */
export function verifyTranscriptEncryption(expected: ExpectedEncryption, observed: readonly ObservedObject[]): EncryptionVerdict {
  const problems: string[] = [];
  if (observed.length === 0) problems.push('the job reported no output objects');
  for (const object of observed) {
    if (object.missing) {
      problems.push(`${object.uri} does not exist`);
      continue;
    }
    const actual = object.serverSideEncryption;
    if (expected.serverSideEncryption === 'AES256') {
      if (actual !== 'AES256') {
        problems.push(
          `${object.uri} is ${actual === undefined ? 'not encrypted' : `encrypted with ${actual}${object.kmsKeyArn ? ` under ${object.kmsKeyArn}` : ''}`}` +
            `, expected SSE-S3 (AES256)`,
        );
      }
      continue;
    }
    if (actual !== 'aws:kms' && actual !== 'aws:kms:dsse') {
      problems.push(
        `${object.uri} is ${actual === undefined ? 'not encrypted' : `encrypted with ${actual}`}, expected aws:kms under ${expected.kmsKeyArn}`,
      );
    } else if (object.kmsKeyArn !== expected.kmsKeyArn) {
      problems.push(`${object.uri} is encrypted under ${object.kmsKeyArn ?? 'no reported key'}, expected ${expected.kmsKeyArn}`);
    }
  }
  return problems.length === 0 ? { verdict: 'verified' } : { verdict: 'mismatch', problems };
}
