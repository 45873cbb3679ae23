import { awsErrorName, isQuotaError, isTransientAwsError } from '../aws/awsErrors';
import type { ExpectedEncryption } from '../config/expectedEncryption';
import { describeError, ForeignBucketError, JobNameTakenError, StartRejectedError, TransientAwsError, UnsupportedRecordingError } from '../aws/errors';
import { jobNameFor } from '../aws/jobName';
import type { KeyResolver } from '../config/keyResolution';
import { classifyObject } from './mediaObject';
import { matchRule } from '../config/ruleIndex';
import { describeRule } from '../config/describeRule';
import type { PipelineSettings } from '../config/settings';
import type { S3ObjectRef } from './s3Notification';
import { expectedEncryptionFor } from '../config/expectedEncryption';
import { buildJobRequest, type JobRequest } from './startRequest';
import { JOB_TYPE_FACTS, type JobType } from '../aws/jobTypes';
import { s3Uri } from '../aws/s3Location';

export interface StartDependencies {
  settings: Pick<PipelineSettings, 'jobNamePrefix' | 'inputBucket' | 'transcriptBucket' | 'ruleIndex'> & { dataAccessRoleArn?: string; deferredExecution?: boolean };
  resolveKey: KeyResolver;
  /** Sends the Start call of the request's job type. */
  startJob(request: JobRequest): Promise<void>;
  /** The media URI of an existing job of that type, or undefined when there is no job of that name. */
  mediaUriOfJob(jobType: JobType, jobName: string): Promise<string | undefined>;
}

export type ObjectOutcome =
  | { outcome: 'started'; jobName: string; jobType: JobType; rulePrefix: string; expected: ExpectedEncryption }
  | { outcome: 'already-started'; jobName: string; jobType: JobType; rulePrefix: string }
  | { outcome: 'skipped'; reason: string; rulePrefix?: string };

/** The log message and the metric for each outcome, so handlers look them up instead of branching. */
export const START_OUTCOME_LOG: Record<ObjectOutcome['outcome'], string> = {
  started: 'job started',
  'already-started': 'job already started',
  skipped: 'object skipped',
};

export const START_OUTCOME_METRIC: Record<ObjectOutcome['outcome'], string> = {
  started: 'JobsStarted',
  'already-started': 'DuplicateDeliveries',
  skipped: 'ObjectsSkipped',
};

/**
 * Turns one uploaded object into at most one Transcribe job. Safe to run any number of times
 * for the same object version: the job name is deterministic and a ConflictException for our
 * own job counts as already started.
 */
export async function startTranscriptionFor(deps: StartDependencies, object: S3ObjectRef): Promise<ObjectOutcome> {
  if (object.bucket !== deps.settings.inputBucket) {
    throw new ForeignBucketError(
      `the record is for ${s3Uri(object)}, but this stack only transcribes its input bucket ${deps.settings.inputBucket}; ` +
        `remove the other bucket's notification to this stack's start queue`,
    );
  }
  const rule = matchRule(deps.settings.ruleIndex, object.key);
  if (!rule) return { outcome: 'skipped', reason: 'no rule matches the key' };
  const decision = classifyObject(object);
  if (decision.action === 'skip') return { outcome: 'skipped', reason: decision.reason, rulePrefix: rule.prefix };
  if (decision.action === 'dead-letter') throw new UnsupportedRecordingError(`${s3Uri(object)} (${describeRule(rule)}): ${decision.reason}`);

  const key = rule.kmsKey ? await deps.resolveKey({ ...rule, kmsKey: rule.kmsKey }) : undefined;
  const jobType = rule.job.jobType;
  const jobName = jobNameFor(deps.settings.jobNamePrefix, object, jobType);
  const request = buildJobRequest({
    object,
    rule,
    mediaFormat: decision.mediaFormat,
    jobName,
    ...(key && { key }),
    outputBucket: rule.output.bucket ?? deps.settings.transcriptBucket,
    ...(deps.settings.dataAccessRoleArn && { dataAccessRoleArn: deps.settings.dataAccessRoleArn }),
    deferredExecution: deps.settings.deferredExecution ?? false,
  });
  try {
    await deps.startJob(request);
  } catch (error) {
    if (awsErrorName(error) === 'ConflictException') {
      const existing = await deps.mediaUriOfJob(jobType, jobName).catch((lookupError: unknown) => {
        throw new TransientAwsError(`job ${jobName} exists but could not be read: ${describeError(lookupError)}`, false, {
          cause: lookupError,
        });
      });
      if (existing === s3Uri(object)) return { outcome: 'already-started', jobName, jobType, rulePrefix: rule.prefix };
      throw new JobNameTakenError(
        `job name ${jobName} is already used by a job for ${existing ?? 'a deleted job'}, not ${s3Uri(object)}; ` +
          `change JOB_NAME_PREFIX so this stack's names are its own`,
      );
    }
    throw startError(error, describeRule(rule), jobName, jobType);
  }
  return { outcome: 'started', jobName, jobType, rulePrefix: rule.prefix, expected: expectedEncryptionFor(key) };
}

function startError(error: unknown, where: string, jobName: string, jobType: JobType): Error {
  const operation = JOB_TYPE_FACTS[jobType].startOperation;
  if (isTransientAwsError(error)) {
    return new TransientAwsError(`${operation} ${jobName} (${where}) must be retried: ${describeError(error)}`, isQuotaError(error), {
      cause: error,
    });
  }
  switch (awsErrorName(error)) {
    case 'BadRequestException':
      return new StartRejectedError(`Transcribe rejected job ${jobName} for ${where}: ${describeError(error)}; fix the rule or the object`, {
        cause: error,
      });
    case 'AccessDeniedException':
      return new StartRejectedError(
        `${operation} was denied for ${where}; the start function's role needs transcribe:${operation}, ` +
          `s3:GetObject on the media, s3:PutObject on the output and kms:Encrypt/GenerateDataKey on the key (${describeError(error)})`,
        { cause: error },
      );
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}
