import { describe, expect, it } from 'vitest';
import { bucketExposureRow, PUBLIC_ACCESS_SETTINGS, type BucketExposureFacts, type ExposureScope } from '../../../../shared/cli/check/bucketExposure';
import type { PolicyStatement } from '../../../../shared/cli/check/policyStatement';

const scope: ExposureScope = { check: 'input bucket exposure', bucket: 'tkp-dev-input', holds: 'the recordings', partition: 'aws', account: '123456789012' };
/** The stack's input bucket: every public setting on, ACLs disabled, its TLS-only policy. */
const tlsOnly: PolicyStatement = {
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: ['arn:aws:s3:::tkp-dev-input', 'arn:aws:s3:::tkp-dev-input/*'],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};
const stacks: BucketExposureFacts = { publicAccessBlock: [...PUBLIC_ACCESS_SETTINGS], objectOwnership: 'BucketOwnerEnforced', aclGrants: [], policy: [tlsOnly], replication: [] };
const row = (facts: Partial<BucketExposureFacts>) => bucketExposureRow({ ...stacks, ...facts }, scope);
const allow = (statement: Omit<PolicyStatement, 'Effect'>): PolicyStatement => ({ Effect: 'Allow', ...statement });
const PUT_BACK =
  'Put the bucket back as the stack defines it, which a redeploy does not do (README: "Putting back what changed outside a deploy"), ' +
  'then find what was read or copied meanwhile (a replication rule\'s destination; S3 server access logs or CloudTrail data events, where on)';

