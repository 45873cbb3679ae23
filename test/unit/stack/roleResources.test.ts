import { describe, expect, it } from 'vitest';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import { startRoleStatements, verifyRoleStatements } from '../../../shared/stack/iamStatements';
import {
  MANAGED_POLICIES_PER_ROLE,
  MANAGED_POLICY_MAX_LENGTH,
  packRolePolicies,
  ROLE_POLICY_MAX_LENGTH,
  roleResources,
  splitStatement,
  type RoleResources,
} from '../../../shared/stack/roleResources';
import { resolvedLength, type Statement } from '../../../shared/stack/cfnValues';

const stackCtx = (rules: unknown[]) => ({
  service: 'transcribe-kms-pipeline',
  stage: 'dev',
  region: 'us-east-1',
  jobNamePrefix: 'tkp.dev.',
  config: validatePipelineConfig({ rules }, { region: 'us-east-1', inputBucket: 'in', transcriptBucket: 'out' }),
});

/** A config of `count` rules, each with a key of its own, as a team with a key per prefix writes it. */
const ctxWithKeys = (count: number) =>
  stackCtx(Array.from({ length: count }, (_, i) => ({ prefix: `team-${i}/recordings/`, kmsKey: `arn:aws:kms:us-east-1:123456789012:key/${String(i).padStart(8, '0')}-1111-4222-8333-444455556666`, languageCode: 'en-US' })));

/** A config of `count` teams under one parent prefix, each with a key of its own: one S3 notification for all of them. */
const ctxUnderParent = (count: number) =>
  stackCtx([
    { prefix: 'teams/', languageCode: 'en-US' },
    ...Array.from({ length: count }, (_, i) => ({ prefix: `teams/team-${i}/`, kmsKey: `arn:aws:kms:us-east-1:123456789012:key/${String(i).padStart(8, '0')}-1111-4222-8333-444455556666`, languageCode: 'en-US' })),
  ]);

/** A config of `count` prefixes that share two aliases (and some no key), as an intake per site writes it. */
const ctxWithPrefixes = (count: number) =>
  stackCtx(Array.from({ length: count }, (_, i) => ({ prefix: `team-${String(i).padStart(3, '0')}/`, ...(i % 2 === 0 && { kmsKey: i % 4 === 0 ? 'alias/a' : 'alias/b' }), languageCode: 'en-US' })));

const ANY_OF = ['StringEquals', 'StringLike', 'ArnEquals', 'ArnLike', 'ForAnyValue:StringEquals', 'ForAnyValue:StringLike'];

/**
 * What a list of statements allows, as single-valued atoms: each statement once per resource and
 * per value of each "any of" condition list. Two lists with the same atoms allow the same.
 */
function atoms(statements: readonly Statement[]): string[] {
  const out = new Set<string>();
  for (const { Resource, Condition = {}, ...rest } of statements) {
    let partial: Record<string, unknown>[] = [[Resource].flat().map((resource) => ({ ...rest, Resource: resource }))].flat();
    for (const [operator, byKey] of Object.entries(Condition)) {
      for (const [key, value] of Object.entries(byKey as Record<string, unknown>)) {
        const values = ANY_OF.includes(operator) && Array.isArray(value) ? value : [value];
        partial = partial.flatMap((atom) => values.map((one) => ({ ...atom, [`${operator} ${key}`]: one })));
      }
    }
    for (const atom of partial) out.add(JSON.stringify(atom, Object.keys(atom).sort()));
  }
  return [...out].sort();
}

/** Every statement a role's resources hold, inline and managed, and each policy's deployed length at most. */
function policiesOf({ role, managedPolicies }: RoleResources) {
  return {
    inline: role.Properties.Policies[0]!.PolicyDocument.Statement,
    inlineLength: resolvedLength(role.Properties.Policies[0]!.PolicyDocument),
    managedArns: role.Properties.ManagedPolicyArns,
    managed: Object.entries(managedPolicies).map(([key, { Type, Properties }]) => ({ key, type: Type, name: Properties.ManagedPolicyName, length: resolvedLength(Properties.PolicyDocument), statements: Properties.PolicyDocument.Statement })),
  };
}

