import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { mergeQueueNotifications } from '../shared/bucketNotifications';
import { s3Client } from '../shared/clients';
import { describeError } from '../shared/errors';
import { logger } from '../shared/observability';

interface Properties {
  Bucket: string;
  QueueArn: string;
  IdPrefix: string;
  Prefixes: string[];
}

/**
 * CloudFormation custom resource for an existing input bucket: CloudFormation cannot set the
 * notifications of a bucket it did not create. It always answers CloudFormation, with the
 * reason on failure, because an unanswered custom resource blocks the stack for an hour.
 */
async function apply(bucket: string, properties: Properties, remove: boolean) {
  const s3 = s3Client();
  const { $metadata: _metadata, ...current } = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  const next = mergeQueueNotifications(current, { idPrefix: properties.IdPrefix, queueArn: properties.QueueArn, prefixes: remove ? [] : properties.Prefixes });
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: next }));
}

export const handler = middy<CloudFormationCustomResourceEvent<Properties, Properties>, void, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const properties = event.ResourceProperties;
    logger.appendKeys({ bucket: properties.Bucket, requestType: event.RequestType });
    let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
    let reason = '';
    try {
      if (event.RequestType === 'Update' && event.OldResourceProperties.Bucket !== properties.Bucket) {
        await apply(event.OldResourceProperties.Bucket, event.OldResourceProperties, true);
      }
      await apply(properties.Bucket, properties, event.RequestType === 'Delete');
      logger.info('bucket notifications updated', { prefixes: properties.Prefixes });
    } catch (error) {
      status = event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED';
      reason = `notifications of s3://${properties.Bucket} could not be updated (${describeError(error)}); check that the bucket exists in this region and that its other notifications do not overlap these prefixes`;
      logger.error('bucket notifications not updated', { reason });
    }
    const response = await fetch(event.ResponseURL, {
      method: 'PUT',
      headers: { 'content-type': '' },
      body: JSON.stringify({
        Status: status,
        Reason: reason || 'ok',
        PhysicalResourceId: `${properties.Bucket}/${properties.IdPrefix}`,
        StackId: event.StackId,
        RequestId: event.RequestId,
        LogicalResourceId: event.LogicalResourceId,
      }),
    });
    if (!response.ok) throw new Error(`CloudFormation did not take the response: HTTP ${response.status}`);
  });
