import { describe, expect, it } from 'vitest';
import type { PolicyStatement } from '../../../../shared/cli/check/policyStatement';
import { stackQueuesRow, type DeployedQueues, type QueueFacts, type StackQueueFacts } from '../../../../shared/cli/check/stackQueues';
import { QUEUE_SETTINGS } from '../../../../shared/stack/queueSettings';
import { derivedResources } from '../../../../shared/stack/stackResources';
import { validatePipelineConfig } from '../../../../shared/config/pipelineConfig';

const ACCOUNT = '123456789012';
const queue = (name: string) => ({ url: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${name}`, arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}` });
const START = queue('tkp-dev-StartQueue-1');
const START_DLQ = queue('tkp-dev-StartDeadLetterQueue-2');
const VERIFY_DLQ = queue('tkp-dev-VerifyDeadLetterQueue-3');
const rule = (name: string) => ({ name, arn: `arn:aws:events:us-east-1:${ACCOUNT}:rule/${name}` });
const START_FUNCTION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:tkp-dev-start`;
const START_ROLE = `arn:aws:iam::${ACCOUNT}:role/tkp-dev-us-east-1-start`;
const deployed: DeployedQueues = {
  account: ACCOUNT,
  startFunctionArn: START_FUNCTION,
  startRoleArn: START_ROLE,
  outsider: `arn:aws:iam::${ACCOUNT}:role/tkp-check-outsider`,
  inputBucketArn: 'arn:aws:s3:::tkp-dev-input',
  deadLetterRules: [rule('tkp-dev-verify-rule-1'), rule('tkp-dev-trust-changes')],
  maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount,
  retentionSeconds: { start: QUEUE_SETTINGS.retentionSeconds, deadLetters: QUEUE_SETTINGS.deadLetterRetentionSeconds },
};

/** The queue policies the stack deploys, with CloudFormation's values filled in as GetQueueAttributes returns them. */
function deployedPolicy(resource: 'StartQueuePolicy' | 'VerifyDeadLetterQueuePolicy', arn: string): PolicyStatement[] {
  const resources = derivedResources({
    service: 'tkp',
    stage: 'dev',
    region: 'us-east-1',
    jobNamePrefix: 'tkp.dev.',
    config: validatePipelineConfig({ rules: [{ prefix: 'a/', languageCode: 'en-US' }] }, { region: 'us-east-1' }),
    existingInputBucket: 'tkp-dev-input',
  }) as Record<string, { Properties: { PolicyDocument: { Statement: unknown[] } } }>;
  const resolve = (value: any): any => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    if ('Fn::GetAtt' in value) return value['Fn::GetAtt'][0] === 'StartRole' ? START_ROLE : arn;
    if ('Ref' in value) return value.Ref === 'AWS::AccountId' ? ACCOUNT : value.Ref;
    if ('Fn::Sub' in value) return value['Fn::Sub'].replace('${AWS::Partition}', 'aws');
    if ('Fn::Join' in value) return value['Fn::Join'][1].map(resolve).join(value['Fn::Join'][0]);
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]));
  };
  return resolve(resources[resource]?.Properties.PolicyDocument.Statement);
}

function healthy(): StackQueueFacts {
  return {
    start: {
      ...START,
      found: true,
      policy: deployedPolicy('StartQueuePolicy', START.arn),
      redrive: { deadLetterTargetArn: START_DLQ.arn, maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount },
      retentionSeconds: QUEUE_SETTINGS.retentionSeconds,
      consumers: [{ uuid: 'u-start', functionArn: START_FUNCTION, state: 'Enabled' }],
    },
    startDeadLetters: { ...START_DLQ, found: true, policy: [], retentionSeconds: QUEUE_SETTINGS.deadLetterRetentionSeconds, consumers: [] },
    verifyDeadLetters: { ...VERIFY_DLQ, found: true, policy: deployedPolicy('VerifyDeadLetterQueuePolicy', VERIFY_DLQ.arn), retentionSeconds: QUEUE_SETTINGS.deadLetterRetentionSeconds, consumers: [] },
  };
}
const found = (facts: QueueFacts) => facts as QueueFacts & { found: true };
const PUT_BACK = 'put the queues back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy")';

describe('stackQueuesRow', () => {
  it('passes the queues as the stack deploys them', () => {
    expect(stackQueuesRow(healthy(), deployed)).toEqual({
      rule: '(stack)',
      check: 'stack queues',
      ok: true,
      detail:
        'S3 delivers uploads to the start queue, which hands a failing one to the start DLQ after 50 receives; the verify DLQ takes what the 2 rules cannot deliver; no function but the start function reads them, and no principal but the start role may receive from the start queue; no queue keeps messages for less than the stack gives it or is encrypted with a KMS key',
    });
  });

  it('fails a start queue whose policy lets others receive, since what they take never becomes a job, or refuses the start role, naming the statement to put back', () => {
    const receiver = `ReceivesOnlyByStartFunction: Deny sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility on ${START.arn} to every principal whose aws:PrincipalArn is not ${START_ROLE}`;
    const facts = healthy();
    const [senders, receivers] = found(facts.start).policy;
    expect(receivers).toEqual({
      Sid: 'ReceivesOnlyByStartFunction',
      Effect: 'Deny',
      Principal: '*',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
      Resource: START.arn,
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': START_ROLE }, Null: { 'aws:PrincipalArn': 'false' } },
    });
    found(facts.start).policy = [senders!];
    expect(stackQueuesRow(facts, deployed).detail).toBe(
      'the start queue\'s policy lets principals other than the start role receive its messages, so anyone in the account whose IAM policy allows sqs:ReceiveMessage (a script, another function\'s trigger) can take uploads that then never become jobs, with no page ' +
        `(put back the statement ${receiver}; then tkp backfill --since the time it was removed transcribes what was taken, once each); ${PUT_BACK}`,
    );
    // Narrowed to DeleteMessage alone, it refuses nobody a message.
    found(facts.start).policy = [senders!, { ...receivers!, Action: 'sqs:DeleteMessage' }];
    expect(stackQueuesRow(facts, deployed).ok).toBe(false);
    // Pointed at another role: the start function is refused too.
    found(facts.start).policy = [senders!, { ...receivers!, Condition: { ArnNotEquals: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/team-x-archiver` } } }];
    expect(stackQueuesRow(facts, deployed).detail).toBe(
      `the start queue's policy refuses the start role ${START_ROLE} its messages, so no upload becomes a job (put back the statement ${receiver}); ${PUT_BACK}`,
    );
    // A wildcard in the role's place lets anyone matching it in.
    found(facts.start).policy = [senders!, { ...receivers!, Condition: { ArnNotLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/*` } } }];
    expect(stackQueuesRow(facts, deployed).detail).toMatch(/^the start queue's policy lets principals other than the start role receive its messages/);
  });

  it('fails a start queue whose policy no longer lets S3 in, since every upload would then be lost without a dead letter', () => {
    const facts = healthy();
    found(facts.start).policy = found(facts.start).policy.filter((statement) => statement.Sid !== 'InputBucketNotifications');
    expect(stackQueuesRow(facts, deployed).detail).toBe(
      'the start queue\'s policy refuses s3.amazonaws.com the notifications of arn:aws:s3:::tkp-dev-input, and S3 drops what it cannot deliver: every upload is lost with no job and no dead letter ' +
        `(put back the statement InputBucketNotifications, then tkp backfill transcribes what was uploaded meanwhile, once each); ${PUT_BACK}`,
    );
    // A policy for another bucket is no better.
    found(facts.start).policy = deployedPolicy('StartQueuePolicy', START.arn).map((statement) => ({ ...statement, Condition: { ArnEquals: { 'aws:SourceArn': 'arn:aws:s3:::elsewhere' } } }));
    expect(stackQueuesRow(facts, deployed).ok).toBe(false);
  });

  it('fails a start queue without its redrive to the start DLQ, giving the command that puts it back', () => {
    const facts = healthy();
    delete found(facts.start).redrive;
    const command = `aws sqs set-queue-attributes --queue-url ${START.url} --attributes '${JSON.stringify({ RedrivePolicy: JSON.stringify({ deadLetterTargetArn: START_DLQ.arn, maxReceiveCount: 50 }) })}'`;
    expect(stackQueuesRow(facts, deployed).detail).toBe(
      `the start queue has no redrive policy, not to the start DLQ after 50: an upload that keeps failing is retried until its 4 days end and then deleted, with no dead letter (${command}); ${PUT_BACK}`,
    );
    found(facts.start).redrive = { deadLetterTargetArn: 'arn:aws:sqs:us-east-1:999988887777:elsewhere', maxReceiveCount: 50 };
    expect(stackQueuesRow(facts, deployed).detail).toMatch(/^the start queue sends to arn:aws:sqs:us-east-1:999988887777:elsewhere after 50 receives, not to the start DLQ after 50:/);
    found(facts.start).redrive = { deadLetterTargetArn: START_DLQ.arn, maxReceiveCount: 1 };
    expect(stackQueuesRow(facts, deployed).ok).toBe(false);
  });

  it('fails a verify DLQ that refuses EventBridge\'s dead letters, naming the rules', () => {
    const facts = healthy();
    found(facts.verifyDeadLetters).policy = [{ Effect: 'Deny', Principal: '*', Action: 'sqs:SendMessage', Resource: '*', Condition: { ArnEquals: { 'aws:SourceArn': rule('tkp-dev-trust-changes').arn } } }, ...found(facts.verifyDeadLetters).policy];
    expect(stackQueuesRow(facts, deployed).detail).toBe(
      'the verify DLQ\'s policy refuses events.amazonaws.com what tkp-dev-trust-changes could not deliver, so EventBridge drops it (a completion event, a page) instead of dead-lettering it ' +
        `(put back the statement UndeliverableCompletionEvents); ${PUT_BACK}`,
    );
  });

  it('fails a queue that keeps messages for less than the stack gives it, and one that is gone', () => {
    const facts = healthy();
    found(facts.startDeadLetters).retentionSeconds = 60;
    facts.verifyDeadLetters = { url: VERIFY_DLQ.url, found: false };
    expect(stackQueuesRow(facts, deployed).detail).toBe(
      `the verify DLQ ${VERIFY_DLQ.url} does not exist; ` +
        `the start DLQ keeps messages 60 s, not 1209600 (14 days), so what waits there longer is deleted unread (aws sqs set-queue-attributes --queue-url ${START_DLQ.url} --attributes '{"MessageRetentionPeriod":"1209600"}'); ${PUT_BACK}`,
    );
  });

  it('fails a queue encrypted with a KMS key instead of SQS\'s own encryption, naming who could no longer send or receive, and the command that puts it back', () => {
    const facts = healthy();
    found(facts.start).kmsKeyId = 'alias/aws/sqs';
    expect(stackQueuesRow(facts, deployed).detail).toBe(
      'the start queue is encrypted with the KMS key alias/aws/sqs, not with SQS\'s own encryption as the stack makes it: S3 (to send the notifications) and the start role (to receive them) must then be allowed to use that key, ' +
        'which nothing in the stack grants (and the AWS managed alias/aws/sqs never lets a service in), so what they send or receive is refused ' +
        `(aws sqs set-queue-attributes --queue-url ${START.url} --attributes '{"SqsManagedSseEnabled":"true"}'); ${PUT_BACK}`,
    );
    found(facts.start).kmsKeyId = undefined;
    found(facts.verifyDeadLetters).kmsKeyId = 'arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-0000-4000-8000-000000000001';
    expect(stackQueuesRow(facts, deployed).detail).toMatch(/^the verify DLQ is encrypted with the KMS key arn:aws:kms:\S+, .*: EventBridge \(what a rule could not deliver\) and the verifiers' roles \(failed verifications\) must then be allowed/);
  });

  it('fails another function that reads the start queue or a DLQ, since what it takes never becomes a job or is never read; a disabled trigger or the start function\'s own alias passes', () => {
    const facts = healthy();
    const other = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:team-x-archiver`;
    found(facts.start).consumers.push({ uuid: 'u-1', functionArn: other, state: 'Enabled' }, { uuid: 'u-2', functionArn: `${START_FUNCTION}:live`, state: 'Enabled' }, { uuid: 'u-3', functionArn: other, state: 'Disabled' });
    found(facts.startDeadLetters).consumers.push({ uuid: 'u-4', functionArn: other, state: 'Creating' });
    expect(stackQueuesRow(facts, deployed).detail).toBe(
      `${other} also reads the start queue through a trigger that is Enabled, so the uploads it takes never become jobs: no verdict, no dead letter ` +
        '(aws lambda delete-event-source-mapping --uuid u-1, then tkp backfill --since the time it was created transcribes them, once each); ' +
        `${other} reads the start DLQ through a trigger that is Creating, so the dead letters it takes are deleted before anyone reads why (aws lambda delete-event-source-mapping --uuid u-4); ${PUT_BACK}`,
    );
  });

  it('fails when the queues cannot be read, naming the permission', () => {
    expect(stackQueuesRow({ error: 'AccessDenied: no' }, deployed).detail).toBe(
      'the stack\'s queues cannot be read (AccessDenied: no); the caller needs sqs:GetQueueAttributes on them and lambda:ListEventSourceMappings to tell whether uploads and dead letters still reach them and stay there',
    );
  });
});
