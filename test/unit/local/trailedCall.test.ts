import { describe, expect, it } from 'vitest';
import { alertingChangePattern, keyLossPattern, queueTriggerPattern, verifierChangePattern } from '../../../shared/stack/eventPatterns';
import { trailedCall } from '../../local/emulator/gateway';
import { matchesPattern, trailEnvelope } from '../../local/runtime/eventBus';

const ACCOUNT = '123456789012';
const pattern = verifierChangePattern({ service: 'tkp', stage: 'local', region: 'us-east-1' }, { inputBucket: 'tkp-local-input', notificationsSession: `arn:aws:sts::${ACCOUNT}:assumed-role/tkp-local-us-east-1-notifications/` }) as Record<string, unknown>;
const lambda = (method: string, path: string, body = '', answer = '') => trailedCall({ method, path, target: undefined, body }, ACCOUNT, answer);
const pages = (call: ReturnType<typeof lambda>) => call !== undefined && matchesPattern(pattern, trailEnvelope(call, 'e-1', 'us-east-1'));

describe('trailedCall: Lambda calls through the local gateway, as a trail records them', () => {
  it('names the function a change is made to, so VerifierChangesRule pages on the stack\'s own and on no other', () => {
    const concurrency = lambda('PUT', '/2017-10-31/functions/tkp-local-verify/concurrency', '{"ReservedConcurrentExecutions":0}');
    expect(concurrency).toEqual({
      eventSource: 'lambda.amazonaws.com',
      eventName: 'PutFunctionConcurrency20171031',
      account: ACCOUNT,
      requestParameters: { functionName: 'tkp-local-verify', reservedConcurrentExecutions: 0 },
    });
    expect(pages(concurrency)).toBe(true);
    expect(pages(lambda('PUT', '/2015-03-31/functions/tkp-local-sweep/configuration', '{"Environment":{"Variables":{"AWS_ENDPOINT_URL_KMS":"x"}}}'))).toBe(true);
    expect(pages(lambda('PUT', '/2015-03-31/functions/tkp-local-start/code', '{"ZipFile":"UEs="}'))).toBe(true);
    expect(pages(lambda('DELETE', '/2019-09-25/functions/tkp-local-verify/event-invoke-config'))).toBe(true);
    expect(pages(lambda('DELETE', '/2015-03-31/functions/tkp-local-verify'))).toBe(true);
    expect(lambda('DELETE', '/2015-03-31/functions/tkp-local-verify/policy/verify-rule-1')).toMatchObject({
      eventName: 'RemovePermission20150331v2',
      requestParameters: { functionName: 'tkp-local-verify', statementId: 'verify-rule-1' },
    });
    expect(pages(lambda('DELETE', '/2015-03-31/functions/tkp-local-verify/policy/verify-rule-1'))).toBe(true);
    expect(pages(lambda('PUT', '/2017-10-31/functions/someone-elses/concurrency', '{"ReservedConcurrentExecutions":0}'))).toBe(false);
    // Reading is not changing.
    expect(lambda('GET', '/2015-03-31/functions/tkp-local-verify/configuration')).toBeUndefined();
  });

  it('takes a new function\'s role from its request, so VerifierChangesRule pages on one given a stack role', () => {
    const created = lambda('POST', '/2015-03-31/functions', '{"FunctionName":"mallory","Role":"arn:aws:iam::123456789012:role/tkp-local-us-east-1-verify"}');
    expect(created).toMatchObject({ eventName: 'CreateFunction20150331', requestParameters: { functionName: 'mallory', role: 'arn:aws:iam::123456789012:role/tkp-local-us-east-1-verify' } });
    expect(pages(created)).toBe(true);
  });

  it('takes a new trigger\'s queue from its request and a changed one\'s from Lambda\'s answer, so QueueTriggersRule pages on the stack\'s queues and on no other', () => {
    const queue = `arn:aws:sqs:us-east-1:${ACCOUNT}:tkp-start`;
    const triggers = queueTriggerPattern([queue, `arn:aws:sqs:us-east-1:${ACCOUNT}:tkp-verify-dlq`]) as Record<string, unknown>;
    const paged = (call: ReturnType<typeof lambda>) => call !== undefined && matchesPattern(triggers, trailEnvelope(call, 'e-2', 'us-east-1'));
    const archiver = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:team-x-archiver`;
    const created = lambda('POST', '/2015-03-31/event-source-mappings/', `{"FunctionName":"team-x-archiver","EventSourceArn":"${queue}","BatchSize":10}`, `{"UUID":"u-3","FunctionArn":"${archiver}","EventSourceArn":"${queue}","State":"Creating"}`);
    expect(created).toEqual({
      eventSource: 'lambda.amazonaws.com',
      eventName: 'CreateEventSourceMapping20150331',
      account: ACCOUNT,
      requestParameters: { functionName: 'team-x-archiver', eventSourceArn: queue },
      responseElements: { uUID: 'u-3', functionArn: archiver, eventSourceArn: queue },
    });
    expect(paged(created)).toBe(true);
    // Refused: no answer to read, and the request still names the queue.
    const refused = lambda('POST', '/2015-03-31/event-source-mappings', `{"FunctionName":"team-x-archiver","EventSourceArn":"${queue}"}`, '{"Type":"User","Message":"denied"}');
    expect(refused).not.toHaveProperty('responseElements');
    expect(paged(refused)).toBe(true);
    const disabled = lambda('PUT', '/2015-03-31/event-source-mappings/u-1', '{"Enabled":false}', `{"UUID":"u-1","FunctionArn":"arn:aws:lambda:us-east-1:${ACCOUNT}:function:tkp-local-start","EventSourceArn":"${queue}","State":"Disabling"}`);
    expect(disabled).toMatchObject({ eventName: 'UpdateEventSourceMapping20150331', requestParameters: { uUID: 'u-1', enabled: false }, responseElements: { functionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:tkp-local-start`, eventSourceArn: queue } });
    expect(paged(disabled)).toBe(true);
    // One change, one page: VerifierChangesRule leaves triggers to QueueTriggersRule.
    expect(pages(disabled)).toBe(false);
    expect(paged(lambda('DELETE', '/2015-03-31/event-source-mappings/u-2', '', `{"FunctionArn":"${archiver}","EventSourceArn":"arn:aws:sqs:us-east-1:${ACCOUNT}:team-x-inbox"}`))).toBe(false);
  });
});

