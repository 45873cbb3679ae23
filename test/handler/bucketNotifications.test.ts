import { GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../support/fixtures';
import { loadHandler } from '../support/handlerEnv';

const s3 = mockClient(S3Client);
const properties = { ServiceToken: 'arn', Bucket: 'acme-recordings', QueueArn: 'arn:aws:sqs:us-east-1:123456789012:start', IdPrefix: 'tkp-prod-', Prefixes: ['calls/'] };

describe('bucketNotifications custom resource', () => {
  let server: Server;
  let responses: Record<string, any>[];
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        responses.push({ method: req.method, ...JSON.parse(body) });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/response`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    responses = [];
    s3.reset();
    s3.on(GetBucketNotificationConfigurationCommand).resolves({ TopicConfigurations: [{ Id: 'audit', TopicArn: 'arn:aws:sns:us-east-1:1:t', Events: ['s3:ObjectRemoved:*'] }] });
    s3.on(PutBucketNotificationConfigurationCommand).resolves({});
  });

  const event = (RequestType: 'Create' | 'Update' | 'Delete') => ({
    RequestType,
    ServiceToken: 'arn',
    ResponseURL: url,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/tkp/1',
    RequestId: 'r-1',
    LogicalResourceId: 'InputBucketNotifications',
    ResourceType: 'Custom::InputBucketNotifications',
    ResourceProperties: properties,
    ...(RequestType !== 'Create' && { PhysicalResourceId: 'acme-recordings/tkp-prod-', OldResourceProperties: properties }),
  }) as CloudFormationCustomResourceEvent as never;

  it('adds the queue notifications next to the bucket’s own and tells CloudFormation', async () => {
    const { handler } = await loadHandler(() => import('../../functions/bucketNotifications'));
    await handler(event('Create'), lambdaContext);
    expect(s3.commandCalls(PutBucketNotificationConfigurationCommand)[0]?.args[0].input).toEqual({
      Bucket: 'acme-recordings',
      NotificationConfiguration: {
        TopicConfigurations: [{ Id: 'audit', TopicArn: 'arn:aws:sns:us-east-1:1:t', Events: ['s3:ObjectRemoved:*'] }],
        QueueConfigurations: [
          { Id: 'tkp-prod-0', QueueArn: properties.QueueArn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'calls/' }] } } },
        ],
      },
    });
    expect(responses).toEqual([
      expect.objectContaining({ method: 'PUT', Status: 'SUCCESS', PhysicalResourceId: 'acme-recordings/tkp-prod-', RequestId: 'r-1', LogicalResourceId: 'InputBucketNotifications' }),
    ]);
  });

  it('reports a refused update to CloudFormation with the reason', async () => {
    s3.on(PutBucketNotificationConfigurationCommand).rejects(Object.assign(new Error('Configurations overlap'), { name: 'InvalidArgument' }));
    const { handler } = await loadHandler(() => import('../../functions/bucketNotifications'));
    await handler(event('Update'), lambdaContext);
    expect(responses[0]).toMatchObject({ Status: 'FAILED' });
    expect(responses[0]?.Reason).toContain('notifications of s3://acme-recordings could not be updated (InvalidArgument: Configurations overlap)');
  });

  it('fails, saying what to remove, when the bucket\'s other notifications leave no room under S3\'s 100, and writes nothing', async () => {
    s3.on(GetBucketNotificationConfigurationCommand).resolves({
      TopicConfigurations: Array.from({ length: 100 }, (_, i) => ({ Id: `audit-${i}`, TopicArn: 'arn:aws:sns:us-east-1:1:t', Events: ['s3:ObjectRemoved:*' as const] })),
    });
    const { handler } = await loadHandler(() => import('../../functions/bucketNotifications'));
    await handler(event('Create'), lambdaContext);
    expect(s3.commandCalls(PutBucketNotificationConfigurationCommand)).toHaveLength(0);
    expect(responses[0]).toMatchObject({
      Status: 'FAILED',
      Reason:
        "notifications of s3://acme-recordings could not be updated: the bucket already has 100 other event notification configurations, and this stage's 1 would make more than S3's 100 per bucket; " +
        "remove notifications the bucket no longer needs, or put the config's prefixes under fewer parents, each with a rule of its own",
    });
  });

  it('removes only its own notifications on delete', async () => {
    s3.on(GetBucketNotificationConfigurationCommand).resolves({
      QueueConfigurations: [{ Id: 'tkp-prod-0', QueueArn: properties.QueueArn, Events: ['s3:ObjectCreated:*'] }, { Id: 'other', QueueArn: 'arn:q', Events: ['s3:ObjectCreated:*'] }],
    });
    const { handler } = await loadHandler(() => import('../../functions/bucketNotifications'));
    await handler(event('Delete'), lambdaContext);
    expect(s3.commandCalls(PutBucketNotificationConfigurationCommand)[0]?.args[0].input.NotificationConfiguration).toEqual({
      QueueConfigurations: [{ Id: 'other', QueueArn: 'arn:q', Events: ['s3:ObjectCreated:*'] }],
    });
    expect(responses[0]).toMatchObject({ Status: 'SUCCESS' });
  });
});
