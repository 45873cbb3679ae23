/**
 * The reads behind `tkp check`: each of the stack's resources as its service tells it (rules,
 * roles, the buckets' defaults and policies, the bus, alarms, the topic, queues, functions,
 * trails), as the facts the check's rows judge. A thing that does not exist is a fact too
 * (`found: false`, null, or a rule without a state); any other refusal throws, for its row to name.
 */
import { GetTemplateCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeTrailsCommand, GetTrailStatusCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import {
  GetBucketAclCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketReplicationCommand,
  GetPublicAccessBlockCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeEventBusCommand, DescribeRuleCommand, ListTargetsByRuleCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetRoleCommand, GetRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import {
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
  ListEventSourceMappingsCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { GetTopicAttributesCommand, ListSubscriptionsByTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DescribeKeyCommand, GetKeyPolicyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { awsErrorName, isMissingQueue } from '../../aws/awsErrors';
import { describeError } from '../../aws/errors';
import { bucketDefaultOf } from '../../verify/bucketDefaultEncryption';
import type { InputBucketDefault } from './inputBucketRows';
import type { AlarmFacts, RuleFacts, SubscriptionFacts, TrailFacts } from './pagingRows';
import type { VerifierRoleFacts } from './verifierRoles';
import type { TopicKeyFacts } from './alarmTopicKey';
import type { FunctionFacts } from './stackFunctions';
import { deployedCodeOf, type DeployedCode } from './functionCode';
import type { QueueConsumer, QueueFacts, StackQueueFacts } from './stackQueues';
import type { LifecycleRuleFacts } from './transcriptBucketLifecycle';
import { PUBLIC_ACCESS_SETTINGS, type BucketExposureFacts } from './bucketExposure';
import { ACLS_DISABLED } from '../../stack/stackResources';
import { isVerifier, type FunctionId } from '../../stack/stackNames';
import type { PolicyStatement } from './policyStatement';

/**
 * Each rule's state and targets; a rule that does not exist has neither, and any other refusal
 * throws. A rule has at most five targets, so one ListTargetsByRule page holds them all.
 */
export async function readRules<R extends { name: string; bus?: string }>(events: EventBridgeClient, rules: readonly R[]): Promise<(R & Pick<RuleFacts, 'state' | 'targets'>)[]> {
  return Promise.all(
    rules.map((rule) => {
      const bus = rule.bus ? { EventBusName: rule.bus } : {};
      const read = async () => {
        const { State } = await events.send(new DescribeRuleCommand({ Name: rule.name, ...bus }));
        const { Targets = [] } = await events.send(new ListTargetsByRuleCommand({ Rule: rule.name, ...bus }));
        const targets = Targets.map((target) => ({
          arn: target.Arn ?? '',
          ...(target.DeadLetterConfig?.Arn && { deadLetterArn: target.DeadLetterConfig.Arn }),
          ...(target.InputTransformer?.InputTemplate && { inputTemplate: target.InputTransformer.InputTemplate }),
        }));
        return { ...rule, ...(State && { state: State }), targets };
      };
      return unlessAbsent(read(), rule);
    }),
  );
}

/** Whether an error is one of the named ones. */
const named =
  (...names: string[]) =>
  (error: unknown) =>
    names.includes(awsErrorName(error) ?? '');

/**
 * What a read answers, or `absent` where the service says the thing does not exist (by default
 * ResourceNotFoundException; each service has its own name for it); any other refusal throws.
 */
function unlessAbsent<T, A>(read: Promise<T>, absent: A, isAbsent: (error: unknown) => boolean = named('ResourceNotFoundException')): Promise<T | A> {
  return read.catch((error: unknown) => {
    if (isAbsent(error)) return absent;
    throw error;
  });
}

/** A policy document as IAM returns it: URL-encoded JSON. */
function policyDocument(encoded: string | undefined): { Statement?: unknown } {
  return JSON.parse(decodeURIComponent(encoded ?? '{}')) as { Statement?: unknown };
}

/** A policy's statements, which IAM allows as one object or a list. */
const statementsOf = (document: { Statement?: unknown }) => [document.Statement ?? []].flat() as PolicyStatement[];
/** The statements of a policy as S3, SNS, SQS, EventBridge and KMS return it: JSON text, none when absent. */
const statementsIn = (json: string | undefined) => statementsOf(JSON.parse(json ?? '{}') as { Statement?: unknown });

/**
 * Each verifier role's trust (who may assume it) and the Sids of the Deny statements in its own
 * inline policy, named after its function; a role that does not exist is `found: false`.
 */
export async function readVerifierRoles(iam: IAMClient, roles: readonly { name: string; policy: string }[]): Promise<VerifierRoleFacts[]> {
  return Promise.all(
    roles.map(({ name, policy }) => {
      const read = async (): Promise<VerifierRoleFacts> => {
        const [{ Role }, { PolicyDocument }] = await Promise.all([
          iam.send(new GetRoleCommand({ RoleName: name })),
          iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policy })),
        ]);
        const trustedBy = statementsOf(policyDocument(Role?.AssumeRolePolicyDocument))
          .filter((statement) => statement.Effect === 'Allow')
          .flatMap((statement) =>
            typeof statement.Principal === 'string'
              ? [`AWS:${statement.Principal}`]
              : Object.entries((statement.Principal ?? {}) as Record<string, string | string[]>).flatMap(([kind, values]) => [values].flat().map((value) => `${kind}:${value}`)),
          );
        const denySids = statementsOf(policyDocument(PolicyDocument)).flatMap((statement) => (statement.Effect === 'Deny' && statement.Sid ? [statement.Sid] : []));
        return { name, found: true, trustedBy, denySids };
      };
      return unlessAbsent(read(), { name, found: false }, named('NoSuchEntity', 'NoSuchEntityException'));
    }),
  );
}

/** The input bucket's default encryption: the key an upload that names none gets (no configuration: SSE-S3). */
export async function readInputBucketDefault(s3: S3Client, bucket: string): Promise<InputBucketDefault> {
  const configuration = await unlessAbsent(
    s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })).then((answer) => answer.ServerSideEncryptionConfiguration),
    undefined,
    named('ServerSideEncryptionConfigurationNotFoundError'),
  );
  const found = bucketDefaultOf(configuration);
  return found.serverSideEncryption === 'AES256' || !found.keyId ? { serverSideEncryption: 'AES256' } : { serverSideEncryption: found.serverSideEncryption, key: found.keyId };
}

