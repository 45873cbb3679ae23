/**
 * Everything in the deployed stack that depends on the per-prefix config, derived from it so
 * that permissions, notifications and code cannot drift apart. serverless.yml reads these
 * through shared/serverless-variables.cjs; the local mode provisions from the same functions.
 */
import { JOB_STATE_CHANGE, TRANSCRIBE_SOURCE } from './completionEvent';
import { isArnForm, type KeyReference } from './keyReference';
import type { PipelineConfig, Rule } from './rules';
import { VERDICT_PREFIX } from './verdictLedger';

type Cfn = string | Record<string, unknown>;
type Statement = { Effect: 'Allow'; Action: string[]; Resource: Cfn | Cfn[]; Condition?: Record<string, unknown> };

/** Queue and retry settings shared by serverless.yml, the local mode and the docs. */
export const QUEUE_SETTINGS = {
  batchSize: 10,
  maximumBatchingWindowSeconds: 1,
  maximumConcurrency: 5,
  /** Transcribe's default StartTranscriptionJob quota; raise it with yours. */
  startQuotaTps: 25,
  startTimeoutSeconds: 60,
  /** Six times the function timeout, as AWS recommends for SQS event sources. */
  visibilityTimeoutSeconds: 360,
  /** High, because quota retries back off up to 15 minutes each and must not drain into the DLQ. */
  maxReceiveCount: 50,
  retentionSeconds: 14 * 24 * 3600,
  verifyRetryAttempts: 2,
} as const;

/** Per-container StartTranscriptionJob pace: the account's rate quota shared by the containers. */
export function startRatePerSecond(quotaTps = QUEUE_SETTINGS.startQuotaTps): number {
  return quotaTps / QUEUE_SETTINGS.maximumConcurrency;
}

/**
 * The fewest S3 notification prefixes that cover every rule. S3 rejects two notifications for
 * the same event type whose prefixes overlap, and a prefix already covers everything under it;
 * an empty prefix covers the whole bucket.
 */
export function notificationPrefixes(rules: readonly Pick<Rule, 'prefix'>[]): string[] {
  const sorted = [...new Set(rules.map((rule) => rule.prefix))].sort();
  const kept: string[] = [];
  for (const prefix of sorted) {
    if (!kept.some((shorter) => prefix.startsWith(shorter))) kept.push(prefix);
  }
  return kept;
}

/** The EventBridge pattern that sends this stack's finished jobs, and only those, to the verifier. */
export function completionEventPattern(jobNamePrefix: string) {
  return {
    source: [TRANSCRIBE_SOURCE],
    'detail-type': [JOB_STATE_CHANGE],
    detail: {
      TranscriptionJobName: [{ prefix: jobNamePrefix }],
      TranscriptionJobStatus: ['COMPLETED', 'FAILED'],
    },
  };
}

/** The outcome events this stack publishes, for consumers' rules and the local mode. */
export function outcomeEventPattern(outcomeSource: string) {
  return { source: [outcomeSource] };
}

const sub = (template: string): Cfn => ({ 'Fn::Sub': template });

/** Where transcripts are written: one entry per distinct bucket and prefix. */
export function outputLocations(config: PipelineConfig, transcriptBucket: Cfn): { bucket: Cfn; prefix: string }[] {
  const seen = new Map<string, { bucket: Cfn; prefix: string }>();
  for (const rule of config.rules) {
    const bucket = rule.output.bucket ?? transcriptBucket;
    seen.set(JSON.stringify([bucket, rule.output.prefix]), { bucket, prefix: rule.output.prefix });
  }
  return [...seen.values()];
}

function keyArnResource(ref: KeyReference): Cfn {
  if (ref.form === 'key-arn') return ref.value;
  if (ref.form === 'key-id') return sub(`arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/${ref.keyId}`);
  const account = ref.form === 'alias-arn' ? ref.account : '${AWS::AccountId}';
  return sub(`arn:\${AWS::Partition}:kms:\${AWS::Region}:${account}:key/*`);
}

/**
 * KMS permissions for exactly the configured keys. An IAM Resource must be a key ARN, so keys
 * named by ID or ARN are listed directly, and keys named by alias are matched on
 * `kms:ResourceAliases`, per account, with the account's keys as the resource.
 */
