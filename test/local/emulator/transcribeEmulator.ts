import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DescribeKeyCommand, type KMSClient, type KeyMetadata } from '@aws-sdk/client-kms';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { MEDIA_MAX_DURATION_SECONDS, MEDIA_MIN_DURATION_SECONDS, TAG_MAX_COUNT, WRITE_ACCESS_PROBE_NAME } from '../../../shared/aws/transcribeModel';
import { envelope, type EventEnvelope } from '../runtime/eventBus';
import { parseS3Uri } from '../../../shared/aws/s3Location';
import { listenOnLoopback } from './loopback';
import { formatMatches, probeMedia, PROBE_BYTES } from './mediaProbe';
import { ServiceError, validateStartRequest } from './transcribeValidation';

/**
 * A small Amazon Transcribe batch service for one machine. It speaks the service's JSON wire
 * protocol, so the SDK reaches it through AWS_ENDPOINT_URL_TRANSCRIBE, and it does what the
 * pipeline relies on: validation, names, quotas, job states, encrypted output in S3 (moto) and
 * the completion event on EventBridge (moto). It does not recognise speech.
 */
export interface EmulatorOptions {
  region: string;
  account: string;
  /** Reads media and writes transcripts, as Transcribe does with the caller's permissions. */
  s3: S3Client;
  /** Resolves output keys; goes through the gateway so another account's ARN reaches it. */
  kms: KMSClient;
  events: EventBridgeClient;
  /** Hands each completion event, as EventBridge delivers it, to the local rules. */
  deliver?: (event: EventEnvelope) => Promise<void>;
  /** Service seconds per real second: 10 runs a 30 s job in 3 s and allows 10x the TPS. */
  timeScale?: number;
  quotas?: Partial<Quotas>;
  timing?: Partial<Timing>;
  faults?: EmulatorFaults;
}

export interface Quotas {
  maxConcurrentJobs: number;
  startTps: number;
  getTps: number;
  maxDeferredJobs: number;
}

export interface Timing {
  /** Service seconds a job stays QUEUED before it runs. */
  queuedSeconds: number;
  /** Service seconds of processing, plus a share of the audio's length. */
  processingSeconds: number;
  processingPerAudioSecond: number;
}

export type TamperMode = 'wrong-key' | 'no-kms';

export interface EmulatorFaults {
  /** The first job whose media URI contains `match` gets the wrong key or no KMS key. */
  tamper?: { match: string; mode: TamperMode; wrongKeyArn?: string };
  startError?: (jobName: string) => 'LimitExceededException' | 'InternalFailureException' | undefined;
  loseCompletionEvent?: (jobName: string) => boolean;
  /** Deletes the transcript right after writing it, before the completion event. */
  deleteTranscript?: (jobName: string, mediaUri: string) => boolean;
  duplicateCompletionEvent?: (jobName: string) => boolean;
}

export const DEFAULT_QUOTAS: Quotas = { maxConcurrentJobs: 250, startTps: 25, getTps: 30, maxDeferredJobs: 10_000 };
export const DEFAULT_TIMING: Timing = { queuedSeconds: 1, processingSeconds: 10, processingPerAudioSecond: 0.25 };

type JobStatus = 'QUEUED' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

interface Job {
  name: string;
  request: Record<string, any>;
  status: JobStatus;
  deferred: boolean;
  creationTime: number;
  startTime?: number;
  completionTime?: number;
  failureReason?: string;
  tags: Map<string, string>;
  transcriptUri?: string;
  identifiedLanguage?: string;
}


export interface EmulatorStats {
  started: number;
  rejected: Record<string, number>;
  completed: number;
  failed: number;
  eventsEmitted: number;
  eventsLost: number;
  peakConcurrency: number;
  startTimes: number[];
}

export interface TranscribeEmulator {
  endpoint: string;
  stats: EmulatorStats;
  jobs(): { name: string; status: JobStatus; mediaUri: string; failureReason?: string }[];
  /** Waits until no job is QUEUED or IN_PROGRESS. */
  idle(): Promise<void>;
  setFaults(faults: EmulatorFaults): void;
  close(): Promise<void>;
}

