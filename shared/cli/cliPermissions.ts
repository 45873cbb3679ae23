/**
 * What each `tkp` command needs of whoever runs it: the IAM action behind each AWS call the CLI
 * makes, by the SDK command that makes it, the calls of each command, and those as a policy to
 * attach (`tkp COMMAND --permissions`). A unit test reads the commands each command's code
 * constructs, so a new call cannot be added without naming what it needs here.
 *
 * The policy reads settings and metadata anywhere (`Resource: *`), but reaches data only in the
 * stack's own resources: the objects, queues, functions and keys a command touches are named from
 * the config, the stage and the region, as the stack names them, so the policy of `tkp audit` does
 * not let its holder read every bucket of the account.
 */
import { VERDICT_PREFIX } from '../config/reservedPrefixes';
import type { PipelineConfig } from '../config/rule';
import { FLAG_OF, OUTPUT_OF, partitionOf, queueArnFromUrl, type TargetFlags } from './cliAws';
import { CliError } from './cliErrors';
import { filledIn, objectsUnder, bucketArn, type Cfn, type Statement } from '../stack/cfnValues';
import { kmsStatements } from '../stack/kmsStatements';
import { functionName, inputBucketRef, stackName, transcriptBucketRef, transcriptDestinations, type FunctionId, type StackContext } from '../stack/stackNames';

/** The IAM action each of the CLI's AWS calls needs; null where no permission is needed. */
export const CALL_ACTIONS: Readonly<Record<string, string | null>> = {
  // Who is asking: every caller may. The stack's outputs, when its resources are not named.
  GetCallerIdentityCommand: null,
  DescribeStacksCommand: 'cloudformation:DescribeStacks',
  GetTemplateCommand: 'cloudformation:GetTemplate',
  // Keys: resolved, proved by DryRun as the caller (which encrypts nothing), the alarm topic's key policy.
  DescribeKeyCommand: 'kms:DescribeKey',
  GenerateDataKeyCommand: 'kms:GenerateDataKey',
  EncryptCommand: 'kms:Encrypt',
  GetKeyPolicyCommand: 'kms:GetKeyPolicy',
  // Buckets: their settings, and the objects themselves (a HEAD needs s3:GetObject).
  GetBucketEncryptionCommand: 's3:GetEncryptionConfiguration',
  GetBucketNotificationConfigurationCommand: 's3:GetBucketNotification',
  GetBucketPolicyCommand: 's3:GetBucketPolicy',
  GetBucketLifecycleConfigurationCommand: 's3:GetLifecycleConfiguration',
  GetPublicAccessBlockCommand: 's3:GetBucketPublicAccessBlock',
  GetBucketOwnershipControlsCommand: 's3:GetBucketOwnershipControls',
  GetBucketAclCommand: 's3:GetBucketAcl',
  GetBucketReplicationCommand: 's3:GetReplicationConfiguration',
  GetBucketVersioningCommand: 's3:GetBucketVersioning',
  ListObjectsV2Command: 's3:ListBucket',
  ListObjectVersionsCommand: 's3:ListBucketVersions',
  HeadObjectCommand: 's3:GetObject',
  GetObjectCommand: 's3:GetObject',
  // The trail the CloudTrail rules need; the alarm topic's subscriptions, policy and key.
  DescribeTrailsCommand: 'cloudtrail:DescribeTrails',
  GetTrailStatusCommand: 'cloudtrail:GetTrailStatus',
  ListSubscriptionsByTopicCommand: 'sns:ListSubscriptionsByTopic',
  GetTopicAttributesCommand: 'sns:GetTopicAttributes',
  // The stack's rules, alarms, outcome bus, verifier roles and functions.
  DescribeRuleCommand: 'events:DescribeRule',
  ListTargetsByRuleCommand: 'events:ListTargetsByRule',
  DescribeEventBusCommand: 'events:DescribeEventBus',
  DescribeAlarmsCommand: 'cloudwatch:DescribeAlarms',
  GetRoleCommand: 'iam:GetRole',
  GetRolePolicyCommand: 'iam:GetRolePolicy',
  GetFunctionConfigurationCommand: 'lambda:GetFunctionConfiguration',
  GetFunctionConcurrencyCommand: 'lambda:GetFunctionConcurrency',
  GetFunctionEventInvokeConfigCommand: 'lambda:GetFunctionEventInvokeConfig',
  ListEventSourceMappingsCommand: 'lambda:ListEventSourceMappings',
  GetPolicyCommand: 'lambda:GetPolicy',
  // The preflight function (check --deployed) and the verify function (redrive --verify).
  InvokeCommand: 'lambda:InvokeFunction',
  // The queues: read, and for backfill and redrive, sent to and taken from.
  GetQueueAttributesCommand: 'sqs:GetQueueAttributes',
  SendMessageCommand: 'sqs:SendMessage',
  SendMessageBatchCommand: 'sqs:SendMessage',
  ReceiveMessageCommand: 'sqs:ReceiveMessage',
  DeleteMessageCommand: 'sqs:DeleteMessage',
  ChangeMessageVisibilityBatchCommand: 'sqs:ChangeMessageVisibility',
};

