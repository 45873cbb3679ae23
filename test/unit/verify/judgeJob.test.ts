import { describe, expect, it } from 'vitest';
import { ruleFingerprint } from '../../../shared/config/expectedEncryption';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import type { Rule } from '../../../shared/config/rule';
import { judge, type JudgeInput } from '../../../shared/verify/judgeJob';
import { keyArn } from '../../support/fixtures';

const ARN = keyArn('1234abcd-12ab-34cd-56ef-1234567890ab');
const OTHER = keyArn('0987dcba-09fe-87dc-65ba-ab0987654321');
const { rules } = validatePipelineConfig(
  { defaults: { languageCode: 'en-US' }, rules: [{ prefix: 'calls/', kmsKey: ARN }, { prefix: 'public/' }] },
  { region: 'us-east-1' },
);
const [calls, pub] = rules as [Rule, Rule];

const output = { bucket: 'out', key: 'transcripts/' };
const transcript = { bucket: 'out', key: 'transcripts/job.json' };
function input(overrides: Partial<JudgeInput> = {}): JudgeInput {
  return {
    demand: { rule: calls, expected: { serverSideEncryption: 'aws:kms', kmsKeyArn: ARN, source: 'rule' }, output },
    recorded: { serverSideEncryption: 'aws:kms', kmsKeyArn: ARN },
    tagFingerprint: ruleFingerprint(calls),
    jobCreatedAt: 1_000,
    configEpochStart: 0,
    ruleChangeGraceMs: 0,
    outputs: [transcript],
    actual: [{ uri: 's3://out/transcripts/job.json', serverSideEncryption: 'aws:kms', kmsKeyArn: ARN }],
    ...overrides,
  };
}

describe('judge', () => {
  it('verifies objects under the key the config demands, when the tags agree', () => {
    expect(judge(input())).toEqual({ cause: null, problems: [] });
  });

  it('calls a wrong key wrong-encryption, and a missing object missing-output', () => {
    expect(judge(input({ actual: [{ uri: 's3://out/transcripts/job.json', serverSideEncryption: 'aws:kms', kmsKeyArn: OTHER }] })).cause).toBe('wrong-encryption');
    expect(judge(input({ actual: [{ uri: 's3://out/transcripts/job.json', missing: true }] }))).toEqual({
      cause: 'missing-output',
      problems: ['s3://out/transcripts/job.json does not exist'],
    });
  });

  it('reports an output object outside the rule’s output location even under the right key', () => {
    const judged = judge(input({ outputs: [{ bucket: 'out', key: 'elsewhere/job.json' }] }));
    expect(judged.cause).toBe('wrong-encryption');
    expect(judged.problems).toEqual(['s3://out/elsewhere/job.json is outside the rule\'s output location s3://out/transcripts/']);
  });

  it('never verifies a job no rule applies to', () => {
    expect(judge(input({ demand: { problem: 'no rule' } }))).toEqual({ cause: 'no-rule', problems: ['no rule'] });
  });

  it('accepts a no-key rule whose tags record no key, whatever the bucket default key is', () => {
    const bucketKey = { serverSideEncryption: 'aws:kms' as const, kmsKeyArn: OTHER, source: 'bucket-default' as const };
    const judged = judge(
      input({
        demand: { rule: pub, expected: bucketKey, output },
        recorded: { serverSideEncryption: 'AES256' },
        tagFingerprint: ruleFingerprint(pub),
        actual: [{ uri: 's3://out/transcripts/job.json', serverSideEncryption: 'aws:kms', kmsKeyArn: OTHER }],
      }),
    );
    expect(judged).toEqual({ cause: null, problems: [] });
  });

  it('tells a rule change (job older than the config’s first use) from altered tags (job newer)', () => {
    const changed = { recorded: { serverSideEncryption: 'aws:kms' as const, kmsKeyArn: OTHER }, tagFingerprint: 'f'.repeat(32) };
    const objectsUnderOld = [{ uri: 's3://out/transcripts/job.json', serverSideEncryption: 'aws:kms', kmsKeyArn: OTHER }];
    expect(judge(input({ ...changed, actual: objectsUnderOld, jobCreatedAt: 1_000, configEpochStart: 5_000 })).cause).toBe('rule-changed');
    expect(judge(input({ ...changed, actual: objectsUnderOld, jobCreatedAt: 9_000, configEpochStart: 5_000 })).cause).toBe('tags-altered');
    expect(judge(input({ ...changed, actual: objectsUnderOld, jobCreatedAt: undefined, configEpochStart: 5_000 })).cause).toBe('tags-altered');
  });

  it('judges a job that carries none of the tags on its objects alone: a removed record neither passes a wrong key nor hides one', () => {
    const absent = { recorded: 'absent' as const, tagFingerprint: undefined };
    expect(judge(input(absent))).toEqual({ cause: null, problems: [] });
    const wrong = judge(input({ ...absent, actual: [{ uri: 's3://out/transcripts/job.json', serverSideEncryption: 'AES256' }] }));
    expect(wrong.cause).toBe('wrong-encryption');
    expect(wrong.problems.at(-1)).toMatch(/^the job carries none of the start function's tags/);
    expect(judge(input({ ...absent, actual: [{ uri: 's3://out/transcripts/job.json', missing: true }] })).cause).toBe('missing-output');
    // A rule change cannot be claimed without a record: objects under the old key are simply wrong.
    expect(judge(input({ ...absent, actual: [{ uri: 's3://out/transcripts/job.json', serverSideEncryption: 'aws:kms', kmsKeyArn: OTHER }], configEpochStart: 5_000 })).cause).toBe('wrong-encryption');
  });

  it('calls tags that remain without a readable record altered, whatever the objects are', () => {
    const judged = judge(input({ recorded: 'unreadable' }));
    expect(judged.cause).toBe('tags-altered');
    expect(judged.problems).toEqual([expect.stringContaining('no valid tkp:expected-sse record')]);
  });
});