describe('trailedCall: SQS calls through the local gateway, as a trail records them', () => {
  const alerting = alertingChangePattern({ namePrefix: 'tkp-local-', alarmTopic: 'arn:aws:sns:us-east-1:123456789012:tkp-local-alarms', subscriptionPrefix: 'x', queuePaths: [`/${ACCOUNT}/tkp-start`] }) as Record<string, unknown>;
  const queueUrl = `http://127.0.0.1:4566/${ACCOUNT}/tkp-start`;

  it('names the queue of a change, in the JSON protocol the SDK speaks and the query protocol the AWS CLI v1 speaks, so AlertingChangesRule pages', () => {
    const json = trailedCall({ method: 'POST', path: '/', target: 'AmazonSQS.PurgeQueue', body: JSON.stringify({ QueueUrl: queueUrl }) }, ACCOUNT);
    expect(json).toEqual({ eventSource: 'sqs.amazonaws.com', eventName: 'PurgeQueue', account: ACCOUNT, requestParameters: { queueUrl } });
    expect(matchesPattern(alerting, trailEnvelope(json as NonNullable<typeof json>, 'e-2', 'us-east-1'))).toBe(true);
    const query = trailedCall({ method: 'POST', path: `/${ACCOUNT}/tkp-start`, target: undefined, body: `Action=SetQueueAttributes&QueueUrl=${encodeURIComponent(queueUrl)}&Attribute.1.Name=Policy&Version=2012-11-05` }, ACCOUNT);
    expect(query).toEqual({ eventSource: 'sqs.amazonaws.com', eventName: 'SetQueueAttributes', account: ACCOUNT, requestParameters: { queueUrl } });
    // Sending and receiving are not changes.
    expect(trailedCall({ method: 'POST', path: '/', target: 'AmazonSQS.SendMessage', body: JSON.stringify({ QueueUrl: queueUrl, MessageBody: 'x' }) }, ACCOUNT)).toBeUndefined();
    expect(trailedCall({ method: 'POST', path: '/', target: undefined, body: `Action=ReceiveMessage&QueueUrl=${encodeURIComponent(queueUrl)}` }, ACCOUNT)).toBeUndefined();
  });

  it('names the bucket whose notifications a PUT ?notification replaces, as CloudTrail names the call, so VerifierChangesRule pages for the input bucket', () => {
    const put = trailedCall({ method: 'PUT', path: '/tkp-local-input?notification', target: undefined, body: '' }, ACCOUNT);
    expect(put).toEqual({ eventSource: 's3.amazonaws.com', eventName: 'PutBucketNotification', account: ACCOUNT, requestParameters: { bucketName: 'tkp-local-input' } });
    expect(pages(put)).toBe(true);
    expect(pages(trailedCall({ method: 'PUT', path: '/another-bucket?notification', target: undefined, body: '' }, ACCOUNT))).toBe(false);
  });

  it('names the rule or alarm of an EventBridge or CloudWatch change, in the SDK\'s JSON protocols and the AWS CLI v1\'s query protocol, so AlertingChangesRule pages for the stack\'s own', () => {
    const json = (target: string, input: unknown) => trailedCall({ method: 'POST', path: '/', target, body: JSON.stringify(input) }, ACCOUNT);
    const pagesAlerting = (call: ReturnType<typeof json>) => call !== undefined && matchesPattern(alerting, trailEnvelope(call, 'e-6', 'us-east-1'));
    expect(json('AWSEvents.DisableRule', { Name: 'tkp-local-trust-changes' })).toEqual({ eventSource: 'events.amazonaws.com', eventName: 'DisableRule', account: ACCOUNT, requestParameters: { name: 'tkp-local-trust-changes' } });
    expect(pagesAlerting(json('AWSEvents.DisableRule', { Name: 'tkp-local-trust-changes' }))).toBe(true);
    expect(pagesAlerting(json('AWSEvents.RemoveTargets', { Rule: 'tkp-local-paging-verdicts', EventBusName: 'tkp-local-outcomes', Ids: ['alarm-topic'] }))).toBe(true);
    expect(pagesAlerting(json('AWSEvents.DisableRule', { Name: 'someone-elses-rule' }))).toBe(false);
    expect(json('AWSEvents.EnableRule', { Name: 'tkp-local-trust-changes' })).toBeUndefined();
    expect(json('GraniteServiceVersion20100801.DeleteAlarms', { AlarmNames: ['tkp-local-verify-dead-letters'] })).toEqual({
      eventSource: 'monitoring.amazonaws.com',
      eventName: 'DeleteAlarms',
      account: ACCOUNT,
      requestParameters: { alarmNames: ['tkp-local-verify-dead-letters'] },
    });
    expect(pagesAlerting(json('GraniteServiceVersion20100801.PutMetricAlarm', { AlarmName: 'tkp-local-start-backlog', AlarmActions: [] }))).toBe(true);
    const query = trailedCall({ method: 'POST', path: '/', target: undefined, body: 'Action=DisableAlarmActions&Version=2010-08-01&AlarmNames.member.1=tkp-local-start-dead-letters' }, ACCOUNT);
    expect(query).toEqual({ eventSource: 'monitoring.amazonaws.com', eventName: 'DisableAlarmActions', account: ACCOUNT, requestParameters: { alarmNames: ['tkp-local-start-dead-letters'] } });
    expect(pagesAlerting(query)).toBe(true);
  });

  it('names the topic or subscription of an SNS change, which the query protocol\'s form carries, so AlertingChangesRule pages for the alarm topic', () => {
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:tkp-local-alarms';
    const form = (fields: Record<string, string>) => trailedCall({ method: 'POST', path: '/', target: undefined, body: new URLSearchParams(fields).toString() }, ACCOUNT);
    const policy = form({ Action: 'SetTopicAttributes', TopicArn: topicArn, AttributeName: 'Policy', AttributeValue: '{}', Version: '2010-03-31' });
    expect(policy).toEqual({ eventSource: 'sns.amazonaws.com', eventName: 'SetTopicAttributes', account: ACCOUNT, requestParameters: { topicArn, attributeName: 'Policy' } });
    expect(matchesPattern(alerting, trailEnvelope(policy as NonNullable<typeof policy>, 'e-5', 'us-east-1'))).toBe(true);
    // SNS's RemovePermission names a topic, SQS's a queue.
    expect(form({ Action: 'RemovePermission', TopicArn: topicArn, Label: 'x' })).toMatchObject({ eventSource: 'sns.amazonaws.com', requestParameters: { topicArn } });
    expect(form({ Action: 'RemovePermission', QueueUrl: `http://127.0.0.1:4566/${ACCOUNT}/tkp-start`, Label: 'x' })).toMatchObject({ eventSource: 'sqs.amazonaws.com' });
    expect(form({ Action: 'Publish', TopicArn: topicArn, Message: 'x' })).toBeUndefined();
  });
});

