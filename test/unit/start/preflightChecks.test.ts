import type { Event, QueueConfiguration } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import { alarmsRow, alarmTopicRow, alertingRulesRow, inputBucketRow, keyRows, notificationRow, outputBucketRow, queueArnFromUrl, trailRow, verifierRolesRow } from '../../../shared/start/preflightChecks';
import { keyArn } from '../../support/fixtures';

const { rules } = validatePipelineConfig(
  { defaults: { languageCode: 'en-US' }, rules: [{ prefix: 'calls/', kmsKey: 'alias/calls' }, { prefix: 'Kundenanrufe Zürich/' }] },
  { region: 'us-east-1' },
);
const [calls, zurich] = rules as [(typeof rules)[number], (typeof rules)[number]];
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:start';
const queueConfig = (prefix: string, events: Event[] = ['s3:ObjectCreated:*']): QueueConfiguration => ({ QueueArn: QUEUE, Events: events, Filter: { Key: { FilterRules: [{ Name: 'prefix' as const, Value: prefix }] } } });

describe('notificationRow', () => {
  it('passes when each configured prefix notifies the start queue, encoded as S3 encodes keys', () => {
    const row = notificationRow({ QueueConfigurations: [queueConfig('calls/'), queueConfig('Kundenanrufe+Z%C3%BCrich/')] }, QUEUE, ['calls/', 'Kundenanrufe Zürich/'], 'in');
    expect(row).toMatchObject({ ok: true, rule: '(stack)' });
  });

  it('fails a filter written raw, which S3 never matches, and says to redeploy', () => {
    const row = notificationRow({ QueueConfigurations: [queueConfig('calls/'), queueConfig('Kundenanrufe Zürich/')] }, QUEUE, ['calls/', 'Kundenanrufe Zürich/'], 'in');
    expect(row.ok).toBe(false);
    expect(row.detail).toContain('no notification for prefix "Kundenanrufe+Z%C3%BCrich/"');
    expect(row.detail).toContain('an extra notification for prefix "Kundenanrufe Zürich/"');
    expect(row.detail).toContain('redeploy');
  });

  it('ignores other queues\' notifications and fails a notification for the wrong events', () => {
    const other = { ...queueConfig('x/'), QueueArn: 'arn:aws:sqs:us-east-1:123456789012:other' };
    const row = notificationRow({ QueueConfigurations: [other, queueConfig('calls/', ['s3:ObjectRemoved:*'])] }, QUEUE, ['calls/'], 'in');
    expect(row).toMatchObject({ ok: false, detail: expect.stringContaining('is not for s3:ObjectCreated:*') });
  });

  it('fails when the bucket has no notification to the queue at all', () => {
    expect(notificationRow({}, QUEUE, ['calls/'], 'in')).toMatchObject({ ok: false, detail: expect.stringContaining('no notification for prefix "calls/"') });
  });

  it('lists ten filters or problems of a config with hundreds of prefixes, and counts the rest', () => {
    const prefixes = Array.from({ length: 300 }, (_, i) => `team-${String(i).padStart(3, '0')}/`);
    const passing = notificationRow({ QueueConfigurations: prefixes.map((prefix) => queueConfig(prefix)) }, QUEUE, prefixes, 'in');
    expect(passing).toMatchObject({ ok: true, detail: `300 notification(s) to the start queue, filters ${prefixes.slice(0, 10).map((p) => JSON.stringify(p)).join(', ')}, and 290 more` });
    const wiped = notificationRow({}, QUEUE, prefixes, 'in');
    expect(wiped.ok).toBe(false);
    expect(wiped.detail).toBe(
      `${prefixes.slice(0, 10).map((p) => `no notification for prefix ${JSON.stringify(p)}`).join('; ')}; and 290 more; ` +
        'if the config changed since the last deploy, serverless deploy applies it; if the notifications were changed by hand, put them, encoded as S3 encodes keys, back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy")',
    );
  });
});

