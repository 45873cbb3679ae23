import type {
  LanguageCode,
  MediaFormat,
  PiiEntityType,
  StartCallAnalyticsJobCommandInput,
  StartMedicalTranscriptionJobCommandInput,
  StartTranscriptionJobCommandInput,
} from '@aws-sdk/client-transcribe';
import { expectedEncryptionFor, expectedEncryptionTags, ruleFingerprint } from '../config/expectedEncryption';
import { encodeTagValueOrDigest, recordToTags, TAG, type Tags } from '../aws/jobTags';
import type { ResolvedKey } from '../config/keyResolution';
import type { JobSettings, Rule } from '../config/rule';
import { MEDICAL_LANGUAGE } from '../aws/transcribeModel';
import { objectVersion, s3Uri } from '../aws/s3Location';
import type { S3ObjectRef } from './s3Notification';

export interface StartRequestInput {
  object: S3ObjectRef;
  rule: Rule;
  /** Undefined for a name without an extension: Transcribe determines the format. */
  mediaFormat?: MediaFormat;
  jobName: string;
  /** The rule's key, already resolved to its ARN; undefined for SSE-S3. */
  key?: ResolvedKey;
  /** The rule's output bucket, with the stack's transcript bucket filled in. */
  outputBucket: string;
  /** Transcribe's data access role: sent with deferred transcription jobs and with Call Analytics jobs. */
  dataAccessRoleArn?: string;
  /** Lets Transcribe queue transcription jobs over the concurrency quota instead of refusing them. */
  deferredExecution?: boolean;
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
    ...(input.deferredExecution && input.dataAccessRoleArn && {
      JobExecutionSettings: { AllowDeferredExecution: true, DataAccessRoleArn: input.dataAccessRoleArn },
    }),
    Tags: recordToTags(jobTags(input)),
  };
}

/** The Start request of one job type, with the type beside it so the adapter picks the operation. */
export type JobRequest =
  | { jobType: 'transcription'; input: StartTranscriptionJobCommandInput }
  | { jobType: 'callAnalytics'; input: StartCallAnalyticsJobCommandInput }
  | { jobType: 'medical'; input: StartMedicalTranscriptionJobCommandInput };

/** The request the rule's job type calls for; every type gets the same key ARN and the same tags. */
export function buildJobRequest(input: StartRequestInput): JobRequest {
  const job: JobSettings = input.rule.job;
  switch (job.jobType) {
    case 'callAnalytics':
      return { jobType: 'callAnalytics', input: buildCallAnalyticsRequest(input, job) };
    case 'medical':
      return { jobType: 'medical', input: buildMedicalRequest(input, job) };
    default:
      return { jobType: 'transcription', input: buildStartRequest(input) };
  }
}

/** What the job was asked, recorded in its tags (shared/aws/jobTags.ts says why). */
function jobTags({ object, rule, key }: StartRequestInput): Tags {
  return {
    ...expectedEncryptionTags(expectedEncryptionFor(key)),
    [TAG.rulePrefix]: encodeTagValueOrDigest(rule.prefix),
    [TAG.ruleFingerprint]: ruleFingerprint(rule),
    [TAG.sourceBucket]: object.bucket,
    [TAG.sourceKey]: encodeTagValueOrDigest(object.key),
    [TAG.sourceVersion]: encodeTagValueOrDigest(objectVersion(object)),
  };
}

/**
 * StartCallAnalyticsJob: the output is a folder URI (the service names the files after the job),
 * there is no encryption context and no MediaFormat, the language goes in Settings, and the
 * channel definitions say which channel is the agent's. With audio redaction the media is also
 * named as RedactedMediaFileUri, the media the service is to redact. The data access role goes
 * with it: Transcribe queues Call Analytics jobs over quota by itself, and reads the media and
 * writes the outputs with that role.
 */
function buildCallAnalyticsRequest(input: StartRequestInput, job: Extract<JobSettings, { jobType: 'callAnalytics' }>): StartCallAnalyticsJobCommandInput {
  const { object, rule, key } = input;
  const mediaUri = s3Uri(object);
  const languages = 'languageCode' in rule.language ? [rule.language.languageCode] : (rule.language.languageOptions ?? []);
  return {
    CallAnalyticsJobName: input.jobName,
    Media: { MediaFileUri: mediaUri, ...(job.redaction?.audio && { RedactedMediaFileUri: mediaUri }) },
    OutputLocation: `s3://${input.outputBucket}/${rule.output.prefix}`,
    ...(key && { OutputEncryptionKMSKeyId: key.arn }),
    ...(input.dataAccessRoleArn && { DataAccessRoleArn: input.dataAccessRoleArn }),
    Settings: {
      ...(languages.length > 0 && { LanguageOptions: languages as LanguageCode[] }),
      ...(job.redaction && {
        ContentRedaction: {
          RedactionType: 'PII',
          RedactionOutput: job.redaction.output,
          ...(job.redaction.piiEntityTypes && { PiiEntityTypes: job.redaction.piiEntityTypes as PiiEntityType[] }),
        },
      }),
    },
    ChannelDefinitions: [
      { ChannelId: job.channels.agent, ParticipantRole: 'AGENT' },
      { ChannelId: job.channels.customer, ParticipantRole: 'CUSTOMER' },
    ],
    Tags: recordToTags(jobTags(input)),
  };
}

/** StartMedicalTranscriptionJob: like a transcription job's output and key, en-US, with specialty and type. */
function buildMedicalRequest(input: StartRequestInput, job: Extract<JobSettings, { jobType: 'medical' }>): StartMedicalTranscriptionJobCommandInput {
  const { object, rule, key } = input;
  return {
    MedicalTranscriptionJobName: input.jobName,
    LanguageCode: MEDICAL_LANGUAGE,
    Media: { MediaFileUri: s3Uri(object) },
    MediaFormat: input.mediaFormat,
    OutputBucketName: input.outputBucket,
    OutputKey: `${rule.output.prefix}${input.jobName}.json`,
    ...(key && {
      OutputEncryptionKMSKeyId: key.arn,
      ...(rule.encryptionContext && { KMSEncryptionContext: rule.encryptionContext }),
    }),
    Specialty: job.specialty as StartMedicalTranscriptionJobCommandInput['Specialty'],
    Type: job.type,
    Tags: recordToTags(jobTags(input)),
  };
}
