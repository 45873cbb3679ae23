import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStartSettings, loadSweepSettings, loadVerifySettings, type Env } from '../../../shared/config/settings';
import { ConfigError, EnvironmentError } from '../../../shared/aws/errors';
import { matchRule } from '../../../shared/config/ruleIndex';

const base: Env = {
  AWS_REGION: 'us-east-1',
  JOB_NAME_PREFIX: 'tkp.test.',
  INPUT_BUCKET: 'in',
  TRANSCRIPT_BUCKET: 'out',
  START_QUEUE_URL: 'https://sqs/q',
  START_DLQ_URL: 'https://sqs/dlq',
  OUTCOME_BUS_NAME: 'bus',
  OUTCOME_EVENT_SOURCE: 'transcribe-kms-pipeline',
  DATA_ACCESS_ROLE_ARN: 'arn:aws:iam::123456789012:role/transcribe-data',
};

describe('settings', () => {
  it('loads the bundled config and indexes its rules', () => {
    const settings = loadStartSettings(base);
    expect(matchRule(settings.ruleIndex, 'partners/acme/x.wav')?.prefix).toBe('partners/acme/');
    expect(settings.maxReceiveCount).toBe(50);
  });

  it('needs the data access role for the bundled config\'s Call Analytics rule, and says why', () => {
    expect(loadStartSettings(base)).toMatchObject({ dataAccessRoleArn: 'arn:aws:iam::123456789012:role/transcribe-data', deferredExecution: false });
    expect(() => loadStartSettings({ ...base, DATA_ACCESS_ROLE_ARN: '' })).toThrow(new EnvironmentError(
      'the config has a Call Analytics rule, which needs DATA_ACCESS_ROLE_ARN (serverless.yml creates the role when the config asks for it)',
    ));
  });

  it('names a missing variable', () => {
    expect(() => loadStartSettings({ ...base, START_DLQ_URL: undefined })).toThrow(new EnvironmentError(
      'environment variable START_DLQ_URL is not set; serverless.yml sets it on deploy, and the local mode sets it for you',
    ));
  });

  it('rejects a bad number and a bad job name prefix', () => {
    expect(() => loadStartSettings({ ...base, MAX_RECEIVE_COUNT: 'ten' })).toThrow('MAX_RECEIVE_COUNT is "ten"; it must be an integer >= 1');
    expect(() => loadVerifySettings({ ...base, JOB_NAME_PREFIX: 'tkp test' })).toThrow('JOB_NAME_PREFIX "tkp test" may only contain');
  });

  it('reads a config file named by PIPELINE_CONFIG_PATH and validates it against the deployment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tkp-config-'));
    const path = join(dir, 'c.json');
    writeFileSync(path, JSON.stringify({ rules: [{ prefix: '', languageCode: 'en-US', output: { bucket: 'in', prefix: 'x/' } }] }));
    expect(() => loadSweepSettings({ ...base, PIPELINE_CONFIG_PATH: path })).toThrow(ConfigError);
    expect(() => loadSweepSettings({ ...base, PIPELINE_CONFIG_PATH: path })).toThrow(`${path} is invalid`);
  });

  it('reads a config file saved with a byte order mark, as Windows PowerShell writes UTF-8', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tkp-config-')), 'c.json');
    writeFileSync(path, `\uFEFF${JSON.stringify({ rules: [{ prefix: 'win/', languageCode: 'en-US' }] })}`);
    expect(loadSweepSettings({ ...base, PIPELINE_CONFIG_PATH: path }).config.rules.map((rule) => rule.prefix)).toEqual(['win/']);
  });

  it('names an unreadable or non-JSON config file', () => {
    expect(() => loadStartSettings({ ...base, PIPELINE_CONFIG_PATH: '/nonexistent.json' })).toThrow('PIPELINE_CONFIG_PATH /nonexistent.json cannot be read');
  });

  it('requires the data access role when the config defers execution', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tkp-config-'));
    const path = join(dir, 'c.json');
    writeFileSync(path, JSON.stringify({ deferredExecution: true, rules: [{ prefix: 'a/', languageCode: 'en-US' }] }));
    expect(() => loadStartSettings({ ...base, PIPELINE_CONFIG_PATH: path, DATA_ACCESS_ROLE_ARN: undefined })).toThrow(/config sets deferredExecution, which needs DATA_ACCESS_ROLE_ARN/);
    expect(loadStartSettings({ ...base, PIPELINE_CONFIG_PATH: path, DATA_ACCESS_ROLE_ARN: 'arn:aws:iam::1:role/r' }).dataAccessRoleArn).toBe('arn:aws:iam::1:role/r');
  });
});
