/**
 * Everything that makes a failure reach a person: the alarm topic (created, or the operator's
 * own), an optional email subscription, the alarms on the dead-letter queues, on the start
 * backlog and on mismatches, the outcome-bus rule that sends paging verdicts to the topic, and
 * the bus archive from which verdicts can be replayed, and the default-bus rule that sends the
 * topic a retargeted alias, a changed bucket default, a changed ledger bucket or outcome bus
 * policy, or a stopped trail (what verdicts rest on without a config deploy), the one that sends
 * it a verifier's code or configuration changed outside a deploy, and the one that sends it any of
 * this stack's rules, alarms or topic turned off outside a deploy. Every rule and alarm has a
 * fixed name (stackNames.ts, alertingNames) for that last rule to match.
 */
import { OUTCOME_METRIC } from '../verify/outcomeEvent';
import { alertingChangePattern, dataExposurePattern, keyLossPattern, outcomeEventPattern, pagingOutcomePattern, queueTriggerPattern, trustChangePattern, verifierChangePattern } from './eventPatterns';
import { resolvedLength, type Cfn } from './cfnValues';
import { alarmTopicName, alertingNames, functionLogicalId, functionName, inputBucketRef, roleName, STACK_QUEUES, transcriptBucketRef, type StackContext } from './stackNames';

export const METRICS_NAMESPACE = 'TranscribeKmsPipeline';
/** A start backlog older than this has been retrying (a full quota, a broken key) for too long. */
export const START_BACKLOG_ALARM_SECONDS = 3600;
export const OUTCOME_ARCHIVE_RETENTION_DAYS = 365;
/** EventBridge's default quota on the length of an event pattern (adjustable to 4,096). */
export const EVENT_PATTERN_MAX_LENGTH = 2048;

export function alarmTopicRef(ctx: StackContext): Cfn {
  return ctx.existingAlarmTopicArn ?? { Ref: 'AlarmTopic' };
}

/** Every alarm's period: a metric's five minutes. */
const ALARM_PERIOD_SECONDS = 300;

/** An alarm on one metric, or on metric math (`Metrics`, each with its own period). */
function alarm(ctx: StackContext, name: string, description: string, metric: Record<string, unknown>, threshold = 0) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: name,
      AlarmDescription: description,
      ...metric,
      ...(!('Metrics' in metric) && { Period: ALARM_PERIOD_SECONDS }),
      EvaluationPeriods: 1,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [alarmTopicRef(ctx)],
      OKActions: [alarmTopicRef(ctx)],
    },
  };
}

/**
 * What a person paged by a CloudTrail call should do, by the rule that paged. A verdict carries
 * its own (whatToDo); a bare CloudTrail event says who called, what and when, but nothing of this
 * stack. The text goes through EventBridge's input template, which cannot escape < or >.
 */
