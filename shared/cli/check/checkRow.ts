/**
 * One row of `tkp check`'s table, and the words every row uses for a fix: a row for one rule (its
 * prefix) or for the stack as a whole, passed, failed or not checked yet, with what to change.
 */
import type { ProbeCheck } from '../../start/keyProbe';

export interface CheckRow extends ProbeCheck {
  /** The rule's prefix, or `(stack)` for checks of the stack as a whole. */
  rule: string;
  check: string;
  /** Not checked (before the first deploy, what the stack creates does not exist yet); not a failure. */
  skipped?: true;
}

export const STACK_ROW = '(stack)';

/**
 * How to mend what changed outside a deploy. A redeploy does not: `serverless deploy` skips a
 * service whose files did not change, and CloudFormation updates only resources whose definition
 * changed, so a rule turned off by hand stays off through any number of deploys.
 */
export const PUT_BACK_README = 'README: "Putting back what changed outside a deploy"';
export const PUT_BACK = `put them back as the stack defines them, which a redeploy does not do (${PUT_BACK_README})`;
