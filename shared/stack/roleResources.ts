/**
 * A role's CloudFormation resources, within IAM's size limits. The statements go in the role's
 * inline policy while they fit (10,240 characters); the rest go in customer managed policies
 * attached to the role (6,144 characters each, at most 10 per role by IAM's default quota), so a
 * config with many keys, or up to S3's 100 input prefixes, still deploys. A statement too long for
 * a managed policy is split into statements that together allow exactly what it allowed. A role
 * that would not fit even so is refused here, naming what to change, rather than failing the
 * deploy half-way.
 */
import { notificationPrefixes } from '../config/notificationPrefixes';
import { resolvedLength, sub, type Statement } from './cfnValues';
import { roleName, STACK_ROLES, transcriptBucketRef, transcriptDestinations, type RoleId, type StackContext } from './stackNames';

/** IAM's limit on the inline policies of one role, in characters, whitespace not counted. */
export const ROLE_POLICY_MAX_LENGTH = 10_240;
/** IAM's limit on one customer managed policy, counted the same way. */
export const MANAGED_POLICY_MAX_LENGTH = 6_144;
/** How many managed policies IAM attaches to one role by default (a quota AWS can raise to 20). */
export const MANAGED_POLICIES_PER_ROLE = 10;

const policyDocument = (statements: Statement[]) => ({ Version: '2012-10-17', Statement: statements });
const EMPTY_DOCUMENT_LENGTH = resolvedLength(policyDocument([]));

/** A policy being filled, with its document's length so far: a statement adds its own length and, after the first, a comma. */
interface Filling {
  statements: Statement[];
  length: number;
}
const emptyPolicy = (): Filling => ({ statements: [], length: EMPTY_DOCUMENT_LENGTH });
const lengthWith = (policy: Filling, statementLength: number) => policy.length + statementLength + (policy.statements.length > 0 ? 1 : 0);

/**
 * Condition operators whose list of values means "any of them" for a single-valued key, so the
 * list can be split between two statements that otherwise match alike. Negated operators
 * (StringNotEquals: none of them) and ForAllValues (every request value in the whole list) cannot.
 */
const ANY_OF_OPERATORS = new Set(['StringEquals', 'StringLike', 'ArnEquals', 'ArnLike', 'ForAnyValue:StringEquals', 'ForAnyValue:StringLike']);

/**
 * An Allow statement as two that together allow exactly what it allowed: its longest list of
 * resources or of "any of" condition values, halved. Undefined when it has none to halve, or is a
 * Deny or has a Sid (which must stay whole: `tkp check` looks a Deny up by its Sid).
 */
export function splitStatement(statement: Statement): [Statement, Statement] | undefined {
  if (statement.Effect !== 'Allow' || statement.Sid) return undefined;
  const lists: { values: unknown[]; rebuild: (values: unknown[]) => Statement }[] = [];
  if (Array.isArray(statement.Resource) && statement.Resource.length > 1) {
    lists.push({ values: statement.Resource, rebuild: (values) => ({ ...statement, Resource: values as Statement['Resource'] }) });
  }
  for (const [operator, byKey] of Object.entries(statement.Condition ?? {})) {
    if (!ANY_OF_OPERATORS.has(operator)) continue;
    for (const [key, values] of Object.entries(byKey as Record<string, unknown>)) {
      if (!Array.isArray(values) || values.length < 2) continue;
      lists.push({ values, rebuild: (part) => ({ ...statement, Condition: { ...statement.Condition, [operator]: { ...(byKey as object), [key]: part } } }) });
    }
  }
  if (lists.length === 0) return undefined;
  const measured = lists.map((list) => ({ ...list, length: resolvedLength(list.values) }));
  const longest = measured.reduce((long, next) => (next.length > long.length ? next : long));
  const middle = Math.ceil(longest.values.length / 2);
  return [longest.rebuild(longest.values.slice(0, middle)), longest.rebuild(longest.values.slice(middle))];
}

export interface PackedPolicies {
  inline: Statement[];
  managed: Statement[][];
}

/**
 * The statements placed in order, each where it first fits: the inline policy, else the first
 * managed policy with room, else a new one; one too long for a managed policy is split first.
 * Deny statements go first and stay inline, where `tkp check` reads them. Undefined when the
 * statements need more managed policies than a role may have.
 */
export function packRolePolicies(statements: readonly Statement[]): PackedPolicies | undefined {
  const inline = emptyPolicy();
  const managed: Filling[] = [];
  const queue = [...statements.filter((s) => s.Effect === 'Deny'), ...statements.filter((s) => s.Effect !== 'Deny')];
  while (queue.length > 0) {
    const statement = queue.shift() as Statement;
    const length = resolvedLength(statement);
    const fits = (policy: Filling, max: number) => lengthWith(policy, length) <= max;
    const place = (policy: Filling) => {
      policy.length = lengthWith(policy, length);
      policy.statements.push(statement);
    };
    if (fits(inline, ROLE_POLICY_MAX_LENGTH)) {
      place(inline);
      continue;
    }
    if (statement.Effect === 'Deny') return undefined;
    const withRoom = managed.find((policy) => fits(policy, MANAGED_POLICY_MAX_LENGTH));
    if (withRoom) {
      place(withRoom);
      continue;
    }
    const fresh = emptyPolicy();
    if (!fits(fresh, MANAGED_POLICY_MAX_LENGTH)) {
      const halves = splitStatement(statement);
      if (!halves) return undefined;
      queue.unshift(...halves);
      continue;
    }
    if (managed.length === MANAGED_POLICIES_PER_ROLE) return undefined;
    place(fresh);
    managed.push(fresh);
  }
  return { inline: inline.statements, managed: managed.map((policy) => policy.statements) };
}

