import { StartTranscriptionJobRequest$ } from '@aws-sdk/client-transcribe';
import {
  DATA_ACCESS_ROLE_ARN_PATTERN,
  ENCRYPTION_CONTEXT_MAX_PAIRS,
  ENCRYPTION_CONTEXT_STRING_MAX_LENGTH,
  JOB_NAME_MAX_LENGTH,
  JOB_NAME_PATTERN,
  KMS_KEY_ID_PATTERN,
  MEDIA_URI_MAX_LENGTH,
  MEDIA_URI_PATTERN,
  NON_BLANK,
  OUTPUT_BUCKET_PATTERN,
  OUTPUT_KEY_MAX_LENGTH,
  OUTPUT_KEY_PATTERN,
  TAG_KEY_MAX_LENGTH,
  TAG_MAX_COUNT,
  TAG_VALUE_MAX_LENGTH,
  LANGUAGE_CODES,
  MEDIA_FORMATS,
} from '../../../shared/aws/transcribeModel';

/** An error answer of the Transcribe API: its code, message and HTTP status. */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const MEMBERS = StartTranscriptionJobRequest$[4] as string[];
const REQUIRED = MEMBERS.slice(0, StartTranscriptionJobRequest$[6] as number);

function constraint(value: string, field: string, rule: string): ServiceError {
  return new ServiceError('BadRequestException', `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${rule}`);
}

/**
 * Checks a StartTranscriptionJob request the way the service does. Member names, required
 * members and enums come from the model the SDK ships; patterns and limits from the published
 * model (shared/transcribeModel.ts, checked against botocore by the unit tests).
 */
