/**
 * The `tkp` CLI's view of AWS: clients on the standard credential chain (profiles, SSO,
 * environment, instance roles; not the Lambda-only credential alias the bundles use), with
 * `--region`, `--profile` and `--endpoint-url` as the AWS CLI has them, and the deployed stack's
 * resources found from its CloudFormation outputs unless named on the command line.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { IAMClient } from '@aws-sdk/client-iam';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { loadSharedConfigFiles } from '@smithy/core/config';
import { awsErrorName } from '../aws/awsErrors';
import type { CliEnvironment } from '../config/settings';
import { buildRuleIndex } from '../config/ruleIndex';
import { loadCliConfig, readConfigJson, regionNamedBy } from './cliConfig';
import type { PermissionScope } from './cliPermissions';
import { validatePipelineConfig } from '../config/pipelineConfig';
import { CliError, describeCliError, StackNotDeployedError } from './cliErrors';
import { CONFIG_FINGERPRINT_OUTPUT, stackName as stackNameOf } from '../stack/stackNames';

export const SERVICE_NAME = 'transcribe-kms-pipeline';

export interface AwsOptions {
  region?: string;
  profile?: string;
  endpointUrl?: string;
}

export interface CliClients {
  region: string;
  s3: S3Client;
  kms: KMSClient;
  sqs: SQSClient;
  lambda: LambdaClient;
  sts: STSClient;
  cloudFormation: CloudFormationClient;
  cloudTrail: CloudTrailClient;
  sns: SNSClient;
  events: EventBridgeClient;
  cloudWatch: CloudWatchClient;
  iam: IAMClient;
}

/** A region name as AWS spells them (us-east-1, eu-central-2, us-gov-west-1, cn-north-1); an emulator (--endpoint-url) may take any. */
export function isAwsRegionName(value: string): boolean {
  return /^[a-z]+(-[a-z]+)+-\d+$/.test(value);
}

/** Why an endpoint URL cannot be one, or null: the SDK would send every call to a host of that name. */
export function endpointUrlProblem(value: string): string | null {
  const protocol = URL.canParse(value) ? new URL(value).protocol : undefined;
  return protocol === 'http:' || protocol === 'https:' ? null : 'is not an http:// or https:// URL; pass one such as http://127.0.0.1:4566';
}

/**
 * Clients with the SDK's standard retry (exponential backoff with jitter on throttling and
 * transient errors), given more attempts than the default because an audit or a backfill makes
 * tens of thousands of calls and S3 answers bursts with 503 SlowDown.
 */
export async function createCliClients(flags: AwsOptions, env: Pick<CliEnvironment, 'endpointUrl'> = {}): Promise<CliClients> {
  const options = { ...flags, ...(!flags.endpointUrl && env.endpointUrl && { endpointUrl: env.endpointUrl }) };
  if (options.endpointUrl) {
    const problem = endpointUrlProblem(options.endpointUrl);
    if (problem) throw new CliError(`${flags.endpointUrl ? '--endpoint-url' : 'AWS_ENDPOINT_URL'} ${JSON.stringify(options.endpointUrl)} ${problem}`);
  }
  const profile = options.profile ?? process.env.AWS_PROFILE;
  if (profile) {
    const problem = missingProfileProblem(profile, await loadSharedConfigFiles({ ignoreCache: true }), options.profile ? '--profile' : 'AWS_PROFILE');
    if (problem) throw new CliError(problem);
  }
  const common = {
    ...(options.region && { region: options.region }),
    ...(options.profile && { profile: options.profile }),
    ...(options.endpointUrl && { endpoint: options.endpointUrl }),
    retryMode: 'standard',
    maxAttempts: 8,
  };
  const s3 = new S3Client({ ...common, forcePathStyle: Boolean(options.endpointUrl) });
  let region: string;
  let refused = false;
  try {
    region = await s3.config.region();
  } catch {
    refused = true;
    // The SDK refuses a region that cannot be part of a host name ("us east") as if none were set.
    region = options.region ?? process.env.AWS_REGION ?? '';
    if (region === '') throw new CliError('no AWS region; pass --region or set AWS_REGION (or a region in your profile)');
  }
  if (refused || (!options.endpointUrl && !isAwsRegionName(region))) {
    const from = options.region ? '--region' : process.env.AWS_REGION ? 'AWS_REGION' : `the region of profile ${JSON.stringify(profile ?? 'default')}`;
    throw new CliError(`${from} ${JSON.stringify(region)} is not an AWS region name; pass one such as us-east-1 or eu-west-1`);
  }
  const withRegion = { ...common, region };
  return {
    region,
    s3,
    kms: new KMSClient(withRegion),
    sqs: new SQSClient(withRegion),
    lambda: new LambdaClient({ ...withRegion, maxAttempts: 2 }),
    sts: new STSClient(withRegion),
    cloudFormation: new CloudFormationClient(withRegion),
    cloudTrail: new CloudTrailClient(withRegion),
    sns: new SNSClient(withRegion),
    events: new EventBridgeClient(withRegion),
    cloudWatch: new CloudWatchClient(withRegion),
    iam: new IAMClient(withRegion),
  };
}

