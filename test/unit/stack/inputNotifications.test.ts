import { describe, expect, it } from 'vitest';
import { mergeQueueNotifications, notificationCountProblem, notificationIdPrefix } from '../../../shared/stack/inputNotifications';
import { encodeS3EventKey } from '../../../shared/aws/s3Location';

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

describe('encodeS3EventKey', () => {
  it.each([
    ['calls/', 'calls/'],
    ['Call Recordings/', 'Call+Recordings/'],
    ['Zürich/', 'Z%C3%BCrich/'],
    ['Q3 + notes 100% =final&more/', 'Q3+%2B+notes+100%25+%3Dfinal%26more/'],
    ["a(b)!'~/", 'a%28b%29%21%27%7E/'],
    ['x.y-z_*/', 'x.y-z_*/'],
  ])('writes %j as S3 encodes keys in notifications: %j', (prefix, encoded) => {
    expect(encodeS3EventKey(prefix)).toBe(encoded);
  });

  it('encodes the filter values it merges into an existing bucket', () => {
    const merged = mergeQueueNotifications({}, { ...owned, prefixes: ['Call Recordings/'] });
    expect(merged.QueueConfigurations?.[0]?.Filter?.Key?.FilterRules?.[0]?.Value).toBe('Call+Recordings/');
  });
});

describe('notification ids per stage', () => {
  const queueArn = 'arn:aws:sqs:us-east-1:123456789012:start';
  it('never lets stage dev replace or remove stage dev-2’s entries', () => {
    const both = mergeQueueNotifications(mergeQueueNotifications({}, { idPrefix: notificationIdPrefix('dev-2'), queueArn, prefixes: ['a/'] }), {
      idPrefix: notificationIdPrefix('dev'),
      queueArn,
      prefixes: ['b/'],
    });
    expect(both.QueueConfigurations?.map((q) => q.Id)).toEqual(['tkp/dev-2/0', 'tkp/dev/0']);
    const devRemoved = mergeQueueNotifications(both, { idPrefix: notificationIdPrefix('dev'), queueArn, prefixes: [] });
    expect(devRemoved.QueueConfigurations?.map((q) => q.Id)).toEqual(['tkp/dev-2/0']);
  });

  it('replaces this stage’s entries written with the older tkp-<stage>-<n> ids, but not another stage’s', () => {
    const legacy = {
      QueueConfigurations: [
        { Id: 'tkp-dev-0', QueueArn: queueArn, Events: ['s3:ObjectCreated:*' as const] },
        { Id: 'tkp-dev-2-0', QueueArn: queueArn, Events: ['s3:ObjectCreated:*' as const] },
      ],
    };
    const merged = mergeQueueNotifications(legacy, { idPrefix: notificationIdPrefix('dev'), queueArn, prefixes: ['b/'] });
    expect(merged.QueueConfigurations?.map((q) => q.Id)).toEqual(['tkp-dev-2-0', 'tkp/dev/0']);
  });
});

describe("S3's 100 notifications per bucket", () => {
  const prefixes = (count: number) => Array.from({ length: count }, (_, i) => ({ prefix: `team-${i}/` }));

  it('refuses a config needing more, naming the count and what to change; prefixes under another rule\'s do not count', () => {
    expect(notificationCountProblem(prefixes(100))).toBeUndefined();
    expect(notificationCountProblem([{ prefix: 'teams/' }, ...prefixes(150).map(({ prefix }) => ({ prefix: `teams/${prefix}` }))])).toBeUndefined();
    expect(notificationCountProblem(prefixes(101))).toBe(
      "the config's 101 rules need 101 S3 notifications on the input bucket, one per input prefix not under another rule's, over S3's 100 per bucket; " +
        'put the prefixes under fewer parents, each with a rule of its own (e.g. a rule for "teams/" beside "teams/a/" and "teams/b/": the longest prefix still decides the key, ' +
        "and the parent's rule takes what no team rule matches)",
    );
    // A prefix with accented letters takes two: S3 compares bytes, and a Mac may spell them decomposed.
    const accented = [...prefixes(90), ...Array.from({ length: 6 }, (_, i) => ({ prefix: `équipe-${i}/` }))];
    expect(notificationCountProblem(accented)).toMatch(
      /^the config's 96 rules need 102 S3 notifications on the input bucket, one per input prefix not under another rule's \(6 of them another Unicode spelling of a prefix with accented letters, folder by folder, which S3 tells apart and a Mac may give a file\), over S3's 100 per bucket; /,
    );
  });

  it('refuses to merge into an existing bucket whose other notifications would leave too few, counting topics and functions too', () => {
    const others = {
      TopicConfigurations: Array.from({ length: 50 }, (_, i) => ({ Id: `t${i}`, TopicArn: 'arn:aws:sns:us-east-1:1:t', Events: ['s3:ObjectRemoved:*' as const] })),
      QueueConfigurations: Array.from({ length: 40 }, (_, i) => ({ Id: `q${i}`, QueueArn: 'arn:aws:sqs:us-east-1:1:b', Events: ['s3:ObjectRemoved:*' as const] })),
    };
    const ten = prefixes(10).map(({ prefix }) => prefix);
    expect(mergeQueueNotifications(others, { ...owned, prefixes: ten }).QueueConfigurations).toHaveLength(50);
    expect(() => mergeQueueNotifications(others, { ...owned, prefixes: [...ten, 'one-more/'] })).toThrow(
      "the bucket already has 90 other event notification configurations, and this stage's 11 would make more than S3's 100 per bucket; " +
        "remove notifications the bucket no longer needs, or put the config's prefixes under fewer parents, each with a rule of its own",
    );
    // Its own earlier entries are replaced, so they do not count against it.
    const mine = mergeQueueNotifications(others, { ...owned, prefixes: ten });
    expect(mergeQueueNotifications(mine, { ...owned, prefixes: ten }).QueueConfigurations).toHaveLength(50);
  });
});