describe('inputBucketRow', () => {
  const start = 'arn:aws:iam::123456789012:role/transcribe-kms-pipeline-dev-us-east-1-start';

  it('says which key an upload gets by default, and who must be allowed to decrypt it', () => {
    const row = inputBucketRow('in', { serverSideEncryption: 'aws:kms', key: keyArn('media') }, [start]);
    expect(row).toMatchObject({ rule: '(stack)', check: 'input bucket', ok: true });
    expect(row.detail).toMatch(new RegExp(`^s3://in encrypts uploads with ${keyArn('media')} \\(aws:kms\\) unless the uploader names another key\\. Transcribe reads an upload under a KMS key with ${start},`));
    expect(row.detail).toContain('must allow that in its key policy');
  });

  it('names SSE-S3 and every role that reads uploads', () => {
    const data = start.replace(/start$/, 'transcribe-data');
    expect(inputBucketRow('in', { serverSideEncryption: 'AES256' }, [start, data]).detail).toMatch(new RegExp(`^s3://in stores uploads under SSE-S3 unless the uploader names a KMS key\\. Transcribe reads an upload under a KMS key with ${start} or ${data},`));
  });

  it('fails when the default cannot be read, naming the permission', () => {
    expect(inputBucketRow('in', { error: 'AccessDenied: no' }, [start])).toEqual({
      rule: '(stack)',
      check: 'input bucket',
      ok: false,
      detail: 's3://in: its default encryption cannot be read (AccessDenied: no); the caller needs s3:GetEncryptionConfiguration on it',
    });
  });
});

describe('outputBucketRow', () => {
  it('says a key rule overrides the default, and what a no-key rule will get and be judged by', () => {
    expect(outputBucketRow(calls, 'out', { ok: { serverSideEncryption: 'AES256' } })).toMatchObject({ ok: true, detail: expect.stringContaining("the rule's key overrides") });
    expect(outputBucketRow(zurich, 'out', { ok: { serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn('b') } })).toMatchObject({
      ok: true,
      detail: `s3://out: transcripts get the bucket default, aws:kms under ${keyArn('b')}, and the verifier demands it; Transcribe writes them with the start role, which the stack allows that key through S3 for this bucket (a key in another account, or one whose key policy does not let IAM policies grant its use, must allow it too)`,
    });
    expect(outputBucketRow(zurich, 'out', { ok: { serverSideEncryption: 'AES256' } }).detail).toBe('s3://out: transcripts get the bucket default, SSE-S3, and the verifier demands it');
  });

  it('fails a bucket whose default cannot be read', () => {
    expect(outputBucketRow(zurich, 'out', { error: 'bucket out does not exist' })).toEqual({ rule: 'Kundenanrufe Zürich/', check: 'output bucket', ok: false, detail: 'bucket out does not exist' });
  });
});

describe('keyRows', () => {
  it('shows a rule whose key the deployed config does not have as a failure to deploy', () => {
    expect(keyRows(calls, undefined, 'me')).toEqual([{ rule: 'calls/', check: 'key', ok: false, detail: expect.stringContaining('deploy this config') }]);
  });

  it('has one row per DryRun operation after a resolved key', () => {
    const rows = keyRows(calls, { rulePrefix: 'calls/', key: { ok: true, detail: keyArn('k'), arn: keyArn('k'), account: '123456789012' }, dryRuns: { GenerateDataKey: { ok: true, detail: 'allowed' }, Encrypt: { ok: false, detail: 'refused' } } }, 'me');
    expect(rows.map((r) => [r.check, r.ok])).toEqual([
      ['key', true],
      ['kms:GenerateDataKey (DryRun)', true],
      ['kms:Encrypt (DryRun)', false],
    ]);
  });
});

