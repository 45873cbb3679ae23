import type * as z from 'zod/mini';

/** zod/mini ships no English messages (that keeps bundles small), so the common cases are spelled out here. */
export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.message !== 'Invalid input') return issue.message;
  if (issue.code === 'invalid_type') {
    return issue.input === undefined ? `is required (${issue.expected})` : `must be ${article(issue.expected)}, not ${describeValue(issue.input)}`;
  }
  if (issue.code === 'invalid_value') {
    return `must be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}, not ${describeValue(issue.input)}`;
  }
  return `is invalid (${issue.code})`;
}

/** The issues of one schema check on one line, each with the path of the field it concerns. */
export function joinIssues(issues: readonly z.core.$ZodIssue[], whole: string): string {
  return issues.map((issue) => `${issue.path.join('.') || whole} ${issueMessage(issue)}`).join(', ');
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value) : typeof value === 'object' ? 'an object' : String(value);
}