/** The commands that act on a deployed stack. */
export type CliCommand = 'check' | 'audit' | 'explain' | 'backfill' | 'redrive';

/** Finding the stack and who is asking, which every command does. */
const STACK_LOOKUP = ['GetCallerIdentityCommand', 'DescribeStacksCommand'];
/** The AWS calls each command can make, whichever of its options are given. */
export const COMMAND_CALLS: Readonly<Record<CliCommand, readonly string[]>> = {
  check: [
    ...STACK_LOOKUP,
    'GetTemplateCommand',
    'DescribeKeyCommand',
    'GenerateDataKeyCommand',
    'EncryptCommand',
    'GetKeyPolicyCommand',
    'GetBucketEncryptionCommand',
    'GetBucketNotificationConfigurationCommand',
    'GetBucketPolicyCommand',
    'GetBucketLifecycleConfigurationCommand',
    'GetPublicAccessBlockCommand',
    'GetBucketOwnershipControlsCommand',
    'GetBucketAclCommand',
    'GetBucketReplicationCommand',
    'DescribeTrailsCommand',
    'GetTrailStatusCommand',
    'ListSubscriptionsByTopicCommand',
    'GetTopicAttributesCommand',
    'DescribeRuleCommand',
    'ListTargetsByRuleCommand',
    'DescribeEventBusCommand',
    'DescribeAlarmsCommand',
    'GetRoleCommand',
    'GetRolePolicyCommand',
    'GetFunctionConfigurationCommand',
    'GetFunctionConcurrencyCommand',
    'GetFunctionEventInvokeConfigCommand',
    'ListEventSourceMappingsCommand',
    'GetPolicyCommand',
    'GetQueueAttributesCommand',
    'InvokeCommand',
  ],
  audit: [...STACK_LOOKUP, 'ListObjectsV2Command', 'HeadObjectCommand', 'GetObjectCommand', 'GetBucketEncryptionCommand', 'DescribeKeyCommand'],
  explain: [...STACK_LOOKUP, 'HeadObjectCommand', 'GetBucketEncryptionCommand', 'DescribeKeyCommand'],
  backfill: [...STACK_LOOKUP, 'GetBucketVersioningCommand', 'ListObjectVersionsCommand', 'ListObjectsV2Command', 'SendMessageBatchCommand'],
  redrive: [...STACK_LOOKUP, 'ReceiveMessageCommand', 'DeleteMessageCommand', 'ChangeMessageVisibilityBatchCommand', 'SendMessageCommand', 'InvokeCommand'],
};

/**
 * The actions that reach data (objects and their names, messages, an invocation, a key's use),
 * which each command's policy grants on the stack's resources alone (dataStatements); every other
 * action reads a setting or metadata and is granted on `*`.
 */
export const DATA_ACTIONS: ReadonlySet<string> = new Set([
  's3:GetObject',
  's3:GetObjectVersion',
  's3:ListBucket',
  's3:ListBucketVersions',
  'sqs:SendMessage',
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'lambda:InvokeFunction',
  'kms:Encrypt',
  'kms:GenerateDataKey',
]);

type QueueTarget = 'startQueueUrl' | 'startDeadLetterQueueUrl' | 'verifyDeadLetterQueueUrl';

/** SQS's longest queue name. */
const QUEUE_NAME_MAX_LENGTH = 80;
/** The random part CloudFormation ends a name it generates with (`STACK-LogicalId-1A2B3C4D5E6F`): 12 characters or more. */
const GENERATED_SUFFIX_MIN_LENGTH = 12;

/** What names the stack's resources in a policy printed offline: the config, the stage, the region, and what was named on the command line. */
export interface PermissionScope extends Omit<TargetFlags, 'stage'> {
  config: PipelineConfig;
  stage: string;
  /** Undefined: any region (`*`). */
  region?: string;
  service: string;
}

/**
 * The statements that grant a command's data actions on the stack's resources. The account is
 * `*` (a policy only ever grants within its own account, unless another account's resource
 * policy lets it in, as a cross-account key's policy must anyway). Queues CloudFormation names
 * (`STACK-StartQueue-RANDOM`) are matched by the stack's name; a queue named on the command line
 * is named exactly. Where the generated name would run past SQS's 80 characters (the DLQs' at a
 * stage of 22 characters or more), CloudFormation shortens it unpredictably: the queue must be named.
 */
