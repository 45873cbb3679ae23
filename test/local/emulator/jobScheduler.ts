/**
 * Job bookkeeping as the service keeps it: unique names, the StartTranscriptionJob and
 * GetTranscriptionJob rate quotas, the concurrent-job quota with Transcribe's own deferred queue,
 * job states on a service clock, and the completion event on EventBridge (lost or doubled when a
 * fault says so). What a running job writes is the output writer's work.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type {
  CallAnalyticsJob,
  CallAnalyticsJobSummary,
  MedicalTranscriptionJob,
  MedicalTranscriptionJobSummary,
  StartCallAnalyticsJobCommandInput,
  StartMedicalTranscriptionJobCommandInput,
  StartTranscriptionJobCommandInput,
  TranscriptionJob,
  TranscriptionJobSummary,
} from '@aws-sdk/client-transcribe';
import { JOB_TYPE_FACTS, JOB_TYPES } from '../../../shared/aws/jobTypes';
import { parseS3Uri } from '../../../shared/aws/s3Location';
import { JOB_DELETIONS } from '../../../shared/verify/completionEvent';
import { envelope } from '../runtime/eventBus';
import {
  quotasFor,
  tokenBucket,
  type EmulatorFaults,
  type EmulatorOptions,
  type EmulatorStats,
  type Job,
  type JobSpec,
  type JobType,
  type Later,
  type Quotas,
  type StartRequest,
} from './emulatorModel';
import type { JobResult } from './outputWriter';
import { ServiceError, validateStartCallAnalyticsRequest, validateStartMedicalRequest, validateStartRequest } from './transcribeValidation';

/** JSON protocol timestamps are epoch seconds. */
const epoch = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));

/** Media, output bucket and key, and the encryption asked, as StartTranscriptionJob and StartMedicalTranscriptionJob both state them. */
function bucketOutput(input: StartTranscriptionJobCommandInput | StartMedicalTranscriptionJobCommandInput) {
  return {
    mediaUri: input.Media?.MediaFileUri as string,
    ...(input.MediaFormat && { mediaFormat: input.MediaFormat }),
    outputBucket: input.OutputBucketName as string,
    ...(input.OutputKey && { outputKey: input.OutputKey }),
    ...(input.OutputEncryptionKMSKeyId && { kmsKeyId: input.OutputEncryptionKMSKeyId }),
    ...(input.KMSEncryptionContext && { encryptionContext: input.KMSEncryptionContext }),
  };
}

/** Validates a Start request of a type and reads what running it needs. */
function readRequest(jobType: JobType, raw: Record<string, unknown>): { name: string; request: StartRequest; spec: JobSpec } {
  switch (jobType) {
    case 'callAnalytics': {
      validateStartCallAnalyticsRequest(raw);
      const input = raw as unknown as StartCallAnalyticsJobCommandInput;
      const location = input.OutputLocation ? parseS3Uri(input.OutputLocation) : undefined;
      if (!location) throw new ServiceError('BadRequestException', 'The local emulator needs an s3:// OutputLocation (the service bucket is not emulated).');
      const redaction = input.Settings?.ContentRedaction;
      const options = input.Settings?.LanguageOptions;
      return {
        name: input.CallAnalyticsJobName as string,
        request: { jobType, input },
        spec: {
          mediaUri: input.Media?.MediaFileUri as string,
          outputBucket: location.bucket,
          outputKey: location.key === '' || location.key.endsWith('.json') || location.key.endsWith('/') ? location.key : `${location.key}/`,
          ...(input.OutputEncryptionKMSKeyId && { kmsKeyId: input.OutputEncryptionKMSKeyId }),
          identifyLanguage: (options?.length ?? 0) > 1,
          ...(options && { languageOptions: options }),
          ...(redaction?.RedactionOutput && { redaction: { output: redaction.RedactionOutput, audio: input.Media?.RedactedMediaFileUri !== undefined } }),
          needsTwoChannels: true,
          deferrable: true,
        },
      };
    }
    case 'medical': {
      validateStartMedicalRequest(raw);
      const input = raw as unknown as StartMedicalTranscriptionJobCommandInput;
      return {
        name: input.MedicalTranscriptionJobName as string,
        request: { jobType, input },
        spec: {
          ...bucketOutput(input),
          identifyLanguage: false,
          needsTwoChannels: false,
          deferrable: false,
        },
      };
    }
    default: {
      validateStartRequest(raw);
      const input = raw as unknown as StartTranscriptionJobCommandInput;
      return {
        name: input.TranscriptionJobName as string,
        request: { jobType: 'transcription', input },
        spec: {
          ...bucketOutput(input),
          identifyLanguage: input.IdentifyLanguage === true,
          ...(input.LanguageOptions && { languageOptions: input.LanguageOptions }),
          needsTwoChannels: false,
          deferrable: input.JobExecutionSettings?.AllowDeferredExecution === true,
        },
      };
    }
  }
}

