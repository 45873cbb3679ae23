import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient, CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient, PutMetricAlarmCommand, type PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { CreateEventBusCommand, EventBridgeClient, PutPermissionCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  PutBucketPolicyCommand,
  PutBucketEncryptionCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AttachRolePolicyCommand, CreatePolicyCommand, CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AddPermissionCommand, CreateEventSourceMappingCommand, CreateFunctionCommand, LambdaClient, PutFunctionEventInvokeConfigCommand } from '@aws-sdk/client-lambda';
import { CreateTopicCommand, SetTopicAttributesCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mergeQueueNotifications, notificationCountProblem, notificationIdPrefix } from '../../../shared/stack/inputNotifications';
import { notificationPrefixes } from '../../../shared/config/notificationPrefixes';
import { forMoto } from '../emulator/s3FilterMatching';
import type { KeyReference } from '../../../shared/aws/keyReference';
import type { PipelineConfig } from '../../../shared/config/rule';
import { configFingerprint } from '../../../shared/config/expectedEncryption';
import { QUEUE_SETTINGS } from '../../../shared/stack/queueSettings';
import { OUTPUT_OF, SERVICE_NAME, type NamedTarget } from '../../../shared/cli/cliAws';
import { alertingChangePattern, dataExposurePattern, keyLossPattern, pagingOutcomePattern, queueTriggerPattern, trustChangePattern, verifierChangePattern, verifierEventPatterns } from '../../../shared/stack/eventPatterns';
import {
  alarmTopicName,
  alertingNames,
  CONFIG_FINGERPRINT_OUTPUT,
  FUNCTION_ENVIRONMENT_NAMES,
  functionLogicalId,
  functionName,
  stackName,
  isVerifier,
  outcomeBusName,
  roleArn,
  roleName,
  STACK_FUNCTIONS,
  STACK_ROLES,
  stackRules,
  TRANSCRIPT_BUCKET,
  type FunctionId,
  type RoleEnding,
  type RoleId,
} from '../../../shared/stack/stackNames';
import { BUCKET_ACCESS, BUCKET_HISTORY, outcomeBusPolicy, QUEUE_SENDERS, queueSenders, startQueueReceivers, transcriptBucketStatements } from '../../../shared/stack/stackResources';
import { alarmResources, alarmTopicPublishers, CHANGE_PAGE_WHAT_TO_DO, changePageInputs } from '../../../shared/stack/alarmResources';
import { sweepRoleStatements, verifyRoleStatements } from '../../../shared/stack/iamStatements';
import { roleResources, type ManagedPolicyResource, type RoleResource } from '../../../shared/stack/roleResources';
import { filledIn, type Cfn } from '../../../shared/stack/cfnValues';
import type { DeclaredKey } from '../emulator/gateway';
import { MOTO_DEFAULT_ACCOUNT } from '../emulator/moto';

export interface LocalNames {
  service: string;
  stage: string;
  region: string;
  jobNamePrefix: string;
  inputBucket: string;
  transcriptBucket: string;
  outcomeBus: string;
  outcomeSource: string;
  /** The alarm topic's ARN, as moto names the topic the local mode creates. */
  alarmTopicArn: string;
}

/** S3 takes a bucket outside us-east-1 only with its region named (and refuses us-east-1 named). */
const bucketLocation = (region: string) => (region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } });

export interface ProvisionedStack {
  names: LocalNames;
  startQueueUrl: string;
  startDeadLetterQueueUrl: string;
  verifyDeadLetterQueueUrl: string;
  /** Lambda's internal queue for asynchronous invocations of the verify function. */
  completionQueueUrl: string;
  notificationPrefixes: string[];
  /** The filter values as S3 is given them (encoded), before the translation for moto. */
  notificationFilters: string[];
  /** Key ARN per configured key reference, as moto (through the gateway) knows it. */
  keys: Map<string, { account: string; arn: string }>;
  /** A key that no rule names, used to write a tampered transcript. */
  tamperKeyArn: string;
  /** The transcript bucket's default KMS key, when it was provisioned with an SSE-KMS default. */
  transcriptBucketKeyArn?: string;
  /** The alarm topic, with one confirmed subscriber (a queue standing in for the on-call inbox), for `tkp check`. */
  alarmTopicArn: string;
}

