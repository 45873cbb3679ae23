/**
 * The one place that reads the pipeline's environment variables and the per-prefix config (the
 * SDK's and Powertools' own variables are read where shared/aws/ builds them). Each function
 * loads its settings once at module scope, so a missing variable or a bad config fails the cold
 * start with a message instead of failing every record later.
 */
import { readFileSync } from 'node:fs';
import bundledConfig from '../../pipeline.config.json' with { type: 'json' };
import { EnvironmentError } from '../aws/errors';
import { jobNamePrefixProblem } from '../aws/jobName';
import { buildRuleIndex, type RuleIndex } from './ruleIndex';
import { needsDataAccessRole, validatePipelineConfig } from './pipelineConfig';
import type { PipelineConfig, Rule } from './rule';

export type Env = Record<string, string | undefined>;

export interface PipelineSettings {
  region: string;
  jobNamePrefix: string;
  inputBucket: string;
  transcriptBucket: string;
  config: PipelineConfig;
  ruleIndex: RuleIndex<Rule>;
}

export interface StartSettings extends PipelineSettings {
  /** Seconds a resolved key ARN is reused; the verifier uses the same setting. */
  keyCacheTtlSeconds: number;
  startQueueUrl: string;
  startDeadLetterQueueUrl: string;
  maxReceiveCount: number;
  /** StartTranscriptionJob calls per second for one container; 0 turns pacing off (other APIs scale from it). */
  startRatePerSecond: number;
  /** Transcribe's data access role, when the config needs it (see needsDataAccessRole). */
  dataAccessRoleArn?: string;
  /** Whether transcription jobs may wait in Transcribe's queue (AllowDeferredExecution). */
  deferredExecution: boolean;
}

export interface VerifySettings extends PipelineSettings {
  keyCacheTtlSeconds: number;
  outcomeBusName: string;
  outcomeSource: string;
  missingTranscriptRetries: number;
  missingTranscriptRetryDelayMs: number;
  /** How long a verdict claim protects an invocation that is publishing it. */
  verdictLeaseSeconds: number;
  /** After its cold start, how long a verifier allows for jobs started under the previous config. */
  ruleChangeGraceSeconds: number;
}

export interface SweepSettings extends VerifySettings {
  lookbackSeconds: number;
  graceSeconds: number;
  /** The pause before the sweeper's second pass over jobs that failed transiently. */
  retryDelayMs: number;
}

export interface PreflightSettings extends PipelineSettings {
  /** The role the preflight function runs as: the start function's own role. */
  roleArn: string;
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new EnvironmentError(
      `environment variable ${name} is not set; serverless.yml sets it on deploy, and the local mode sets it for you`,
    );
  }
  return value;
}

function numeric(env: Env, name: string, fallback: number, rule: { min: number; integer: boolean }): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(rule.integer ? Number.isInteger(value) : Number.isFinite(value)) || value < rule.min) {
    throw new EnvironmentError(
      `environment variable ${name} is ${JSON.stringify(raw)}; it must be ${rule.integer ? 'an integer' : 'a number'} >= ${rule.min}`,
    );
  }
  return value;
}

const integer = (env: Env, name: string, fallback: number, min: number) => numeric(env, name, fallback, { min, integer: true });
const number = (env: Env, name: string, fallback: number) => numeric(env, name, fallback, { min: 0, integer: false });

/** One setting for start and verify, so both notice a retargeted alias within the same time. */
const keyCacheTtlSeconds = (env: Env) => integer(env, 'KEY_CACHE_TTL_SECONDS', 300, 0);

