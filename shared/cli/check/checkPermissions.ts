/**
 * What `tkp check` needs of whoever runs it: the IAM action behind each AWS call it makes, by the
 * SDK command that makes it, and that list as a policy to attach (`tkp check --permissions`). A
 * unit test reads the commands the check's modules construct, so a new read cannot be added
 * without naming what it needs here.
 */

/** The IAM action each of the check's AWS calls needs; null where no permission is needed. */
export const CHECK_CALLS: Readonly<Record<string, string | null>> = {
  // Who is asking, for the rows' wording: every caller may.
  GetCallerIdentityCommand: null,
  // The stack's outputs, when the resources are not named; the template, for the function code row.
  DescribeStacksCommand: 'cloudformation:DescribeStacks',
  GetTemplateCommand: 'cloudformation:GetTemplate',
  // Each rule's key, resolved and proved by DryRun as the caller; the alarm topic's key policy.
  DescribeKeyCommand: 'kms:DescribeKey',
  GenerateDataKeyCommand: 'kms:GenerateDataKey',
  EncryptCommand: 'kms:Encrypt',
  GetKeyPolicyCommand: 'kms:GetKeyPolicy',
  // The buckets: default encryption, notifications, policy, lifecycle, and who may read them.
  GetBucketEncryptionCommand: 's3:GetEncryptionConfiguration',
  GetBucketNotificationConfigurationCommand: 's3:GetBucketNotification',
  GetBucketPolicyCommand: 's3:GetBucketPolicy',
  GetBucketLifecycleConfigurationCommand: 's3:GetLifecycleConfiguration',
  GetPublicAccessBlockCommand: 's3:GetBucketPublicAccessBlock',
  GetBucketOwnershipControlsCommand: 's3:GetBucketOwnershipControls',
  GetBucketAclCommand: 's3:GetBucketAcl',
  GetBucketReplicationCommand: 's3:GetReplicationConfiguration',
  // The trail the CloudTrail rules need.
  DescribeTrailsCommand: 'cloudtrail:DescribeTrails',
  GetTrailStatusCommand: 'cloudtrail:GetTrailStatus',
  // The alarm topic: subscriptions, policy and key.
  ListSubscriptionsByTopicCommand: 'sns:ListSubscriptionsByTopic',
  GetTopicAttributesCommand: 'sns:GetTopicAttributes',
  // The stack's rules, alarms, outcome bus, verifier roles, functions and queues.
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
  GetQueueAttributesCommand: 'sqs:GetQueueAttributes',
  // --deployed: the preflight function makes the DryRun calls as the start role.
  InvokeCommand: 'lambda:InvokeFunction',
};

/**
 * The policy that lets an operator run `tkp check`, with or without --deployed. Every action
 * reads, but for the KMS DryRun calls, which encrypt nothing. Resource is `*` because the check
 * reads resources whose names come from the config and the stage; narrow it to the stack's
 * resources and the rules' keys where the account asks for that.
 */
export function checkPolicy() {
  const actions = [...new Set(Object.values(CHECK_CALLS).filter((action): action is string => action !== null))].sort();
  return { Version: '2012-10-17', Statement: [{ Sid: 'TkpCheck', Effect: 'Allow', Action: actions, Resource: '*' }] };
}