export function localNames(stage = 'local', region = 'us-east-1'): LocalNames {
  return {
    service: SERVICE_NAME,
    stage,
    region,
    jobNamePrefix: `tkp.${stage}.`,
    inputBucket: `tkp-${stage}-input`,
    transcriptBucket: `tkp-${stage}-transcripts`,
    outcomeBus: outcomeBusName({ service: SERVICE_NAME, stage }),
    outcomeSource: SERVICE_NAME,
    alarmTopicArn: `arn:aws:sns:${region}:${MOTO_DEFAULT_ACCOUNT}:${alarmTopicName({ service: SERVICE_NAME, stage })}`,
  };
}

/**
 * The patterns of the stack's rules as serverless.yml and alarmResources.ts derive them, with the
 * local stack's names where CloudFormation fills in its own: the local mode matches events with
 * them, and provisions the rules in moto with them.
 */
export function localRulePatterns(config: PipelineConfig, names: LocalNames) {
  const outcomeBusArn = localOutcomeBusArn(names);
  const { prefix } = alertingNames(names);
  return {
    verifier: verifierEventPatterns(names.jobNamePrefix),
    pagingVerdicts: pagingOutcomePattern(names.outcomeSource),
    trustChanges: trustChangePattern(config, { transcriptBucket: names.transcriptBucket, outcomeBus: [names.outcomeBus, outcomeBusArn] }),
    verifierChanges: verifierChangePattern(names, {
      inputBucket: names.inputBucket,
      notificationsSession: `arn:aws:sts::${MOTO_DEFAULT_ACCOUNT}:assumed-role/${roleName(names, 'notifications')}/`,
    }),
    alertingChanges: alertingChangePattern({
      namePrefix: prefix,
      alarmTopic: names.alarmTopicArn,
      subscriptionPrefix: `${names.alarmTopicArn}:`,
      queuePaths: Object.values(LOCAL_QUEUES).map((queue) => `/${MOTO_DEFAULT_ACCOUNT}/${queue}`),
    }),
    queueTriggers: queueTriggerPattern(Object.values(LOCAL_QUEUES).map((queue) => queueArn(names.region, queue))),
    keyLosses: keyLossPattern(),
    dataExposure: dataExposurePattern({ inputBucket: names.inputBucket, transcriptBucket: names.transcriptBucket }),
  };
}

/** A KMS client acting in one moto account, as a principal of that account would. */
export function kmsClientFor(endpoint: string, region: string, account: string): KMSClient {
  const client = new KMSClient({ region, endpoint, credentials: LOCAL_CREDENTIALS });
  if (account !== MOTO_DEFAULT_ACCOUNT) {
    client.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-moto-account-id'] = account;
        return next(args);
      },
      { step: 'build', name: 'motoAccount' },
    );
  }
  return client;
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

const queueArn = (region: string, name: string) => `arn:aws:sqs:${region}:${MOTO_DEFAULT_ACCOUNT}:${name}`;

/**
 * Creates in moto what serverless.yml creates in AWS, from the same shared/stack/ functions:
 * buckets, queues with their redrive policy, the S3 notifications with the derived prefix
 * filters, the outcome bus and the completion rule; plus a KMS key (and alias) for every key
 * the config names, in the account the config says it lives in.
 */
