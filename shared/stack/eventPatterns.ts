/**
 * Which events reach which function: the EventBridge patterns for Transcribe's completion events
 * and for this stack's outcome events. The local mode matches with the same patterns.
 */
import { JOB_STATE_CHANGE, TRANSCRIBE_SOURCE } from '../verify/completionEvent';

/** The EventBridge pattern that sends this stack's finished jobs, and only those, to the verifier. */
export function completionEventPattern(jobNamePrefix: string) {
  return {
    source: [TRANSCRIBE_SOURCE],
    'detail-type': [JOB_STATE_CHANGE],
    detail: {
      TranscriptionJobName: [{ prefix: jobNamePrefix }],
      TranscriptionJobStatus: ['COMPLETED', 'FAILED'],
    },
  };
}

/** The outcome events this stack publishes, for consumers' rules and the local mode. */
export function outcomeEventPattern(outcomeSource: string) {
  return { source: [outcomeSource] };
}
