/**
 * A job of any of the three types, as both flows read it: one shape made from what
 * GetTranscriptionJob, GetCallAnalyticsJob or GetMedicalTranscriptionJob return, so the
 * verifier does not branch on the type. None of the three returns the output key or the
 * encryption asked.
 */
import {
  GetCallAnalyticsJobCommand,
  GetMedicalTranscriptionJobCommand,
  GetTranscriptionJobCommand,
  type CallAnalyticsJob,
  type MedicalTranscriptionJob,
  type Tag,
  type TranscribeClient,
  type TranscriptionJob,
} from '@aws-sdk/client-transcribe';
import type { JobType } from './jobTypes';

export interface TranscribeJob {
  jobType: JobType;
  name: string;
  status: string | undefined;
  /** The media the job transcribed: how the verifier finds the rule. */
  mediaUri: string | undefined;
  /** Every object the job reports writing, the transcript first; empty until it completes. */
  outputUris: string[];
  failureReason?: string;
  tags: Tag[] | undefined;
  creationTime?: Date;
}

/** What every type's job reports alike: its failure reason, tags and creation time. */
function record(job: { FailureReason?: string | undefined; Tags?: Tag[] | undefined; CreationTime?: Date | undefined }) {
  return {
    ...(job.FailureReason !== undefined && { failureReason: job.FailureReason }),
    tags: job.Tags,
    ...(job.CreationTime && { creationTime: job.CreationTime }),
  };
}

/** The URIs given, once each, in order. */
const present = (uris: (string | undefined)[]) => [...new Set(uris.filter((uri): uri is string => typeof uri === 'string' && uri !== ''))];

/** The transcript, then the redacted transcript and the subtitle files where the job made any. */
export function fromTranscriptionJob(job: TranscriptionJob): TranscribeJob {
  return {
    jobType: 'transcription',
    name: job.TranscriptionJobName ?? '',
    status: job.TranscriptionJobStatus,
    mediaUri: job.Media?.MediaFileUri,
    outputUris: present([job.Transcript?.TranscriptFileUri, job.Transcript?.RedactedTranscriptFileUri, ...(job.Subtitles?.SubtitleFileUris ?? [])]),
    ...record(job),
  };
}

/**
 * The analytics transcript, the redacted transcript, and the redacted audio. The response's
 * Media.RedactedMediaFileUri is where the service wrote the redacted audio; if it only echoes
 * the input media (AWS's documentation describes the request field as the media to redact), it
 * is not an output and is not judged as one.
 */
export function fromCallAnalyticsJob(job: CallAnalyticsJob): TranscribeJob {
  const media = job.Media?.MediaFileUri;
  const redactedAudio = job.Media?.RedactedMediaFileUri;
  return {
    jobType: 'callAnalytics',
    name: job.CallAnalyticsJobName ?? '',
    status: job.CallAnalyticsJobStatus,
    mediaUri: media,
    outputUris: present([
      job.Transcript?.TranscriptFileUri,
      job.Transcript?.RedactedTranscriptFileUri,
      redactedAudio !== media ? redactedAudio : undefined,
    ]),
    ...record(job),
  };
}

export function fromMedicalTranscriptionJob(job: MedicalTranscriptionJob): TranscribeJob {
  return {
    jobType: 'medical',
    name: job.MedicalTranscriptionJobName ?? '',
    status: job.TranscriptionJobStatus,
    mediaUri: job.Media?.MediaFileUri,
    outputUris: present([job.Transcript?.TranscriptFileUri]),
    ...record(job),
  };
}

/** What Get*Job of each type returns, before it is read into the one shape. */
type RawJob = TranscriptionJob | CallAnalyticsJob | MedicalTranscriptionJob;

/**
 * Get*Job of the job's type, as the API returns it (every type names its media
 * `Media.MediaFileUri`, which is all the start function reads). Errors (an unknown name is
 * BadRequestException) are the caller's to read.
 */
export async function getRawJob(transcribe: TranscribeClient, jobName: string, jobType: JobType): Promise<RawJob | undefined> {
  switch (jobType) {
    case 'callAnalytics':
      return (await transcribe.send(new GetCallAnalyticsJobCommand({ CallAnalyticsJobName: jobName }))).CallAnalyticsJob;
    case 'medical':
      return (await transcribe.send(new GetMedicalTranscriptionJobCommand({ MedicalTranscriptionJobName: jobName }))).MedicalTranscriptionJob;
    default:
      return (await transcribe.send(new GetTranscriptionJobCommand({ TranscriptionJobName: jobName }))).TranscriptionJob;
  }
}

const READ: Record<JobType, (job: never) => TranscribeJob> = {
  transcription: fromTranscriptionJob,
  callAnalytics: fromCallAnalyticsJob,
  medical: fromMedicalTranscriptionJob,
};

/** Get*Job of the job's type, in the one shape. */
export async function getTranscribeJob(transcribe: TranscribeClient, jobName: string, jobType: JobType): Promise<TranscribeJob | undefined> {
  const job = await getRawJob(transcribe, jobName, jobType);
  return job && READ[jobType](job as never);
}
