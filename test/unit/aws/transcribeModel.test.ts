import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as model from '../../../shared/aws/transcribeModel';

/** Reads the published Transcribe model from botocore, which moto brings onto this machine. */
function botocoreShapes(): Record<string, any> | undefined {
  try {
    const script = [
      'import botocore.loaders, json',
      "m = botocore.loaders.Loader().load_service_model('transcribe', 'service-2')",
      "print(json.dumps(m['shapes']))",
    ].join('\n');
    return JSON.parse(execFileSync('python3', ['-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  } catch {
    return undefined;
  }
}

const shapes = botocoreShapes();
const inCi = process.env.CI === 'true';
if (!shapes && !inCi) console.warn('\n!!! botocore not found: the Transcribe model constants are NOT compared with the published model !!!\n');

describe.runIf(shapes !== undefined || inCi)('transcribe model constants match the published model', () => {
  const s = shapes as Record<string, any>;
  const charClass = (pattern: string) => /\[[^\]]+\]/.exec(pattern)?.[0];

  it('has botocore available in CI', () => {
    expect(shapes).toBeDefined();
  });

  it('job name pattern and length', () => {
    expect(s.TranscriptionJobName.max).toBe(model.JOB_NAME_MAX_LENGTH);
    expect(model.JOB_NAME_PATTERN.source).toContain(charClass(s.TranscriptionJobName.pattern));
  });

  it('OutputKey pattern and length', () => {
    expect(s.OutputKey.max).toBe(model.OUTPUT_KEY_MAX_LENGTH);
    expect(model.OUTPUT_KEY_PATTERN.source).toContain(s.OutputKey.pattern.replace(/\$$/, '').replace('-_', '\\-_'));
  });

  it('KMS key id, bucket, media URI and role patterns', () => {
    const plain = (source: string) => source.replace(/\\\//g, '/');
    expect(plain(model.KMS_KEY_ID_PATTERN.source)).toBe(s.KMSKeyId.pattern);
    expect(plain(model.OUTPUT_BUCKET_PATTERN.source)).toBe(`^${s.OutputBucketName.pattern.replace('\\.\\-', '.\\-')}$`);
    expect(plain(model.MEDIA_URI_PATTERN.source)).toBe(`^${s.Uri.pattern}$`);
    expect(plain(model.DATA_ACCESS_ROLE_ARN_PATTERN.source)).toBe(s.DataAccessRoleArn.pattern);
  });

  it('encryption context and tag limits', () => {
    expect(s.KMSEncryptionContextMap.max).toBe(model.ENCRYPTION_CONTEXT_MAX_PAIRS);
    expect(s.NonEmptyString.max).toBe(model.ENCRYPTION_CONTEXT_STRING_MAX_LENGTH);
    expect(s.TagList.max).toBe(model.TAG_MAX_COUNT);
    expect(s.TagKey.max).toBe(model.TAG_KEY_MAX_LENGTH);
    expect(s.TagValue.max).toBe(model.TAG_VALUE_MAX_LENGTH);
  });

  it('the Call Analytics and medical enums and limits the config checks use match the model', () => {
    // The SDK may be newer than botocore here too: it must know every type the published model has.
    for (const type of s.PiiEntityType.enum) expect(model.PII_ENTITY_TYPES.has(type)).toBe(true);
    expect(s.PiiEntityTypes.max).toBe(model.PII_ENTITY_TYPES_MAX);
    expect([...model.MEDICAL_SPECIALTIES]).toEqual(s.Specialty.enum);
    expect(s.ChannelDefinitions).toMatchObject({ min: 2, max: 2 });
    expect(s.ChannelId).toMatchObject({ min: 0, max: 1 });
    // Call Analytics' OutputLocation and the media URIs share one shape.
    expect(s.StartCallAnalyticsJobRequest.members.OutputLocation.shape).toBe('Uri');
    expect(s.StartCallAnalyticsJobRequest.members).not.toHaveProperty('KMSEncryptionContext');
  });

  it('media formats and language codes, which the SDK ships, cover the model (the SDK may be newer)', () => {
    expect([...model.MEDIA_FORMATS].sort()).toEqual([...s.MediaFormat.enum].sort());
    for (const code of s.LanguageCode.enum) expect(model.LANGUAGE_CODES.has(code)).toBe(true);
  });
});