export const CHANGE_PAGE_WHAT_TO_DO = {
  trustChanges:
    'A key alias a rule names, a keyless rule\'s output bucket default, the verdict ledger\'s bucket policy or lifecycle or the outcome bus\'s policy, or a CloudTrail trail changed outside a deploy: event.detail says who (userIdentity) and what (eventName, requestParameters). ' +
    'If nobody planned it: point the alias back (aws kms update-alias) or restore the bucket default; put the ledger and bus policies and the transcript bucket\'s lifecycle back as the stack defines them, which a redeploy does not do (aws cloudformation detect-stack-drift shows what differs); start the trail again (aws cloudtrail start-logging). ' +
    'Then run tkp audit --since the event\'s time: verdicts since then rest on what changed. README: When an alarm fires; Putting back what changed outside a deploy.',
  verifierChanges:
    'The code, configuration or concurrency of one of this stack\'s functions or the input bucket\'s notifications changed, or a function was given one of its roles, outside a deploy: event.detail says who (userIdentity) and what (eventName, requestParameters, responseElements). ' +
    'If nobody planned it: remove a function given one of its roles (a verifier\'s role is refused verdicts, the start role may write transcripts), and put the function back as the stack defines it, which a redeploy does not do: serverless deploy function for its code (tkp check compares it with what the last deploy published), aws cloudformation detect-stack-drift for what else differs. ' +
    'Until then, trust no verdict or transcript from the event\'s time on without tkp audit --since that time, which judges the transcripts with your own credentials. ' +
    'After PutBucketNotification no upload reaches the start queue: tkp check names the notifications missing, and once they are back, tkp backfill --since the event\'s time transcribes what was uploaded meanwhile. README: When an alarm fires; Putting back what changed outside a deploy.',
  alertingChanges:
    'One of this stack\'s EventBridge rules or CloudWatch alarms, the alarm topic\'s subscriptions or policy, or one of its queues was turned off, deleted, purged or changed outside a deploy, so pages, uploads or dead letters may have been lost since: event.detail says who (userIdentity) and what (eventName, requestParameters). ' +
    'If nobody planned it: put them back as the stack defines them, which a redeploy does not do (tkp check names what is off, aws cloudformation detect-stack-drift what else differs; re-subscribe a removed address yourself), then tkp audit --since the event\'s time and read both dead-letter queues; ' +
    'after a change to the start queue, tkp backfill --since the event\'s time transcribes what was uploaded meanwhile; after the start DLQ was purged, tkp backfill --since 14 days before it starts the uploads it held. README: When an alarm fires; Putting back what changed outside a deploy.',
  queueTriggers:
    'A Lambda trigger on one of this stack\'s queues was created, changed or deleted outside a deploy: event.detail says who (userIdentity) and what (eventName, requestParameters, and responseElements: the trigger\'s uUID, its function and its queue). ' +
    'Another function\'s trigger on the start queue takes uploads that then never become jobs, one on a dead-letter queue deletes the letters unread, and the start function\'s own trigger turned off or deleted leaves every upload waiting. ' +
    'If nobody planned it: delete another function\'s trigger (aws lambda delete-event-source-mapping --uuid UUID) or put the start function\'s back as the stack defines it, which a redeploy does not do (tkp check names each trigger, row stack queues); ' +
    'then tkp backfill --since the event\'s time transcribes the uploads taken meanwhile, once each; after a dead-letter queue was read, tkp backfill --since 14 days before the event starts the start DLQ\'s uploads and tkp audit --since 14 days before it judges the transcripts of the verify DLQ\'s. README: When an alarm fires; Putting back what changed outside a deploy.',
  keyLosses:
    'A KMS key of this account was disabled, scheduled for deletion, had its imported key material deleted or its policy rewritten outside a deploy, or someone tried: event.detail says who (userIdentity), which key (requestParameters.keyId; responseElements.keyId is its ARN, where KMS answers with one), when it goes (responseElements.deletionDate), the new policy (requestParameters.policy) and errorCode if the call was refused. ' +
    'If a rule names that key, by ARN or through an alias (tkp check fails each such rule, naming the key), every job under the rule fails until the key is back, and once the key is deleted no transcript under it can ever be read again. ' +
    'If nobody planned it: put the key back, which a redeploy does not do: aws kms cancel-key-deletion --key-id ARN (which leaves it disabled), then aws kms enable-key --key-id ARN; for deleted key material, aws kms import-key-material with the same material, from wherever your team keeps it; for a rewritten policy, aws kms put-key-policy --key-id ARN --policy-name default with the policy before it (the key\'s stack, or the previous PutKeyPolicy in CloudTrail), since one that lets others decrypt opens every transcript under the key to whoever may also read it from S3; tkp check then passes those rules (its DryRun rows use the key as the start role). ' +
    'Then upload again what failed meanwhile (each Failed verdict says how) and run tkp audit --since the event\'s time. A key no rule names is the account\'s to judge. README: When an alarm fires; Putting back what changed outside a deploy.',
  dataExposure:
    'The recordings or the transcripts may be open to others or copied elsewhere: the input bucket\'s policy, or a replication rule, the public access block, an ACL or the ownership controls (ACLs turned back on) of the input or transcript bucket, changed outside a deploy (or someone tried). event.detail says who (userIdentity), what (eventName, requestParameters: the new policy, the replication rules and their destination) and errorCode if the call was refused. ' +
    'If nobody planned it: put the bucket back as the stack defines it, which a redeploy does not do (tkp check names what is off, rows input bucket exposure and transcript bucket exposure, with the command for each: aws s3api delete-bucket-replication, put-public-access-block with all four settings on, put-bucket-ownership-controls BucketOwnerEnforced, put-bucket-policy with the packaged template\'s), then find what was read or copied meanwhile (a replication rule\'s destination bucket; S3 server access logs or CloudTrail data events, where on). ' +
    'Run tkp audit --since the event\'s time too: a policy that let others read may have let them write. README: When an alarm fires; Putting back what changed outside a deploy.',
} as const;

