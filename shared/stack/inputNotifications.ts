/**
 * The input bucket's S3 notifications to the start queue: which prefixes, and how they are
 * merged into an existing bucket's configuration by the custom resource.
 */
import type { NotificationConfiguration, QueueConfiguration } from '@aws-sdk/client-s3';
import type { Rule } from '../config/rule';
import { encodeS3EventKey } from '../aws/s3Location';
import { coveringPrefixes, notificationPrefixes } from '../config/notificationPrefixes';
import type { Cfn } from './cfnValues';

/** S3's limit on a bucket's event notification configurations, all destinations together (a hard limit). */
export const S3_NOTIFICATIONS_PER_BUCKET = 100;

/**
 * Why the rules need more notifications than S3 gives one bucket, or undefined. Each input prefix
 * not under another rule's is one notification per Unicode spelling (two for one accented folder
 * name, four for two: notificationPrefixes.ts), so `serverless package` refuses such a config
 * rather than the deploy failing at S3.
 */
export function notificationCountProblem(rules: readonly Pick<Rule, 'prefix'>[]): string | undefined {
  const count = notificationPrefixes(rules).length;
  if (count <= S3_NOTIFICATIONS_PER_BUCKET) return undefined;
  const respelled = count - coveringPrefixes(rules.map((rule) => rule.prefix)).length;
  return (
    `the config's ${rules.length} rules need ${count} S3 notifications on the input bucket, one per input prefix not under another rule's` +
    (respelled > 0 ? ` (${respelled} of them another Unicode spelling of a prefix with accented letters, folder by folder, which S3 tells apart and a Mac may give a file)` : '') +
    ', ' +
    `over S3's ${S3_NOTIFICATIONS_PER_BUCKET} per bucket; put the prefixes under fewer parents, each with a rule of its own ` +
    '(e.g. a rule for "teams/" beside "teams/a/" and "teams/b/": the longest prefix still decides the key, and the parent\'s rule takes what no team rule matches)'
  );
}

/** S3 ObjectCreated notifications to the start queue, one per non-overlapping prefix, encoded as S3 requires. */
export function queueNotifications(rules: readonly Pick<Rule, 'prefix'>[], queueArn: Cfn) {
  return notificationPrefixes(rules).map((prefix) => ({
    Event: 's3:ObjectCreated:*',
    Queue: queueArn,
    ...(prefix !== '' && { Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: encodeS3EventKey(prefix) }] } } }),
  }));
}

/**
 * The id prefix of one stage's notifications in a shared bucket. `/` cannot appear in a stage
 * name, so stage `dev` never owns stage `dev-2`'s entries, as the older `tkp-<stage>-` ids did.
 */
export function notificationIdPrefix(stage: string): string {
  return `tkp/${stage}/`;
}

/** Whether an id is one this stage wrote in the older `tkp-<stage>-<n>` form, so it is replaced, not left to overlap. */
function isLegacyId(id: string, idPrefix: string): boolean {
  const stage = /^tkp\/(.+)\/$/.exec(idPrefix)?.[1];
  return stage !== undefined && id.startsWith(`tkp-${stage}-`) && /^\d+$/.test(id.slice(`tkp-${stage}-`.length));
}

/** The bucket has no room for this stage's notifications; its message says what to remove or change. */
export class TooManyNotificationsError extends Error {
  override readonly name = 'TooManyNotificationsError';
}

export interface OwnedNotifications {
  /** Ids of the configurations this stack owns start with it; nothing else is touched. */
  idPrefix: string;
  queueArn: string;
  /** Non-overlapping prefixes (see notificationPrefixes); empty removes this stack's entries. */
  prefixes: readonly string[];
}

/** The bucket's queue notifications that are not this stage's (another stage's, or anyone else's). */
function othersQueues(current: NotificationConfiguration, idPrefix: string): QueueConfiguration[] {
  return (current.QueueConfigurations ?? []).filter((q) => !q.Id?.startsWith(idPrefix) && !(q.Id && isLegacyId(q.Id, idPrefix)));
}

/**
 * Why an existing bucket has no room for this stage's `count` notifications beside its others
 * (queues, topics and functions; this stage's earlier entries are replaced, so they do not count),
 * or undefined.
 */
export function notificationRoomProblem(current: NotificationConfiguration, idPrefix: string, count: number): string | undefined {
  const elsewhere = othersQueues(current, idPrefix).length + (current.TopicConfigurations?.length ?? 0) + (current.LambdaFunctionConfigurations?.length ?? 0);
  if (elsewhere + count <= S3_NOTIFICATIONS_PER_BUCKET) return undefined;
  return (
    `the bucket already has ${elsewhere} other event notification configurations, and this stage's ${count} would make more than S3's ${S3_NOTIFICATIONS_PER_BUCKET} per bucket; ` +
    'remove notifications the bucket no longer needs, or put the config\'s prefixes under fewer parents, each with a rule of its own'
  );
}

/**
 * The notification configuration of an existing bucket with this stack's queue notifications
 * put in place: the bucket's other notifications (topics, functions, other queues, EventBridge)
 * are kept as they are, and this stack's earlier entries are replaced. S3 has one configuration
 * per bucket, so writing only ours would silently delete someone else's. A bucket without room
 * for ours under S3's 100 is refused (TooManyNotificationsError), so nothing is written.
 */
export function mergeQueueNotifications(current: NotificationConfiguration, owned: OwnedNotifications): NotificationConfiguration {
  const noRoom = notificationRoomProblem(current, owned.idPrefix, owned.prefixes.length);
  if (noRoom) throw new TooManyNotificationsError(noRoom);
  const ours: QueueConfiguration[] = owned.prefixes.map((prefix, i) => ({
    Id: `${owned.idPrefix}${i}`,
    QueueArn: owned.queueArn,
    Events: ['s3:ObjectCreated:*'],
    ...(prefix !== '' && { Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: encodeS3EventKey(prefix) }] } } }),
  }));
  const { QueueConfigurations: _replaced, ...rest } = current;
  const queues = [...othersQueues(current, owned.idPrefix), ...ours];
  return { ...rest, ...(queues.length > 0 && { QueueConfigurations: queues }) };
}
