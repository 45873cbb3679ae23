/**
 * Which events reach which function or person: the EventBridge patterns for Transcribe's
 * completion events, for this stack's outcome events, and for the CloudTrail calls that change
 * what verdicts rest on. The local mode matches with the same patterns.
 */
import { aliasesByAccount } from '../aws/keyReference';
import type { PipelineConfig } from '../config/rule';
import { CALL_ANALYTICS_STATE_CHANGE, CLOUDTRAIL_API_CALL, COMPLETION_DETAIL_FIELDS, JOB_DELETIONS, JOB_STATE_CHANGE, TRANSCRIBE_SOURCE } from '../verify/completionEvent';
import { OUTCOME_DETAIL_TYPE, UNPAGED_CAUSES } from '../verify/outcomeEvent';
import { distinctCfn, type Cfn } from './cfnValues';
import { alertingNames, functionNamePrefix, roleNamePrefix, type StackContext } from './stackNames';

/** The EventBridge pattern that sends this stack's finished transcription jobs, and only those, to the verifier. */
export function completionEventPattern(jobNamePrefix: string) {
  return completionPatternFor(JOB_STATE_CHANGE, COMPLETION_DETAIL_FIELDS.transcription, jobNamePrefix);
}

/** The same for Call Analytics jobs, whose event names the job and its status in other fields. */
export function callAnalyticsCompletionPattern(jobNamePrefix: string) {
  return completionPatternFor(CALL_ANALYTICS_STATE_CHANGE, COMPLETION_DETAIL_FIELDS.callAnalytics, jobNamePrefix);
}

/**
 * Every pattern that sends an event to the verifier, one EventBridge rule each: the completion
 * events (medical jobs have none, the sweeper finds them) and the deletion of any of this stack's
 * jobs.
 */
export function verifierEventPatterns(jobNamePrefix: string) {
  return {
    transcription: completionEventPattern(jobNamePrefix),
    callAnalytics: callAnalyticsCompletionPattern(jobNamePrefix),
    deletion: jobDeletionPattern(jobNamePrefix),
  };
}

function completionPatternFor(detailType: string, fields: { name: string; status: string }, jobNamePrefix: string) {
  return {
    source: [TRANSCRIBE_SOURCE],
    'detail-type': [detailType],
    detail: {
      [fields.name]: [{ prefix: jobNamePrefix }],
      [fields.status]: ['COMPLETED', 'FAILED'],
    },
  };
}

/**
 * CloudTrail's record of a call that deleted one of this stack's jobs, of any type, and
 * succeeded: the verifier answers it. A job deleted before its verdict would otherwise end with
 * none: a medical job has no completion event, so only the sweeper would have found it, and a
 * deleted job is no longer listed; the verifier dead-letters it instead, saying who deleted it.
 * A failed call (CloudTrail records those too, with an errorCode) deleted nothing.
 */
export function jobDeletionPattern(jobNamePrefix: string) {
  return {
    source: [TRANSCRIBE_SOURCE],
    'detail-type': [CLOUDTRAIL_API_CALL],
    detail: {
      eventSource: ['transcribe.amazonaws.com'],
      errorCode: [{ exists: false }],
      $or: Object.values(JOB_DELETIONS).map(({ eventName, nameField }) => ({ eventName: [eventName], requestParameters: { [nameField]: [{ prefix: jobNamePrefix }] } })),
    },
  };
}

/** The outcome events this stack publishes, for consumers' rules and the local mode. */
export function outcomeEventPattern(outcomeSource: string) {
  return { source: [outcomeSource] };
}

/**
 * The outcome events that must reach a person: every failed job, and every mismatch except a
 * rule changed by a config deploy (shared/verify/outcomeEvent.ts, pagesOperator). The outcome
 * bus sends these to the alarm topic.
 */
export function pagingOutcomePattern(outcomeSource: string) {
  return {
    source: [outcomeSource],
    'detail-type': [OUTCOME_DETAIL_TYPE.mismatch, OUTCOME_DETAIL_TYPE.failed],
    detail: {
      $or: [{ outcome: ['failed'] }, { outcome: ['mismatch'], cause: [{ 'anything-but': [...UNPAGED_CAUSES] }] }],
    },
  };
}