/**
 * A profile named on the command line (or in AWS_PROFILE) that neither shared file holds: the
 * SDK would only say that no credentials could be loaded, which sends the user after the wrong
 * fault. Undefined when the profile exists.
 */
export function missingProfileProblem(
  profile: string,
  files: { configFile?: Record<string, unknown>; credentialsFile?: Record<string, unknown> },
  source: '--profile' | 'AWS_PROFILE',
): string | undefined {
  if (files.configFile?.[profile] || files.credentialsFile?.[profile]) return undefined;
  const known = [...new Set([...Object.keys(files.configFile ?? {}), ...Object.keys(files.credentialsFile ?? {})])].sort();
  return (
    `${source} ${JSON.stringify(profile)} is in neither the AWS config file nor the credentials file (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE); ` +
    (known.length > 0 ? `the profiles there are ${known.map((name) => JSON.stringify(name)).join(', ')}` : 'there are no profiles there: run `aws configure --profile NAME` or `aws configure sso`')
  );
}

export interface CallerIdentity {
  arn: string;
  account: string;
}

export async function callerIdentity(clients: Pick<CliClients, 'sts'>): Promise<CallerIdentity> {
  const identity = await clients.sts.send(new GetCallerIdentityCommand({}));
  return { arn: identity.Arn ?? 'unknown', account: identity.Account ?? 'unknown' };
}

export interface StackTargets {
  stage: string;
  stackName: string;
  jobNamePrefix: string;
  inputBucket: string;
  transcriptBucket: string;
  startQueueUrl?: string;
  startDeadLetterQueueUrl?: string;
  verifyDeadLetterQueueUrl?: string;
  preflightFunction?: string;
  alarmTopicArn?: string;
}

export type NamedTarget = 'inputBucket' | 'transcriptBucket' | 'startQueueUrl' | 'startDeadLetterQueueUrl' | 'verifyDeadLetterQueueUrl' | 'preflightFunction' | 'alarmTopicArn';

/** The stage and resources named on the command line (each also as commander keeps its flag: see flagAttribute). */
export type TargetFlags = Partial<Pick<StackTargets, NamedTarget>> & { stage?: string };

/** The stack output (serverless.yml) that names each resource the CLI finds by it. */
export const OUTPUT_OF: Record<NamedTarget, string> = {
  inputBucket: 'InputBucketName',
  transcriptBucket: 'TranscriptBucketName',
  startQueueUrl: 'StartQueueUrl',
  startDeadLetterQueueUrl: 'StartDeadLetterQueueUrl',
  verifyDeadLetterQueueUrl: 'VerifyDeadLetterQueueUrl',
  preflightFunction: 'PreflightFunctionName',
  alarmTopicArn: 'AlarmTopicArn',
};

export const FLAG_OF: Record<keyof typeof OUTPUT_OF, string> = {
  inputBucket: '--input-bucket',
  transcriptBucket: '--transcript-bucket',
  startQueueUrl: '--start-queue-url',
  startDeadLetterQueueUrl: '--start-dlq-url',
  verifyDeadLetterQueueUrl: '--verify-dlq-url',
  preflightFunction: '--preflight-function',
  alarmTopicArn: '--alarm-topic-arn',
};

