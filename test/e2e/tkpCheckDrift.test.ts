import { CloudTrailClient, StartLoggingCommand, StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, GetKeyPolicyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  DeleteBucketPolicyCommand,
  DeleteBucketReplicationCommand,
  DeletePublicAccessBlockCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketReplicationCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  DescribeEventBusCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutPermissionCommand,
  PutTargetsCommand,
  RemovePermissionCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  AddPermissionCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  PutFunctionConcurrencyCommand,
  RemovePermissionCommand as RemoveFunctionPermissionCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { localEnvironmentExports } from '../local/cli/localCommand';
import { MOTO_DEFAULT_ACCOUNT } from '../local/emulator/moto';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { localRoleArn } from '../local/runtime/provision';
import { motoAvailable } from '../support/moto';
import { useTkpStack } from '../support/tkpStack';

/**
 * `tkp check` against the local mode after each change outside a deploy that it guards against,
 * made behind its back (test/support/tkpStack.ts): it fails with exactly the rows that change
 * breaks, naming what to change, and passes again once the change is undone.
 */
describe.runIf(motoAvailable('tkp CLI end-to-end tests'))('tkp check against a stack changed outside a deploy', () => {
  const { stack, tkp, kms, atMoto, expectCheckFailsWhile } = useTkpStack();
  let pipeline: LocalPipeline;
  let work: string;
  beforeAll(() => {
    ({ pipeline, work } = stack());
  });

  describe('tkp check', () => {
    it('fails while the alarm topic\'s policy keeps EventBridge\'s pages out, as the policy SNS gives a new topic does, naming the rules and the statement', async () => {
      const sns = new SNSClient(atMoto());
      const topic = pipeline.stack.alarmTopicArn;
      const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: topic }));
      const setPolicy = (policy: string) => sns.send(new SetTopicAttributesCommand({ TopicArn: topic, AttributeName: 'Policy', AttributeValue: policy }));
      const snsDefault = {
        Version: '2008-10-17',
        Statement: [
          { Sid: '__default_statement_ID', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['SNS:Publish', 'SNS:Subscribe'], Resource: topic, Condition: { StringEquals: { 'AWS:SourceOwner': MOTO_DEFAULT_ACCOUNT } } },
        ],
      };
      const rules = ['paging-verdicts', 'trust-changes', 'verifier-changes', 'alerting-changes', 'queue-triggers', 'key-losses', 'data-exposure'].map((rule) => `transcribe-kms-pipeline-local-${rule}`).join(', ');
      await expectCheckFailsWhile(() => setPolicy(JSON.stringify(snsDefault)), () => setPolicy(Attributes?.Policy as string), [
        {
          check: 'alarm topic policy',
          detail:
            `${topic}: SNS refuses events.amazonaws.com the pages of ${rules} (each goes to the verify DLQ instead, so the page that arrives, if any, is that queue's alarm and not what happened); ` +
            `put the topic's policy back as the stack defines it (the statement AlarmsAndPagingVerdicts: Allow sns:Publish on ${topic} to the services events.amazonaws.com and cloudwatch.amazonaws.com ` +
            `where aws:SourceAccount is ${MOTO_DEFAULT_ACCOUNT}), which a redeploy does not do (README: "Putting back what changed outside a deploy")`,
        },
      ]);
    });

    it('fails when the alarm topic has no confirmed subscription, since no page would reach anyone, and says how to subscribe', async () => {
      const sns = new SNSClient(atMoto());
      const topic = pipeline.stack.alarmTopicArn;
      const [subscription] = (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topic }))).Subscriptions ?? [];
      await expectCheckFailsWhile(
        () => sns.send(new UnsubscribeCommand({ SubscriptionArn: subscription?.SubscriptionArn })),
        () => sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: subscription?.Protocol, Endpoint: subscription?.Endpoint })),
        [
          {
            check: 'alarm topic',
            detail:
              `${topic} has no confirmed subscription, so no alarm or page reaches anyone; subscribe someone (aws sns subscribe --topic-arn ${topic} --protocol email ` +
              '--notification-endpoint ADDRESS, or serverless deploy --param="alarmEmail=ADDRESS" for an address the stack has not subscribed before) and confirm it',
          },
        ],
      );
    });

    it('fails while the alarm topic is encrypted with a key EventBridge and CloudWatch may not use, and passes once the key\'s policy lets them in', async () => {
      const sns = new SNSClient(atMoto());
      const topic = pipeline.stack.alarmTopicArn;
      const encryptWith = (key: string) => sns.send(new SetTopicAttributesCommand({ TopicArn: topic, AttributeName: 'KmsMasterKeyId', AttributeValue: key }));
      const ADD = 'add the statement AlarmTopicPublishers (README, Deploy: "An encrypted alarm topic") to its policy: Allow kms:GenerateDataKey* and kms:Decrypt to the services events.amazonaws.com and cloudwatch.amazonaws.com';
      const refused = 'SNS refuses every alarm and page published to the topic and none reaches anyone';
      await expectCheckFailsWhile(() => encryptWith('alias/aws/sns'), () => encryptWith(''), [
        {
          check: 'alarm topic key',
          detail:
            `${topic} is encrypted with the AWS managed key alias/aws/sns, whose policy AWS writes and nobody can change: it does not let EventBridge or CloudWatch use the key, so ${refused}; ` +
            `encrypt the topic with a customer managed key instead (aws sns set-topic-attributes --topic-arn ${topic} --attribute-name KmsMasterKeyId --attribute-value KEY_ARN) and ${ADD}`,
        },
      ]);
      const { KeyMetadata } = await kms().send(new CreateKeyCommand({ KeyUsage: 'ENCRYPT_DECRYPT', Description: 'alarm topic' }));
      const keyArn = KeyMetadata?.Arn as string;
      await kms().send(new CreateAliasCommand({ AliasName: 'alias/tkp-alarms', TargetKeyId: keyArn }));
      // A new key's default policy lets the account's IAM policies in, and no service.
      await expectCheckFailsWhile(() => encryptWith('alias/tkp-alarms'), () => encryptWith(''), [
        {
          check: 'alarm topic key',
          detail:
            `${topic} is encrypted with ${keyArn}, whose policy does not let events.amazonaws.com (the paging rules) and cloudwatch.amazonaws.com (the alarms) use it for ` +
            `kms:GenerateDataKey and kms:Decrypt, so SNS refuses what they publish and it reaches nobody; ${ADD}`,
        },
      ]);
      const policy = JSON.parse((await kms().send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }))).Policy as string);
      const publishers = { Sid: 'AlarmTopicPublishers', Effect: 'Allow', Principal: { Service: ['events.amazonaws.com', 'cloudwatch.amazonaws.com'] }, Action: ['kms:GenerateDataKey*', 'kms:Decrypt'], Resource: '*' };
      await kms().send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: JSON.stringify({ ...policy, Statement: [...policy.Statement, publishers] }) }));
      await encryptWith(keyArn);
      try {
        const run = await tkp(['check', '--json']);
        expect(run.code).toBe(0);
        expect(run.json.rows.find((r: any) => r.check === 'alarm topic key')).toEqual({
          rule: '(stack)',
          check: 'alarm topic key',
          ok: true,
          detail: `${topic} is encrypted with ${keyArn} (Enabled), whose policy lets EventBridge and CloudWatch use it`,
        });
        // moto's DisableKey takes the key ID, not the ARN.
        const KeyId = KeyMetadata?.KeyId as string;
        await expectCheckFailsWhile(() => kms().send(new DisableKeyCommand({ KeyId })), () => kms().send(new EnableKeyCommand({ KeyId })), [
          { check: 'alarm topic key', detail: `${topic} is encrypted with ${keyArn}, which is Disabled: ${refused}; enable it (aws kms enable-key --key-id ${keyArn})` },
        ]);
      } finally {
        await encryptWith('');
      }
    });

    it('fails while a function of the stack has an environment variable the stack does not set or sets otherwise, a reserved concurrency of 0, its trigger off or EventBridge\'s permission removed, naming each and the command', async () => {
      const lambda = new LambdaClient(atMoto());
      const verify = 'transcribe-kms-pipeline-local-verify';
      const start = 'transcribe-kms-pipeline-local-start';
      const sweep = 'transcribe-kms-pipeline-local-sweep';
      const schedule = 'transcribe-kms-pipeline-local-sweep-schedule';
      const scheduleArn = `arn:aws:events:us-east-1:${MOTO_DEFAULT_ACCOUNT}:rule/${schedule}`;
      const passing = await tkp(['check', '--json']);
      expect(passing.json.rows.find((r: any) => r.check === 'stack functions')).toEqual({
        rule: '(stack)',
        check: 'stack functions',
        ok: true,
        detail:
          'all 5 run as deployed (role, handler, environment, no layers), with their triggers, invoke permissions and failure destinations: transcribe-kms-pipeline-local-start, ' +
          'transcribe-kms-pipeline-local-preflight, transcribe-kms-pipeline-local-verify, transcribe-kms-pipeline-local-sweep, transcribe-kms-pipeline-local-bucketNotifications',
      });
      const { Environment } = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: verify }));
      const [trigger] = (await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: start }))).EventSourceMappings ?? [];
      const UUID = trigger?.UUID as string;
      await expectCheckFailsWhile(
        async () => {
          // A KMS endpoint of someone's choosing would answer the verifier's DescribeKey.
          // And its verdicts, published where no consumer listens.
          const Variables = { ...Environment?.Variables, AWS_ENDPOINT_URL_KMS: 'https://kms.example.net', OUTCOME_BUS_NAME: 'elsewhere' };
          await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: verify, Environment: { Variables } }));
          await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: verify, ReservedConcurrentExecutions: 0 }));
          await lambda.send(new UpdateEventSourceMappingCommand({ UUID, Enabled: false }));
          // The sweeper's schedule may no longer invoke it: no dead letter, and medical jobs never verified.
          await lambda.send(new RemoveFunctionPermissionCommand({ FunctionName: sweep, StatementId: schedule }));
        },
        async () => {
          await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: verify, Environment }));
          await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: verify }));
          await lambda.send(new UpdateEventSourceMappingCommand({ UUID, Enabled: true }));
          await lambda.send(new AddPermissionCommand({ FunctionName: sweep, StatementId: schedule, Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn: scheduleArn }));
        },
        [
          {
            check: 'stack functions',
            detail:
              `${start}'s trigger from the start queue is Disabled, so no upload reaches it (aws lambda update-event-source-mapping --uuid ${UUID} --enabled); ` +
              `${verify} has environment variable(s) the stack neither sets nor reads: AWS_ENDPOINT_URL_KMS; ` +
              `${verify} has OUTCOME_BUS_NAME="elsewhere" (the stack's: ${JSON.stringify(pipeline.stack.names.outcomeBus)}); ` +
              `${verify} has a reserved concurrency of 0, so it never runs (aws lambda delete-function-concurrency --function-name ${verify}); ` +
              `EventBridge may not invoke ${sweep} for the rule ${schedule}, so the sweeper never runs, with no dead letter, and a medical job, which has no completion event, is never verified ` +
              `(aws lambda add-permission --function-name ${sweep} --statement-id ${schedule} --action lambda:InvokeFunction --principal events.amazonaws.com --source-arn ${scheduleArn}); ` +
              'put them back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy"). ' +
              "Until then a verdict may not be the verifier's own: tkp audit --since the time they changed judges the transcripts themselves",
          },
        ],
      );
    });

    it('fails while a verifier runs code the last deploy did not publish, as after UpdateFunctionCode, naming both hashes and how to put it back', async () => {
      const lambda = new LambdaClient(atMoto());
      const verify = 'transcribe-kms-pipeline-local-verify';
      const passing = await tkp(['check', '--json']);
      expect(passing.json.rows.find((r: any) => r.check === 'function code')).toEqual({
        rule: '(stack)',
        check: 'function code',
        ok: true,
        detail: "5 run the code the last deploy published (CodeSha256 as transcribe-kms-pipeline-local's template records it)",
      });
      const { CodeSha256: deployed } = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: verify }));
      // The local mode deploys an empty archive; any other one stands for a handler that answers "verified" for every job.
      const swapped = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(16).fill(0), 0x01, 0x00, 0x21]);
      const swappedHash = createHash('sha256').update(swapped).digest('base64');
      const original = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);
      expect(createHash('sha256').update(original).digest('base64')).toBe(deployed);
      await expectCheckFailsWhile(
        () => lambda.send(new UpdateFunctionCodeCommand({ FunctionName: verify, ZipFile: swapped })),
        () => lambda.send(new UpdateFunctionCodeCommand({ FunctionName: verify, ZipFile: original })),
        [
          {
            check: 'function code',
            detail:
              `${verify} runs code with CodeSha256 ${swappedHash}, not the ${deployed} the last deploy published, so its verdicts may not be the verifier's own ` +
              '(npx serverless deploy function --function verify --stage local, from the commit that was deployed). ' +
              'A redeploy of the stack does not put code back, since its template did not change (README: "Putting back what changed outside a deploy"). ' +
              'Until then trust no verdict without tkp audit --since the time the code changed, which judges the transcripts themselves',
          },
        ],
      );
    });

    it('fails while the outcome bus lets anyone but the verifiers publish, as after its policy was removed, naming who could forge a verdict', async () => {
      const events = new EventBridgeClient(atMoto());
      const bus = pipeline.stack.names.outcomeBus;
      const passing = await tkp(['check', '--json']);
      expect(passing.json.rows.find((r: any) => r.check === 'outcome bus policy')).toEqual({ rule: '(stack)', check: 'outcome bus policy', ok: true, detail: `${bus}: verdicts are published by the verifiers alone` });
      const { Policy } = await events.send(new DescribeEventBusCommand({ Name: bus }));
      await expectCheckFailsWhile(
        () => events.send(new RemovePermissionCommand({ EventBusName: bus, StatementId: 'VerdictsOnlyFromVerifiers' })),
        () => events.send(new PutPermissionCommand({ EventBusName: bus, Policy })),
        [
          {
            check: 'outcome bus policy',
            detail:
              `${bus} has no policy: anyone in the account may publish a verdict on it (VerdictsOnlyFromVerifiers); the start role may publish a verdict on it (VerdictsOnlyFromVerifiers); ` +
              'put its policy back as the stack defines it (the statement VerdictsOnlyFromVerifiers), which a redeploy does not do (README: "Putting back what changed outside a deploy"). ' +
              'Until then a verdict on the bus may be forged: the verdict ledger (verdicts/) and tkp audit do not rest on the bus',
          },
        ],
      );
    });

    it('fails while a queue would lose work: S3 refused by the start queue, its redrive to the start DLQ gone, a DLQ keeping letters a minute, a DLQ under a KMS key', async () => {
      const sqs = new SQSClient(atMoto());
      const env = localEnvironmentExports(pipeline);
      const [start, startDeadLetters, verifyDeadLetters] = [env.TKP_START_QUEUE_URL as string, env.TKP_START_DLQ_URL as string, env.TKP_VERIFY_DLQ_URL as string];
      const attributes = async (url: string) => (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['Policy', 'RedrivePolicy', 'MessageRetentionPeriod'] }))).Attributes ?? {};
      const before = { start: await attributes(start), startDeadLetters: await attributes(startDeadLetters) };
      const set = (url: string, Attributes: Record<string, string>) => sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes }));
      const bucketArn = `arn:aws:s3:::${pipeline.stack.names.inputBucket}`;
      const otherBucketOnly = JSON.parse(before.start.Policy as string);
      otherBucketOnly.Statement[0].Condition.ArnEquals['aws:SourceArn'] = 'arn:aws:s3:::someone-elses-bucket';
      const run = async () => {
        await set(start, { Policy: JSON.stringify(otherBucketOnly), RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:123456789012:tkp-alarm-inbox', maxReceiveCount: 50 }) });
        await set(startDeadLetters, { MessageRetentionPeriod: '60' });
        // The verify DLQ keeps its policy, as in SQS (moto_server.py's queue-policy patch).
        await set(verifyDeadLetters, { KmsMasterKeyId: 'alias/aws/sqs' });
      };
      await expectCheckFailsWhile(run, async () => {
        await set(start, { Policy: before.start.Policy as string, RedrivePolicy: before.start.RedrivePolicy as string });
        await set(startDeadLetters, { MessageRetentionPeriod: before.startDeadLetters.MessageRetentionPeriod as string });
        await set(verifyDeadLetters, { KmsMasterKeyId: '' });
      }, [
        {
          check: 'stack queues',
          detail:
            `the start queue's policy refuses s3.amazonaws.com the notifications of ${bucketArn}, and S3 drops what it cannot deliver: every upload is lost with no job and no dead letter ` +
            '(put back the statement InputBucketNotifications, then tkp backfill transcribes what was uploaded meanwhile, once each); ' +
            'the start queue sends to arn:aws:sqs:us-east-1:123456789012:tkp-alarm-inbox after 50 receives, not to the start DLQ after 50: an upload that keeps failing is retried until its 4 days end and then deleted, with no dead letter ' +
            `(aws sqs set-queue-attributes --queue-url ${start} --attributes '${JSON.stringify({ RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:123456789012:tkp-start-dlq', maxReceiveCount: 50 }) })}'); ` +
            `the start DLQ keeps messages 60 s, not 1209600 (14 days), so what waits there longer is deleted unread (aws sqs set-queue-attributes --queue-url ${startDeadLetters} --attributes '{"MessageRetentionPeriod":"1209600"}'); ` +
            'the verify DLQ is encrypted with the KMS key alias/aws/sqs, not with SQS\'s own encryption as the stack makes it: EventBridge (what a rule could not deliver) and the verifiers\' roles (failed verifications) must then be allowed to use that key, ' +
            'which nothing in the stack grants (and the AWS managed alias/aws/sqs never lets a service in), so what they send or receive is refused ' +
            `(aws sqs set-queue-attributes --queue-url ${verifyDeadLetters} --attributes '{"SqsManagedSseEnabled":"true"}'); ` +
            'put the queues back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy")',
        },
      ]);
    });

    it('fails while the start queue\'s policy lets anyone but the start role receive, since a script could take uploads with no trigger to see, naming the statement', async () => {
      const sqs = new SQSClient(atMoto());
      const start = localEnvironmentExports(pipeline).TKP_START_QUEUE_URL as string;
      const { Policy } = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: start, AttributeNames: ['Policy'] }))).Attributes ?? {};
      const policy = JSON.parse(Policy as string);
      expect(policy.Statement.map((statement: { Sid: string }) => statement.Sid)).toEqual(['InputBucketNotifications', 'ReceivesOnlyByStartFunction']);
      const startRole = localRoleArn(pipeline.stack.names, 'start');
      await expectCheckFailsWhile(
        () => sqs.send(new SetQueueAttributesCommand({ QueueUrl: start, Attributes: { Policy: JSON.stringify({ ...policy, Statement: [policy.Statement[0]] }) } })),
        () => sqs.send(new SetQueueAttributesCommand({ QueueUrl: start, Attributes: { Policy: Policy as string } })),
        [
          {
            check: 'stack queues',
            detail:
              'the start queue\'s policy lets principals other than the start role receive its messages, so anyone in the account whose IAM policy allows sqs:ReceiveMessage (a script, another function\'s trigger) can take uploads that then never become jobs, with no page ' +
              `(put back the statement ReceivesOnlyByStartFunction: Deny sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility on arn:aws:sqs:us-east-1:${MOTO_DEFAULT_ACCOUNT}:tkp-start to every principal whose aws:PrincipalArn is not ${startRole}; ` +
              'then tkp backfill --since the time it was removed transcribes what was taken, once each); ' +
              'put the queues back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy")',
          },
        ],
      );
    });

    it('fails while another function reads the start queue or the verify DLQ, since the uploads it takes never become jobs and the letters are never read', async () => {
      const lambda = new LambdaClient(atMoto());
      const archiver = 'team-x-archiver';
      const { FunctionArn } = await lambda.send(
        new CreateFunctionCommand({ FunctionName: archiver, Runtime: 'nodejs22.x', Role: localRoleArn(pipeline.stack.names, 'start'), Handler: 'index.handler', Code: { ZipFile: Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]) } }),
      );
      const queueArn = (name: string) => `arn:aws:sqs:us-east-1:${MOTO_DEFAULT_ACCOUNT}:${name}`;
      const triggers: string[] = [];
      const readBy = (queue: string) => lambda.send(new CreateEventSourceMappingCommand({ FunctionName: archiver, EventSourceArn: queueArn(queue), BatchSize: 10 }));
      // Made before the check, so that the expected text can name them.
      for (const queue of ['tkp-start', 'tkp-verify-dlq']) triggers.push((await readBy(queue)).UUID as string);
      await expectCheckFailsWhile(
        async () => undefined,
        async () => {
          for (const UUID of triggers) await lambda.send(new DeleteEventSourceMappingCommand({ UUID }));
        },
        [
          {
            check: 'stack queues',
            detail:
              `${FunctionArn} also reads the start queue through a trigger that is Enabled, so the uploads it takes never become jobs: no verdict, no dead letter ` +
              `(aws lambda delete-event-source-mapping --uuid ${triggers[0]}, then tkp backfill --since the time it was created transcribes them, once each); ` +
              `${FunctionArn} reads the verify DLQ through a trigger that is Enabled, so the dead letters it takes are deleted before anyone reads why (aws lambda delete-event-source-mapping --uuid ${triggers[1]}); ` +
              'put the queues back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy")',
          },
        ],
      );
      await lambda.send(new DeleteFunctionCommand({ FunctionName: archiver }));
    });

    it('fails while one of the stack\'s alarms has its actions disabled, naming the alarm and the command', async () => {
      const cloudWatch = new CloudWatchClient(atMoto());
      const passing = await tkp(['check', '--json']);
      expect(passing.json.rows.find((r: any) => r.check === 'CloudWatch alarms')).toEqual({
        rule: '(stack)',
        check: 'CloudWatch alarms',
        ok: true,
        detail:
          'all 5 send their alarm to the alarm topic: transcribe-kms-pipeline-local-start-dead-letters, transcribe-kms-pipeline-local-verify-dead-letters, ' +
          'transcribe-kms-pipeline-local-start-backlog, transcribe-kms-pipeline-local-encryption-mismatch, transcribe-kms-pipeline-local-verifier-dead-letters-lost',
      });
      const alarm = 'transcribe-kms-pipeline-local-verify-dead-letters';
      // Rewritten with its actions off (moto 5.2.1 has no DisableAlarmActions), as PutMetricAlarm can.
      const [current] = (await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarm] }))).MetricAlarms ?? [];
      const rewrite = (ActionsEnabled: boolean) =>
        cloudWatch.send(
          new PutMetricAlarmCommand({
            AlarmName: alarm,
            ActionsEnabled,
            AlarmActions: current?.AlarmActions,
            OKActions: current?.OKActions,
            Namespace: current?.Namespace,
            MetricName: current?.MetricName,
            Dimensions: current?.Dimensions,
            Statistic: current?.Statistic,
            Period: current?.Period,
            EvaluationPeriods: current?.EvaluationPeriods,
            Threshold: current?.Threshold,
            ComparisonOperator: current?.ComparisonOperator,
            TreatMissingData: current?.TreatMissingData,
          }),
        );
      await expectCheckFailsWhile(
        () => rewrite(false),
        () => rewrite(true),
        [
          {
            check: 'CloudWatch alarms',
            detail: `${alarm} has its actions disabled (aws cloudwatch enable-alarm-actions --alarm-names ${alarm}); put them back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy"). Until then that alarm pages no one: read the DLQs and the outcome bus yourself`,
          },
        ],
      );
    });

    it('fails while one of the stack\'s rules is off, as after both watchers were turned off at once, naming the rule and the command', async () => {
      const events = new EventBridgeClient(atMoto());
      const passing = await tkp(['check', '--json']);
      expect(passing.json.rows.find((r: any) => r.check === 'EventBridge rules')).toMatchObject({ ok: true, detail: expect.stringMatching(/^all 11 are enabled and send to their function or the alarm topic: transcribe-kms-pipeline-local-verify-rule-1, /) });
      const bus = 'transcribe-kms-pipeline-local-outcomes';
      const turned = (Command: typeof DisableRuleCommand | typeof EnableRuleCommand) => async () => {
        await events.send(new Command({ Name: 'transcribe-kms-pipeline-local-alerting-changes' }));
        await events.send(new Command({ Name: 'transcribe-kms-pipeline-local-paging-verdicts', EventBusName: bus }));
      };
      await expectCheckFailsWhile(turned(DisableRuleCommand), turned(EnableRuleCommand), [
        {
          check: 'EventBridge rules',
          detail:
            'transcribe-kms-pipeline-local-paging-verdicts is DISABLED (aws events enable-rule --name transcribe-kms-pipeline-local-paging-verdicts --event-bus-name transcribe-kms-pipeline-local-outcomes); ' +
            'transcribe-kms-pipeline-local-alerting-changes is DISABLED (aws events enable-rule --name transcribe-kms-pipeline-local-alerting-changes); ' +
            'put them back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy"). Until then what they carry (completion events, sweeps, pages) reaches no one: afterwards, tkp audit --since the time they changed',
        },
      ]);
    });

    it('fails while a rule is on but sends nowhere or elsewhere, as after its targets were changed while both watchers were off', async () => {
      const events = new EventBridgeClient(atMoto());
      const verifyRule = 'transcribe-kms-pipeline-local-verify-rule-1';
      const pagingRule = 'transcribe-kms-pipeline-local-paging-verdicts';
      const trustRule = 'transcribe-kms-pipeline-local-trust-changes';
      const bus = 'transcribe-kms-pipeline-local-outcomes';
      const { Targets: verifyTargets } = await events.send(new ListTargetsByRuleCommand({ Rule: verifyRule }));
      const { Targets: pagingTargets } = await events.send(new ListTargetsByRuleCommand({ Rule: pagingRule, EventBusName: bus }));
      const { Targets: trustTargets } = await events.send(new ListTargetsByRuleCommand({ Rule: trustRule }));
      // A CloudTrail rule's page says what to do through its input template.
      expect(trustTargets?.map((t) => [t.Arn, t.InputTransformer?.InputTemplate])).toEqual([[pipeline.stack.alarmTopicArn, expect.stringMatching(new RegExp(`^\\{"page": "${trustRule}", "whatToDo": "A key alias a rule `))]]);
      // The deployed stack's targets: the verify function and the alarm topic, each with the verify DLQ.
      expect(verifyTargets?.map((t) => [t.Arn, t.DeadLetterConfig?.Arn])).toEqual([
        [`arn:aws:lambda:us-east-1:${MOTO_DEFAULT_ACCOUNT}:function:transcribe-kms-pipeline-local-verify`, `arn:aws:sqs:us-east-1:${MOTO_DEFAULT_ACCOUNT}:tkp-verify-dlq`],
      ]);
      expect(pagingTargets?.map((t) => t.Arn)).toEqual([pipeline.stack.alarmTopicArn]);
      const quiet = `arn:aws:sns:us-east-1:${MOTO_DEFAULT_ACCOUNT}:quiet`;
      await expectCheckFailsWhile(
        async () => {
          await events.send(new RemoveTargetsCommand({ Rule: verifyRule, Ids: verifyTargets?.map((t) => t.Id as string) }));
          await events.send(new PutTargetsCommand({ Rule: pagingRule, EventBusName: bus, Targets: pagingTargets?.map((t) => ({ ...t, Arn: quiet })) }));
          await events.send(new PutTargetsCommand({ Rule: trustRule, Targets: trustTargets?.map(({ InputTransformer, ...t }) => t) }));
        },
        async () => {
          await events.send(new PutTargetsCommand({ Rule: verifyRule, Targets: verifyTargets }));
          await events.send(new PutTargetsCommand({ Rule: pagingRule, EventBusName: bus, Targets: pagingTargets }));
          await events.send(new PutTargetsCommand({ Rule: trustRule, Targets: trustTargets }));
        },
        [
          {
            check: 'EventBridge rules',
            detail:
              `${verifyRule} is on but does not send to the function transcribe-kms-pipeline-local-verify (it has no target); ` +
              `${pagingRule} is on but does not send to the alarm topic ${pipeline.stack.alarmTopicArn} (it sends to ${quiet}); ` +
              `${trustRule} sends to the alarm topic ${pipeline.stack.alarmTopicArn} without its page's input template, so whoever is paged is not told what to do; ` +
              'put them back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy"). Until then what they carry (completion events, sweeps, pages) reaches no one: afterwards, tkp audit --since the time they changed',
          },
        ],
      );
    });

    it('fails while a verifier\'s role lacks its guard against forged verdicts or may be assumed by a person, as after IAM calls no rule sees', async () => {
      const iam = new IAMClient(atMoto());
      const verify = 'transcribe-kms-pipeline-local-us-east-1-verify';
      const sweep = 'transcribe-kms-pipeline-local-us-east-1-sweep';
      const passing = await tkp(['check', '--json']);
      expect(passing.json.rows.find((r: any) => r.check === 'verifier roles')).toEqual({
        rule: '(stack)',
        check: 'verifier roles',
        ok: true,
        detail: `${verify}, ${sweep}: assumed by Lambda alone, and verdicts refused to any code but their function's`,
      });
      // The local roles carry the deployed policy, guard included.
      const { PolicyDocument } = await iam.send(new GetRolePolicyCommand({ RoleName: verify, PolicyName: 'verify' }));
      const policy = JSON.parse(decodeURIComponent(PolicyDocument as string));
      expect(policy.Statement.filter((s: any) => s.Effect === 'Deny').map((s: any) => [s.Sid, Object.keys(s.Condition)[0]])).toEqual([
        ['VerdictsOnlyFromOwnCode', 'ArnNotLike'],
        ['VerdictsOnlyFromFunctionCode', 'Null'],
      ]);
      const { Role } = await iam.send(new GetRoleCommand({ RoleName: sweep }));
      const trust = decodeURIComponent(Role?.AssumeRolePolicyDocument as string);
      await expectCheckFailsWhile(
        async () => {
          await iam.send(new PutRolePolicyCommand({ RoleName: verify, PolicyName: 'verify', PolicyDocument: JSON.stringify({ ...policy, Statement: policy.Statement.filter((s: any) => s.Effect !== 'Deny') }) }));
          const mallory = { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MOTO_DEFAULT_ACCOUNT}:user/mallory` }, Action: 'sts:AssumeRole' };
          await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: sweep, PolicyDocument: JSON.stringify({ ...JSON.parse(trust), Statement: [...JSON.parse(trust).Statement, mallory] }) }));
        },
        async () => {
          await iam.send(new PutRolePolicyCommand({ RoleName: verify, PolicyName: 'verify', PolicyDocument: JSON.stringify(policy) }));
          await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: sweep, PolicyDocument: trust }));
        },
        [
          {
            check: 'verifier roles',
            detail:
              `${verify} lacks its Deny statement(s) VerdictsOnlyFromOwnCode, VerdictsOnlyFromFunctionCode, so code other than its function's may publish verdicts with it; ` +
              `${sweep} may also be assumed by AWS:arn:aws:iam::${MOTO_DEFAULT_ACCOUNT}:user/mallory; ` +
              'put them back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy"). Until then a verdict may be forged: tkp audit --since the time they changed judges the transcripts themselves',
          },
        ],
      );
    });

    it('fails while a lifecycle rule of the transcript bucket would expire the verdict ledger, which S3 does whatever the bucket policy denies, naming the rule', async () => {
      const s3 = new S3Client({ ...atMoto(), forcePathStyle: true });
      const bucket = pipeline.stack.names.transcriptBucket;
      const passing = await tkp(['check', '--json']);
      expect(passing.json.rows.find((r: any) => r.check === 'transcript bucket lifecycle')).toEqual({
        rule: '(stack)',
        check: 'transcript bucket lifecycle',
        ok: true,
        detail: `s3://${bucket}: no lifecycle rule expires the verdict ledger or the transcripts (1 rule)`,
      });
      // The stack's own rule (old versions after 90 days), as the local stack puts it, and one beside it.
      const stacks = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
      expect(stacks.Rules?.map((rule) => [rule.ID, rule.NoncurrentVersionExpiration?.NoncurrentDays, rule.Expiration])).toEqual([['expire-old-versions', 90, undefined]]);
      const rules = [...(stacks.Rules ?? []), { ID: 'tidy-verdicts', Status: 'Enabled' as const, Filter: { Prefix: 'verdicts/' }, Expiration: { Days: 1 } }];
      await expectCheckFailsWhile(
        () => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } })),
        () => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: stacks.Rules } })),
        [
          {
            check: 'transcript bucket lifecycle',
            detail:
              `s3://${bucket}: lifecycle rule "tidy-verdicts" expires the current objects under "verdicts/" 1 day after they are written, which S3 does whatever the bucket policy denies: it deletes the verdict ledger (verdicts/). ` +
              `Before it runs, put the bucket's lifecycle back as the stack defines it, which a redeploy does not do (aws s3api put-bucket-lifecycle-configuration --bucket ${bucket} with the packaged template's LifecycleConfiguration of TranscriptBucket, or without those rules on a bucket of your own). ` +
              'On a versioned bucket, as the stack makes it, an expired object stays as an old version behind a delete marker until the old-version rule deletes it: deleting the marker (aws s3api delete-object --version-id) brings it back',
          },
        ],
      );
    });

    it('fails while the recordings are open to others: the input bucket\'s public access block lifted, another account let read, a replication rule to another account', async () => {
      const s3 = new S3Client({ ...atMoto(), forcePathStyle: true });
      const bucket = pipeline.stack.names.inputBucket;
      const passing = await tkp(['check', '--json']);
      for (const [check, holds, name] of [['input bucket exposure', 'the recordings', bucket], ['transcript bucket exposure', 'the transcripts', pipeline.stack.names.transcriptBucket]]) {
        expect(passing.json.rows.find((r: any) => r.check === check)).toEqual({
          rule: '(stack)',
          check,
          ok: true,
          detail: `s3://${name}: nobody outside account ${MOTO_DEFAULT_ACCOUNT} may read ${holds}: public access blocked (all four settings), ACLs disabled, and the policy lets no other account, service or the public read`,
        });
      }
      const partner = { Sid: 'PartnerReads', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::444455556666:root' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/partners/*` };
      const replication = {
        Role: `arn:aws:iam::${MOTO_DEFAULT_ACCOUNT}:role/replication`,
        Rules: [{ ID: 'copy-hr', Priority: 1, Status: 'Enabled' as const, Filter: { Prefix: 'hr/' }, DeleteMarkerReplication: { Status: 'Disabled' as const }, Destination: { Bucket: 'arn:aws:s3:::elsewhere', Account: '999988887777' } }],
      };
      await expectCheckFailsWhile(
        async () => {
          await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
          await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [partner] }) }));
          await s3.send(new PutBucketReplicationCommand({ Bucket: bucket, ReplicationConfiguration: replication }));
        },
        async () => {
          await s3.send(new DeleteBucketReplicationCommand({ Bucket: bucket }));
          await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
          await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
        },
        [
          {
            check: 'input bucket exposure',
            detail:
              `s3://${bucket}: it has no public access block, so a public policy or ACL may open the recordings to anyone (aws s3api put-public-access-block --bucket ${bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true); ` +
              'by the bucket policy, account 444455556666 (arn:aws:iam::444455556666:root) may read the recordings (s3:GetObject under "partners/"); ' +
              `replication rule "copy-hr" copies the recordings to arn:aws:s3:::elsewhere in account 999988887777 (aws s3api delete-bucket-replication --bucket ${bucket}, or put-bucket-replication without that rule). ` +
              'Put the bucket back as the stack defines it, which a redeploy does not do (README: "Putting back what changed outside a deploy"), then find what was read or copied meanwhile (a replication rule\'s destination; S3 server access logs or CloudTrail data events, where on)',
          },
        ],
      );
    });

    it('fails while the transcript bucket\'s policy lets others write transcripts or the ledger, judged by what it refuses, not by statement names', async () => {
      const s3 = new S3Client({ ...atMoto(), forcePathStyle: true });
      const bucket = pipeline.stack.names.transcriptBucket;
      const passing = await tkp(['check', '--json']);
      expect(passing.json.rows.find((r: any) => r.check === 'transcript bucket policy')).toEqual({
        rule: '(stack)',
        check: 'transcript bucket policy',
        ok: true,
        detail: `s3://${bucket}: the verdict ledger is written by the verifiers alone, conditionally, and transcripts by the stack's roles alone`,
      });
      const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy as string);
      expect(policy.Statement.map((s: any) => s.Sid)).toEqual(['LedgerWritesOnlyByVerifiers', 'LedgerWritesOnlyConditional', 'WritesOnlyByThisStack']);
      // The conditional-write rule gone, and a person added to the transcript guard's exemption under its own name.
      const mallory = `arn:aws:iam::${MOTO_DEFAULT_ACCOUNT}:user/mallory`;
      const weakened = policy.Statement.flatMap((s: any) =>
        s.Sid === 'LedgerWritesOnlyConditional' ? [] : s.Sid === 'WritesOnlyByThisStack' ? [{ ...s, Condition: { ...s.Condition, ArnNotEquals: { 'aws:PrincipalArn': [...s.Condition.ArnNotEquals['aws:PrincipalArn'], mallory] } } }] : [s],
      );
      const run = await (async () => {
        await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ ...policy, Statement: weakened }) }));
        try {
          return await tkp(['check', '--json']);
        } finally {
          await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
        }
      })();
      expect(run.code).toBe(1);
      const [failed, ...more] = run.json.rows.filter((r: any) => !r.ok);
      expect(more).toEqual([]);
      expect(failed.check).toBe('transcript bucket policy');
      const [listed = '', advice] = failed.detail.split('. put the policy of the bucket the stack creates back ');
      const problems = listed.split('; ');
      expect(problems[0]).toBe(`s3://${bucket}: a verifier may overwrite a verdict without a conditional write (LedgerWritesOnlyConditional)`);
      // Then one per output prefix of the transcript bucket, naming the person.
      expect(problems.length).toBeGreaterThan(1);
      for (const problem of problems.slice(1)) expect(problem).toMatch(new RegExp(`^${mallory} may replace a transcript under [^ ]+/ with one under another key \\(WritesOnlyByThisStack\\)$`));
      expect(advice).toBe(
        'as the stack defines it, which a redeploy does not do (README: "Putting back what changed outside a deploy"); a transcript bucket of your own needs the statements LedgerWritesOnlyByVerifiers, ' +
          'LedgerWritesOnlyConditional and WritesOnlyByThisStack (README: "The verdict ledger")',
      );
      expect((await tkp(['check', '--json'])).code).toBe(0);
    });

    it('fails when no trail is logging, since TrustChangesRule could then never page, and says what to run', async () => {
      const cloudTrail = new CloudTrailClient(atMoto());
      await expectCheckFailsWhile(
        () => cloudTrail.send(new StopLoggingCommand({ Name: 'tkp-local-trail' })),
        () => cloudTrail.send(new StartLoggingCommand({ Name: 'tkp-local-trail' })),
        [
          {
            check: 'CloudTrail',
            detail:
              'trail tkp-local-trail is not logging (aws cloudtrail start-logging --name tkp-local-trail): until a trail logs us-east-1, EventBridge gets no CloudTrail events there: TrustChangesRule never pages, and a job deleted before its verdict leaves no trace',
          },
        ],
      );
    });

  });
});
