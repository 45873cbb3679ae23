import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifySettings } from '../../shared/config/settings';
import { verifyTranscriptEncryption } from '../../shared/verify/encryptionVerdict';
import { KeyNotUsableError } from '../../shared/aws/errors';
import { createKeyResolver } from '../../shared/config/keyResolution';
import { validatePipelineConfig } from '../../shared/config/pipelineConfig';
import type { Rule } from '../../shared/config/rule';
import { retryDelaySeconds } from '../../shared/start/startRecord';
import { createVerifyAdapters } from '../../shared/verify/verifyAdapters';
import type { HeadResult } from '../../shared/verify/verifyJob';
import { startGateway, type Gateway } from '../local/emulator/gateway';
import { MOTO_DEFAULT_ACCOUNT, startMoto, type Moto } from '../local/emulator/moto';
import { kmsClientFor, LOCAL_CREDENTIALS } from '../local/runtime/provision';
import { motoAvailable } from '../support/moto';

const REGION = 'us-east-1';
const OTHER = '222233334444';

describe.runIf(motoAvailable('integration tests against moto'))('the AWS wire protocol against moto', () => {
  let moto: Moto;
  let gateway: Gateway;
  let kms: KMSClient;
  let s3: S3Client;
  let sqs: SQSClient;

  beforeAll(async () => {
    moto = await startMoto();
    gateway = await startGateway(moto.endpoint);
    kms = new KMSClient({ region: REGION, endpoint: gateway.endpoint, credentials: LOCAL_CREDENTIALS });
    s3 = new S3Client({ region: REGION, endpoint: moto.endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
    sqs = new SQSClient({ region: REGION, endpoint: moto.endpoint, credentials: LOCAL_CREDENTIALS });
  });

  afterAll(async () => {
    await gateway?.close();
    await moto?.stop();
  });

  describe('DescribeKey resolution', () => {
    const describeKey = async (keyId: string) => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    const ruleFor = (kmsKey: string, extra: object = {}) =>
      validatePipelineConfig({ rules: [{ prefix: 'p/', kmsKey, languageCode: 'en-US', ...extra }] }, { region: REGION }).rules[0] as Rule & { kmsKey: NonNullable<Rule['kmsKey']> };

    async function createKey(account = MOTO_DEFAULT_ACCOUNT, alias?: string) {
      const client = kmsClientFor(moto.endpoint, REGION, account);
      const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }));
      if (alias) await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyMetadata?.KeyId }));
      return { id: KeyMetadata?.KeyId as string, arn: KeyMetadata?.Arn as string };
    }

    it('resolves all four forms to the same key ARN', async () => {
      const key = await createKey(MOTO_DEFAULT_ACCOUNT, 'alias/integration');
      const resolve = createKeyResolver(describeKey);
      for (const form of [key.id, 'alias/integration', key.arn, `arn:aws:kms:${REGION}:${MOTO_DEFAULT_ACCOUNT}:alias/integration`]) {
        await expect(resolve(ruleFor(form))).resolves.toEqual({ arn: key.arn, account: MOTO_DEFAULT_ACCOUNT });
      }
    });

    it('resolves another account’s key by key ARN and by alias ARN, but never by bare alias', async () => {
      const key = await createKey(OTHER, 'alias/partner');
      const resolve = createKeyResolver(describeKey);
      await expect(resolve(ruleFor(key.arn, { account: OTHER }))).resolves.toEqual({ arn: key.arn, account: OTHER });
      await expect(resolve(ruleFor(`arn:aws:kms:${REGION}:${OTHER}:alias/partner`, { account: OTHER }))).resolves.toMatchObject({ arn: key.arn });
      await expect(resolve(ruleFor('alias/partner'))).rejects.toThrow('kmsKey alias/partner was not found; check that the key or alias exists in this region');
    });

    it('names a missing key ARN and its account', async () => {
      const missing = `arn:aws:kms:${REGION}:${OTHER}:key/00000000-0000-4000-8000-000000000000`;
      await expect(createKeyResolver(describeKey)(ruleFor(missing))).rejects.toThrow(`kmsKey ${missing} was not found in account ${OTHER}`);
    });

    it('refuses a disabled key and a key pending deletion', async () => {
      const disabled = await createKey();
      await kmsClientFor(moto.endpoint, REGION, MOTO_DEFAULT_ACCOUNT).send(new DisableKeyCommand({ KeyId: disabled.id }));
      await expect(createKeyResolver(describeKey)(ruleFor(disabled.arn))).rejects.toThrow(/is Disabled \(enable it\)/);
      const deleting = await createKey();
      await kmsClientFor(moto.endpoint, REGION, MOTO_DEFAULT_ACCOUNT).send(new ScheduleKeyDeletionCommand({ KeyId: deleting.id, PendingWindowInDays: 7 }));
      await expect(createKeyResolver(describeKey)(ruleFor(deleting.arn))).rejects.toThrow(/is pending deletion/);
    });

    it('refuses an asymmetric key', async () => {
      const client = kmsClientFor(moto.endpoint, REGION, MOTO_DEFAULT_ACCOUNT);
      const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }));
      const error = await createKeyResolver(describeKey)(ruleFor(KeyMetadata?.Arn as string)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyNotUsableError);
      expect((error as Error).message).toContain('is a RSA_2048 key; Transcribe and S3 need a symmetric (SYMMETRIC_DEFAULT) key');
    });
  });

  describe('verification against real HeadObject answers', () => {
    const bucket = 'verify-integration';
    const plainBucket = 'verify-integration-plain';
    const keyArn = `arn:aws:kms:${REGION}:${MOTO_DEFAULT_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const otherArn = `arn:aws:kms:${REGION}:${MOTO_DEFAULT_ACCOUNT}:key/0987dcba-09fe-87dc-65ba-ab0987654321`;
    let head: (key: string, b?: string) => Promise<HeadResult>;

    beforeAll(async () => {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new CreateBucketCommand({ Bucket: plainBucket }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'right.json', Body: '{}', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'wrong.json', Body: '{}', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: otherArn }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sse-s3.json', Body: '{}', ServerSideEncryption: 'AES256' }));
      await s3.send(new PutObjectCommand({ Bucket: plainBucket, Key: 'plain.json', Body: '{}' }));
      process.env.AWS_ENDPOINT_URL = gateway.endpoint;
      process.env.S3_FORCE_PATH_STYLE = 'true';
      process.env.AWS_ACCESS_KEY_ID = 'local';
      process.env.AWS_SECRET_ACCESS_KEY = 'local';
      const deps = createVerifyAdapters({ missingTranscriptRetries: 0, missingTranscriptRetryDelayMs: 0 } as VerifySettings);
      head = (key, b = bucket) => deps.headObject({ bucket: b, key });
    });

    const observe = async (key: string, b = bucket) => {
      const result = await head(key, b);
      return result.found
        ? { uri: `s3://${b}/${key}`, ...(result.serverSideEncryption && { serverSideEncryption: result.serverSideEncryption }), ...(result.kmsKeyArn && { kmsKeyArn: result.kmsKeyArn }) }
        : { uri: `s3://${b}/${key}`, missing: true as const };
    };

    it('verifies the right key', async () => {
      expect(verifyTranscriptEncryption({ serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn }, [await observe('right.json')])).toEqual({ verdict: 'verified' });
    });

    it('catches the wrong key', async () => {
      const verdict = verifyTranscriptEncryption({ serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn }, [await observe('wrong.json')]);
      expect(verdict).toEqual({ verdict: 'mismatch', problems: [`s3://${bucket}/wrong.json is encrypted under ${otherArn}, expected ${keyArn}`] });
    });

    it('verifies AES256 for SSE-S3 and refuses it where a key was asked for', async () => {
      expect(verifyTranscriptEncryption({ serverSideEncryption: 'AES256' }, [await observe('sse-s3.json')]).verdict).toBe('verified');
      expect(verifyTranscriptEncryption({ serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn }, [await observe('sse-s3.json')]).verdict).toBe('mismatch');
    });

    it('reports an object without encryption headers', async () => {
      const observed = await observe('plain.json', plainBucket);
      expect(observed).toEqual({ uri: `s3://${plainBucket}/plain.json` });
      expect(verifyTranscriptEncryption({ serverSideEncryption: 'AES256' }, [observed])).toEqual({
        verdict: 'mismatch',
        problems: [`s3://${plainBucket}/plain.json is not encrypted, expected SSE-S3 (AES256)`],
      });
    });

    it('reads a missing object as missing (404), not as an error', async () => {
      expect(await head('nothing-here.json')).toEqual({ found: false });
    });

    it('turns a refused HEAD (403) into an error that names the permission', async () => {
      const remove = gateway.addFault((request) => (request.method === 'HEAD' && request.path.includes('right.json') ? { status: 403, code: 'Forbidden', message: 'denied' } : undefined));
      await expect(head('right.json')).rejects.toThrow(`HeadObject on s3://${bucket}/right.json was denied; grant the verifier's role s3:GetObject`);
      remove();
    });
  });

  describe('SQS round trips', () => {
    let queueUrl: string;
    let dlqUrl: string;

    beforeAll(async () => {
      dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'it-dlq' }))).QueueUrl as string;
      queueUrl = (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: 'it-start',
            Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${REGION}:${MOTO_DEFAULT_ACCOUNT}:it-dlq`, maxReceiveCount: 2 }) },
          }),
        )
      ).QueueUrl as string;
    });

    it('carries a dead letter with its reason as message attributes', async () => {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: dlqUrl,
          MessageBody: '{"Records":[]}',
          MessageAttributes: {
            reason: { DataType: 'String', StringValue: 'EventShapeError: S3 event has no Records' },
            receiveCount: { DataType: 'Number', StringValue: '1' },
          },
        }),
      );
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));
      expect(Messages[0]?.Body).toBe('{"Records":[]}');
      expect(Messages[0]?.MessageAttributes?.reason?.StringValue).toBe('EventShapeError: S3 event has no Records');
    });

    it('keeps a message hidden for the backoff the start function chose', async () => {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'quota' }));
      const [message] = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }))).Messages ?? [];
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle, VisibilityTimeout: retryDelaySeconds(1, false, () => 1) }));
      await new Promise((r) => setTimeout(r, 1200));
      expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }))).Messages ?? []).toEqual([]);
      await new Promise((r) => setTimeout(r, 1200));
      const again = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }))).Messages ?? [];
      expect(again[0]?.Body).toBe('quota');
      expect(again[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
    });

    it('moves a message the function keeps failing to the DLQ through the redrive policy', async () => {
      const poisonDlq = (await sqs.send(new CreateQueueCommand({ QueueName: 'it-poison-dlq' }))).QueueUrl as string;
      const poisonQueue = (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: 'it-poison',
            Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${REGION}:${MOTO_DEFAULT_ACCOUNT}:it-poison-dlq`, maxReceiveCount: 2 }) },
          }),
        )
      ).QueueUrl as string;
      await sqs.send(new SendMessageCommand({ QueueUrl: poisonQueue, MessageBody: 'poison' }));
      for (let i = 0; i < 3; i++) {
        await sqs.send(new ReceiveMessageCommand({ QueueUrl: poisonQueue, WaitTimeSeconds: 1 }));
        await new Promise((r) => setTimeout(r, 1100));
      }
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: poisonDlq, WaitTimeSeconds: 1 }));
      expect(Messages.map((m) => m.Body)).toEqual(['poison']);
    });
  });
});