export function kmsStatements(config: PipelineConfig, actions: string[]): Statement[] {
  const keys = config.rules.flatMap((rule) => (rule.kmsKey ? [rule.kmsKey] : []));
  const statements: Statement[] = [];
  const direct = [...new Map(keys.filter((k) => k.form === 'key-id' || k.form === 'key-arn').map((k) => [k.value, keyArnResource(k)])).values()];
  if (direct.length > 0) statements.push({ Effect: 'Allow', Action: actions, Resource: direct });
  const aliasesByAccount = new Map<string, { resource: Cfn; aliases: Set<string> }>();
  for (const key of keys) {
    if (key.form !== 'alias' && key.form !== 'alias-arn') continue;
    const account = isArnForm(key) ? key.account : 'self';
    const entry = aliasesByAccount.get(account) ?? { resource: keyArnResource(key), aliases: new Set<string>() };
    entry.aliases.add(key.aliasName);
    aliasesByAccount.set(account, entry);
  }
  for (const { resource, aliases } of aliasesByAccount.values()) {
    statements.push({
      Effect: 'Allow',
      Action: actions,
      Resource: resource,
      Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': [...aliases].sort() } },
    });
  }
  return statements;
}

export interface StackContext {
  service: string;
  stage: string;
  region: string;
  jobNamePrefix: string;
  config: PipelineConfig;
  /** Existing bucket names passed as parameters; undefined means the stack creates the bucket. */
  existingInputBucket?: string;
  existingTranscriptBucket?: string;
}

const INPUT_BUCKET = 'InputBucket';
const TRANSCRIPT_BUCKET = 'TranscriptBucket';
const BUCKET_NAME_MAX_LENGTH = 63;

/**
 * Buckets the stack creates get predictable names, because the start queue's policy must name
 * the input bucket's ARN before the bucket exists (S3 checks the queue policy when the
 * notification is created, and a Ref to the bucket would be a circular dependency).
 */
export function createdBucketName(ctx: Pick<StackContext, 'stage' | 'region'>, role: 'input' | 'transcripts'): string {
  const name = `tkp-${ctx.stage}-${role}-\${AWS::AccountId}-${ctx.region}`;
  const length = name.length - '${AWS::AccountId}'.length + 12;
  if (length > BUCKET_NAME_MAX_LENGTH || !/^[a-z0-9-]+$/.test(ctx.stage)) {
    throw new Error(
      `the ${role} bucket name for stage ${ctx.stage} would be invalid (${length} characters, lower-case letters, digits and - only); ` +
        `use a shorter stage name or pass an existing bucket with --param="${role === 'input' ? 'inputBucket' : 'transcriptBucket'}=NAME"`,
    );
  }
  return name;
}

export function inputBucketRef(ctx: StackContext): Cfn {
  return ctx.existingInputBucket ?? sub(createdBucketName(ctx, 'input'));
}

export function transcriptBucketRef(ctx: StackContext): Cfn {
  return ctx.existingTranscriptBucket ?? sub(createdBucketName(ctx, 'transcripts'));
}

function bucketArn(bucket: Cfn, path = ''): Cfn {
  return typeof bucket === 'string'
    ? sub(`arn:\${AWS::Partition}:s3:::${bucket}${path}`)
    : { 'Fn::Join': ['', [sub('arn:${AWS::Partition}:s3:::'), bucket, path]] };
}

