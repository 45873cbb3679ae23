import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describeError } from '../shared/aws/errors';
import { logger } from '../shared/aws/observability';
import { TooManyNotificationsError } from '../shared/stack/inputNotifications';
import { answerCloudFormation, applyQueueNotifications, type InputNotificationsEvent } from '../shared/stack/inputNotificationsAdapters';

/** A CloudFormation custom resource for an existing input bucket's notifications to the start queue. */
export const handler = middy<InputNotificationsEvent, void, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const properties = event.ResourceProperties;
    logger.appendKeys({ bucket: properties.Bucket, requestType: event.RequestType });
    try {
      if (event.RequestType === 'Update' && event.OldResourceProperties.Bucket !== properties.Bucket) {
        await applyQueueNotifications(event.OldResourceProperties, true);
      }
      await applyQueueNotifications(properties, event.RequestType === 'Delete');
      logger.info('bucket notifications updated', { prefixes: properties.Prefixes });
      await answerCloudFormation(event, 'SUCCESS', '');
    } catch (error) {
      const reason =
        error instanceof TooManyNotificationsError
          ? `notifications of s3://${properties.Bucket} could not be updated: ${error.message}`
          : `notifications of s3://${properties.Bucket} could not be updated (${describeError(error)}); check that the bucket exists in this region and that its other notifications do not overlap these prefixes`;
      logger.error('bucket notifications not updated', { reason });
      await answerCloudFormation(event, event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED', reason);
    }
  });