/** A bucket policy's statements, or null when the bucket has none (NoSuchBucketPolicy). */
export async function readBucketPolicy(s3: S3Client, bucket: string): Promise<{ statements: PolicyStatement[] | null }> {
  return unlessAbsent(
    s3.send(new GetBucketPolicyCommand({ Bucket: bucket })).then(({ Policy }) => ({ statements: Policy ? statementsIn(Policy) : null })),
    { statements: null },
    named('NoSuchBucketPolicy'),
  );
}

/** A bucket's lifecycle rules, none when it has no configuration (NoSuchLifecycleConfiguration). */
export async function readBucketLifecycle(s3: S3Client, bucket: string): Promise<{ rules: LifecycleRuleFacts[] }> {
  const rules = await unlessAbsent(
    s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })).then(({ Rules }) => Rules ?? []),
    [],
    named('NoSuchLifecycleConfiguration'),
  );
  return { rules: rules.map(lifecycleRuleFacts) };
}

function lifecycleRuleFacts(rule: LifecycleRule): LifecycleRuleFacts {
  const { Filter: filter, Expiration: expiration } = rule;
  const and = filter?.And;
  return {
    ...(rule.ID && { id: rule.ID }),
    enabled: rule.Status === 'Enabled',
    // Prefix, the rule's own, is the form before Filter; S3 still returns it for rules made so.
    prefix: rule.Prefix ?? filter?.Prefix ?? and?.Prefix ?? '',
    narrowed: Boolean(filter?.Tag || filter?.ObjectSizeGreaterThan !== undefined || filter?.ObjectSizeLessThan !== undefined || and?.Tags?.length || and?.ObjectSizeGreaterThan !== undefined || and?.ObjectSizeLessThan !== undefined),
    ...((expiration?.Days !== undefined || expiration?.Date !== undefined) && { expires: { ...(expiration.Days !== undefined && { days: expiration.Days }), ...(expiration.Date && { date: expiration.Date.toISOString().slice(0, 10) }) } }),
  };
}

