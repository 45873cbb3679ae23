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
 *
 * A prefix with accented letters is listed in each of Unicode's spellings, composed (NFC) and
 * decomposed (NFD, as a Mac may name a file), folder by folder, because S3 compares a key's
 * bytes: rules match keys composed (ruleIndex.ts), so an upload spelled any of these ways is the
 * rule's, and S3 must notify it and the start role must be allowed to read it.
 */
export function notificationPrefixes(rules: readonly Pick<Rule, 'prefix'>[]): string[] {
  return coveringPrefixes(rules.flatMap((rule) => unicodeSpellings(rule.prefix)));
}

/**
 * A prefix in each Unicode spelling an uploader's tools may give it: each folder name as written,
 * composed or decomposed. A key is assembled from folder names that need not share a spelling: a
 * sync tool uploads a folder the Mac names decomposed into a bucket folder typed composed, and
 * writes `Équipe/U\u0308berweisung/...`, which neither whole-prefix spelling matches byte for byte.
 * A prefix with k accented folder names has 2^k spellings; each is one S3 notification.
 */
export function unicodeSpellings(prefix: string): string[] {
  let spellings = [''];
  for (const folder of prefix.split(/(?<=\/)/)) {
    const forms = [...new Set([folder, folder.normalize('NFC'), folder.normalize('NFD')])];
    spellings = spellings.flatMap((start) => forms.map((form) => start + form));
  }
  return [...new Set(spellings)];
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
