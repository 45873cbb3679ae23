/**
 * Names and references of the stack's own resources, shared by the IAM statements, the resources
 * and the local mode. Deploy-time only: nothing here runs inside a Lambda function.
 */
import { JOB_TYPE_FACTS, type JobType } from '../aws/jobTypes';
import { OUTPUT_BUCKET_PATTERN } from '../aws/transcribeModel';
import type { PipelineConfig } from '../config/rule';
import { sub, type Cfn } from './cfnValues';

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

/** The stack output that records which config (its fingerprint) the functions were built with. */
export const CONFIG_FINGERPRINT_OUTPUT = 'ConfigFingerprint';

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

/** The operator's `--param` values, as serverless.yml passes them (empty means not given). */
export interface StackParams {
  inputBucket?: string;
  transcriptBucket?: string;
  alarmTopicArn?: string;
  alarmEmail?: string;
}

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * What is wrong with the `--param` values, each naming the parameter and what to give instead, so
 * that `serverless package` refuses them rather than CloudFormation failing halfway through a
 * deploy, or an alarm address being dropped without a word.
 */
export function stackParamProblems(params: StackParams): string[] {
  const problems: string[] = [];
  for (const name of ['inputBucket', 'transcriptBucket'] as const) {
    const bucket = params[name];
    if (!bucket) continue;
    const inside = /^s3:\/\/([^/]+)/.exec(bucket) ?? /^arn:aws[a-z-]*:s3:::([^/]+)/.exec(bucket);
    if (inside) {
      problems.push(`--param="${name}=${bucket}" must be the bucket's name alone: --param="${name}=${inside[1]}"`);
    } else if (!OUTPUT_BUCKET_PATTERN.test(bucket)) {
      problems.push(`--param="${name}=${bucket}" is not a valid S3 bucket name (3 to 63 lower-case letters, digits, . and -, starting and ending with a letter or digit)`);
    }
  }
  if (params.alarmTopicArn && !SNS_TOPIC_ARN.test(params.alarmTopicArn)) {
    problems.push(`--param="alarmTopicArn=${params.alarmTopicArn}" is not an SNS topic ARN; give one like arn:aws:sns:REGION:ACCOUNT:NAME`);
  }
  if (params.alarmEmail && !EMAIL.test(params.alarmEmail)) {
    problems.push(`--param="alarmEmail=${params.alarmEmail}" is not an email address`);
  }
  if (params.alarmEmail && params.alarmTopicArn) {
    problems.push(
      `--param="alarmEmail=..." subscribes to the alarm topic the stack creates, and --param="alarmTopicArn=..." replaces that topic, so the address would get nothing; ` +
        'subscribe the address to your own topic and drop alarmEmail, or drop alarmTopicArn',
    );
  }
  return problems;
}

export function inputBucketRef(ctx: StackContext): Cfn {
  return ctx.existingInputBucket ?? sub(createdBucketName(ctx, 'input'));
}

export function transcriptBucketRef(ctx: StackContext): Cfn {
  return ctx.existingTranscriptBucket ?? sub(createdBucketName(ctx, 'transcripts'));
}

/** This stack's jobs of one type: every name starts with the stage's job-name prefix. */
export function jobArn(ctx: StackContext, jobType: JobType = 'transcription'): Cfn {
  return sub(`arn:\${AWS::Partition}:transcribe:\${AWS::Region}:\${AWS::AccountId}:${JOB_TYPE_FACTS[jobType].arnResourceType}/${ctx.jobNamePrefix}*`);
}

/** The CloudFormation stack `serverless deploy` makes of a stage: the service and the stage. */
export function stackName(ctx: Pick<StackContext, 'service' | 'stage'>): string {
  return `${ctx.service}-${ctx.stage}`;
}

/** The outcome bus's name (serverless.yml), which the CLI and the local mode name it by too. */
export function outcomeBusName(ctx: Pick<StackContext, 'service' | 'stage'>): string {
  return `${ctx.service}-${ctx.stage}-outcomes`;
}

/** The stack's queues, by logical ID: CloudFormation names them, so a rule finds them by their URL's path. */
export const STACK_QUEUES = ['StartQueue', 'StartDeadLetterQueue', 'VerifyDeadLetterQueue'] as const;

/** The alarm topic the stack creates when the operator brings none (parameter alarmTopicArn). */
export function alarmTopicName(ctx: Pick<StackContext, 'service' | 'stage'>): string {
  return `${ctx.service}-${ctx.stage}-alarms`;
}

/** EventBridge's rule names, which a Lambda schedule's share: letters, digits, `.`, `-` and `_`, at most 64. */
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const RULE_NAME_MAX_LENGTH = 64;