/**
 * Why a stage cannot be one that `serverless deploy` made, or null: serverless takes only ASCII
 * letters, digits and - in a stage name, so anything else is a typo, which would otherwise name
 * every resource wrongly and fail every row of tkp check for a reason that is not there.
 */
export function stageProblem(stage: string): string | null {
  if (stage === '') return 'is empty';
  if (!/^[A-Za-z0-9-]+$/.test(stage)) return 'is not a stage serverless deploys: a stage name takes only ASCII letters, digits and -';
  return null;
}

/** The stage and the resources named on the command line or, failing that, in the environment. */
export function namedTargets(flags: TargetFlags, env: CliEnvironment): TargetFlags & { stage: string } {
  const stage = flags.stage ?? env.stage ?? 'dev';
  const problem = stageProblem(stage);
  if (problem) {
    const from = flags.stage !== undefined ? '--stage' : 'TKP_STAGE';
    throw new CliError(`${from} ${JSON.stringify(stage)} ${problem}; pass the stage you deployed (serverless deploy --stage NAME, default dev) with --stage NAME or TKP_STAGE`);
  }
  const named: TargetFlags & { stage: string } = { stage };
  for (const name of Object.keys(OUTPUT_OF) as (keyof typeof OUTPUT_OF)[]) {
    const flag = (flags as Record<string, unknown>)[flagAttribute(name)];
    const value = flags[name] ?? (typeof flag === 'string' ? flag : undefined) ?? env[name];
    if (value) named[name] = value;
  }
  return named;
}

/** Where commander keeps a target's flag: its name in camel case (`--start-dlq-url` is `startDlqUrl`, not `startDeadLetterQueueUrl`). */
export function flagAttribute(name: NamedTarget): string {
  return FLAG_OF[name].slice(2).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * The stage's resources: flags first, then the environment (`tkp local --keep` prints what to
 * export), then the outputs of the CloudFormation stack `transcribe-kms-pipeline-<stage>`, read
 * only when something needed is still missing.
 */
export async function resolveStackTargets(
  flags: TargetFlags,
  env: CliEnvironment,
  needed: readonly (keyof typeof OUTPUT_OF)[],
  describeOutputs: (stackName: string) => Promise<Record<string, string>>,
): Promise<StackTargets> {
  const { stage, ...known } = namedTargets(flags, env);
  const stackName = stackNameOf({ service: SERVICE_NAME, stage });
  const wanted: (keyof typeof OUTPUT_OF)[] = ['inputBucket', 'transcriptBucket', ...needed];
  if (wanted.some((name) => !known[name])) {
    const outputs = await describeOutputs(stackName);
    for (const name of wanted) {
      known[name] ??= outputs[OUTPUT_OF[name]];
      if (!known[name]) {
        throw new CliError(`stack ${stackName} has no output ${OUTPUT_OF[name]}; redeploy it with this version, or pass ${FLAG_OF[name]}`);
      }
    }
  }
  // `known` holds only what was named or found (namedTargets drops empty values, and a needed
  // output that is missing or empty has thrown above), so every other resource passes as it is.
  const { inputBucket, transcriptBucket, ...others } = known;
  return { stage, stackName, jobNamePrefix: `tkp.${stage}.`, inputBucket: inputBucket as string, transcriptBucket: transcriptBucket as string, ...others };
}

/** Each client's answers by stack name: a command finds the stack's resources and the deployed config's fingerprint in one DescribeStacks. */
const outputsRead = new WeakMap<object, Map<string, Promise<Record<string, string>>>>();

/** A stack's outputs by key, read once per client; a stack that does not exist is a one-line error that says what to pass instead. */
export function stackOutputsReader(clients: Pick<CliClients, 'cloudFormation' | 'region'>) {
  return (stackName: string): Promise<Record<string, string>> => {
    const read = outputsRead.get(clients.cloudFormation) ?? new Map<string, Promise<Record<string, string>>>();
    outputsRead.set(clients.cloudFormation, read);
    const outputs = read.get(stackName) ?? describeStackOutputs(clients, stackName);
    read.set(stackName, outputs);
    return outputs;
  };
}

