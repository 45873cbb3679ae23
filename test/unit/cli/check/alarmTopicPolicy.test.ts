import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alarmTopicPolicyRow, type TopicPublishers } from '../../../../shared/cli/check/alarmTopicPolicy';
import type { PolicyStatement } from '../../../../shared/cli/check/policyStatement';
import { alarmTopicPublishers } from '../../../../shared/stack/alarmResources';

const ACCOUNT = '123456789012';
const topicArn = `arn:aws:sns:us-east-1:${ACCOUNT}:ops-pager`;
const rule = (name: string, bus?: string) => ({ name, arn: `arn:aws:events:us-east-1:${ACCOUNT}:rule/${bus ? `${bus}/` : ''}${name}` });
const alarm = (name: string) => ({ name, arn: `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${name}` });
const brought: TopicPublishers = {
  topicArn,
  account: ACCOUNT,
  rules: [rule('tkp-dev-paging-verdicts', 'tkp-dev-outcomes'), rule('tkp-dev-trust-changes'), rule('tkp-dev-verifier-changes'), rule('tkp-dev-alerting-changes')],
  alarms: [alarm('tkp-dev-start-dead-letters'), alarm('tkp-dev-verify-dead-letters')],
  createdByStack: false,
};

/** The policy SNS gives a topic created without one (console, CLI, CreateTopic). */
const SNS_DEFAULT: PolicyStatement = {
  Sid: '__default_statement_ID',
  Effect: 'Allow',
  Principal: { AWS: '*' },
  Action: ['SNS:GetTopicAttributes', 'SNS:SetTopicAttributes', 'SNS:Subscribe', 'SNS:ListSubscriptionsByTopic', 'SNS:Publish'],
  Resource: topicArn,
  Condition: { StringEquals: { 'AWS:SourceOwner': ACCOUNT } },
};
const STACKS = alarmTopicPublishers(topicArn, ACCOUNT) as PolicyStatement;
const ADD =
  `add the statement AlarmsAndPagingVerdicts: Allow sns:Publish on ${topicArn} to the services events.amazonaws.com and cloudwatch.amazonaws.com where aws:SourceAccount is ${ACCOUNT} ` +
  'to the topic\'s policy (README, Deploy: "Alarms"; aws sns set-topic-attributes --attribute-name Policy replaces the whole policy, so keep its other statements)';
const PAGES_REFUSED = (rules: string) =>
  `SNS refuses events.amazonaws.com the pages of ${rules} (each goes to the verify DLQ instead, so the page that arrives, if any, is that queue's alarm and not what happened)`;
const ALL_RULES = 'tkp-dev-paging-verdicts, tkp-dev-trust-changes, tkp-dev-verifier-changes, tkp-dev-alerting-changes';