/**
 * The names of the stack's EventBridge rules and CloudWatch alarms: fixed and all starting with
 * `prefix`, so that the rules that page on their being turned off or deleted
 * (AlertingChangesRule, VerifierChangesRule) can name them, and so that a page names the alarm
 * an operator recognises. The verifier's three rules keep the names serverless gave them before
 * they were named here, so that a deploy does not replace them.
 */
export function alertingNames(ctx: Pick<StackContext, 'service' | 'stage'>) {
  const base = stackName(ctx);
  const rules = {
    verifyTranscription: `${base}-verify-rule-1`,
    verifyCallAnalytics: `${base}-verify-rule-2`,
    verifyDeletion: `${base}-verify-rule-3`,
    sweepSchedule: `${base}-sweep-schedule`,
    pagingVerdicts: `${base}-paging-verdicts`,
    trustChanges: `${base}-trust-changes`,
    verifierChanges: `${base}-verifier-changes`,
    alertingChanges: `${base}-alerting-changes`,
    queueTriggers: `${base}-queue-triggers`,
    keyLosses: `${base}-key-losses`,
    dataExposure: `${base}-data-exposure`,
  };
  const longest = Object.values(rules).reduce((a, b) => (b.length > a.length ? b : a));
  if (longest.length > RULE_NAME_MAX_LENGTH) {
    throw new Error(
      `stage ${JSON.stringify(ctx.stage)} would make the EventBridge rule name ${JSON.stringify(longest)} ${longest.length} characters long, over EventBridge's ${RULE_NAME_MAX_LENGTH}; ` +
        `use a stage name of at most ${ctx.stage.length - (longest.length - RULE_NAME_MAX_LENGTH)} characters`,
    );
  }
  if (!RULE_NAME.test(longest)) {
    throw new Error(`stage ${JSON.stringify(ctx.stage)} would make the EventBridge rule name ${JSON.stringify(longest)}, which takes only letters, digits, . - and _; use a stage name of those characters`);
  }
  const alarms = {
    startDeadLetters: `${base}-start-dead-letters`,
    verifyDeadLetters: `${base}-verify-dead-letters`,
    startBacklog: `${base}-start-backlog`,
    encryptionMismatch: `${base}-encryption-mismatch`,
    verifierDeadLettersLost: `${base}-verifier-dead-letters-lost`,
  };
  return { prefix: `${base}-`, rules, alarms };
}

/** The functions that judge jobs and publish verdicts, each with a role of its own. */
export const VERIFIERS = ['verify', 'sweep'] as const;
export type Verifier = (typeof VERIFIERS)[number];
export const isVerifier = (fn: string): fn is Verifier => (VERIFIERS as readonly string[]).includes(fn);

/**
 * The stack's functions, each with the role it runs as (serverless.yml; the template test holds
 * the two together): the start and preflight functions share the start role.
 */
export const STACK_FUNCTIONS = { start: 'start', preflight: 'start', verify: 'verify', sweep: 'sweep', bucketNotifications: 'notifications' } as const satisfies Record<string, RoleEnding>;
export type FunctionId = keyof typeof STACK_FUNCTIONS;

/** A function's logical ID in the template, as the Serverless Framework names it (`verify` -> `VerifyLambdaFunction`). */
export const functionLogicalId = (id: FunctionId) => `${id.charAt(0).toUpperCase()}${id.slice(1)}LambdaFunction`;

/**
 * Every environment variable serverless.yml gives any of the functions (the template test holds
 * the two together). Any other, set by hand, changes what the code does without changing the
 * code: `AWS_ENDPOINT_URL_KMS` sends the verifier's DescribeKey elsewhere, `NODE_OPTIONS` loads
 * more code before the handler.
 */
export const FUNCTION_ENVIRONMENT_NAMES = [
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_LOG_LEVEL',
  'STAGE',
  'JOB_NAME_PREFIX',
  'INPUT_BUCKET',
  'TRANSCRIPT_BUCKET',
  'START_QUEUE_URL',
  'START_DLQ_URL',
  'MAX_RECEIVE_COUNT',
  'START_RATE_PER_SECOND',
  'DATA_ACCESS_ROLE_ARN',
  'PREFLIGHT_ROLE_ARN',
  'OUTCOME_BUS_NAME',
  'OUTCOME_EVENT_SOURCE',
  'SWEEP_GRACE_SECONDS',
  'SWEEP_LOOKBACK_SECONDS',
] as const;

/**
 * The settings the code reads with a default (shared/config/settings.ts), which a deploy may add
 * to serverless.yml to tune the pipeline: none of them is foreign to a function.
 */
export const FUNCTION_SETTING_NAMES = [
  'KEY_CACHE_TTL_SECONDS',
  'RULE_CHANGE_GRACE_SECONDS',
  'VERDICT_LEASE_SECONDS',
  'MISSING_TRANSCRIPT_RETRIES',
  'MISSING_TRANSCRIPT_RETRY_DELAY_MS',
  'SWEEP_RETRY_DELAY_MS',
] as const;

