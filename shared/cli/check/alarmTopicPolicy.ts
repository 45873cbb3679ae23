/**
 * `tkp check`'s "alarm topic policy" row: whether the alarm topic's own policy lets the stack's
 * publishers in. They are services, EventBridge for the seven paging rules and CloudWatch for the
 * alarms, and SNS takes a service's message only where the topic's policy names it: the policy a
 * topic made by hand or in the console starts with lets the account's principals publish, not
 * EventBridge. A refused page goes to the verify DLQ, whose alarm then says "verify DLQ" instead of
 * what happened; a refused alarm reaches nobody. Nothing pages about either, since the page would
 * be refused too. Each publish is judged as the request it is (the service, sns:Publish on the
 * topic, the rule's or alarm's ARN as aws:SourceArn, the account as aws:SourceAccount), so a
 * policy that names only some rules or alarms fails on the others.
 */
import { ALARM_TOPIC_PUBLISHERS_SID } from '../../stack/alarmResources';
import { PUT_BACK_README, STACK_ROW, type CheckRow } from './checkRow';
import { allowsRequest, unevaluatedNote, type PolicyStatement } from './policyStatement';

/** The topic policy's statements, or why GetTopicAttributes could not be read. */
export type TopicPolicyAnswer = { statements: PolicyStatement[] } | { error: string };

export interface TopicPublishers {
  topicArn: string;
  /** The stack's account: what its rules and alarms publish as (aws:SourceAccount). */
  account: string;
  /** The rules that page to the topic, and the alarms that act on it, by name and ARN. */
  rules: { name: string; arn: string }[];
  alarms: { name: string; arn: string }[];
  /** Whether the stack created the topic (its policy is the stack's) or the operator brought it (alarmTopicArn). */
  createdByStack: boolean;
}

const EVENTBRIDGE = 'events.amazonaws.com';
const CLOUDWATCH = 'cloudwatch.amazonaws.com';

/**
 * What a publish carries for the condition keys this knows (undefined: known to be absent).
 * CloudWatch also carries the legacy `aws:SourceOwner` that the policy SNS gives a new topic
 * conditions on, as every topic made for alarms in the console shows; EventBridge does not, which
 * is why that policy keeps its pages out (AWS knowledge center, "SNS not getting EventBridge
 * notification": the policy must name `events.amazonaws.com` as a Service).
 */
function publishContext(service: string, sourceArn: string, account: string): Record<string, string | undefined> {
  return { 'aws:sourcearn': sourceArn, 'aws:sourceaccount': account, 'aws:sourceowner': service === CLOUDWATCH ? account : undefined, 'aws:securetransport': 'true' };
}

export function alarmTopicPolicyRow(answer: TopicPolicyAnswer, publishers: TopicPublishers): CheckRow {
  const row = { rule: STACK_ROW, check: 'alarm topic policy' };
  const { topicArn, account } = publishers;
  if ('error' in answer) {
    return { ...row, ok: false, detail: `the policy of ${topicArn} cannot be read (${answer.error}); the caller needs sns:GetTopicAttributes to tell whether EventBridge and CloudWatch may publish to it` };
  }
  const unjudged = new Set<string>();
  const refusedOf = (service: string, sources: TopicPublishers['rules']) =>
    sources.filter(({ arn }) => {
      const allowed = allowsRequest(answer.statements, { principal: service, action: 'sns:Publish', resource: topicArn, context: publishContext(service, arn, account) });
      if (typeof allowed === 'string') unjudged.add(allowed);
      return allowed === false;
    });
  const pages = refusedOf(EVENTBRIDGE, publishers.rules);
  const alarms = refusedOf(CLOUDWATCH, publishers.alarms);
  const notJudged = unevaluatedNote(unjudged);
  if (pages.length === 0 && alarms.length === 0) {
    return {
      ...row,
      ok: true,
      detail: `${topicArn} lets EventBridge publish the pages of the ${publishers.rules.length} paging rules and CloudWatch the ${publishers.alarms.length} alarms${notJudged}`,
    };
  }
  const names = (sources: TopicPublishers['rules']) => sources.map(({ name }) => name).join(', ');
  const harm = [
    ...(pages.length > 0 ? [`SNS refuses ${EVENTBRIDGE} the pages of ${names(pages)} (each goes to the verify DLQ instead, so the page that arrives, if any, is that queue's alarm and not what happened)`] : []),
    ...(alarms.length > 0 ? [`SNS refuses ${CLOUDWATCH} the alarms ${names(alarms)}, so they reach nobody`] : []),
  ].join('; ');
  const statement =
    `the statement ${ALARM_TOPIC_PUBLISHERS_SID}: Allow sns:Publish on ${topicArn} to the services ${EVENTBRIDGE} and ${CLOUDWATCH} where aws:SourceAccount is ${account}`;
  const fix = publishers.createdByStack
    ? `put the topic's policy back as the stack defines it (${statement}), which a redeploy does not do (${PUT_BACK_README})`
    : `add ${statement} to the topic's policy (README, Deploy: "Alarms"; aws sns set-topic-attributes --attribute-name Policy replaces the whole policy, so keep its other statements)`;
  return { ...row, ok: false, detail: `${topicArn}: ${harm}${notJudged}; ${fix}` };
}
