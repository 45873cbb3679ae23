import { describe, expect, it } from 'vitest';
import { expectedEncryptionFromTags, expectedEncryptionTags } from '../../../shared/config/expectedEncryption';
import { verifyTranscriptEncryption } from '../../../shared/verify/encryptionVerdict';
import { keyArn } from '../../support/fixtures';

const ARN = keyArn('1234abcd-12ab-34cd-56ef-1234567890ab');
const OTHER = keyArn('0987dcba-09fe-87dc-65ba-ab0987654321');
const kms = { serverSideEncryption: 'aws:kms', kmsKeyArn: ARN } as const;
const uri = 's3://out/t/job.json';

describe('verifyTranscriptEncryption', () => {
  it('verifies aws:kms under exactly the expected key ARN', () => {
    expect(verifyTranscriptEncryption(kms, [{ uri, serverSideEncryption: 'aws:kms', kmsKeyArn: ARN }])).toEqual({ verdict: 'verified' });
  });

  it('accepts dual-layer aws:kms:dsse under the expected key', () => {
    expect(verifyTranscriptEncryption(kms, [{ uri, serverSideEncryption: 'aws:kms:dsse', kmsKeyArn: ARN }]).verdict).toBe('verified');
  });

  it('reports the wrong key', () => {
    expect(verifyTranscriptEncryption(kms, [{ uri, serverSideEncryption: 'aws:kms', kmsKeyArn: OTHER }])).toEqual({
      verdict: 'mismatch',
      problems: [`${uri} is encrypted under ${OTHER}, expected ${ARN}`],
    });
  });

  it('does not accept an alias where the key ARN is expected', () => {
    expect(verifyTranscriptEncryption(kms, [{ uri, serverSideEncryption: 'aws:kms', kmsKeyArn: 'alias/legal' }]).verdict).toBe('mismatch');
  });

  it('reports SSE-S3 where a key was asked for', () => {
    expect(verifyTranscriptEncryption(kms, [{ uri, serverSideEncryption: 'AES256' }])).toEqual({
      verdict: 'mismatch',
      problems: [`${uri} is encrypted with AES256, expected aws:kms under ${ARN}`],
    });
  });

  it('reports a KMS key where SSE-S3 was asked for', () => {
    const verdict = verifyTranscriptEncryption({ serverSideEncryption: 'AES256' }, [{ uri, serverSideEncryption: 'aws:kms', kmsKeyArn: ARN }]);
    expect(verdict).toEqual({ verdict: 'mismatch', problems: [`${uri} is encrypted with aws:kms under ${ARN}, expected SSE-S3 (AES256)`] });
  });

  it('reports no encryption at all', () => {
    expect(verifyTranscriptEncryption({ serverSideEncryption: 'AES256' }, [{ uri }])).toEqual({
      verdict: 'mismatch',
      problems: [`${uri} is not encrypted, expected SSE-S3 (AES256)`],
    });
  });

  it('reports a missing object and checks every output', () => {
    const verdict = verifyTranscriptEncryption(kms, [
      { uri, serverSideEncryption: 'aws:kms', kmsKeyArn: ARN },
      { uri: 's3://out/t/job.vtt', missing: true },
    ]);
    expect(verdict).toEqual({ verdict: 'mismatch', problems: ['s3://out/t/job.vtt does not exist'] });
  });

  it('never verifies an empty list', () => {
    expect(verifyTranscriptEncryption(kms, []).verdict).toBe('mismatch');
  });
});

describe('expected encryption tags', () => {
  it('round-trips both kinds', () => {
    expect(expectedEncryptionFromTags(expectedEncryptionTags(kms))).toEqual(kms);
    expect(expectedEncryptionFromTags(expectedEncryptionTags({ serverSideEncryption: 'AES256' }))).toEqual({ serverSideEncryption: 'AES256' });
  });

  it('refuses tags that do not describe an expectation', () => {
    expect(expectedEncryptionFromTags({})).toBeUndefined();
    expect(expectedEncryptionFromTags({ 'tkp:expected-sse': 'aws:kms' })).toBeUndefined();
    expect(expectedEncryptionFromTags({ 'tkp:expected-sse': 'aws:kms', 'tkp:expected-kms-key-arn': 'alias/x' })).toBeUndefined();
  });
});
