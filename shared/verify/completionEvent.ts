import * as v from 'valibot';
import { EventShapeError } from '../aws/errors';
import { JOB_TYPE_FACTS, type JobType } from '../aws/jobTypes';
import { JOB_NAME_MAX_LENGTH, JOB_NAME_PATTERN } from '../aws/transcribeModel';
import { joinIssues, openObject } from '../config/schemaIssues';

export const TRANSCRIBE_SOURCE = 'aws.transcribe';
export const JOB_STATE_CHANGE = JOB_TYPE_FACTS.transcription.completionDetailType as string;
export const CALL_ANALYTICS_STATE_CHANGE = JOB_TYPE_FACTS.callAnalytics.completionDetailType as string;

/** How EventBridge delivers a management API call that a CloudTrail trail recorded. */
export const CLOUDTRAIL_API_CALL = 'AWS API Call via CloudTrail';

/**
 * The call that deletes a job of each type, and the field that names the job in CloudTrail's
 * record of it (the API's own field, lower camel case, as CloudTrail writes request parameters).
 */
export const JOB_DELETIONS = {
  transcription: { eventName: 'DeleteTranscriptionJob', nameField: 'transcriptionJobName' },
  callAnalytics: { eventName: 'DeleteCallAnalyticsJob', nameField: 'callAnalyticsJobName' },
  medical: { eventName: 'DeleteMedicalTranscriptionJob', nameField: 'medicalTranscriptionJobName' },
} as const satisfies Record<JobType, { eventName: string; nameField: string }>;

/** The detail fields of each job type's event: a transcription job's and a Call Analytics job's. */
export const COMPLETION_DETAIL_FIELDS = {
  transcription: { name: 'TranscriptionJobName', status: 'TranscriptionJobStatus' },
  callAnalytics: { name: 'JobName', status: 'JobStatus' },
} as const;

/**
 * The EventBridge envelope as Powertools' EventBridgeSchema defines it, narrowed to Transcribe's
 * completion events. It is written here because the Powertools schema pulls the full zod build
 * (about 440 KB) into a bundle that must stay under 150 KB zipped.
 */
const envelope = {
  version: v.string(),
  id: v.string(),
  source: v.literal(TRANSCRIBE_SOURCE),
  account: v.string(),
  time: v.pipe(v.string(), v.isoTimestamp('must be an ISO 8601 date and time')),
  region: v.string(),
  resources: v.array(v.string()),
};
const status = v.picklist(['COMPLETED', 'FAILED']);
/** A name Transcribe can have given: the name becomes the verdict ledger's key, so nothing else passes the edge. */
const jobName = v.pipe(
  v.string(),
  v.regex(JOB_NAME_PATTERN, 'must be a Transcribe job name (letters, digits, ".", "_" and "-")'),
  v.maxLength(JOB_NAME_MAX_LENGTH, `must be a Transcribe job name (at most ${JOB_NAME_MAX_LENGTH} characters)`),
);
const completionSchema = v.variant('detail-type', [
  openObject({
    ...envelope,
    'detail-type': v.literal(JOB_STATE_CHANGE),
    detail: openObject({ TranscriptionJobName: jobName, TranscriptionJobStatus: status, FailureReason: v.optional(v.string()) }),
  }),
  openObject({
    ...envelope,
    'detail-type': v.literal(CALL_ANALYTICS_STATE_CHANGE),
    detail: openObject({ JobName: jobName, JobStatus: status, FailureReason: v.optional(v.string()) }),
  }),
  openObject({
    ...envelope,
    'detail-type': v.literal(CLOUDTRAIL_API_CALL),
    detail: v.variant(
      'eventName',
      Object.values(JOB_DELETIONS).map(({ eventName, nameField }) =>
        openObject({
          eventName: v.literal(eventName),
          eventTime: v.optional(v.string()),
          userIdentity: v.optional(openObject({ arn: v.optional(v.string()), type: v.optional(v.string()) })),
          requestParameters: openObject({ [nameField]: jobName }),
        }),
      ),
    ),
  }),
]);

/** Who deleted a job and when, as CloudTrail recorded the call. */
export interface JobDeletion {
  by: string;
  at: string;
}

export interface Completion {
  jobType: JobType;
  jobName: string;
  /** Set for a job's deletion: the job may never have been verified, and now it cannot be read. */
  deletion?: JobDeletion;
}

/**
 * Reads the job type and name out of the events that reach the verifier: Transcribe's
 * completion event for a transcription or a Call Analytics job (medical jobs have none), and
 * CloudTrail's record of a call that deleted one of this stack's jobs of any type, which must
 * not leave a job that was never verified without a trace. Neither carries an output location
 * or a key, so the name is all the verifier takes from them.
 */
export function parseCompletionEvent(event: unknown): Completion {
  const parsed = v.safeParse(completionSchema, event);
  if (!parsed.success) {
    const fields = joinIssues(parsed.issues, '(event)');
    throw new EventShapeError(
      `not a "${JOB_STATE_CHANGE}" or "${CALL_ANALYTICS_STATE_CHANGE}" event from ${TRANSCRIBE_SOURCE} with status COMPLETED or FAILED, ` +
        `nor CloudTrail's record of a Delete*Job call: ${fields}; check the EventBridge rules that target this function`,
    );
  }
  const { detail } = parsed.output;
  if ('TranscriptionJobName' in detail) return { jobType: 'transcription', jobName: detail.TranscriptionJobName };
  if ('JobName' in detail) return { jobType: 'callAnalytics', jobName: detail.JobName };
  const jobType = (Object.keys(JOB_DELETIONS) as JobType[]).find((type) => JOB_DELETIONS[type].eventName === detail.eventName) as JobType;
  const { userIdentity } = detail;
  return {
    jobType,
    jobName: (detail.requestParameters as Record<string, string>)[JOB_DELETIONS[jobType].nameField] as string,
    deletion: { by: userIdentity?.arn ?? userIdentity?.type ?? 'an unrecorded principal', at: detail.eventTime ?? parsed.output.time },
  };
}