function logStatement(ctx: StackContext, fn: string): Statement {
  return {
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${ctx.service}-${ctx.stage}-${fn}:*`),
  };
}

function jobArn(ctx: StackContext): Cfn {
  return sub(`arn:\${AWS::Partition}:transcribe:\${AWS::Region}:\${AWS::AccountId}:transcription-job/${ctx.jobNamePrefix}*`);
}

function mediaReadStatement(ctx: StackContext): Statement {
  return {
    Effect: 'Allow',
    Action: ['s3:GetObject'],
    Resource: notificationPrefixes(ctx.config.rules).map((prefix) => bucketArn(inputBucketRef(ctx), `/${prefix}*`)),
  };
}

function transcriptWriteStatement(ctx: StackContext): Statement {
  return {
    Effect: 'Allow',
    Action: ['s3:PutObject'],
    Resource: outputLocations(ctx.config, transcriptBucketRef(ctx)).map(({ bucket, prefix }) => bucketArn(bucket, `/${prefix}*`)),
  };
}

function transcriptReadStatements(ctx: StackContext): Statement[] {
  const locations = outputLocations(ctx.config, transcriptBucketRef(ctx));
  const buckets = [...new Map([...locations.map((l) => l.bucket), transcriptBucketRef(ctx)].map((b) => [JSON.stringify(b), b])).values()];
  return [
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: locations.map(({ bucket, prefix }) => bucketArn(bucket, `/${prefix}*`)) },
    {
      // Without ListBucket, S3 answers 403 instead of 404 for a missing object.
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: buckets.map((bucket) => bucketArn(bucket)),
      Condition: { StringLike: { 's3:prefix': [...new Set([...locations.map((l) => `${l.prefix}*`), `${VERDICT_PREFIX}*`])] } },
    },
  ];
}

const KMS_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];

export function startRoleStatements(ctx: StackContext): Statement[] {
  return [
    logStatement(ctx, 'start'),
    { Effect: 'Allow', Action: ['transcribe:StartTranscriptionJob', 'transcribe:TagResource', 'transcribe:GetTranscriptionJob'], Resource: jobArn(ctx) },
    mediaReadStatement(ctx),
    transcriptWriteStatement(ctx),
    ...kmsStatements(ctx.config, KMS_ACTIONS),
    {
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      Resource: { 'Fn::GetAtt': ['StartQueue', 'Arn'] },
    },
    { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['StartDeadLetterQueue', 'Arn'] } },
    ...(ctx.config.deferredExecution
      ? [{ Effect: 'Allow' as const, Action: ['iam:PassRole'], Resource: { 'Fn::GetAtt': ['DataAccessRole', 'Arn'] } }]
      : []),
  ];
}

/** The verdict ledger lives in the stack's transcript bucket; see shared/verdictLedger.ts. */
function verdictLedgerStatement(ctx: StackContext): Statement {
  return { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: bucketArn(transcriptBucketRef(ctx), `/${VERDICT_PREFIX}*`) };
}

function verifierStatements(ctx: StackContext, fn: string): Statement[] {
  return [
    logStatement(ctx, fn),
    { Effect: 'Allow', Action: ['transcribe:GetTranscriptionJob'], Resource: jobArn(ctx) },
    ...transcriptReadStatements(ctx),
    verdictLedgerStatement(ctx),
    { Effect: 'Allow', Action: ['events:PutEvents'], Resource: { 'Fn::GetAtt': ['OutcomeBus', 'Arn'] } },
    { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['VerifyDeadLetterQueue', 'Arn'] } },
  ];
}

export function verifyRoleStatements(ctx: StackContext): Statement[] {
  return verifierStatements(ctx, 'verify');
}

export function sweepRoleStatements(ctx: StackContext): Statement[] {
  return [
    ...verifierStatements(ctx, 'sweep'),
    // ListTranscriptionJobs has no resource-level permissions.
    { Effect: 'Allow', Action: ['transcribe:ListTranscriptionJobs'], Resource: '*' },
  ];
}

export function bucketNotificationsRoleStatements(ctx: StackContext): Statement[] {
  return [
    logStatement(ctx, 'bucketNotifications'),
    { Effect: 'Allow', Action: ['s3:GetBucketNotification', 's3:PutBucketNotification'], Resource: bucketArn(inputBucketRef(ctx)) },
  ];
}

/** The role Transcribe assumes for deferred jobs: it reads the media and writes under the keys. */
export function dataAccessRoleStatements(ctx: StackContext): Statement[] {
  return [mediaReadStatement(ctx), transcriptWriteStatement(ctx), ...kmsStatements(ctx.config, [...KMS_ACTIONS, 'kms:Decrypt'])];
}

/** Role names are fixed, so another account's key policy can name them before they exist. */
export function roleName(ctx: Pick<StackContext, 'service' | 'stage' | 'region'>, name: string): string {
  return `${ctx.service}-${ctx.stage}-${ctx.region}-${name}`.slice(0, 64);
}

function role(ctx: StackContext, service: string, statements: Statement[], name: string) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: roleName(ctx, name),
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: [service] }, Action: ['sts:AssumeRole'] }],
      },
      Policies: [{ PolicyName: name, PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
    },
  };
}

const BLOCK_PUBLIC = {
  BlockPublicAcls: true,
  BlockPublicPolicy: true,
  IgnorePublicAcls: true,
  RestrictPublicBuckets: true,
};

function bucket(extra: Record<string, unknown>, dependsOn?: string) {
  return {
    Type: 'AWS::S3::Bucket',
    ...(dependsOn && { DependsOn: dependsOn }),
    Properties: {
      PublicAccessBlockConfiguration: BLOCK_PUBLIC,
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      ...extra,
    },
  };
}

function tlsOnlyPolicy(bucketLogicalId: string) {
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
        ],
      },
    },
  };
}

/** Lets an AWS service in this account send to one of the stack's queues. */
function sendMessagePolicy(queue: string, sid: string, service: string, condition: Record<string, unknown>) {
  return {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: sid,
            Effect: 'Allow',
            Principal: { Service: service },
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
            Condition: { ...condition, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    },
  };
}

/** S3 ObjectCreated notifications to the start queue, one per non-overlapping prefix. */
export function queueNotifications(rules: readonly Pick<Rule, 'prefix'>[], queueArn: Cfn) {
  return notificationPrefixes(rules).map((prefix) => ({
    Event: 's3:ObjectCreated:*',
    Queue: queueArn,
    ...(prefix !== '' && { Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: prefix }] } } }),
  }));
}

/** The CloudFormation resources that depend on the config. */
export function derivedResources(ctx: StackContext): Record<string, unknown> {
  const resources: Record<string, unknown> = {
    StartRole: role(ctx, 'lambda.amazonaws.com', startRoleStatements(ctx), 'start'),
    VerifyRole: role(ctx, 'lambda.amazonaws.com', verifyRoleStatements(ctx), 'verify'),
    SweepRole: role(ctx, 'lambda.amazonaws.com', sweepRoleStatements(ctx), 'sweep'),
    BucketNotificationsRole: role(ctx, 'lambda.amazonaws.com', bucketNotificationsRoleStatements(ctx), 'notifications'),
  };
  if (ctx.config.deferredExecution) {
    resources.DataAccessRole = role(ctx, 'transcribe.amazonaws.com', dataAccessRoleStatements(ctx), 'transcribe-data');
  }
  resources.StartQueuePolicy = sendMessagePolicy('StartQueue', 'InputBucketNotifications', 's3.amazonaws.com', {
    ArnEquals: { 'aws:SourceArn': bucketArn(inputBucketRef(ctx)) },
  });
  resources.VerifyDeadLetterQueuePolicy = sendMessagePolicy('VerifyDeadLetterQueue', 'UndeliverableCompletionEvents', 'events.amazonaws.com', {});
  if (!ctx.existingInputBucket) {
    resources[INPUT_BUCKET] = bucket(
      {
        BucketName: inputBucketRef(ctx),
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: { Rules: [{ Id: 'expire-old-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }] },
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
        ServiceToken: { 'Fn::GetAtt': ['BucketNotificationsLambdaFunction', 'Arn'] },
        Bucket: ctx.existingInputBucket,
        QueueArn: { 'Fn::GetAtt': ['StartQueue', 'Arn'] },
        IdPrefix: `tkp-${ctx.stage}-`,
        Prefixes: notificationPrefixes(ctx.config.rules),
      },
    };
  }
  if (!ctx.existingTranscriptBucket) {
    resources[TRANSCRIPT_BUCKET] = bucket({ BucketName: transcriptBucketRef(ctx) });
    resources.TranscriptBucketPolicy = tlsOnlyPolicy(TRANSCRIPT_BUCKET);
  }
  return resources;
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
    DATA_ACCESS_ROLE_ARN: ctx.config.deferredExecution ? { 'Fn::GetAtt': ['DataAccessRole', 'Arn'] } : '',
  };
}

/** Stack outputs: what an operator or a downstream system needs to find. */
export function derivedOutputs(ctx: StackContext): Record<string, unknown> {
  return {
    InputBucketName: { Value: inputBucketRef(ctx) },
    TranscriptBucketName: { Value: transcriptBucketRef(ctx) },
    OutcomeBusName: { Value: { Ref: 'OutcomeBus' } },
    StartDeadLetterQueueUrl: { Value: { Ref: 'StartDeadLetterQueue' } },
    VerifyDeadLetterQueueUrl: { Value: { Ref: 'VerifyDeadLetterQueue' } },
  };
}
