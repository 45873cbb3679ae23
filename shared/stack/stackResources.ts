/**
 * The CloudFormation resources, environment and outputs that depend on the config. serverless.yml
 * reads them through serverlessVariables.cjs; the local mode provisions from the same functions.
 */
import { needsDataAccessRole } from '../config/pipelineConfig';
import { configFingerprint } from '../config/expectedEncryption';
import { bucketNotificationsRoleStatements, dataAccessRoleStatements, startRoleStatements, sweepRoleStatements, verifyRoleStatements } from './iamStatements';
import { roleTemplateResources } from './roleResources';
import { notificationCountProblem, notificationIdPrefix, queueNotifications } from './inputNotifications';
import { notificationPrefixes } from '../config/notificationPrefixes';
import { VERDICT_PREFIX } from '../config/reservedPrefixes';
import { alarmResources, alarmTopicRef } from './alarmResources';
import { bucketArn, type Cfn } from './cfnValues';
import { CONFIG_FINGERPRINT_OUTPUT, functionLogicalId, inputBucketRef, INPUT_BUCKET, TRANSCRIPT_BUCKET, transcriptBucketRef, type RoleId, type StackContext } from './stackNames';

/** The object ownership that turns a bucket's ACLs off. */
export const ACLS_DISABLED = 'BucketOwnerEnforced' as const;

/**
 * Who may read the buckets the stack creates: nobody through a public policy or ACL, and no ACL
 * at all (BucketOwnerEnforced), so the bucket policy and IAM alone decide. The local mode puts the
 * same on its buckets; `tkp check` judges any bucket against it (bucketExposure.ts).
 */
export const BUCKET_ACCESS = {
  PublicAccessBlockConfiguration: {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: true,
    RestrictPublicBuckets: true,
  },
  OwnershipControls: { Rules: [{ ObjectOwnership: ACLS_DISABLED }] },
};

/**
 * How long each bucket the stack creates keeps what was overwritten or deleted: versioned, old
 * versions expire (uploads after 30 days, transcripts and verdicts after 90). The local mode puts
 * the same on its buckets.
 */
export const BUCKET_HISTORY = {
  input: { VersioningConfiguration: { Status: 'Enabled' as const }, LifecycleConfiguration: { Rules: [{ Id: 'expire-old-versions', Status: 'Enabled' as const, NoncurrentVersionExpiration: { NoncurrentDays: 30 } }] } },
  transcripts: { VersioningConfiguration: { Status: 'Enabled' as const }, LifecycleConfiguration: { Rules: [{ Id: 'expire-old-versions', Status: 'Enabled' as const, NoncurrentVersionExpiration: { NoncurrentDays: 90 } }] } },
};

function bucket(extra: Record<string, unknown>, dependsOn?: string) {
  return {
    Type: 'AWS::S3::Bucket',
    ...(dependsOn && { DependsOn: dependsOn }),
    Properties: {
      PublicAccessBlockConfiguration: BUCKET_ACCESS.PublicAccessBlockConfiguration,
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: BUCKET_ACCESS.OwnershipControls,
      ...extra,
    },
  };
}

function tlsOnlyPolicy(bucketLogicalId: string, extra: Record<string, unknown>[] = []) {
  return {
    Type: 'AWS::S3::BucketPolicy',
    Properties: {
      Bucket: { Ref: bucketLogicalId },
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [{ 'Fn::GetAtt': [bucketLogicalId, 'Arn'] }, { 'Fn::Sub': `\${${bucketLogicalId}.Arn}/*` }],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
          ...extra,
        ],
      },
    },
  };
}

/** The stack's roles whose verdicts count: only they may write the ledger or publish an outcome. */
const VERIFIER_ROLES: RoleId[] = ['VerifyRole', 'SweepRole'];

/** The ARNs of some of the stack's roles, as a policy condition names them. */
const roleArnRefs = (roles: readonly RoleId[]) => roles.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }));

/**
 * The actions with which S3 replication writes into a destination bucket, as the replication
 * role of a source bucket: not s3:PutObject. Whoever may set up replication from a bucket of
 * their own could otherwise write a forged verdict record, or a transcript under another key,
 * past a Deny of s3:PutObject alone.
 */
