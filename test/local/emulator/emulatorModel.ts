/**
 * The Transcribe emulator's shared vocabulary: its options, quotas, timing, injected faults, the
 * job record and its statistics. The emulator is four modules: this one, the job scheduler
 * (quotas and job states), the output writer (media, keys and the encrypted transcript) and the
 * wire server (the service's JSON protocol); transcribeEmulator.ts puts them together.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type {
  StartCallAnalyticsJobCommandInput,
  StartMedicalTranscriptionJobCommandInput,
  StartTranscriptionJobCommandInput,
} from '@aws-sdk/client-transcribe';
import { quotaShare, type JobType } from '../../../shared/aws/jobTypes';
import type { EventEnvelope } from '../runtime/eventBus';
import type { TrailedCall } from './gateway';

export type { JobType };

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
  /** Hands each Delete*Job call that succeeded to the local rules, as a CloudTrail trail would. */
  onTrailedCall?: (call: TrailedCall) => void;
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

/** Which output object of a job a tamper fault rewrites. */
export const OUTPUT_KINDS = ['transcript', 'redacted-transcript', 'redacted-audio'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

export interface EmulatorFaults {
  /**
   * The first job whose media URI contains `match` gets the wrong key or no KMS key, on its
   * transcript or (`output`) on another of its objects: a Call Analytics job's redacted
   * transcript or redacted audio.
   */
  tamper?: { match: string; mode: TamperMode; wrongKeyArn?: string; output?: OutputKind };
  startError?: (jobName: string) => 'LimitExceededException' | 'InternalFailureException' | undefined;
  loseCompletionEvent?: (jobName: string) => boolean;
  /** Deletes the transcript right after writing it, before the completion event. */
  deleteTranscript?: (jobName: string, mediaUri: string) => boolean;
  duplicateCompletionEvent?: (jobName: string) => boolean;
  /** The job is deleted just before a Get*Job reads it, as if between a sweeper's List and its Get. */
  vanishOnGet?: (jobName: string) => boolean;
}

export const DEFAULT_QUOTAS: Quotas = { maxConcurrentJobs: 250, startTps: 25, getTps: 30, maxDeferredJobs: 10_000 };

/**
 * The quotas of one job type. The given quotas are transcription's; another type's are scaled by
 * the share of its default quotas (Call Analytics: 10 of 25 Start TPS, 20 of 30 Get TPS, 100 of
 * 250 jobs), as the start function scales its pacing, so an emulated quota keeps the service's
 * proportions.
 */
export function quotasFor(quotas: Quotas, jobType: JobType): Quotas {
  return {
    ...quotas,
    startTps: quotas.startTps * quotaShare(jobType, 'startQuotaTps'),
    getTps: quotas.getTps * quotaShare(jobType, 'getQuotaTps'),
    maxConcurrentJobs: Math.max(1, Math.round(quotas.maxConcurrentJobs * quotaShare(jobType, 'concurrentJobs'))),
  };
}
export const DEFAULT_TIMING: Timing = { queuedSeconds: 1, processingSeconds: 10, processingPerAudioSecond: 0.25 };

export type JobStatus = 'QUEUED' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

/** A validated request of one job type, as the SDK shapes it. */
export type StartRequest =
  | { jobType: 'transcription'; input: StartTranscriptionJobCommandInput }
  | { jobType: 'callAnalytics'; input: StartCallAnalyticsJobCommandInput }
  | { jobType: 'medical'; input: StartMedicalTranscriptionJobCommandInput };

/** What running a job needs, read once from its request whatever its type. */
export interface JobSpec {
  mediaUri: string;
  mediaFormat?: string;
  outputBucket: string;
  /** An OutputKey (transcription, medical) or the path of a Call Analytics OutputLocation. */
  outputKey?: string;
  kmsKeyId?: string;
  encryptionContext?: Record<string, string>;
  identifyLanguage: boolean;
  languageOptions?: string[];
  /** Call Analytics' PII redaction of the transcript, and of the audio when asked. */
  redaction?: { output: 'redacted' | 'redacted_and_unredacted'; audio: boolean };
  /** Call Analytics takes two-channel audio only. */
  needsTwoChannels: boolean;
  deferrable: boolean;
}

/** Where a completed job's objects are, as https URIs (the form Get*Job reports). */
export interface JobOutputs {
  transcriptUri?: string;
  redactedTranscriptUri?: string;
  redactedMediaUri?: string;
}

export interface Job {
  jobType: JobType;
  name: string;
  request: StartRequest;
  spec: JobSpec;
  status: JobStatus;
  deferred: boolean;
  creationTime: number;
  startTime?: number;
  completionTime?: number;
  failureReason?: string;
  tags: Map<string, string>;
  outputs?: JobOutputs;
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
  /** What each job was asked; `outputKmsKeyId` is the key the start function sent. */
  jobs(): { jobType: JobType; name: string; status: JobStatus; mediaUri: string; outputKmsKeyId?: string; failureReason?: string }[];
  /** The jobs deleted through Delete*Job, which `jobs()` no longer lists (the accounting still maps them to their media). */
  deletedJobs(): { jobType: JobType; name: string; mediaUri: string }[];
  /** Waits until no job is QUEUED or IN_PROGRESS. */
  idle(): Promise<void>;
  setFaults(faults: EmulatorFaults): void;
  /** The job whose output the tamper fault rewrote since the faults were set, if any. */
  tamperedJob(): string | undefined;
  close(): Promise<void>;
}

/** Runs `fn` after `serviceSeconds` of service time, unless the emulator has closed. */
export type Later = (serviceSeconds: number, fn: () => void) => void;

/** A token bucket refilled in service time: `rate` per service second, bursting to `rate`. */
export function tokenBucket(rate: number, timeScale: number) {
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

/** Where the transcript lands: `x/y.json` is the file, `x/y` and `x/y/` are folders (Call Analytics' OutputLocation path too). */
export function transcriptKeyFor(jobName: string, outputKey: string | undefined): string {
  if (!outputKey) return `${jobName}.json`;
  if (outputKey.endsWith('/')) return `${outputKey}${jobName}.json`;
  if (outputKey.endsWith('.json')) return outputKey;
  return `${outputKey}/${jobName}.json`;
}
