/**
 * `tkp check`'s "stack queues" row: whether the stack's three queues still carry what reaches them
 * and keep what they hold. Each is a place where a changed attribute loses work without a word:
 * - the start queue's policy must let S3 send the input bucket's notifications: S3 drops one it
 *   cannot deliver, so every upload from then on is lost with no job, no verdict, no dead letter;
 * - the verify DLQ's policy must let EventBridge send what a rule could not deliver (a completion
 *   event, a page): without it EventBridge drops it;
 * - the start queue's redrive policy must send a message received 50 times to the start DLQ:
 *   without it a failing upload is retried until the queue's retention ends, then deleted;
 * - no queue may keep its messages for less time than the stack gives it: a message waiting out a
 *   full quota, or a dead letter waiting for a person, would be deleted unread;
 * - no queue may be encrypted with a KMS key instead of SQS's own encryption, as the stack makes
 *   it: every sender and receiver would then need that key (S3 and EventBridge by the key's
 *   policy, the stack's roles by theirs), which nothing grants, and the AWS managed `alias/aws/sqs`
 *   can never let S3 or EventBridge in. Security scanners push teams to do exactly this.
 * - no function but the start function may read the start queue, and none a DLQ: a Lambda
 *   trigger of another function on the start queue takes its share of the uploads, and deletes
 *   them once it returns, so they never become jobs; one on a DLQ deletes the dead letters before
 *   anyone reads why. No queue backs up; QueueTriggersRule pages on the trigger's creation, but
 *   only once, and not while it is off.
 * Policies are judged as the request each sender makes (policyStatement.ts), with the bucket's or
 * rule's ARN as aws:SourceArn, so a policy that names only some of them fails on the others.
 */
import { PUT_BACK_README, STACK_ROW, type CheckRow } from './checkRow';
import { QUEUE_SENDERS, START_QUEUE_RECEIVE_ACTIONS, START_QUEUE_RECEIVER } from '../../stack/stackResources';
import { allowsRequest, deniesRequest, principalContext, unevaluatedNote, type PolicyStatement } from './policyStatement';

/** One queue as GetQueueAttributes tells it; `found: false` when it does not exist. */
export type QueueFacts =
  | { url: string; found: false }
  | {
      url: string;
      found: true;
      arn: string;
      policy: PolicyStatement[];
      redrive?: { deadLetterTargetArn?: string; maxReceiveCount?: number };
      retentionSeconds: number;
      /** KmsMasterKeyId, when a KMS key encrypts the queue instead of SQS's own encryption. */
      kmsKeyId?: string;
      /** The Lambda triggers that read it, each with the function it invokes. */
      consumers: QueueConsumer[];
    };

export interface QueueConsumer {
  uuid: string;
  functionArn: string;
  /** Lambda's state of the trigger: `Enabled`, `Disabled`, `Creating`... */
  state: string;
}

export interface DeployedQueues {
  account: string;
  /** The one function that may read the start queue. */
  startFunctionArn: string;
  /** The role it reads as, the one principal the start queue's policy lets receive. */
  startRoleArn: string;
  /** A principal of the account that is none of the stack's. */
  outsider: string;
  inputBucketArn: string;
  /** The rules whose undeliverable events go to the verify DLQ. */
  deadLetterRules: { name: string; arn: string }[];
  maxReceiveCount: number;
  retentionSeconds: { start: number; deadLetters: number };
}

export interface StackQueueFacts {
  start: QueueFacts;
  startDeadLetters: QueueFacts;
  verifyDeadLetters: QueueFacts;
}

const S3 = 's3.amazonaws.com';
const EVENTBRIDGE = 'events.amazonaws.com';

/** Whether the queue's policy lets the service send from the source; a string names a condition it does not evaluate. */
function lets(queue: QueueFacts & { found: true }, service: string, sourceArn: string, account: string) {
  return allowsRequest(queue.policy, {
    principal: service,
    action: 'sqs:SendMessage',
    resource: queue.arn,
    context: { 'aws:sourcearn': sourceArn, 'aws:sourceaccount': account, 'aws:securetransport': 'true' },
  });
}