describe('a role within IAM\'s limits', () => {
  it('keeps every statement inline, in order, while they fit, and attaches no managed policy', () => {
    const ctx = ctxWithKeys(24);
    const { role, managedPolicies } = roleResources(ctx, 'StartRole', 'lambda.amazonaws.com', startRoleStatements(ctx));
    expect(managedPolicies).toEqual({});
    expect(role.Properties.Policies).toEqual([{ PolicyName: 'start', PolicyDocument: { Version: '2012-10-17', Statement: startRoleStatements(ctx) } }]);
    expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
    expect(role.Properties.RoleName).toBe('transcribe-kms-pipeline-dev-us-east-1-start');
  });

  it('puts what the inline policy cannot hold in managed policies the role attaches, each within IAM\'s 6,144 characters, allowing exactly the same', () => {
    const ctx = ctxWithKeys(150);
    const statements = startRoleStatements(ctx);
    expect(resolvedLength({ Version: '2012-10-17', Statement: statements })).toBeGreaterThan(ROLE_POLICY_MAX_LENGTH);
    const policies = policiesOf(roleResources(ctx, 'StartRole', 'lambda.amazonaws.com', statements));
    expect(policies.inlineLength).toBeLessThanOrEqual(ROLE_POLICY_MAX_LENGTH);
    expect(policies.managed.length).toBeGreaterThan(0);
    expect(policies.managed.length).toBeLessThanOrEqual(MANAGED_POLICIES_PER_ROLE);
    expect(policies.managedArns).toEqual(policies.managed.map(({ key }) => ({ Ref: key })));
    policies.managed.forEach(({ key, type, name, length }, i) => {
      expect(key).toBe(`StartRolePolicy${i + 1}`);
      expect(type).toBe('AWS::IAM::ManagedPolicy');
      expect(name).toBe(`transcribe-kms-pipeline-dev-us-east-1-start-${i + 1}`);
      expect(length).toBeLessThanOrEqual(MANAGED_POLICY_MAX_LENGTH);
    });
    // The 151-value StartTranscriptionJob condition is split across statements, and nothing else is allowed.
    const all = [...policies.inline, ...policies.managed.flatMap((policy) => policy.statements)];
    expect(all.filter((s) => s.Action.includes('transcribe:StartTranscriptionJob')).length).toBeGreaterThan(1);
    expect(atoms(all)).toEqual(atoms(statements));
  });

  it('splits the media read statement of 300 prefixes across managed policies', () => {
    const ctx = ctxWithPrefixes(300);
    const statements = startRoleStatements(ctx);
    const policies = policiesOf(roleResources(ctx, 'StartRole', 'lambda.amazonaws.com', statements));
    const all = [...policies.inline, ...policies.managed.flatMap((policy) => policy.statements)];
    const mediaReads = all.filter((s) => s.Action.join() === 's3:GetObject' && JSON.stringify(s.Resource).includes('team-'));
    expect(mediaReads.length).toBeGreaterThan(1);
    expect(mediaReads.flatMap((s) => [s.Resource].flat())).toHaveLength(300);
    for (const { length } of policies.managed) expect(length).toBeLessThanOrEqual(MANAGED_POLICY_MAX_LENGTH);
    expect(atoms(all)).toEqual(atoms(statements));
  });

  it('keeps a verifier\'s Deny guards whole and first in its inline policy, where tkp check reads them', () => {
    const ctx = ctxWithKeys(200);
    const statements = verifyRoleStatements(ctx);
    const policies = policiesOf(roleResources(ctx, 'VerifyRole', 'lambda.amazonaws.com', statements));
    expect(policies.managed.length).toBeGreaterThan(0);
    expect(policies.inline.slice(0, 2)).toEqual(statements.filter((s) => s.Effect === 'Deny'));
    expect(policies.managed.flatMap((policy) => policy.statements).filter((s) => s.Effect === 'Deny')).toEqual([]);
    expect(atoms([...policies.inline, ...policies.managed.flatMap((policy) => policy.statements)])).toEqual(atoms(statements));
  });

  it('refuses a config past even the managed policies, naming the role, its size, both limits and what to change', () => {
    const ctx = ctxWithKeys(160);
    expect(() => roleResources(ctx, 'StartRole', 'lambda.amazonaws.com', startRoleStatements(ctx))).toThrow(
      new RegExp(
        "^the start role's policies would be up to \\d+ characters once deployed, more than IAM lets one role hold \\(10240 inline, and 10 managed policies of 6144\\); " +
          'its largest statement is transcribe:StartTranscriptionJob on 1 resource with 168 condition values \\(\\d+ characters\\)\\. ' +
          "The policies list each input prefix \\(the config's 160 rules cover 160; .*each distinct key \\(160\\) and each output location \\(1\\): use fewer of whichever is largest",
      ),
    );
  });

  it('holds about 240 keys for rules under one parent, or 152 with their own prefixes (README: "Deploy"; S3\'s 100 notifications bind first there)', () => {
    const fits = (ctx: ReturnType<typeof stackCtx>) => packRolePolicies(startRoleStatements(ctx)) !== undefined;
    expect(fits(ctxUnderParent(240))).toBe(true);
    expect(fits(ctxUnderParent(241))).toBe(false);
    expect(fits(ctxWithKeys(152))).toBe(true);
    expect(fits(ctxWithKeys(153))).toBe(false);
  });
});

