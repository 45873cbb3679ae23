import { describe, expect, it } from 'vitest';
import { outcomeBusPolicyRow, type BusPublishers } from '../../../../shared/cli/check/outcomeBusPolicy';
import type { PolicyStatement } from '../../../../shared/cli/check/policyStatement';
import { outcomeBusPolicy } from '../../../../shared/stack/stackResources';

const role = (name: string) => `arn:aws:iam::123456789012:role/tkp-dev-us-east-1-${name}`;
const busArn = 'arn:aws:events:us-east-1:123456789012:event-bus/tkp-dev-outcomes';
const publishers: BusPublishers = {
  busName: 'tkp-dev-outcomes',
  busArn,
  verifiers: [role('verify'), role('sweep')],
  others: [
    { arn: 'arn:aws:iam::123456789012:role/tkp-check-outsider', who: 'anyone in the account' },
    { arn: role('start'), who: 'the start role' },
  ],
};

/** The statement the stack deploys, with CloudFormation's values filled in as DescribeEventBus returns them. */
function deployed(): PolicyStatement {
  const { StatementId, Statement } = outcomeBusPolicy().Properties;
  const roles: Record<string, string> = { VerifyRole: 'verify', SweepRole: 'sweep' };
  const resolve = (value: any): any => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    if ('Fn::GetAtt' in value) return value['Fn::GetAtt'][0] === 'OutcomeBus' ? busArn : role(roles[value['Fn::GetAtt'][0]] as string);
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]));
  };
  return { Sid: StatementId, ...resolve(Statement) };
}
const FIX = 'put its policy back as the stack defines it (the statement VerdictsOnlyFromVerifiers), which a redeploy does not do (README: "Putting back what changed outside a deploy")';
const UNTIL = 'Until then a verdict on the bus may be forged: the verdict ledger (verdicts/) and tkp audit do not rest on the bus';

describe('outcomeBusPolicyRow', () => {
  it('passes the policy the stack deploys: the verifiers publish, nobody else does', () => {
    expect(outcomeBusPolicyRow({ statements: [deployed()] }, publishers)).toEqual({
      rule: '(stack)',
      check: 'outcome bus policy',
      ok: true,
      detail: 'tkp-dev-outcomes: verdicts are published by the verifiers alone',
    });
  });

  it('fails a bus without the statement, or one that spares someone else, naming who may forge a verdict', () => {
    expect(outcomeBusPolicyRow({ statements: null }, publishers).detail).toBe(
      `tkp-dev-outcomes has no policy: anyone in the account may publish a verdict on it (VerdictsOnlyFromVerifiers); the start role may publish a verdict on it (VerdictsOnlyFromVerifiers); ${FIX}. ${UNTIL}`,
    );
    const sparing = deployed();
    (sparing.Condition as any).ArnNotEquals['aws:PrincipalArn'].push(role('start'));
    expect(outcomeBusPolicyRow({ statements: [sparing] }, publishers).detail).toBe(`tkp-dev-outcomes: the start role may publish a verdict on it (VerdictsOnlyFromVerifiers); ${FIX}. ${UNTIL}`);
  });

  it('fails a policy that refuses a verifier, since no verdict would be published, and names what it cannot evaluate', () => {
    const everyone: PolicyStatement = { Sid: 'Nobody', Effect: 'Deny', Principal: '*', Action: 'events:*', Resource: '*' };
    expect(outcomeBusPolicyRow({ statements: [everyone] }, publishers).detail).toBe(
      `tkp-dev-outcomes: it refuses ${role('verify')} its verdicts, so none is published; it refuses ${role('sweep')} its verdicts, so none is published; ${FIX}. ${UNTIL}`,
    );
    const vpc: PolicyStatement = { ...deployed(), Sid: 'OnlyFromVpc', Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-1' } } };
    expect(outcomeBusPolicyRow({ statements: [deployed(), vpc] }, publishers)).toMatchObject({
      ok: true,
      detail: 'tkp-dev-outcomes: verdicts are published by the verifiers alone; not evaluated: OnlyFromVpc uses StringNotEquals on aws:SourceVpce',
    });
    expect(outcomeBusPolicyRow({ error: 'AccessDeniedException: no' }, publishers)).toMatchObject({
      ok: false,
      detail: 'the policy of the outcome bus tkp-dev-outcomes cannot be read (AccessDeniedException: no); the caller needs events:DescribeEventBus to tell whether it refuses forged verdicts',
    });
  });
});