/** The calls that point an alias at another key, or take it away. */
const ALIAS_CHANGES = ['CreateAlias', 'UpdateAlias', 'DeleteAlias'];
/** The calls that change what a bucket encrypts new objects with. */
const BUCKET_DEFAULT_CHANGES = ['PutBucketEncryption', 'DeleteBucketEncryption'];
/** The calls that change a bucket's policy. */
const BUCKET_POLICY_CHANGES = ['PutBucketPolicy', 'DeleteBucketPolicy'];
/**
 * The calls that change the transcript bucket's policy, which is what keeps the verdict ledger to
 * the verifiers, or its lifecycle rules: S3 expires objects itself, whatever the policy denies, so
 * a rule that expires `verdicts/` or the transcripts hides the ledger or the transcripts behind
 * delete markers a day later (and, with an old-version rule beside it, deletes them) with no
 * other call. CloudTrail names PutBucketLifecycleConfiguration by its REST operation,
 * PutBucketLifecycle; both are matched.
 */
const LEDGER_BUCKET_CHANGES = [...BUCKET_POLICY_CHANGES, 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration'];
/** The calls that change an event bus's policy, which is what keeps the outcome bus to the verifiers. */
const BUS_POLICY_CHANGES = ['PutPermission', 'RemovePermission'];
/**
 * The calls that stop or narrow a trail. This rule and the verifier's deleted-job rule hear of
 * API calls only through a logging trail, so turning one off is itself a way to silence them.
 * Any trail of the account: which one covers the region is not known at deploy time.
 */
const TRAIL_CHANGES = ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors'];
/**
 * The calls that change what a verifier runs: its code, or its configuration (environment,
 * layers, role). Lambda's CloudTrail event names carry an API version (`UpdateFunctionCode20150331v2`),
 * hence prefixes. A deploy's own changes come from CloudFormation and are not paged: a deploy is
 * reviewed where it is made.
 */
const FUNCTION_CHANGES = [
  { prefix: 'UpdateFunctionCode' },
  { prefix: 'UpdateFunctionConfiguration' },
  // Where a failed invocation goes (the verify DLQ) and how often it is retried.
  { prefix: 'PutFunctionEventInvokeConfig' },
  { prefix: 'UpdateFunctionEventInvokeConfig' },
  { prefix: 'DeleteFunctionEventInvokeConfig' },
  // A reserved concurrency of 0 stops a function without touching its code: the verifier's events
  // would wait out Lambda's six hours of retries, and uploads their 50 receives, before any alarm.
  { prefix: 'PutFunctionConcurrency' },
  // The function deleted, or EventBridge's permission to invoke it removed: its events then fail
  // into the verify DLQ, whose alarm pages, but without who did it.
  { prefix: 'DeleteFunction' },
  { prefix: 'RemovePermission' },
];
/**
 * The calls that create, change or remove a Lambda trigger (an event source mapping). Creating one
 * names its queue in the request; a change or removal names the mapping by its UUID, and Lambda's
 * response, which CloudTrail records, names the queue and the function.
 */
const TRIGGER_CHANGES = [{ prefix: 'CreateEventSourceMapping' }, { prefix: 'UpdateEventSourceMapping' }, { prefix: 'DeleteEventSourceMapping' }];
/**
 * The calls, besides its policy's, that open a bucket's objects to others or copy them elsewhere:
 * a replication rule, its public access block, an ACL, or ACLs turned back on (its ownership
 * controls), after which any object's own ACL may grant read, which no later bucket call shows.
 */
const EXPOSURE_CHANGES = ['PutBucketReplication', 'PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock', 'PutBucketAcl', 'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls'];
/** The calls that take a KMS key out of use or delete it, or delete the key material imported into it (the key is then unusable until the same material is imported again). */
const KEY_LOSSES = ['DisableKey', 'ScheduleKeyDeletion', 'DeleteImportedKeyMaterial'];
/** The call that rewrites a key's policy: who may use the key, the stack's roles and Transcribe among them, or others. */
const KEY_POLICY_CHANGES = ['PutKeyPolicy'];
/** The calls that give a function its role. */
const ROLE_GRANTS = [{ prefix: 'CreateFunction' }, { prefix: 'UpdateFunctionConfiguration' }];
const CLOUDFORMATION = 'cloudformation.amazonaws.com';
/** The calls that turn an EventBridge rule off, delete it or rewrite its pattern (the rule is `name`)... */
const RULE_CHANGES = ['DisableRule', 'DeleteRule', 'PutRule'];
/** ...and those that change where it sends what it matches (the rule is `rule`). */
const RULE_TARGET_CHANGES = ['PutTargets', 'RemoveTargets'];
/** The calls that delete an alarm or stop its actions (`alarmNames`), and the one that rewrites it (`alarmName`). */
const ALARM_CHANGES = ['DeleteAlarms', 'DisableAlarmActions'];
const ALARM_REWRITE = ['PutMetricAlarm'];
/** The calls that remove a subscription or filter what it receives (`subscriptionArn`, which starts with the topic's ARN and `:`). */
const SUBSCRIPTION_CHANGES = ['Unsubscribe', 'SetSubscriptionAttributes'];
/** The calls that delete the topic or change who may publish to it (`topicArn`). */
const TOPIC_CHANGES = ['DeleteTopic', 'SetTopicAttributes', 'RemovePermission'];
/**
 * The calls that lose what a queue holds or will be sent (`queueUrl`): its policy (who may send:
 * S3's notifications, EventBridge's dead letters), its redrive or retention changed, its messages
 * purged, the queue deleted.
 */
const QUEUE_CHANGES = ['SetQueueAttributes', 'AddPermission', 'RemovePermission', 'PurgeQueue', 'DeleteQueue'];
/**
 * The call that replaces a bucket's whole notification configuration (`bucketName`): another
 * tool writing its own notifications onto a shared input bucket removes this stack's, and from
 * then on no upload reaches the start queue. CloudTrail names several S3 configuration calls by
 * their REST operation (PutBucketLifecycleConfiguration as PutBucketLifecycle), and published
 * detection rules match this one as PutBucketNotificationConfiguration; both names are matched.
 */
const NOTIFICATION_CHANGES = ['PutBucketNotification', 'PutBucketNotificationConfiguration'];

/**
 * The API calls that change what verdicts rest on without a config deploy (README, "What a rule
 * leaves to others"): pointing an alias that a rule names at another key, changing the default
 * encryption of an output bucket that a keyless rule writes to, changing the transcript bucket's
 * policy, which keeps the verdict ledger to the verifiers, or its lifecycle, which could expire
 * the ledger and the transcripts, and changing the outcome bus's policy,
 * which keeps forged verdicts off it; and stopping or narrowing a CloudTrail trail, without
 * which none of this reaches anyone. The verifier follows the first two as they are now, so a
 * transcript written after such a call verifies; this pattern is how the call itself reaches a
 * person. An alias named by ARN is matched in its own account only (`recipientAccountId`), so a
 * same-named alias elsewhere never pages. The bus is matched by name and by ARN, since a caller
 * may name it either way.
 */
export function trustChangePattern(config: PipelineConfig, stack: { transcriptBucket: Cfn; outcomeBus: Cfn[] }) {
  const { transcriptBucket } = stack;
  const aliases = aliasesByAccount(config.rules.map((rule) => rule.kmsKey));
  const alternatives: Record<string, unknown>[] = [...aliases].map(([account, aliasNames]) => ({
    eventSource: ['kms.amazonaws.com'],
    eventName: ALIAS_CHANGES,
    ...(account && { recipientAccountId: [account] }),
    requestParameters: { aliasName: aliasNames },
  }));
  const buckets = distinctCfn(config.rules.filter((rule) => !rule.kmsKey).map((rule) => rule.output.bucket ?? transcriptBucket));
  if (buckets.length > 0) {
    alternatives.push({ eventSource: ['s3.amazonaws.com'], eventName: BUCKET_DEFAULT_CHANGES, requestParameters: { bucketName: buckets } });
  }
  alternatives.push({ eventSource: ['s3.amazonaws.com'], eventName: LEDGER_BUCKET_CHANGES, requestParameters: { bucketName: [transcriptBucket] } });
  alternatives.push({ eventSource: ['events.amazonaws.com'], eventName: BUS_POLICY_CHANGES, requestParameters: { eventBusName: stack.outcomeBus } });
  alternatives.push({ eventSource: ['cloudtrail.amazonaws.com'], eventName: TRAIL_CHANGES });
  return {
    source: [...(aliases.size > 0 ? ['aws.kms'] : []), 'aws.s3', 'aws.events', 'aws.cloudtrail'],
    'detail-type': [CLOUDTRAIL_API_CALL],
    detail: { $or: alternatives },
  };
}

/** What sets the start path off: the input bucket's notifications, and who writes them in a deploy. */
export interface IntakeParts {
  /** The input bucket, whose notifications turn uploads into messages on the start queue. */
  inputBucket: Cfn;
  /**
   * The start of the session ARN the stack's own notifications function calls with
   * (`arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/`): on an existing input bucket a deploy writes
   * the notifications through it, not through CloudFormation.
   */
  notificationsSession: Cfn;
}

/**
 * Any of the stack's functions' code or configuration changed outside a deploy: a new environment
 * variable alone (an endpoint for KMS or S3) could point the verifiers' DescribeKey or HeadObject
 * at a forger, new code could say anything, a changed invoke config could drop their failures
 * instead of dead-lettering them, and a reserved concurrency of 0 stops a function for hours
 * before an alarm would say so (its trigger turned off: queueTriggerPattern). The start and preflight functions run with the start role,
 * which may write transcripts (Transcribe writes with it), and the notifications function decides
 * which uploads reach the start queue; the input bucket's notifications, replaced by another tool
 * on a shared bucket, would stop every upload from reaching it. Any function given one of the
 * stack's roles pages too. It
 * also watches AlertingChangesRule, which cannot see its own rule turned off (the call reaches
 * EventBridge after the rule is off), as that rule watches this one. A rule of its own, since
 * TrustChangesRule's pattern is near EventBridge's size quota with the demo config. Functions and
 * roles are matched by the name prefix the stack gives them (stackNames.ts), in every form a
 * caller may name a function by (functionNameForms); another stage whose name extends this one's
 * with a `-` pages here too, which errs on the side of a page.
 */
export function verifierChangePattern(stack: Pick<StackContext, 'service' | 'stage' | 'region'>, intake: IntakeParts) {
  const alertingRule = alertingNames(stack).rules.alertingChanges;
  return {
    source: ['aws.lambda', 'aws.events', 'aws.s3'],
    'detail-type': [CLOUDTRAIL_API_CALL],
    detail: {
      sourceIPAddress: [{ 'anything-but': CLOUDFORMATION }],
      $or: [
        { eventSource: ['lambda.amazonaws.com'], eventName: FUNCTION_CHANGES, requestParameters: { functionName: functionNameForms(functionNamePrefix(stack)) } },
        // Another function given one of the stack's roles: its code could act as the verifier (a
        // verifier role's policy denies it verdicts, iamStatements.ts; this says someone tried,
        // in this region) or write transcripts as the start role may.
        { eventSource: ['lambda.amazonaws.com'], eventName: ROLE_GRANTS, requestParameters: { role: [{ wildcard: `*:role/${roleNamePrefix(stack)}*` }] } },
        ...ruleChangeAlternatives([alertingRule]),
        // The start path's own trigger, upstream of the start queue's: replaced by anyone but the stack's notifications function.
        {
          eventSource: ['s3.amazonaws.com'],
          eventName: NOTIFICATION_CHANGES,
          requestParameters: { bucketName: [intake.inputBucket] },
          userIdentity: { arn: [{ 'anything-but': { prefix: intake.notificationsSession } }] },
        },
      ],
    },
  };
}

/**
 * Every way a caller can name a function whose name starts with `prefix` to Lambda, as pattern
 * values: its name, its ARN or partial ARN (`ACCOUNT:function:NAME`), either with a version or
 * alias (which the invoke-config calls take). Matching only the name and the full ARN would let a
 * caller who names it by partial ARN change it without a page.
 */
export function functionNameForms(prefix: string): unknown[] {
  return [{ prefix }, { wildcard: `*:function:${prefix}*` }];
}

/** What the stack's alerting is made of: its rules and alarms, whose names all start with one prefix, and the alarm topic. */
export interface AlertingParts {
  /** The start of every name the stack gives its rules and alarms (shared/stack/stackNames.ts, alertingNames). */
  namePrefix: string;
  alarmTopic: Cfn;
  /** The start of every subscription's ARN: the topic's ARN and `:`. */
  subscriptionPrefix: Cfn;
  /**
   * The end of each of the stack's queues' URLs, `/ACCOUNT/NAME`: a caller may name a queue by any
   * of SQS's hosts (`sqs.REGION.amazonaws.com`, `queue.amazonaws.com`...), never by another path.
   */
  queuePaths: Cfn[];
}

/**
 * The calls that silence a page outside a deploy: one of the stack's EventBridge rules turned
 * off, deleted, rewritten or retargeted (the verifier's, the sweeper's schedule, and every rule
 * that pages, this one's own included, though it cannot see that one: VerifierChangesRule does);
 * one of its alarms deleted, its actions disabled or rewritten; a subscription of the alarm topic
 * removed or filtered; the topic deleted or its policy changed; one of its queues re-permissioned,
 * its redrive or retention changed, purged or deleted (uploads or dead letters lost without a
 * word: S3 drops a notification the start queue refuses). Rules and alarms are matched by
 * the stack's name prefix, which keeps the pattern within EventBridge's size quota whatever the
 * stage is called; another stage whose name extends this one's with a `-` would page here too,
 * which errs on the side of a page. Failed calls are matched too: an attempt to silence the
 * alarms is worth a page.
 */
export function alertingChangePattern(parts: AlertingParts) {
  const stackNames = [{ prefix: parts.namePrefix }];
  return {
    // EventBridge's reference gives `aws.monitoring` as the source of CloudWatch's calls through
    // CloudTrail; `aws.cloudwatch`, the source its alarm events were long documented with, is
    // matched too, so that either spelling pages (eventSource is what narrows the match).
    source: ['aws.events', 'aws.monitoring', 'aws.cloudwatch', 'aws.sns', 'aws.sqs'],
    'detail-type': [CLOUDTRAIL_API_CALL],
    detail: {
      sourceIPAddress: [{ 'anything-but': CLOUDFORMATION }],
      $or: [
        ...ruleChangeAlternatives(stackNames),
        { eventSource: ['monitoring.amazonaws.com'], eventName: ALARM_CHANGES, requestParameters: { alarmNames: stackNames } },
        { eventSource: ['monitoring.amazonaws.com'], eventName: ALARM_REWRITE, requestParameters: { alarmName: stackNames } },
        { eventSource: ['sns.amazonaws.com'], eventName: SUBSCRIPTION_CHANGES, requestParameters: { subscriptionArn: [{ prefix: parts.subscriptionPrefix }] } },
        { eventSource: ['sns.amazonaws.com'], eventName: TOPIC_CHANGES, requestParameters: { topicArn: [parts.alarmTopic] } },
        { eventSource: ['sqs.amazonaws.com'], eventName: QUEUE_CHANGES, requestParameters: { queueUrl: parts.queuePaths.map((path) => ({ suffix: path })) } },
      ],
    },
  };
}

/**
 * A Lambda trigger on one of the stack's queues created, changed or removed outside a deploy. The
 * start queue's consumer is the start function's trigger alone: another function's takes a share
 * of the uploads and deletes each as it returns, so they never become jobs, and the queue never
 * backs up for StartQueueAgeAlarm to see. One on a DLQ deletes dead letters before anyone reads
 * them. The start function's own trigger turned off or removed stops every upload for the hour
 * StartQueueAgeAlarm waits. A refused creation matches too (its request names the queue): an
 * attempt to read the uploads is worth a page. `queueArns` are the queues' ARNs, the only way a
 * trigger names a queue.
 */
export function queueTriggerPattern(queueArns: Cfn[]) {
  return {
    source: ['aws.lambda'],
    'detail-type': [CLOUDTRAIL_API_CALL],
    detail: {
      sourceIPAddress: [{ 'anything-but': CLOUDFORMATION }],
      eventSource: ['lambda.amazonaws.com'],
      eventName: TRIGGER_CHANGES,
      $or: [{ requestParameters: { eventSourceArn: queueArns } }, { responseElements: { eventSourceArn: queueArns } }],
    },
  };
}

/**
 * The calls that make a KMS key unusable (DisableKey; DeleteImportedKeyMaterial, for a key whose
 * material was imported, until the same material is imported again) or, at the end of its waiting
 * period, gone with everything encrypted under it (ScheduleKeyDeletion), for any key of the account in this
 * region: a rule may name a key by alias, whose key is not known at deploy time, and the calls
 * name a key by ID or ARN alone. A job under a rule whose key it is fails until the key is back;
 * once the key is deleted, no transcript under it can ever be read. Alerting on both calls for
 * every key is what the CIS AWS Foundations Benchmark asks of an account, so a page for a key no
 * rule names is one the account should have anyway. CloudFormation's calls page too: another
 * stack's deletion can take a key a rule names. A refused call matches as well.
 *
 * A key's policy rewritten outside a deploy (PutKeyPolicy) pages through the same rule: a policy
 * that leaves out the start role or Transcribe takes the key from the pipeline as surely as
 * disabling it, and one that lets others decrypt opens every transcript under the key to whoever
 * may also read them from S3. A deploy's rewrite (CloudFormation's, of a key some stack manages)
 * is a reviewed change and does not page, as the stack's other "outside a deploy" rules do not.
 */
export function keyLossPattern() {
  return {
    source: ['aws.kms'],
    'detail-type': [CLOUDTRAIL_API_CALL],
    detail: {
      eventSource: ['kms.amazonaws.com'],
      $or: [{ eventName: KEY_LOSSES }, { eventName: KEY_POLICY_CHANGES, sourceIPAddress: [{ 'anything-but': CLOUDFORMATION }] }],
    },
  };
}

/**
 * The recordings or the transcripts opened to others or copied elsewhere outside a deploy: the
 * input bucket's policy changed, or either bucket given a replication rule, its public access
 * block lifted or an ACL. The transcript bucket's policy pages through TrustChangesRule, which
 * keeps the ledger; this one is about who may read. A rule's output bucket other than the
 * transcript bucket is its owner's to watch: naming each would let the config overflow the
 * pattern's size quota. A refused call matches too: someone tried.
 */
export function dataExposurePattern(buckets: { inputBucket: Cfn; transcriptBucket: Cfn }) {
  return {
    source: ['aws.s3'],
    'detail-type': [CLOUDTRAIL_API_CALL],
    detail: {
      sourceIPAddress: [{ 'anything-but': CLOUDFORMATION }],
      $or: [
        { eventSource: ['s3.amazonaws.com'], eventName: [...BUCKET_POLICY_CHANGES, ...EXPOSURE_CHANGES], requestParameters: { bucketName: [buckets.inputBucket] } },
        { eventSource: ['s3.amazonaws.com'], eventName: EXPOSURE_CHANGES, requestParameters: { bucketName: [buckets.transcriptBucket] } },
      ],
    },
  };
}

function ruleChangeAlternatives(rules: (string | { prefix: string })[]) {
  return [
    { eventSource: ['events.amazonaws.com'], eventName: RULE_CHANGES, requestParameters: { name: rules } },
    { eventSource: ['events.amazonaws.com'], eventName: RULE_TARGET_CHANGES, requestParameters: { rule: rules } },
  ];
}