/** The name serverless gives a function of the stack (serverless.yml leaves it to serverless). */
export function functionName(ctx: Pick<StackContext, 'service' | 'stage'>, fn: FunctionId): string {
  return `${ctx.service}-${ctx.stage}-${fn}`;
}

/**
 * The function a Lambda ARN names, without its version or alias qualifier; a name passes as it is
 * (Lambda takes either wherever a function is named).
 */
export function functionNameOf(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? nameOrArn) : nameOrArn;
}

/** What the name of every function of the stack starts with. */
export function functionNamePrefix(ctx: Pick<StackContext, 'service' | 'stage'>): string {
  return `${ctx.service}-${ctx.stage}-`;
}

/** Where a rule sends what it matches: one of the stack's functions, or the alarm topic. */
export type RuleTarget = { function: string } | { alarmTopic: true };

/**
 * Each of the stack's EventBridge rules with its bus and where it sends, as serverless.yml and
 * alarmResources.ts deploy them: the verifier's three to the verify function and the sweeper's
 * schedule to the sweep function, unqualified; the seven that page to the alarm topic. Every rule
 * but the schedule has a dead-letter queue for what cannot be delivered. `tkp check` compares the
 * deployed rules with this, and the local mode creates them from it.
 */
export function stackRules(ctx: Pick<StackContext, 'service' | 'stage'>): { name: string; bus?: string; target: RuleTarget; deadLetter: boolean }[] {
  const { rules } = alertingNames(ctx);
  const verify = { target: { function: functionName(ctx, 'verify') }, deadLetter: true };
  const page = { target: { alarmTopic: true as const }, deadLetter: true };
  return [
    { name: rules.verifyTranscription, ...verify },
    { name: rules.verifyCallAnalytics, ...verify },
    { name: rules.verifyDeletion, ...verify },
    { name: rules.sweepSchedule, target: { function: functionName(ctx, 'sweep') }, deadLetter: false },
    { name: rules.pagingVerdicts, bus: outcomeBusName(ctx), ...page },
    { name: rules.trustChanges, ...page },
    { name: rules.verifierChanges, ...page },
    { name: rules.alertingChanges, ...page },
    { name: rules.queueTriggers, ...page },
    { name: rules.keyLosses, ...page },
    { name: rules.dataExposure, ...page },
  ];
}

/** The stack's roles, by logical ID, with the name each ends in (roleName); names longer than IAM's limit are cut. */
export const STACK_ROLES = { StartRole: 'start', VerifyRole: 'verify', SweepRole: 'sweep', BucketNotificationsRole: 'notifications', DataAccessRole: 'transcribe-data' } as const;
export type RoleId = keyof typeof STACK_ROLES;
export type RoleEnding = (typeof STACK_ROLES)[RoleId];
const ROLES: readonly RoleEnding[] = Object.values(STACK_ROLES);
const ROLE_NAME_MAX_LENGTH = 64;

/** Role names are fixed, so another account's key policy can name them before they exist. */
export function roleName(ctx: Pick<StackContext, 'service' | 'stage' | 'region'>, name: RoleEnding): string {
  const cut = (role: string, stage: string) => `${ctx.service}-${stage}-${ctx.region}-${role}`.slice(0, ROLE_NAME_MAX_LENGTH);
  const collides = (stage: string) => new Set(ROLES.map((role) => cut(role, stage))).size < ROLES.length;
  if (collides(ctx.stage)) {
    let longest = ctx.stage.length - 1;
    while (longest > 0 && collides('x'.repeat(longest))) longest--;
    // Only the start role shares a first letter with another (sweep), so it is always among those cut to one name.
    const same = cut('start', ctx.stage);
    const sharing = ROLES.filter((role) => cut(role, ctx.stage) === same);
    throw new Error(
      `stage ${JSON.stringify(ctx.stage)} in ${ctx.region} would give the stack's ${sharing.slice(0, -1).join(', ')} and ${sharing.at(-1)} roles one name once cut to IAM's ${ROLE_NAME_MAX_LENGTH} characters ` +
        `(${JSON.stringify(same)}); use a stage name of at most ${longest} characters`,
    );
  }
  return cut(name, ctx.stage);
}

/** What the name of every role of the stack starts with (within IAM's limit: roleName refuses a stage that would cut into it). */
export function roleNamePrefix(ctx: Pick<StackContext, 'service' | 'stage' | 'region'>): string {
  return `${ctx.service}-${ctx.stage}-${ctx.region}-`.slice(0, ROLE_NAME_MAX_LENGTH);
}

/** A role's ARN from its name, in the account and partition it lives in. */
export function roleArn(where: { partition: string; account: string }, name: string): string {
  return `arn:${where.partition}:iam::${where.account}:role/${name}`;
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
