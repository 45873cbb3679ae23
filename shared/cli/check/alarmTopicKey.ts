/**
 * `tkp check`'s "alarm topic key" row: whether the alarm topic's encryption lets the stack's
 * pages in. SNS encrypts a topic's messages with its KMS key on behalf of each publisher, and
 * refuses a publish when the key's policy does not let that publisher use the key. The stack's
 * publishers are services: EventBridge (the paging rules) and CloudWatch (the alarms). So a topic
 * under the AWS managed key `alias/aws/sns`, whose policy nobody can change, or under a key whose
 * policy does not name both services, or a disabled key, takes no alarm and no page at all, while
 * its subscriptions look healthy, and no rule can say so, since its page would be refused too.
 * Key policy statements are read, not simulated: conditions are named, never evaluated.
 */
import { STACK_ROW, type CheckRow } from './checkRow';
import { namesPrincipalAndAction, unevaluatedNote, type PolicyStatement } from './policyStatement';

/** The alarm topic's key, as GetTopicAttributes, DescribeKey and GetKeyPolicy tell it. */
export type TopicKeyFacts =
  | { keyId: null }
  | {
      /** KmsMasterKeyId, in whichever form the topic names it. */
      keyId: string;
      key: { arn: string; state: string; managedByAws: boolean } | { error: string };
      /** The key policy's statements; absent for an AWS managed key, whose policy is AWS's. */
      statements?: PolicyStatement[] | { error: string };
    };

/** The stack's publishers to the alarm topic, and what each sends there. */
const PUBLISHERS = { 'events.amazonaws.com': 'the paging rules', 'cloudwatch.amazonaws.com': 'the alarms' } as const;
type Publisher = keyof typeof PUBLISHERS;
/** What SNS does with the key for a publisher (SNS developer guide, "Data encryption": key management). */
const ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;

/** The statement the README gives (Deploy, "An encrypted alarm topic"). */
export const PUBLISHERS_STATEMENT = 'AlarmTopicPublishers';

const isAwsManagedName = (keyId: string) => /(^|:)alias\/aws\//.test(keyId);

/** Whether the key's policy lets the service use the key for SNS, and the conditions that would decide it. */
function grants(statements: readonly PolicyStatement[], service: Publisher): { allowed: boolean; conditions: string[] } {
  // A key policy statement always names its principals and actions; one that does not grants nothing here.
  const applies = (statement: PolicyStatement, action: string) =>
    (statement.Principal ?? statement.NotPrincipal) !== undefined && (statement.Action ?? statement.NotAction) !== undefined && namesPrincipalAndAction(statement, service, action);
  const conditions = new Set<string>();
  const allowed = ACTIONS.every((action) => {
    if (statements.some((statement) => statement.Effect === 'Deny' && statement.Condition === undefined && applies(statement, action))) return false;
    const allowing = statements.filter((statement) => statement.Effect === 'Allow' && applies(statement, action));
    for (const statement of allowing) if (statement.Condition !== undefined) conditions.add(statement.Sid ?? 'a statement');
    return allowing.length > 0;
  });
  return { allowed, conditions: [...conditions] };
}

const ADD_STATEMENT =
  `add the statement ${PUBLISHERS_STATEMENT} (README, Deploy: "An encrypted alarm topic") to its policy: ` +
  'Allow kms:GenerateDataKey* and kms:Decrypt to the services events.amazonaws.com and cloudwatch.amazonaws.com';

/**
 * Fails wherever SNS would refuse the stack's publishers: a key nobody can open to them, a key
 * that is off, a policy that leaves one out, or one the caller cannot read (a refusal there is as
 * silent as any other). Another account's key is the exception: KMS shows its policy to that
 * account alone, so the row names what to ask its owner for instead of failing for ever.
 */
export function alarmTopicKeyRow(topicArn: string, facts: TopicKeyFacts | { error: string }): CheckRow {
  const row = { rule: STACK_ROW, check: 'alarm topic key' };
  const fail = (detail: string): CheckRow => ({ ...row, ok: false, detail });
  if ('error' in facts) return fail(`the attributes of ${topicArn} cannot be read (${facts.error}); the caller needs sns:GetTopicAttributes to tell whether EventBridge and CloudWatch can publish to it`);
  if (facts.keyId === null) return { ...row, ok: true, detail: `${topicArn} is not encrypted with a KMS key, so EventBridge and CloudWatch publish to it without one` };
  const refusesAll = 'SNS refuses every alarm and page published to the topic and none reaches anyone';
  const key = facts.key;
  if (isAwsManagedName(facts.keyId) || ('managedByAws' in key && key.managedByAws)) {
    return fail(
      `${topicArn} is encrypted with the AWS managed key ${facts.keyId}, whose policy AWS writes and nobody can change: it does not let EventBridge or CloudWatch use the key, so ${refusesAll}; ` +
        `encrypt the topic with a customer managed key instead (aws sns set-topic-attributes --topic-arn ${topicArn} --attribute-name KmsMasterKeyId --attribute-value KEY_ARN) and ${ADD_STATEMENT}`,
    );
  }
  if ('error' in key) return fail(`${topicArn} is encrypted with ${facts.keyId}, which cannot be described (${key.error}); if SNS cannot use it either, ${refusesAll}: the caller needs kms:DescribeKey to tell`);
  if (key.state !== 'Enabled') {
    const fix = key.state === 'PendingDeletion' ? `cancel its deletion (aws kms cancel-key-deletion --key-id ${key.arn}) and enable it` : `enable it (aws kms enable-key --key-id ${key.arn})`;
    return fail(`${topicArn} is encrypted with ${key.arn}, which is ${key.state}: ${refusesAll}; ${fix}`);
  }
  const statements = facts.statements;
  const keyAccount = key.arn.split(':')[4];
  if (statements !== undefined && 'error' in statements && keyAccount !== topicArn.split(':')[4]) {
    // KMS answers GetKeyPolicy to the key's own account only.
    return {
      ...row,
      ok: true,
      skipped: true,
      detail: `${topicArn} is encrypted with ${key.arn} (Enabled), whose policy only account ${keyAccount} can read; ask its owner to ${ADD_STATEMENT.replace('its policy', 'the key\'s policy')}`,
    };
  }
  if (statements === undefined || 'error' in statements) {
    const reason = statements === undefined ? 'was not read' : `cannot be read (${statements.error})`;
    return fail(`the policy of ${key.arn}, the alarm topic's key, ${reason}; the caller needs kms:GetKeyPolicy to tell whether EventBridge and CloudWatch may use it (without that, ${refusesAll})`);
  }
  const verdicts = (Object.keys(PUBLISHERS) as Publisher[]).map((service) => ({ service, ...grants(statements, service) }));
  const refused = verdicts.filter((verdict) => !verdict.allowed);
  if (refused.length > 0) {
    const who = refused.map(({ service }) => `${service} (${PUBLISHERS[service]})`).join(' and ');
    return fail(`${topicArn} is encrypted with ${key.arn}, whose policy does not let ${who} use it for kms:GenerateDataKey and kms:Decrypt, so SNS refuses what they publish and it reaches nobody; ${ADD_STATEMENT}`);
  }
  const unchecked = unevaluatedNote(verdicts.flatMap((verdict) => verdict.conditions));
  return { ...row, ok: true, detail: `${topicArn} is encrypted with ${key.arn} (Enabled), whose policy lets EventBridge and CloudWatch use it${unchecked}` };
}
