import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../support/fixtures';

const run = promisify(execFile);
type Template = { Resources: Record<string, { Type: string; Properties: any; DependsOn?: unknown }>; Outputs: Record<string, any> };

let packages = 0;

/** `serverless package` exactly as a user runs it offline: dummy credentials, no network. */
async function slsPackage(args: string[] = [], env: Record<string, string> = {}): Promise<{ dir: string; template: Template }> {
  const dir = mkdtempSync(join(tmpdir(), 'tkp-package-'));
  await run(repoPath('node_modules/.bin/serverless'), ['package', '--package', dir, ...args], {
    cwd: repoPath('.'),
    env: {
      ...process.env,
      SLS_TELEMETRY_DISABLED: '1',
      AWS_ACCESS_KEY_ID: 'offline',
      AWS_SECRET_ACCESS_KEY: 'offline',
      ESBUILD_WORK_FOLDER: `.esbuild-test-${process.pid}-${packages++}`,
      ...env,
    },
    timeout: 120_000,
  });
  rmSync(repoPath(`.esbuild-test-${process.pid}-${packages - 1}`), { recursive: true, force: true });
  return { dir, template: JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) };
}

const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const statements = (t: Template, role: string): any[] => t.Resources[role]?.Properties.Policies[0].PolicyDocument.Statement;
const actionsOf = (t: Template, role: string) => statements(t, role).flatMap((s) => s.Action as string[]);

