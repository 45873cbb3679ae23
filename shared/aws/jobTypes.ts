/**
 * The three Transcribe batch APIs a rule can choose, and the facts about each that the pipeline
 * acts on: the operations, the IAM resource type, the completion event (medical has none), and
 * the default quotas. Quotas are the "Guidelines and quotas" page of the Transcribe developer
 * guide; the medical figures are not listed there separately, so they are assumed to be the
 * batch transcription ones (check the account's Service Quotas console).
 */
export const JOB_TYPES = ['transcription', 'callAnalytics', 'medical'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export interface JobTypeFacts {
  /** How messages and the README name the API. */
  label: string;
  startOperation: string;
  getOperation: string;
  listOperation: string;
  /** The job's ARN resource part before `/<job name>` (Service Authorization Reference). */
  arnResourceType: string;
  /** EventBridge's detail-type for a finished job; undefined when the service emits none. */
  completionDetailType?: string;
  /** Default quotas: Start and Get calls per second, and jobs running at once. */
  startQuotaTps: number;
  getQuotaTps: number;
  concurrentJobs: number;
  /** Whether jobs over the concurrency quota can wait in Transcribe's own queue. */
  queues: 'with-deferred-execution' | 'always' | 'never';
}

export const JOB_TYPE_FACTS: Record<JobType, JobTypeFacts> = {
  transcription: {
    label: 'transcription',
    startOperation: 'StartTranscriptionJob',
    getOperation: 'GetTranscriptionJob',
    listOperation: 'ListTranscriptionJobs',
    arnResourceType: 'transcription-job',
    completionDetailType: 'Transcribe Job State Change',
    startQuotaTps: 25,
    getQuotaTps: 30,
    concurrentJobs: 250,
    queues: 'with-deferred-execution',
  },
  callAnalytics: {
    label: 'Call Analytics',
    startOperation: 'StartCallAnalyticsJob',
    getOperation: 'GetCallAnalyticsJob',
    listOperation: 'ListCallAnalyticsJobs',
    arnResourceType: 'analytics',
    completionDetailType: 'Call Analytics Job State Change',
    startQuotaTps: 10,
    getQuotaTps: 20,
    concurrentJobs: 100,
    queues: 'always',
  },
  medical: {
    label: 'medical transcription',
    startOperation: 'StartMedicalTranscriptionJob',
    getOperation: 'GetMedicalTranscriptionJob',
    listOperation: 'ListMedicalTranscriptionJobs',
    arnResourceType: 'medical-transcription-job',
    startQuotaTps: 25,
    getQuotaTps: 30,
    concurrentJobs: 250,
    queues: 'never',
  },
};

/**
 * A job type's default quota as a share of transcription's: how a transcription pace or quota
 * (configured, or emulated in the local mode) scales to another API (Call Analytics starts: 10/25).
 */
export function quotaShare(jobType: JobType, quota: 'startQuotaTps' | 'getQuotaTps' | 'concurrentJobs'): number {
  return JOB_TYPE_FACTS[jobType][quota] / JOB_TYPE_FACTS.transcription[quota];
}
