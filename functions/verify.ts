import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadVerifySettings } from '../shared/config/settings';
import { parseCompletionEvent } from '../shared/verify/completionEvent';
import { describeError } from '../shared/aws/errors';
import { logger, metrics } from '../shared/aws/observability';
import { NO_RECORD, verdictLogLevel, verdictMetric } from '../shared/verify/outcomeEvent';
import { createVerifyAdapters } from '../shared/verify/verifyAdapters';
import { assertNotMismatch, verifyJob } from '../shared/verify/verifyJob';

const settings = loadVerifySettings();
const deps = createVerifyAdapters(settings);

export const handler = middy<unknown, void, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async (event) => {
    try {
      const { jobName, jobType, deletion } = parseCompletionEvent(event);
      logger.appendKeys({ jobName, jobType, ...(deletion && { deletedBy: deletion.by }) });
      const result = await verifyJob(deps, jobName, 'completion-event', jobType, deletion);
      if (result.status === 'already-reported') {
        logger.info(deletion ? 'job deleted after its verdict' : 'verdict already reported', { outcome: result.outcome });
        metrics.addMetric(deletion ? 'JobsDeletedAfterVerdict' : 'RepeatedCompletionEvents', MetricUnit.Count, 1);
      } else {
        const { outcome, cause, problems, failureReason, mediaUri, transcriptUri, recorded } = result.detail;
        logger[verdictLogLevel(result.detail)]('verdict published', { outcome, cause, problems, failureReason, mediaUri, transcriptUri, recorded: recorded ?? NO_RECORD });
        metrics.addMetric(verdictMetric(result.detail), MetricUnit.Count, 1);
      }
      assertNotMismatch(result);
    } catch (error) {
      logger.error('verification failed', { error: describeError(error) });
      metrics.addMetric('VerificationErrors', MetricUnit.Count, 1);
      throw error;
    }
  });