/** A read refused or failed, with the permission it needs named. */
const needing = <T>(permission: string, read: Promise<T>): Promise<T> =>
  read.catch((error: unknown) => {
    throw new Error(`${describeError(error)} (${permission})`);
  });

/**
 * Who may read a bucket: its public access block, object ownership, ACL grants to others (read
 * only while ACLs are on), policy and replication rules. Each setting a bucket has not got is a
 * fact (none); any other refusal throws, naming the permission it needs.
 */
export async function readBucketExposure(s3: S3Client, bucket: string, policy?: Promise<{ statements: PolicyStatement[] | null }>): Promise<BucketExposureFacts> {
  const [block, ownership, statements, replication] = await Promise.all([
    needing('s3:GetBucketPublicAccessBlock', unlessAbsent(s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })).then(({ PublicAccessBlockConfiguration: c }) => c ?? {}), null, named('NoSuchPublicAccessBlockConfiguration'))),
    needing('s3:GetBucketOwnershipControls', unlessAbsent(s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket })).then(({ OwnershipControls }) => OwnershipControls?.Rules?.[0]?.ObjectOwnership), undefined, named('OwnershipControlsNotFoundError'))),
    needing('s3:GetBucketPolicy', policy ?? readBucketPolicy(s3, bucket)),
    needing('s3:GetReplicationConfiguration', unlessAbsent(s3.send(new GetBucketReplicationCommand({ Bucket: bucket })).then(({ ReplicationConfiguration }) => ReplicationConfiguration?.Rules ?? []), [], named('ReplicationConfigurationNotFoundError'))),
  ]);
  const aclsOn = ownership !== ACLS_DISABLED;
  const acl = aclsOn ? await needing('s3:GetBucketAcl', s3.send(new GetBucketAclCommand({ Bucket: bucket }))) : undefined;
  const ownerId = acl?.Owner?.ID;
  return {
    publicAccessBlock: block && PUBLIC_ACCESS_SETTINGS.filter((setting) => block[setting] === true),
    ...(ownership && { objectOwnership: ownership }),
    aclGrants: (acl?.Grants ?? [])
      .filter(({ Grantee }) => !(Grantee?.Type === 'CanonicalUser' && Grantee.ID === ownerId))
      .map(({ Grantee, Permission }) => ({ grantee: Grantee?.URI ?? Grantee?.EmailAddress ?? Grantee?.ID ?? '(unknown)', permission: Permission ?? '(unknown)' })),
    policy: statements.statements,
    replication: replication.map((rule) => ({
      ...(rule.ID && { id: rule.ID }),
      enabled: rule.Status === 'Enabled',
      destination: rule.Destination?.Bucket ?? '(no destination)',
      ...(rule.Destination?.Account && { destinationAccount: rule.Destination.Account }),
    })),
  };
}

/** An event bus's policy statements, or null when it has none; a refused or missing bus throws. */
export async function readBusPolicy(events: EventBridgeClient, busName: string): Promise<{ statements: PolicyStatement[] | null }> {
  const { Policy } = await events.send(new DescribeEventBusCommand({ Name: busName }));
  if (!Policy) return { statements: null };
  return { statements: statementsIn(Policy) };
}

/** The named metric alarms, each found or not (DescribeAlarms takes up to 100 names). */
export async function readAlarms(cloudWatch: CloudWatchClient, names: readonly string[]): Promise<AlarmFacts[]> {
  const { MetricAlarms = [] } = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [...names], AlarmTypes: ['MetricAlarm'] }));
  return names.map((name) => {
    const alarm = MetricAlarms.find((found) => found.AlarmName === name);
    return alarm ? { name, found: true, ...(alarm.ActionsEnabled !== undefined && { actionsEnabled: alarm.ActionsEnabled }), actions: alarm.AlarmActions ?? [] } : { name, found: false };
  });
}

