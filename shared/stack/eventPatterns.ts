/**
 * Which events reach which function: the EventBridge patterns for Transcribe's completion events
 * and for this stack's outcome events. The local mode matches with the same patterns.
 */
import { JOB_STATE_CHANGE, TRANSCRIBE_SOURCE } from '../verify/completionEvent';
import { OUTCOME_DETAIL_TYPE, UNPAGED_CAUSES } from '../verify/outcomeEvent';

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

/**
 * The outcome events that must reach a person: every failed job, and every mismatch except a
 * rule changed by a config deploy (shared/verify/outcomeEvent.ts, pagesOperator). The outcome
 * bus sends these to the alarm topic.
 */
export function pagingOutcomePattern(outcomeSource: string) {
  return {
    source: [outcomeSource],
    'detail-type': [OUTCOME_DETAIL_TYPE.mismatch, OUTCOME_DETAIL_TYPE.failed],
    detail: {
      $or: [{ outcome: ['failed'] }, { outcome: ['mismatch'], cause: [{ 'anything-but': [...UNPAGED_CAUSES] }] }],
    },
  };
}
