/**
 * `tkp check`: the rows of the pre-flight table, one per rule and check, each passed or failed
 * with the fix in words. Pure: the AWS answers come in, the verdicts go out. The key probes are
 * keyProbe.ts's, the bucket defaults are read as the verifier reads them, and the notification
 * filters are derived by the same function the stack uses.
 */
import type { NotificationConfiguration } from '@aws-sdk/client-s3';
import { encodeS3EventKey } from '../aws/s3Location';
import type { BucketDefaultEncryption } from '../config/expectedEncryption';
import type { Rule } from '../config/rule';
import { DRY_RUN_OPERATIONS, type KeyProbe, type ProbeCheck } from './keyProbe';

export interface CheckRow extends ProbeCheck {
  /** The rule's prefix, or `(stack)` for checks of the stack as a whole. */
  rule: string;
  check: string;
  /** Not checked (before the first deploy, what the stack creates does not exist yet); not a failure. */
  skipped?: true;
}

export const STACK_ROW = '(stack)';

/**
 * How to mend what changed outside a deploy. A redeploy does not: `serverless deploy` skips a
 * service whose files did not change, and CloudFormation updates only resources whose definition
 * changed, so a rule turned off by hand stays off through any number of deploys.
 */
export const PUT_BACK_README = 'README: "Putting back what changed outside a deploy"';
export const PUT_BACK = `put them back as the stack defines them, which a redeploy does not do (${PUT_BACK_README})`;

/** The rows for one rule's key: resolution, then each DryRun. */
export function keyRows(rule: Rule, probe: KeyProbe | undefined, dryRunIdentity: string): CheckRow[] {
  if (!rule.kmsKey) return [{ rule: rule.prefix, check: 'key', ok: true, detail: 'no key named: the output bucket\'s default encryption applies' }];
  if (!probe?.key) {
    return [{ rule: rule.prefix, check: 'key', ok: false, detail: 'the deployed config has no such rule; deploy this config, then check again' }];
  }
  const rows: CheckRow[] = [{ rule: rule.prefix, check: 'key', ok: probe.key.ok, detail: probe.key.ok ? `${rule.kmsKey.value} -> ${probe.key.detail} (Enabled, SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)` : probe.key.detail }];
  if (!probe.key.ok) return rows;
  for (const operation of DRY_RUN_OPERATIONS) {
    const result = probe.dryRuns[operation];
    const context = rule.encryptionContext ? ` with context ${JSON.stringify(rule.encryptionContext)}` : '';
    rows.push({
      rule: rule.prefix,
      check: `kms:${operation} (DryRun)`,
      ok: result?.ok ?? false,
      detail: result ? (result.ok ? `${result.detail}${context}` : result.detail) : `not checked as ${dryRunIdentity}`,
    });
  }
  return rows;
}

export type BucketDefaultAnswer = { ok: BucketDefaultEncryption } | { error: string };

/**
 * Whether a rule's output bucket works with the rule. A rule with a key overrides the bucket's
 * default; a rule without one gets whatever the default is, and the verifier demands exactly
 * that, so the check says what it will be. A bucket whose default cannot be read fails both:
 * Transcribe cannot write there, or the verifier cannot judge.
 */
export function outputBucketRow(rule: Rule, bucket: string, answer: BucketDefaultAnswer): CheckRow {
  const row = { rule: rule.prefix, check: 'output bucket' };
  if ('error' in answer) return { ...row, ok: false, detail: answer.error };
  const found = answer.ok;
  const described = found.serverSideEncryption === 'AES256' ? 'SSE-S3' : `${found.serverSideEncryption} under ${found.kmsKeyArn}`;
  return rule.kmsKey
    ? { ...row, ok: true, detail: `s3://${bucket}: the rule's key overrides the bucket default (${described})` }
    : {
        ...row,
        ok: true,
        detail:
          `s3://${bucket}: transcripts get the bucket default, ${described}, and the verifier demands it` +
          (found.serverSideEncryption === 'AES256'
            ? ''
            : '; Transcribe writes them with the start role, which the stack allows that key through S3 for this bucket (a key in another account, or one whose key policy does not let IAM policies grant its use, must allow it too)'),
      };
}

/** What S3 applies to an upload into the input bucket that names no key. */
export type InputBucketDefault = { serverSideEncryption: 'AES256' } | { serverSideEncryption: 'aws:kms' | 'aws:kms:dsse'; key: string };

/**
 * What Transcribe meets when it reads the uploads. It reads them with the roles that start jobs,
 * which the stack allows kms:Decrypt on any key through S3 for the input bucket's objects, so an
 * upload under SSE-KMS (the bucket's default or the uploader's choice) is readable as far as IAM
 * goes. The key's own policy can still refuse, and no call the check can make proves otherwise (a
 * DryRun is not made through S3), so the row names the key and what its policy must allow.
 */
export function inputBucketRow(bucket: string, found: InputBucketDefault | { error: string }, readers: readonly string[]): CheckRow {
  const row = { rule: STACK_ROW, check: 'input bucket' };
  if ('error' in found) return { ...row, ok: false, detail: `s3://${bucket}: its default encryption cannot be read (${found.error}); the caller needs s3:GetEncryptionConfiguration on it` };
  const stored = found.serverSideEncryption === 'AES256' ? 'stores uploads under SSE-S3 unless the uploader names a KMS key' : `encrypts uploads with ${found.key} (${found.serverSideEncryption}) unless the uploader names another key`;
  return {
    ...row,
    ok: true,
    detail:
      `s3://${bucket} ${stored}. Transcribe reads an upload under a KMS key with ${readers.join(' or ')}, which the stack allows kms:Decrypt through S3 for this bucket; ` +
      'a key in another account, or one whose key policy does not let IAM policies grant its use, must allow that in its key policy (README: "The key policy another account must grant")',
  };
}

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

