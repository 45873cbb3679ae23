/**
 * Job bookkeeping as the service keeps it: unique names, the StartTranscriptionJob and
 * GetTranscriptionJob rate quotas, the concurrent-job quota with Transcribe's own deferred queue,
 * job states on a service clock, and the completion event on EventBridge (lost or doubled when a
 * fault says so). What a running job writes is the output writer's work.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { TranscriptionJob, TranscriptionJobSummary } from '@aws-sdk/client-transcribe';
import { envelope } from '../runtime/eventBus';
import { tokenBucket, type EmulatorFaults, type EmulatorOptions, type EmulatorStats, type Job, type Later, type Quotas, type StartRequest } from './emulatorModel';
import type { JobResult } from './outputWriter';
import { ServiceError, validateStartRequest } from './transcribeValidation';

/** JSON protocol timestamps are epoch seconds. */
const epoch = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));

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
  const jobs = new Map<string, Job>();
  const deferredQueue: Job[] = [];
  const idleWaiters: (() => void)[] = [];
  const allowStart = tokenBucket(quotas.startTps, timeScale);
  const allowGet = tokenBucket(quotas.getTps, timeScale);
  const stats: EmulatorStats = { started: 0, rejected: {}, completed: 0, failed: 0, eventsEmitted: 0, eventsLost: 0, peakConcurrency: 0, startTimes: [] };
  let activeJobs = 0;
  let unfinishedJobs = 0;

  const notifyIdle = () => {
    if (unfinishedJobs > 0) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  };
  const reject = (code: string, operation = 'StartTranscriptionJob') => {
    const key = `${operation}:${code}`;
    stats.rejected[key] = (stats.rejected[key] ?? 0) + 1;
  };

  function startJob(raw: Record<string, unknown>): Job {
    validateStartRequest(raw);
    const input = raw as unknown as StartRequest;
    const name = input.TranscriptionJobName;
    const injected = faults().startError?.(name);
    if (injected === 'InternalFailureException') {
      reject(injected);
      throw new ServiceError('InternalFailureException', 'We encountered an internal error when processing the request. Try your request again.', 500);
    }
    if (injected === 'LimitExceededException' || !allowStart()) {
      reject('LimitExceededException');
      throw new ServiceError('LimitExceededException', 'You have sent too many requests or your input file is too long. Wait before you resend your request, or use a smaller file and resend the request.');
    }
    if (jobs.has(name)) {
      reject('ConflictException');
      throw new ServiceError('ConflictException', 'The requested job name already exists. Use a different job name.');
    }
    const deferrable = input.JobExecutionSettings?.AllowDeferredExecution === true;
    const full = activeJobs >= quotas.maxConcurrentJobs;
    if (full && !deferrable) {
      reject('LimitExceededException');
      throw new ServiceError('LimitExceededException', 'You have exceeded the maximum number of concurrent transcription jobs. Wait for a job to finish and try again.');
    }
    if (full && deferredQueue.length >= quotas.maxDeferredJobs) {
      reject('LimitExceededException');
      throw new ServiceError('LimitExceededException', 'The queue of deferred jobs is full.');
    }
    const job: Job = {
      name,
      request: input,
      status: 'QUEUED',
      deferred: full,
      creationTime: Date.now(),
      tags: new Map((input.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    };
    jobs.set(name, job);
    unfinishedJobs++;
    stats.started++;
    stats.startTimes.push(job.creationTime);
    if (job.deferred) deferredQueue.push(job);
    else schedule(job);
    return job;
  }

  /** A job holds one of the concurrent-job slots from acceptance until it finishes. */
  function schedule(job: Job) {
    job.deferred = false;
    activeJobs++;
    stats.peakConcurrency = Math.max(stats.peakConcurrency, activeJobs);
    later(queuedSeconds, () => {
      job.status = 'IN_PROGRESS';
      job.startTime = Date.now();
      void run(job).finally(() => {
        activeJobs--;
        unfinishedJobs--;
        const next = deferredQueue.shift();
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
      job.transcriptUri = outcome.transcriptUri;
      stats.completed++;
    }
    await emit(job);
  }

  async function emit(job: Job) {
    if (isClosed()) return;
    if (faults().loseCompletionEvent?.(job.name)) {
      stats.eventsLost++;
      return;
    }
    const detail = {
      TranscriptionJobName: job.name,
      TranscriptionJobStatus: job.status,
      ...(job.failureReason && { FailureReason: job.failureReason }),
    };
    const copies = faults().duplicateCompletionEvent?.(job.name) ? 2 : 1;
    const entry = { Source: 'aws.transcribe', DetailType: 'Transcribe Job State Change', Detail: JSON.stringify(detail), Resources: [] };
    const result = await options.events.send(new PutEventsCommand({ Entries: [entry] }));
    const event = envelope(entry, result.Entries?.[0]?.EventId ?? crypto.randomUUID(), options.account, options.region);
    for (let i = 0; i < copies && !isClosed(); i++) {
      await options.deliver?.(event);
      stats.eventsEmitted++;
    }
  }

  /** The job as GetTranscriptionJob describes it: never the output key or the encryption settings. */
  function describe(job: Job): TranscriptionJob {
    const input = job.request;
    return {
      TranscriptionJobName: job.name,
      TranscriptionJobStatus: job.status,
      ...(input.LanguageCode && { LanguageCode: input.LanguageCode }),
      ...(job.identifiedLanguage && { LanguageCode: job.identifiedLanguage as TranscriptionJob['LanguageCode'], IdentifiedLanguageScore: 0 }),
      ...(input.MediaFormat && { MediaFormat: input.MediaFormat }),
      Media: { MediaFileUri: input.Media.MediaFileUri },
      ...(job.transcriptUri && { Transcript: { TranscriptFileUri: job.transcriptUri } }),
      CreationTime: epoch(job.creationTime),
      ...(job.startTime && { StartTime: epoch(job.startTime) }),
      ...(job.completionTime && { CompletionTime: epoch(job.completionTime) }),
      ...(job.failureReason && { FailureReason: job.failureReason }),
      ...(input.IdentifyLanguage && { IdentifyLanguage: true }),
      ...(input.LanguageOptions && { LanguageOptions: input.LanguageOptions }),
      ...(input.JobExecutionSettings && { JobExecutionSettings: input.JobExecutionSettings }),
      Settings: { ChannelIdentification: false, ShowAlternatives: false },
      ...(job.tags.size > 0 && { Tags: [...job.tags].map(([Key, Value]) => ({ Key, Value })) }),
    };
  }

  function summary(job: Job): TranscriptionJobSummary {
    return {
      TranscriptionJobName: job.name,
      TranscriptionJobStatus: job.status,
      CreationTime: epoch(job.creationTime),
      ...(job.startTime && { StartTime: epoch(job.startTime) }),
      ...(job.completionTime && { CompletionTime: epoch(job.completionTime) }),
      ...(job.request.LanguageCode && { LanguageCode: job.request.LanguageCode }),
      ...(job.failureReason && { FailureReason: job.failureReason }),
      OutputLocationType: 'CUSTOMER_BUCKET',
    };
  }

  function findJob(name: unknown): Job {
    const job = typeof name === 'string' ? jobs.get(name) : undefined;
    if (!job) throw new ServiceError('BadRequestException', "The requested job couldn't be found. Check the job name and try your request again.");
    return job;
  }

  function jobFromArn(arn: unknown): Job {
    const match = typeof arn === 'string' ? /^arn:aws[a-z-]*:transcribe:([a-z0-9-]+):(\d{12}):transcription-job\/(.+)$/.exec(arn) : null;
    if (!match || match[1] !== options.region || match[2] !== options.account) {
      throw new ServiceError('BadRequestException', `The ARN ${String(arn)} is not a transcription job in ${options.region} for account ${options.account}.`);
    }
    return findJob(match[3]);
  }

  function allowGetOrThrow(): void {
    if (allowGet()) return;
    reject('LimitExceededException', 'GetTranscriptionJob');
    throw new ServiceError('LimitExceededException', 'You have sent too many requests. Wait before you resend your request.');
  }

  return {
    jobs,
    stats,
    startJob,
    describe,
    summary,
    findJob,
    jobFromArn,
    allowGetOrThrow,
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        notifyIdle();
      }),
  };
}

export type JobScheduler = ReturnType<typeof createJobScheduler>;
