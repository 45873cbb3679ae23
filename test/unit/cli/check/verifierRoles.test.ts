import { describe, expect, it } from 'vitest';
import { verifierRolesRow } from '../../../../shared/cli/check/verifierRoles';

describe('verifierRolesRow', () => {
  const sids = ['VerdictsOnlyFromOwnCode', 'VerdictsOnlyFromFunctionCode'];
  const intact = (name: string) => ({ name, found: true, trustedBy: ['Service:lambda.amazonaws.com'], denySids: [...sids] });

  it('passes when each role is assumed by Lambda alone and keeps both Deny statements', () => {
    expect(verifierRolesRow([intact('tkp-dev-verify'), intact('tkp-dev-sweep')], sids)).toEqual({
      rule: '(stack)',
      check: 'verifier roles',
      ok: true,
      detail: "tkp-dev-verify, tkp-dev-sweep: assumed by Lambda alone, and verdicts refused to any code but their function's",
    });
  });

  it('names a role that is gone, assumable by someone else, or without its guard', () => {
    const row = verifierRolesRow(
      [
        { name: 'tkp-dev-verify', found: false },
        { ...intact('tkp-dev-sweep'), trustedBy: ['Service:lambda.amazonaws.com', 'AWS:arn:aws:iam::123456789012:root', 'Service:ec2.amazonaws.com'], denySids: ['VerdictsOnlyFromFunctionCode'] },
      ],
      sids,
    );
    expect(row).toMatchObject({
      ok: false,
      detail:
        'tkp-dev-verify does not exist; tkp-dev-sweep may also be assumed by AWS:arn:aws:iam::123456789012:root, Service:ec2.amazonaws.com; ' +
        "tkp-dev-sweep lacks its Deny statement(s) VerdictsOnlyFromOwnCode, so code other than its function's may publish verdicts with it; " +
        'put them back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy"). Until then a verdict may be forged: tkp audit --since the time they changed judges the transcripts themselves',
    });
  });

  it('fails, naming the permissions, when the roles cannot be read', () => {
    expect(verifierRolesRow({ error: 'AccessDenied: no' }, sids)).toMatchObject({
      ok: false,
      detail: "the verifiers' roles cannot be read (AccessDenied: no); the caller needs iam:GetRole and iam:GetRolePolicy to tell whether they refuse forged verdicts",
    });
  });
});
