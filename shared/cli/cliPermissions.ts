/**
 * What each `tkp` command needs of whoever runs it: the IAM action behind each AWS call the CLI
 * makes, by the SDK command that makes it, the calls of each command, and those as a policy to
 * attach (`tkp COMMAND --permissions`). A unit test reads the commands each command's code
 * constructs, so a new call cannot be added without naming what it needs here.
 */

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
 * The policy that lets an operator run one command. Resource is `*` because the command reads
 * resources whose names come from the config and the stage; narrow it to the stack's resources
 * and the rules' keys where the account asks for that.
 */
export function policyFor(command: CliCommand) {
  const actions = [...new Set(COMMAND_CALLS[command].map((call) => CALL_ACTIONS[call]).filter((action): action is string => typeof action === 'string'))].sort();
  return { Version: '2012-10-17', Statement: [{ Sid: `Tkp${command.charAt(0).toUpperCase()}${command.slice(1)}`, Effect: 'Allow', Action: actions, Resource: '*' }] };
}
