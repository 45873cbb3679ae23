/**
 * Least-privilege IAM for each role, derived from the config so that permissions and the rules
 * cannot drift apart.
 */
import { VERDICT_PREFIX } from '../verify/verdictLedger';
import { notificationPrefixes } from './inputNotifications';
import { kmsStatements } from './kmsStatements';
import { bucketArn, inputBucketRef, jobArn, roleName, sub, transcriptBucketRef, transcriptDestinations, type StackContext, type Statement } from './stackNames';

function logStatement(ctx: StackContext, fn: string): Statement {
  return {
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${ctx.service}-${ctx.stage}-${fn}:*`),
  };
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
    Resource: transcriptDestinations(ctx.config, transcriptBucketRef(ctx)).map(({ bucket, prefix }) => bucketArn(bucket, `/${prefix}*`)),
  };
}

function transcriptReadStatements(ctx: StackContext): Statement[] {
  const locations = transcriptDestinations(ctx.config, transcriptBucketRef(ctx));
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

export function role(ctx: StackContext, service: string, statements: Statement[], name: string) {
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
