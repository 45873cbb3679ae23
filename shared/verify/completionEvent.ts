import * as v from 'valibot';
import { EventShapeError } from '../aws/errors';
import { JOB_TYPE_FACTS } from '../aws/jobTypes';
import { JOB_NAME_MAX_LENGTH, JOB_NAME_PATTERN } from '../aws/transcribeModel';
import { joinIssues, openObject } from '../config/schemaIssues';

export const TRANSCRIBE_SOURCE = 'aws.transcribe';
export const JOB_STATE_CHANGE = JOB_TYPE_FACTS.transcription.completionDetailType as string;
export const CALL_ANALYTICS_STATE_CHANGE = JOB_TYPE_FACTS.callAnalytics.completionDetailType as string;

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
]);

export interface Completion {
  jobType: 'transcription' | 'callAnalytics';
  jobName: string;
  status: 'COMPLETED' | 'FAILED';
}

/**
 * Reads the job type and name out of a Transcribe completion event: a transcription job's or a
 * Call Analytics job's (medical jobs have none). The event carries no output location and no
 * key, so the name is all the verifier takes from it.
 */
export function parseCompletionEvent(event: unknown): Completion {
  const parsed = v.safeParse(completionSchema, event);
  if (!parsed.success) {
    const fields = joinIssues(parsed.issues, '(event)');
    throw new EventShapeError(
      `not a "${JOB_STATE_CHANGE}" or "${CALL_ANALYTICS_STATE_CHANGE}" event from ${TRANSCRIBE_SOURCE} with status COMPLETED or FAILED: ${fields}; ` +
        'check the EventBridge rules that target this function',
    );
  }
  const { detail } = parsed.output;
  return 'TranscriptionJobName' in detail
    ? { jobType: 'transcription', jobName: detail.TranscriptionJobName, status: detail.TranscriptionJobStatus }
    : { jobType: 'callAnalytics', jobName: detail.JobName, status: detail.JobStatus };
}