export function validateStartRequest(input: Record<string, any>): void {
  for (const member of Object.keys(input)) {
    if (!MEMBERS.includes(member)) throw new ServiceError('BadRequestException', `Unknown parameter ${member} in the request.`);
  }
  for (const member of REQUIRED) {
    if (input[member] === undefined) throw new ServiceError('BadRequestException', `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }
  const name = String(input.TranscriptionJobName);
  if (name.length < 1 || name.length > JOB_NAME_MAX_LENGTH) throw constraint(name, 'transcriptionJobName', `Member must have length less than or equal to ${JOB_NAME_MAX_LENGTH}`);
  if (!JOB_NAME_PATTERN.test(name)) throw constraint(name, 'transcriptionJobName', 'Member must satisfy regular expression pattern: ^[0-9a-zA-Z._-]+');
  const uri = input.Media?.MediaFileUri;
  if (typeof uri !== 'string') throw new ServiceError('BadRequestException', 'The Media parameter must include a MediaFileUri.');
  if (uri.length > MEDIA_URI_MAX_LENGTH || !MEDIA_URI_PATTERN.test(uri)) throw constraint(uri, 'media.mediaFileUri', 'Member must satisfy regular expression pattern: (s3://|http(s*)://).+');
  if (input.MediaFormat !== undefined && !MEDIA_FORMATS.includes(input.MediaFormat)) {
    throw constraint(String(input.MediaFormat), 'mediaFormat', `Member must satisfy enum value set: [${MEDIA_FORMATS.join(', ')}]`);
  }
  const languageOptions = [input.LanguageCode !== undefined, input.IdentifyLanguage === true, input.IdentifyMultipleLanguages === true].filter(Boolean).length;
  if (languageOptions !== 1) {
    throw new ServiceError(
      'BadRequestException',
      'You must include exactly one of these parameters: LanguageCode, IdentifyLanguage, or IdentifyMultipleLanguages. Check your request and try again.',
    );
  }
  if (input.LanguageCode !== undefined && !LANGUAGE_CODES.has(input.LanguageCode)) throw constraint(String(input.LanguageCode), 'languageCode', 'Member must satisfy enum value set');
  for (const option of input.LanguageOptions ?? []) {
    if (!LANGUAGE_CODES.has(option)) throw constraint(String(option), 'languageOptions', 'Member must satisfy enum value set');
  }
  if (input.LanguageOptions !== undefined && input.LanguageCode !== undefined) {
    throw new ServiceError('BadRequestException', 'LanguageOptions can only be used with IdentifyLanguage or IdentifyMultipleLanguages.');
  }
  if (input.OutputBucketName !== undefined && !OUTPUT_BUCKET_PATTERN.test(input.OutputBucketName)) {
    throw constraint(input.OutputBucketName, 'outputBucketName', 'Member must satisfy regular expression pattern: [a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9]');
  }
  if (input.OutputKey !== undefined) {
    if (input.OutputBucketName === undefined) throw new ServiceError('BadRequestException', 'You must specify an OutputBucketName when you specify an OutputKey.');
    if (input.OutputKey.length > OUTPUT_KEY_MAX_LENGTH || !OUTPUT_KEY_PATTERN.test(input.OutputKey)) {
      throw constraint(input.OutputKey, 'outputKey', "Member must satisfy regular expression pattern: [a-zA-Z0-9-_.!*'()/]{1,1024}$");
    }
  }
  if (input.OutputEncryptionKMSKeyId !== undefined) {
    if (!KMS_KEY_ID_PATTERN.test(input.OutputEncryptionKMSKeyId)) {
      throw constraint(input.OutputEncryptionKMSKeyId, 'outputEncryptionKMSKeyId', 'Member must satisfy regular expression pattern: ^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2048}$');
    }
    if (input.OutputBucketName === undefined) {
      throw new ServiceError('BadRequestException', 'You must specify an OutputBucketName when you specify an OutputEncryptionKMSKeyId.');
    }
  }
  if (input.KMSEncryptionContext !== undefined) {
    if (input.OutputEncryptionKMSKeyId === undefined) {
      throw new ServiceError('BadRequestException', 'You can only specify a KMSEncryptionContext when you also specify an OutputEncryptionKMSKeyId.');
    }
    const pairs = Object.entries(input.KMSEncryptionContext as Record<string, unknown>);
    if (pairs.length < 1 || pairs.length > ENCRYPTION_CONTEXT_MAX_PAIRS) {
      throw constraint(`${pairs.length} pairs`, 'kMSEncryptionContext', `Member must have length between 1 and ${ENCRYPTION_CONTEXT_MAX_PAIRS}`);
    }
    for (const [key, value] of pairs) {
      for (const part of [key, value]) {
        if (typeof part !== 'string' || !NON_BLANK.test(part) || part.length > ENCRYPTION_CONTEXT_STRING_MAX_LENGTH) {
          throw constraint(String(part), 'kMSEncryptionContext', 'Member must satisfy regular expression pattern: .*\\S.*');
        }
      }
    }
  }
  const tags = (input.Tags ?? []) as { Key?: string; Value?: string }[];
  if (tags.length > TAG_MAX_COUNT) throw constraint(`${tags.length} tags`, 'tags', `Member must have length less than or equal to ${TAG_MAX_COUNT}`);
  for (const tag of tags) {
    if (!tag.Key || tag.Key.length > TAG_KEY_MAX_LENGTH) throw constraint(String(tag.Key), 'tags.member.key', `Member must have length between 1 and ${TAG_KEY_MAX_LENGTH}`);
    if (tag.Value === undefined || tag.Value.length > TAG_VALUE_MAX_LENGTH) {
      throw constraint(String(tag.Value), 'tags.member.value', `Member must have length less than or equal to ${TAG_VALUE_MAX_LENGTH}`);
    }
  }
  const execution = input.JobExecutionSettings;
  if (execution?.AllowDeferredExecution && !execution.DataAccessRoleArn) {
    throw new ServiceError('BadRequestException', 'You must specify a DataAccessRoleArn when AllowDeferredExecution is true.');
  }
  if (execution?.DataAccessRoleArn !== undefined && !DATA_ACCESS_ROLE_ARN_PATTERN.test(execution.DataAccessRoleArn)) {
    throw constraint(execution.DataAccessRoleArn, 'jobExecutionSettings.dataAccessRoleArn', 'Member must satisfy regular expression pattern');
  }
  const rate = input.MediaSampleRateHertz;
  if (rate !== undefined && (rate < 8000 || rate > 48000)) throw constraint(String(rate), 'mediaSampleRateHertz', 'Member must have value between 8000 and 48000');
}
