/**
 * `tkp check`'s rows on whether a page can reach a person: a CloudTrail trail that lets the
 * CloudTrail rules see anything, the alarm topic's confirmed subscriptions, the stack's
 * EventBridge rules on and sending where the stack sends them, and its alarms on and sending to
 * the topic.
 */
import { PUT_BACK, STACK_ROW, type CheckRow } from './checkRow';

/** One CloudTrail trail, as far as TrustChangesRule and the verifier's deleted-job rule depend on it. */
export interface TrailFacts {
  name: string;
  homeRegion?: string;
  multiRegion: boolean;
  /** Undefined when the trail's status could not be read. */
  logging?: boolean;
}

/**
 * Whether TrustChangesRule can ever page, and the verifier ever hear of a deleted job:
 * EventBridge receives `AWS API Call via CloudTrail`
 * events only where a trail with logging on covers the region (a multi-region trail, or one
 * whose home is the region). Without one, both rules are deployed and match nothing, silently.
 */
export function trailRow(trails: readonly TrailFacts[] | { error: string }, region: string): CheckRow {
  const row = { rule: STACK_ROW, check: 'CloudTrail' };
  const pages = 'TrustChangesRule pages on alias retargets, bucket-default changes and ledger- and bus-policy changes, and a job deleted before its verdict is dead-lettered';
  if ('error' in trails) {
    return { ...row, ok: false, detail: `trails cannot be read (${trails.error}); the caller needs cloudtrail:DescribeTrails and cloudtrail:GetTrailStatus to tell whether ${pages}` };
  }
  const covering = trails.filter((trail) => trail.multiRegion || trail.homeRegion === region);
  const logging = covering.filter((trail) => trail.logging === true);
  if (logging.length > 0) return { ...row, ok: true, detail: `trail ${logging.map((trail) => trail.name).join(', ')} logs ${region}, so ${pages}` };
  const fix =
    covering.length === 0
      ? `no trail covers ${region}; create one (aws cloudtrail create-trail --name NAME --s3-bucket-name BUCKET --is-multi-region-trail, then aws cloudtrail start-logging --name NAME)`
      : covering.map((trail) => (trail.logging === false ? `trail ${trail.name} is not logging (aws cloudtrail start-logging --name ${trail.name})` : `the status of trail ${trail.name} cannot be read`)).join('; ');
  return { ...row, ok: false, detail: `${fix}: until a trail logs ${region}, EventBridge gets no CloudTrail events there: TrustChangesRule never pages, and a job deleted before its verdict leaves no trace` };
}

/** One subscription of the alarm topic, as ListSubscriptionsByTopic lists it. */
export interface SubscriptionFacts {
  protocol: string;
  endpoint: string;
  /** False while its subscriber has not confirmed it (SNS lists it as `PendingConfirmation`). */
  confirmed: boolean;
}

const subscriber = (subscription: SubscriptionFacts) => `${subscription.protocol} ${subscription.endpoint}`;

/**
 * Whether a page can reach a person: every alarm, paging verdict and CloudTrail page goes to the
 * alarm topic, which delivers only to confirmed subscriptions. A topic with none (an email
 * address that never confirmed, the last subscriber removed) takes every page and delivers none,
 * and no rule can tell, since the page saying so would go to the same topic.
 */
export function alarmTopicRow(topicArn: string, subscriptions: readonly SubscriptionFacts[] | { error: string }): CheckRow {
  const row = { rule: STACK_ROW, check: 'alarm topic' };
  if ('error' in subscriptions) {
    return { ...row, ok: false, detail: `the subscriptions of ${topicArn} cannot be read (${subscriptions.error}); the caller needs sns:ListSubscriptionsByTopic to tell whether a page reaches anyone` };
  }
  const confirmed = subscriptions.filter((subscription) => subscription.confirmed);
  const pending = subscriptions.filter((subscription) => !subscription.confirmed);
  const waiting = pending.length > 0 ? `; not yet confirmed: ${pending.map(subscriber).join(', ')} (confirm the message AWS sent)` : '';
  if (confirmed.length > 0) return { ...row, ok: true, detail: `${topicArn} delivers every alarm and page to ${confirmed.map(subscriber).join(', ')}${waiting}` };
  return {
    ...row,
    ok: false,
    detail:
      `${topicArn} has no confirmed subscription, so no alarm or page reaches anyone${waiting}; ` +
      `subscribe someone (aws sns subscribe --topic-arn ${topicArn} --protocol email --notification-endpoint ADDRESS, or serverless deploy --param="alarmEmail=ADDRESS" for an address the stack has not subscribed before) and confirm it`,
  };
}

/**
 * One of the stack's EventBridge rules: where it should send (stackRules in
 * shared/stack/stackNames.ts), and as DescribeRule and ListTargetsByRule tell it, with no state
 * when it does not exist.
 */
export interface RuleFacts {
  name: string;
  /** The rule's event bus, when it is not the default one. */
  bus?: string;
  target: { function: string } | { alarmTopic: true };
  deadLetter: boolean;
  /** The input template of a CloudTrail rule's page (changePageInputs in shared/stack/alarmResources.ts). */
  pageTemplate?: string;
  state?: string;
  targets?: { arn: string; deadLetterArn?: string; inputTemplate?: string }[];
}

