/**
 * `tkp check`'s "verifier roles" row: whether the verify and sweep roles still refuse verdicts
 * from anything but their functions' code and can be assumed by Lambda alone.
 */
import { PUT_BACK, STACK_ROW, type CheckRow } from './checkRow';

/** A verifier's role as GetRole and GetRolePolicy tell it; `found: false` when it does not exist. */
export interface VerifierRoleFacts {
  name: string;
  found: boolean;
  /** Who may assume it, as `Service:NAME` or `AWS:ARN` (the trust policy's Allow statements). */
  trustedBy?: string[];
  /** The Sids of the Deny statements in its own policy (named after the function). */
  denySids?: string[];
}

/**
 * Whether each verifier's role still refuses verdicts from anything but its function's code, and
 * can be assumed by Lambda alone: the guard (iamStatements.ts, verdictWriteGuard) removed, or the
 * role made assumable by a person, lets anyone who gets its credentials publish Verified for a
 * transcript under the wrong key. IAM's calls reach EventBridge in us-east-1 only, so no rule of
 * a stack elsewhere sees such a change; this row sees the result.
 */
export function verifierRolesRow(roles: readonly VerifierRoleFacts[] | { error: string }, guardSids: readonly string[]): CheckRow {
  const row = { rule: STACK_ROW, check: 'verifier roles' };
  if ('error' in roles) {
    return { ...row, ok: false, detail: `the verifiers' roles cannot be read (${roles.error}); the caller needs iam:GetRole and iam:GetRolePolicy to tell whether they refuse forged verdicts` };
  }
  const problems = roles.flatMap((role) => {
    if (!role.found) return [`${role.name} does not exist`];
    const others = (role.trustedBy ?? []).filter((principal) => principal !== 'Service:lambda.amazonaws.com');
    const missing = guardSids.filter((sid) => !(role.denySids ?? []).includes(sid));
    return [
      ...(others.length > 0 ? [`${role.name} may also be assumed by ${others.join(', ')}`] : []),
      ...(missing.length > 0 ? [`${role.name} lacks its Deny statement(s) ${missing.join(', ')}, so code other than its function's may publish verdicts with it`] : []),
    ];
  });
  if (problems.length === 0) {
    return { ...row, ok: true, detail: `${roles.map((role) => role.name).join(', ')}: assumed by Lambda alone, and verdicts refused to any code but their function's` };
  }
  return {
    ...row,
    ok: false,
    detail: `${problems.join('; ')}; ${PUT_BACK}. Until then a verdict may be forged: tkp audit --since the time they changed judges the transcripts themselves`,
  };
}
