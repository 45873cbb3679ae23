/**
 * What a rule demands of a transcript's encryption, and how that demand is recorded in a job's
 * tags. Start and verify share it, so the two sides cannot describe an expectation differently.
 */
import { TAG, type Tags } from '../aws/jobTags';
import { parseKeyArn } from '../aws/keyReference';
import { createHash } from 'node:crypto';
import type { ResolvedKey } from './keyResolution';
import type { JobSettings, Rule } from './rule';

/**
 * `source` says where a demand came from: the rule's own key, or (for a rule that names no key)
 * the output bucket's default encryption, which S3 applies when the writer sends no header.
 */
export type ExpectedEncryption =
  | { serverSideEncryption: 'aws:kms'; kmsKeyArn: string; source?: ExpectationSource }
  | { serverSideEncryption: 'AES256'; source?: ExpectationSource };

export type ExpectationSource = 'rule' | 'bucket-default';

/** A bucket's default encryption as GetBucketEncryption reports it, with any key resolved to its ARN. */
export type BucketDefaultEncryption = { serverSideEncryption: 'AES256' } | { serverSideEncryption: 'aws:kms' | 'aws:kms:dsse'; kmsKeyArn: string };

/**
 * What a rule that names no key must find on its transcripts: the bucket's default. Transcribe
 * sends no key then, and S3 applies the default, so in a bucket whose default is SSE-KMS the
 * transcript is under the bucket's key, and that is correct, not a mismatch.
 */
export function bucketDefaultExpectation(bucketDefault: BucketDefaultEncryption): ExpectedEncryption {
  return bucketDefault.serverSideEncryption === 'AES256'
    ? { serverSideEncryption: 'AES256', source: 'bucket-default' }
    : { serverSideEncryption: 'aws:kms', kmsKeyArn: bucketDefault.kmsKeyArn, source: 'bucket-default' };
}

type FingerprintedRule = Pick<Rule, 'prefix' | 'kmsKey' | 'encryptionContext' | 'output'> & { job?: JobSettings };

/** What a job type adds to the outputs a rule demands: the type, and for Call Analytics its redaction. */
function jobTypeDemand(job: JobSettings): unknown[] {
  return job.jobType === 'callAnalytics' ? [job.jobType, job.redaction?.output ?? null, job.redaction?.audio ?? false] : [job.jobType];
}

/**
 * A short digest of what a rule says about encryption and output. The start function tags each
 * job with it, so the verifier can tell a config deploy since the job started (the fingerprint
 * differs) from tags rewritten under an unchanged rule. Language settings are left out: they do
 * not change what the transcript must be encrypted with.
 */
export function ruleFingerprint(rule: FingerprintedRule): string {
  const context = rule.encryptionContext ? Object.entries(rule.encryptionContext).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : null;
  const fields: unknown[] = [rule.prefix, rule.kmsKey?.value ?? null, context, rule.output.bucket ?? null, rule.output.prefix];
  // Another job type writes other objects (a redacted audio file), so it is part of the rule's
  // demand; a transcription rule's fingerprint stays what it was before job types existed.
  if (rule.job && rule.job.jobType !== 'transcription') fields.push(jobTypeDemand(rule.job));
  const canonical = JSON.stringify(fields);
  return createHash('sha256').update(canonical, 'utf8').digest('hex').slice(0, 32);
}

/**
 * A digest of everything the config says about encryption and output, rule by rule. The
 * verifier records, in its guarded ledger, when it first judged under each config fingerprint:
 * that moment bounds which jobs can have been started under an earlier config.
 */
export function configFingerprint(rules: readonly FingerprintedRule[]): string {
  const rulePrints = rules.map(ruleFingerprint).sort();
  return createHash('sha256').update(rulePrints.join('\n'), 'utf8').digest('hex').slice(0, 32);
}

/** What the start function asks for and records: the resolved key, or no key (recorded as AES256). */
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
 * an expectation this service wrote: none at all (see recordOfTags), or one that was altered.
 */
export function expectedEncryptionFromTags(tags: Tags): ExpectedEncryption | undefined {
  const sse = tags[TAG.expectedSse];
  if (sse === 'AES256') return { serverSideEncryption: 'AES256' };
  if (sse !== 'aws:kms') return undefined;
  const kmsKeyArn = tags[TAG.expectedKeyArn];
  return kmsKeyArn && parseKeyArn(kmsKeyArn) ? { serverSideEncryption: 'aws:kms', kmsKeyArn } : undefined;
}

/**
 * What the tags hold of the start function's record: the expectation, `absent` when the job
 * carries none of its tags (all removed, or a Transcribe stand-in that keeps no tags), or
 * `unreadable` when some remain but no valid expectation (altered).
 */
export function recordOfTags(tags: Tags): ExpectedEncryption | 'absent' | 'unreadable' {
  const recorded = expectedEncryptionFromTags(tags);
  if (recorded) return recorded;
  return Object.values(TAG).some((key) => key in tags) ? 'unreadable' : 'absent';
}