export async function provision(
  clients: { s3: S3Client; sqs: SQSClient; events: EventBridgeClient; motoEndpoint: string; gatewayEndpoint: string },
  config: PipelineConfig,
  names: LocalNames,
  declareKey: (key: DeclaredKey) => void,
  options: { timeScale?: number; transcriptBucketDefault?: 'AES256' | 'aws:kms' } = {},
): Promise<ProvisionedStack> {
  const { s3, sqs, events } = clients;
  // An existing transcript bucket may encrypt with SSE-KMS by default; the local mode can too.
  const bucketKeyArn =
    options.transcriptBucketDefault === 'aws:kms'
      ? ((
          await kmsClientFor(clients.motoEndpoint, names.region, MOTO_DEFAULT_ACCOUNT).send(
            new CreateKeyCommand({ Description: 'transcribe-kms-pipeline local: transcript bucket default key', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }),
          )
        ).KeyMetadata?.Arn as string)
      : undefined;
  const createQueue = async (name: string, attributes: Record<string, string> = {}) => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    return QueueUrl as string;
  };
  const startDeadLetterQueueUrl = await createQueue('tkp-start-dlq', { MessageRetentionPeriod: String(QUEUE_SETTINGS.deadLetterRetentionSeconds) });
  const startQueueUrl = await createQueue('tkp-start', {
    MessageRetentionPeriod: String(QUEUE_SETTINGS.retentionSeconds),
    VisibilityTimeout: String(Math.max(1, Math.round(QUEUE_SETTINGS.visibilityTimeoutSeconds / (options.timeScale ?? 1)))),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn(names.region, 'tkp-start-dlq'), maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount }),
  });
  const verifyDeadLetterQueueUrl = await createQueue('tkp-verify-dlq', { MessageRetentionPeriod: String(QUEUE_SETTINGS.deadLetterRetentionSeconds) });
  // Their policies as deployed, for `tkp check` to read; moto does not enforce them.
  const policy = (url: string, statements: Record<string, unknown>[]) =>
    sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) } }));
  await policy(startQueueUrl, [
    queueSenders(QUEUE_SENDERS.startQueue, 's3.amazonaws.com', queueArn(names.region, 'tkp-start'), MOTO_DEFAULT_ACCOUNT, { ArnEquals: { 'aws:SourceArn': `arn:aws:s3:::${names.inputBucket}` } }),
    startQueueReceivers(queueArn(names.region, 'tkp-start'), localRoleArn(names, 'start')),
  ]);
  await policy(verifyDeadLetterQueueUrl, [queueSenders(QUEUE_SENDERS.verifyDeadLetterQueue, 'events.amazonaws.com', queueArn(names.region, 'tkp-verify-dlq'), MOTO_DEFAULT_ACCOUNT)]);
  const completionQueueUrl = await createQueue('tkp-completion-events', { VisibilityTimeout: '120' });

  const buckets = new Set([names.inputBucket, names.transcriptBucket, ...config.rules.flatMap((r) => (r.output.bucket ? [r.output.bucket] : []))]);
  for (const bucket of buckets) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ...bucketLocation(names.region) }));
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault:
                bucket === names.transcriptBucket && bucketKeyArn ? { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: bucketKeyArn } : { SSEAlgorithm: 'AES256' },
            },
          ],
        },
      }),
    );
  }
  // Who may read them and how long they keep what was overwritten, as the stack makes its buckets; a rule's other output bucket is its owner's.
  for (const [bucket, history] of [[names.inputBucket, BUCKET_HISTORY.input], [names.transcriptBucket, BUCKET_HISTORY.transcripts]] as const) {
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: BUCKET_ACCESS.PublicAccessBlockConfiguration }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: BUCKET_ACCESS.OwnershipControls }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: history.VersioningConfiguration }));
    // CloudFormation's rule (Id, no filter: the whole bucket) as S3's API takes it (ID, an empty prefix filter).
    const rules = history.LifecycleConfiguration.Rules.map(({ Id, Status, NoncurrentVersionExpiration }) => ({ ID: Id, Status, Filter: { Prefix: '' }, NoncurrentVersionExpiration }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
  }
  // S3 takes at most 100 (moto any number); then written as S3 requires (encoded filter values), translated for moto's raw comparison.
  const tooManyNotifications = notificationCountProblem(config.rules);
  if (tooManyNotifications) throw new Error(tooManyNotifications);
  const notifications = mergeQueueNotifications({}, { idPrefix: notificationIdPrefix(names.stage), queueArn: queueArn(names.region, 'tkp-start'), prefixes: notificationPrefixes(config.rules) });
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: names.inputBucket, NotificationConfiguration: forMoto(notifications) }));

  // The rules themselves (completion -> verify, outcomes -> observers) are matched in eventBus.ts.
  await events.send(new CreateEventBusCommand({ Name: names.outcomeBus }));
  // Its policy as deployed, for `tkp check` to read; moto does not enforce it.
  const { StatementId, Statement } = resolveLocally(outcomeBusPolicy().Properties, names) as { StatementId: string; Statement: Record<string, unknown> };
  await events.send(new PutPermissionCommand({ EventBusName: names.outcomeBus, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: StatementId, ...Statement }] }) }));

  // A logging multi-region trail, which is what lets EventBridge see API calls on AWS: the gateway
  // plays its part (trailedCall), and `tkp check` finds it as it would find the account's own.
  const trail = `tkp-${names.stage}-trail`;
  await s3.send(new CreateBucketCommand({ Bucket: `${trail}-logs`, ...bucketLocation(names.region) }));
  const cloudTrail = new CloudTrailClient({ region: names.region, endpoint: clients.motoEndpoint, credentials: LOCAL_CREDENTIALS });
  await cloudTrail.send(new CreateTrailCommand({ Name: trail, S3BucketName: `${trail}-logs`, IsMultiRegionTrail: true }));
  await cloudTrail.send(new StartLoggingCommand({ Name: trail }));

  // The alarm topic and a confirmed subscriber, as `serverless deploy --param="alarmEmail=..."` and
  // its confirmation leave them: `tkp check` reads whether a page can reach anyone. (The local mode
  // lists what reaches the topic itself, in LocalPipeline.alarms.)
  const sns = new SNSClient({ region: names.region, endpoint: clients.motoEndpoint, credentials: LOCAL_CREDENTIALS });
  const { TopicArn: alarmTopicArn } = await sns.send(new CreateTopicCommand({ Name: names.alarmTopicArn.slice(names.alarmTopicArn.lastIndexOf(':') + 1) }));
  await createQueue('tkp-alarm-inbox');
  await sns.send(new SubscribeCommand({ TopicArn: alarmTopicArn, Protocol: 'sqs', Endpoint: queueArn(names.region, 'tkp-alarm-inbox') }));
  // Its policy as deployed, for `tkp check` to read; moto does not enforce it.
  const topicPolicy = { Version: '2012-10-17', Statement: [alarmTopicPublishers(alarmTopicArn, MOTO_DEFAULT_ACCOUNT)] };
  await sns.send(new SetTopicAttributesCommand({ TopicArn: alarmTopicArn, AttributeName: 'Policy', AttributeValue: JSON.stringify(topicPolicy) }));

  await createStackRules(events, config, names);
  await createStackAlarms(new CloudWatchClient({ region: names.region, endpoint: clients.motoEndpoint, credentials: LOCAL_CREDENTIALS }), config, names);
  await putTranscriptBucketPolicy(s3, config, names);
  const iam = new IAMClient({ region: names.region, endpoint: clients.motoEndpoint, credentials: LOCAL_CREDENTIALS });
  await createVerifierRoles(iam, config, names);
  const published = await createStackFunctions(iam, new LambdaClient({ region: names.region, endpoint: clients.motoEndpoint, credentials: LOCAL_CREDENTIALS }), names, {
    INPUT_BUCKET: names.inputBucket,
    TRANSCRIPT_BUCKET: names.transcriptBucket,
    START_QUEUE_URL: startQueueUrl,
    START_DLQ_URL: startDeadLetterQueueUrl,
    OUTCOME_BUS_NAME: names.outcomeBus,
    OUTCOME_EVENT_SOURCE: names.outcomeSource,
    JOB_NAME_PREFIX: names.jobNamePrefix,
    STAGE: names.stage,
  });
  const viaGateway = (queueUrl: string) => onOrigin(queueUrl, clients.gatewayEndpoint);
  // Every output the CLI finds a resource by, under the key OUTPUT_OF gives it.
  const located: Record<NamedTarget, string> = {
    inputBucket: names.inputBucket,
    transcriptBucket: names.transcriptBucket,
    startQueueUrl: viaGateway(startQueueUrl),
    startDeadLetterQueueUrl: viaGateway(startDeadLetterQueueUrl),
    verifyDeadLetterQueueUrl: viaGateway(verifyDeadLetterQueueUrl),
    preflightFunction: functionName(names, 'preflight'),
    alarmTopicArn: alarmTopicArn as string,
  };
  const outputs = {
    ...Object.fromEntries((Object.entries(OUTPUT_OF) as [NamedTarget, string][]).map(([target, output]) => [output, located[target]])),
    [CONFIG_FINGERPRINT_OUTPUT]: configFingerprint(config.rules),
  };
  await recordStack(new CloudFormationClient({ region: names.region, endpoint: clients.motoEndpoint, credentials: LOCAL_CREDENTIALS }), names, published, outputs);

  const keys = new Map<string, { account: string; arn: string }>();
  const references = [...new Map(config.rules.flatMap((r) => (r.kmsKey ? [[r.kmsKey.value, r.kmsKey] as const] : []))).values()];
  for (const ref of references) {
    const key = await createKeyFor(ref, clients.motoEndpoint, names.region, declareKey).catch((error: unknown) => {
      throw new Error(`the local mode cannot create a key for kmsKey ${ref.value}: ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
    });
    keys.set(ref.value, key);
  }
  const tamper = await kmsClientFor(clients.motoEndpoint, names.region, MOTO_DEFAULT_ACCOUNT).send(
    new CreateKeyCommand({ Description: 'transcribe-kms-pipeline local: the wrong key for --tamper', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }),
  );

  return {
    names,
    startQueueUrl,
    startDeadLetterQueueUrl,
    verifyDeadLetterQueueUrl,
    completionQueueUrl,
    notificationPrefixes: notificationPrefixes(config.rules),
    notificationFilters: (notifications.QueueConfigurations ?? []).flatMap((q) => q.Filter?.Key?.FilterRules?.map((r) => r.Value ?? '') ?? []),
    keys,
    tamperKeyArn: tamper.KeyMetadata?.Arn as string,
    ...(bucketKeyArn && { transcriptBucketKeyArn: bucketKeyArn }),
    alarmTopicArn: names.alarmTopicArn,
  };
}

/**
 * The stack's EventBridge rules, by the names, patterns and targets serverless.yml deploys
 * (stackRules), so that `tkp check` finds them on and sending where they should, and an operator
 * can turn one off or remove its target and see the check fail. A CloudTrail rule's page carries
 * what to do (changePageInputs), as deployed. The local mode still matches
 * events with the same patterns itself (eventBus.ts) and runs the functions itself, so moto
 * (moto_server.py) skips a Lambda target; it publishes to the alarm topic as EventBridge would.
 */
async function createStackRules(events: EventBridgeClient, config: PipelineConfig, names: LocalNames) {
  const { rules } = alertingNames(names);
  const patterns = localRulePatterns(config, names);
  const changePages = changePageInputs(names);
  const patternOf: Record<string, object | undefined> = {
    [rules.verifyTranscription]: patterns.verifier.transcription,
    [rules.verifyCallAnalytics]: patterns.verifier.callAnalytics,
    [rules.verifyDeletion]: patterns.verifier.deletion,
    [rules.pagingVerdicts]: patterns.pagingVerdicts,
    // Each CloudTrail rule's pattern, under the key that names the rule and its page.
    ...Object.fromEntries((Object.keys(CHANGE_PAGE_WHAT_TO_DO) as (keyof typeof CHANGE_PAGE_WHAT_TO_DO)[]).map((page) => [rules[page], patterns[page]])),
  };
  for (const { name, bus, target, deadLetter } of stackRules(names)) {
    const pattern = patternOf[name];
    const on = bus && { EventBusName: bus };
    await events.send(new PutRuleCommand({ Name: name, State: 'ENABLED', ...(pattern ? { EventPattern: JSON.stringify(pattern) } : { ScheduleExpression: 'rate(15 minutes)' }), ...on }));
    const arn = 'function' in target ? `arn:aws:lambda:${names.region}:${MOTO_DEFAULT_ACCOUNT}:function:${target.function}` : names.alarmTopicArn;
    const input = changePages[name];
    const Targets = [
      { Id: 'function' in target ? 'function' : 'alarm-topic', Arn: arn, ...(input && { InputTransformer: input }), ...(deadLetter && { DeadLetterConfig: { Arn: queueArn(names.region, 'tkp-verify-dlq') } }) },
    ];
    await events.send(new PutTargetsCommand({ Rule: name, Targets, ...on }));
  }
}

/** The local mode's names for the stack's queues, which CloudFormation would name itself. */
const LOCAL_QUEUES: Record<string, string> = { StartQueue: 'tkp-start', StartDeadLetterQueue: 'tkp-start-dlq', VerifyDeadLetterQueue: 'tkp-verify-dlq' };

/** A role of the local stack, by the name it ends in: moto has one identity, so the ARN only names it. */
export const localRoleArn = (names: LocalNames, role: RoleEnding) => roleArn({ partition: 'aws', account: MOTO_DEFAULT_ACCOUNT }, roleName(names, role));

const localOutcomeBusArn = (names: LocalNames) => `arn:aws:events:${names.region}:${MOTO_DEFAULT_ACCOUNT}:event-bus/${names.outcomeBus}`;

/** The stack's context as the local mode deploys it: its buckets and alarm topic named, as existing ones are. */
function localStackContext(config: PipelineConfig, names: LocalNames) {
  const { service, stage, region, jobNamePrefix, inputBucket, transcriptBucket, alarmTopicArn } = names;
  return { service, stage, region, jobNamePrefix, config, existingInputBucket: inputBucket, existingTranscriptBucket: transcriptBucket, existingAlarmTopicArn: alarmTopicArn };
}

/**
 * A CloudFormation value with the local stack's values in place of what CloudFormation fills in:
 * the pseudo parameters, the queues' names and ARNs, the outcome bus's ARN, and joined strings.
 */
function resolveLocally(value: unknown, names: LocalNames): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveLocally(item, names));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  if ('Fn::Sub' in object) {
    return filledIn(object as Cfn, {
      'AWS::Partition': 'aws',
      'AWS::Region': names.region,
      'AWS::AccountId': MOTO_DEFAULT_ACCOUNT,
      [`${TRANSCRIPT_BUCKET}.Arn`]: `arn:aws:s3:::${names.transcriptBucket}`,
    });
  }
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolveLocally(part, names)).join(separator);
  }
  if ('Fn::GetAtt' in object) {
    const [id, attribute] = object['Fn::GetAtt'] as [string, string];
    if (id === 'OutcomeBus' && attribute === 'Arn') return localOutcomeBusArn(names);
    if (id in STACK_ROLES && attribute === 'Arn') return localRoleArn(names, STACK_ROLES[id as RoleId]);
    const queue = LOCAL_QUEUES[id];
    if (queue && attribute === 'QueueName') return queue;
    if (queue && attribute === 'Arn') return queueArn(names.region, queue);
    throw new Error(`the local mode has no value for Fn::GetAtt ${id}.${attribute}`);
  }
  return Object.fromEntries(Object.entries(object).map(([key, inner]) => [key, resolveLocally(inner, names)]));
}

/**
 * The verifiers' roles as roleResources.ts makes them (name, trust, and the policy with its guard
 * against forged verdicts), so that `tkp check` reads them as it reads a deployed stack's. moto
 * does not enforce them: the local mode's functions run with its own credentials.
 */
async function createVerifierRoles(iam: IAMClient, config: PipelineConfig, names: LocalNames) {
  const ctx = localStackContext(config, names);
  for (const [id, statements] of [['VerifyRole', verifyRoleStatements(ctx)], ['SweepRole', sweepRoleStatements(ctx)]] as const) {
    const { role, managedPolicies } = roleResources(ctx, id, 'lambda.amazonaws.com', statements);
    const { RoleName, AssumeRolePolicyDocument, Policies } = resolveLocally(role.Properties, names) as RoleResource['Properties'];
    await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: JSON.stringify(AssumeRolePolicyDocument) }));
    for (const { PolicyName, PolicyDocument } of Policies) await iam.send(new PutRolePolicyCommand({ RoleName, PolicyName, PolicyDocument: JSON.stringify(PolicyDocument) }));
    // A config too large for the inline policy also gets the managed policies the stack attaches.
    for (const { Properties } of Object.values(managedPolicies)) {
      const { ManagedPolicyName, PolicyDocument } = resolveLocally(Properties, names) as ManagedPolicyResource['Properties'];
      const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: ManagedPolicyName, PolicyDocument: JSON.stringify(PolicyDocument) }));
      await iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: Policy?.Arn }));
    }
  }
}

/** An empty zip archive: moto keeps a function's code without reading it, and the local mode never runs it. */
const EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);

/**
 * The stack's functions by their deployed names, roles, handlers and environment names, the
 * verifiers with their on-failure destination and the start function with its trigger from the
 * start queue, so that `tkp check` reads them as it reads a deployed stack's. moto holds them and
 * never runs them (moto_server.py holds the trigger): the local mode runs the handlers itself.
 */
async function createStackFunctions(iam: IAMClient, lambda: LambdaClient, names: LocalNames, values: Record<string, string>): Promise<Map<FunctionId, string>> {
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  // The verifiers' roles exist already, with their policies; the others only need to, for Lambda.
  for (const role of new Set(Object.values(STACK_FUNCTIONS))) {
    if (!isVerifier(role)) await iam.send(new CreateRoleCommand({ RoleName: roleName(names, role), AssumeRolePolicyDocument: trust }));
  }
  const Variables = Object.fromEntries(FUNCTION_ENVIRONMENT_NAMES.map((name) => [name, values[name] ?? '']));
  const published = new Map<FunctionId, string>();
  for (const [id, role] of Object.entries(STACK_FUNCTIONS) as [FunctionId, RoleEnding][]) {
    const FunctionName = functionName(names, id);
    const { CodeSha256 } = await lambda.send(
      new CreateFunctionCommand({ FunctionName, Runtime: 'nodejs22.x', Role: localRoleArn(names, role), Handler: `functions/${id}.handler`, Code: { ZipFile: EMPTY_ZIP }, Environment: { Variables } }),
    );
    published.set(id, CodeSha256 as string);
    if (isVerifier(id)) {
      await lambda.send(
        new PutFunctionEventInvokeConfigCommand({ FunctionName, MaximumRetryAttempts: id === 'verify' ? 2 : 0, DestinationConfig: { OnFailure: { Destination: queueArn(names.region, 'tkp-verify-dlq') } } }),
      );
      // EventBridge's permission to invoke it, for each rule that does, as serverless.yml grants it.
      for (const rule of stackRules(names).filter(({ target }) => 'function' in target && target.function === FunctionName)) {
        const SourceArn = `arn:aws:events:${names.region}:${MOTO_DEFAULT_ACCOUNT}:rule/${rule.name}`;
        await lambda.send(new AddPermissionCommand({ FunctionName, StatementId: rule.name, Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn }));
      }
    }
    if (id === 'start') await lambda.send(new CreateEventSourceMappingCommand({ FunctionName, EventSourceArn: queueArn(names.region, 'tkp-start'), BatchSize: 10 }));
  }
  return published;
}

/** A queue URL on another endpoint: the local stack names its queues through the gateway, which reports the calls that change them. */
export const onOrigin = (queueUrl: string, endpoint: string) => queueUrl.replace(new URL(queueUrl).origin, new URL(endpoint).origin);

/**
 * What a deploy leaves in CloudFormation, as a stack of the stack's name: the outputs by which
 * `tkp` finds the resources when none is named, and an `AWS::Lambda::Version` per function with
 * its `CodeSha256` (moto publishes the versions), which `tkp check` compares with the code
 * `$LATEST` runs. The real template names each function by a `Ref`; the functions here are not
 * the stack's resources, so by name.
 */
async function recordStack(cloudFormation: CloudFormationClient, names: LocalNames, published: Map<FunctionId, string>, outputs: Record<string, string>) {
  const Outputs = Object.fromEntries(Object.entries(outputs).map(([key, Value]) => [key, { Value }]));
  const Resources = Object.fromEntries(
    [...published].map(([id, CodeSha256]) => [
      functionLogicalId(id).replace(/Function$/, 'Version'),
      { Type: 'AWS::Lambda::Version', DeletionPolicy: 'Retain', Properties: { FunctionName: functionName(names, id), CodeSha256 } },
    ]),
  );
  await cloudFormation.send(new CreateStackCommand({ StackName: stackName(names), TemplateBody: JSON.stringify({ AWSTemplateFormatVersion: '2010-09-09', Resources, Outputs }) }));
}

/**
 * The transcript bucket's policy as the stack deploys it for the bucket it creates (the ledger's
 * guard and WritesOnlyByThisStack), so that `tkp check` reads it as it reads a deployed stack's.
 * moto does not enforce it: the local mode's functions and emulator write with its own credentials.
 */
async function putTranscriptBucketPolicy(s3: S3Client, config: PipelineConfig, names: LocalNames) {
  const ctx = localStackContext(config, names);
  const Statement = resolveLocally(transcriptBucketStatements(ctx, TRANSCRIPT_BUCKET), names);
  await s3.send(new PutBucketPolicyCommand({ Bucket: names.transcriptBucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement }) }));
}

/**
 * The stack's alarms as alarmResources derives them for the deployed stack (names, metrics,
 * thresholds, actions to the alarm topic), each queue named as the local mode names it, so that
 * `tkp check` finds them. moto does not evaluate them: the run counts dead letters and alarms itself.
 */
async function createStackAlarms(cloudWatch: CloudWatchClient, config: PipelineConfig, names: LocalNames) {
  for (const resource of Object.values(alarmResources(localStackContext(config, names))) as { Type: string; Properties: unknown }[]) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    await cloudWatch.send(new PutMetricAlarmCommand(resolveLocally(resource.Properties, names) as PutMetricAlarmCommandInput));
  }
}

async function createKeyFor(
  ref: KeyReference,
  motoEndpoint: string,
  region: string,
  declareKey: (key: DeclaredKey) => void,
): Promise<{ account: string; arn: string }> {
  const account = ref.form === 'key-arn' || ref.form === 'alias-arn' ? ref.account : MOTO_DEFAULT_ACCOUNT;
  const kms = kmsClientFor(motoEndpoint, region, account);
  // An alias under alias/aws/ is an AWS managed key: AWS creates it, and so does moto, on first use.
  if ((ref.form === 'alias' || ref.form === 'alias-arn') && ref.aliasName.startsWith('alias/aws/')) {
    const managed = await kms.send(new DescribeKeyCommand({ KeyId: ref.aliasName }));
    return { account, arn: managed.KeyMetadata?.Arn as string };
  }
  const created = await kms.send(new CreateKeyCommand({ Description: `transcribe-kms-pipeline local: ${ref.value}`, KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }));
  const motoId = created.KeyMetadata?.KeyId as string;
  if (ref.form === 'alias' || ref.form === 'alias-arn') {
    await kms.send(new CreateAliasCommand({ AliasName: ref.aliasName, TargetKeyId: motoId }));
    return { account, arn: created.KeyMetadata?.Arn as string };
  }
  declareKey({ account, declaredId: ref.keyId, motoId });
  return { account, arn: `arn:aws:kms:${region}:${account}:key/${ref.keyId}` };
}
