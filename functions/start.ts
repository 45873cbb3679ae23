import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describeError } from '../shared/aws/errors';
import { logger, metrics } from '../shared/aws/observability';
import { loadStartSettings } from '../shared/config/settings';
import { createStartAdapters } from '../shared/start/startAdapters';
import { START_OUTCOME_LOG, START_OUTCOME_METRIC } from '../shared/start/startJob';
import { handleStartEvent, processStartRecord } from '../shared/start/startRecord';

const settings = loadStartSettings();
const processor = new BatchProcessor(EventType.SQS);
const count = (name: string) => metrics.addMetric(name, MetricUnit.Count, 1);

const deps = createStartAdapters(settings, {
  onOutcome: (outcome, object) => {
    logger.info(START_OUTCOME_LOG[outcome.outcome], { ...outcome, bucket: object.bucket, key: object.key });
    count(START_OUTCOME_METRIC[outcome.outcome]);
  },
  onTestEvent: () => {
    logger.info('s3 test event ignored');
    count('TestEventsIgnored');
  },
  onDeadLetter: (letter) => {
    logger.error('record sent to dead-letter queue', { reason: letter.reason, errorName: letter.errorName, messageId: letter.sourceMessageId });
    count('RecordsDeadLettered');
  },
  onRetry: (error, delaySeconds, receiveCount) => {
    logger.warn('record will be retried', { error: describeError(error), delaySeconds, receiveCount });
    count('RecordsRetried');
  },
});

// A batch that fails whole (a full quota) is still a partial response: only those messages come
// back, after the delay each was given, without counting as a function error.
export const handler = middy<unknown, SQSBatchResponse | undefined, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) =>
    handleStartEvent(deps, event, (batch) =>
      processPartialResponse(batch, (record: SQSEvent['Records'][number]) => processStartRecord(deps, record), processor, { context, throwOnFullBatchFailure: false }),
    ),
  );