const REPLICATION_WRITES = ['s3:ReplicateObject', 's3:ReplicateDelete'];

/**
 * The verdict ledger may be written only by the verify and sweep roles, and only with a
 * conditional write (If-None-Match or If-Match), which is how a verdict is claimed exactly once.
 * Anyone else, an administrator included, is refused; the break-glass path is to change this
 * bucket policy, which CloudTrail records (README: "The verdict ledger").
 */
function ledgerPolicyStatements(ctx: StackContext, bucketLogicalId: string): Record<string, unknown>[] {
  const ledger = { 'Fn::Sub': `\${${bucketLogicalId}.Arn}/${VERDICT_PREFIX}*` };
  return [
    {
      Sid: 'LedgerWritesOnlyByVerifiers',
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', ...REPLICATION_WRITES],
      Resource: ledger,
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': roleArnRefs(VERIFIER_ROLES) } },
    },
    {
      Sid: 'LedgerWritesOnlyConditional',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: ledger,
      Condition: { Null: { 's3:if-none-match': 'true', 's3:if-match': 'true' } },
    },
  ];
}

/**
 * A verified transcript stays the one that was verified: in the bucket the stack creates, only the
 * stack's own roles may write an object. Transcribe writes a job's output with the credentials of
 * whoever started it (the start role) or with the data access role, the verifiers write the
 * ledger, and each role's own policy keeps it to its folders. Anyone else, an administrator
 * included, is refused s3:PutObject (which CopyObject and every upload need) and
 * s3:ReplicateObject (with which replication from another bucket writes), so nobody can put a
 * transcript under another key, or none, in the place of one already verified. A request
 * without a principal ARN (an AWS service writing as itself) is left alone. The break-glass path
 * is to change this bucket policy, which pages (TrustChangesRule).
 */
function transcriptPolicyStatements(ctx: StackContext, bucketLogicalId: string): Record<string, unknown>[] {
  const writers: RoleId[] = ['StartRole', ...VERIFIER_ROLES, ...(needsDataAccessRole(ctx.config) ? (['DataAccessRole'] as const) : [])];
  return [
    {
      Sid: 'WritesOnlyByThisStack',
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:PutObject', 's3:ReplicateObject'],
      Resource: { 'Fn::Sub': `\${${bucketLogicalId}.Arn}/*` },
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': roleArnRefs(writers) }, Null: { 'aws:PrincipalArn': 'false' } },
    },
  ];
}

/** The transcript bucket's own statements, as the stack deploys them (and the local mode puts them): the ledger's guard and WritesOnlyByThisStack. */
export function transcriptBucketStatements(ctx: StackContext, bucketLogicalId: string): Record<string, unknown>[] {
  return [...ledgerPolicyStatements(ctx, bucketLogicalId), ...transcriptPolicyStatements(ctx, bucketLogicalId)];
}

/**
 * Only the verifiers publish verdicts. Consumers act on the outcome bus, so an event that anyone
 * else in the account put there (a forged `Transcript Encryption Verified`) would pass as a
 * verdict: the bus's own policy denies PutEvents to every principal but the verify and sweep
 * roles, whatever their IAM policies allow. A request without a principal ARN (EventBridge
 * replaying its archive) is left alone.
 */
export function outcomeBusPolicy() {
  return {
    Type: 'AWS::Events::EventBusPolicy',
    Properties: {
      EventBusName: { Ref: 'OutcomeBus' },
      StatementId: 'VerdictsOnlyFromVerifiers',
      Statement: {
        Effect: 'Deny',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: { 'Fn::GetAtt': ['OutcomeBus', 'Arn'] },
        Condition: {
          ArnNotEquals: { 'aws:PrincipalArn': roleArnRefs(VERIFIER_ROLES) },
          Null: { 'aws:PrincipalArn': 'false' },
        },
      },
    },
  };
}

/** The Sids of the statements that let S3 and EventBridge send to the stack's queues. */
export const QUEUE_SENDERS = { startQueue: 'InputBucketNotifications', verifyDeadLetterQueue: 'UndeliverableCompletionEvents' } as const;