/** The bundled config, or the file named by PIPELINE_CONFIG_PATH (local mode and tests). */
export function readRawConfig(env: Env): { raw: unknown; source: string } {
  const path = env.PIPELINE_CONFIG_PATH;
  if (!path) return { raw: bundledConfig, source: 'pipeline.config.json' };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new EnvironmentError(`PIPELINE_CONFIG_PATH ${path} cannot be read: ${(error as Error).message}`);
  }
  try {
    // Less a byte order mark, which Windows PowerShell writes into UTF-8 files.
    return { raw: JSON.parse(text.replace(/^\uFEFF/, '')), source: path };
  } catch (error) {
    throw new EnvironmentError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export function loadPipelineSettings(env: Env = process.env): PipelineSettings {
  const region = required(env, 'AWS_REGION');
  const jobNamePrefix = required(env, 'JOB_NAME_PREFIX');
  const prefixProblem = jobNamePrefixProblem(jobNamePrefix);
  if (prefixProblem) throw new EnvironmentError(`JOB_NAME_PREFIX ${JSON.stringify(jobNamePrefix)} ${prefixProblem}`);
  const inputBucket = required(env, 'INPUT_BUCKET');
  const transcriptBucket = required(env, 'TRANSCRIPT_BUCKET');
  const { raw, source } = readRawConfig(env);
  const config = validatePipelineConfig(raw, { region, inputBucket, transcriptBucket, source });
  return { region, jobNamePrefix, inputBucket, transcriptBucket, config, ruleIndex: buildRuleIndex(config.rules) };
}

export function loadStartSettings(env: Env = process.env): StartSettings {
  const pipeline = loadPipelineSettings(env);
  const dataAccessRoleArn = env.DATA_ACCESS_ROLE_ARN || undefined;
  const settings = {
    ...pipeline,
    startQueueUrl: required(env, 'START_QUEUE_URL'),
    startDeadLetterQueueUrl: required(env, 'START_DLQ_URL'),
    maxReceiveCount: integer(env, 'MAX_RECEIVE_COUNT', 50, 1),
    keyCacheTtlSeconds: keyCacheTtlSeconds(env),
    startRatePerSecond: number(env, 'START_RATE_PER_SECOND', 5),
    deferredExecution: pipeline.config.deferredExecution,
  };
  if (!needsDataAccessRole(pipeline.config)) return settings;
  if (!dataAccessRoleArn) {
    throw new EnvironmentError(
      `the config ${pipeline.config.deferredExecution ? 'sets deferredExecution' : 'has a Call Analytics rule'}, which needs DATA_ACCESS_ROLE_ARN ` +
        '(serverless.yml creates the role when the config asks for it)',
    );
  }
  return { ...settings, dataAccessRoleArn };
}

export function loadVerifySettings(env: Env = process.env): VerifySettings {
  return {
    ...loadPipelineSettings(env),
    keyCacheTtlSeconds: keyCacheTtlSeconds(env),
    outcomeBusName: required(env, 'OUTCOME_BUS_NAME'),
    outcomeSource: required(env, 'OUTCOME_EVENT_SOURCE'),
    missingTranscriptRetries: integer(env, 'MISSING_TRANSCRIPT_RETRIES', 3, 0),
    missingTranscriptRetryDelayMs: integer(env, 'MISSING_TRANSCRIPT_RETRY_DELAY_MS', 2_000, 0),
    verdictLeaseSeconds: number(env, 'VERDICT_LEASE_SECONDS', 120),
    ruleChangeGraceSeconds: integer(env, 'RULE_CHANGE_GRACE_SECONDS', 900, 0),
  };
}

export function loadSweepSettings(env: Env = process.env): SweepSettings {
  return {
    ...loadVerifySettings(env),
    lookbackSeconds: integer(env, 'SWEEP_LOOKBACK_SECONDS', 6 * 3600, 1),
    graceSeconds: integer(env, 'SWEEP_GRACE_SECONDS', 600, 0),
    retryDelayMs: integer(env, 'SWEEP_RETRY_DELAY_MS', 5_000, 0),
  };
}

export function loadPreflightSettings(env: Env = process.env): PreflightSettings {
  return { ...loadPipelineSettings(env), roleArn: required(env, 'PREFLIGHT_ROLE_ARN') };
}

/**
 * The `tkp` CLI's defaults from the environment: the stack's resources by name (what `tkp local
 * --keep` prints to export), and the config file. Flags override each of them.
 */
export interface CliEnvironment {
  configPath?: string;
  stage?: string;
  inputBucket?: string;
  transcriptBucket?: string;
  startQueueUrl?: string;
  startDeadLetterQueueUrl?: string;
  verifyDeadLetterQueueUrl?: string;
  preflightFunction?: string;
  alarmTopicArn?: string;
  endpointUrl?: string;
}

export function loadCliEnvironment(env: Env = process.env): CliEnvironment {
  const entries = {
    configPath: env.PIPELINE_CONFIG_PATH,
    stage: env.TKP_STAGE,
    inputBucket: env.TKP_INPUT_BUCKET,
    transcriptBucket: env.TKP_TRANSCRIPT_BUCKET,
    startQueueUrl: env.TKP_START_QUEUE_URL,
    startDeadLetterQueueUrl: env.TKP_START_DLQ_URL,
    verifyDeadLetterQueueUrl: env.TKP_VERIFY_DLQ_URL,
    preflightFunction: env.TKP_PREFLIGHT_FUNCTION,
    alarmTopicArn: env.TKP_ALARM_TOPIC_ARN,
    endpointUrl: env.AWS_ENDPOINT_URL,
  };
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined && value !== '')) as CliEnvironment;
}
