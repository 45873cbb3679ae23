/**
 * Names and references of the stack's own resources, shared by the IAM statements, the resources
 * and the local mode. Deploy-time only: nothing here runs inside a Lambda function.
 */
import { JOB_TYPE_FACTS, type JobType } from '../aws/jobTypes';
import type { PipelineConfig } from '../config/rule';

export type Cfn = string | Record<string, unknown>;
export type Statement = { Effect: 'Allow' | 'Deny'; Action: string[]; Resource: Cfn | Cfn[]; Condition?: Record<string, unknown>; Sid?: string; Principal?: unknown; NotPrincipal?: unknown };

export const sub = (template: string): Cfn => ({ 'Fn::Sub': template });

/** The distinct values of a list of CloudFormation values (names or intrinsic functions), in first-seen order. */
export function distinctCfn(values: readonly Cfn[]): Cfn[] {
  return [...new Map(values.map((value) => [JSON.stringify(value), value])).values()];
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
  /** An SNS topic of the operator's for alarms (parameter alarmTopicArn); undefined creates one. */
  existingAlarmTopicArn?: string;
  /** An address to subscribe to the created alarm topic (parameter alarmEmail). */
  alarmEmail?: string;
}

export const INPUT_BUCKET = 'InputBucket';
export const TRANSCRIPT_BUCKET = 'TranscriptBucket';
const BUCKET_NAME_MAX_LENGTH = 63;

/**
 * Buckets the stack creates get predictable names, because the start queue's policy must name
 * the input bucket's ARN before the bucket exists (S3 checks the queue policy when the
 * notification is created, and a Ref to the bucket would be a circular dependency).
 */
export function createdBucketName(ctx: Pick<StackContext, 'stage' | 'region'>, role: 'input' | 'transcripts'): string {
  const name = `tkp-${ctx.stage}-${role}-\${AWS::AccountId}-${ctx.region}`;
  const length = name.length - '${AWS::AccountId}'.length + 12;
  const existing = `pass an existing bucket with --param="${role === 'input' ? 'inputBucket' : 'transcriptBucket'}=NAME"`;
  if (!/^[a-z0-9-]+$/.test(ctx.stage)) {
    throw new Error(
      `stage ${JSON.stringify(ctx.stage)} would make an invalid ${role} bucket name (S3 bucket names take lower-case letters, digits and - only); ` +
        `use a stage name of those characters, e.g. ${JSON.stringify(ctx.stage.toLowerCase().replace(/[^a-z0-9-]+/g, '-'))}, or ${existing}`,
    );
  }
  if (length > BUCKET_NAME_MAX_LENGTH) {
    throw new Error(
      `stage ${JSON.stringify(ctx.stage)} would make the ${role} bucket name ${length} characters long, over S3's ${BUCKET_NAME_MAX_LENGTH}; ` +
        `use a stage name of at most ${ctx.stage.length - (length - BUCKET_NAME_MAX_LENGTH)} characters or ${existing}`,
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


export function bucketArn(bucket: Cfn, path = ''): Cfn {
  return typeof bucket === 'string'
    ? sub(`arn:\${AWS::Partition}:s3:::${bucket}${path}`)
    : { 'Fn::Join': ['', [sub('arn:${AWS::Partition}:s3:::'), bucket, path]] };
}

/** This stack's jobs of one type: every name starts with the stage's job-name prefix. */
export function jobArn(ctx: StackContext, jobType: JobType = 'transcription'): Cfn {
  return sub(`arn:\${AWS::Partition}:transcribe:\${AWS::Region}:\${AWS::AccountId}:${JOB_TYPE_FACTS[jobType].arnResourceType}/${ctx.jobNamePrefix}*`);
}

/** Role names are fixed, so another account's key policy can name them before they exist. */
export function roleName(ctx: Pick<StackContext, 'service' | 'stage' | 'region'>, name: string): string {
  return `${ctx.service}-${ctx.stage}-${ctx.region}-${name}`.slice(0, 64);
}

/** Where the config writes transcripts: one entry per distinct bucket and prefix. */
export function transcriptDestinations(config: PipelineConfig, transcriptBucket: Cfn): { bucket: Cfn; prefix: string }[] {
  const seen = new Map<string, { bucket: Cfn; prefix: string }>();
  for (const rule of config.rules) {
    const bucket = rule.output.bucket ?? transcriptBucket;
    seen.set(JSON.stringify([bucket, rule.output.prefix]), { bucket, prefix: rule.output.prefix });
  }
  return [...seen.values()];
}