export function dataStatements(command: CliCommand, scope: PermissionScope): Statement[] {
  const region = scope.region ?? '*';
  const partition = partitionOf(scope.region);
  const fill = (value: Cfn) => filledIn(value, { 'AWS::Partition': partition, 'AWS::Region': region, 'AWS::AccountId': '*' });
  const ctx: StackContext = {
    service: scope.service,
    stage: scope.stage,
    region,
    jobNamePrefix: `tkp.${scope.stage}.`,
    config: scope.config,
    ...(scope.inputBucket && { existingInputBucket: scope.inputBucket }),
    ...(scope.transcriptBucket && { existingTranscriptBucket: scope.transcriptBucket }),
  };
  const stack = stackName(ctx);
  const unpredictable: { logicalId: string; target: QueueTarget }[] = [];
  const queue = (target: QueueTarget, logicalId: string) => {
    const url = scope[target];
    if (url) return queueArnFromUrl(url, region);
    const generated = `${stack}-${logicalId}-`;
    if (generated.length + GENERATED_SUFFIX_MIN_LENGTH > QUEUE_NAME_MAX_LENGTH) unpredictable.push({ logicalId, target });
    return `arn:${partition}:sqs:${region}:*:${generated}*`;
  };
  // A function named by ARN is that function (less any version or alias); by name, the stack's region's.
  const lambda = (nameOrArn: string) => (nameOrArn.startsWith('arn:') ? nameOrArn.split(':').slice(0, 7).join(':') : `arn:${partition}:lambda:${region}:*:function:${nameOrArn}`);
  const stackFunction = (fn: FunctionId) => lambda(functionName(ctx, fn));
  const input = inputBucketRef(ctx);
  const transcripts = transcriptBucketRef(ctx);
  const allow = (sid: string, actions: string[], resources: Cfn[]): Statement => ({ Sid: sid, Effect: 'Allow', Action: actions, Resource: [...new Set(resources.map(fill))] });
  // Each command's statements; `queue` notes any queue whose name CloudFormation would shorten.
  const commandStatements = (): Statement[] => {
    switch (command) {
      case 'check':
        return [
          // The key rows' DryRuns, on the rules' keys as the stack grants them to the start role.
          ...kmsStatements(scope.config, ['kms:Encrypt', 'kms:GenerateDataKey']).map((statement, i) => ({
            ...statement,
            Sid: `TkpCheckKeyProbes${i + 1}`,
            Resource: [statement.Resource].flat().map(fill),
          })),
          allow('TkpCheckPreflight', ['lambda:InvokeFunction'], [scope.preflightFunction ? lambda(scope.preflightFunction) : stackFunction('preflight')]),
        ];
      case 'audit': {
        const destinations = transcriptDestinations(scope.config, transcripts);
        return [
          allow('TkpAuditList', ['s3:ListBucket'], [...destinations.map(({ bucket }) => bucketArn(bucket)), bucketArn(transcripts)]),
          allow('TkpAuditRead', ['s3:GetObject'], [...destinations.map(({ bucket, prefix }) => objectsUnder(bucket, prefix)), objectsUnder(transcripts, VERDICT_PREFIX)]),
        ];
      }
      case 'explain':
        // The upload named, whatever its key (a key under no rule is what explain is asked about most).
        return [allow('TkpExplainUpload', ['s3:GetObject', 's3:GetObjectVersion'], [bucketArn(input, '/*')])];
      case 'backfill':
        return [
          allow('TkpBackfillList', ['s3:ListBucket', 's3:ListBucketVersions'], [bucketArn(input)]),
          allow('TkpBackfillSend', ['sqs:SendMessage'], [queue('startQueueUrl', 'StartQueue')]),
        ];
      case 'redrive':
        return [
          allow('TkpRedriveRead', ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'], [
            queue('startDeadLetterQueueUrl', 'StartDeadLetterQueue'),
            queue('verifyDeadLetterQueueUrl', 'VerifyDeadLetterQueue'),
          ]),
          allow('TkpRedriveSend', ['sqs:SendMessage'], [queue('startQueueUrl', 'StartQueue')]),
          allow('TkpRedriveVerify', ['lambda:InvokeFunction'], [stackFunction('verify'), stackFunction('sweep')]),
        ];
    }
  };
  const statements = commandStatements();
  if (unpredictable.length > 0) {
    const one = unpredictable.length === 1;
    throw new CliError(
      `at stage ${JSON.stringify(scope.stage)} the ${one ? 'name' : 'names'} CloudFormation gives ${unpredictable.map(({ logicalId }) => `the ${logicalId} (${stack}-${logicalId}-…)`).join(' and ')} ` +
        `${one ? 'runs' : 'run'} past SQS's ${QUEUE_NAME_MAX_LENGTH} characters, which CloudFormation shortens in a way this policy cannot predict; name ${one ? 'it' : 'them'} with ` +
        unpredictable.map(({ target }) => `${FLAG_OF[target]} URL (the stack's output ${OUTPUT_OF[target]})`).join(' and '),
    );
  }
  return statements;
}

/**
 * The policy that lets an operator run one command: its metadata reads on `*`, its data actions
 * on the stack's resources (dataStatements).
 */
export function policyFor(command: CliCommand, scope: PermissionScope) {
  const actions = [...new Set(COMMAND_CALLS[command].map((call) => CALL_ACTIONS[call]).filter((action): action is string => typeof action === 'string'))].sort();
  const reads = actions.filter((action) => !DATA_ACTIONS.has(action));
  const name = `Tkp${command.charAt(0).toUpperCase()}${command.slice(1)}`;
  return { Version: '2012-10-17', Statement: [{ Sid: `${name}Metadata`, Effect: 'Allow', Action: reads, Resource: '*' } as Statement, ...dataStatements(command, scope)] };
}
