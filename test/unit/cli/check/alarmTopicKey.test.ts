import { describe, expect, it } from 'vitest';
import { alarmTopicKeyRow, type TopicKeyFacts } from '../../../../shared/cli/check/alarmTopicKey';
import type { PolicyStatement } from '../../../../shared/cli/check/policyStatement';

const topic = 'arn:aws:sns:us-east-1:123456789012:tkp-dev-alarms';
const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ROOT: PolicyStatement = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'kms:*', Resource: '*' };
/** The statement the README gives. */
const PUBLISHERS: PolicyStatement = {
  Sid: 'AlarmTopicPublishers',
  Effect: 'Allow',
  Principal: { Service: ['events.amazonaws.com', 'cloudwatch.amazonaws.com'] },
  Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
  Resource: '*',
};
const underKey = (statements: PolicyStatement[], state = 'Enabled'): TopicKeyFacts => ({ keyId: 'alias/alarms', key: { arn: keyArn, state, managedByAws: false }, statements });
const ADD =
  'add the statement AlarmTopicPublishers (README, Deploy: "An encrypted alarm topic") to its policy: ' +
  'Allow kms:GenerateDataKey* and kms:Decrypt to the services events.amazonaws.com and cloudwatch.amazonaws.com';

describe('alarmTopicKeyRow', () => {
  it('passes a topic without a KMS key, and one whose key lets both publishers in', () => {
    expect(alarmTopicKeyRow(topic, { keyId: null })).toEqual({
      rule: '(stack)',
      check: 'alarm topic key',
      ok: true,
      detail: `${topic} is not encrypted with a KMS key, so EventBridge and CloudWatch publish to it without one`,
    });
    expect(alarmTopicKeyRow(topic, underKey([ROOT, PUBLISHERS]))).toEqual({
      rule: '(stack)',
      check: 'alarm topic key',
      ok: true,
      detail: `${topic} is encrypted with ${keyArn} (Enabled), whose policy lets EventBridge and CloudWatch use it`,
    });
  });

  it('fails the AWS managed key, by its alias or as DescribeKey tells it, since no policy of it lets EventBridge or CloudWatch publish', () => {
    const managed = alarmTopicKeyRow(topic, { keyId: 'alias/aws/sns', key: { error: 'NotFoundException: Alias alias/aws/sns is not found.' } });
    expect(managed).toMatchObject({ ok: false, check: 'alarm topic key' });
    expect(managed.detail).toBe(
      `${topic} is encrypted with the AWS managed key alias/aws/sns, whose policy AWS writes and nobody can change: it does not let EventBridge or CloudWatch use the key, ` +
        'so SNS refuses every alarm and page published to the topic and none reaches anyone; encrypt the topic with a customer managed key instead ' +
        `(aws sns set-topic-attributes --topic-arn ${topic} --attribute-name KmsMasterKeyId --attribute-value KEY_ARN) and ${ADD}`,
    );
    expect(alarmTopicKeyRow(topic, { keyId: 'arn:aws:kms:us-east-1:123456789012:alias/aws/sns', key: { error: 'x' } }).ok).toBe(false);
    expect(alarmTopicKeyRow(topic, { keyId: 'b7c2d0e4-0000-4000-8000-000000000000', key: { arn: keyArn, state: 'Enabled', managedByAws: true } }).detail).toMatch(
      /^arn:aws:sns:\S+ is encrypted with the AWS managed key b7c2d0e4-0000-4000-8000-000000000000, /,
    );
  });

  it('fails a key whose policy leaves out a publisher, naming which one and what it publishes', () => {
    const eventsOnly = { ...PUBLISHERS, Principal: { Service: 'events.amazonaws.com' } };
    expect(alarmTopicKeyRow(topic, underKey([ROOT, eventsOnly])).detail).toBe(
      `${topic} is encrypted with ${keyArn}, whose policy does not let cloudwatch.amazonaws.com (the alarms) use it for kms:GenerateDataKey and kms:Decrypt, ` +
        `so SNS refuses what they publish and it reaches nobody; ${ADD}`,
    );
    // The key's default policy names only the account: IAM policies cannot reach a service.
    expect(alarmTopicKeyRow(topic, underKey([ROOT])).detail).toMatch(/does not let events\.amazonaws\.com \(the paging rules\) and cloudwatch\.amazonaws\.com \(the alarms\) use it/);
    // Both actions are needed: GenerateDataKey alone is not enough.
    expect(alarmTopicKeyRow(topic, underKey([ROOT, { ...PUBLISHERS, Action: 'kms:GenerateDataKey*' }])).ok).toBe(false);
    // An unconditional Deny overrules the Allow.
    expect(alarmTopicKeyRow(topic, underKey([PUBLISHERS, { Effect: 'Deny', Principal: { Service: 'events.amazonaws.com' }, Action: 'kms:Decrypt', Resource: '*' }])).detail).toMatch(
      /does not let events\.amazonaws\.com \(the paging rules\) use it/,
    );
  });

  it('reads wildcards, NotAction and NotPrincipal as IAM does, and names conditions instead of evaluating them', () => {
    expect(alarmTopicKeyRow(topic, underKey([{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }])).ok).toBe(true);
    expect(alarmTopicKeyRow(topic, underKey([{ Effect: 'Allow', Principal: { AWS: '*' }, Action: ['KMS:generatedatakey', 'kms:Decrypt'], Resource: '*' }])).ok).toBe(true);
    expect(alarmTopicKeyRow(topic, underKey([{ Effect: 'Allow', Principal: { Service: ['events.amazonaws.com', 'cloudwatch.amazonaws.com'] }, NotAction: 'kms:ScheduleKeyDeletion', Resource: '*' }])).ok).toBe(true);
    expect(alarmTopicKeyRow(topic, underKey([{ Effect: 'Allow', NotPrincipal: { Service: 'cloudwatch.amazonaws.com' }, Action: '*', Resource: '*' }])).detail).toMatch(/does not let cloudwatch\.amazonaws\.com /);
    const conditioned = { ...PUBLISHERS, Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } };
    expect(alarmTopicKeyRow(topic, underKey([conditioned])).detail).toBe(
      `${topic} is encrypted with ${keyArn} (Enabled), whose policy lets EventBridge and CloudWatch use it (on conditions this check does not evaluate: AlarmTopicPublishers)`,
    );
  });

  it('fails a key that is not enabled, or that cannot be read, with the command or permission to fix it', () => {
    expect(alarmTopicKeyRow(topic, underKey([PUBLISHERS], 'Disabled')).detail).toBe(
      `${topic} is encrypted with ${keyArn}, which is Disabled: SNS refuses every alarm and page published to the topic and none reaches anyone; enable it (aws kms enable-key --key-id ${keyArn})`,
    );
    expect(alarmTopicKeyRow(topic, underKey([PUBLISHERS], 'PendingDeletion')).detail).toMatch(/which is PendingDeletion: .*; cancel its deletion \(aws kms cancel-key-deletion --key-id \S+\) and enable it$/);
    expect(alarmTopicKeyRow(topic, { keyId: 'alias/alarms', key: { error: 'AccessDeniedException: no' } }).detail).toBe(
      `${topic} is encrypted with alias/alarms, which cannot be described (AccessDeniedException: no); if SNS cannot use it either, SNS refuses every alarm and page published to the topic ` +
        'and none reaches anyone: the caller needs kms:DescribeKey to tell',
    );
    expect(alarmTopicKeyRow(topic, { keyId: 'alias/alarms', key: { arn: keyArn, state: 'Enabled', managedByAws: false }, statements: { error: 'AccessDeniedException: no' } }).detail).toBe(
      `the policy of ${keyArn}, the alarm topic's key, cannot be read (AccessDeniedException: no); the caller needs kms:GetKeyPolicy to tell whether EventBridge and CloudWatch may use it ` +
        '(without that, SNS refuses every alarm and page published to the topic and none reaches anyone)',
    );
    // Another account's key: its policy is that account's to read, so the row says what to ask for, without failing.
    const theirs = 'arn:aws:kms:us-east-1:222233334444:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(alarmTopicKeyRow(topic, { keyId: theirs, key: { arn: theirs, state: 'Enabled', managedByAws: false }, statements: { error: 'AccessDeniedException: no' } })).toEqual({
      rule: '(stack)',
      check: 'alarm topic key',
      ok: true,
      skipped: true,
      detail:
        `${topic} is encrypted with ${theirs} (Enabled), whose policy only account 222233334444 can read; ask its owner to add the statement AlarmTopicPublishers ` +
        '(README, Deploy: "An encrypted alarm topic") to the key\'s policy: Allow kms:GenerateDataKey* and kms:Decrypt to the services events.amazonaws.com and cloudwatch.amazonaws.com',
    });
    expect(alarmTopicKeyRow(topic, { error: 'AuthorizationError: no' })).toMatchObject({
      ok: false,
      detail: `the attributes of ${topic} cannot be read (AuthorizationError: no); the caller needs sns:GetTopicAttributes to tell whether EventBridge and CloudWatch can publish to it`,
    });
  });
});
