import type { NotificationConfiguration, QueueConfiguration } from '@aws-sdk/client-s3';

export interface OwnedNotifications {
  /** Ids of the configurations this stack owns start with it; nothing else is touched. */
  idPrefix: string;
  queueArn: string;
  /** Non-overlapping prefixes (see notificationPrefixes); empty removes this stack's entries. */
  prefixes: readonly string[];
}

/**
 * The notification configuration of an existing bucket with this stack's queue notifications
 * put in place: the bucket's other notifications (topics, functions, other queues, EventBridge)
 * are kept as they are, and this stack's earlier entries are replaced. S3 has one configuration
 * per bucket, so writing only ours would silently delete someone else's.
 */
export function mergeQueueNotifications(current: NotificationConfiguration, owned: OwnedNotifications): NotificationConfiguration {
  const others = (current.QueueConfigurations ?? []).filter((q) => !q.Id?.startsWith(owned.idPrefix));
  const ours: QueueConfiguration[] = owned.prefixes.map((prefix, i) => ({
    Id: `${owned.idPrefix}${i}`,
    QueueArn: owned.queueArn,
    Events: ['s3:ObjectCreated:*'],
    ...(prefix !== '' && { Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } } }),
  }));
  const { QueueConfigurations: _replaced, ...rest } = current;
  const queues = [...others, ...ours];
  return { ...rest, ...(queues.length > 0 && { QueueConfigurations: queues }) };
}
