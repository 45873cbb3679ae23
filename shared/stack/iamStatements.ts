/**
 * Least-privilege IAM for each role, derived from the config so that permissions and the rules
 * cannot drift apart.
 */
import { dataAccessRoleRules, needsDataAccessRole } from '../config/pipelineConfig';
import { VERDICT_PREFIX } from '../config/reservedPrefixes';
import { notificationPrefixes } from '../config/notificationPrefixes';
import { TAG } from '../aws/jobTags';
import { JOB_TYPE_FACTS, JOB_TYPES, type JobType } from '../aws/jobTypes';
import type { Rule } from '../config/rule';
import { allowedOutputKeyArns, kmsStatements } from './kmsStatements';
import { bucketArn, distinctCfn, iamLiteral, keysUnder, objectsUnder, sub, type Cfn, type Statement } from './cfnValues';
import { functionName, inputBucketRef, jobArn, transcriptBucketRef, transcriptDestinations, type StackContext, type Verifier } from './stackNames';

function logStatement(ctx: StackContext, fn: Parameters<typeof functionName>[1]): Statement {
  return {
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName(ctx, fn)}:*`),
  };
}


/** The distinct buckets the config (or the rules given) write transcripts to. */
function outputBuckets(ctx: StackContext, rules: readonly Rule[] = ctx.config.rules) {
  return distinctCfn(transcriptDestinations({ ...ctx.config, rules: [...rules] }, transcriptBucketRef(ctx)).map((d) => d.bucket));
}

/** The job types the config's rules use, each with its rules. */
function rulesByJobType(ctx: StackContext): [JobType, Rule[]][] {
  return JOB_TYPES.map((type) => [type, ctx.config.rules.filter((rule) => rule.job.jobType === type)] as [JobType, Rule[]]).filter(([, rules]) => rules.length > 0);
}

function mediaReadStatement(ctx: StackContext): Statement {
  return {
    Effect: 'Allow',
    Action: ['s3:GetObject'],
    Resource: notificationPrefixes(ctx.config.rules).map((prefix) => objectsUnder(inputBucketRef(ctx), prefix)),
  };
}

/**
 * Transcribe reads an upload with the permissions of whoever starts its job (or of the data access
 * role), so an upload stored under SSE-KMS, by the input bucket's default or by the uploader's
 * choice, needs kms:Decrypt on its key beside s3:GetObject. Allowed on any key, but only through
 * S3 and only for the input bucket's objects (or the bucket itself, the encryption context when
 * S3 Bucket Keys are on): S3 decrypts only for a request it allowed, and mediaReadStatement
 * allows reads under the rules' prefixes alone, so naming the prefixes again here would only
 * spend policy size. Another account's key, or one whose policy does not let IAM policies grant
 * its use, must also allow it in its key policy.
 */
function mediaDecryptStatement(ctx: StackContext): Statement {
  const bucket = inputBucketRef(ctx);
  return {
    Effect: 'Allow',
    Action: ['kms:Decrypt'],
    Resource: '*',
    Condition: throughS3For([bucketArn(bucket), bucketArn(bucket, '/*')]),
  };
}

/**
 * A rule that names no key leaves its transcripts to the output bucket's default encryption,
 * which for an existing bucket may be an SSE-KMS key (the verifier then demands that key).
 * Transcribe writes with the role that starts the job, so S3 needs kms:GenerateDataKey (and
 * kms:Decrypt, for a multipart upload) on that key for it. Allowed on any key, since a bucket's
 * default can change without a deploy (TrustChangesRule pages when it does), but only through S3
 * and only for those buckets' objects, where transcriptWriteStatement allows writes under the
 * rules' output prefixes alone. Another account's key, or one whose policy does not let IAM
 * policies grant its use, must also allow it in its key policy.
 */
function bucketDefaultKeyStatements(ctx: StackContext): Statement[] {
  const buckets = outputBuckets(ctx, ctx.config.rules.filter((rule) => !rule.kmsKey));
  if (buckets.length === 0) return [];
  return [
    {
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: '*',
      Condition: throughS3For(buckets.flatMap((bucket) => [bucketArn(bucket), bucketArn(bucket, '/*')])),
    },
  ];
}

function transcriptWriteStatement(ctx: StackContext): Statement {
  return {
    Effect: 'Allow',
    Action: ['s3:PutObject'],
    Resource: transcriptDestinations(ctx.config, transcriptBucketRef(ctx)).map(({ bucket, prefix }) => objectsUnder(bucket, prefix)),
  };
}

function transcriptReadStatements(ctx: StackContext): Statement[] {
  const locations = transcriptDestinations(ctx.config, transcriptBucketRef(ctx));
  const buckets = distinctCfn([...locations.map((l) => l.bucket), transcriptBucketRef(ctx)]);
  return [
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: locations.map(({ bucket, prefix }) => objectsUnder(bucket, prefix)) },
    {
      // Without ListBucket, S3 answers 403 instead of 404 for a missing object.
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: buckets.map((bucket) => bucketArn(bucket)),
      Condition: { StringLike: { 's3:prefix': [...new Set([...locations.map((l) => keysUnder(l.prefix)), keysUnder(VERDICT_PREFIX)])] } },
    },
  ];
}

const KMS_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];

/** S3 needs kms:Decrypt for multipart uploads under SSE-KMS; only through S3, never directly. */
const viaS3 = { StringEquals: { 'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com') } };

/**
 * A key's use through S3, only for these buckets and objects: S3 names the object (or, with S3
 * Bucket Keys on, the bucket) in the encryption context of every KMS call it makes for a write or
 * a read, so this holds an any-key grant to the S3 requests the role is allowed anyway.
 */
function throughS3For(objects: Cfn[]) {
  return { ...viaS3, StringLike: { 'kms:EncryptionContext:aws:s3:arn': objects } };
}

/**
 * Each Start operation the config's job types use, only with a configured output location and
 * a configured key (or, where a rule names none, no key), using Transcribe's condition keys: a
 * bug in rule matching then cannot send a transcript to a bucket or key no rule of that type
 * names. StartTranscriptionJob and StartMedicalTranscriptionJob are held to the output buckets
 * (`transcribe:OutputBucketName`), StartCallAnalyticsJob to the output locations
 * (`transcribe:OutputLocation`).
 *
 * The Start actions take no resource ARN (the Service Authorization Reference lists no resource
 * type for them; only Get*Job and Delete*Job name a job), so they are granted on "*" and held by
 * the conditions: a statement naming job ARNs would never match a Start request. Transcribe
 * authorizes the tags of a Start request as transcribe:TagResource too (the reference maps each
 * Start operation to both actions), so TagResource is granted for this pipeline's tag keys only;
 * the verifier never trusts tags, whoever wrote them.
 */
function startJobStatements(ctx: StackContext): Statement[] {
  const ownTagKeys = { 'ForAllValues:StringEquals': { 'aws:TagKeys': Object.values(TAG) } };
  const statements: Statement[] = [];
  for (const [jobType, rules] of rulesByJobType(ctx)) {
    const output =
      jobType === 'callAnalytics'
        ? {
            StringLike: {
              'transcribe:OutputLocation': transcriptDestinations({ ...ctx.config, rules }, transcriptBucketRef(ctx)).map(({ bucket, prefix }) => ({
                'Fn::Join': ['', ['s3://', bucket, `/${iamLiteral(prefix)}`]],
              })),
            },
          }
        : { StringEquals: { 'transcribe:OutputBucketName': outputBuckets(ctx, rules) } };
    const base = { ...output, ...ownTagKeys };
    const action = [`transcribe:${JOB_TYPE_FACTS[jobType].startOperation}`];
    const keys = allowedOutputKeyArns({ ...ctx.config, rules });
    if (keys.length > 0) {
      statements.push({
        Effect: 'Allow',
        Action: action,
        Resource: '*',
        Condition: { ...base, StringLike: { ...('StringLike' in base ? base.StringLike : {}), 'transcribe:OutputEncryptionKMSKeyId': keys } },
      });
    }
    if (rules.some((rule) => !rule.kmsKey)) {
      statements.push({ Effect: 'Allow', Action: action, Resource: '*', Condition: { ...base, Null: { 'transcribe:OutputEncryptionKMSKeyId': 'true' } } });
    }
  }
  statements.push({
    Effect: 'Allow',
    Action: ['transcribe:TagResource'],
    Resource: '*',
    Condition: { ...ownTagKeys, Null: { 'aws:TagKeys': 'false' } },
  });
  return statements;
}

/** Get of each job type the config uses: the start function reads a job back after a ConflictException. */
function startGetStatements(ctx: StackContext): Statement[] {
  return rulesByJobType(ctx).map(([jobType]) => ({ Effect: 'Allow', Action: [`transcribe:${JOB_TYPE_FACTS[jobType].getOperation}`], Resource: jobArn(ctx, jobType) }));
}

export function startRoleStatements(ctx: StackContext): Statement[] {
  return [
    logStatement(ctx, 'start'),
    // The preflight function runs with this role, so `tkp check --deployed` proves what real jobs will meet.
    logStatement(ctx, 'preflight'),
    ...startJobStatements(ctx),
    ...startGetStatements(ctx),
    mediaReadStatement(ctx),
    mediaDecryptStatement(ctx),
    transcriptWriteStatement(ctx),
    ...bucketDefaultKeyStatements(ctx),
    ...kmsStatements(ctx.config, KMS_ACTIONS),
    ...kmsStatements(ctx.config, ['kms:Decrypt'], viaS3),
    {
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      Resource: { 'Fn::GetAtt': ['StartQueue', 'Arn'] },
    },
    // The dead-letter queue, and the start queue for a directly delivered S3 record that must wait (startRecord.ts).
    { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [{ 'Fn::GetAtt': ['StartDeadLetterQueue', 'Arn'] }, { 'Fn::GetAtt': ['StartQueue', 'Arn'] }] },
    ...(needsDataAccessRole(ctx.config)
      ? [
          {
            Effect: 'Allow' as const,
            Action: ['iam:PassRole'],
            Resource: { 'Fn::GetAtt': ['DataAccessRole', 'Arn'] },
            Condition: { StringEquals: { 'iam:PassedToService': 'transcribe.amazonaws.com' } },
          },
        ]
      : []),
  ];
}

/**
 * The verdict ledger lives in the stack's transcript bucket (shared/verify/verdictLedger.ts).
 * When that bucket's default encryption is SSE-KMS, S3 needs the verifier's kms:GenerateDataKey
 * and kms:Decrypt on the bucket's key for the ledger's writes and reads: allowed on any key, but
 * only through S3 and only for this bucket's ledger objects (or the bucket itself, which is the
 * encryption context when S3 Bucket Keys are on). The key's own policy must allow it too.
 */
function verdictLedgerStatements(ctx: StackContext): Statement[] {
  const bucket = transcriptBucketRef(ctx);
  return [
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objectsUnder(bucket, VERDICT_PREFIX) },
    {
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: '*',
      Condition: throughS3For([bucketArn(bucket), objectsUnder(bucket, VERDICT_PREFIX)]),
    },
  ];
}

/**
 * What the verifier needs to judge from the config: DescribeKey on the configured keys, and on
 * this account's keys for a bucket default key the config cannot name (DescribeKey reveals
 * metadata only); and each output bucket's default encryption.
 */
function expectationStatements(ctx: StackContext): Statement[] {
  const buckets = outputBuckets(ctx);
  return [
    ...kmsStatements(ctx.config, ['kms:DescribeKey']),
    { Effect: 'Allow', Action: ['kms:DescribeKey'], Resource: sub('arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*') },
    { Effect: 'Allow', Action: ['s3:GetEncryptionConfiguration'], Resource: buckets.map((b) => bucketArn(b)) },
  ];
}

/**
 * Only the function's own code may publish a verdict or write the ledger with a verifier's role.
 * Without this, any other Lambda function given the role (iam:PassRole and
 * lambda:CreateFunction are all that takes, and in any region: a role is global), or anyone who
 * made the role assumable, could claim a job's verdict before the verifier and publish Verified
 * for a transcript under the wrong key; the verifier would then find the verdict taken and stop.
 * Lambda adds the calling function's ARN (lambda:SourceFunctionArn) to every call its code makes
 * with the role's credentials; a version or alias qualifier is allowed for, and a call without
 * the key is not from a function's code at all.
 */
export const VERDICT_GUARD_SIDS = ['VerdictsOnlyFromOwnCode', 'VerdictsOnlyFromFunctionCode'] as const;

function verdictWriteGuard(ctx: StackContext, fn: Verifier): Statement[] {
  const arn = `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${functionName(ctx, fn)}`;
  const guarded = {
    Effect: 'Deny' as const,
    Action: ['events:PutEvents', 's3:PutObject'],
    Resource: [{ 'Fn::GetAtt': ['OutcomeBus', 'Arn'] }, objectsUnder(transcriptBucketRef(ctx), VERDICT_PREFIX)],
  };
  return [
    { Sid: VERDICT_GUARD_SIDS[0], ...guarded, Condition: { ArnNotLike: { 'lambda:SourceFunctionArn': [sub(arn), sub(`${arn}:*`)] } } },
    { Sid: VERDICT_GUARD_SIDS[1], ...guarded, Condition: { Null: { 'lambda:SourceFunctionArn': 'true' } } },
  ];
}

/**
 * The verifiers read jobs of every type, not only the types the config uses now: a job started
 * before a config deploy changed a rule's job type still needs its verdict.
 */
function verifierStatements(ctx: StackContext, fn: Verifier): Statement[] {
  return [
    ...verdictWriteGuard(ctx, fn),
    logStatement(ctx, fn),
    ...JOB_TYPES.map((jobType): Statement => ({ Effect: 'Allow', Action: [`transcribe:${JOB_TYPE_FACTS[jobType].getOperation}`], Resource: jobArn(ctx, jobType) })),
    ...transcriptReadStatements(ctx),
    ...verdictLedgerStatements(ctx),
    ...expectationStatements(ctx),
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
    // The List actions have no resource-level permissions. Every type is listed (see verifierStatements).
    { Effect: 'Allow', Action: JOB_TYPES.map((jobType) => `transcribe:${JOB_TYPE_FACTS[jobType].listOperation}`), Resource: '*' },
  ];
}

export function bucketNotificationsRoleStatements(ctx: StackContext): Statement[] {
  return [
    logStatement(ctx, 'bucketNotifications'),
    { Effect: 'Allow', Action: ['s3:GetBucketNotification', 's3:PutBucketNotification'], Resource: bucketArn(inputBucketRef(ctx)) },
  ];
}

/**
 * The role Transcribe assumes for deferred transcription jobs and for Call Analytics jobs: it
 * reads those rules' media and writes their outputs under their keys, and nothing of the others.
 */
export function dataAccessRoleStatements(ctx: StackContext): Statement[] {
  const roleCtx = { ...ctx, config: { ...ctx.config, rules: dataAccessRoleRules(ctx.config) } };
  return [
    mediaReadStatement(roleCtx),
    mediaDecryptStatement(roleCtx),
    transcriptWriteStatement(roleCtx),
    ...bucketDefaultKeyStatements(roleCtx),
    ...kmsStatements(roleCtx.config, KMS_ACTIONS),
    ...kmsStatements(roleCtx.config, ['kms:Decrypt'], viaS3),
  ];
}
