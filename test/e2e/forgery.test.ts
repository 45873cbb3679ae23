import { CloudTrailClient, StartLoggingCommand, StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { EventBridgeClient, PutPermissionCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { CreateAliasCommand, DescribeKeyCommand, KMSClient, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { DeleteBucketLifecycleCommand, DeleteBucketPolicyCommand, PutBucketEncryptionCommand, PutBucketLifecycleConfigurationCommand, PutBucketOwnershipControlsCommand, PutBucketPolicyCommand, PutObjectCommand, PutPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import { TagResourceCommand, TranscribeClient } from '@aws-sdk/client-transcribe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_PAGE_WHAT_TO_DO } from '../../shared/stack/alarmResources';
import { verdictKey } from '../../shared/verify/verdictLedger';
import { makeWav } from '../local/emulator/mediaProbe';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { LOCAL_CREDENTIALS } from '../local/runtime/provision';
import { motoAvailable } from '../support/moto';
import { fileURLToPath } from 'node:url';

const CONFIG = fileURLToPath(new URL('./e2e.config.json', import.meta.url));

/**
 * An insider who would like a transcript under the wrong key to pass as verified. Each forgery
 * ends in a Mismatch event, a failed verify invocation and a message on the alarm topic. (A
 * ledger write by another role is refused by the bucket policy, which moto does not enforce:
 * the template tests assert that policy.)
 */
describe.runIf(motoAvailable('forgery tests'))('forgeries against the local pipeline', () => {
  let pipeline: LocalPipeline;
  let transcribe: TranscribeClient;

  beforeAll(async () => {
    pipeline = await LocalPipeline.start({ configPath: CONFIG, timeScale: 50, sweepGraceSeconds: 0 });
    transcribe = new TranscribeClient({ region: 'us-east-1', endpoint: pipeline.emulator.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  /**
   * The CloudTrail pages that reached the alarm topic's subscriber so far (through moto's default
   * bus, the rule's input template and the topic), as a person receives them; waits for `count`.
   */
  type ChangePage = { page: string; whatToDo: string; event: { 'detail-type': string; detail: Record<string, any> } };
  const changePages: ChangePage[] = [];
  async function changePagesOnceThere(enough: number | ((pages: ChangePage[]) => boolean)) {
    const { QueueUrl } = await pipeline.sqs.send(new GetQueueUrlCommand({ QueueName: 'tkp-alarm-inbox' }));
    const done = typeof enough === 'number' ? (pages: ChangePage[]) => pages.length >= enough : enough;
    for (let tries = 0; !done(changePages) && tries < 50; tries++) {
      const { Messages = [] } = await pipeline.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 3600 }));
      const received = Messages.map((m) => JSON.parse(JSON.parse(m.Body as string).Message));
      changePages.push(...received.filter((message) => 'page' in message));
      if (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return changePages;
  }

  /** Uploads one object whose transcript the emulator writes under the wrong key, with its completion event held back. */
  async function tamperedJob(key: string) {
    pipeline.emulator.setFaults({ tamper: { match: key, mode: 'wrong-key', wrongKeyArn: pipeline.stack.tamperKeyArn }, loseCompletionEvent: () => true });
    await pipeline.upload(key, makeWav(1));
    await pipeline.settle();
    pipeline.emulator.setFaults({});
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri === `s3://${pipeline.stack.names.inputBucket}/${key}`);
    expect(job?.status).toBe('COMPLETED');
    return job?.name as string;
  }

  async function deliverAndSettle(jobName: string) {
    const failuresBefore = pipeline.counters.verifyFailures;
    await pipeline.deliverCompletion(jobName);
    await pipeline.settle();
    return pipeline.counters.verifyFailures - failuresBefore;
  }

  it('a tag rewritten to the wrong key: Mismatch (tags altered), failed invocation, alarm', async () => {
    const jobName = await tamperedJob('calls/forged-tag.wav');
    await transcribe.send(
      new TagResourceCommand({
        ResourceArn: `arn:aws:transcribe:us-east-1:123456789012:transcription-job/${jobName}`,
        Tags: [{ Key: 'tkp:expected-kms-key-arn', Value: pipeline.stack.tamperKeyArn }],
      }),
    );
    const failures = await deliverAndSettle(jobName);
    const verdicts = pipeline.outcomes.filter((o) => o.detail.jobName === jobName);
    expect(verdicts.map((o) => [o.detailType, o.detail.cause])).toEqual([['Transcript Encryption Mismatch', 'tags-altered']]);
    expect(verdicts[0]?.detail.recorded.kmsKeyArn).toBe(pipeline.stack.tamperKeyArn);
    expect(failures).toBeGreaterThan(0);
    expect(pipeline.alarms.filter((a) => a.detail.jobName === jobName)).toHaveLength(1);
  });

  it('a "verified" ledger record planted in advance: Mismatch published over it, failed invocation, alarm', async () => {
    const jobName = await tamperedJob('hr/planted-ledger.wav');
    const planted = { state: 'published', claimedAt: new Date().toISOString(), publishedAt: new Date().toISOString(), detail: { jobName, outcome: 'verified' } };
    await pipeline.s3.send(new PutObjectCommand({ Bucket: pipeline.stack.names.transcriptBucket, Key: verdictKey(jobName), Body: JSON.stringify(planted) }));
    const failures = await deliverAndSettle(jobName);
    const verdicts = pipeline.outcomes.filter((o) => o.detail.jobName === jobName);
    expect(verdicts.map((o) => o.detailType)).toEqual(['Transcript Encryption Mismatch']);
    expect(verdicts[0]?.detail.problems).toEqual(expect.arrayContaining([expect.stringContaining('held a published "verified" record for this job')]));
    expect(failures).toBeGreaterThan(0);
    expect(pipeline.alarms.filter((a) => a.detail.jobName === jobName)).toHaveLength(1);
  });

  it('sends nothing to the alarm topic for a verified transcript', async () => {
    const key = 'public/clean.wav';
    await pipeline.upload(key, makeWav(1));
    await pipeline.settle();
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith(`/${key}`));
    expect(pipeline.outcomes.filter((o) => o.detail.jobName === job?.name).map((o) => o.detailType)).toEqual(['Transcript Encryption Verified']);
    expect(pipeline.alarms.filter((a) => a.detail.jobName === job?.name)).toEqual([]);
  });

  /**
   * What a rule leaves to others (README): whoever may retarget an alias a rule names, or change
   * the default of a keyless rule's output bucket, changes what verdicts demand. The verifier
   * follows both, so the call itself is what pages, through TrustChangesRule.
   */
  it('an alias a rule names retargeted to another key: the call pages at once, naming the alias and the new key', async () => {
    const kms = new KMSClient({ region: 'us-east-1', endpoint: pipeline.gateway.endpoint, credentials: LOCAL_CREDENTIALS });
    const trailed = () => pipeline.alarms.filter((a) => a.detailType === 'AWS API Call via CloudTrail').map((a) => [a.detail.eventName, a.detail.requestParameters]);
    const before = trailed().length;
    const pagesBefore = (await changePagesOnceThere(0)).length;
    const original = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/legal-transcripts' }))).KeyMetadata?.Arn as string;
    // An alias no rule names is not watched.
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/someone-elses', TargetKeyId: pipeline.stack.tamperKeyArn }));
    expect(trailed().slice(before)).toEqual([]);
    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/legal-transcripts', TargetKeyId: pipeline.stack.tamperKeyArn }));
    expect(trailed().slice(before)).toEqual([['UpdateAlias', { aliasName: 'alias/legal-transcripts', targetKeyId: pipeline.stack.tamperKeyArn }]]);
    // What the person paged reads: which rule, what to do, and the whole CloudTrail event.
    const aliasPages = (pages: ChangePage[]) => pages.slice(pagesBefore).filter(({ event }) => event.detail.eventSource === 'kms.amazonaws.com');
    expect(aliasPages(await changePagesOnceThere((pages) => aliasPages(pages).length > 0)).map(({ page, whatToDo, event }) => [page, whatToDo, event['detail-type'], event.detail.eventName, event.detail.requestParameters])).toEqual([
      [expect.stringMatching(/-trust-changes$/), CHANGE_PAGE_WHAT_TO_DO.trustChanges, 'AWS API Call via CloudTrail', 'UpdateAlias', { aliasName: 'alias/legal-transcripts', targetKeyId: pipeline.stack.tamperKeyArn }],
    ]);
    // The verifier follows the alias as it points now, so an upload after the retarget verifies
    // under the new key: the page above is the signal, and it came first.
    await pipeline.upload('legal/after-retarget.wav', makeWav(1));
    await pipeline.settle();
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith('/legal/after-retarget.wav'));
    expect(pipeline.outcomes.filter((o) => o.detail.jobName === job?.name).map((o) => [o.detailType, o.detail.expected.kmsKeyArn])).toEqual([
      ['Transcript Encryption Verified', pipeline.stack.tamperKeyArn],
    ]);
    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/legal-transcripts', TargetKeyId: original }));
    expect(trailed().slice(before).map(([name]) => name)).toEqual(['UpdateAlias', 'UpdateAlias']);
  });

  it("the transcript bucket's default set to another key: the call pages at once, naming the bucket", async () => {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: pipeline.gateway.endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
    const bucket = pipeline.stack.names.transcriptBucket;
    const before = pipeline.alarms.length;
    const setDefault = (rule: { SSEAlgorithm: 'AES256' | 'aws:kms'; KMSMasterKeyID?: string }) =>
      s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: rule }] } }));
    await setDefault({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: pipeline.stack.tamperKeyArn });
    await setDefault({ SSEAlgorithm: 'AES256' });
    const pages = pipeline.alarms.slice(before);
    expect(pages.map((a) => [a.detailType, a.detail.eventName, a.detail.requestParameters.bucketName])).toEqual([
      ['AWS API Call via CloudTrail', 'PutBucketEncryption', bucket],
      ['AWS API Call via CloudTrail', 'PutBucketEncryption', bucket],
    ]);
    // Who called is in the event, as CloudTrail records it.
    expect(pages[0]?.detail.userIdentity.arn).toMatch(/^arn:aws:iam::\d{12}:user\//);
  });

  it("the transcript bucket's policy removed, which keeps the verdict ledger to the verifiers: the call pages at once", async () => {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: pipeline.gateway.endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
    const before = pipeline.alarms.length;
    // The input bucket's policy is about who may read the recordings (DataExposureRule), not the ledger.
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: pipeline.stack.names.inputBucket }));
    expect(pipeline.alarms.slice(before).map((a) => a.page)).toEqual(['dataExposure']);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: pipeline.stack.names.transcriptBucket }));
    expect(pipeline.alarms.slice(before + 1).map((a) => [a.page, a.detail.eventName, a.detail.requestParameters])).toEqual([
      ['trustChanges', 'DeleteBucketPolicy', { bucketName: pipeline.stack.names.transcriptBucket }],
    ]);
  });

  it("a lifecycle rule on the transcript bucket, which S3 would run whatever its policy denies and so expire the verdict ledger and the transcripts: the call pages at once", async () => {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: pipeline.gateway.endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
    const before = pipeline.alarms.length;
    const expireAll = { Rules: [{ ID: 'tidy-up', Status: 'Enabled' as const, Filter: { Prefix: '' }, Expiration: { Days: 1 } }] };
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: pipeline.stack.names.inputBucket, LifecycleConfiguration: expireAll }));
    expect(pipeline.alarms.slice(before)).toEqual([]);
    const bucket = pipeline.stack.names.transcriptBucket;
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: expireAll }));
    expect(pipeline.alarms.slice(before).map((a) => [a.page, a.detail.eventName, a.detail.requestParameters])).toEqual([['trustChanges', 'PutBucketLifecycle', { bucketName: bucket }]]);
    // Removing a lifecycle loses nothing, and does not page.
    for (const Bucket of [pipeline.stack.names.inputBucket, bucket]) await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
    expect(pipeline.alarms.length).toBe(before + 1);
  });

  it("the input bucket's policy opened, its public access block lifted or the transcript bucket's ACLs turned back on, which could expose the recordings or the transcripts: the call pages at once", async () => {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: pipeline.gateway.endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
    const before = pipeline.alarms.length;
    const input = pipeline.stack.names.inputBucket;
    const open = { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false };
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: input, PublicAccessBlockConfiguration: open }));
    const readable = { Version: '2012-10-17', Statement: [{ Sid: 'Partner', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${input}/*` }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: input, Policy: JSON.stringify(readable) }));
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: input }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: input, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
    // ACLs back on: from then, any object's own ACL may grant read, which no bucket call shows.
    const transcripts = pipeline.stack.names.transcriptBucket;
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: transcripts, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: transcripts, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    expect(pipeline.alarms.slice(before).map((a) => [a.page, a.detail.eventName, a.detail.requestParameters.bucketName])).toEqual([
      ['dataExposure', 'PutBucketPublicAccessBlock', input],
      ['dataExposure', 'PutBucketPolicy', input],
      ['dataExposure', 'DeleteBucketPolicy', input],
      ['dataExposure', 'PutBucketPublicAccessBlock', input],
      ['dataExposure', 'PutBucketOwnershipControls', transcripts],
      ['dataExposure', 'PutBucketOwnershipControls', transcripts],
    ]);
  });

  it("the outcome bus's policy opened to another account, which could then put forged verdicts on it: the call pages at once", async () => {
    const events = new EventBridgeClient({ region: 'us-east-1', endpoint: pipeline.gateway.endpoint, credentials: LOCAL_CREDENTIALS });
    const before = pipeline.alarms.length;
    const bus = pipeline.stack.names.outcomeBus;
    await events.send(new PutPermissionCommand({ EventBusName: bus, Action: 'events:PutEvents', Principal: '111122223333', StatementId: 'let-them-in' }));
    expect(pipeline.alarms.slice(before).map((a) => [a.detail.eventName, a.detail.requestParameters])).toEqual([['PutPermission', { eventBusName: bus, statementId: 'let-them-in' }]]);
  });

  it('the trail stopped, which would silence every page above and the deleted-job rule: the call pages at once; starting it again does not', async () => {
    const cloudTrail = new CloudTrailClient({ region: 'us-east-1', endpoint: pipeline.gateway.endpoint, credentials: LOCAL_CREDENTIALS });
    const before = pipeline.alarms.length;
    const pagesBefore = (await changePagesOnceThere(0)).length;
    await cloudTrail.send(new StopLoggingCommand({ Name: 'tkp-local-trail' }));
    await cloudTrail.send(new StartLoggingCommand({ Name: 'tkp-local-trail' }));
    expect(pipeline.alarms.slice(before).map((a) => [a.detail.eventSource, a.detail.eventName, a.detail.requestParameters])).toEqual([
      ['cloudtrail.amazonaws.com', 'StopLogging', { name: 'tkp-local-trail' }],
    ]);
    const trailPages = (pages: ChangePage[]) => pages.slice(pagesBefore).filter(({ event }) => event.detail.eventSource === 'cloudtrail.amazonaws.com');
    expect(trailPages(await changePagesOnceThere((pages) => trailPages(pages).length > 0)).map(({ whatToDo, event }) => [event.detail.eventName, whatToDo])).toEqual([['StopLogging', CHANGE_PAGE_WHAT_TO_DO.trustChanges]]);
  });
});
