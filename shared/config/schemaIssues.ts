/**
 * Object schemas whose issues read as instructions, and the one wording of a schema issue. The
 * config and both event parsers use it, so a missing field reads the same everywhere.
 */
import * as v from 'valibot';

export type SchemaIssue = v.BaseIssue<unknown>;
type Entries = v.ObjectEntries;

/**
 * The expected side of an issue in the config's words: `string`, `object`, or a list of
 * allowed values (`"a" or "b"`), which is how valibot's `expects` spells a picklist or literal (`("a" | "b")`).
 */
function expectedWords(expects: string): string {
  if (expects === 'Object' || expects === 'Array') return expects.toLowerCase();
  return expects.replace(/^\((.*)\)$/, '$1').replace(/ \| /g, ' or ');
}

/** An object's own issues: not an object, a required field missing, or (closed) fields it does not know. */
function objectMessage(entries: Entries) {
  return (issue: SchemaIssue): string => {
    const item = issue.path?.at(-1);
    if (issue.expected === 'never' && item?.input && typeof item.input === 'object') {
      const unknown = Object.keys(item.input).filter((key) => !Object.hasOwn(entries, key));
      return `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => JSON.stringify(key)).join(', ')}`;
    }
    if (item && typeof item.key === 'string' && Object.hasOwn(entries, item.key)) {
      return `is required (${expectedWords((entries[item.key] as v.GenericSchema).expects)})`;
    }
    return `must be an object, not ${describeValue(issue.input)}`;
  };
}

/** An object that rejects fields it does not know (the config: a misspelt field must not be ignored). */
export function closedObject<const E extends Entries>(entries: E) {
  return v.strictObject(entries, objectMessage(entries));
}

/** An object that ignores fields it does not read (AWS events grow new fields). */
export function openObject<const E extends Entries>(entries: E) {
  return v.object(entries, objectMessage(entries));
}

/** A string that must hold something: an event's names and keys. */
export const nonEmptyString = v.pipe(v.string(), v.minLength(1, 'must not be empty'));

/** Whether an issue is a closed object's unknown fields: its path ends at the first unknown key, not at a field. */
export function isUnknownFieldsIssue(issue: SchemaIssue): boolean {
  return issue.type === 'strict_object' && issue.expected === 'never';
}

/** The issue's path as keys and indexes, ending at the object itself for unknown fields. */
export function issuePath(issue: SchemaIssue): (string | number)[] {
  const keys = (issue.path ?? []).map((item) => item.key as string | number);
  return isUnknownFieldsIssue(issue) ? keys.slice(0, -1) : keys;
}

/**
 * What is wrong, after the field's path. valibot's own messages start "Invalid"; the messages
 * this project gives its schemas (and objectMessage's) are kept as written.
 */
export function issueMessage(issue: SchemaIssue): string {
  if (!issue.message.startsWith('Invalid ')) return issue.message;
  if (issue.kind === 'schema' && issue.expected) {
    const expected = expectedWords(issue.expected);
    const allowed = /^["\d]/.test(expected);
    return `must be ${allowed ? expected : article(expected)}, not ${describeValue(issue.input)}`;
  }
  return `is invalid (${issue.type})`;
}

/** The issues of one schema check on one line, each with the path of the field it concerns. */
export function joinIssues(issues: readonly SchemaIssue[], whole: string): string {
  return issues.map((issue) => `${issuePath(issue).join('.') || whole} ${issueMessage(issue)}`).join(', ');
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value) : typeof value === 'object' ? 'an object' : String(value);
}
