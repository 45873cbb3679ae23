/**
 * What `tkp check` expects of a deployed stack, by the names the stack gives its parts: which
 * roles may write the transcript bucket, publish verdicts or page, which rules invoke which
 * function, what the queues take and keep, and what each function runs with. The rows compare
 * what AWS answers with these.
 */
import { needsDataAccessRole } from '../../config/pipelineConfig';
import type { PipelineConfig } from '../../config/rule';
import { alarmTopicName, alertingNames, functionName, outcomeBusName, roleArn, roleName, stackRules, VERIFIERS } from '../../stack/stackNames';
import { QUEUE_SETTINGS } from '../../stack/queueSettings';
import { queueArnFromUrl, SERVICE_NAME, type TargetFlags } from '../cliAws';
import type { TopicPublishers } from './alarmTopicPolicy';
import type { BusPublishers } from './outcomeBusPolicy';
import type { DeployedFunctions } from './stackFunctions';
import type { DeployedQueues } from './stackQueues';
import type { BucketWriters } from './transcriptBucketPolicy';

/** What check works on: the whole stack, or before the first deploy only what the flags name. */
export type CheckTargets = TargetFlags & { stage: string };

/** Which stack: its name's parts and its region. */
export type StackWhere = { service: string; stage: string; region: string };

/** Where the stack's roles are: the caller's partition and account. */
export const rolesWhere = (caller: { arn: string; account: string }) => ({ partition: caller.arn.split(':')[1] ?? 'aws', account: caller.account });

/** A principal of the account that is none of the stack's: how a policy's rows probe "anyone in the account". */
export const outsiderArn = (where: ReturnType<typeof rolesWhere>) => roleArn(where, 'tkp-check-outsider');

/** Who the stack lets write into its transcript bucket, by the role names it gives them, and where its rules put transcripts there. */
export function bucketWriters(config: PipelineConfig, bucket: string, stack: StackWhere, caller: { arn: string; account: string }): BucketWriters {
  const where = rolesWhere(caller);
  return {
    bucket,
    partition: where.partition,
    verifiers: VERIFIERS.map((fn) => roleArn(where, roleName(stack, fn))),
    start: roleArn(where, roleName(stack, 'start')),
    ...(needsDataAccessRole(config) && { dataAccess: roleArn(where, roleName(stack, 'transcribe-data')) }),
    transcriptPrefixes: [...new Set(config.rules.filter((rule) => (rule.output.bucket ?? bucket) === bucket).map((rule) => rule.output.prefix))],
    outsider: outsiderArn(where),
  };
}

/** The stack's EventBridge rules that `keep` picks, by name and ARN (a rule on the outcome bus has the bus in its ARN). */
export function stackRuleArns(stack: StackWhere, caller: { arn: string; account: string }, keep: (rule: ReturnType<typeof stackRules>[number]) => boolean) {
  const { partition, account } = rolesWhere(caller);
  return stackRules(stack)
    .filter(keep)
    .map(({ name, bus }) => ({ name, arn: `arn:${partition}:events:${stack.region}:${account}:rule/${bus ? `${bus}/` : ''}${name}` }));
}

/** Who publishes to the alarm topic: the paging rules (EventBridge) and the alarms (CloudWatch), by the names the stack gives them. */
export function topicPublishers(topicArn: string, stack: StackWhere, caller: { arn: string; account: string }): TopicPublishers {
  const { partition, account } = rolesWhere(caller);
  return {
    topicArn,
    account,
    rules: stackRuleArns(stack, caller, (rule) => 'alarmTopic' in rule.target),
    alarms: Object.values(alertingNames(stack).alarms).map((name) => ({ name, arn: `arn:${partition}:cloudwatch:${stack.region}:${account}:alarm:${name}` })),
    createdByStack: topicArn.endsWith(`:${alarmTopicName(stack)}`),
  };
}

/** What the stack's queues are deployed to take and keep. */
export function deployedQueues(inputBucket: string, stack: StackWhere, caller: { arn: string; account: string }): DeployedQueues {
  const where = rolesWhere(caller);
  return {
    account: caller.account,
    startFunctionArn: `arn:${where.partition}:lambda:${stack.region}:${caller.account}:function:${functionName(stack, 'start')}`,
    startRoleArn: roleArn(where, roleName(stack, 'start')),
    outsider: outsiderArn(where),
    inputBucketArn: `arn:${where.partition}:s3:::${inputBucket}`,
    deadLetterRules: stackRuleArns(stack, caller, (rule) => rule.deadLetter),
    maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount,
    retentionSeconds: { start: QUEUE_SETTINGS.retentionSeconds, deadLetters: QUEUE_SETTINGS.deadLetterRetentionSeconds },
  };
}

/** Who may publish on the outcome bus (the verifiers) and who must not (anyone else in the account, the start role). */
export function busPublishers(stack: StackWhere, caller: { arn: string; account: string }): BusPublishers {
  const where = rolesWhere(caller);
  const busName = outcomeBusName(stack);
  return {
    busName,
    busArn: `arn:${where.partition}:events:${stack.region}:${where.account}:event-bus/${busName}`,
    verifiers: VERIFIERS.map((fn) => roleArn(where, roleName(stack, fn))),
    others: [
      { arn: outsiderArn(where), who: 'anyone in the account' },
      { arn: roleArn(where, roleName(stack, 'start')), who: 'the start role' },
    ],
  };
}

/**
 * What the stack gave its functions, as far as the check knows it: the roles by their fixed names,
 * the queues from the stack's outputs, and the variables whose values say where verdicts and jobs go.
 */
export function deployedFunctions(targets: CheckTargets, stack: StackWhere, caller: { arn: string; account: string }): DeployedFunctions {
  const where = rolesWhere(caller);
  const arnOf = (url: string) => queueArnFromUrl(url, stack.region);
  return {
    roleArn: (role) => roleArn(where, roleName(stack, role)),
    ...(targets.verifyDeadLetterQueueUrl && { verifyDeadLetterQueueArn: arnOf(targets.verifyDeadLetterQueueUrl) }),
    ...(targets.startQueueUrl && { startQueueArn: arnOf(targets.startQueueUrl) }),
    environment: {
      STAGE: targets.stage,
      JOB_NAME_PREFIX: `tkp.${targets.stage}.`,
      OUTCOME_BUS_NAME: outcomeBusName(stack),
      OUTCOME_EVENT_SOURCE: SERVICE_NAME,
      ...(targets.inputBucket && { INPUT_BUCKET: targets.inputBucket }),
      ...(targets.transcriptBucket && { TRANSCRIPT_BUCKET: targets.transcriptBucket }),
      ...(targets.startQueueUrl && { START_QUEUE_URL: targets.startQueueUrl }),
    },
    // The rules that invoke each verifier: the completion and deletion rules the verify function, the schedule the sweeper.
    invokedBy: {
      account: caller.account,
      rules: Object.fromEntries(VERIFIERS.map((fn) => [fn, stackRuleArns(stack, caller, (rule) => 'function' in rule.target && rule.target.function === functionName(stack, fn))])),
    },
    // A queue's URL names its host, which differs by endpoint (a VPC endpoint, the local gateway); its ARN does not.
    sameValue: (name, actual, expected) => {
      if (!name.endsWith('_URL')) return actual === expected;
      try {
        return arnOf(actual) === arnOf(expected);
      } catch {
        return false;
      }
    },
  };
}
