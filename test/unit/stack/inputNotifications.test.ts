import { describe, expect, it } from 'vitest';
import { mergeQueueNotifications } from '../../../shared/stack/inputNotifications';

const owned = { idPrefix: 'tkp-prod-', queueArn: 'arn:aws:sqs:us-east-1:123456789012:start', prefixes: ['calls/', ''] };

describe('mergeQueueNotifications', () => {
  it('adds this stack’s notifications and keeps everyone else’s', () => {
    const current = {
      TopicConfigurations: [{ Id: 'audit', TopicArn: 'arn:aws:sns:us-east-1:1:t', Events: ['s3:ObjectRemoved:*' as const] }],
      QueueConfigurations: [{ Id: 'backup', QueueArn: 'arn:aws:sqs:us-east-1:1:b', Events: ['s3:ObjectRemoved:*' as const] }],
      EventBridgeConfiguration: {},
    };
    expect(mergeQueueNotifications(current, owned)).toEqual({
      TopicConfigurations: current.TopicConfigurations,
      EventBridgeConfiguration: {},
      QueueConfigurations: [
        current.QueueConfigurations[0],
        { Id: 'tkp-prod-0', QueueArn: owned.queueArn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'calls/' }] } } },
        { Id: 'tkp-prod-1', QueueArn: owned.queueArn, Events: ['s3:ObjectCreated:*'] },
      ],
    });
  });

  it('replaces its own earlier entries instead of adding duplicates', () => {
    const once = mergeQueueNotifications({}, owned);
    const twice = mergeQueueNotifications(once, { ...owned, prefixes: ['legal/'] });
    expect(twice.QueueConfigurations?.map((q) => q.Id)).toEqual(['tkp-prod-0']);
    expect(twice.QueueConfigurations?.[0]?.Filter?.Key?.FilterRules?.[0]?.Value).toBe('legal/');
  });

  it('removes only its own entries on delete, leaving no empty list behind', () => {
    expect(mergeQueueNotifications(mergeQueueNotifications({}, owned), { ...owned, prefixes: [] })).toEqual({});
  });
});