describe('trailedCall: KMS calls through the local gateway, as a trail records them', () => {
  const kms = (operation: string, body: string, answer = '') => trailedCall({ method: 'POST', path: '/', target: `TrentService.${operation}`, body }, ACCOUNT, answer);
  const losses = keyLossPattern() as Record<string, unknown>;
  const paged = (call: ReturnType<typeof kms>) => call !== undefined && matchesPattern(losses, trailEnvelope(call, 'e-3', 'us-east-1'));
  const arn = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

  it('names the key a deletion, disable or policy rewrite names, its ARN from KMS\'s answer and the new policy, so KeyLossesRule pages', () => {
    const scheduled = kms('ScheduleKeyDeletion', '{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","PendingWindowInDays":7}', `{"KeyId":"${arn}","KeyState":"PendingDeletion","DeletionDate":1796670000,"PendingWindowInDays":7}`);
    expect(scheduled).toEqual({
      eventSource: 'kms.amazonaws.com',
      eventName: 'ScheduleKeyDeletion',
      account: ACCOUNT,
      requestParameters: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', pendingWindowInDays: 7 },
      responseElements: { keyId: arn, keyState: 'PendingDeletion', deletionDate: new Date(1796670000 * 1000).toUTCString() },
    });
    expect(paged(scheduled)).toBe(true);
    // DisableKey answers nothing.
    const disabled = kms('DisableKey', `{"KeyId":"${arn}"}`);
    expect(disabled).toEqual({ eventSource: 'kms.amazonaws.com', eventName: 'DisableKey', account: ACCOUNT, requestParameters: { keyId: arn } });
    expect(paged(disabled)).toBe(true);
    // A rewritten policy: the key as the caller named it, and the new policy. moto answers null.
    const policy = '{"Version":"2012-10-17","Statement":[]}';
    const rewritten = kms('PutKeyPolicy', JSON.stringify({ KeyId: arn, PolicyName: 'default', Policy: policy }), 'null');
    expect(rewritten).toEqual({ eventSource: 'kms.amazonaws.com', eventName: 'PutKeyPolicy', account: ACCOUNT, requestParameters: { keyId: arn, policyName: 'default', policy } });
    expect(paged(rewritten)).toBe(true);
    // Putting a key back, or using it, is not a loss.
    expect(kms('EnableKey', `{"KeyId":"${arn}"}`)).toBeUndefined();
    expect(kms('CancelKeyDeletion', `{"KeyId":"${arn}"}`)).toBeUndefined();
    expect(kms('DescribeKey', `{"KeyId":"${arn}"}`)).toBeUndefined();
    expect(kms('GetKeyPolicy', `{"KeyId":"${arn}","PolicyName":"default"}`)).toBeUndefined();
  });
});

