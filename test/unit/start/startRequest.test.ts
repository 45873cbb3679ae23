import { describe, expect, it } from 'vitest';
import { TAG } from '../../../shared/aws/jobTags';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import { buildStartRequest } from '../../../shared/start/startRequest';
import { ruleFingerprint } from '../../../shared/config/expectedEncryption';
import { OUTPUT_KEY_PATTERN } from '../../../shared/aws/transcribeModel';
import { keyArn } from '../../support/fixtures';

const { rules } = validatePipelineConfig(
  {
    defaults: { languageCode: 'en-GB' },
    rules: [
      { prefix: 'calls/', kmsKey: 'alias/calls', encryptionContext: { team: 'support' } },
      { prefix: 'public/', identifyLanguage: true, languageOptions: ['en-US', 'fr-FR'], output: { prefix: "pub(lic)!/" } },
      { prefix: 'Ünïcode (odd)/' },
    ],
  },
  { region: 'us-east-1' },
);
const [calls, pub, odd] = rules as [NonNullable<(typeof rules)[0]>, NonNullable<(typeof rules)[0]>, NonNullable<(typeof rules)[0]>];
const object = { bucket: 'in', key: 'calls/a b.wav', size: 10, eTag: 'e1' };
const key = { arn: keyArn('1234abcd-12ab-34cd-56ef-1234567890ab'), account: '123456789012' };

describe('buildStartRequest', () => {
  it('sends the resolved key ARN, the context and the expectation tags for a key rule', () => {
    const input = buildStartRequest({ object, rule: calls, mediaFormat: 'wav', jobName: 'tkp.t.a_b-1', key, outputBucket: 'out' });
    expect(input).toEqual({
      TranscriptionJobName: 'tkp.t.a_b-1',
      Media: { MediaFileUri: 's3://in/calls/a b.wav' },
      MediaFormat: 'wav',
      LanguageCode: 'en-GB',
      OutputBucketName: 'out',
      OutputKey: 'transcripts/tkp.t.a_b-1.json',
      OutputEncryptionKMSKeyId: key.arn,
      KMSEncryptionContext: { team: 'support' },
      Tags: [
        { Key: TAG.expectedSse, Value: 'aws:kms' },
        { Key: TAG.expectedKeyArn, Value: key.arn },
        { Key: TAG.rulePrefix, Value: 'calls/' },
        { Key: TAG.ruleFingerprint, Value: ruleFingerprint(calls) },
        { Key: TAG.sourceBucket, Value: 'in' },
        { Key: TAG.sourceKey, Value: 'calls/a b.wav' },
        { Key: TAG.sourceVersion, Value: 'etag:e1' },
      ],
    });
  });

  it('sends neither key nor context for SSE-S3 and records AES256', () => {
    const input = buildStartRequest({ object, rule: pub, mediaFormat: 'mp3', jobName: 'j', outputBucket: 'out' });
    expect(input.OutputEncryptionKMSKeyId).toBeUndefined();
    expect(input.KMSEncryptionContext).toBeUndefined();
    expect(input.Tags).toContainEqual({ Key: TAG.expectedSse, Value: 'AES256' });
    expect(input.Tags?.some((t) => t.Key === TAG.expectedKeyArn)).toBe(false);
    expect(input.IdentifyLanguage).toBe(true);
    expect(input.LanguageOptions).toEqual(['en-US', 'fr-FR']);
    expect(input.LanguageCode).toBeUndefined();
    expect(input.OutputKey).toBe('pub(lic)!/j.json');
    expect(input.OutputKey).toMatch(OUTPUT_KEY_PATTERN);
  });

  it('records the source version and encodes tag values that tagging APIs refuse', () => {
    const input = buildStartRequest({
      object: { bucket: 'in', key: 'Ünïcode (odd)/x 100%.wav', size: 1, versionId: 'v1' },
      rule: odd,
      mediaFormat: 'wav',
      jobName: 'j',
      outputBucket: 'out',
    });
    const tags = Object.fromEntries((input.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags[TAG.sourceVersion]).toBe('version:v1');
    expect(tags[TAG.rulePrefix]).toMatch(/^b64:/);
    expect(tags[TAG.sourceKey]).toMatch(/^b64:/);
  });

  it('asks for deferred execution when the config does and a data access role is given, and not otherwise', () => {
    const role = 'arn:aws:iam::123456789012:role/r';
    const input = buildStartRequest({ object, rule: calls, mediaFormat: 'wav', jobName: 'j', key, outputBucket: 'out', dataAccessRoleArn: role, deferredExecution: true });
    expect(input.JobExecutionSettings).toEqual({ AllowDeferredExecution: true, DataAccessRoleArn: role });
    // The role exists for a Call Analytics rule: a transcription job still does not queue.
    expect(buildStartRequest({ object, rule: calls, mediaFormat: 'wav', jobName: 'j', key, outputBucket: 'out', dataAccessRoleArn: role }).JobExecutionSettings).toBeUndefined();
  });
});
