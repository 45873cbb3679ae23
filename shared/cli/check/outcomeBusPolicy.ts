/**
 * `tkp check`'s "outcome bus policy" row: whether the outcome bus still refuses a verdict from
 * anyone but the verifiers (VerdictsOnlyFromVerifiers), judged by what its Deny statements refuse,
 * as the transcript bucket's policy is. Consumers act on the verdicts they read there, so whoever
 * may put events on the bus may publish `Transcript Encryption Verified` for a transcript under
 * the wrong key. Changing the policy pages through TrustChangesRule when it is done; this row sees
 * the result, including a change made while no trail logged.
 */
import { PUT_BACK_README, STACK_ROW, type CheckRow } from './checkRow';
import { deniesRequest, principalContext, type PolicyStatement } from './policyStatement';

/** The bus policy's statements; `null` when the bus has no policy. */
export type BusPolicyAnswer = { statements: PolicyStatement[] | null } | { error: string };

export interface BusPublishers {
  busName: string;
  busArn: string;
  /** The verify and sweep roles' ARNs: the only principals that may publish. */
  verifiers: string[];
  /** Principals that must be refused, each with how the row names it. */
  others: { arn: string; who: string }[];
}

export function outcomeBusPolicyRow(answer: BusPolicyAnswer, publishers: BusPublishers): CheckRow {
  const row = { rule: STACK_ROW, check: 'outcome bus policy' };
  if ('error' in answer) {
    return { ...row, ok: false, detail: `the policy of the outcome bus ${publishers.busName} cannot be read (${answer.error}); the caller needs events:DescribeEventBus to tell whether it refuses forged verdicts` };
  }
  const statements = answer.statements ?? [];
  const problems: string[] = [];
  const unjudged = new Set<string>();
  const judge = (principalArn: string) => deniesRequest(statements, { principal: principalArn, action: 'events:PutEvents', resource: publishers.busArn, context: principalContext(principalArn) });
  for (const { arn, who } of publishers.others) {
    const refused = judge(arn);
    if (typeof refused === 'string') unjudged.add(refused);
    else if (!refused) problems.push(`${who} may publish a verdict on it (VerdictsOnlyFromVerifiers)`);
  }
  for (const arn of publishers.verifiers) {
    const refused = judge(arn);
    if (typeof refused === 'string') unjudged.add(refused);
    else if (refused) problems.push(`it refuses ${arn} its verdicts, so none is published`);
  }
  const notJudged = unjudged.size > 0 ? `; not evaluated: ${[...unjudged].join(', ')}` : '';
  if (problems.length === 0) {
    return { ...row, ok: true, detail: `${publishers.busName}: verdicts are published by the verifiers alone${notJudged}` };
  }
  return {
    ...row,
    ok: false,
    detail:
      `${publishers.busName}${answer.statements ? '' : ' has no policy'}: ${problems.join('; ')}${notJudged}; put its policy back as the stack defines it (the statement VerdictsOnlyFromVerifiers), which a redeploy does not do (${PUT_BACK_README}). ` +
      'Until then a verdict on the bus may be forged: the verdict ledger (verdicts/) and tkp audit do not rest on the bus',
  };
}
