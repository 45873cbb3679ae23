import {
  ParticipantRole,
  PiiEntityType,
  RedactionOutput,
  Specialty,
  StartCallAnalyticsJobRequest$,
  StartMedicalTranscriptionJobRequest$,
  StartTranscriptionJobRequest$,
  Type,
} from '@aws-sdk/client-transcribe';
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

function constraint(value: string, field: string, rule: string): ServiceError {
  return new ServiceError('BadRequestException', `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${rule}`);
}

/** The SDK model's member list and required members of a request shape (its schema tuple). */
function modelMembers(schema: readonly unknown[]): { members: string[]; required: string[] } {
  const members = schema[4] as string[];
  return { members, required: members.slice(0, schema[6] as number) };
}

const SHAPES = {
  transcription: modelMembers(StartTranscriptionJobRequest$),
  callAnalytics: modelMembers(StartCallAnalyticsJobRequest$),
  medical: modelMembers(StartMedicalTranscriptionJobRequest$),
};

function checkMembers(input: Record<string, any>, shape: { members: string[]; required: string[] }): void {
  for (const member of Object.keys(input)) {
    if (!shape.members.includes(member)) throw new ServiceError('BadRequestException', `Unknown parameter ${member} in the request.`);
  }
  for (const member of shape.required) {
    if (input[member] === undefined) throw new ServiceError('BadRequestException', `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }
}

function checkJobName(value: unknown, field: string): void {
  const name = String(value);
  if (name.length < 1 || name.length > JOB_NAME_MAX_LENGTH) throw constraint(name, field, `Member must have length less than or equal to ${JOB_NAME_MAX_LENGTH}`);
  if (!JOB_NAME_PATTERN.test(name)) throw constraint(name, field, 'Member must satisfy regular expression pattern: ^[0-9a-zA-Z._-]+');
}

function checkUri(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length > MEDIA_URI_MAX_LENGTH || !MEDIA_URI_PATTERN.test(value)) {
    throw constraint(String(value), field, 'Member must satisfy regular expression pattern: (s3://|http(s*)://).+');
  }
}

function checkMedia(input: Record<string, any>): void {
  const uri = input.Media?.MediaFileUri;
  if (typeof uri !== 'string') throw new ServiceError('BadRequestException', 'The Media parameter must include a MediaFileUri.');
  checkUri(uri, 'media.mediaFileUri');
  if (input.MediaFormat !== undefined && !MEDIA_FORMATS.includes(input.MediaFormat)) {
    throw constraint(String(input.MediaFormat), 'mediaFormat', `Member must satisfy enum value set: [${MEDIA_FORMATS.join(', ')}]`);
  }
}

function checkEnum(value: unknown, field: string, values: readonly string[]): void {
  if (value !== undefined && !values.includes(String(value))) throw constraint(String(value), field, `Member must satisfy enum value set: [${values.join(', ')}]`);
}

/**
 * Checks a StartCallAnalyticsJob request the way the service does: the model's members, a job
 * name, the media, an OutputLocation URI, two channel definitions (channel 0 and 1, an agent
 * and a customer), the redaction settings' enums, the key and the tags. It takes no
 * KMSEncryptionContext, so that member is unknown here.
 */
export function validateStartCallAnalyticsRequest(input: Record<string, any>): void {
  checkMembers(input, SHAPES.callAnalytics);
  checkJobName(input.CallAnalyticsJobName, 'callAnalyticsJobName');
  checkMedia(input);
  if (input.Media?.RedactedMediaFileUri !== undefined) checkUri(input.Media.RedactedMediaFileUri, 'media.redactedMediaFileUri');
  if (input.OutputLocation !== undefined) checkUri(input.OutputLocation, 'outputLocation');
  if (input.DataAccessRoleArn !== undefined && !DATA_ACCESS_ROLE_ARN_PATTERN.test(input.DataAccessRoleArn)) {
    throw constraint(input.DataAccessRoleArn, 'dataAccessRoleArn', 'Member must satisfy regular expression pattern');
  }
  if (input.OutputEncryptionKMSKeyId !== undefined) {
    checkKmsKeyId(input.OutputEncryptionKMSKeyId);
    if (input.OutputLocation === undefined) throw new ServiceError('BadRequestException', 'You must specify an OutputLocation when you specify an OutputEncryptionKMSKeyId.');
  }
  const channels = (input.ChannelDefinitions ?? []) as { ChannelId?: number; ParticipantRole?: string }[];
  if (input.ChannelDefinitions !== undefined && channels.length !== 2) throw constraint(`${channels.length} definitions`, 'channelDefinitions', 'Member must have length 2');
  for (const [i, channel] of channels.entries()) {
    if (channel.ChannelId !== 0 && channel.ChannelId !== 1) throw constraint(String(channel.ChannelId), `channelDefinitions.${i + 1}.member.channelId`, 'Member must have value between 0 and 1');
    checkEnum(channel.ParticipantRole, `channelDefinitions.${i + 1}.member.participantRole`, Object.values(ParticipantRole));
  }
  if (channels.length === 2 && (channels[0]?.ChannelId === channels[1]?.ChannelId || channels[0]?.ParticipantRole === channels[1]?.ParticipantRole)) {
    throw new ServiceError('BadRequestException', 'The ChannelDefinitions must assign channel 0 and channel 1 to different participants.');
  }
  const redaction = input.Settings?.ContentRedaction;
  if (redaction !== undefined) {
    if (redaction.RedactionType !== 'PII') throw constraint(String(redaction.RedactionType), 'settings.contentRedaction.redactionType', 'Member must satisfy enum value set: [PII]');
    checkEnum(redaction.RedactionOutput, 'settings.contentRedaction.redactionOutput', Object.values(RedactionOutput));
    for (const type of redaction.PiiEntityTypes ?? []) checkEnum(type, 'settings.contentRedaction.piiEntityTypes', Object.values(PiiEntityType));
  }
  for (const option of input.Settings?.LanguageOptions ?? []) {
    if (!LANGUAGE_CODES.has(option)) throw constraint(String(option), 'settings.languageOptions', 'Member must satisfy enum value set');
  }
  checkTags(input);
}

/**
 * Checks a StartMedicalTranscriptionJob request: the model's members and required members
 * (OutputBucketName, Specialty and Type among them), en-US only, the output key, the key and
 * its context, the tags.
 */
export function validateStartMedicalRequest(input: Record<string, any>): void {
  checkMembers(input, SHAPES.medical);
  checkJobName(input.MedicalTranscriptionJobName, 'medicalTranscriptionJobName');
  checkMedia(input);
  if (!LANGUAGE_CODES.has(input.LanguageCode)) throw constraint(String(input.LanguageCode), 'languageCode', 'Member must satisfy enum value set');
  if (input.LanguageCode !== 'en-US') throw new ServiceError('BadRequestException', 'Amazon Transcribe Medical supports only US English (en-US).');
  checkEnum(input.Specialty, 'specialty', Object.values(Specialty));
  checkEnum(input.Type, 'type', Object.values(Type));
  checkOutputAndKey(input);
  checkTags(input);
  const rate = input.MediaSampleRateHertz;
  if (rate !== undefined && (rate < 16000 || rate > 48000)) throw constraint(String(rate), 'mediaSampleRateHertz', 'Member must have value between 16000 and 48000');
}

/**
 * Checks a StartTranscriptionJob request the way the service does. Member names, required
 * members and enums come from the model the SDK ships; patterns and limits from the published
 * model (shared/aws/transcribeModel.ts, checked against botocore by the unit tests).
 */
export function validateStartRequest(input: Record<string, any>): void {
  checkMembers(input, SHAPES.transcription);
  checkJobName(input.TranscriptionJobName, 'transcriptionJobName');
  checkMedia(input);
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
  checkOutputAndKey(input);
  checkTags(input);
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

function checkKmsKeyId(keyId: string): void {
  if (!KMS_KEY_ID_PATTERN.test(keyId)) {
    throw constraint(keyId, 'outputEncryptionKMSKeyId', 'Member must satisfy regular expression pattern: ^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2048}$');
  }
}

/** OutputBucketName, OutputKey, the key and its encryption context: the same rules for transcription and medical. */
function checkOutputAndKey(input: Record<string, any>): void {
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
    checkKmsKeyId(input.OutputEncryptionKMSKeyId);
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
}

function checkTags(input: Record<string, any>): void {
  const tags = (input.Tags ?? []) as { Key?: string; Value?: string }[];
  if (tags.length > TAG_MAX_COUNT) throw constraint(`${tags.length} tags`, 'tags', `Member must have length less than or equal to ${TAG_MAX_COUNT}`);
  for (const tag of tags) {
    if (!tag.Key || tag.Key.length > TAG_KEY_MAX_LENGTH) throw constraint(String(tag.Key), 'tags.member.key', `Member must have length between 1 and ${TAG_KEY_MAX_LENGTH}`);
    if (tag.Value === undefined || tag.Value.length > TAG_VALUE_MAX_LENGTH) {
      throw constraint(String(tag.Value), 'tags.member.value', `Member must have length less than or equal to ${TAG_VALUE_MAX_LENGTH}`);
    }
  }
}