describe('splitStatement', () => {
  const allow = (extra: Partial<Statement>): Statement => ({ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['a', 'b', 'c'], ...extra });

  it('halves the longest list of resources or "any of" values, allowing together what the statement allowed', () => {
    const statement = allow({ Condition: { StringLike: { 'transcribe:OutputEncryptionKMSKeyId': ['k1', 'k2', 'k3', 'k4', 'k5'] }, StringEquals: { 'transcribe:OutputBucketName': ['out'] } } });
    const halves = splitStatement(statement)!;
    expect(halves.map((s) => (s.Condition as any).StringLike['transcribe:OutputEncryptionKMSKeyId'])).toEqual([['k1', 'k2', 'k3'], ['k4', 'k5']]);
    expect(halves.every((s) => JSON.stringify(s.Resource) === '["a","b","c"]')).toBe(true);
    expect(atoms(halves)).toEqual(atoms([statement]));
    expect(splitStatement(allow({}))!.map((s) => s.Resource)).toEqual([['a', 'b'], ['c']]);
  });

  it('never splits a Deny, a statement with a Sid, or a list whose values must hold together', () => {
    expect(splitStatement(allow({ Effect: 'Deny' }))).toBeUndefined();
    expect(splitStatement(allow({ Sid: 'Named' }))).toBeUndefined();
    // ForAllValues: every tag key must be in the one list; StringNotEquals: none of the values.
    const held = allow({ Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] }, StringNotEquals: { 'aws:PrincipalAccount': ['1', '2'] } } });
    expect(splitStatement(held)).toBeUndefined();
  });

  it('gives up, rather than split wrongly, when a statement longer than a managed policy has nothing it may halve', () => {
    const huge = allow({ Resource: 'x'.repeat(MANAGED_POLICY_MAX_LENGTH), Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] } } });
    expect(packRolePolicies(Array.from({ length: 2 }, () => huge))).toBeUndefined();
  });
});

describe('prefixes IAM would read as wildcards or policy variables', () => {
  const rules = [
    { prefix: 'rec*/', kmsKey: 'alias/a', languageCode: 'en-US' },
    { prefix: 'q?/', languageCode: 'en-US' },
    { prefix: 'in${x}/', languageCode: 'en-US', output: { prefix: 'out*/' } },
  ];
  const resources = (statements: Statement[], action: string) => statements.filter((s) => s.Action.includes(action)).flatMap((s) => [s.Resource].flat());

  it('are written as IAM literals (${*}, ${?}, ${$}), so rec* grants no other folder and in${x} is no variable', () => {
    const statements = startRoleStatements(stackCtx(rules));
    const media = JSON.stringify(resources(statements, 's3:GetObject'));
    expect(media).toContain('"/rec${*}/*"');
    expect(media).toContain('"/q${?}/*"');
    expect(media).toContain('"/in${$}{x}/*"');
    expect(media).not.toMatch(/"\/rec\*\/\*"|"\/q\?\/\*"|"\/in\$\{x\}\/\*"/);
    expect(JSON.stringify(resources(statements, 's3:PutObject'))).toContain('"/out${*}/*"');
    expect(JSON.stringify(verifyRoleStatements(stackCtx(rules)).find((s) => s.Action.includes('s3:ListBucket'))?.Condition)).toContain('"out${*}/*"');
  });

  it('keep their ${ literal in the Fn::Sub of an existing bucket\'s ARN, which CloudFormation would otherwise read as a reference', () => {
    const media = resources(startRoleStatements({ ...stackCtx(rules), existingInputBucket: 'their-input' }), 's3:GetObject');
    expect(media).toContainEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::their-input/in${!$}{x}/*' });
    expect(media).toContainEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::their-input/rec${!*}/*' });
    // Sized as what CloudFormation writes: ${!*} becomes the three characters ${*}, not a filled-in value.
    expect(resolvedLength({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::their-input/rec${!*}/*' })).toBe(JSON.stringify('arn:aws-us-gov:s3:::their-input/rec${*}/*').length);
  });
});
