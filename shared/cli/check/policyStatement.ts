/**
 * An IAM policy statement as `tkp check` reads one (a bucket policy's, a bus policy's, a topic
 * policy's, a key policy's), the two rules of IAM's grammar every reader needs (wildcards, and a
 * field that is one value or a list), whether a policy's Deny statements refuse one request (an
 * Allow in a resource policy cannot overrule them), and whether a policy lets a request through
 * at all, where nothing else (no IAM policy) can let it in: an AWS service publishing to a topic.
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

/** The end of a row's detail naming the conditions its answer turned on that this does not evaluate; empty when none. */
export function unevaluatedNote(conditions: Iterable<string>): string {
  const names = [...new Set(conditions)];
  return names.length > 0 ? ` (on conditions this check does not evaluate: ${names.join(', ')})` : '';
}

/** An AWS service principal (`events.amazonaws.com`), as against an IAM principal's ARN. */
const isService = (principal: string) => !principal.startsWith('arn:');

/** Whether a Principal names everyone: `*`, or `"AWS": "*"`. */
export const namesEveryone = (principal: unknown): boolean => principal === '*' || list((principal as { AWS?: unknown } | undefined)?.AWS).includes('*');

/**
 * Whether a statement's Principal (or NotPrincipal) names the caller: everyone, an IAM principal's
 * ARN under `AWS`, or a service under `Service`.
 */
function principalMatches(principal: unknown, caller: string): boolean {
  if (namesEveryone(principal)) return true;
  const { AWS, Service } = (principal ?? {}) as { AWS?: unknown; Service?: unknown };
  return isService(caller) ? list(Service).includes(caller) : list(AWS).includes(caller);
}

const OPERATORS: Record<string, (values: string[], actual: string) => boolean> = {
  StringEquals: (values, actual) => values.includes(actual),
  StringLike: (values, actual) => values.some((value) => glob(value, actual)),
  ArnEquals: (values, actual) => values.some((value) => glob(value, actual)),
  ArnLike: (values, actual) => values.some((value) => glob(value, actual)),
  Bool: (values, actual) => values.some((value) => value.toLowerCase() === actual.toLowerCase()),
};

/** Whether a statement's conditions hold for the request; a string names an operator it does not evaluate. */
function conditionsHold(condition: PolicyStatement['Condition'], context: Record<string, string | undefined>): boolean | string {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      if (!(key.toLowerCase() in context)) return `${operator} on ${key}`;
      const actual = context[key.toLowerCase()];
      const values = list(expected);
      if (operator === 'Null') {
        if ((values[0] === 'true') !== (actual === undefined)) return false;
        continue;
      }
      const negated = /^(String|Arn)Not(Equals|Like)$/.exec(operator);
      const positive = negated ? `${negated[1]}${negated[2]}` : operator;
      const test = OPERATORS[positive];
      if (!test) return operator;
      // A key the request does not carry matches no value, so a negated operator holds.
      const matches = actual !== undefined && test(values, actual);
      if (negated ? matches : !matches) return false;
    }
  }
  return true;
}

/** The condition keys every request carries: who makes it, from which account, over TLS. */
export function principalContext(principalArn: string): Record<string, string | undefined> {
  return { 'aws:principalarn': principalArn, 'aws:principalaccount': principalArn.split(':')[4], 'aws:securetransport': 'true' };
}

/** One request as a policy sees it: who, doing what, to what, with the condition keys it carries (lower case; undefined: known to be absent). */
export interface PolicyRequest {
  /** An IAM principal's ARN, or a service principal such as `events.amazonaws.com`. */
  principal: string;
  action: string;
  resource: string;
  context: Record<string, string | undefined>;
}

/** Whether a statement's Action (or NotAction) names the action, whoever makes it. */
export function namesAction(statement: PolicyStatement, action: string): boolean {
  if (statement.Action !== undefined && !list(statement.Action).some((pattern) => glob(pattern, action, true))) return false;
  if (statement.NotAction !== undefined && list(statement.NotAction).some((pattern) => glob(pattern, action, true))) return false;
  return true;
}

/** Whether a statement's Principal and Action (or their Not forms) name the principal and the action, its Resource and Condition aside. */
export function namesPrincipalAndAction(statement: PolicyStatement, principal: string, action: string): boolean {
  if (statement.Principal !== undefined && !principalMatches(statement.Principal, principal)) return false;
  if (statement.NotPrincipal !== undefined && principalMatches(statement.NotPrincipal, principal)) return false;
  return namesAction(statement, action);
}

/** Whether the statement speaks of the request: true, false, or a string naming a condition it uses and this does not evaluate. */
function statementApplies(statement: PolicyStatement, request: PolicyRequest): boolean | string {
  const { principal, action, resource, context } = request;
  if (!namesPrincipalAndAction(statement, principal, action)) return false;
  if (statement.Resource !== undefined && !list(statement.Resource).some((pattern) => glob(pattern, resource))) return false;
  if (statement.NotResource !== undefined && list(statement.NotResource).some((pattern) => glob(pattern, resource))) return false;
  const holds = conditionsHold(statement.Condition, context);
  return typeof holds === 'string' ? `${statement.Sid ?? 'a statement'} uses ${holds}` : holds;
}

/** Whether the policy's Deny statements refuse the request; a string when one uses an operator or key this does not evaluate. */
export function deniesRequest(statements: readonly PolicyStatement[], request: PolicyRequest): boolean | string {
  let unknown: string | undefined;
  for (const statement of statements) {
    if (statement.Effect !== 'Deny') continue;
    const applies = statementApplies(statement, request);
    if (applies === true) return true;
    if (typeof applies === 'string') unknown = applies;
  }
  return unknown ?? false;
}

/**
 * Whether the policy alone lets the request through: no Deny refuses it and an Allow grants it.
 * A string when that turns on a condition this does not evaluate: a Deny that might refuse it, or,
 * with no Allow that surely grants it, an Allow that might.
 */
export function allowsRequest(statements: readonly PolicyStatement[], request: PolicyRequest): boolean | string {
  const denied = deniesRequest(statements, request);
  if (denied === true) return false;
  let unknown: string | undefined;
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') continue;
    const applies = statementApplies(statement, request);
    if (applies === true) return typeof denied === 'string' ? denied : true;
    if (typeof applies === 'string') unknown ??= applies;
  }
  return unknown ?? false;
}