/** The alarm topic's subscriptions, every page of them; a refused or missing topic throws. */
export async function readSubscriptions(sns: SNSClient, topicArn: string): Promise<SubscriptionFacts[]> {
  const found: SubscriptionFacts[] = [];
  let NextToken: string | undefined;
  do {
    const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, ...(NextToken && { NextToken }) }));
    for (const subscription of page.Subscriptions ?? []) {
      // A confirmed subscription has its own ARN; an unconfirmed one is listed as PendingConfirmation.
      found.push({ protocol: subscription.Protocol ?? '?', endpoint: subscription.Endpoint ?? '?', confirmed: subscription.SubscriptionArn?.startsWith('arn:') === true });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

/**
 * The alarm topic's policy statements and its KMS key: none, or the key as DescribeKey tells it
 * and, for a customer managed key, the key policy's statements. A refused or missing topic throws;
 * a key or key policy that cannot be read is returned as the reason, for the row to say.
 */
export async function readAlarmTopic(clients: { sns: SNSClient; kms: KMSClient }, topicArn: string): Promise<{ policy: PolicyStatement[]; key: TopicKeyFacts }> {
  const { Attributes = {} } = await clients.sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
  return { policy: statementsIn(Attributes.Policy), key: await readTopicKey(clients.kms, Attributes.KmsMasterKeyId) };
}

/** A topic's KMS key as DescribeKey tells it and, for a customer managed key, its policy. */
async function readTopicKey(kms: KMSClient, keyId: string | undefined): Promise<TopicKeyFacts> {
  if (!keyId) return { keyId: null };
  const reason = (error: unknown) => ({ error: describeError(error) });
  const key = await kms.send(new DescribeKeyCommand({ KeyId: keyId })).then(
    ({ KeyMetadata: metadata }) => ({ arn: metadata?.Arn ?? keyId, state: metadata?.KeyState ?? 'unknown', managedByAws: metadata?.KeyManager === 'AWS' }),
    reason,
  );
  if ('error' in key || key.managedByAws) return { keyId, key };
  // GetKeyPolicy takes a key ID or ARN, never an alias.
  const statements = await kms
    .send(new GetKeyPolicyCommand({ KeyId: key.arn, PolicyName: 'default' }))
    .then(({ Policy }) => statementsIn(Policy))
    .catch(reason);
  return { keyId, key, statements };
}

/** One queue's policy, redrive policy and retention; a queue that does not exist is `found: false`, any other refusal throws. */
async function readQueue(clients: { sqs: SQSClient; lambda: LambdaClient }, url: string): Promise<QueueFacts> {
  const read = async (): Promise<QueueFacts> => {
    const { Attributes = {} } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'Policy', 'RedrivePolicy', 'MessageRetentionPeriod', 'KmsMasterKeyId'] }));
    const redrive = Attributes.RedrivePolicy ? (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string }) : undefined;
    return {
      url,
      found: true,
      arn: Attributes.QueueArn ?? '',
      policy: statementsIn(Attributes.Policy),
      // SQS gives maxReceiveCount as a number or, set through some clients, a string.
      ...(redrive && { redrive: { ...(redrive.deadLetterTargetArn && { deadLetterTargetArn: redrive.deadLetterTargetArn }), ...(redrive.maxReceiveCount !== undefined && { maxReceiveCount: Number(redrive.maxReceiveCount) }) } }),
      retentionSeconds: Number(Attributes.MessageRetentionPeriod ?? 0),
      ...(Attributes.KmsMasterKeyId && { kmsKeyId: Attributes.KmsMasterKeyId }),
      consumers: await readTriggers(clients.lambda, { EventSourceArn: Attributes.QueueArn ?? '' }),
    };
  };
  return unlessAbsent(read(), { url, found: false }, isMissingQueue);
}

/** The Lambda triggers of a function or of an event source, every page of them. */
async function readTriggers(lambda: LambdaClient, filter: { FunctionName: string } | { EventSourceArn: string }): Promise<(QueueConsumer & { source: string })[]> {
  const triggers: (QueueConsumer & { source: string })[] = [];
  let Marker: string | undefined;
  do {
    const page = await lambda.send(new ListEventSourceMappingsCommand({ ...filter, ...(Marker && { Marker }) }));
    for (const mapping of page.EventSourceMappings ?? []) {
      triggers.push({ uuid: mapping.UUID ?? '?', functionArn: mapping.FunctionArn ?? '?', source: mapping.EventSourceArn ?? '?', state: mapping.State ?? '?' });
    }
    Marker = page.NextMarker;
  } while (Marker);
  return triggers;
}