export function createJobScheduler(
  options: EmulatorOptions,
  quotas: Quotas,
  queuedSeconds: number,
  later: Later,
  faults: () => EmulatorFaults,
  writeOutputs: (job: Job) => Promise<JobResult>,
  isClosed: () => boolean,
) {
  const timeScale = options.timeScale ?? 1;
  /** Each job type is its own name space: keyed by type and name. */
  const jobs = new Map<string, Job>();
  /** Jobs deleted through Delete*Job, for the local mode's accounting (Transcribe forgets them). */
  const deleted: Job[] = [];
  const key = (jobType: JobType, name: string) => `${jobType}/${name}`;
  const perType = Object.fromEntries(
    JOB_TYPES.map((jobType) => {
      const typeQuotas = quotasFor(quotas, jobType);
      return [jobType, { quotas: typeQuotas, allowStart: tokenBucket(typeQuotas.startTps, timeScale), allowGet: tokenBucket(typeQuotas.getTps, timeScale), active: 0, deferred: [] as Job[] }];
    }),
  ) as Record<JobType, { quotas: Quotas; allowStart: () => boolean; allowGet: () => boolean; active: number; deferred: Job[] }>;
  const idleWaiters: (() => void)[] = [];
  const stats: EmulatorStats = { started: 0, rejected: {}, completed: 0, failed: 0, eventsEmitted: 0, eventsLost: 0, peakConcurrency: 0, startTimes: [] };
  let unfinishedJobs = 0;

  const notifyIdle = () => {
    if (unfinishedJobs > 0) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  };
  const reject = (code: string, operation: string) => {
    const key = `${operation}:${code}`;
    stats.rejected[key] = (stats.rejected[key] ?? 0) + 1;
  };

  function startJob(jobType: JobType, raw: Record<string, unknown>): Job {
    const operation = JOB_TYPE_FACTS[jobType].startOperation;
    const { name, request, spec } = readRequest(jobType, raw);
    const pool = perType[jobType];
    const injected = faults().startError?.(name);
    if (injected === 'InternalFailureException') {
      reject(injected, operation);
      throw new ServiceError('InternalFailureException', 'We encountered an internal error when processing the request. Try your request again.', 500);
    }
    if (injected === 'LimitExceededException' || !pool.allowStart()) {
      reject('LimitExceededException', operation);
      throw new ServiceError('LimitExceededException', 'You have sent too many requests or your input file is too long. Wait before you resend your request, or use a smaller file and resend the request.');
    }
    if (jobs.has(key(jobType, name))) {
      reject('ConflictException', operation);
      throw new ServiceError('ConflictException', 'The requested job name already exists. Use a different job name.');
    }
    const full = pool.active >= pool.quotas.maxConcurrentJobs;
    if (full && !spec.deferrable) {
      reject('LimitExceededException', operation);
      throw new ServiceError('LimitExceededException', 'You have exceeded the maximum number of concurrent transcription jobs. Wait for a job to finish and try again.');
    }
    if (full && pool.deferred.length >= pool.quotas.maxDeferredJobs) {
      reject('LimitExceededException', operation);
      throw new ServiceError('LimitExceededException', 'The queue of deferred jobs is full.');
    }
    const job: Job = {
      jobType,
      name,
      request,
      spec,
      status: 'QUEUED',
      deferred: full,
      creationTime: Date.now(),
      tags: new Map((request.input.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    };
    jobs.set(key(jobType, name), job);
    unfinishedJobs++;
    stats.started++;
    stats.startTimes.push(job.creationTime);
    if (job.deferred) pool.deferred.push(job);
    else schedule(job);
    return job;
  }

  /** A job holds one of its type's concurrent-job slots from acceptance until it finishes. */
  function schedule(job: Job) {
    const pool = perType[job.jobType];
    job.deferred = false;
    pool.active++;
    stats.peakConcurrency = Math.max(stats.peakConcurrency, JOB_TYPES.reduce((sum, type) => sum + perType[type].active, 0));
    later(queuedSeconds, () => {
      job.status = 'IN_PROGRESS';
      job.startTime = Date.now();
      void run(job).finally(() => {
        pool.active--;
        unfinishedJobs--;
        const next = pool.deferred.shift();
        if (next) schedule(next);
        notifyIdle();
      });
    });
  }

  async function run(job: Job) {
    const outcome = await writeOutputs(job).catch((error: unknown) => ({ failure: `Internal emulator error: ${String(error)}` }));
    job.completionTime = Date.now();
    if ('failure' in outcome) {
      job.status = 'FAILED';
      job.failureReason = outcome.failure;
      stats.failed++;
    } else {
      job.status = 'COMPLETED';
      job.outputs = outcome.outputs;
      stats.completed++;
    }
    await emit(job);
  }

  /** The completion event, as each type's is written; a medical job has none, as on AWS. */
  function completionEntry(job: Job) {
    const detailType = JOB_TYPE_FACTS[job.jobType].completionDetailType;
    if (!detailType) return undefined;
    const failure = job.failureReason ? { FailureReason: job.failureReason } : {};
    const detail =
      job.jobType === 'callAnalytics'
        ? { JobName: job.name, JobStatus: job.status, ...failure }
        : { TranscriptionJobName: job.name, TranscriptionJobStatus: job.status, ...failure };
    return { Source: 'aws.transcribe', DetailType: detailType, Detail: JSON.stringify(detail), Resources: [] };
  }

  async function emit(job: Job) {
    if (isClosed()) return;
    const entry = completionEntry(job);
    if (!entry) return;
    if (faults().loseCompletionEvent?.(job.name)) {
      stats.eventsLost++;
      return;
    }
    const copies = faults().duplicateCompletionEvent?.(job.name) ? 2 : 1;
    const result = await options.events.send(new PutEventsCommand({ Entries: [entry] }));
    const event = envelope(entry, result.Entries?.[0]?.EventId ?? crypto.randomUUID(), options.account, options.region);
    for (let i = 0; i < copies && !isClosed(); i++) {
      await options.deliver?.(event);
      stats.eventsEmitted++;
    }
  }

  const times = (job: Job) => ({
    CreationTime: epoch(job.creationTime),
    ...(job.startTime && { StartTime: epoch(job.startTime) }),
    ...(job.completionTime && { CompletionTime: epoch(job.completionTime) }),
    ...(job.failureReason && { FailureReason: job.failureReason }),
  });
  const tagList = (job: Job) => (job.tags.size > 0 ? { Tags: [...job.tags].map(([Key, Value]) => ({ Key, Value })) } : {});

  /** The job as GetTranscriptionJob describes it: never the output key or the encryption settings. */
  function describe(job: Job): TranscriptionJob {
    if (job.request.jobType !== 'transcription') throw new Error(`${job.name} is a ${job.jobType} job`);
    const input = job.request.input;
    return {
      TranscriptionJobName: job.name,
      TranscriptionJobStatus: job.status,
      ...(input.LanguageCode && { LanguageCode: input.LanguageCode }),
      ...(job.identifiedLanguage && { LanguageCode: job.identifiedLanguage as TranscriptionJob['LanguageCode'], IdentifiedLanguageScore: 0 }),
      ...(input.MediaFormat && { MediaFormat: input.MediaFormat }),
      Media: { MediaFileUri: job.spec.mediaUri },
      ...(job.outputs?.transcriptUri && { Transcript: { TranscriptFileUri: job.outputs.transcriptUri } }),
      ...times(job),
      ...(input.IdentifyLanguage && { IdentifyLanguage: true }),
      ...(input.LanguageOptions && { LanguageOptions: input.LanguageOptions }),
      ...(input.JobExecutionSettings && { JobExecutionSettings: input.JobExecutionSettings }),
      Settings: { ChannelIdentification: false, ShowAlternatives: false },
      ...tagList(job),
    };
  }

  /** GetCallAnalyticsJob: the transcript, the redacted transcript and the redacted audio; never the key. */
  function describeCallAnalytics(job: Job): CallAnalyticsJob {
    if (job.request.jobType !== 'callAnalytics') throw new Error(`${job.name} is a ${job.jobType} job`);
    const input = job.request.input;
    const outputs = job.outputs ?? {};
    return {
      CallAnalyticsJobName: job.name,
      CallAnalyticsJobStatus: job.status,
      ...(job.identifiedLanguage && { LanguageCode: job.identifiedLanguage as CallAnalyticsJob['LanguageCode'] }),
      Media: { MediaFileUri: job.spec.mediaUri, ...(outputs.redactedMediaUri && { RedactedMediaFileUri: outputs.redactedMediaUri }) },
      ...((outputs.transcriptUri || outputs.redactedTranscriptUri) && {
        Transcript: {
          ...(outputs.transcriptUri && { TranscriptFileUri: outputs.transcriptUri }),
          ...(outputs.redactedTranscriptUri && { RedactedTranscriptFileUri: outputs.redactedTranscriptUri }),
        },
      }),
      ...times(job),
      ...(input.Settings && { Settings: input.Settings }),
      ...(input.ChannelDefinitions && { ChannelDefinitions: input.ChannelDefinitions }),
      ...tagList(job),
    };
  }

  function describeMedical(job: Job): MedicalTranscriptionJob {
    if (job.request.jobType !== 'medical') throw new Error(`${job.name} is a ${job.jobType} job`);
    const input = job.request.input;
    return {
      MedicalTranscriptionJobName: job.name,
      TranscriptionJobStatus: job.status,
      LanguageCode: 'en-US',
      ...(input.MediaFormat && { MediaFormat: input.MediaFormat }),
      Media: { MediaFileUri: job.spec.mediaUri },
      ...(job.outputs?.transcriptUri && { Transcript: { TranscriptFileUri: job.outputs.transcriptUri } }),
      ...times(job),
      ...(input.Specialty && { Specialty: input.Specialty }),
      ...(input.Type && { Type: input.Type }),
      ...tagList(job),
    };
  }

  function summary(job: Job): TranscriptionJobSummary {
    return {
      TranscriptionJobName: job.name,
      TranscriptionJobStatus: job.status,
      ...times(job),
      ...(job.request.jobType === 'transcription' && job.request.input.LanguageCode && { LanguageCode: job.request.input.LanguageCode }),
      OutputLocationType: 'CUSTOMER_BUCKET',
    };
  }

  function callAnalyticsSummary(job: Job): CallAnalyticsJobSummary {
    return { CallAnalyticsJobName: job.name, CallAnalyticsJobStatus: job.status, ...times(job) };
  }

  function medicalSummary(job: Job): MedicalTranscriptionJobSummary {
    return { MedicalTranscriptionJobName: job.name, TranscriptionJobStatus: job.status, ...times(job), LanguageCode: 'en-US', OutputLocationType: 'CUSTOMER_BUCKET' };
  }

  function findJob(name: unknown, jobType: JobType = 'transcription'): Job {
    const job = typeof name === 'string' ? jobs.get(key(jobType, name)) : undefined;
    if (!job) throw new ServiceError('BadRequestException', "The requested job couldn't be found. Check the job name and try your request again.");
    return job;
  }

  /** This account's jobs of a type, newest first, for List*Jobs. */
  function jobsOf(jobType: JobType): Job[] {
    return [...jobs.values()].filter((job) => job.jobType === jobType);
  }

  /** Deletes a job; CloudTrail records the call, which the stack's deleted-job rule sends to the verifier. */
  function deleteJob(name: unknown, jobType: JobType): void {
    const job = findJob(name, jobType);
    jobs.delete(key(jobType, job.name));
    deleted.push(job);
    const { eventName, nameField } = JOB_DELETIONS[jobType];
    options.onTrailedCall?.({ eventSource: 'transcribe.amazonaws.com', eventName, account: options.account, requestParameters: { [nameField]: job.name } });
  }

  function jobFromArn(arn: unknown): Job {
    const match = typeof arn === 'string' ? /^arn:aws[a-z-]*:transcribe:([a-z0-9-]+):(\d{12}):([a-z-]+)\/(.+)$/.exec(arn) : null;
    const jobType = JOB_TYPES.find((type) => JOB_TYPE_FACTS[type].arnResourceType === match?.[3]);
    if (!match || !jobType || match[1] !== options.region || match[2] !== options.account) {
      throw new ServiceError('BadRequestException', `The ARN ${String(arn)} is not a transcription job in ${options.region} for account ${options.account}.`);
    }
    return findJob(match[4], jobType);
  }

  /** A Get*Job: its rate quota, then the job (gone if a fault deletes it first). */
  function getJob(jobType: JobType, name: unknown): Job {
    if (!perType[jobType].allowGet()) {
      reject('LimitExceededException', JOB_TYPE_FACTS[jobType].getOperation);
      throw new ServiceError('LimitExceededException', 'You have sent too many requests. Wait before you resend your request.');
    }
    if (typeof name === 'string' && faults().vanishOnGet?.(name)) jobs.delete(key(jobType, name));
    return findJob(name, jobType);
  }

  return {
    jobs,
    deleted,
    stats,
    startJob,
    describe,
    describeCallAnalytics,
    describeMedical,
    summary,
    callAnalyticsSummary,
    medicalSummary,
    findJob,
    jobsOf,
    deleteJob,
    jobFromArn,
    getJob,
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        notifyIdle();
      }),
  };
}

export type JobScheduler = ReturnType<typeof createJobScheduler>;