describe('alarmTopicPolicyRow', () => {
  it('passes the statement the stack gives the topic it creates', () => {
    expect(alarmTopicPolicyRow({ statements: [SNS_DEFAULT, STACKS] }, brought)).toEqual({
      rule: '(stack)',
      check: 'alarm topic policy',
      ok: true,
      detail: `${topicArn} lets EventBridge publish the pages of the 4 paging rules and CloudWatch the 2 alarms`,
    });
  });

  it('fails SNS\'s default policy, which lets CloudWatch in but not EventBridge, naming every paging rule and the statement to add', () => {
    expect(alarmTopicPolicyRow({ statements: [SNS_DEFAULT] }, brought)).toEqual({
      rule: '(stack)',
      check: 'alarm topic policy',
      ok: false,
      detail: `${topicArn}: ${PAGES_REFUSED(ALL_RULES)}; ${ADD}`,
    });
  });

  it('for the topic the stack created, says to put its policy back, which a deploy does not do', () => {
    const row = alarmTopicPolicyRow({ statements: [] }, { ...brought, createdByStack: true });
    expect(row.ok).toBe(false);
    expect(row.detail).toBe(
      `${topicArn}: ${PAGES_REFUSED(ALL_RULES)}; SNS refuses cloudwatch.amazonaws.com the alarms tkp-dev-start-dead-letters, tkp-dev-verify-dead-letters, so they reach nobody; ` +
        `put the topic's policy back as the stack defines it (the statement AlarmsAndPagingVerdicts: Allow sns:Publish on ${topicArn} to the services events.amazonaws.com and cloudwatch.amazonaws.com where aws:SourceAccount is ${ACCOUNT}), ` +
        'which a redeploy does not do (README: "Putting back what changed outside a deploy")',
    );
  });

  it('judges each rule and alarm by its own ARN, so a policy that names some fails on the others (the outcome bus\'s rule included)', () => {
    const someRules: PolicyStatement = {
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:events:us-east-1:${ACCOUNT}:rule/tkp-dev-*` } },
    };
    const alarms: PolicyStatement = { Effect: 'Allow', Principal: { Service: ['cloudwatch.amazonaws.com'] }, Action: 'SNS:Publish', Resource: '*', Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:tkp-dev-*` } } };
    // rule/tkp-dev-outcomes/tkp-dev-paging-verdicts matches rule/tkp-dev-* too: IAM's * spans "/".
    expect(alarmTopicPolicyRow({ statements: [someRules, alarms] }, brought).ok).toBe(true);
    const named = { ...someRules, Condition: { ArnEquals: { 'aws:SourceArn': [rule('tkp-dev-trust-changes').arn, rule('tkp-dev-alerting-changes').arn] } } };
    expect(alarmTopicPolicyRow({ statements: [named, alarms] }, brought).detail).toBe(`${topicArn}: ${PAGES_REFUSED('tkp-dev-paging-verdicts, tkp-dev-verifier-changes')}; ${ADD}`);
    const otherAccount = { ...STACKS, Condition: { StringEquals: { 'aws:SourceAccount': '999988887777' } } };
    expect(alarmTopicPolicyRow({ statements: [otherAccount] }, brought).ok).toBe(false);
  });

  it('fails where a Deny refuses a publisher, however much is allowed', () => {
    const denyEvents: PolicyStatement = { Effect: 'Deny', Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:*', Resource: topicArn };
    expect(alarmTopicPolicyRow({ statements: [STACKS, denyEvents] }, brought).detail).toBe(`${topicArn}: ${PAGES_REFUSED(ALL_RULES)}; ${ADD}`);
    // A guard against other accounts leaves the stack's own publishers alone.
    const otherAccounts: PolicyStatement = { Effect: 'Deny', Principal: '*', Action: 'sns:Publish', Resource: topicArn, Condition: { StringNotEquals: { 'aws:SourceAccount': ACCOUNT } } };
    expect(alarmTopicPolicyRow({ statements: [STACKS, otherAccounts] }, brought).ok).toBe(true);
  });

  it('names a condition it does not evaluate instead of guessing', () => {
    const viaOrg = { ...STACKS, Condition: { StringEquals: { 'aws:SourceOrgID': 'o-abc' } } };
    expect(alarmTopicPolicyRow({ statements: [viaOrg] }, brought)).toMatchObject({
      ok: true,
      detail: `${topicArn} lets EventBridge publish the pages of the 4 paging rules and CloudWatch the 2 alarms (on conditions this check does not evaluate: AlarmsAndPagingVerdicts uses StringEquals on aws:SourceOrgID)`,
    });
  });

  it('fails when the policy cannot be read, naming the permission', () => {
    expect(alarmTopicPolicyRow({ error: 'AuthorizationErrorException: not allowed' }, brought).detail).toBe(
      `the policy of ${topicArn} cannot be read (AuthorizationErrorException: not allowed); the caller needs sns:GetTopicAttributes to tell whether EventBridge and CloudWatch may publish to it`,
    );
  });

  it('gives the statement the README gives an operator who brings a topic', () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const block = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1] as string).find((json) => json.includes('"AlarmsAndPagingVerdicts"'));
    expect(JSON.parse(block ?? '{}')).toEqual(alarmTopicPublishers('arn:aws:sns:REGION:ACCOUNT:TOPIC', 'ACCOUNT'));
  });
});