describe('trailedCall: S3 bucket configuration calls through the local gateway, as a trail records them', () => {
  const s3 = (method: string, path: string) => trailedCall({ method, path, target: undefined, body: '' }, ACCOUNT);

  it('names the bucket of a policy, replication, public access block, ACL, ownership-controls or lifecycle call by its REST operation, and reads no object call', () => {
    expect(s3('PUT', '/tkp-local-input?publicAccessBlock')).toEqual({ eventSource: 's3.amazonaws.com', eventName: 'PutBucketPublicAccessBlock', account: ACCOUNT, requestParameters: { bucketName: 'tkp-local-input' } });
    expect(s3('DELETE', '/tkp-local-input?publicAccessBlock')).toMatchObject({ eventName: 'DeleteBucketPublicAccessBlock' });
    expect(s3('PUT', '/tkp-local-transcripts?replication')).toMatchObject({ eventName: 'PutBucketReplication', requestParameters: { bucketName: 'tkp-local-transcripts' } });
    expect(s3('PUT', '/tkp-local-input?acl')).toMatchObject({ eventName: 'PutBucketAcl' });
    expect(s3('DELETE', '/tkp-local-transcripts?ownershipControls')).toMatchObject({ eventName: 'DeleteBucketOwnershipControls', requestParameters: { bucketName: 'tkp-local-transcripts' } });
    expect(s3('PUT', '/tkp-local-transcripts?lifecycle')).toMatchObject({ eventName: 'PutBucketLifecycle' });
    expect(s3('PUT', '/tkp-local-input/calls/a.wav')).toBeUndefined();
    expect(s3('GET', '/tkp-local-input?policy')).toBeUndefined();
  });
});
