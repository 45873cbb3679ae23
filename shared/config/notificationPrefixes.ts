/**
 * Which key prefixes the rules cover, as few as possible: the S3 notifications the stack sets, the
 * media the start role may read, and what `tkp backfill` lists. A fact about the config, so it
 * lives with it and the runtime flows need not reach into deploy-time code.
 */
import type { Rule } from './rule';

/**
 * The fewest S3 notification prefixes that cover every rule. S3 rejects two notifications for
 * the same event type whose prefixes overlap, and a prefix already covers everything under it;
 * an empty prefix covers the whole bucket.
 */
export function notificationPrefixes(rules: readonly Pick<Rule, 'prefix'>[]): string[] {
  const sorted = [...new Set(rules.map((rule) => rule.prefix))].sort();
  const kept: string[] = [];
  for (const prefix of sorted) {
    if (!kept.some((shorter) => prefix.startsWith(shorter))) kept.push(prefix);
  }
  return kept;
}
