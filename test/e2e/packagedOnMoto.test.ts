import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetMedicalTranscriptionJobCommand, GetTranscriptionJobCommand, DeleteMedicalTranscriptionJobCommand,
  ListMedicalTranscriptionJobsCommand, ListTranscriptionJobsCommand, TranscribeClient } from '@aws-sdk/client-transcribe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOutputUri } from '../../shared/aws/s3Location';
import { startMoto, type Moto } from '../local/emulator/moto';
import { repoPath } from '../support/fixtures';
import { motoAvailable } from '../support/moto';
import { runNode } from '../support/runNode';

const run = promisify(execFile);
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
type Encryption = { ServerSideEncryption: 'aws:kms'; SSEKMSKeyId: string } | { ServerSideEncryption: 'AES256' };

/**
 * The deployed bundles as an outside check runs them: `serverless package` of a config the
 * project does not ship, the template's buckets, queues and bus created in bare moto (no local
 * layer: no gateway, no Transcribe emulator), and each function's bundle run with the
 * environment the template gives it. moto's Transcribe writes no transcript and keeps no tags,
 * so the test writes each transcript itself, as Transcribe would, under the key it chooses.
 */
describe.runIf(motoAvailable('packaged bundles on moto'))('the packaged bundles against bare moto', () => {
  let moto: Moto;
  let work: string;
  let template: { Resources: Record<string, any> };
  let env: NodeJS.ProcessEnv;
  const clients = {} as { s3: S3Client; kms: KMSClient; sqs: SQSClient; transcribe: TranscribeClient; events: EventBridgeClient };
  let keyArn: string;
  let otherKeyArn: string;
  let outcomeQueue: string;

  /** The verdicts published since the last call, as a consumer of the outcome bus receives them. */
  async function verdicts(): Promise<{ 'detail-type': string; detail: any }[]> {
    const received = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: outcomeQueue, MaxNumberOfMessages: 10, VisibilityTimeout: 3600 }));
    return (received.Messages ?? []).map((m) => JSON.parse(m.Body as string));
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tkp-packaged-'));
    const config = join(work, 'theirs.json');
    writeFileSync(config, JSON.stringify({ defaults: { languageCode: 'en-GB' }, rules: [
      { prefix: "Zoë's calls/", kmsKey: 'alias/zoe-calls' },
      { prefix: 'open/' },
      // moto's medical jobs ignore OutputKey and report their transcript at medical/<job>.json, so
      // this rule's output location is that folder: anywhere else would be judged outside it.
      { prefix: 'clinic notes/', jobType: 'medical', kmsKey: 'alias/zoe-calls', languageCode: 'en-US', specialty: 'PRIMARYCARE', type: 'DICTATION', output: { prefix: 'medical/' } },
    ] }));
    const folder = `.esbuild-moto-${process.pid}`;
    await run(repoPath('node_modules/.bin/serverless'), ['package', '--package', join(work, 'pkg')], {
      cwd: repoPath('.'),
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline', ESBUILD_WORK_FOLDER: folder, PIPELINE_CONFIG_PATH: config },
      timeout: 120_000,
    });
    rmSync(repoPath(folder), { recursive: true, force: true });
    for (const fn of ['start', 'verify', 'sweep']) await run('unzip', ['-q', '-o', join(work, 'pkg', `${fn}.zip`), '-d', join(work, fn)]);
    template = JSON.parse(readFileSync(join(work, 'pkg', 'cloudformation-template-update-stack.json'), 'utf8'));

    moto = await startMoto();
    const aws = { region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    clients.s3 = new S3Client({ ...aws, forcePathStyle: true });
    clients.kms = new KMSClient(aws);
    clients.sqs = new SQSClient(aws);
    clients.transcribe = new TranscribeClient(aws);
    clients.events = new EventBridgeClient(aws);
    // The template's resources the functions use, as CloudFormation would name them.
    const sub = (value: { 'Fn::Sub': string }) => value['Fn::Sub'].replaceAll('${AWS::AccountId}', ACCOUNT).replaceAll('${AWS::Region}', REGION);
    const props = (id: string) => template.Resources[id].Properties;
    const refs: Record<string, string> = { InputBucket: sub(props('InputBucket').BucketName), TranscriptBucket: sub(props('TranscriptBucket').BucketName) };
    for (const id of ['InputBucket', 'TranscriptBucket']) await clients.s3.send(new CreateBucketCommand({ Bucket: refs[id] }));
    // Queues without a QueueName get one from CloudFormation: the stack's name and the logical ID.
    for (const id of ['StartQueue', 'StartDeadLetterQueue']) {
      refs[id] = (await clients.sqs.send(new CreateQueueCommand({ QueueName: `transcribe-kms-pipeline-dev-${id}` }))).QueueUrl as string;
    }
    refs.OutcomeBus = props('OutcomeBus').Name;
    await clients.events.send(new CreateEventBusCommand({ Name: refs.OutcomeBus }));
    // A consumer of the outcome bus: every verdict lands in this queue.
    outcomeQueue = (await clients.sqs.send(new CreateQueueCommand({ QueueName: 'outcome-consumer' }))).QueueUrl as string;
    const queueArn = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: outcomeQueue, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    await clients.events.send(new PutRuleCommand({ Name: 'all-verdicts', EventBusName: refs.OutcomeBus, EventPattern: JSON.stringify({ source: ['transcribe-kms-pipeline'] }) }));
    await clients.events.send(new PutTargetsCommand({ Rule: 'all-verdicts', EventBusName: refs.OutcomeBus, Targets: [{ Id: 'q', Arn: queueArn }] }));
    keyArn = (await clients.kms.send(new CreateKeyCommand({ KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata?.Arn as string;
    otherKeyArn = (await clients.kms.send(new CreateKeyCommand({ KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata?.Arn as string;
    await clients.kms.send(new CreateAliasCommand({ AliasName: 'alias/zoe-calls', TargetKeyId: keyArn }));
    const variables = (fn: string) =>
      Object.fromEntries(
        Object.entries(template.Resources[fn].Properties.Environment.Variables as Record<string, unknown>).map(([name, value]) => [
          name,
          typeof value === 'string' ? value : refs[(value as { Ref: string }).Ref],
        ]),
      );
    env = {
      PATH: process.env.PATH,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: moto.endpoint,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...variables('StartLambdaFunction'),
      ...variables('VerifyLambdaFunction'),
      ...variables('SweepLambdaFunction'),
    };
  }, 180_000);

  afterAll(async () => {
    await moto?.stop();
  });

  /** One bundle handling one event in a fresh process, as Lambda runs it, with the template's environment. */
  async function invoke(fn: 'start' | 'verify' | 'sweep', event: unknown, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ result?: any; error?: { name: string; message: string } }> {
    const script = [
      `const { handler } = require(${JSON.stringify(join(work, fn, 'functions', `${fn}.cjs`))});`,
      "const context = { functionName: 'fn', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 60000 };",
      'handler(JSON.parse(process.argv[1]), context).then((result) => console.log(JSON.stringify({ result })),',
      '  (error) => console.log(JSON.stringify({ error: { name: error.name, message: error.message } })));',
    ].join('\n');
    const out = await runNode(['-e', script, JSON.stringify(event)], { cwd: work, env: { ...env, ...extraEnv } });
    return JSON.parse(out.stdout.trim().split('\n').pop() as string);
  }

  /** The S3 notification for a key, wrapped in SQS as the start queue delivers it (the key form-encoded, as S3 sends it). */
  function upload(key: string, id: string) {
    const encoded = encodeURIComponent(key).replace(/%20/g, '+');
    const s3Event = { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: env.INPUT_BUCKET }, object: { key: encoded, size: 48_000, eTag: `e-${id}`, sequencer: '01' } } }] };
    return { Records: [{ messageId: id, receiptHandle: id, body: JSON.stringify(s3Event), attributes: { ApproximateReceiveCount: '1' }, eventSource: 'aws:sqs' }] };
  }

  /** Writes a job's transcript where Get*Job reports it, as Transcribe would, under the given encryption. */
  async function writeTranscript(uri: string, encryption: Encryption) {
    const { bucket, key } = parseOutputUri(uri);
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{}', ...encryption }));
  }

  /** Starts a job for the key, lets moto finish it, and writes its transcript as Transcribe would, under the given encryption. */
  async function transcribe(key: string, id: string, encryption: Encryption) {
    await clients.s3.send(new PutObjectCommand({ Bucket: env.INPUT_BUCKET, Key: key, Body: 'RIFF' }));
    const started = await invoke('start', upload(key, id));
    expect(started).toEqual({ result: { batchItemFailures: [] } });
    const jobs = (await clients.transcribe.send(new ListTranscriptionJobsCommand({}))).TranscriptionJobSummaries ?? [];
    const names = await Promise.all(jobs.map(async ({ TranscriptionJobName }) => (await clients.transcribe.send(new GetTranscriptionJobCommand({ TranscriptionJobName }))).TranscriptionJob));
    const job = names.find((j) => j?.Media?.MediaFileUri === `s3://${env.INPUT_BUCKET}/${key}`);
    expect(job?.TranscriptionJobName).toMatch(/^tkp\.dev\./);
    let uri = job?.Transcript?.TranscriptFileUri;
    for (let i = 0; !uri && i < 5; i++) uri = (await clients.transcribe.send(new GetTranscriptionJobCommand({ TranscriptionJobName: job?.TranscriptionJobName }))).TranscriptionJob?.Transcript?.TranscriptFileUri;
    await writeTranscript(uri as string, encryption);
    const completion = {
      version: '0', id, source: 'aws.transcribe', 'detail-type': 'Transcribe Job State Change', account: ACCOUNT, region: REGION, time: new Date().toISOString(), resources: [],
      detail: { TranscriptionJobName: job?.TranscriptionJobName, TranscriptionJobStatus: 'COMPLETED' },
    };
    return invoke('verify', completion);
  }

  it('embeds the packaged config in the bundles, and verifies a transcript under the rule alias\'s key though moto keeps no tags', async () => {
    // The rule exists only in the packaged config: a start bundle judging by the repository's file would skip this key.
    expect(await transcribe("Zoë's calls/Q1 review (final) #2.wav", 'a', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })).toEqual({});
    expect(await verdicts()).toEqual([
      expect.objectContaining({
        'detail-type': 'Transcript Encryption Verified',
        detail: expect.objectContaining({ outcome: 'verified', rulePrefix: "Zoë's calls/", expected: { serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn, source: 'rule' }, recorded: null }),
      }),
    ]);
  }, 60_000);

  it('verifies an SSE-S3 transcript under the rule without a key', async () => {
    expect(await transcribe('open/a+b=c 100%.wav', 'b', { ServerSideEncryption: 'AES256' })).toEqual({});
    expect((await verdicts()).map((v) => [v.detail.outcome, v.detail.source.key, v.detail.actual[0].serverSideEncryption])).toEqual([['verified', 'open/a+b=c 100%.wav', 'AES256']]);
  }, 60_000);

  it('fails on a transcript under another key, naming both keys, and never verifies it', async () => {
    const verdict = await transcribe("Zoë's calls/wrong key.wav", 'c', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: otherKeyArn });
    expect(verdict.error?.name).toBe('EncryptionMismatchError');
    expect(verdict.error?.message).toContain(`is encrypted under ${otherKeyArn}, expected ${keyArn}`);
    expect(verdict.error?.message).toContain("the job carries none of the start function's tags");
    expect((await verdicts()).map((v) => [v['detail-type'], v.detail.cause])).toEqual([['Transcript Encryption Mismatch', 'wrong-encryption']]);
  }, 60_000);

  it('starts no job for an upload under no rule, and sends a malformed record to the dead-letter queue with its reason', async () => {
    expect(await invoke('start', upload('elsewhere/x.wav', 'd'))).toEqual({ result: { batchItemFailures: [] } });
    const jobs = (await clients.transcribe.send(new ListTranscriptionJobsCommand({}))).TranscriptionJobSummaries ?? [];
    expect(jobs).toHaveLength(3);
    const bad = { Records: [{ messageId: 'e', receiptHandle: 'e', body: 'not json', attributes: { ApproximateReceiveCount: '1' }, eventSource: 'aws:sqs' }] };
    expect(await invoke('start', bad)).toEqual({ result: { batchItemFailures: [] } });
    // An event of neither kind fails the invocation, naming what is wrong, and is dead-lettered too.
    const neither = await invoke('start', { detail: 'not an upload' });
    expect(neither.error).toEqual({
      name: 'EventShapeError',
      message: 'the start function takes an SQS event from the start queue or an S3 event notification; it has no Records array',
    });
    const letters = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: env.START_DLQ_URL, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], VisibilityTimeout: 3600 }));
    expect(letters.Messages?.map((m) => [m.MessageAttributes?.errorName?.StringValue, m.Body])).toEqual([
      ['EventShapeError', 'not json'],
      ['EventShapeError', '{"detail":"not an upload"}'],
    ]);
  }, 60_000);

  it('sweeps the transcription and medical jobs though moto has no ListCallAnalyticsJobs, names the listing that failed, and verifies the medical job', async () => {
    // A medical job has no completion event: the sweep is its only check. moto stamps its
    // completion ten seconds ahead of the clock, which must not hide it from the sweep.
    const key = 'clinic notes/Dr. Österberg 12:30 (dictation).wav';
    await clients.s3.send(new PutObjectCommand({ Bucket: env.INPUT_BUCKET, Key: key, Body: 'RIFF' }));
    expect(await invoke('start', upload(key, 'm'))).toEqual({ result: { batchItemFailures: [] } });
    const [medical] = (await clients.transcribe.send(new ListMedicalTranscriptionJobsCommand({}))).MedicalTranscriptionJobSummaries ?? [];
    const name = medical?.MedicalTranscriptionJobName as string;
    expect(name).toMatch(/^tkp\.dev\./);
    let uri: string | undefined;
    for (let i = 0; !uri && i < 5; i++) uri = (await clients.transcribe.send(new GetMedicalTranscriptionJobCommand({ MedicalTranscriptionJobName: name }))).MedicalTranscriptionJob?.Transcript?.TranscriptFileUri;
    await writeTranscript(uri as string, { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn });
    // No grace: moto's jobs finished a moment ago. The three transcription jobs already have their verdict.
    const swept = await invoke('sweep', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, { SWEEP_GRACE_SECONDS: '0' });
    expect(swept.error?.name).toBe('SweepIncompleteError');
    const lines = swept.error?.message.split('\n') ?? [];
    expect(lines[0]).toBe('2 listing(s) failed, so those jobs were not swept this run (the next run lists them again):');
    expect(lines.slice(1).map((line) => line.split(':')[0])).toEqual(['  - ListCallAnalyticsJobs (Status COMPLETED)', '  - ListCallAnalyticsJobs (Status FAILED)']);
    expect(lines[1]).toMatch(/\(the Transcribe endpoint answered ListCallAnalyticsJobs with HTTP 500 and a body that is not the API's JSON: a passing fault, or an endpoint that does not serve ListCallAnalyticsJobs; check AWS_ENDPOINT_URL_TRANSCRIBE or the region\)$/);
    expect((await verdicts()).map((v) => [v['detail-type'], v.detail.jobType, v.detail.source.key, v.detail.checkedBy, v.detail.expected.kmsKeyArn])).toEqual([
      ['Transcript Encryption Verified', 'medical', key, 'sweeper', keyArn],
    ]);
  }, 60_000);

  it('answers CloudTrail\'s record of a deleted job: cleanup after the verdict passes quietly, a deletion before it fails naming the deleter', async () => {
    const deletion = (jobName: string) => ({
      version: '0', id: 'del', source: 'aws.transcribe', 'detail-type': 'AWS API Call via CloudTrail', account: ACCOUNT, region: REGION, time: new Date().toISOString(), resources: [],
      detail: {
        eventSource: 'transcribe.amazonaws.com', eventName: 'DeleteMedicalTranscriptionJob', eventTime: '2026-11-29T03:04:05Z',
        userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/night-ops/someone` },
        requestParameters: { medicalTranscriptionJobName: jobName },
      },
    });
    // The medical job the sweep verified above: its deletion is cleanup.
    const [verified] = (await clients.transcribe.send(new ListMedicalTranscriptionJobsCommand({}))).MedicalTranscriptionJobSummaries ?? [];
    const verifiedName = verified?.MedicalTranscriptionJobName as string;
    await clients.transcribe.send(new DeleteMedicalTranscriptionJobCommand({ MedicalTranscriptionJobName: verifiedName }));
    expect(await invoke('verify', deletion(verifiedName))).toEqual({});
    // A new medical job, deleted before any sweep reached it.
    const key = 'clinic notes/never swept.wav';
    await clients.s3.send(new PutObjectCommand({ Bucket: env.INPUT_BUCKET, Key: key, Body: 'RIFF' }));
    expect(await invoke('start', upload(key, 'n'))).toEqual({ result: { batchItemFailures: [] } });
    const [fresh] = (await clients.transcribe.send(new ListMedicalTranscriptionJobsCommand({}))).MedicalTranscriptionJobSummaries ?? [];
    const freshName = fresh?.MedicalTranscriptionJobName as string;
    expect(freshName).not.toBe(verifiedName);
    await clients.transcribe.send(new DeleteMedicalTranscriptionJobCommand({ MedicalTranscriptionJobName: freshName }));
    const failed = await invoke('verify', deletion(freshName));
    expect(failed.error?.name).toBe('JobNotFoundError');
    expect(failed.error?.message).toMatch(
      new RegExp(`^medical transcription job ${freshName.replace(/\./g, '\\.')} was deleted by arn:aws:sts::${ACCOUNT}:assumed-role/night-ops/someone at 2026-11-29T03:04:05Z before it was verified`),
    );
    expect(await verdicts()).toEqual([]);
  }, 60_000);

  it('starts a job from an S3 event delivered to the start function directly, not through the queue', async () => {
    const key = 'open/Direct délivery [take 2].wav';
    await clients.s3.send(new PutObjectCommand({ Bucket: env.INPUT_BUCKET, Key: key, Body: 'RIFF' }));
    const direct = JSON.parse(upload(key, 'f').Records[0]?.body as string);
    expect(await invoke('start', direct)).toEqual({});
    const jobs = (await clients.transcribe.send(new ListTranscriptionJobsCommand({}))).TranscriptionJobSummaries ?? [];
    const media = await Promise.all(jobs.map(async ({ TranscriptionJobName }) => (await clients.transcribe.send(new GetTranscriptionJobCommand({ TranscriptionJobName }))).TranscriptionJob?.Media?.MediaFileUri));
    expect(media).toContain(`s3://${env.INPUT_BUCKET}/${key}`);
  }, 60_000);

  it('starts a job for an object named without an extension, and verifies it', async () => {
    // The request carries no MediaFormat (test/e2e/pipeline.test.ts reads it back from the local
    // emulator); moto reports its own default, mp3, for such a job, so it is not read here.
    const key = 'open/ingest/4f0c2a9e-77b1-4c35-9d2e-0a1b2c3d4e5f';
    expect(await transcribe(key, 'g', { ServerSideEncryption: 'AES256' })).toEqual({});
    expect((await verdicts()).map((v) => [v.detail.outcome, v.detail.source.key])).toEqual([['verified', key]]);
  }, 60_000);
});