async function describeStackOutputs(clients: Pick<CliClients, 'cloudFormation' | 'region'>, stackName: string): Promise<Record<string, string>> {
  try {
    const { Stacks } = await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    return Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (error) {
    if (awsErrorName(error) === 'ValidationError') {
      throw new StackNotDeployedError(
        `stack ${stackName} is not deployed in ${clients.region}; deploy it (serverless deploy --stage STAGE), pick it with --stage and --region, ` +
          `or name the resources with --input-bucket and --transcript-bucket`,
      );
    }
    throw error;
  }
}

/**
 * The fingerprint of the config the stack's functions were built with (its ConfigFingerprint
 * output), or why it is not known: no stack (the resources were named), a stack deployed before
 * the output existed, or a refused read. Asked so that a command run with another config file
 * than the deployed one says so; it never stops the command.
 */
export async function deployedConfigFingerprint(clients: Pick<CliClients, 'cloudFormation' | 'region'>, stackName: string): Promise<{ fingerprint: string } | { unknown: string }> {
  try {
    const fingerprint = (await stackOutputsReader(clients)(stackName))[CONFIG_FINGERPRINT_OUTPUT];
    return fingerprint ? { fingerprint } : { unknown: `stack ${stackName} records no config fingerprint (deployed by an earlier version)` };
  } catch (error) {
    return { unknown: error instanceof StackNotDeployedError ? `stack ${stackName} is not deployed in ${clients.region}` : describeCliError(error) };
  }
}

export interface StackOptions extends AwsOptions, TargetFlags {
  config?: string;
}

/**
 * What every subcommand starts from: clients, the stage's resources and the validated config.
 * The config is validated before anything is looked up, so a bad config is reported even
 * without credentials, and again with the stack's bucket names once they are known.
 */
export async function openStack(options: StackOptions, env: CliEnvironment, needed: Parameters<typeof resolveStackTargets>[2] = []) {
  const clients = await createCliClients(options, env);
  const configPath = options.config ?? env.configPath;
  loadCliConfig(configPath, { region: clients.region });
  const targets = await resolveStackTargets(options, env, needed, stackOutputsReader(clients));
  const { config, path } = loadCliConfig(configPath, { region: clients.region, inputBucket: targets.inputBucket, transcriptBucket: targets.transcriptBucket });
  return { clients, targets, config, configPath: path, ruleIndex: buildRuleIndex(config.rules) };
}

export type OpenStack = Awaited<ReturnType<typeof openStack>>;

/** The start queue's ARN from its URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`, or an emulator's). */
export function queueArnFromUrl(url: string, region: string): string {
  const [account, name] = new URL(url).pathname.split('/').filter(Boolean);
  return `arn:${partitionOf(region)}:sqs:${region}:${account ?? ''}:${name ?? ''}`;
}

/** The partition of a region's ARNs (China and GovCloud have their own); `aws` for any region (`*`). */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * What `--permissions` names the stack's resources from, with no AWS call: the stage and the
 * resources named on the command line or in the environment, the region (`--region`, else
 * AWS_REGION, else the one the config's key ARNs name, else any), and the validated config.
 */
export function permissionScope(options: StackOptions, env: CliEnvironment): PermissionScope {
  const { stage, ...named } = namedTargets(options, env);
  const { raw, file } = readConfigJson(options.config ?? env.configPath ?? 'pipeline.config.json');
  const region = options.region ?? process.env.AWS_REGION ?? regionNamedBy(raw);
  // Without a region, one that no key ARN can disagree with stands in for validation alone.
  const config = validatePipelineConfig(raw, { region: region ?? 'us-east-1', source: file, inputBucket: named.inputBucket, transcriptBucket: named.transcriptBucket });
  return { config, stage, service: SERVICE_NAME, ...(region && { region }), ...named };
}
