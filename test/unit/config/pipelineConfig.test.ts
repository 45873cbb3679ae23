import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import type { ValidationContext } from '../../../shared/config/rule';
import { configProblems, repoPath } from '../../support/fixtures';

const ctx: ValidationContext = { region: 'us-east-1', inputBucket: 'in-bucket', transcriptBucket: 'out-bucket' };
const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';
const config = (...rules: object[]) => ({ defaults: { languageCode: 'en-US' }, rules });

const problemsOf = (raw: unknown, context: ValidationContext = ctx): string[] => configProblems(raw, context);

describe('validatePipelineConfig', () => {
  it.each([
    ['is', 'verdicts/', 'is'],
    ['lies under', 'verdicts/legal/', 'lies under'],
  ])('rejects an output location that %s the verdict ledger, naming the rule and the field', (_label, prefix, word) => {
    expect(problemsOf(config({ prefix: 'p/', output: { prefix } }))).toEqual([
      `rules[0] (prefix "p/"): output.prefix ${JSON.stringify(prefix)} ${word} the verdict ledger verdicts/, which only the verifiers may write; choose another output.prefix, such as "transcripts/"`,
    ]);
  });

  it('rejects an empty output prefix in the transcript bucket, which holds the ledger, but not in another bucket', () => {
    expect(problemsOf(config({ prefix: 'p/', output: { prefix: '' } }))).toEqual([
      'rules[0] (prefix "p/"): output.prefix is empty in the transcript bucket, which also holds the verdict ledger verdicts/; set output.prefix (or transcripts.prefix) to a folder such as "transcripts/"',
    ]);
    expect(problemsOf({ ...config({ prefix: 'p/' }), transcripts: { prefix: '' } })).toHaveLength(1);
    expect(() => validatePipelineConfig(config({ prefix: 'p/', output: { bucket: 'elsewhere', prefix: '' } }), ctx)).not.toThrow();
    expect(problemsOf(config({ prefix: 'p/', output: { bucket: 'out-bucket', prefix: 'verdicts/' } }))).toHaveLength(1);
  });

  it('at package time, recognises the input bucket the stack creates by its name and refuses an overlapping output there', () => {
    const packaging: ValidationContext = { region: 'us-east-1', isInputBucketName: (b) => /^tkp-dev-input-\d{12}-us-east-1$/.test(b) };
    const [problem] = problemsOf(config({ prefix: 'audio/', output: { bucket: 'tkp-dev-input-123456789012-us-east-1', prefix: 'audio/text/' } }), packaging);
    expect(problem).toContain(`rules[0] (prefix "audio/"): output s3://tkp-dev-input-123456789012-us-east-1/audio/text/ overlaps input prefix "audio/" of rules[0] (prefix "audio/") in the same bucket (the stack's input bucket)`);
  });

  it('accepts the shipped config', () => {
    const raw = JSON.parse(readFileSync(repoPath('pipeline.config.json'), 'utf8'));
    const parsed = validatePipelineConfig(raw, ctx);
    expect(parsed.rules.map((r) => [r.prefix, r.kmsKey?.form ?? 'sse-s3'])).toEqual([
      ['calls/', 'key-id'],
      ['legal/', 'alias'],
      ['hr/', 'key-arn'],
      ['partners/', 'alias-arn'],
      ['partners/acme/', 'alias-arn'],
      ['public/', 'sse-s3'],
      ['contact-centre/', 'alias'],
      ['clinic/', 'key-arn'],
    ]);
    expect(parsed.rules.map((r) => r.job.jobType)).toEqual(['transcription', 'transcription', 'transcription', 'transcription', 'transcription', 'transcription', 'callAnalytics', 'medical']);
  });

  it('fills defaults: language, output prefix and the stack transcript bucket', () => {
    const { rules } = validatePipelineConfig(config({ prefix: 'a/' }), ctx);
    expect(rules[0]).toEqual({ index: 0, prefix: 'a/', language: { languageCode: 'en-US' }, output: { prefix: 'transcripts/' }, job: { jobType: 'transcription' } });
  });

  it('keeps a rule language identification with its options', () => {
    const { rules } = validatePipelineConfig(config({ prefix: 'a/', identifyLanguage: true, languageOptions: ['en-US', 'de-DE'] }), ctx);
    expect(rules[0]?.language).toEqual({ identifyLanguage: true, languageOptions: ['en-US', 'de-DE'] });
  });

  it('rejects a key identifier in none of the four forms, naming rule and field', () => {
    expect(problemsOf(config({ prefix: 'a/' }, { prefix: 'legal/', kmsKey: 'legal-key' }))).toEqual([
      'rules[1] (prefix "legal/"): kmsKey "legal-key" is not a key ID, alias/NAME, key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) or alias ARN (arn:aws:kms:REGION:ACCOUNT:alias/NAME)',
    ]);
  });

  it('rejects a bare key ID meant for another account and says to use the ARN', () => {
    const [problem] = problemsOf(config({ prefix: 'p/', kmsKey: KEY, account: '222233334444' }));
    expect(problem).toContain('rules[0] (prefix "p/"): kmsKey');
    expect(problem).toContain('bare key ID');
    expect(problem).toContain(`use the ARN instead, e.g. arn:aws:kms:us-east-1:222233334444:key/${KEY}`);
  });

  it('rejects a bare alias meant for another account and says to use the alias ARN', () => {
    const [problem] = problemsOf(config({ prefix: 'p/', kmsKey: 'alias/acme', account: '222233334444' }));
    expect(problem).toContain('bare alias name');
    expect(problem).toContain('arn:aws:kms:us-east-1:222233334444:alias/acme');
  });

  it('rejects an account that contradicts the ARN', () => {
    expect(problemsOf(config({ prefix: 'p/', kmsKey: `arn:aws:kms:us-east-1:111122223333:key/${KEY}`, account: '222233334444' }))).toEqual([
      'rules[0] (prefix "p/"): account 222233334444 does not match the account 111122223333 in kmsKey; fix one of them',
    ]);
  });

  it('rejects an ARN in another region than the deployment', () => {
    const [problem] = problemsOf(config({ prefix: 'p/', kmsKey: 'arn:aws:kms:eu-west-1:123456789012:alias/x' }));
    expect(problem).toMatch(/^rules\[0\] \(prefix "p\/"\): kmsKey is in region eu-west-1 but the stack deploys to us-east-1/);
  });

  it('rejects an encryption context without a key', () => {
    expect(problemsOf(config({ prefix: 'p/', encryptionContext: { team: 'x' } }))).toEqual([
      'rules[0] (prefix "p/"): encryptionContext needs a kmsKey (SSE-S3 has no encryption context); add kmsKey or remove encryptionContext',
    ]);
  });

  it('rejects an encryption context with more than 10 pairs', () => {
    const context = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    expect(problemsOf(config({ prefix: 'p/', kmsKey: KEY, encryptionContext: context }))).toEqual([
      'rules[0] (prefix "p/"): encryptionContext has 11 pairs; Transcribe accepts at most 10',
    ]);
  });

  it('rejects a blank encryption context value', () => {
    expect(problemsOf(config({ prefix: 'p/', kmsKey: KEY, encryptionContext: { team: '  ' } }))).toEqual([
      'rules[0] (prefix "p/"): encryptionContext.team is blank; give it a value',
    ]);
  });

  it('rejects a duplicate prefix', () => {
    expect(problemsOf(config({ prefix: 'p/' }, { prefix: 'p/', kmsKey: KEY }))).toEqual([
      'rules[1] (prefix "p/"): prefix duplicates rules[0]; merge the two rules or change one prefix',
    ]);
  });

  it('rejects two prefixes that are one once composed: rules match keys composed, so the second could never match', () => {
    expect(problemsOf(config({ prefix: 'Zürich/' }, { prefix: 'Zu\u0308rich/', kmsKey: KEY }))).toEqual([
      'rules[1] (prefix "Zu\u0308rich/"): prefix duplicates rules[0]; merge the two rules or change one prefix',
    ]);
  });

  it('rejects an output location under an input prefix of the same bucket', () => {
    const [problem] = problemsOf(config({ prefix: 'audio/' }, { prefix: 'x/', output: { bucket: 'in-bucket', prefix: 'audio/transcripts/' } }));
    expect(problem).toContain('rules[1] (prefix "x/"): output s3://in-bucket/audio/transcripts/ overlaps input prefix "audio/" of rules[0]');
  });

  it('rejects the default output prefix when the transcript bucket is the input bucket and a rule covers everything', () => {
    const problems = problemsOf(config({ prefix: '' }), { region: 'us-east-1', inputBucket: 'same', transcriptBucket: 'same' });
    expect(problems).toEqual([
      'rules[0] (prefix ""): the verdict ledger s3://same/verdicts/ lies under this input prefix; use a transcript bucket other than the input bucket, or narrow the prefix',
      expect.stringContaining('rules[0] (prefix ""): output s3://same/transcripts/ overlaps input prefix ""'),
    ]);
  });

  it('allows output in the input bucket outside every rule prefix', () => {
    expect(() => validatePipelineConfig(config({ prefix: 'audio/', output: { bucket: 'in-bucket', prefix: 'text/' } }), ctx)).not.toThrow();
  });

  it('rejects an output prefix with characters that OutputKey rejects', () => {
    expect(problemsOf(config({ prefix: 'p/', output: { prefix: 'out put=/' } }))).toEqual([
      `rules[0] (prefix "p/"): output.prefix "out put=/" contains " ", "=", which Transcribe's OutputKey rejects; use only letters, digits and - _ . ! * ' ( ) /`,
    ]);
  });

  it('rejects a top-level transcripts prefix with bad characters', () => {
    const raw = { ...config({ prefix: 'p/' }), transcripts: { prefix: 'año:/' } };
    expect(problemsOf(raw)[0]).toMatch(/^transcripts\.prefix "año:\/" contains "ñ", ":"/);
  });

  it('rejects unknown fields by name', () => {
    expect(problemsOf(config({ prefix: 'p/', kmsKeyId: KEY }))).toEqual([
      'rules[0] (prefix "p/"): unknown field "kmsKeyId"; see the config reference in README.md',
    ]);
  });

  it('names every unknown field of one object in one line, and unknown top-level fields as config', () => {
    expect(problemsOf({ ...config({ prefix: 'p/', kmsKeyId: KEY, region: 'eu-west-1' }), extra: true })).toEqual([
      'rules[0] (prefix "p/"): unknown fields "kmsKeyId", "region"; see the config reference in README.md',
      'config: unknown field "extra"; see the config reference in README.md',
    ]);
  });

  it('says what a missing nested field and a field of the wrong shape must be', () => {
    const raw = config({ prefix: 'p/', jobType: 'callAnalytics', channels: { agent: 0 }, redaction: {}, output: 'transcripts/' });
    expect(problemsOf(raw)).toEqual([
      'rules[0] (prefix "p/"): output: must be an object, not "transcripts/"',
      'rules[0] (prefix "p/"): channels.customer: is required (0 or 1)',
      'rules[0] (prefix "p/"): redaction.output: is required ("redacted" or "redacted_and_unredacted")',
    ]);
  });

  it('rejects a missing prefix and a wrong type, naming each field', () => {
    expect(problemsOf({ rules: [{ kmsKey: KEY }, { prefix: 7 }] })).toEqual(['rules[0].prefix: is required (string)', 'rules[1].prefix: must be a string, not 7']);
  });

  it('rejects a rule without any language', () => {
    expect(problemsOf({ rules: [{ prefix: 'p/' }] })).toEqual([
      'rules[0] (prefix "p/") (from defaults): no language; set languageCode (e.g. "en-US") or identifyLanguage: true, here or in defaults',
    ]);
  });

  it('rejects both language options at once and unknown language codes', () => {
    expect(problemsOf(config({ prefix: 'p/', languageCode: 'en-US', identifyLanguage: true, languageOptions: ['xx-XX'] }))).toEqual([
      'rules[0] (prefix "p/"): set either languageCode or identifyLanguage, not both; Transcribe takes exactly one language option',
      'rules[0] (prefix "p/"): languageOptions[0] "xx-XX" is not a Transcribe language code (e.g. "en-US", "de-DE")',
    ]);
  });

  it('lists every problem at once', () => {
    expect(problemsOf(config({ prefix: 'a/', kmsKey: 'nope' }, { prefix: 'a/', encryptionContext: { x: 'y' } }))).toHaveLength(3);
  });

  it('puts source and problems in the error message', () => {
    expect(() => validatePipelineConfig({ rules: [] }, { ...ctx, source: 'my.json' })).toThrow('my.json is invalid:\n  - rules: must list at least one rule');
  });
});