describe('bucketExposureRow', () => {
  it('passes a bucket as the stack makes it, and grants inside the account or of writes alone', () => {
    expect(row({})).toEqual({
      rule: '(stack)',
      check: 'input bucket exposure',
      ok: true,
      detail: 's3://tkp-dev-input: nobody outside account 123456789012 may read the recordings: public access blocked (all four settings), ACLs disabled, and the policy lets no other account, service or the public read',
    });
    const policy = [
      tlsOnly,
      // A role of the account reads; another account's ingestion system uploads; the account's own principals, by condition.
      allow({ Principal: { AWS: 'arn:aws:iam::123456789012:role/analytics' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::tkp-dev-input/*' }),
      allow({ Principal: { AWS: '444455556666' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::tkp-dev-input/calls/*' }),
      allow({ Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::tkp-dev-input/*', Condition: { StringEquals: { 'aws:PrincipalAccount': '123456789012' } } }),
    ];
    expect(row({ policy }).ok).toBe(true);
    // A grant of another bucket says nothing of this one.
    expect(row({ policy: [allow({ Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::someone-elses/*' })] }).ok).toBe(true);
  });

  it('fails a public access block turned off, or none, naming the settings and the command that puts them back', () => {
    expect(row({ publicAccessBlock: ['BlockPublicAcls', 'IgnorePublicAcls'] }).detail).toBe(
      's3://tkp-dev-input: its public access block has BlockPublicPolicy, RestrictPublicBuckets off, so a public policy or ACL may open the recordings to anyone ' +
        '(aws s3api put-public-access-block --bucket tkp-dev-input --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true). ' +
        PUT_BACK,
    );
    expect(row({ publicAccessBlock: null }).detail).toMatch(/^s3:\/\/tkp-dev-input: it has no public access block, so /);
  });

  it('fails ACLs turned on, and names each grant of the bucket\'s ACL to anyone but its owner', () => {
    const on = row({ objectOwnership: 'ObjectWriter', aclGrants: [{ grantee: 'http://acs.amazonaws.com/groups/global/AllUsers', permission: 'READ' }] });
    expect(on.ok).toBe(false);
    expect(on.detail).toBe(
      's3://tkp-dev-input: its ACLs are on (object ownership ObjectWriter), so any object\'s own ACL may grant another account read, which no bucket setting shows ' +
        '(aws s3api put-bucket-ownership-controls --bucket tkp-dev-input --ownership-controls \'Rules=[{ObjectOwnership=BucketOwnerEnforced}]\'); ' +
        'its ACL grants READ to http://acs.amazonaws.com/groups/global/AllUsers (aws s3api put-bucket-acl --bucket tkp-dev-input --acl private). ' +
        PUT_BACK,
    );
    // No ownership controls at all leaves ACLs on.
    expect(row({ objectOwnership: undefined }).detail).toContain('its ACLs are on (object ownership not set)');
  });

  it('fails a policy that lets the public, another account or a service read, naming who, what and where, each Allow asked alone', () => {
    const policy = [
      tlsOnly,
      allow({ Sid: 'Everyone', Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::tkp-dev-input' }),
      allow({ Sid: 'Partner', Principal: { AWS: ['arn:aws:iam::444455556666:root', 'arn:aws:iam::123456789012:role/mine'] }, Action: 's3:Get*', Resource: 'arn:aws:s3:::tkp-dev-input/partners/*' }),
      allow({ Sid: 'Cdn', Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::tkp-dev-input/*', Condition: { StringEquals: { 'AWS:SourceArn': 'arn:aws:cloudfront::123456789012:distribution/E1' } } }),
    ];
    const { ok, detail } = row({ policy });
    expect(ok).toBe(false);
    expect(detail).toBe(
      's3://tkp-dev-input: by the bucket policy, anyone outside the account (the public) may read the recordings (s3:ListBucket); ' +
        'by the bucket policy, account 444455556666 (arn:aws:iam::444455556666:root) may read the recordings (s3:GetObject under "partners/", s3:GetObjectVersion under "partners/"); ' +
        'by the bucket policy, the service cloudfront.amazonaws.com may read the recordings (s3:GetObject on any object) where Cdn uses StringEquals on AWS:SourceArn, which tkp check does not evaluate: check that statement by hand. ' +
        PUT_BACK,
    );
  });

  it('names a read that turns on a condition it does not evaluate apart from one that is sure, and a Deny that refuses the read clears it', () => {
    const orgWide = allow({ Sid: 'OrgOnly', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::tkp-dev-input/*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc' } } });
    const everyone = allow({ Principal: { AWS: '*' }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::tkp-dev-input' });
    expect(row({ policy: [orgWide, everyone] }).detail).toMatch(
      /^s3:\/\/tkp-dev-input: by the bucket policy, anyone outside the account \(the public\) may read the recordings \(s3:ListBucket\), and may read the recordings \(s3:GetObject on any object\) where OrgOnly uses StringEquals on aws:PrincipalOrgID, which tkp check does not evaluate: check that statement by hand\. /,
    );
    const onlyTheAccount: PolicyStatement = { Sid: 'OnlyTheAccount', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*', Condition: { StringNotEquals: { 'aws:PrincipalAccount': '123456789012' } } };
    expect(row({ policy: [onlyTheAccount, everyone, allow({ Principal: { AWS: '444455556666' }, Action: 's3:*', Resource: '*' })] }).ok).toBe(true);
  });

  it('fails a canonical user or a web identity granted read, which no ARN stands for, naming the conditions it does not evaluate', () => {
    const oai = allow({ Sid: 'Oai', Principal: { CanonicalUser: '79a59df900b949e55d96a1e698fbaced' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::tkp-dev-input/*' });
    expect(row({ policy: [tlsOnly, oai] }).detail).toContain('the bucket policy\'s statement "Oai" lets the canonical user 79a59df900b949e55d96a1e698fbaced (a CloudFront origin access identity, or another account) read the recordings (s3:GetObject). ');
    const app = allow({ Principal: { Federated: 'cognito-identity.amazonaws.com' }, Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*', Condition: { StringEquals: { 'cognito-identity.amazonaws.com:aud': 'us-east-1:pool' } } });
    expect(row({ policy: [tlsOnly, app] }).detail).toContain(
      'the bucket policy\'s statement lets whoever signs in through cognito-identity.amazonaws.com (web identity federation) read the recordings (s3:GetObject, s3:ListBucket) (on conditions this check does not evaluate: cognito-identity.amazonaws.com:aud). ',
    );
    // Writes alone expose nothing.
    expect(row({ policy: [tlsOnly, { ...oai, Action: 's3:PutObject' }] }).ok).toBe(true);
  });

  it('fails replication to another account, and names replication within the account without failing', () => {
    const dr = { id: 'dr', enabled: true, destination: 'arn:aws:s3:::tkp-dr' };
    expect(row({ replication: [dr, { id: 'off', enabled: false, destination: 'arn:aws:s3:::x', destinationAccount: '999988887777' }] })).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/the public read; replication rule "dr" copies them to arn:aws:s3:::tkp-dr, whose readers tkp check does not read$/),
    });
    expect(row({ replication: [dr, { id: 'leak', enabled: true, destination: 'arn:aws:s3:::elsewhere', destinationAccount: '999988887777' }] }).detail).toBe(
      's3://tkp-dev-input: replication rule "leak" copies the recordings to arn:aws:s3:::elsewhere in account 999988887777 (aws s3api delete-bucket-replication --bucket tkp-dev-input, or put-bucket-replication without that rule); ' +
        `replication rule "dr" copies them to arn:aws:s3:::tkp-dr, whose readers tkp check does not read. ${PUT_BACK}`,
    );
  });

  it('fails when what decides it cannot be read, naming the permissions the caller needs', () => {
    expect(bucketExposureRow({ error: 'AccessDenied: Access Denied (s3:GetBucketPolicy)' }, { ...scope, check: 'transcript bucket exposure', bucket: 'tkp-dev-transcripts', holds: 'the transcripts' })).toEqual({
      rule: '(stack)',
      check: 'transcript bucket exposure',
      ok: false,
      detail:
        'who may read s3://tkp-dev-transcripts cannot be read (AccessDenied: Access Denied (s3:GetBucketPolicy)); the caller needs s3:GetBucketPublicAccessBlock, s3:GetBucketOwnershipControls, s3:GetBucketAcl, ' +
        's3:GetBucketPolicy and s3:GetReplicationConfiguration on it to tell whether the transcripts are open to others',
    });
  });
});