/** Whether a target is the function by name (unqualified: a version or alias would run other code), or the topic. */
function isExpectedTarget(rule: RuleFacts, arn: string, alarmTopicArn: string | undefined): boolean {
  if ('function' in rule.target) return /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:/.test(arn) && arn.split(':').slice(6).join(':') === rule.target.function;
  return alarmTopicArn === undefined ? arn.includes(':sns:') : arn === alarmTopicArn;
}

/** What a rule's problem is, if any: missing, off, or on but not sending where the stack sends. */
function ruleProblem(rule: RuleFacts, alarmTopicArn: string | undefined): string | undefined {
  if (rule.state === undefined) return `${rule.name} does not exist`;
  if (rule.state !== 'ENABLED') return `${rule.name} is ${rule.state} (aws events enable-rule --name ${rule.name}${rule.bus ? ` --event-bus-name ${rule.bus}` : ''})`;
  const destination = 'function' in rule.target ? `the function ${rule.target.function}` : `the alarm topic${alarmTopicArn ? ` ${alarmTopicArn}` : ''}`;
  const target = (rule.targets ?? []).find((candidate) => isExpectedTarget(rule, candidate.arn, alarmTopicArn));
  if (!target) {
    const others = (rule.targets ?? []).map((candidate) => candidate.arn);
    return `${rule.name} is on but does not send to ${destination} (${others.length > 0 ? `it sends to ${others.join(', ')}` : 'it has no target'})`;
  }
  if (rule.deadLetter && !target.deadLetterArn) return `${rule.name} sends to ${destination} without its dead-letter queue, so an event it cannot deliver is lost`;
  if (rule.pageTemplate !== undefined && target.inputTemplate !== rule.pageTemplate) {
    return `${rule.name} sends to ${destination} ${target.inputTemplate ? 'another text than' : 'without'} its page's input template, so whoever is paged is not told what to do`;
  }
  return undefined;
}

/**
 * Whether the stack's EventBridge rules are all on and send where the stack sends them: the
 * verifier's (a rule turned off, or sending elsewhere, means its completions or deletions never
 * reach it), the sweeper's schedule, and the seven that page. Each change pages through
 * AlertingChangesRule or VerifierChangesRule, but not while both watchers are off (turned off
 * within the seconds CloudTrail takes, and perhaps back on since); this row sees the result.
 */
export function alertingRulesRow(rules: readonly RuleFacts[] | { error: string }, alarmTopicArn?: string): CheckRow {
  const row = { rule: STACK_ROW, check: 'EventBridge rules' };
  if ('error' in rules) {
    return { ...row, ok: false, detail: `the stack's rules cannot be read (${rules.error}); the caller needs events:DescribeRule and events:ListTargetsByRule to tell whether they are on and where they send` };
  }
  const problems = rules.flatMap((rule) => ruleProblem(rule, alarmTopicArn) ?? []);
  if (problems.length === 0) {
    return { ...row, ok: true, detail: `all ${rules.length} are enabled and send to their function or the alarm topic: ${rules.map((rule) => rule.name).join(', ')}` };
  }
  return {
    ...row,
    ok: false,
    detail: `${problems.join('; ')}; ${PUT_BACK}. Until then what they carry (completion events, sweeps, pages) reaches no one: afterwards, tkp audit --since the time they changed`,
  };
}

/** One of the stack's alarms as DescribeAlarms tells it; `found: false` when it does not exist. */
export interface AlarmFacts {
  name: string;
  found: boolean;
  actionsEnabled?: boolean;
  actions?: string[];
}

/**
 * Whether the stack's alarms can page: each exists, has its actions on, and sends its alarm to
 * the alarm topic. An alarm deleted, silenced or pointed elsewhere pages through
 * AlertingChangesRule when it happens; this row sees the state whatever happened.
 */
export function alarmsRow(alarms: readonly AlarmFacts[] | { error: string }, topicArn: string): CheckRow {
  const row = { rule: STACK_ROW, check: 'CloudWatch alarms' };
  if ('error' in alarms) return { ...row, ok: false, detail: `the stack's alarms cannot be read (${alarms.error}); the caller needs cloudwatch:DescribeAlarms to tell whether they can page` };
  const problems = alarms.flatMap((alarm) => {
    if (!alarm.found) return [`${alarm.name} does not exist`];
    if (alarm.actionsEnabled === false) return [`${alarm.name} has its actions disabled (aws cloudwatch enable-alarm-actions --alarm-names ${alarm.name})`];
    if (!(alarm.actions ?? []).includes(topicArn)) return [`${alarm.name} does not send its alarm to ${topicArn}`];
    return [];
  });
  if (problems.length === 0) return { ...row, ok: true, detail: `all ${alarms.length} send their alarm to the alarm topic: ${alarms.map((alarm) => alarm.name).join(', ')}` };
  return { ...row, ok: false, detail: `${problems.join('; ')}; ${PUT_BACK}. Until then that alarm pages no one: read the DLQs and the outcome bus yourself` };
}
