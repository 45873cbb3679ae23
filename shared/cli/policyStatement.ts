/**
 * An IAM policy statement as `tkp check` reads one (a bucket policy's, a key policy's), and the
 * two rules of IAM's grammar every reader needs: wildcards, and a field that is one value or a list.
 */

/** A policy statement, as far as the checks read it. */
export interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** IAM's wildcards: `*` any run of characters, `?` one; case-sensitive but for actions. */
export const glob = (pattern: string, value: string, ignoreCase = false) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`, ignoreCase ? 'i' : '').test(value);
/** A policy field that may be one string or a list, as a list. */
export const list = (value: unknown): string[] => [value ?? []].flat().map(String);
