import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetTranscriptionJobCommand, StartTranscriptionJobCommand } from '@aws-sdk/client-transcribe';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsErrorName } from '../shared/awsErrors';
import { kmsClient, sqsClient, transcribeClient } from '../shared/clients';
import { loadStartSettings } from '../shared/config';
import { describeError } from '../shared/errors';
import { createKeyResolver } from '../shared/keyResolution';
import { logger, metrics } from '../shared/observability';
import { createStartPacer } from '../shared/startPacer';
import { processStartRecord, type StartRecordDependencies } from '../shared/startRecord';

const settings = loadStartSettings();
const processor = new BatchProcessor(EventType.SQS);
const pace = createStartPacer(settings.startRatePerSecond, { now: Date.now, sleep: (ms) => sleep(ms) });

const deps: StartRecordDependencies = {
  settings,
  maxReceiveCount: settings.maxReceiveCount,
  resolveKey: createKeyResolver(async (keyId) => (await kmsClient().send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata),
  startTranscriptionJob: async (input) => {
    await pace();
    await transcribeClient().send(new StartTranscriptionJobCommand(input));
  },
  mediaUriOfJob: async (jobName) => {
    try {
      const { TranscriptionJob } = await transcribeClient().send(new GetTranscriptionJobCommand({ TranscriptionJobName: jobName }));
      return TranscriptionJob?.Media?.MediaFileUri;
    } catch (error) {
      if (awsErrorName(error) === 'BadRequestException') return undefined;
      throw error;
    }
  },
  sendToDeadLetterQueue: async (letter) => {
    await sqsClient().send(
      new SendMessageCommand({
        QueueUrl: settings.startDeadLetterQueueUrl,
        MessageBody: letter.body,
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: letter.reason },
          errorName: { DataType: 'String', StringValue: letter.errorName },
          sourceMessageId: { DataType: 'String', StringValue: letter.sourceMessageId },
          receiveCount: { DataType: 'Number', StringValue: String(letter.receiveCount) },
        },
      }),
    );
  },
  delayRedelivery: async (receiptHandle, seconds) => {
    await sqsClient().send(
      new ChangeMessageVisibilityCommand({ QueueUrl: settings.startQueueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
    );
  },
  onOutcome: (outcome, object) => {
    const fields = { ...outcome, bucket: object.bucket, key: object.key };
    if (outcome.outcome === 'skipped') logger.info('object skipped', fields);
    else logger.info(outcome.outcome === 'started' ? 'job started' : 'job already started', fields);
    metrics.addMetric(outcome.outcome === 'skipped' ? 'ObjectsSkipped' : outcome.outcome === 'started' ? 'JobsStarted' : 'DuplicateDeliveries', MetricUnit.Count, 1);
  },
  onTestEvent: () => {
    logger.info('s3 test event ignored');
    metrics.addMetric('TestEventsIgnored', MetricUnit.Count, 1);
  },
  onDeadLetter: (letter) => {
    logger.error('record sent to dead-letter queue', { reason: letter.reason, errorName: letter.errorName, messageId: letter.sourceMessageId });
    metrics.addMetric('RecordsDeadLettered', MetricUnit.Count, 1);
  },
  onRetry: (error, delaySeconds, receiveCount) => {
    logger.warn('record will be retried', { error: describeError(error), delaySeconds, receiveCount });
    metrics.addMetric('RecordsRetried', MetricUnit.Count, 1);
  },
};

export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) =>
    // A batch that fails whole (a full quota) is still a partial response: only those messages
    // come back, after the delay each was given, without counting as a function error.
    processPartialResponse(event, (record: SQSEvent['Records'][number]) => processStartRecord(deps, record), processor, {
      context,
      throwOnFullBatchFailure: false,
    }),
  );