/** Whether the queue's policy refuses the principal a message; a string names a condition it does not evaluate. */
function refusesReceive(queue: QueueFacts & { found: true }, principal: string) {
  return deniesRequest(queue.policy, { principal, action: 'sqs:ReceiveMessage', resource: queue.arn, context: principalContext(principal) });
}

/** A function's ARN without a version or alias: a trigger may name either. */
const unqualified = (functionArn: string) => functionArn.split(':').slice(0, 7).join(':');
const reading = (queue: QueueFacts & { found: true }) => queue.consumers.filter((consumer) => consumer.state !== 'Disabled');
const deleteTrigger = (consumer: QueueConsumer) => `aws lambda delete-event-source-mapping --uuid ${consumer.uuid}`;

const setAttribute = (url: string, attribute: string, value: string) => `aws sqs set-queue-attributes --queue-url ${url} --attributes '${JSON.stringify({ [attribute]: value })}'`;
const days = (seconds: number) => `${Math.round((seconds / 86400) * 10) / 10} days`;

export function stackQueuesRow(facts: StackQueueFacts | { error: string }, deployed: DeployedQueues): CheckRow {
  const row = { rule: STACK_ROW, check: 'stack queues' };
  if ('error' in facts) {
    return {
      ...row,
      ok: false,
      detail: `the stack's queues cannot be read (${facts.error}); the caller needs sqs:GetQueueAttributes on them and lambda:ListEventSourceMappings to tell whether uploads and dead letters still reach them and stay there`,
    };
  }
  const problems: string[] = [];
  const unjudged = new Set<string>();
  const judged = (answer: boolean | string) => {
    if (typeof answer === 'string') unjudged.add(answer);
    return answer !== false;
  };
  const { start, startDeadLetters, verifyDeadLetters } = facts;
  // Each queue, how long the stack has it keep messages, and who would need a KMS key on it.
  const queues = [
    { queue: start, what: 'the start queue', keeps: deployed.retentionSeconds.start, keyUsers: 'S3 (to send the notifications) and the start role (to receive them)' },
    { queue: startDeadLetters, what: 'the start DLQ', keeps: deployed.retentionSeconds.deadLetters, keyUsers: 'the start role (to dead-letter an upload)' },
    { queue: verifyDeadLetters, what: 'the verify DLQ', keeps: deployed.retentionSeconds.deadLetters, keyUsers: 'EventBridge (what a rule could not deliver) and the verifiers\' roles (failed verifications)' },
  ];
  for (const { queue, what } of queues) if (!queue.found) problems.push(`${what} ${queue.url} does not exist`);

  if (start.found) {
    if (!judged(lets(start, S3, deployed.inputBucketArn, deployed.account))) {
      problems.push(
        `the start queue's policy refuses ${S3} the notifications of ${deployed.inputBucketArn}, and S3 drops what it cannot deliver: every upload is lost with no job and no dead letter ` +
          `(put back the statement ${QUEUE_SENDERS.startQueue}, then tkp backfill transcribes what was uploaded meanwhile, once each)`,
      );
    }
    const target = startDeadLetters.found ? startDeadLetters.arn : undefined;
    const redrive = start.redrive;
    if (!redrive?.deadLetterTargetArn || (target && redrive.deadLetterTargetArn !== target) || redrive.maxReceiveCount !== deployed.maxReceiveCount) {
      const now = redrive?.deadLetterTargetArn ? `sends to ${redrive.deadLetterTargetArn} after ${redrive.maxReceiveCount ?? '?'} receives` : 'has no redrive policy';
      problems.push(
        `the start queue ${now}, not to the start DLQ after ${deployed.maxReceiveCount}: an upload that keeps failing is retried until its ${days(deployed.retentionSeconds.start)} end and then deleted, with no dead letter ` +
          `(${setAttribute(start.url, 'RedrivePolicy', JSON.stringify({ deadLetterTargetArn: target ?? 'START_DLQ_ARN', maxReceiveCount: deployed.maxReceiveCount }))})`,
      );
    }
  }
  if (start.found) {
    const receiver = `${START_QUEUE_RECEIVER}: Deny ${START_QUEUE_RECEIVE_ACTIONS.join(', ')} on ${start.arn} to every principal whose aws:PrincipalArn is not ${deployed.startRoleArn}`;
    const outsider = refusesReceive(start, deployed.outsider);
    if (typeof outsider === 'string') unjudged.add(outsider);
    else if (!outsider) {
      problems.push(
        `the start queue's policy lets principals other than the start role receive its messages, so anyone in the account whose IAM policy allows sqs:ReceiveMessage (a script, another function's trigger) can take uploads that then never become jobs, with no page ` +
          `(put back the statement ${receiver}; then tkp backfill --since the time it was removed transcribes what was taken, once each)`,
      );
    }
    if (refusesReceive(start, deployed.startRoleArn) === true) {
      problems.push(`the start queue's policy refuses the start role ${deployed.startRoleArn} its messages, so no upload becomes a job (put back the statement ${receiver})`);
    }
    for (const consumer of reading(start).filter(({ functionArn }) => unqualified(functionArn) !== deployed.startFunctionArn)) {
      problems.push(
        `${consumer.functionArn} also reads the start queue through a trigger that is ${consumer.state}, so the uploads it takes never become jobs: no verdict, no dead letter ` +
          `(${deleteTrigger(consumer)}, then tkp backfill --since the time it was created transcribes them, once each)`,
      );
    }
  }
  for (const { queue, what } of [
    { queue: startDeadLetters, what: 'the start DLQ' },
    { queue: verifyDeadLetters, what: 'the verify DLQ' },
  ]) {
    if (!queue.found) continue;
    for (const consumer of reading(queue)) {
      problems.push(`${consumer.functionArn} reads ${what} through a trigger that is ${consumer.state}, so the dead letters it takes are deleted before anyone reads why (${deleteTrigger(consumer)})`);
    }
  }
  if (verifyDeadLetters.found) {
    const refused = deployed.deadLetterRules.filter(({ arn }) => !judged(lets(verifyDeadLetters, EVENTBRIDGE, arn, deployed.account)));
    if (refused.length > 0) {
      problems.push(
        `the verify DLQ's policy refuses ${EVENTBRIDGE} what ${refused.map(({ name }) => name).join(', ')} could not deliver, so EventBridge drops it (a completion event, a page) instead of dead-lettering it ` +
          `(put back the statement ${QUEUE_SENDERS.verifyDeadLetterQueue})`,
      );
    }
  }
  for (const { queue, what, keeps, keyUsers } of queues) {
    if (!queue.found) continue;
    if (queue.retentionSeconds < keeps) {
      problems.push(`${what} keeps messages ${queue.retentionSeconds} s, not ${keeps} (${days(keeps)}), so what waits there longer is deleted unread (${setAttribute(queue.url, 'MessageRetentionPeriod', String(keeps))})`);
    }
    if (queue.kmsKeyId) {
      problems.push(
        `${what} is encrypted with the KMS key ${queue.kmsKeyId}, not with SQS's own encryption as the stack makes it: ${keyUsers} must then be allowed to use that key, which nothing in the stack grants (and the AWS managed alias/aws/sqs never lets a service in), so what they send or receive is refused ` +
          `(${setAttribute(queue.url, 'SqsManagedSseEnabled', 'true')})`,
      );
    }
  }

  const notJudged = unevaluatedNote(unjudged);
  if (problems.length === 0) {
    return {
      ...row,
      ok: true,
      detail: `S3 delivers uploads to the start queue, which hands a failing one to the start DLQ after ${deployed.maxReceiveCount} receives; the verify DLQ takes what the ${deployed.deadLetterRules.length} rules cannot deliver; no function but the start function reads them, and no principal but the start role may receive from the start queue; no queue keeps messages for less than the stack gives it or is encrypted with a KMS key${notJudged}`,
    };
  }
  return { ...row, ok: false, detail: `${problems.join('; ')}${notJudged}; put the queues back as the stack defines them, which a redeploy does not do (${PUT_BACK_README})` };
}
