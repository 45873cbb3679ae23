/**
 * The Transcribe emulator's shared vocabulary: its options, quotas, timing, injected faults, the
 * job record and its statistics. The emulator is four modules: this one, the job scheduler
 * (quotas and job states), the output writer (media, keys and the encrypted transcript) and the
 * wire server (the service's JSON protocol); transcribeEmulator.ts puts them together.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { StartTranscriptionJobCommandInput } from '@aws-sdk/client-transcribe';
import type { EventEnvelope } from '../runtime/eventBus';

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

export type JobStatus = 'QUEUED' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

/** A validated request: the members the emulator reads are present. */
export type StartRequest = StartTranscriptionJobCommandInput & { TranscriptionJobName: string; Media: { MediaFileUri: string } };

export interface Job {
  name: string;
  request: StartRequest;
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
  /** What each job was asked; `outputKmsKeyId` is the key the start function sent. */
  jobs(): { name: string; status: JobStatus; mediaUri: string; outputKmsKeyId?: string; failureReason?: string }[];
  /** Waits until no job is QUEUED or IN_PROGRESS. */
  idle(): Promise<void>;
  setFaults(faults: EmulatorFaults): void;
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

/** Where the transcript lands: `x/y.json` is the file, `x/y` and `x/y/` are folders. */
export function transcriptKeyFor(jobName: string, outputKey: string | undefined): string {
  if (!outputKey) return `${jobName}.json`;
  if (outputKey.endsWith('/')) return `${outputKey}${jobName}.json`;
  if (outputKey.endsWith('.json')) return outputKey;
  return `${outputKey}/${jobName}.json`;
}
