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
  return coveringPrefixes(rules.map((rule) => rule.prefix));
}

/** The fewest of these prefixes that cover all of them: none lies under another. */
export function coveringPrefixes(prefixes: readonly string[]): string[] {
  const kept: string[] = [];
  for (const prefix of [...new Set(prefixes)].sort()) {
    if (!kept.some((shorter) => prefix.startsWith(shorter))) kept.push(prefix);
  }
  return kept;
}

/**
 * Covering prefixes narrowed to what lies under `within` (`tkp audit --prefix`, `tkp backfill
 * --prefix`): `within` itself where a prefix covers it, a prefix that lies under `within`, and
 * nothing else. Undefined `within` narrows nothing.
 */
export function narrowPrefixes(covering: readonly string[], within: string | undefined): string[] {
  if (within === undefined) return [...covering];
  return covering.flatMap((prefix) => (within.startsWith(prefix) ? [within] : prefix.startsWith(within) ? [prefix] : []));
}