describe('the CloudFormation that serverless package writes', () => {
  let dir: string;
  let template: Template;

  beforeAll(async () => {
    ({ dir, template } = await slsPackage());
  }, 120_000);

  it('bundles each function into its own zip', () => {
    expect(readdirSync(dir).filter((f) => f.endsWith('.zip')).sort()).toEqual(['bucketNotifications.zip', 'start.zip', 'sweep.zip', 'verify.zip']);
  });

  it('runs every function on nodejs22.x with its own role', () => {
    const functions = ofType(template, 'AWS::Lambda::Function');
    expect(functions).toHaveLength(4);
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Role['Fn::GetAtt'][0]).toMatch(/^(Start|Verify|Sweep|BucketNotifications)Role$/);
    }
    expect(ofType(template, 'AWS::IAM::Role').map(([name]) => name).sort()).toEqual(['BucketNotificationsRole', 'StartRole', 'SweepRole', 'VerifyRole']);
    expect(template.Resources.InputBucketNotifications).toBeUndefined();
  });

  it('sends ObjectCreated notifications to the queue with the smallest set of non-overlapping prefix filters', () => {
    const bucket = template.Resources.InputBucket;
    const filters = bucket?.Properties.NotificationConfiguration.QueueConfigurations.map((q: any) => {
      expect(q.Event).toBe('s3:ObjectCreated:*');
      expect(q.Queue).toEqual({ 'Fn::GetAtt': ['StartQueue', 'Arn'] });
      return q.Filter.S3Key.Rules[0].Value;
    });
    expect(filters).toEqual(['calls/', 'hr/', 'legal/', 'partners/', 'public/']);
    expect(bucket?.DependsOn).toEqual(['StartQueuePolicy']);
    expect(bucket?.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('lets only the input bucket send to the start queue', () => {
    const statement = template.Resources.StartQueuePolicy?.Properties.PolicyDocument.Statement[0];
    expect(statement).toMatchObject({ Principal: { Service: 's3.amazonaws.com' }, Action: 'sqs:SendMessage' });
    expect(JSON.stringify(statement.Condition.ArnEquals)).toContain('tkp-dev-input-${AWS::AccountId}-us-east-1');
  });

  it('feeds the start function from the queue in batches with partial failures, under a DLQ with a redrive policy', () => {
    const queue = template.Resources.StartQueue?.Properties;
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['StartDeadLetterQueue', 'Arn'] }, maxReceiveCount: 50 });
    expect(queue.VisibilityTimeout).toBe(360);
    const [[, mapping]] = ofType(template, 'AWS::Lambda::EventSourceMapping') as [[string, any]];
    expect(mapping.Properties).toMatchObject({ BatchSize: 10, MaximumBatchingWindowInSeconds: 1, FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: 5 } });
  });

  it('routes only this stage’s Transcribe completions to the verifier, with a DLQ behind both hops', () => {
    const rules = ofType(template, 'AWS::Events::Rule').filter(([, r]) => r.Properties.EventPattern);
    expect(rules).toHaveLength(1);
    const rule = rules[0]?.[1].Properties;
    expect(rule.EventPattern).toEqual({
      source: ['aws.transcribe'],
      'detail-type': ['Transcribe Job State Change'],
      detail: { TranscriptionJobName: [{ prefix: 'tkp.dev.' }], TranscriptionJobStatus: ['COMPLETED', 'FAILED'] },
    });
    expect(rule.Targets[0].DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['VerifyDeadLetterQueue', 'Arn'] } });
    const invokeConfig = template.Resources.VerifyLambdaEvConf?.Properties;
    expect(invokeConfig.MaximumRetryAttempts).toBe(2);
    expect(invokeConfig.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': ['VerifyDeadLetterQueue', 'Arn'] });
  });

  it('gives the start function only what starting a job needs, for the configured keys only', () => {
    expect(actionsOf(template, 'StartRole').every((a) => !a.includes('*'))).toBe(true);
    const st = statements(template, 'StartRole');
    const transcribe = st.find((s) => s.Action.includes('transcribe:StartTranscriptionJob'));
    expect(transcribe.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:transcribe:${AWS::Region}:${AWS::AccountId}:transcription-job/tkp.dev.*' });
    const kms = st.filter((s) => s.Action.includes('kms:Encrypt'));
    for (const s of kms) expect(s.Action).toEqual(['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey']);
    expect(kms[0].Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
      'arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321',
    ]);
    expect(kms.slice(1).map((s) => [s.Resource, s.Condition['ForAnyValue:StringEquals']['kms:ResourceAliases']])).toEqual([
      [{ 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' }, ['alias/legal-transcripts']],
      [{ 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:123456789012:key/*' }, ['alias/partner-intake']],
      [{ 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:222233334444:key/*' }, ['alias/acme-transcripts']],
    ]);
    const read = st.find((s) => s.Action.includes('s3:GetObject'));
    expect(read.Resource.map((r: any) => r['Fn::Join'][1][2])).toEqual(['/calls/*', '/hr/*', '/legal/*', '/partners/*', '/public/*']);
    const write = st.find((s) => s.Action.includes('s3:PutObject'));
    expect(write.Resource.map((r: any) => r['Fn::Join'][1][2])).toEqual(['/transcripts/*', '/transcripts/legal/*']);
    expect(st.find((s) => s.Action.includes('sqs:SendMessage')).Resource).toEqual({ 'Fn::GetAtt': ['StartDeadLetterQueue', 'Arn'] });
  });

  it('lets the verifier read transcripts and publish, but never encrypt or start jobs', () => {
    const actions = actionsOf(template, 'VerifyRole');
    expect(actions).toEqual(expect.arrayContaining(['transcribe:GetTranscriptionJob', 's3:GetObject', 's3:ListBucket', 'events:PutEvents']));
    expect(actions.some((a) => a.startsWith('kms:') || a === 'transcribe:StartTranscriptionJob')).toBe(false);
    const writes = statements(template, 'VerifyRole').filter((s) => s.Action.includes('s3:PutObject'));
    expect(writes).toHaveLength(1);
    expect(writes[0].Resource['Fn::Join'][1][2]).toBe('/verdicts/*');
    expect(statements(template, 'VerifyRole').find((s) => s.Action.includes('events:PutEvents')).Resource).toEqual({ 'Fn::GetAtt': ['OutcomeBus', 'Arn'] });
  });

  it('allows ListTranscriptionJobs, which has no resource-level permissions, to the sweeper alone', () => {
    expect(statements(template, 'SweepRole').find((s) => s.Action.includes('transcribe:ListTranscriptionJobs')).Resource).toBe('*');
    expect(actionsOf(template, 'VerifyRole')).not.toContain('transcribe:ListTranscriptionJobs');
  });

  it('creates both buckets private, TLS-only and SSE-S3 by default, the outcome bus and the alarms', () => {
    for (const name of ['InputBucket', 'TranscriptBucket']) {
      const props = template.Resources[name]?.Properties;
      expect(props.PublicAccessBlockConfiguration.BlockPublicPolicy).toBe(true);
      expect(props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    }
    expect(template.Resources.OutcomeBus?.Properties.Name).toBe('transcribe-kms-pipeline-dev-outcomes');
    expect(ofType(template, 'AWS::CloudWatch::Alarm').map(([n]) => n).sort()).toEqual(['EncryptionMismatchAlarm', 'StartDeadLetterAlarm', 'VerifyDeadLetterAlarm']);
  });
});

describe('serverless package with other inputs', () => {
  it('uses existing buckets given as parameters and sets the input bucket’s notifications through a custom resource', async () => {
    const { template } = await slsPackage(['--param=inputBucket=acme-recordings', '--param=transcriptBucket=acme-transcripts']);
    expect(template.Resources.InputBucket).toBeUndefined();
    expect(template.Resources.TranscriptBucket).toBeUndefined();
    const read = statements(template, 'StartRole').find((s) => s.Action.includes('s3:GetObject'));
    expect(read.Resource[0]).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::acme-recordings/calls/*' });
    expect(template.Resources.InputBucketNotifications).toEqual({
      Type: 'Custom::InputBucketNotifications',
      DependsOn: ['StartQueuePolicy'],
      Properties: {
        ServiceToken: { 'Fn::GetAtt': ['BucketNotificationsLambdaFunction', 'Arn'] },
        Bucket: 'acme-recordings',
        QueueArn: { 'Fn::GetAtt': ['StartQueue', 'Arn'] },
        IdPrefix: 'tkp-dev-',
        Prefixes: ['calls/', 'hr/', 'legal/', 'partners/', 'public/'],
      },
    });
    expect(statements(template, 'BucketNotificationsRole').find((s) => s.Action.includes('s3:PutBucketNotification')).Resource).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:s3:::acme-recordings',
    });
    const start = ofType(template, 'AWS::Lambda::Function').find(([name]) => name === 'StartLambdaFunction')?.[1];
    expect(start?.Properties.Environment.Variables.INPUT_BUCKET).toBe('acme-recordings');
  }, 120_000);

  it('refuses a bad config with a message naming the rule and the field', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'tkp-bad-')), 'bad.json');
    writeFileSync(bad, JSON.stringify({ defaults: { languageCode: 'en-US' }, rules: [{ prefix: 'x/', kmsKey: 'arn:aws:kms:eu-west-1:123456789012:alias/x' }] }));
    const failure = await slsPackage([], { PIPELINE_CONFIG_PATH: bad }).then(
      () => 'packaged',
      (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    );
    expect(failure).toContain('rules[0] (prefix "x/"): kmsKey is in region eu-west-1 but the stack deploys to us-east-1');
  }, 120_000);
});

describe('serverless package with deferred execution', () => {
  it('creates the data access role Transcribe assumes, lets the start function pass it, and tells the function', async () => {
    const config = JSON.parse(readFileSync(repoPath('pipeline.config.json'), 'utf8'));
    const path = join(mkdtempSync(join(tmpdir(), 'tkp-deferred-')), 'deferred.json');
    writeFileSync(path, JSON.stringify({ ...config, deferredExecution: true }));
    const { template } = await slsPackage([], { PIPELINE_CONFIG_PATH: path });
    const role = template.Resources.DataAccessRole?.Properties;
    expect(role.RoleName).toBe('transcribe-kms-pipeline-dev-us-east-1-transcribe-data');
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: ['transcribe.amazonaws.com'] });
    const actions = role.Policies[0].PolicyDocument.Statement.flatMap((s: any) => s.Action);
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt']));
    expect(statements(template, 'StartRole').find((s) => s.Action.includes('iam:PassRole')).Resource).toEqual({ 'Fn::GetAtt': ['DataAccessRole', 'Arn'] });
    const start = ofType(template, 'AWS::Lambda::Function').find(([name]) => name === 'StartLambdaFunction')?.[1];
    expect(start?.Properties.Environment.Variables.DATA_ACCESS_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['DataAccessRole', 'Arn'] });
  }, 120_000);
});