/**
 * Lets an AWS service in this account send to one of the stack's queues: SQS takes a service's
 * message only where the queue's policy names it. Queue, account and condition values are Refs in
 * the template and values where the stack is played locally.
 */
export function queueSenders(sid: string, service: string, queueArn: unknown, account: unknown, condition: Record<string, unknown> = {}) {
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: { Service: service },
    Action: 'sqs:SendMessage',
    Resource: queueArn,
    Condition: { ...condition, StringEquals: { 'aws:SourceAccount': account } },
  };
}

/** The Sid of the start queue's statement that keeps its messages for the start function. */
export const START_QUEUE_RECEIVER = 'ReceivesOnlyByStartFunction';
/** What it refuses: a message, and what can be done with one once received. */
export const START_QUEUE_RECEIVE_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'];

/**
 * Only the start function takes uploads off the start queue: its policy refuses a message to
 * every principal but the start role, as which Lambda's trigger polls, whatever their IAM
 * policies allow. Another reader (a script, another function's trigger) would take its share of
 * the uploads and delete each, so they never become jobs, and the queue would never back up for
 * StartQueueAgeAlarm to see. A request without a principal ARN is left alone, as by the stack's
 * other guards; no such request reads a queue.
 */
export function startQueueReceivers(queueArn: unknown, startRoleArn: unknown) {
  return {
    Sid: START_QUEUE_RECEIVER,
    Effect: 'Deny',
    Principal: '*',
    Action: START_QUEUE_RECEIVE_ACTIONS,
    Resource: queueArn,
    Condition: { ArnNotEquals: { 'aws:PrincipalArn': startRoleArn }, Null: { 'aws:PrincipalArn': 'false' } },
  };
}

function queuePolicy(queue: string, statements: Record<string, unknown>[]) {
  return {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: { Queues: [{ Ref: queue }], PolicyDocument: { Version: '2012-10-17', Statement: statements } },
  };
}

/** The CloudFormation resources that depend on the config. */
export function derivedResources(ctx: StackContext): Record<string, unknown> {
  const tooManyNotifications = notificationCountProblem(ctx.config.rules);
  if (tooManyNotifications) throw new Error(tooManyNotifications);
  const resources: Record<string, unknown> = {
    ...roleTemplateResources(ctx, 'StartRole', 'lambda.amazonaws.com', startRoleStatements(ctx)),
    ...roleTemplateResources(ctx, 'VerifyRole', 'lambda.amazonaws.com', verifyRoleStatements(ctx)),
    ...roleTemplateResources(ctx, 'SweepRole', 'lambda.amazonaws.com', sweepRoleStatements(ctx)),
    ...roleTemplateResources(ctx, 'BucketNotificationsRole', 'lambda.amazonaws.com', bucketNotificationsRoleStatements(ctx)),
  };
  if (needsDataAccessRole(ctx.config)) Object.assign(resources, roleTemplateResources(ctx, 'DataAccessRole', 'transcribe.amazonaws.com', dataAccessRoleStatements(ctx)));
  const queueArn = (queue: string) => ({ 'Fn::GetAtt': [queue, 'Arn'] });
  resources.StartQueuePolicy = queuePolicy('StartQueue', [
    queueSenders(QUEUE_SENDERS.startQueue, 's3.amazonaws.com', queueArn('StartQueue'), { Ref: 'AWS::AccountId' }, { ArnEquals: { 'aws:SourceArn': bucketArn(inputBucketRef(ctx)) } }),
    startQueueReceivers(queueArn('StartQueue'), roleArnRefs(['StartRole'])[0]),
  ]);
  resources.VerifyDeadLetterQueuePolicy = queuePolicy('VerifyDeadLetterQueue', [
    queueSenders(QUEUE_SENDERS.verifyDeadLetterQueue, 'events.amazonaws.com', queueArn('VerifyDeadLetterQueue'), { Ref: 'AWS::AccountId' }),
  ]);
  resources.OutcomeBusPolicy = outcomeBusPolicy();
  if (!ctx.existingInputBucket) {
    resources[INPUT_BUCKET] = bucket(
      {
        BucketName: inputBucketRef(ctx),
        ...BUCKET_HISTORY.input,
        NotificationConfiguration: { QueueConfigurations: queueNotifications(ctx.config.rules, { 'Fn::GetAtt': ['StartQueue', 'Arn'] }) },
      },
      'StartQueuePolicy',
    );
    resources.InputBucketPolicy = tlsOnlyPolicy(INPUT_BUCKET);
  } else {
    // CloudFormation cannot configure a bucket it did not create; functions/bucketNotifications.ts does.
    resources.InputBucketNotifications = {
      Type: 'Custom::InputBucketNotifications',
      DependsOn: 'StartQueuePolicy',
      Properties: {
        ServiceToken: { 'Fn::GetAtt': [functionLogicalId('bucketNotifications'), 'Arn'] },
        Bucket: ctx.existingInputBucket,
        QueueArn: { 'Fn::GetAtt': ['StartQueue', 'Arn'] },
        IdPrefix: notificationIdPrefix(ctx.stage),
        Prefixes: notificationPrefixes(ctx.config.rules),
      },
    };
  }
  if (!ctx.existingTranscriptBucket) {
    resources[TRANSCRIPT_BUCKET] = bucket({
      BucketName: transcriptBucketRef(ctx),
      // Versions keep every verdict and transcript that was overwritten, for the audit trail.
      ...BUCKET_HISTORY.transcripts,
    });
    resources.TranscriptBucketPolicy = tlsOnlyPolicy(TRANSCRIPT_BUCKET, transcriptBucketStatements(ctx, TRANSCRIPT_BUCKET));
  }
  return { ...resources, ...alarmResources(ctx) };
}