/** A statement as a message names it: its actions, and how many resources and condition values it lists. */
function describeStatement(statement: Statement): string {
  const resources = Array.isArray(statement.Resource) ? statement.Resource.length : 1;
  const values = Object.values(statement.Condition ?? {})
    .flatMap((byKey) => Object.values(byKey as Record<string, unknown>))
    .reduce<number>((count, value) => count + (Array.isArray(value) ? value.length : 1), 0);
  return `${statement.Action.join(', ')} on ${resources} resource${resources === 1 ? '' : 's'}${values > 1 ? ` with ${values} condition values` : ''}`;
}

/** Why a role's statements do not fit, and what in the config to change. */
function oversizedRoleMessage(ctx: StackContext, name: string, statements: Statement[]): string {
  const { config } = ctx;
  const length = resolvedLength(policyDocument(statements));
  const keys = new Set(config.rules.flatMap((rule) => (rule.kmsKey ? [rule.kmsKey.value] : []))).size;
  const largest = statements.map((statement) => ({ statement, length: resolvedLength(statement) })).reduce((big, next) => (next.length > big.length ? next : big));
  return (
    `the ${name} role's policies would be up to ${length} characters once deployed, more than IAM lets one role hold ` +
    `(${ROLE_POLICY_MAX_LENGTH} inline, and ${MANAGED_POLICIES_PER_ROLE} managed policies of ${MANAGED_POLICY_MAX_LENGTH}); ` +
    `its largest statement is ${describeStatement(largest.statement)} (${largest.length} characters). ` +
    `The policies list each input prefix (the config's ${config.rules.length} rules cover ${notificationPrefixes(config.rules).length}; a prefix under another rule's is not listed again), ` +
    `each distinct key (${keys}) and each output location (${transcriptDestinations(config, transcriptBucketRef(ctx)).length}): ` +
    'use fewer of whichever is largest (rules that share a key or an output location share its statements), or split the prefixes between two stages that share the input bucket (--param="inputBucket=NAME")'
  );
}

/** The logical ID of a role's nth managed policy (n from 1), beside the role's. */
export const managedPolicyId = (id: RoleId, n: number) => `${id}Policy${n}`;

type PolicyDocument = ReturnType<typeof policyDocument>;

export interface RoleResource {
  Type: 'AWS::IAM::Role';
  Properties: {
    RoleName: string;
    AssumeRolePolicyDocument: { Version: string; Statement: Record<string, unknown>[] };
    Policies: { PolicyName: string; PolicyDocument: PolicyDocument }[];
    ManagedPolicyArns?: { Ref: string }[];
  };
}

export interface ManagedPolicyResource {
  Type: 'AWS::IAM::ManagedPolicy';
  Properties: { ManagedPolicyName: string; Description: string; PolicyDocument: PolicyDocument };
}

/** A role and the managed policies it attaches beyond its inline policy (none for most configs), keyed by logical ID. */
export interface RoleResources {
  role: RoleResource;
  managedPolicies: Record<string, ManagedPolicyResource>;
}

/**
 * A role for one AWS service, with the managed policies its statements need beyond its inline
 * policy. Transcribe's data access role is only assumable by Transcribe acting for this account
 * (aws:SourceAccount, aws:SourceArn), against the confused deputy. The role attaches its managed
 * policies when it is created, so a function never runs with part of its permissions.
 */
export function roleResources(ctx: StackContext, id: RoleId, service: string, statements: Statement[]): RoleResources {
  const name = STACK_ROLES[id];
  const packed = packRolePolicies(statements);
  if (!packed) throw new Error(oversizedRoleMessage(ctx, name, statements));
  const confusedDeputy =
    service === 'transcribe.amazonaws.com'
      ? {
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': sub('arn:${AWS::Partition}:transcribe:${AWS::Region}:${AWS::AccountId}:*') },
          },
        }
      : {};
  const managedPolicies = Object.fromEntries(
    packed.managed.map((part, i): [string, ManagedPolicyResource] => [
      managedPolicyId(id, i + 1),
      {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          ManagedPolicyName: `${roleName(ctx, name)}-${i + 1}`,
          Description: `Part ${i + 1} of what the ${name} role may do, beyond its inline policy, which is at IAM's ${ROLE_POLICY_MAX_LENGTH} characters`,
          PolicyDocument: policyDocument(part),
        },
      },
    ]),
  );
  const role: RoleResource = {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: roleName(ctx, name),
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: [service] }, Action: ['sts:AssumeRole'], ...confusedDeputy }],
      },
      Policies: [{ PolicyName: name, PolicyDocument: policyDocument(packed.inline) }],
      ...(packed.managed.length > 0 && { ManagedPolicyArns: Object.keys(managedPolicies).map((policyId) => ({ Ref: policyId })) }),
    },
  };
  return { role, managedPolicies };
}

/** A role's resources as the template lists them, by logical ID. */
export function roleTemplateResources(ctx: StackContext, id: RoleId, service: string, statements: Statement[]): Record<string, RoleResource | ManagedPolicyResource> {
  const { role, managedPolicies } = roleResources(ctx, id, service, statements);
  return { [id]: role, ...managedPolicies };
}
