import * as z from 'zod/mini';
import { EventShapeError } from '../aws/errors';
import { joinIssues } from '../config/schemaIssues';

export const TRANSCRIBE_SOURCE = 'aws.transcribe';
export const JOB_STATE_CHANGE = 'Transcribe Job State Change';

/**
 * The EventBridge envelope as Powertools' EventBridgeSchema defines it, narrowed to Transcribe's
 * completion event. It is written with zod/mini because the Powertools schema pulls the full zod
 * build (about 440 KB) into a bundle that must stay under 150 KB zipped.
 */
const completionSchema = z.object({
  version: z.string(),
  id: z.string(),
  source: z.literal(TRANSCRIBE_SOURCE),
  'detail-type': z.literal(JOB_STATE_CHANGE),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.object({
    TranscriptionJobName: z.string().check(z.minLength(1)),
    TranscriptionJobStatus: z.enum(['COMPLETED', 'FAILED']),
    FailureReason: z.optional(z.string()),
  }),
});

/**
 * Reads the job name out of a Transcribe completion event. The event carries no output
 * location and no key, so the name is all the verifier takes from it.
 */
export function parseCompletionEvent(event: unknown): { jobName: string; status: 'COMPLETED' | 'FAILED' } {
  // jitless: one event per invocation; a compiled fast path would cost more than it saves.
  const parsed = completionSchema.safeParse(event, { reportInput: true, jitless: true });
  if (!parsed.success) {
    const fields = joinIssues(parsed.error.issues, '(event)');
    throw new EventShapeError(
      `not a "${JOB_STATE_CHANGE}" event from ${TRANSCRIBE_SOURCE} with status COMPLETED or FAILED: ${fields}; ` +
        'check the EventBridge rule that targets this function',
    );
  }
  return { jobName: parsed.data.detail.TranscriptionJobName, status: parsed.data.detail.TranscriptionJobStatus };
}
