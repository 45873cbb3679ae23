/**
 * CloudFormation values as the stack's modules build them: intrinsic functions (`Fn::Sub`), the
 * ARNs and IAM strings made of them, and how long a value will be once CloudFormation fills it in
 * (the policies are packed by size). Deploy-time only, like the rest of shared/stack/; the names
 * of the stack's own resources are in stackNames.ts.
 */

export type Cfn = string | Record<string, unknown>;
export type Statement = { Effect: 'Allow' | 'Deny'; Action: string[]; Resource: Cfn | Cfn[]; Condition?: Record<string, unknown>; Sid?: string; Principal?: unknown; NotPrincipal?: unknown };

export const sub = (template: string): Cfn => ({ 'Fn::Sub': template });

/** The distinct values of a list of CloudFormation values (names or intrinsic functions), in first-seen order. */
export function distinctCfn(values: readonly Cfn[]): Cfn[] {
  return [...new Map(values.map((value) => [JSON.stringify(value), value])).values()];
}

/**
 * A key prefix as IAM reads it literally. In a Resource, and in a StringLike condition, `*` and `?`
 * are wildcards and `${...}` is a policy variable, while an S3 key may hold all three: a rule
 * `rec*` would otherwise grant `recordings/` too, and `in${x}` name nothing (and, inside
 * Fn::Sub, break the deploy). IAM writes them as `${*}`, `${?}` and `${$}`.
 */
export const iamLiteral = (text: string): string => text.replace(/[$*?]/g, (c) => `\${${c}}`);

/** The keys under a prefix, as an IAM pattern (an `s3:prefix` StringLike value): the prefix literally, then any key. */
export const keysUnder = (prefix: string): string => `${iamLiteral(prefix)}*`;

/** The objects under a prefix of a bucket, as an IAM resource: every statement that names a prefix names it through these two. */
export const objectsUnder = (bucket: Cfn, prefix: string): Cfn => bucketArn(bucket, `/${keysUnder(prefix)}`);

/** An S3 ARN; `path` may hold `${`, which Fn::Sub is told to keep (`${!`). */
export function bucketArn(bucket: Cfn, path = ''): Cfn {
  return typeof bucket === 'string'
    ? sub(`arn:\${AWS::Partition}:s3:::${bucket}${path.replaceAll('${', '${!')}`)
    : { 'Fn::Join': ['', [sub('arn:${AWS::Partition}:s3:::'), bucket, path]] };
}

/** Room for a value CloudFormation fills in at deploy time (a bucket name, an ARN), when sizing what it will be. */
export const DEPLOY_TIME_VALUE_LENGTH = 128;

/** A value CloudFormation fills in at deploy time (`Ref`, `Fn::Sub`, ...). */
export function isDeployTimeValue(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).some((key) => key === 'Ref' || key.startsWith('Fn::'));
}

/**
 * The longest each pseudo parameter becomes (aws-us-gov, ap-southeast-2, an account ID), and each
 * attribute a `Fn::Sub` names whose length AWS bounds (an SQS queue name).
 */
const FILLED_LENGTH: Record<string, number> = { 'AWS::Partition': 10, 'AWS::Region': 14, 'AWS::AccountId': 12, QueueName: 80 };

/** A CloudFormation value as a string at least as long as what CloudFormation will make of it. */
function atMostResolved(value: unknown): unknown {
  if (!isDeployTimeValue(value)) return value;
  const filled = (name: string) => 'x'.repeat(FILLED_LENGTH[name] ?? FILLED_LENGTH[name.slice(name.lastIndexOf('.') + 1)] ?? DEPLOY_TIME_VALUE_LENGTH);
  // `${!x}` is no reference: CloudFormation writes it as the literal `${x}` (bucketArn's IAM literals).
  if (typeof value['Fn::Sub'] === 'string') return value['Fn::Sub'].replace(/\$\{(!?)([^}]*)\}/g, (_, literal: string, name: string) => (literal ? `\${${name}}` : filled(name)));
  if (Array.isArray(value['Fn::Join'])) {
    const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => String(atMostResolved(part))).join(separator);
  }
  // A Ref to a pseudo parameter is as long as it; anything else (GetAtt, another Ref) gets the room for any value.
  return filled(typeof value.Ref === 'string' ? value.Ref : '');
}

/** How long a value will be once deployed, at most, as AWS counts it (JSON without whitespace). */
export const resolvedLength = (value: unknown) => JSON.stringify(value, (_, inner) => atMostResolved(inner)).length;

/**
 * A CloudFormation value as a plain string, what it names filled in from `values`: the pseudo
 * parameters, and any attribute the caller knows (`TranscriptBucket.Arn`). For a stack's values
 * outside a deploy: a policy `tkp COMMAND --permissions` prints (the account may be `*`), or the
 * local mode's moto. `${!x}` becomes the literal `${x}`, as CloudFormation writes it.
 */
export function filledIn(value: Cfn, values: Record<'AWS::Partition' | 'AWS::Region' | 'AWS::AccountId', string> & Record<string, string>): string {
  if (typeof value === 'string') return value;
  if (typeof value['Fn::Sub'] === 'string') {
    return value['Fn::Sub'].replace(/\$\{(!?)([^}]*)\}/g, (whole, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      if (name in values) return values[name] as string;
      throw new Error(`${whole} cannot be filled in outside a deploy`);
    });
  }
  if (Array.isArray(value['Fn::Join'])) {
    const [separator, parts] = value['Fn::Join'] as [string, Cfn[]];
    return parts.map((part) => filledIn(part, values)).join(separator);
  }
  throw new Error(`${JSON.stringify(value)} cannot be filled in outside a deploy`);
}
