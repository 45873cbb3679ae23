/**
 * Constraints of the Amazon Transcribe API that the pipeline must respect.
 *
 * The JS SDK v3 ships the member lists and enums of the model (`MediaFormat`, `LanguageCode`)
 * but none of the patterns or length limits, so those are copied here from the published
 * model (botocore `transcribe/2017-10-26/service-2.json`). `test/unit/transcribeModel.test.ts`
 * compares them with that model whenever botocore is installed, so a drift is caught.
 *
 * The model's patterns are not anchored at both ends; the full-match forms below are what the
 * service enforces in practice (a name with `/` is rejected even though `^[0-9a-zA-Z._-]+`
 * matches its first character).
 */
import { LanguageCode, MediaFormat, PiiEntityType, Specialty } from '@aws-sdk/client-transcribe';

export const JOB_NAME_PATTERN = /^[0-9a-zA-Z._-]+$/;
export const JOB_NAME_MAX_LENGTH = 200;

export const OUTPUT_KEY_PATTERN = /^[a-zA-Z0-9\-_.!*'()/]{1,1024}$/;
export const OUTPUT_KEY_CHARACTER = /[a-zA-Z0-9\-_.!*'()/]/;
export const OUTPUT_KEY_MAX_LENGTH = 1024;

export const OUTPUT_BUCKET_PATTERN = /^[a-z0-9][.\-a-z0-9]{1,61}[a-z0-9]$/;

export const KMS_KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2048}$/;

export const ENCRYPTION_CONTEXT_MAX_PAIRS = 10;
export const ENCRYPTION_CONTEXT_STRING_MAX_LENGTH = 2000;
/** `NonEmptyString` in the model: at least one non-whitespace character. */
export const NON_BLANK = /\S/;

export const TAG_MAX_COUNT = 200;
export const TAG_KEY_MAX_LENGTH = 128;
export const TAG_VALUE_MAX_LENGTH = 256;

export const MEDIA_URI_PATTERN = /^(s3:\/\/|http(s*):\/\/).+$/;
export const MEDIA_URI_MAX_LENGTH = 2000;

export const DATA_ACCESS_ROLE_ARN_PATTERN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso-{0,1}[a-z]{0,1}):iam::[0-9]{0,63}:role\/[A-Za-z0-9:_/+=,@.-]{0,1024}$/;

/** Media limits from the Transcribe developer guide (not part of the API model). */
export const MEDIA_MAX_BYTES = 2 * 1024 ** 3;
export const MEDIA_MIN_DURATION_SECONDS = 0.5;
export const MEDIA_MAX_DURATION_SECONDS = 4 * 60 * 60;

export const MEDIA_FORMATS: readonly string[] = Object.values(MediaFormat);
/** Recording formats Transcribe does not take: an upload of one is a recording that cannot become a job. */
export const UNSUPPORTED_RECORDING_FORMATS: ReadonlySet<string> = new Set('aac aif aifc aiff au caf dss ds2 m4b mka opus wma 3gp 3g2 avi m4v mkv mov mpeg mpg wmv'.split(' '));
export const LANGUAGE_CODES: ReadonlySet<string> = new Set(Object.values(LanguageCode));
export const PII_ENTITY_TYPES: ReadonlySet<string> = new Set(Object.values(PiiEntityType));
export const PII_ENTITY_TYPES_MAX = 11;
export const MEDICAL_SPECIALTIES: readonly string[] = Object.values(Specialty);
/** StartMedicalTranscriptionJob transcribes US English only. */
export const MEDICAL_LANGUAGE = 'en-US';

/** Transcribe writes this probe under the output location before a job runs. */
export const WRITE_ACCESS_PROBE_NAME = '.write_access_check_file.temp';