it('derives the queue ARN from its URL, in AWS and in an emulator', () => {
  expect(queueArnFromUrl('https://sqs.eu-west-1.amazonaws.com/123456789012/tkp-start', 'eu-west-1')).toBe('arn:aws:sqs:eu-west-1:123456789012:tkp-start');
  expect(queueArnFromUrl('http://127.0.0.1:4566/123456789012/tkp-start', 'us-east-1')).toBe('arn:aws:sqs:us-east-1:123456789012:tkp-start');
});

describe('alarmTopicRow', () => {
  const topic = 'arn:aws:sns:eu-west-1:123456789012:transcribe-kms-pipeline-prod-alarms';
  const email = (endpoint: string, confirmed: boolean) => ({ protocol: 'email', endpoint, confirmed });

  it('passes when one subscription is confirmed, naming who gets the pages and who has yet to confirm', () => {
    expect(alarmTopicRow(topic, [email('oncall@example.com', true), email('new@example.com', false)])).toEqual({
      rule: '(stack)',
      check: 'alarm topic',
      ok: true,
      detail: `${topic} delivers every alarm and page to email oncall@example.com; not yet confirmed: email new@example.com (confirm the message AWS sent)`,
    });
  });

  it('fails when no subscription is confirmed, since every page would go nowhere, and says how to subscribe', () => {
    const subscribe = `subscribe someone (aws sns subscribe --topic-arn ${topic} --protocol email --notification-endpoint ADDRESS, or serverless deploy --param="alarmEmail=ADDRESS" for an address the stack has not subscribed before) and confirm it`;
    expect(alarmTopicRow(topic, [email('oncall@example.com', false)])).toMatchObject({
      ok: false,
      detail: `${topic} has no confirmed subscription, so no alarm or page reaches anyone; not yet confirmed: email oncall@example.com (confirm the message AWS sent); ${subscribe}`,
    });
    expect(alarmTopicRow(topic, [])).toMatchObject({ ok: false, detail: `${topic} has no confirmed subscription, so no alarm or page reaches anyone; ${subscribe}` });
  });

  it('fails, naming the permission, when the subscriptions cannot be read', () => {
    expect(alarmTopicRow(topic, { error: 'AuthorizationError: not allowed' })).toMatchObject({
      ok: false,
      detail: `the subscriptions of ${topic} cannot be read (AuthorizationError: not allowed); the caller needs sns:ListSubscriptionsByTopic to tell whether a page reaches anyone`,
    });
  });
});

