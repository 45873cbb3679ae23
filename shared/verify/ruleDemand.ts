/**
 * What the deployed config demands of the transcripts of one rule. The verifier, `tkp audit` and
 * `tkp explain` all ask this one function, so the three cannot describe a rule's demand
 * differently.
 */
import { bucketDefaultExpectation, type BucketDefaultEncryption, type ExpectedEncryption } from '../config/expectedEncryption';
import type { KeyResolver } from '../config/keyResolution';
import type { Rule } from '../config/rule';
import type { S3Location } from '../aws/s3Location';

export interface DemandSources {
  transcriptBucket: string;
  resolveKey: KeyResolver;
  /** The bucket's default encryption, any key resolved to its ARN. */
  bucketDefaultEncryption(bucket: string): Promise<BucketDefaultEncryption>;
}

/**
 * A rule with a key demands exactly that key's ARN, resolved now (an alias is followed to the
 * key it names today). A rule without a key demands what S3 applies when the writer sends no
 * encryption header: the output bucket's default, SSE-S3 or the bucket's KMS key.
 */
export async function demandForRule(sources: DemandSources, rule: Rule): Promise<{ expected: ExpectedEncryption; output: S3Location }> {
  const outputBucket = rule.output.bucket ?? sources.transcriptBucket;
  const expected: ExpectedEncryption = rule.kmsKey
    ? { serverSideEncryption: 'aws:kms', kmsKeyArn: (await sources.resolveKey({ ...rule, kmsKey: rule.kmsKey })).arn, source: 'rule' }
    : bucketDefaultExpectation(await sources.bucketDefaultEncryption(outputBucket));
  return { expected, output: { bucket: outputBucket, key: rule.output.prefix } };
}
