import * as z from 'zod/mini';
import { EventShapeError } from '../aws/errors';
import { JOB_TYPE_FACTS } from '../aws/jobTypes';
import { joinIssues } from '../config/schemaIssues';

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
 * completion events. It is written with zod/mini because the Powertools schema pulls the full zod
 * build (about 440 KB) into a bundle that must stay under 150 KB zipped.
 */
const envelope = {
  version: z.string(),
  id: z.string(),
  source: z.literal(TRANSCRIBE_SOURCE),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
};
const status = z.enum(['COMPLETED', 'FAILED']);
const completionSchema = z.discriminatedUnion('detail-type', [
  z.object({
    ...envelope,
    'detail-type': z.literal(JOB_STATE_CHANGE),
    detail: z.object({ TranscriptionJobName: z.string().check(z.minLength(1)), TranscriptionJobStatus: status, FailureReason: z.optional(z.string()) }),
  }),
  z.object({
    ...envelope,
    'detail-type': z.literal(CALL_ANALYTICS_STATE_CHANGE),
    detail: z.object({ JobName: z.string().check(z.minLength(1)), JobStatus: status, FailureReason: z.optional(z.string()) }),
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
  // jitless: one event per invocation; a compiled fast path would cost more than it saves.
  const parsed = completionSchema.safeParse(event, { reportInput: true, jitless: true });
  if (!parsed.success) {
    const fields = joinIssues(parsed.error.issues, '(event)');
    throw new EventShapeError(
      `not a "${JOB_STATE_CHANGE}" or "${CALL_ANALYTICS_STATE_CHANGE}" event from ${TRANSCRIBE_SOURCE} with status COMPLETED or FAILED: ${fields}; ` +
        'check the EventBridge rules that target this function',
    );
  }
  const { detail } = parsed.data;
  return 'TranscriptionJobName' in detail
    ? { jobType: 'transcription', jobName: detail.TranscriptionJobName, status: detail.TranscriptionJobStatus }
    : { jobType: 'callAnalytics', jobName: detail.JobName, status: detail.JobStatus };
}