describe('alertingRulesRow', () => {
  const topicArn = 'arn:aws:sns:us-east-1:123456789012:tkp-dev-alarms';
  const verifyArn = 'arn:aws:lambda:us-east-1:123456789012:function:tkp-dev-verify';
  const dlq = 'arn:aws:sqs:us-east-1:123456789012:tkp-dev-VerifyDeadLetterQueue-1X2Y';
  const toVerify = { target: { function: 'tkp-dev-verify' }, deadLetter: true };
  const toTopic = { target: { alarmTopic: true as const }, deadLetter: true };
  const verifyRule = { name: 'tkp-dev-verify-rule-1', ...toVerify, state: 'ENABLED', targets: [{ arn: verifyArn, deadLetterArn: dlq }] };
  const schedule = { name: 'tkp-dev-sweep-schedule', target: { function: 'tkp-dev-sweep' }, deadLetter: false, state: 'ENABLED', targets: [{ arn: 'arn:aws:lambda:us-east-1:123456789012:function:tkp-dev-sweep' }] };
  const pagingRule = { name: 'tkp-dev-paging-verdicts', bus: 'tkp-dev-outcomes', ...toTopic, state: 'ENABLED', targets: [{ arn: topicArn, deadLetterArn: dlq }] };

  it('passes when every rule of the stack is enabled and sends where the stack sends it', () => {
    expect(alertingRulesRow([verifyRule, schedule, pagingRule], topicArn)).toEqual({
      rule: '(stack)',
      check: 'EventBridge rules',
      ok: true,
      detail: 'all 3 are enabled and send to their function or the alarm topic: tkp-dev-verify-rule-1, tkp-dev-sweep-schedule, tkp-dev-paging-verdicts',
    });
  });

  it('names each rule that is off or missing and the command that turns it back on, on its own bus', () => {
    const row = alertingRulesRow(
      [
        verifyRule,
        { ...pagingRule, state: 'DISABLED' },
        { name: 'tkp-dev-alerting-changes', ...toTopic, state: 'DISABLED', targets: [] },
        { name: 'tkp-dev-trust-changes', ...toTopic },
      ],
      topicArn,
    );
    expect(row).toMatchObject({
      ok: false,
      detail:
        'tkp-dev-paging-verdicts is DISABLED (aws events enable-rule --name tkp-dev-paging-verdicts --event-bus-name tkp-dev-outcomes); ' +
        'tkp-dev-alerting-changes is DISABLED (aws events enable-rule --name tkp-dev-alerting-changes); tkp-dev-trust-changes does not exist; ' +
        'put them back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy"). Until then what they carry (completion events, sweeps, pages) reaches no one: afterwards, tkp audit --since the time they changed',
    });
  });

  // Enabled, but quietly emptied or repointed while both watchers were off: as good as off.
  it('names a rule that is on but sends nowhere, or somewhere else, or without its dead-letter queue', () => {
    const row = alertingRulesRow(
      [
        { ...verifyRule, targets: [] },
        { ...verifyRule, name: 'tkp-dev-verify-rule-2', targets: [{ arn: `${verifyArn}:forger`, deadLetterArn: dlq }, { arn: 'arn:aws:lambda:us-east-1:123456789012:function:tkp-dev-verify-copy' }] },
        { ...verifyRule, name: 'tkp-dev-verify-rule-3', targets: [{ arn: verifyArn }] },
        { ...schedule, targets: [{ arn: verifyArn }] },
        { ...pagingRule, targets: [{ arn: 'arn:aws:sns:us-east-1:123456789012:quiet', deadLetterArn: dlq }] },
      ],
      topicArn,
    );
    expect(row.ok).toBe(false);
    expect(row.detail.split('; ').slice(0, 5)).toEqual([
      'tkp-dev-verify-rule-1 is on but does not send to the function tkp-dev-verify (it has no target)',
      `tkp-dev-verify-rule-2 is on but does not send to the function tkp-dev-verify (it sends to ${verifyArn}:forger, arn:aws:lambda:us-east-1:123456789012:function:tkp-dev-verify-copy)`,
      'tkp-dev-verify-rule-3 sends to the function tkp-dev-verify without its dead-letter queue, so an event it cannot deliver is lost',
      `tkp-dev-sweep-schedule is on but does not send to the function tkp-dev-sweep (it sends to ${verifyArn})`,
      `tkp-dev-paging-verdicts is on but does not send to the alarm topic ${topicArn} (it sends to arn:aws:sns:us-east-1:123456789012:quiet)`,
    ]);
  });

  it('names a CloudTrail rule whose page lost, or changed, the input template that says what to do', () => {
    const trust = { name: 'tkp-dev-trust-changes', ...toTopic, pageTemplate: '{"page": "tkp-dev-trust-changes", "whatToDo": "x", "event": <aws.events.event.json>}', state: 'ENABLED' };
    expect(alertingRulesRow([{ ...trust, targets: [{ arn: topicArn, deadLetterArn: dlq, inputTemplate: trust.pageTemplate }] }], topicArn).ok).toBe(true);
    expect(alertingRulesRow([{ ...trust, targets: [{ arn: topicArn, deadLetterArn: dlq }] }], topicArn).detail).toMatch(
      new RegExp(`^tkp-dev-trust-changes sends to the alarm topic ${topicArn} without its page's input template, so whoever is paged is not told what to do; `),
    );
    expect(alertingRulesRow([{ ...trust, targets: [{ arn: topicArn, deadLetterArn: dlq, inputTemplate: '"all is well"' }] }], topicArn).detail).toMatch(/^tkp-dev-trust-changes sends to the alarm topic \S+ another text than its page's input template/);
  });

  it('takes any topic for the paging rules when the alarm topic is not known', () => {
    expect(alertingRulesRow([{ ...pagingRule, targets: [{ arn: 'arn:aws:sns:us-east-1:123456789012:theirs', deadLetterArn: dlq }] }]).ok).toBe(true);
    expect(alertingRulesRow([{ ...pagingRule, targets: [] }]).detail).toMatch(/^tkp-dev-paging-verdicts is on but does not send to the alarm topic \(it has no target\); /);
  });

  it('fails, naming the permissions, when the rules cannot be read', () => {
    expect(alertingRulesRow({ error: 'AccessDeniedException: no' })).toMatchObject({
      ok: false,
      detail: "the stack's rules cannot be read (AccessDeniedException: no); the caller needs events:DescribeRule and events:ListTargetsByRule to tell whether they are on and where they send",
    });
  });
});

describe('verifierRolesRow', () => {
  const sids = ['VerdictsOnlyFromOwnCode', 'VerdictsOnlyFromFunctionCode'];
  const intact = (name: string) => ({ name, found: true, trustedBy: ['Service:lambda.amazonaws.com'], denySids: [...sids] });

  it('passes when each role is assumed by Lambda alone and keeps both Deny statements', () => {
    expect(verifierRolesRow([intact('tkp-dev-verify'), intact('tkp-dev-sweep')], sids)).toEqual({
      rule: '(stack)',
      check: 'verifier roles',
      ok: true,
      detail: "tkp-dev-verify, tkp-dev-sweep: assumed by Lambda alone, and verdicts refused to any code but their function's",
    });
  });

  it('names a role that is gone, assumable by someone else, or without its guard', () => {
    const row = verifierRolesRow(
      [
        { name: 'tkp-dev-verify', found: false },
        { ...intact('tkp-dev-sweep'), trustedBy: ['Service:lambda.amazonaws.com', 'AWS:arn:aws:iam::123456789012:root', 'Service:ec2.amazonaws.com'], denySids: ['VerdictsOnlyFromFunctionCode'] },
      ],
      sids,
    );
    expect(row).toMatchObject({
      ok: false,
      detail:
        'tkp-dev-verify does not exist; tkp-dev-sweep may also be assumed by AWS:arn:aws:iam::123456789012:root, Service:ec2.amazonaws.com; ' +
        "tkp-dev-sweep lacks its Deny statement(s) VerdictsOnlyFromOwnCode, so code other than its function's may publish verdicts with it; " +
        'put them back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy"). Until then a verdict may be forged: tkp audit --since the time they changed judges the transcripts themselves',
    });
  });

  it('fails, naming the permissions, when the roles cannot be read', () => {
    expect(verifierRolesRow({ error: 'AccessDenied: no' }, sids)).toMatchObject({
      ok: false,
      detail: "the verifiers' roles cannot be read (AccessDenied: no); the caller needs iam:GetRole and iam:GetRolePolicy to tell whether they refuse forged verdicts",
    });
  });
});

describe('alarmsRow', () => {
  const topic = 'arn:aws:sns:us-east-1:123456789012:tkp-dev-alarms';

  it('passes when every alarm exists, has its actions on and sends to the alarm topic', () => {
    expect(alarmsRow([{ name: 'tkp-dev-verify-dead-letters', found: true, actionsEnabled: true, actions: [topic] }], topic)).toEqual({
      rule: '(stack)',
      check: 'CloudWatch alarms',
      ok: true,
      detail: 'all 1 send their alarm to the alarm topic: tkp-dev-verify-dead-letters',
    });
  });

  it('names each alarm that is gone, silenced or sending elsewhere, with the command that turns one back on', () => {
    const row = alarmsRow(
      [
        { name: 'tkp-dev-start-dead-letters', found: true, actionsEnabled: true, actions: [topic] },
        { name: 'tkp-dev-verify-dead-letters', found: true, actionsEnabled: false, actions: [topic] },
        { name: 'tkp-dev-start-backlog', found: true, actionsEnabled: true, actions: ['arn:aws:sns:us-east-1:123456789012:elsewhere'] },
        { name: 'tkp-dev-encryption-mismatch', found: false },
      ],
      topic,
    );
    expect(row).toMatchObject({
      ok: false,
      detail:
        'tkp-dev-verify-dead-letters has its actions disabled (aws cloudwatch enable-alarm-actions --alarm-names tkp-dev-verify-dead-letters); ' +
        `tkp-dev-start-backlog does not send its alarm to ${topic}; tkp-dev-encryption-mismatch does not exist; ` +
        'put them back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy"). Until then that alarm pages no one: read the DLQs and the outcome bus yourself',
    });
  });

  it('fails, naming the permission, when the alarms cannot be read', () => {
    expect(alarmsRow({ error: 'AccessDenied: no' }, topic)).toMatchObject({ ok: false, detail: "the stack's alarms cannot be read (AccessDenied: no); the caller needs cloudwatch:DescribeAlarms to tell whether they can page" });
  });
});

describe('trailRow', () => {
  it('passes when a logging trail covers the region: its own, or another region\'s multi-region trail', () => {
    expect(trailRow([{ name: 'org-trail', homeRegion: 'eu-west-1', multiRegion: true, logging: true }], 'us-east-1')).toEqual({
      rule: '(stack)',
      check: 'CloudTrail',
      ok: true,
      detail: 'trail org-trail logs us-east-1, so TrustChangesRule pages on alias retargets, bucket-default changes and ledger- and bus-policy changes, and a job deleted before its verdict is dead-lettered',
    });
    const here = trailRow([{ name: 'local', homeRegion: 'us-east-1', multiRegion: false, logging: true }, { name: 'off', homeRegion: 'us-east-1', multiRegion: false, logging: false }], 'us-east-1');
    expect(here).toMatchObject({ ok: true, detail: expect.stringMatching(/^trail local logs us-east-1/) });
  });

  it('fails, with the command to run, when no trail covers the region or none that does is logging', () => {
    const none = trailRow([{ name: 'eu-only', homeRegion: 'eu-west-1', multiRegion: false, logging: true }], 'us-east-1');
    expect(none.ok).toBe(false);
    expect(none.detail).toBe(
      'no trail covers us-east-1; create one (aws cloudtrail create-trail --name NAME --s3-bucket-name BUCKET --is-multi-region-trail, then aws cloudtrail start-logging --name NAME): ' +
        'until a trail logs us-east-1, EventBridge gets no CloudTrail events there: TrustChangesRule never pages, and a job deleted before its verdict leaves no trace',
    );
    expect(trailRow([], 'us-east-1').ok).toBe(false);
    const stopped = trailRow([{ name: 'main', homeRegion: 'us-east-1', multiRegion: true, logging: false }, { name: 'hidden', homeRegion: 'us-east-1', multiRegion: false }], 'us-east-1');
    expect(stopped).toMatchObject({ ok: false, detail: expect.stringMatching(/^trail main is not logging \(aws cloudtrail start-logging --name main\); the status of trail hidden cannot be read: until a trail logs us-east-1/) });
  });

  it('fails, naming the permissions, when the trails cannot be read', () => {
    expect(trailRow({ error: 'AccessDeniedException: no' }, 'us-east-1')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('trails cannot be read (AccessDeniedException: no); the caller needs cloudtrail:DescribeTrails and cloudtrail:GetTrailStatus'),
    });
  });
});
