import { describe, expect, it } from 'vitest';
import { keyRows, outputBucketRow } from '../../../../shared/cli/check/ruleRows';
import { validatePipelineConfig } from '../../../../shared/config/pipelineConfig';
import { keyArn } from '../../../support/fixtures';

const { rules } = validatePipelineConfig(
  { defaults: { languageCode: 'en-US' }, rules: [{ prefix: 'calls/', kmsKey: 'alias/calls' }, { prefix: 'Kundenanrufe Zürich/' }] },
  { region: 'us-east-1' },
);
const [calls, zurich] = rules as [(typeof rules)[number], (typeof rules)[number]];

describe('outputBucketRow', () => {
  it('says a key rule overrides the default, and what a no-key rule will get and be judged by', () => {
    expect(outputBucketRow(calls, 'out', { ok: { serverSideEncryption: 'AES256' } })).toMatchObject({ ok: true, detail: expect.stringContaining("the rule's key overrides") });
    expect(outputBucketRow(zurich, 'out', { ok: { serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn('b') } })).toMatchObject({
      ok: true,
      detail: `s3://out: transcripts get the bucket default, aws:kms under ${keyArn('b')}, and the verifier demands it; Transcribe writes them with the start role, which the stack allows that key through S3 for this bucket (a key in another account, or one whose key policy does not let IAM policies grant its use, must allow it too)`,
    });
    expect(outputBucketRow(zurich, 'out', { ok: { serverSideEncryption: 'AES256' } }).detail).toBe('s3://out: transcripts get the bucket default, SSE-S3, and the verifier demands it');
  });

  it('fails a bucket whose default cannot be read', () => {
    expect(outputBucketRow(zurich, 'out', { error: 'bucket out does not exist' })).toEqual({ rule: 'Kundenanrufe Zürich/', check: 'output bucket', ok: false, detail: 'bucket out does not exist' });
  });
});

describe('keyRows', () => {
  it('shows a rule whose key the deployed config does not have as a failure to deploy', () => {
    expect(keyRows(calls, undefined, 'me')).toEqual([{ rule: 'calls/', check: 'key', ok: false, detail: expect.stringContaining('deploy this config') }]);
  });

  it('has one row per DryRun operation after a resolved key', () => {
    const rows = keyRows(calls, { rulePrefix: 'calls/', key: { ok: true, detail: keyArn('k'), arn: keyArn('k'), account: '123456789012' }, dryRuns: { GenerateDataKey: { ok: true, detail: 'allowed' }, Encrypt: { ok: false, detail: 'refused' } } }, 'me');
    expect(rows.map((r) => [r.check, r.ok])).toEqual([
      ['key', true],
      ['kms:GenerateDataKey (DryRun)', true],
      ['kms:Encrypt (DryRun)', false],
    ]);
  });
});
