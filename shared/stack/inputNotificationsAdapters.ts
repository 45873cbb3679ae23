/**
 * The AWS side of the custom resource that sets an existing input bucket's notifications:
 * CloudFormation cannot configure a bucket it did not create. Runs at deploy time, inside the
 * bucketNotifications function.
 */
import { GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { s3Client } from '../aws/clients';
import { mergeQueueNotifications } from './inputNotifications';

export interface InputNotificationsProperties {
  Bucket: string;
  QueueArn: string;
  IdPrefix: string;
  Prefixes: string[];
}

export type InputNotificationsEvent = CloudFormationCustomResourceEvent<InputNotificationsProperties, InputNotificationsProperties>;

/** Replaces this stack's entries in the bucket's notification configuration, keeping all others. */
export async function applyQueueNotifications(properties: InputNotificationsProperties, remove: boolean): Promise<void> {
  const s3 = s3Client();
  const { $metadata: _metadata, ...current } = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: properties.Bucket }));
  const next = mergeQueueNotifications(current, { idPrefix: properties.IdPrefix, queueArn: properties.QueueArn, prefixes: remove ? [] : properties.Prefixes });
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: properties.Bucket, NotificationConfiguration: next }));
}

/**
 * Answers CloudFormation, always: an unanswered custom resource blocks the stack for an hour.
 */
export async function answerCloudFormation(event: InputNotificationsEvent, status: 'SUCCESS' | 'FAILED', reason: string): Promise<void> {
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    headers: { 'content-type': '' },
    body: JSON.stringify({
      Status: status,
      Reason: reason || 'ok',
      PhysicalResourceId: `${event.ResourceProperties.Bucket}/${event.ResourceProperties.IdPrefix}`,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    }),
  });
  if (!response.ok) throw new Error(`CloudFormation did not take the response: HTTP ${response.status}`);
}
