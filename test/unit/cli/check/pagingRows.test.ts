import { describe, expect, it } from 'vitest';
import { alarmsRow, alarmTopicRow, alertingRulesRow, trailRow } from '../../../../shared/cli/check/pagingRows';

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
