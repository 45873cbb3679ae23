/**
 * Which events reach which function: the EventBridge patterns for Transcribe's completion events
 * and for this stack's outcome events. The local mode matches with the same patterns.
 */
import { CALL_ANALYTICS_STATE_CHANGE, COMPLETION_DETAIL_FIELDS, JOB_STATE_CHANGE, TRANSCRIBE_SOURCE } from '../verify/completionEvent';
import { OUTCOME_DETAIL_TYPE, UNPAGED_CAUSES } from '../verify/outcomeEvent';

/** The EventBridge pattern that sends this stack's finished transcription jobs, and only those, to the verifier. */
export function completionEventPattern(jobNamePrefix: string) {
  return completionPatternFor(JOB_STATE_CHANGE, COMPLETION_DETAIL_FIELDS.transcription, jobNamePrefix);
}

/** The same for Call Analytics jobs, whose event names the job and its status in other fields. */
export function callAnalyticsCompletionPattern(jobNamePrefix: string) {
  return completionPatternFor(CALL_ANALYTICS_STATE_CHANGE, COMPLETION_DETAIL_FIELDS.callAnalytics, jobNamePrefix);
}

/** Every completion pattern, one EventBridge rule each: medical jobs have no event (the sweeper finds them). */
export function completionEventPatterns(jobNamePrefix: string) {
  return { transcription: completionEventPattern(jobNamePrefix), callAnalytics: callAnalyticsCompletionPattern(jobNamePrefix) };
}

function completionPatternFor(detailType: string, fields: { name: string; status: string }, jobNamePrefix: string) {
  return {
    source: [TRANSCRIBE_SOURCE],
    'detail-type': [detailType],
    detail: {
      [fields.name]: [{ prefix: jobNamePrefix }],
      [fields.status]: ['COMPLETED', 'FAILED'],
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