/** A token bucket refilled in service time: `rate` per service second, bursting to `rate`. */
function tokenBucket(rate: number, timeScale: number) {
  let tokens = rate;
  let last = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(rate, tokens + ((now - last) / 1000) * timeScale * rate);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

/** Where the transcript lands: `x/y.json` is the file, `x/y` and `x/y/` are folders. */
export function transcriptKeyFor(jobName: string, outputKey: string | undefined): string {
  if (!outputKey) return `${jobName}.json`;
  if (outputKey.endsWith('/')) return `${outputKey}${jobName}.json`;
  if (outputKey.endsWith('.json')) return outputKey;
  return `${outputKey}/${jobName}.json`;
}

const epoch = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

export async function startTranscribeEmulator(options: EmulatorOptions): Promise<TranscribeEmulator> {
  const timeScale = options.timeScale ?? 1;
  const quotas = { ...DEFAULT_QUOTAS, ...options.quotas };
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  let faults: EmulatorFaults = options.faults ?? {};
  let tamperedJob: string | undefined;
  const jobs = new Map<string, Job>();
  const deferredQueue: Job[] = [];
  const probedLocations = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const idleWaiters: (() => void)[] = [];
  const allowStart = tokenBucket(quotas.startTps, timeScale);
  const allowGet = tokenBucket(quotas.getTps, timeScale);
  const stats: EmulatorStats = { started: 0, rejected: {}, completed: 0, failed: 0, eventsEmitted: 0, eventsLost: 0, peakConcurrency: 0, startTimes: [] };
  let activeJobs = 0;
  let unfinishedJobs = 0;

  let closed = false;
  const later = (serviceSeconds: number, fn: () => void) => {
    if (closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, (serviceSeconds * 1000) / timeScale);
    timers.add(timer);
  };
  const notifyIdle = () => {
    if (unfinishedJobs > 0) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  };
  const reject = (code: string, operation = 'StartTranscriptionJob') => {
    const key = `${operation}:${code}`;
    stats.rejected[key] = (stats.rejected[key] ?? 0) + 1;
  };

  function startJob(input: Record<string, any>): Job {
    validateStartRequest(input);
    const name = input.TranscriptionJobName as string;
    const injected = faults.startError?.(name);
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
      tags: new Map(((input.Tags ?? []) as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value])),
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
    later(timing.queuedSeconds, () => {
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
    const outcome = await processJob(job).catch((error: unknown) => ({ failure: `Internal emulator error: ${String(error)}` }));
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

  async function processJob(job: Job): Promise<{ transcriptUri: string } | { failure: string }> {
    const input = job.request;
    const media = parseS3Uri(input.Media.MediaFileUri);
    if (!media) return { failure: 'The S3 URI that you provided is not valid. Check the URI and try your request again.' };
    let head: Buffer;
    let size: number;
    try {
      const object = await options.s3.send(new GetObjectCommand({ Bucket: media.bucket, Key: media.key, Range: `bytes=0-${PROBE_BYTES - 1}` }));
      head = Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      size = Number(/\/(\d+)$/.exec(object.ContentRange ?? '')?.[1] ?? object.ContentLength ?? head.length);
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'InvalidRange') return { failure: 'The media file is empty. Upload a media file that contains audio and try your request again.' };
      return { failure: "The S3 URI that you provided can't be accessed. Make sure that you have read permission and try your request again." };
    }
    if (size === 0) return { failure: 'The media file is empty. Upload a media file that contains audio and try your request again.' };
    const probe = probeMedia(head, size);
    const declared = input.MediaFormat as string | undefined;
    if (probe.format === 'unknown' || (declared !== undefined && !formatMatches(declared, probe.format))) {
      return { failure: "The media format that you specified doesn't match the detected media format. Check the media format and try your request again." };
    }
    if (probe.durationSeconds !== undefined && probe.durationSeconds < MEDIA_MIN_DURATION_SECONDS) {
      return { failure: 'The audio is too short. Your media file must be at least 500 milliseconds long. Use a longer media file and try again.' };
    }
    if (probe.durationSeconds !== undefined && probe.durationSeconds > MEDIA_MAX_DURATION_SECONDS) {
      return { failure: 'The audio is too long. Your media file must be shorter than 4 hours. Split the media file and try again.' };
    }
    await new Promise((resolve) => later(timing.processingSeconds + (probe.durationSeconds ?? 0) * timing.processingPerAudioSecond, () => resolve(undefined)));

    let keyArn: string | undefined;
    if (input.OutputEncryptionKMSKeyId !== undefined) {
      let metadata: KeyMetadata | undefined;
      try {
        metadata = (await options.kms.send(new DescribeKeyCommand({ KeyId: input.OutputEncryptionKMSKeyId }))).KeyMetadata;
      } catch {
        return { failure: `The KMS key you specified (${input.OutputEncryptionKMSKeyId}) doesn't exist or Amazon Transcribe doesn't have permission to use it. Check the key and its key policy and try your request again.` };
      }
      if (metadata?.KeyState !== 'Enabled') {
        return { failure: `The KMS key you specified (${metadata?.Arn ?? input.OutputEncryptionKMSKeyId}) is ${metadata?.KeyState ?? 'not usable'}. Enable the key or specify a different key and try your request again.` };
      }
      if ((metadata.KeySpec ?? 'SYMMETRIC_DEFAULT') !== 'SYMMETRIC_DEFAULT' || (metadata.KeyUsage ?? 'ENCRYPT_DECRYPT') !== 'ENCRYPT_DECRYPT') {
        return { failure: `The KMS key you specified (${metadata.Arn}) isn't a symmetric encryption key. Specify a symmetric encryption key and try your request again.` };
      }
      keyArn = metadata.Arn;
    }

    const bucket = input.OutputBucketName as string;
    const key = transcriptKeyFor(job.name, input.OutputKey);
    const folder = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
    // Without a key the service sends no encryption header, so the bucket's default applies (an
    // SSE-KMS default puts the transcript under the bucket's key). `no-kms` tampering forces SSE-S3.
    const encryption = (tamper?: TamperMode) => {
      if (tamper === 'no-kms') return { ServerSideEncryption: 'AES256' as const };
      if (!keyArn && tamper !== 'wrong-key') return {};
      const arn = tamper === 'wrong-key' ? (faults.tamper?.wrongKeyArn ?? `arn:aws:kms:${options.region}:${options.account}:key/00000000-0000-4000-8000-00000000bad0`) : keyArn;
      return {
        ServerSideEncryption: 'aws:kms' as const,
        SSEKMSKeyId: arn,
        ...(input.KMSEncryptionContext && !tamper && { SSEKMSEncryptionContext: Buffer.from(JSON.stringify(input.KMSEncryptionContext)).toString('base64') }),
      };
    };
    try {
      if (!probedLocations.has(`${bucket}/${folder}`)) {
        await options.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${folder}${WRITE_ACCESS_PROBE_NAME}`, Body: Buffer.alloc(0), ...encryption() }));
        probedLocations.add(`${bucket}/${folder}`);
      }
      const tamper =
        faults.tamper && (tamperedJob ?? job.name) === job.name && input.Media.MediaFileUri.includes(faults.tamper.match) ? faults.tamper.mode : undefined;
      if (tamper) tamperedJob = job.name;
      if (input.IdentifyLanguage) job.identifiedLanguage = (input.LanguageOptions?.[0] as string | undefined) ?? 'en-US';
      await options.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: transcriptDocument(job, options.account, probe), ContentType: 'application/json', ...encryption(tamper) }),
      );
      if (faults.deleteTranscript?.(job.name, input.Media.MediaFileUri)) await options.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      return { failure: `Amazon Transcribe can't write to s3://${bucket}/${key}: ${(error as Error).name}. Check the bucket policy and the key policy and try your request again.` };
    }
    return { transcriptUri: `https://s3.${options.region}.amazonaws.com/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}` };
  }

  async function emit(job: Job) {
    if (closed) return;
    if (faults.loseCompletionEvent?.(job.name)) {
      stats.eventsLost++;
      return;
    }
    const detail = {
      TranscriptionJobName: job.name,
      TranscriptionJobStatus: job.status,
      ...(job.failureReason && { FailureReason: job.failureReason }),
    };
    const copies = faults.duplicateCompletionEvent?.(job.name) ? 2 : 1;
    const entry = { Source: 'aws.transcribe', DetailType: 'Transcribe Job State Change', Detail: JSON.stringify(detail), Resources: [] };
    const result = await options.events.send(new PutEventsCommand({ Entries: [entry] }));
    const event = envelope(entry, result.Entries?.[0]?.EventId ?? crypto.randomUUID(), options.account, options.region);
    for (let i = 0; i < copies && !closed; i++) {
      await options.deliver?.(event);
      stats.eventsEmitted++;
    }
  }

  function describe(job: Job) {
    const input = job.request;
    return {
      TranscriptionJobName: job.name,
      TranscriptionJobStatus: job.status,
      ...(input.LanguageCode && { LanguageCode: input.LanguageCode }),
      ...(job.identifiedLanguage && { LanguageCode: job.identifiedLanguage, IdentifiedLanguageScore: 0 }),
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

  const operations: Record<string, (input: Record<string, any>) => unknown> = {
    StartTranscriptionJob: (input) => ({ TranscriptionJob: describe(startJob(input)) }),
    GetTranscriptionJob: (input) => {
      if (!allowGet()) {
        reject('LimitExceededException', 'GetTranscriptionJob');
        throw new ServiceError('LimitExceededException', 'You have sent too many requests. Wait before you resend your request.');
      }
      const job = findJob(input.TranscriptionJobName);
      return { TranscriptionJob: describe(job) };
    },
    ListTranscriptionJobs: (input) => {
      const contains = typeof input.JobNameContains === 'string' ? input.JobNameContains.toLowerCase() : undefined;
      const max = Math.min(100, Math.max(1, Number(input.MaxResults ?? 100)));
      const matching = [...jobs.values()]
        .filter((j) => (!input.Status || j.status === input.Status) && (!contains || j.name.toLowerCase().includes(contains)))
        .sort((a, b) => b.creationTime - a.creationTime || a.name.localeCompare(b.name));
      const start = input.NextToken ? Number(Buffer.from(String(input.NextToken), 'base64').toString()) : 0;
      const page = matching.slice(start, start + max);
      return {
        ...(input.Status && { Status: input.Status }),
        TranscriptionJobSummaries: page.map((j) => ({
          TranscriptionJobName: j.name,
          TranscriptionJobStatus: j.status,
          CreationTime: epoch(j.creationTime),
          ...(j.startTime && { StartTime: epoch(j.startTime) }),
          ...(j.completionTime && { CompletionTime: epoch(j.completionTime) }),
          ...(j.request.LanguageCode && { LanguageCode: j.request.LanguageCode }),
          ...(j.failureReason && { FailureReason: j.failureReason }),
          OutputLocationType: 'CUSTOMER_BUCKET',
        })),
        ...(start + max < matching.length && { NextToken: Buffer.from(String(start + max)).toString('base64') }),
      };
    },
    DeleteTranscriptionJob: (input) => {
      const job = findJob(input.TranscriptionJobName);
      jobs.delete(job.name);
      return {};
    },
    TagResource: (input) => {
      const job = jobFromArn(input.ResourceArn);
      for (const tag of (input.Tags ?? []) as { Key: string; Value: string }[]) job.tags.set(tag.Key, tag.Value);
      if (job.tags.size > TAG_MAX_COUNT) throw new ServiceError('BadRequestException', `A resource can have at most ${TAG_MAX_COUNT} tags.`);
      return {};
    },
    UntagResource: (input) => {
      const job = jobFromArn(input.ResourceArn);
      for (const key of (input.TagKeys ?? []) as string[]) job.tags.delete(key);
      return {};
    },
    ListTagsForResource: (input) => {
      const job = jobFromArn(input.ResourceArn);
      return { ResourceArn: input.ResourceArn, Tags: [...job.tags].map(([Key, Value]) => ({ Key, Value })) };
    },
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('Transcribe.') ? operations[target.slice('Transcribe.'.length)] : undefined;
      const reply = (status: number, body: unknown, errorType?: string) => {
        const text = JSON.stringify(body);
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'content-length': Buffer.byteLength(text),
          'x-amzn-requestid': crypto.randomUUID(),
          ...(errorType && { 'x-amzn-errortype': errorType }),
        });
        res.end(text);
      };
      try {
        if (!operation) throw new ServiceError('UnknownOperationException', `The local Transcribe emulator does not implement ${target || 'this request'}.`);
        reply(200, operation(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')));
      } catch (error) {
        const serviceError = error instanceof ServiceError ? error : new ServiceError('SerializationException', String(error));
        reply(serviceError.status, { __type: serviceError.code, Message: serviceError.message }, serviceError.code);
      }
    });
  });
  const endpoint = await listenOnLoopback(server);

  return {
    endpoint,
    stats,
    jobs: () => [...jobs.values()].map((j) => ({ name: j.name, status: j.status, mediaUri: j.request.Media.MediaFileUri, ...(j.failureReason && { failureReason: j.failureReason }) })),
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        notifyIdle();
      }),
    setFaults: (next) => {
      faults = next;
      tamperedJob = undefined;
    },
    close: async () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function transcriptDocument(job: Job, account: string, probe: ReturnType<typeof probeMedia>): string {
  const duration = probe.durationSeconds === undefined ? 'a duration the emulator cannot read from this format' : `${probe.durationSeconds.toFixed(2)} s`;
  const text =
    `[transcribe-kms-pipeline local emulator] No speech recognition ran. This transcript stands in for job ${job.name}: ` +
    `${probe.format} media of ${duration}.`;
  return JSON.stringify({
    jobName: job.name,
    accountId: account,
    status: 'COMPLETED',
    results: {
      ...(job.identifiedLanguage && { language_code: job.identifiedLanguage }),
      transcripts: [{ transcript: text }],
      items: [],
    },
  });
}