/**
 * The page a CloudTrail rule sends instead of the bare event: the rule's name, what to do, and
 * the whole event under "event" (EventBridge's <aws.events.event.json>), so nothing CloudTrail
 * recorded is lost. Keyed by rule name, for the stack and the local mode alike.
 */
export function changePageInputs(ctx: Pick<StackContext, 'service' | 'stage'>): Record<string, { InputTemplate: string }> {
  const { rules } = alertingNames(ctx);
  return Object.fromEntries(
    (Object.keys(CHANGE_PAGE_WHAT_TO_DO) as (keyof typeof CHANGE_PAGE_WHAT_TO_DO)[]).map((key) => [
      rules[key],
      { InputTemplate: `{"page": ${JSON.stringify(rules[key])}, "whatToDo": ${JSON.stringify(CHANGE_PAGE_WHAT_TO_DO[key])}, "event": <aws.events.event.json>}` },
    ]),
  );
}

/**
 * An EventBridge rule that sends what it matches to the alarm topic: a verdict unchanged (it
 * carries the expectation, the facts, the cause, the problems and what to do), a CloudTrail event
 * wrapped with what to do (changePageInputs). If the topic refuses an event, it lands in the
 * verify DLQ, whose alarm is on this topic too.
 */
function alarmTopicRule(ctx: StackContext, name: string, description: string, eventPattern: unknown, eventBusName?: Cfn, whenTooLong = '') {
  const length = resolvedLength(eventPattern);
  if (length > EVENT_PATTERN_MAX_LENGTH) {
    throw new Error(
      `the EventBridge rule ${name} (${description}) would have an event pattern of up to ${length} characters, over EventBridge's default quota of ${EVENT_PATTERN_MAX_LENGTH}; ` +
        `${whenTooLong}raise the "Event pattern size" quota and this limit (EVENT_PATTERN_MAX_LENGTH in shared/stack/alarmResources.ts) together`,
    );
  }
  const input = changePageInputs(ctx)[name];
  return {
    Type: 'AWS::Events::Rule',
    Properties: {
      Name: name,
      Description: description,
      ...(eventBusName && { EventBusName: eventBusName }),
      EventPattern: eventPattern,
      State: 'ENABLED',
      Targets: [
        {
          Id: 'alarm-topic',
          Arn: alarmTopicRef(ctx),
          ...(input && { InputTransformer: input }),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['VerifyDeadLetterQueue', 'Arn'] } },
        },
      ],
    },
  };
}

const queueMetric = (queue: string, metricName: string) => ({
  Namespace: 'AWS/SQS',
  MetricName: metricName,
  Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
  Statistic: 'Maximum',
});

/** The Sid of the one statement the alarm topic's policy needs (README, Deploy: "Alarms"). */
export const ALARM_TOPIC_PUBLISHERS_SID = 'AlarmsAndPagingVerdicts';

/**
 * What lets the stack's publishers into the alarm topic: EventBridge (the paging rules) and
 * CloudWatch (the alarms) are services, and SNS takes a service's message only where the topic's
 * own policy names it, the account's own or not. The topic and account are Refs in the template
 * and values where the stack is played locally.
 */
export function alarmTopicPublishers(topic: unknown, account: unknown) {
  return {
    Sid: ALARM_TOPIC_PUBLISHERS_SID,
    Effect: 'Allow',
    Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
    Action: 'sns:Publish',
    Resource: topic,
    Condition: { StringEquals: { 'aws:SourceAccount': account } },
  };
}

