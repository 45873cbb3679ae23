import { describe, expect, it } from 'vitest';
import { deniesWrite, transcriptBucketPolicyRow, type BucketWriters } from '../../../../shared/cli/check/transcriptBucketPolicy';
import { validatePipelineConfig } from '../../../../shared/config/pipelineConfig';
import { transcriptBucketStatements } from '../../../../shared/stack/stackResources';

const role = (name: string) => `arn:aws:iam::123456789012:role/tkp-dev-us-east-1-${name}`;
const writers: BucketWriters = {
  bucket: 'tkp-dev-transcripts',
  partition: 'aws',
  verifiers: [role('verify'), role('sweep')],
  start: role('start'),
  dataAccess: role('transcribe-data'),
  transcriptPrefixes: ['transcripts/', 'calls/out/'],
  outsider: 'arn:aws:iam::123456789012:role/tkp-check-outsider',
};

/** The policy the stack deploys, with CloudFormation's values filled in as AWS returns them. */
function deployedPolicy(): { Statement: Record<string, any>[] } {
  const config = validatePipelineConfig({ rules: [{ prefix: 'a/', languageCode: 'en-US', jobType: 'callAnalytics', channels: { agent: 0, customer: 1 }, output: { prefix: 'transcripts/' } }] }, { region: 'us-east-1' });
  const ctx = { service: 'tkp', stage: 'dev', region: 'us-east-1', jobNamePrefix: 'tkp.dev.', config };
  const roles: Record<string, string> = { StartRole: 'start', VerifyRole: 'verify', SweepRole: 'sweep', DataAccessRole: 'transcribe-data' };
  const resolve = (value: any): any => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    if ('Fn::Sub' in value) return (value['Fn::Sub'] as string).replaceAll('${TranscriptBucket.Arn}', `arn:aws:s3:::${writers.bucket}`);
    if ('Fn::GetAtt' in value) return role(roles[value['Fn::GetAtt'][0]] as string);
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]));
  };
  const resolved = JSON.stringify(resolve(transcriptBucketStatements(ctx, 'TranscriptBucket')));
  return { Statement: JSON.parse(resolved) };
}

const rowFor = (policy: { Statement: Record<string, unknown>[] } | null) => transcriptBucketPolicyRow({ statements: policy === null ? null : policy.Statement }, writers);