/** A verifier's role as GetRole and GetRolePolicy tell it; `found: false` when it does not exist. */
export interface VerifierRoleFacts {
  name: string;
  found: boolean;
  /** Who may assume it, as `Service:NAME` or `AWS:ARN` (the trust policy's Allow statements). */
  trustedBy?: string[];
  /** The Sids of the Deny statements in its own policy (named after the function). */
  denySids?: string[];
}

/**
 * Whether each verifier's role still refuses verdicts from anything but its function's code, and
 * can be assumed by Lambda alone: the guard (iamStatements.ts, verdictWriteGuard) removed, or the
 * role made assumable by a person, lets anyone who gets its credentials publish Verified for a
 * transcript under the wrong key. IAM's calls reach EventBridge in us-east-1 only, so no rule of
 * a stack elsewhere sees such a change; this row sees the result.
 */
export function verifierRolesRow(roles: readonly VerifierRoleFacts[] | { error: string }, guardSids: readonly string[]): CheckRow {
  const row = { rule: STACK_ROW, check: 'verifier roles' };
  if ('error' in roles) {
    return { ...row, ok: false, detail: `the verifiers' roles cannot be read (${roles.error}); the caller needs iam:GetRole and iam:GetRolePolicy to tell whether they refuse forged verdicts` };
  }
  const problems = roles.flatMap((role) => {
    if (!role.found) return [`${role.name} does not exist`];
    const others = (role.trustedBy ?? []).filter((principal) => principal !== 'Service:lambda.amazonaws.com');
    const missing = guardSids.filter((sid) => !(role.denySids ?? []).includes(sid));
    return [
      ...(others.length > 0 ? [`${role.name} may also be assumed by ${others.join(', ')}`] : []),
      ...(missing.length > 0 ? [`${role.name} lacks its Deny statement(s) ${missing.join(', ')}, so code other than its function's may publish verdicts with it`] : []),
    ];
  });
  if (problems.length === 0) {
    return { ...row, ok: true, detail: `${roles.map((role) => role.name).join(', ')}: assumed by Lambda alone, and verdicts refused to any code but their function's` };
  }
  return {
    ...row,
    ok: false,
    detail: `${problems.join('; ')}; ${PUT_BACK}. Until then a verdict may be forged: tkp audit --since the time they changed judges the transcripts themselves`,
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

/** The start queue's ARN from its URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`, or an emulator's). */
export function queueArnFromUrl(url: string, region: string): string {
  const [account, name] = new URL(url).pathname.split('/').filter(Boolean);
  return `arn:aws:sqs:${region}:${account ?? ''}:${name ?? ''}`;
}

/** How many filters or problems one line lists: a config of a hundred prefixes would otherwise fill the screen. */
const LISTED = 10;
/** The first ten items, and how many more there are. */
export const firstTenOf = (items: readonly string[], separator: string) =>
  items.length <= LISTED ? items.join(separator) : `${items.slice(0, LISTED).join(separator)}${separator}and ${items.length - LISTED} more`;

/**
 * Whether the input bucket sends exactly the configured prefixes to the start queue, with each
 * filter written as S3 encodes keys. A filter written raw (`Zürich/` instead of
 * `Z%C3%BCrich/`) never matches and loses every upload under it without a message.
 */
export function notificationRow(current: NotificationConfiguration, queueArn: string, prefixes: readonly string[], inputBucket: string): CheckRow {
  const row = { rule: STACK_ROW, check: `notifications of s3://${inputBucket}` };
  const ours = (current.QueueConfigurations ?? []).filter((q) => q.QueueArn === queueArn);
  const found = ours.map((q) => {
    const filter = q.Filter?.Key?.FilterRules?.find((r) => r.Name?.toLowerCase() === 'prefix')?.Value ?? '';
    const created = (q.Events ?? []).some((e) => e === 's3:ObjectCreated:*');
    return { filter, created };
  });
  const wanted = prefixes.map(encodeS3EventKey);
  const problems: string[] = [];
  for (const filter of wanted) {
    if (!found.some((f) => f.filter === filter)) problems.push(`no notification for prefix ${JSON.stringify(filter)}`);
  }
  for (const f of found) {
    if (!wanted.includes(f.filter)) problems.push(`an extra notification for prefix ${JSON.stringify(f.filter)} that no rule derives`);
    else if (!f.created) problems.push(`the notification for ${JSON.stringify(f.filter)} is not for s3:ObjectCreated:*`);
  }
  if (problems.length === 0) return { ...row, ok: true, detail: `${wanted.length} notification(s) to the start queue, filters ${firstTenOf(wanted.map((w) => JSON.stringify(w)), ', ')}` };
  return {
    ...row,
    ok: false,
    detail: `${firstTenOf(problems, '; ')}; if the config changed since the last deploy, serverless deploy applies it; if the notifications were changed by hand, ${PUT_BACK.replace('them', 'them, encoded as S3 encodes keys,')}`,
  };
}