/**
 * The functions' stack-specific environment. Refs rather than Fn::Sub wherever CloudFormation
 * allows, because `serverless invoke local` can resolve a Ref against the deployed stack.
 */
export function functionEnvironment(ctx: StackContext): Record<string, Cfn> {
  return {
    INPUT_BUCKET: ctx.existingInputBucket ?? { Ref: INPUT_BUCKET },
    TRANSCRIPT_BUCKET: ctx.existingTranscriptBucket ?? { Ref: TRANSCRIPT_BUCKET },
    START_QUEUE_URL: { Ref: 'StartQueue' },
    START_DLQ_URL: { Ref: 'StartDeadLetterQueue' },
    OUTCOME_BUS_NAME: { Ref: 'OutcomeBus' },
    DATA_ACCESS_ROLE_ARN: needsDataAccessRole(ctx.config) ? { 'Fn::GetAtt': ['DataAccessRole', 'Arn'] } : '',
  };
}

/** Stack outputs: what an operator or a downstream system needs to find. */
export function derivedOutputs(ctx: StackContext): Record<string, unknown> {
  return {
    InputBucketName: { Value: inputBucketRef(ctx) },
    TranscriptBucketName: { Value: transcriptBucketRef(ctx) },
    OutcomeBusName: { Value: { Ref: 'OutcomeBus' } },
    // What the tkp CLI looks up: `tkp backfill` sends to the start queue, `tkp check --deployed` invokes the preflight function.
    StartQueueUrl: { Value: { Ref: 'StartQueue' } },
    PreflightFunctionName: { Value: { Ref: 'PreflightLambdaFunction' } },
    StartDeadLetterQueueUrl: { Value: { Ref: 'StartDeadLetterQueue' } },
    // What `aws sqs start-message-move-task` takes to move the start DLQ back (README: When an alarm fires).
    StartDeadLetterQueueArn: { Value: { 'Fn::GetAtt': ['StartDeadLetterQueue', 'Arn'] } },
    StartQueueArn: { Value: { 'Fn::GetAtt': ['StartQueue', 'Arn'] } },
    VerifyDeadLetterQueueUrl: { Value: { Ref: 'VerifyDeadLetterQueue' } },
    AlarmTopicArn: { Value: alarmTopicRef(ctx) },
    // Which config the functions were built with, as tkp check and audit print it: tkp check says
    // when the config it is given is another, whose differences a deploy would make.
    [CONFIG_FINGERPRINT_OUTPUT]: { Value: configFingerprint(ctx.config.rules) },
  };
}