describe('the transcript bucket policy row', () => {
  it('passes the policy the stack deploys: every forger refused, every writer of the stack let through', () => {
    const policy = deployedPolicy();
    expect(policy.Statement.map((s) => s.Sid)).toEqual(['LedgerWritesOnlyByVerifiers', 'LedgerWritesOnlyConditional', 'WritesOnlyByThisStack']);
    expect(rowFor(policy)).toEqual({
      rule: '(stack)',
      check: 'transcript bucket policy',
      ok: true,
      detail: "s3://tkp-dev-transcripts: the verdict ledger is written by the verifiers alone, conditionally, and transcripts by the stack's roles alone",
    });
  });

  it('fails a bucket with no policy, naming each write a forger could make and what restores it', () => {
    const row = rowFor(null);
    expect(row.ok).toBe(false);
    expect(row.detail).toBe(
      's3://tkp-dev-transcripts has no bucket policy: anyone in the account may write the verdict ledger verdicts/ (LedgerWritesOnlyByVerifiers); ' +
        'the start role may write the verdict ledger verdicts/ (LedgerWritesOnlyByVerifiers); ' +
        'a verifier may overwrite a verdict without a conditional write (LedgerWritesOnlyConditional); ' +
        'anyone in the account may replace a transcript under transcripts/ with one under another key (WritesOnlyByThisStack); ' +
        'anyone in the account may replace a transcript under calls/out/ with one under another key (WritesOnlyByThisStack). ' +
        'put the policy of the bucket the stack creates back as the stack defines it, which a redeploy does not do (README: "Putting back what changed outside a deploy"); a transcript bucket of your own needs the statements LedgerWritesOnlyByVerifiers, LedgerWritesOnlyConditional and WritesOnlyByThisStack (README: "The verdict ledger")',
    );
  });

  it('fails a policy that refuses forgers PutObject but not S3 replication from a bucket of theirs, which writes with s3:ReplicateObject', () => {
    const policy = deployedPolicy();
    expect(policy.Statement.map((s) => s.Action)).toEqual([
      ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:ReplicateObject', 's3:ReplicateDelete'],
      's3:PutObject',
      ['s3:PutObject', 's3:ReplicateObject'],
    ]);
    // The guards as they stood before replication was refused: PutObject (and the ledger's deletes) alone.
    const putOnly = { Statement: policy.Statement.map((s) => (s.Sid === 'LedgerWritesOnlyConditional' ? s : { ...s, Action: [s.Action].flat().filter((a: string) => !a.startsWith('s3:Replicate')) })) };
    expect(rowFor(putOnly).detail).toBe(
      's3://tkp-dev-transcripts: anyone in the account may replicate objects into the verdict ledger verdicts/ from a bucket of theirs, which S3 writes with s3:ReplicateObject (LedgerWritesOnlyByVerifiers); ' +
        'the start role may replicate objects into the verdict ledger verdicts/ from a bucket of theirs, which S3 writes with s3:ReplicateObject (LedgerWritesOnlyByVerifiers); ' +
        'anyone in the account may replicate an object under another key over a transcript under transcripts/ from a bucket of theirs, which S3 writes with s3:ReplicateObject (WritesOnlyByThisStack); ' +
        'anyone in the account may replicate an object under another key over a transcript under calls/out/ from a bucket of theirs, which S3 writes with s3:ReplicateObject (WritesOnlyByThisStack). ' +
        'put the policy of the bucket the stack creates back as the stack defines it, which a redeploy does not do (README: "Putting back what changed outside a deploy"); a transcript bucket of your own needs the statements LedgerWritesOnlyByVerifiers, LedgerWritesOnlyConditional and WritesOnlyByThisStack (README: "The verdict ledger")',
    );
    // s3:* covers both.
    expect(rowFor({ Statement: policy.Statement.map((s) => (s.Sid === 'LedgerWritesOnlyConditional' ? s : { ...s, Action: 's3:*' })) }).ok).toBe(true);
  });

  it('sees an exemption widened by a wildcard or a name, whatever the statement is still called', () => {
    const policy = deployedPolicy();
    const guard = policy.Statement[2] as any;
    guard.Condition.ArnNotEquals['aws:PrincipalArn'].push('arn:aws:iam::123456789012:user/mallory', 'arn:aws:iam::123456789012:role/*');
    const { detail } = rowFor(policy);
    expect(detail).toContain('anyone in the account may replace a transcript under transcripts/ with one under another key');
    expect(detail).toContain('arn:aws:iam::123456789012:user/mallory may replace a transcript under calls/out/ with one under another key');
    // The ledger's own statement still refuses them.
    expect(detail).not.toContain('may write the verdict ledger');
  });

  it('fails a policy that would stop the pipeline: Transcribe refused its writes, a verifier its claim', () => {
    const policy = deployedPolicy();
    policy.Statement.push({ Sid: 'Oops', Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:Put*', Resource: `arn:aws:s3:::${writers.bucket}/*` });
    const { detail } = rowFor(policy);
    expect(detail).toContain(`the policy refuses ${role('verify')} its claim of a verdict, so no verdict can be recorded`);
    expect(detail).toContain(`the policy refuses ${role('start')} writes under transcripts/, so Transcribe cannot write the transcripts`);
    expect(detail).toContain(`the policy refuses ${role('transcribe-data')} writes under calls/out/, so Transcribe cannot write the transcripts`);
  });

  it('names a statement it cannot evaluate where it is all that refuses a forger, and only notes it where it could refuse the stack', () => {
    const byNetwork = { Sid: 'ByNetwork', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${writers.bucket}/*`, Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } };
    const alone = rowFor({ Statement: [byNetwork] });
    expect(alone.ok).toBe(false);
    expect(alone.detail).toContain(
      'ByNetwork uses NotIpAddress on aws:SourceIp, which tkp check does not evaluate, so it cannot tell whether anyone in the account may write the verdict ledger verdicts/: check that statement by hand',
    );
    // Beside the stack's statements, it can only refuse the stack's own writes: noted, not failed.
    const beside = rowFor({ Statement: [...deployedPolicy().Statement, byNetwork] });
    expect(beside).toMatchObject({ ok: true, detail: expect.stringMatching(/; not evaluated: ByNetwork uses NotIpAddress on aws:SourceIp \(it must let the stack's own writes through\)$/) });
  });

  it('says what the caller needs when the policy cannot be read', () => {
    expect(transcriptBucketPolicyRow({ error: 'AccessDenied: no' }, writers)).toMatchObject({ ok: false, detail: expect.stringMatching(/cannot be read \(AccessDenied: no\); the caller needs s3:GetBucketPolicy/) });
  });
});

describe('deniesWrite', () => {
  const bucket = { name: 'b', partition: 'aws' };
  const deny = (extra: Record<string, unknown>) => [{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*', ...extra }];
  const probe = { principalArn: 'arn:aws:iam::1:role/x', key: 'k', conditional: false };

  it('matches actions and resources as IAM does: wildcards, NotAction, NotResource, case of the action', () => {
    expect(deniesWrite(deny({ Action: 's3:*' }), bucket, probe)).toBe(true);
    expect(deniesWrite(deny({ Action: 'S3:putobject' }), bucket, probe)).toBe(true);
    // Keys are case-sensitive: this covers another folder.
    expect(deniesWrite(deny({ Resource: 'arn:aws:s3:::b/K' }), bucket, probe)).toBe(false);
    expect(deniesWrite(deny({ Action: 's3:GetObject' }), bucket, probe)).toBe(false);
    expect(deniesWrite([{ Effect: 'Deny', Principal: '*', NotAction: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }], bucket, probe)).toBe(true);
    expect(deniesWrite(deny({ Resource: 'arn:aws:s3:::b/other/*' }), bucket, probe)).toBe(false);
    expect(deniesWrite([{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', NotResource: 'arn:aws:s3:::b/k' }], bucket, probe)).toBe(false);
    expect(deniesWrite([{ Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' }], bucket, probe)).toBe(false);
  });

  it('evaluates a negated operator on a key the request lacks as holding, and Null by presence', () => {
    expect(deniesWrite(deny({ Condition: { StringNotEquals: { 's3:if-match': 'x' } } }), bucket, probe)).toBe(true);
    expect(deniesWrite(deny({ Condition: { StringEquals: { 's3:if-match': 'x' } } }), bucket, probe)).toBe(false);
    // Another account's principals refused: the probes are of this account.
    expect(deniesWrite(deny({ Condition: { StringNotEquals: { 'aws:PrincipalAccount': '1' } } }), bucket, probe)).toBe(false);
    // A key the probe cannot know is named, not guessed.
    expect(deniesWrite(deny({ Sid: 'ViaEndpoint', Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-1' } } }), bucket, probe)).toBe('ViaEndpoint uses StringNotEquals on aws:SourceVpce');
    expect(deniesWrite(deny({ Condition: { Null: { 's3:if-none-match': 'true' } } }), bucket, probe)).toBe(true);
    expect(deniesWrite(deny({ Condition: { Null: { 's3:if-none-match': 'true' } } }), bucket, { ...probe, conditional: true })).toBe(false);
    expect(deniesWrite(deny({ Condition: { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::1:role/*' } } }), bucket, probe)).toBe(false);
    expect(deniesWrite(deny({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }), bucket, probe)).toBe(false);
  });

  it('takes a principal by name, and NotPrincipal', () => {
    expect(deniesWrite(deny({ Principal: { AWS: 'arn:aws:iam::1:role/x' } }), bucket, probe)).toBe(true);
    expect(deniesWrite(deny({ Principal: { AWS: ['arn:aws:iam::1:role/y'] } }), bucket, probe)).toBe(false);
    expect(deniesWrite([{ Effect: 'Deny', NotPrincipal: { AWS: 'arn:aws:iam::1:role/x' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' }], bucket, probe)).toBe(false);
  });
});
