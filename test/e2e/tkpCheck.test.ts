import { CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { GetBucketNotificationConfigurationCommand, PutBucketEncryptionCommand, PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeS3EventKey } from '../../shared/aws/s3Location';
import { MOTO_DEFAULT_ACCOUNT } from '../local/emulator/moto';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { motoAvailable } from '../support/moto';
import { ACME, expectOneLineError, useTkpStack, ZURICH } from '../support/tkpStack';

/**
 * `tkp check` as a user runs it against the local mode (test/support/tkpStack.ts): a working
 * stack, its keys and notifications, configs it must refuse, and a stage before its first deploy.
 * Each change outside a deploy that the check guards against is in tkpCheckDrift.test.ts.
 */
describe.runIf(motoAvailable('tkp CLI end-to-end tests'))('tkp against the local mode', () => {
  const { stack, tkp, kms, atMoto } = useTkpStack();
  let pipeline: LocalPipeline;
  let work: string;
  beforeAll(() => {
    ({ pipeline, work } = stack());
  });

  describe('tkp check', () => {
    it('passes every rule of a working stack, notifications encoded as S3 needs them included', async () => {
      const run = await tkp(['check', '--json']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.json.failed).toBe(0);
      expect(run.json.dryRunAs).toMatch(/your identity, not the start role/);
      const notifications = run.json.rows.find((r: any) => r.check.startsWith('notifications'));
      expect(notifications).toMatchObject({ ok: true, detail: expect.stringContaining(JSON.stringify(encodeS3EventKey(ZURICH))) });
      expect(run.json.rows.filter((r: any) => r.check === 'kms:GenerateDataKey (DryRun)')).toHaveLength(8);
      expect(run.json.rows.find((r: any) => r.check === 'input bucket')).toMatchObject({
        ok: true,
        detail: expect.stringMatching(
          new RegExp(`^s3://${pipeline.stack.names.inputBucket} stores uploads under SSE-S3 unless the uploader names a KMS key\\. Transcribe reads an upload under a KMS key with arn:aws:iam::${MOTO_DEFAULT_ACCOUNT}:role/transcribe-kms-pipeline-local-us-east-1-start, which the stack allows kms:Decrypt through S3 for this bucket;`),
        ),
      });
      expect(run.json.rows.find((r: any) => r.check === 'CloudTrail')).toMatchObject({ ok: true, detail: expect.stringMatching(/^trail tkp-local-trail logs us-east-1, so TrustChangesRule pages/) });
      expect(run.json.rows.find((r: any) => r.check === 'alarm topic')).toMatchObject({
        ok: true,
        detail: `${pipeline.stack.alarmTopicArn} delivers every alarm and page to sqs arn:aws:sqs:us-east-1:${MOTO_DEFAULT_ACCOUNT}:tkp-alarm-inbox`,
      });
      expect(run.json.rows.find((r: any) => r.check === 'stack queues')).toMatchObject({ ok: true, detail: expect.stringMatching(/^S3 delivers uploads to the start queue, .* the verify DLQ takes what the 10 rules cannot deliver;/) });
      expect(run.json.rows.find((r: any) => r.check === 'alarm topic policy')).toMatchObject({
        ok: true,
        detail: `${pipeline.stack.alarmTopicArn} lets EventBridge publish the pages of the 7 paging rules and CloudWatch the 5 alarms`,
      });
      expect(run.json.rows.find((r: any) => r.check === 'alarm topic key')).toMatchObject({
        ok: true,
        detail: `${pipeline.stack.alarmTopicArn} is not encrypted with a KMS key, so EventBridge and CloudWatch publish to it without one`,
      });
      expect(run.json.rows.find((r: any) => r.check === 'deployed config')).toEqual({
        rule: '(stack)',
        check: 'deployed config',
        ok: true,
        detail: `transcribe-kms-pipeline-local was deployed with this config (fingerprint ${run.json.configFingerprint})`,
      });
    });

    it('finds a disabled key and a cross-account key whose DryRun is refused, as the caller and inside the preflight function', async () => {
      const { KeyMetadata } = await kms().send(new DescribeKeyCommand({ KeyId: 'alias/paused-key' }));
      await kms().send(new DisableKeyCommand({ KeyId: KeyMetadata?.KeyId }));
      // moto models no key policies: the refusal another account's key policy would give is injected.
      const refuse = pipeline.gateway.addFault((request) =>
        request.target?.startsWith('TrentService.') && request.body.includes(`:${ACME}:`) && request.body.includes('"DryRun":true')
          ? { status: 400, code: 'AccessDeniedException', message: 'not authorized by the key policy', json: true }
          : undefined,
      );
      try {
        for (const args of [['check', '--json'], ['check', '--deployed', '--json']]) {
          const run = await tkp(args);
          expect(run.code).toBe(1);
          const failed = run.json.rows.filter((r: any) => !r.ok);
          expect(failed.map((r: any) => [r.rule, r.check])).toEqual([
            ['partners/acme/', 'kms:GenerateDataKey (DryRun)'],
            ['partners/acme/', 'kms:Encrypt (DryRun)'],
            ['paused/', 'key'],
          ]);
          expect(failed[0].detail).toContain(`account ${ACME} must add the statement "TranscribeKmsPipelineEncrypt" to the key's policy`);
          expect(failed[2].detail).toMatch(/prefix "paused\/"\): kmsKey alias\/paused-key .* is Disabled \(enable it\)/);
        }
        const deployed = await tkp(['check', '--deployed', '--json']);
        expect(deployed.json.dryRunAs).toMatch(/role\/transcribe-kms-pipeline-local-us-east-1-start \(the start role, inside the preflight function/);
        const table = await tkp(['check']);
        expect(table.stdout).toMatch(/✘\s+paused\/\s+key\s+rules\[6\]/);
        expect(table.stdout).toContain('3 of ');
      } finally {
        refuse();
        await kms().send(new EnableKeyCommand({ KeyId: KeyMetadata?.KeyId }));
      }
    });

    it('finds a notification filter written raw, which S3 never matches', async () => {
      const s3 = pipeline.s3;
      const bucket = pipeline.stack.names.inputBucket;
      const saved = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
      try {
        const broken = await tkpWithRawFilter();
        expect(broken.code).toBe(1);
        expect(broken.json.rows.find((r: any) => r.check.startsWith('notifications')).detail).toContain(`an extra notification for prefix ${JSON.stringify(ZURICH)}`);
      } finally {
        const { $metadata: _, ...configuration } = saved;
        await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: configuration }));
      }

      async function tkpWithRawFilter() {
        // Written through the gateway, as an operator's script would write it to S3.
        const { S3Client } = await import('@aws-sdk/client-s3');
        const viaGateway = new S3Client({ region: 'us-east-1', endpoint: pipeline.gateway.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
        const current = await viaGateway.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
        const queues = (current.QueueConfigurations ?? []).map((q) =>
          q.Filter?.Key?.FilterRules?.[0]?.Value === encodeS3EventKey(ZURICH) ? { ...q, Filter: { Key: { FilterRules: [{ Name: 'prefix' as const, Value: ZURICH }] } } } : q,
        );
        await viaGateway.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { QueueConfigurations: queues } }));
        return tkp(['check', '--json']);
      }
    });

    it('fails a config that needs more S3 notifications than the input bucket takes, before it is deployed, saying what to change', async () => {
      const path = join(work, 'many-prefixes.json');
      writeFileSync(path, JSON.stringify({ defaults: { languageCode: 'en-US' }, rules: Array.from({ length: 101 }, (_, i) => ({ prefix: `site-${i}/` })) }));
      const run = await tkp(['check', '--config', path, '--json']);
      expect(run.code).toBe(1);
      expect(run.json.rows.filter((r: any) => !r.ok)).toEqual([
        {
          rule: '(stack)',
          check: `notifications of s3://${pipeline.stack.names.inputBucket}`,
          ok: false,
          detail: expect.stringMatching(/^the config's 101 rules need 101 S3 notifications on the input bucket, .* over S3's 100 per bucket; put the prefixes under fewer parents/),
        },
      ]);
      // The stack was deployed with another config: the row that failed may be the deploy's to change, and the check says so.
      expect(run.json.rows.find((r: any) => r.check === 'deployed config')).toMatchObject({
        ok: true,
        detail: expect.stringMatching(new RegExp(`^transcribe-kms-pipeline-local was deployed with another config \\(fingerprint [0-9a-f]{32}, not ${run.json.configFingerprint}\\): where a row below fails`)),
      });
    });

    it('before the first deploy into an existing bucket, fails when the bucket\'s own notifications leave too little room for this stage\'s', async () => {
      const bucket = pipeline.stack.names.inputBucket;
      // The local stage's notifications are this bucket's own, as far as stage notyet is concerned.
      const current = await pipeline.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
      const own = current.QueueConfigurations?.length ?? 0;
      expect(own).toBeGreaterThan(0);
      const checkWith = async (prefixes: number) => {
        const path = join(work, `room-${prefixes}.json`);
        writeFileSync(path, JSON.stringify({ defaults: { languageCode: 'en-US' }, rules: Array.from({ length: prefixes }, (_, i) => ({ prefix: `site-${i}/` })) }));
        const run = await tkp(['check', '--stage', 'notyet', '--config', path, '--json'], { TKP_STAGE: '', TKP_INPUT_BUCKET: bucket, TKP_TRANSCRIPT_BUCKET: '', TKP_START_QUEUE_URL: '', TKP_ALARM_TOPIC_ARN: '' });
        return { run, row: run.json.rows.find((r: any) => r.check === `notifications of s3://${bucket}`) };
      };
      const fits = await checkWith(100 - own);
      expect(fits.run.code).toBe(0);
      expect(fits.row).toEqual({ rule: '(stack)', check: `notifications of s3://${bucket}`, ok: true, skipped: true, detail: `the start queue does not exist until the stack is deployed; the bucket has room for this stage's ${100 - own} notification(s)` });
      const over = await checkWith(101 - own);
      expect(over.run.code).toBe(1);
      expect(over.row).toMatchObject({
        ok: false,
        detail:
          `the bucket already has ${own} other event notification configurations, and this stage's ${101 - own} would make more than S3's 100 per bucket; ` +
          "remove notifications the bucket no longer needs, or put the config's prefixes under fewer parents, each with a rule of its own; the deploy would fail at the custom resource that sets them",
      });
    });

    it('names the key the input bucket gives an upload that names none', async () => {
      const { KeyMetadata } = await kms().send(new CreateKeyCommand({ KeyUsage: 'ENCRYPT_DECRYPT' }));
      const Bucket = pipeline.stack.names.inputBucket;
      const setDefault = (rule: { SSEAlgorithm: 'AES256' } | { SSEAlgorithm: 'aws:kms'; KMSMasterKeyID: string }) =>
        pipeline.s3.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: rule }] } }));
      await setDefault({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KeyMetadata?.Arn as string });
      try {
        const run = await tkp(['check', '--json']);
        expect(run.code).toBe(0);
        expect(run.json.rows.find((r: any) => r.check === 'input bucket')).toMatchObject({
          ok: true,
          detail: expect.stringMatching(new RegExp(`^s3://${Bucket} encrypts uploads with ${KeyMetadata?.Arn} \\(aws:kms\\) unless the uploader names another key\\.`)),
        });
      } finally {
        await setDefault({ SSEAlgorithm: 'AES256' });
      }
    });

    it('finds the stack\'s resources from its CloudFormation outputs when none is named, as on AWS, and passes', async () => {
      const unnamed = { TKP_INPUT_BUCKET: '', TKP_TRANSCRIPT_BUCKET: '', TKP_START_QUEUE_URL: '', TKP_START_DLQ_URL: '', TKP_VERIFY_DLQ_URL: '', TKP_PREFLIGHT_FUNCTION: '', TKP_ALARM_TOPIC_ARN: '' };
      const run = await tkp(['check', '--json'], unnamed);
      expect(run.stderr).toBe('');
      expect(run.json.rows.filter((r: any) => !r.ok || r.skipped)).toEqual([]);
      expect(run.code).toBe(0);
      const named = await tkp(['check', '--json']);
      expect(run.json.rows).toEqual(named.json.rows);
      // The preflight function too: --deployed finds it by the stack's output.
      expect((await tkp(['check', '--deployed', '--json'], unnamed)).code).toBe(0);
    });

    it('before the first deploy, proves the keys and marks what the stack will create as not checked yet', async () => {
      const run = await tkp(['check', '--stage', 'notyet', '--json'], { TKP_STAGE: '', TKP_INPUT_BUCKET: '', TKP_TRANSCRIPT_BUCKET: '', TKP_START_QUEUE_URL: '', TKP_ALARM_TOPIC_ARN: '' });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.json.rows.filter((r: any) => r.skipped).map((r: any) => r.check)).toEqual([
        'stack',
        ...Array(9).fill('output bucket'),
        'input bucket',
        'notifications of s3://(input bucket)',
        'alarm topic',
        'alarm topic policy',
        'alarm topic key',
        'EventBridge rules',
        'CloudWatch alarms',
        'verifier roles',
        'stack functions',
        'function code',
        'outcome bus policy',
        'stack queues',
        'transcript bucket policy',
        'transcript bucket lifecycle',
        'input bucket exposure',
        'transcript bucket exposure',
      ]);
      expect(run.json.rows.find((r: any) => r.check === 'stack').detail).toMatch(/^stack transcribe-kms-pipeline-notyet is not deployed in us-east-1/);
      expect(run.json.rows.filter((r: any) => r.check === 'kms:Encrypt (DryRun)' && r.ok)).toHaveLength(8);
      expectOneLineError(await tkp(['check', '--stage', 'notyet', '--deployed'], { TKP_STAGE: '', TKP_INPUT_BUCKET: '', TKP_TRANSCRIPT_BUCKET: '', TKP_START_QUEUE_URL: '', TKP_PREFLIGHT_FUNCTION: '' }), /stack transcribe-kms-pipeline-notyet is not deployed/);
    });

    it('before the first deploy onto an existing transcript bucket, judges its policy against the roles the stage will have', async () => {
      const bucket = pipeline.stack.names.transcriptBucket;
      // The local stack's bucket policy spares stage "local"'s roles, not stage "notyet"'s.
      const run = await tkp(['check', '--stage', 'notyet', '--json'], { TKP_STAGE: '', TKP_INPUT_BUCKET: '', TKP_TRANSCRIPT_BUCKET: bucket, TKP_START_QUEUE_URL: '', TKP_ALARM_TOPIC_ARN: '' });
      expect(run.code).toBe(1);
      const role = (name: string) => `arn:aws:iam::${MOTO_DEFAULT_ACCOUNT}:role/transcribe-kms-pipeline-notyet-us-east-1-${name}`;
      const [failed, ...more] = run.json.rows.filter((r: any) => !r.ok);
      expect(more).toEqual([]);
      expect(failed.check).toBe('transcript bucket policy');
      expect(failed.detail).toContain(`the policy refuses ${role('verify')} its claim of a verdict, so no verdict can be recorded`);
      expect(failed.detail).toContain(`the policy refuses ${role('start')} writes under `);
    });

    it('prints the IAM policy it needs with --permissions, and makes no AWS call', async () => {
      // An endpoint nothing listens on: any call would fail.
      const run = await tkp(['check', '--permissions'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', TKP_STAGE: 'nowhere' });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const [metadata, ...data] = run.json.Statement;
      expect(metadata).toMatchObject({ Sid: 'TkpCheckMetadata', Resource: '*' });
      expect(metadata.Action).toEqual(expect.arrayContaining(['s3:GetBucketPolicy', 's3:GetReplicationConfiguration', 'kms:DescribeKey']));
      // The key probes and the preflight invocation reach the stack's keys and function alone (the function as TKP_PREFLIGHT_FUNCTION names it).
      expect(data.filter((s: any) => s.Action.includes('kms:GenerateDataKey')).length).toBeGreaterThan(0);
      expect(data.every((s: any) => s.Resource !== '*')).toBe(true);
      expect(data.find((s: any) => s.Action.includes('lambda:InvokeFunction')).Resource).toEqual(['arn:aws:lambda:us-east-1:*:function:transcribe-kms-pipeline-local-preflight']);
    });

    it('says in one line when the preflight function is not deployed', async () => {
      expectOneLineError(await tkp(['check', '--deployed', '--preflight-function', 'transcribe-kms-pipeline-gone-preflight']), /--deployed: the preflight function transcribe-kms-pipeline-gone-preflight is not deployed in us-east-1/);
    });

    it('says in one line when the credentials have expired', async () => {
      const expire = pipeline.gateway.addFault((request) => (request.body.includes('Action=GetCallerIdentity') ? { status: 403, code: 'ExpiredToken', message: 'The security token included in the request is expired', query: true } : undefined));
      try {
        expectOneLineError(await tkp(['check']), /^tkp: your AWS credentials have expired \(ExpiredToken\); refresh them/);
      } finally {
        expire();
      }
    });
  });
});