export function alarmResources(ctx: StackContext): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  if (!ctx.existingAlarmTopicArn) {
    resources.AlarmTopic = { Type: 'AWS::SNS::Topic', Properties: { TopicName: alarmTopicName(ctx) } };
    resources.AlarmTopicPolicy = {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [{ Ref: 'AlarmTopic' }],
        PolicyDocument: { Version: '2012-10-17', Statement: [alarmTopicPublishers({ Ref: 'AlarmTopic' }, { Ref: 'AWS::AccountId' })] },
      },
    };
    if (ctx.alarmEmail) {
      resources.AlarmEmailSubscription = {
        Type: 'AWS::SNS::Subscription',
        Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: ctx.alarmEmail },
      };
    }
  }
  const names = alertingNames(ctx);
  resources.StartDeadLetterAlarm = alarm(
    ctx,
    names.alarms.startDeadLetters,
    'Uploads that could not become a Transcribe job; each message in the start DLQ carries its reason: fix what it names, then tkp redrive moves them back (README: "When an alarm fires")',
    queueMetric('StartDeadLetterQueue', 'ApproximateNumberOfMessagesVisible'),
  );
  resources.VerifyDeadLetterAlarm = alarm(
    ctx,
    names.alarms.verifyDeadLetters,
    'Completion events that could not be verified, every encryption mismatch and every incomplete sweep: once what the error names is fixed, tkp redrive --verify tries them again (README: "When an alarm fires")',
    queueMetric('VerifyDeadLetterQueue', 'ApproximateNumberOfMessagesVisible'),
  );
  resources.StartQueueAgeAlarm = alarm(
    ctx,
    names.alarms.startBacklog,
    'Uploads have waited over an hour to become jobs: a full Transcribe quota or a failing key keeps them retrying (README: "When an alarm fires")',
    queueMetric('StartQueue', 'ApproximateAgeOfOldestMessage'),
    START_BACKLOG_ALARM_SECONDS,
  );
  resources.EncryptionMismatchAlarm = alarm(ctx, names.alarms.encryptionMismatch, `A transcript of stage ${ctx.stage} was not encrypted the way its rule asks`, {
    Namespace: METRICS_NAMESPACE,
    MetricName: OUTCOME_METRIC.mismatch,
    Dimensions: [
      { Name: 'service', Value: ctx.service },
      { Name: 'stage', Value: ctx.stage },
    ],
    Statistic: 'Sum',
  });
  // A verification that failed reaches the verify DLQ only if Lambda can put it there, with the
  // function's own role: one that lost sqs:SendMessage on the queue (an IAM change, which no rule
  // of the stack's region can see: IAM's events reach EventBridge in us-east-1 alone) drops every
  // failed verification, and the DLQ's alarm never hears of it.
  resources.VerifierDeadLettersLostAlarm = alarm(
    ctx,
    names.alarms.verifierDeadLettersLost,
    'A failed verification or sweep could not be put into the verify DLQ and is lost: give the verify and sweep roles sqs:SendMessage on the verify DLQ back (a redeploy does), then run tkp audit --since the alarm\'s time (README: "When an alarm fires")',
    {
      Metrics: [
        ...(['verify', 'sweep'] as const).map((fn) => ({
          Id: fn,
          MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'DestinationDeliveryFailures', Dimensions: [{ Name: 'FunctionName', Value: functionName(ctx, fn) }] }, Period: ALARM_PERIOD_SECONDS, Stat: 'Sum' },
          ReturnData: false,
        })),
        { Id: 'lost', Expression: 'FILL(verify, 0) + FILL(sweep, 0)', Label: 'failed verifications not delivered to the verify DLQ', ReturnData: true },
      ],
    },
  );
  resources.PagingVerdictsRule = alarmTopicRule(
    ctx,
    names.rules.pagingVerdicts,
    'Mismatch and Failed verdicts (a config deploy’s rule change excepted) to the alarm topic',
    pagingOutcomePattern(ctx.service),
    { Ref: 'OutcomeBus' },
  );
  resources.TrustChangesRule = {
    ...alarmTopicRule(
      ctx,
      names.rules.trustChanges,
      'An alias a rule names retargeted, a keyless rule’s output bucket default, the ledger bucket’s policy or lifecycle or the outcome bus’s policy changed, or a trail stopped: CloudTrail events to the alarm topic',
      trustChangePattern(ctx.config, { transcriptBucket: transcriptBucketRef(ctx), outcomeBus: [{ Ref: 'OutcomeBus' }, { 'Fn::GetAtt': ['OutcomeBus', 'Arn'] }] }),
      undefined,
      'name fewer keys by alias (a key ARN pins its key and needs no watching), or ',
    ),
    // Created after the transcript bucket's own encryption and policy and the outcome bus's policy, so the first deploy does not page on them.
    DependsOn: [...(!ctx.existingTranscriptBucket ? ['TranscriptBucketPolicy'] : []), 'OutcomeBusPolicy'],
  };
  // It matches the functions by the names serverless gives them, so it is created after them: the
  // first deploy does not page, and a later deploy's changes come from CloudFormation.
  resources.VerifierChangesRule = {
    ...alarmTopicRule(
      ctx,
      names.rules.verifierChanges,
      'The code or configuration of any of the stack’s functions (the verifiers, and the start role’s, which may write transcripts), a function given one of its roles, the input bucket’s notifications, or the rule that watches the alarms, changed outside a deploy: CloudTrail events to the alarm topic',
      verifierChangePattern(ctx, {
        inputBucket: inputBucketRef(ctx),
        notificationsSession: { 'Fn::Sub': `arn:\${AWS::Partition}:sts::\${AWS::AccountId}:assumed-role/${roleName(ctx, 'notifications')}/` },
      }),
    ),
    DependsOn: (['verify', 'sweep', 'start', 'preflight', 'bucketNotifications'] as const).map(functionLogicalId),
  };
  const topic = alarmTopicRef(ctx);
  resources.AlertingChangesRule = alarmTopicRule(
    ctx,
    names.rules.alertingChanges,
    'One of this stack’s rules or alarms turned off, deleted or rewritten, or the alarm topic’s subscriptions or policy or one of its queues changed, outside a deploy: CloudTrail events to the alarm topic',
    alertingChangePattern({
      namePrefix: names.prefix,
      alarmTopic: topic,
      subscriptionPrefix: typeof topic === 'string' ? `${topic}:` : { 'Fn::Sub': '${AlarmTopic}:' },
      queuePaths: STACK_QUEUES.map((queue) => ({ 'Fn::Sub': `/\${AWS::AccountId}/\${${queue}.QueueName}` })),
    }),
  );
  resources.QueueTriggersRule = alarmTopicRule(
    ctx,
    names.rules.queueTriggers,
    'A Lambda trigger on one of the stack’s queues (another function’s, or the start function’s own turned off or deleted) created, changed or deleted outside a deploy: CloudTrail events to the alarm topic',
    queueTriggerPattern(STACK_QUEUES.map((queue) => ({ 'Fn::GetAtt': [queue, 'Arn'] }))),
  );
  resources.KeyLossesRule = alarmTopicRule(
    ctx,
    names.rules.keyLosses,
    'A KMS key of the account disabled, scheduled for deletion, its imported material deleted or its policy rewritten outside a deploy (a rule’s, by ARN or alias, or any other): CloudTrail events to the alarm topic',
    keyLossPattern(),
  );
  resources.DataExposureRule = alarmTopicRule(
    ctx,
    names.rules.dataExposure,
    'The input bucket’s policy, or a replication rule, public access block, ACL or ownership controls of the input or transcript bucket, changed outside a deploy: CloudTrail events to the alarm topic',
    dataExposurePattern({ inputBucket: inputBucketRef(ctx), transcriptBucket: transcriptBucketRef(ctx) }),
  );
  resources.OutcomeArchive = {
    Type: 'AWS::Events::Archive',
    Properties: {
      Description: 'Every verdict of this stage, to replay to a new consumer',
      SourceArn: { 'Fn::GetAtt': ['OutcomeBus', 'Arn'] },
      EventPattern: outcomeEventPattern(ctx.service),
      RetentionDays: OUTCOME_ARCHIVE_RETENTION_DAYS,
    },
  };
  return resources;
}