/** The stack's three queues as GetQueueAttributes tells them, and the Lambda triggers that read each. */
export async function readStackQueues(clients: { sqs: SQSClient; lambda: LambdaClient }, urls: { start: string; startDeadLetters: string; verifyDeadLetters: string }): Promise<StackQueueFacts> {
  const [start, startDeadLetters, verifyDeadLetters] = await Promise.all([readQueue(clients, urls.start), readQueue(clients, urls.startDeadLetters), readQueue(clients, urls.verifyDeadLetters)]);
  return { start, startDeadLetters, verifyDeadLetters };
}

/**
 * Each of the stack's functions as Lambda describes it: configuration, reserved concurrency, and,
 * for the verifiers, the on-failure destination; for the start function, its triggers. A function
 * that does not exist is `found: false`; any other refusal throws, for the row to say.
 */
export async function readStackFunctions(lambda: LambdaClient, functions: readonly { id: FunctionId; name: string }[]): Promise<FunctionFacts[]> {
  return Promise.all(
    functions.map(async ({ id, name }): Promise<FunctionFacts> => {
      const configuration = await unlessAbsent(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name })), undefined);
      if (!configuration) return { id, name, found: false };
      const { ReservedConcurrentExecutions } = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }));
      const onFailure = isVerifier(id)
        ? await unlessAbsent(
            lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: name })).then(({ DestinationConfig }) => DestinationConfig?.OnFailure?.Destination ?? null),
            null,
          )
        : undefined;
      const triggers = id === 'start' ? await readTriggers(lambda, { FunctionName: name }) : undefined;
      // Who may invoke a verifier: EventBridge, for its rules; none when it has no resource policy.
      const invokers = isVerifier(id) ? await unlessAbsent(lambda.send(new GetPolicyCommand({ FunctionName: name })).then(({ Policy }) => statementsIn(Policy)), []) : undefined;
      return {
        id,
        name,
        found: true,
        ...(configuration.FunctionArn !== undefined && { arn: configuration.FunctionArn }),
        ...(invokers && { invokers }),
        ...(configuration.Role !== undefined && { role: configuration.Role }),
        ...(configuration.Handler !== undefined && { handler: configuration.Handler }),
        ...(configuration.CodeSha256 !== undefined && { codeSha256: configuration.CodeSha256 }),
        environment: configuration.Environment?.Variables ?? {},
        layers: (configuration.Layers ?? []).map((layer) => layer.Arn ?? '?'),
        ...(ReservedConcurrentExecutions !== undefined && { reservedConcurrency: ReservedConcurrentExecutions }),
        ...(onFailure !== undefined && { onFailure }),
        ...(triggers && { triggers }),
      };
    }),
  );
}

/**
 * The trails that can deliver this region's API calls to EventBridge: its own and other regions'
 * multi-region trails (`includeShadowTrails`), each with whether it is logging. A trail whose
 * status cannot be read is returned without it; a refused DescribeTrails throws.
 */
export async function readTrails(cloudTrail: CloudTrailClient): Promise<TrailFacts[]> {
  const { trailList = [] } = await cloudTrail.send(new DescribeTrailsCommand({ includeShadowTrails: true }));
  return Promise.all(
    trailList.map(async (trail) => {
      const facts: TrailFacts = { name: trail.Name ?? trail.TrailARN ?? '(unnamed)', multiRegion: trail.IsMultiRegionTrail === true, ...(trail.HomeRegion && { homeRegion: trail.HomeRegion }) };
      try {
        const status = await cloudTrail.send(new GetTrailStatusCommand({ Name: trail.TrailARN ?? trail.Name }));
        return { ...facts, logging: status.IsLogging === true };
      } catch {
        return facts;
      }
    }),
  );
}

/**
 * The code each function's last deploy published, as the stack's template records it; null when
 * the stack does not exist (CloudFormation answers ValidationError), any other refusal throws.
 */
export async function readDeployedCode(cloudFormation: CloudFormationClient, stackName: string, functions: readonly { id: FunctionId; name: string }[]): Promise<DeployedCode | null> {
  const template = await unlessAbsent(cloudFormation.send(new GetTemplateCommand({ StackName: stackName })), null, named('ValidationError'));
  return template && deployedCodeOf(stackName, template.TemplateBody ?? '{}', functions);
}
