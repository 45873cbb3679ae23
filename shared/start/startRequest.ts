import type { MediaFormat, StartTranscriptionJobCommandInput } from '@aws-sdk/client-transcribe';
import { expectedEncryptionFor, expectedEncryptionTags, ruleFingerprint } from '../config/expectedEncryption';
import { encodeTagValueOrDigest, recordToTags, TAG, type Tags } from '../aws/jobTags';
import type { ResolvedKey } from '../config/keyResolution';
import type { Rule } from '../config/rule';
import { objectVersion, s3Uri } from '../aws/s3Location';
import type { S3ObjectRef } from './s3Notification';

export interface StartRequestInput {
  object: S3ObjectRef;
  rule: Rule;
  mediaFormat: MediaFormat;
  jobName: string;
  /** The rule's key, already resolved to its ARN; undefined for SSE-S3. */
  key?: ResolvedKey;
  /** The rule's output bucket, with the stack's transcript bucket filled in. */
  outputBucket: string;
  /** Set to let Transcribe queue jobs over the concurrency quota instead of refusing them. */
  dataAccessRoleArn?: string;
}

/**
 * The whole StartTranscriptionJob request for one object. The key is sent as the resolved key
 * ARN rather than the configured alias, so the job is pinned to exactly the key the verifier
 * will expect; the encryption context is only sent with a key, because Transcribe rejects it
 * for SSE-S3. The transcript goes to `<output prefix><job name>.json` in a bucket we own, never
 * to Transcribe's service bucket.
 */
export function buildStartRequest(input: StartRequestInput): StartTranscriptionJobCommandInput {
  const { object, rule, key } = input;
  const tags: Tags = {
    ...expectedEncryptionTags(expectedEncryptionFor(key)),
    [TAG.rulePrefix]: encodeTagValueOrDigest(rule.prefix),
    [TAG.ruleFingerprint]: ruleFingerprint(rule),
    [TAG.sourceBucket]: object.bucket,
    [TAG.sourceKey]: encodeTagValueOrDigest(object.key),
    [TAG.sourceVersion]: encodeTagValueOrDigest(objectVersion(object)),
  };
  return {
    TranscriptionJobName: input.jobName,
    Media: { MediaFileUri: s3Uri(object) },
    MediaFormat: input.mediaFormat,
    ...('languageCode' in rule.language
      ? { LanguageCode: rule.language.languageCode as StartTranscriptionJobCommandInput['LanguageCode'] }
      : {
          IdentifyLanguage: true,
          ...(rule.language.languageOptions && {
            LanguageOptions: rule.language.languageOptions as StartTranscriptionJobCommandInput['LanguageOptions'],
          }),
        }),
    OutputBucketName: input.outputBucket,
    OutputKey: `${rule.output.prefix}${input.jobName}.json`,
    ...(key && {
      OutputEncryptionKMSKeyId: key.arn,
      ...(rule.encryptionContext && { KMSEncryptionContext: rule.encryptionContext }),
    }),
    ...(input.dataAccessRoleArn && {
      JobExecutionSettings: { AllowDeferredExecution: true, DataAccessRoleArn: input.dataAccessRoleArn },
    }),
    Tags: recordToTags(tags),
  };
}
