import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEvent, repoPath } from '../support/fixtures';
import { HANDLER_ENV } from '../support/functionEnvironment';
import { invokeBundle } from '../support/invokeBundle';
import { matchesPattern, trailEnvelope } from '../local/runtime/eventBus';
import { FUNCTION_ENVIRONMENT_NAMES, STACK_FUNCTIONS, STACK_ROLES, stackRules, type FunctionId } from '../../shared/stack/stackNames';
import { deployedCodeOf } from '../../shared/cli/check/functionCode';
import { loadCliConfig } from '../../shared/cli/cliConfig';
import { configFingerprint } from '../../shared/config/expectedEncryption';

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

/** `serverless package` of a config (an object, or a file's text) written to a file of its own: what it printed when it refused, or 'packaged'. */
async function packageRefusal(config: unknown): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'tkp-config-')), 'config.json');
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
  return slsPackage([], { PIPELINE_CONFIG_PATH: path }).then(
    () => 'packaged',
    (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
  );
}

/** cfn-lint on a packaged template: 'clean', what it found, or 'cfn-lint not installed'. */
function cfnLint(dir: string): Promise<string> {
  return run('cfn-lint', ['--', join(dir, 'cloudformation-template-update-stack.json')]).then(
    () => 'clean',
    (error: { code?: string | number; stdout?: string }) => (error.code === 'ENOENT' ? 'cfn-lint not installed' : `${error.stdout}`),
  );
}

const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const statements = (t: Template, role: string): any[] => t.Resources[role]?.Properties.Policies[0].PolicyDocument.Statement;
const actionsOf = (t: Template, role: string) => statements(t, role).flatMap((s) => s.Action as string[]);

describe('the CloudFormation that serverless package writes', () => {
  let dir: string;
  let template: Template;
  /** The packaging run's OS temp directory, a fresh one, to see what it leaves there. */
  const packagingTemp = mkdtempSync(join(tmpdir(), 'tkp-packaging-temp-'));

  beforeAll(async () => {
    ({ dir, template } = await slsPackage([], { TMPDIR: packagingTemp }));
  }, 120_000);
  afterAll(() => rmSync(packagingTemp, { recursive: true, force: true }));

  it('bundles each function into its own zip', () => {
    expect(readdirSync(dir).filter((f) => f.endsWith('.zip')).sort()).toEqual(['bucketNotifications.zip', 'preflight.zip', 'start.zip', 'sweep.zip', 'verify.zip']);
  });

  it("leaves none of serverless-esbuild's zip staging directories in the OS temp directory (removeZipStaging.cjs)", () => {
    // serverless-esbuild names them <function>-<pid>-<ms>-<8 hex> and does not remove them itself.
    const staging = readdirSync(packagingTemp).filter((name) => /^(start|verify|sweep|preflight|bucketNotifications)-\d+-\d+-[0-9a-f]{8}$/.test(name));
    expect(staging).toEqual([]);
  });

  it('records the hash of each function\'s zip in its version, which tkp check compares with the code each function runs', () => {
    const ids = Object.keys(STACK_FUNCTIONS) as FunctionId[];
    const { codeSha256 } = deployedCodeOf('transcribe-kms-pipeline-dev', JSON.stringify(template), ids.map((id) => ({ id, name: `transcribe-kms-pipeline-dev-${id}` })));
    // Lambda's CodeSha256: the SHA-256 of the zip as uploaded, base64.
    const zipHash = (id: FunctionId) => createHash('sha256').update(readFileSync(join(dir, `${id}.zip`))).digest('base64');
    expect(codeSha256).toEqual(Object.fromEntries(ids.map((id) => [id, zipHash(id)])));
  });

  it('records the fingerprint of the config bundled into the functions, which tkp check compares with the config it is given', () => {
    const { config } = loadCliConfig(repoPath('pipeline.config.json'), { region: 'us-east-1' });
    expect(template.Outputs.ConfigFingerprint.Value).toMatch(/^[0-9a-f]{32}$/);
    expect(template.Outputs.ConfigFingerprint.Value).toBe(configFingerprint(config.rules));
  });

  it('runs the preflight function with the start function\'s own role, and gives the CLI what it looks up as outputs', () => {
    const preflight = template.Resources.PreflightLambdaFunction!;
    expect(preflight.Properties.Role).toEqual({ 'Fn::GetAtt': ['StartRole', 'Arn'] });
    expect(preflight.Properties.Environment.Variables.PREFLIGHT_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['StartRole', 'Arn'] });
    const logs = statements(template, 'StartRole').filter((s) => s.Action.includes('logs:PutLogEvents')).map((s) => s.Resource['Fn::Sub']);
    expect(logs).toEqual([expect.stringContaining('/aws/lambda/transcribe-kms-pipeline-dev-start:*'), expect.stringContaining('/aws/lambda/transcribe-kms-pipeline-dev-preflight:*')]);
    expect(template.Outputs.StartQueueUrl.Value).toEqual({ Ref: 'StartQueue' });
    expect(template.Outputs.PreflightFunctionName.Value).toEqual({ Ref: 'PreflightLambdaFunction' });
    // tkp redrive reads the DLQ by URL; aws sqs start-message-move-task takes both ARNs.
    expect(template.Outputs.StartDeadLetterQueueUrl.Value).toEqual({ Ref: 'StartDeadLetterQueue' });
    expect(template.Outputs.StartDeadLetterQueueArn.Value).toEqual({ 'Fn::GetAtt': ['StartDeadLetterQueue', 'Arn'] });
    expect(template.Outputs.StartQueueArn.Value).toEqual({ 'Fn::GetAtt': ['StartQueue', 'Arn'] });
  });

  it('runs every function on nodejs22.x with its own role', () => {
    const functions = ofType(template, 'AWS::Lambda::Function');
    expect(functions).toHaveLength(5);
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Role['Fn::GetAtt'][0]).toMatch(/^(Start|Verify|Sweep|BucketNotifications)Role$/);
    }
    // The data access role too: the demo config has a Call Analytics rule.
    expect(ofType(template, 'AWS::IAM::Role').map(([name]) => name).sort()).toEqual(['BucketNotificationsRole', 'DataAccessRole', 'StartRole', 'SweepRole', 'VerifyRole']);
    expect(template.Resources.InputBucketNotifications).toBeUndefined();
  });

  it('deploys the functions tkp check expects: their names, handlers, roles and environment names (STACK_FUNCTIONS, FUNCTION_ENVIRONMENT_NAMES)', () => {
    const functions = ofType(template, 'AWS::Lambda::Function').map(([, fn]) => fn.Properties);
    expect(functions.map((fn) => fn.FunctionName).sort()).toEqual(Object.keys(STACK_FUNCTIONS).map((id) => `transcribe-kms-pipeline-dev-${id}`).sort());
    const roleIds = Object.fromEntries(Object.entries(STACK_ROLES).map(([id, ending]) => [ending, id]));
    for (const [id, role] of Object.entries(STACK_FUNCTIONS)) {
      const fn = functions.find((candidate) => candidate.FunctionName === `transcribe-kms-pipeline-dev-${id}`);
      expect(fn.Handler, id).toBe(`functions/${id}.handler`);
      expect(fn.Role, id).toEqual({ 'Fn::GetAtt': [roleIds[role], 'Arn'] });
      expect(fn.Layers, id).toBeUndefined();
    }
    // Every name a function is given is one tkp check knows, and every name it knows is given to some function.
    const given = new Set(functions.flatMap((fn) => Object.keys(fn.Environment.Variables)));
    expect([...given].sort()).toEqual([...FUNCTION_ENVIRONMENT_NAMES].sort());
  });

  it('sends ObjectCreated notifications to the queue with the smallest set of non-overlapping prefix filters', () => {
    const bucket = template.Resources.InputBucket;
    const filters = bucket?.Properties.NotificationConfiguration.QueueConfigurations.map((q: any) => {
      expect(q.Event).toBe('s3:ObjectCreated:*');
      expect(q.Queue).toEqual({ 'Fn::GetAtt': ['StartQueue', 'Arn'] });
      return q.Filter.S3Key.Rules[0].Value;
    });
    expect(filters).toEqual(['calls/', 'clinic/', 'contact-centre/', 'hr/', 'legal/', 'partners/', 'public/']);
    expect(bucket?.DependsOn).toEqual(['StartQueuePolicy']);
    expect(bucket?.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('lets only the input bucket send to the start queue', () => {
    const statement = template.Resources.StartQueuePolicy?.Properties.PolicyDocument.Statement[0];
    expect(statement).toMatchObject({ Principal: { Service: 's3.amazonaws.com' }, Action: 'sqs:SendMessage' });
    expect(JSON.stringify(statement.Condition.ArnEquals)).toContain('tkp-dev-input-${AWS::AccountId}-us-east-1');
  });

  it('lets only the start role, as which its trigger polls, receive from the start queue, whatever anyone else\'s IAM policy allows', () => {
    const [, receivers, ...more] = template.Resources.StartQueuePolicy?.Properties.PolicyDocument.Statement;
    expect(more).toEqual([]);
    expect(receivers).toEqual({
      Sid: 'ReceivesOnlyByStartFunction',
      Effect: 'Deny',
      Principal: '*',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
      Resource: { 'Fn::GetAtt': ['StartQueue', 'Arn'] },
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': ['StartRole', 'Arn'] } }, Null: { 'aws:PrincipalArn': 'false' } },
    });
    // The role the start function runs as, which its trigger polls with.
    expect(template.Resources.StartLambdaFunction?.Properties.Role).toEqual({ 'Fn::GetAtt': ['StartRole', 'Arn'] });
    // The dead-letter queues keep no such guard: tkp redrive reads them as whoever runs it.
    expect(template.Resources.VerifyDeadLetterQueuePolicy?.Properties.PolicyDocument.Statement.map((statement: any) => statement.Effect)).toEqual(['Allow']);
  });

  it('feeds the start function from the queue in batches with partial failures, under a DLQ with a redrive policy', () => {
    const queue = template.Resources.StartQueue?.Properties;
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['StartDeadLetterQueue', 'Arn'] }, maxReceiveCount: 50 });
    expect(queue.VisibilityTimeout).toBe(360);
    const [[, mapping]] = ofType(template, 'AWS::Lambda::EventSourceMapping') as [[string, any]];
    expect(mapping.Properties).toMatchObject({ BatchSize: 10, MaximumBatchingWindowInSeconds: 1, FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: 5 } });
  });

  it('routes only this stage’s Transcribe and Call Analytics completions, and the deletion of its jobs, to the verifier, with a DLQ behind both hops', () => {
    const rules = ofType(template, 'AWS::Events::Rule').filter(([, r]) => r.Properties.EventPattern?.source?.[0] === 'aws.transcribe');
    expect(rules.map(([, r]) => r.Properties.EventPattern)).toEqual([
      {
        source: ['aws.transcribe'],
        'detail-type': ['Transcribe Job State Change'],
        detail: { TranscriptionJobName: [{ prefix: 'tkp.dev.' }], TranscriptionJobStatus: ['COMPLETED', 'FAILED'] },
      },
      {
        source: ['aws.transcribe'],
        'detail-type': ['Call Analytics Job State Change'],
        detail: { JobName: [{ prefix: 'tkp.dev.' }], JobStatus: ['COMPLETED', 'FAILED'] },
      },
      {
        source: ['aws.transcribe'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['transcribe.amazonaws.com'],
          errorCode: [{ exists: false }],
          $or: [
            { eventName: ['DeleteTranscriptionJob'], requestParameters: { transcriptionJobName: [{ prefix: 'tkp.dev.' }] } },
            { eventName: ['DeleteCallAnalyticsJob'], requestParameters: { callAnalyticsJobName: [{ prefix: 'tkp.dev.' }] } },
            { eventName: ['DeleteMedicalTranscriptionJob'], requestParameters: { medicalTranscriptionJobName: [{ prefix: 'tkp.dev.' }] } },
          ],
        },
      },
    ]);
    for (const [, rule] of rules) {
      expect(rule.Properties.Targets[0].DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['VerifyDeadLetterQueue', 'Arn'] } });
      expect(rule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['VerifyLambdaFunction', 'Arn'] });
    }
    const invokeConfig = template.Resources.VerifyLambdaEvConf?.Properties;
    expect(invokeConfig.MaximumRetryAttempts).toBe(2);
    expect(invokeConfig.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': ['VerifyDeadLetterQueue', 'Arn'] });
  });

  it('gives the start function only what starting a job needs, for the configured keys only', () => {
    expect(actionsOf(template, 'StartRole').every((a) => !a.includes('*'))).toBe(true);
    const st = statements(template, 'StartRole');
    const transcribe = st.find((s) => s.Action.includes('transcribe:StartTranscriptionJob'));
    // Start actions name no resource (they have no resource type in IAM): the conditions hold them.
    expect(transcribe.Resource).toBe('*');
    expect(transcribe.Condition.StringEquals['transcribe:OutputBucketName']).toBeDefined();
    const kms = st.filter((s) => s.Action.includes('kms:Encrypt'));
    for (const s of kms) expect(s.Action).toEqual(['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey']);
    expect(kms[0].Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
      'arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321',
      'arn:aws:kms:us-east-1:123456789012:key/7c1d1c5e-2f4a-4b6e-9a3d-5e8f0c2b1a47',
    ]);
    expect(kms.slice(1).map((s) => [s.Resource, s.Condition['ForAnyValue:StringEquals']['kms:ResourceAliases']])).toEqual([
      [{ 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' }, ['alias/contact-centre-transcripts', 'alias/legal-transcripts']],
      [{ 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:123456789012:key/*' }, ['alias/partner-intake']],
      [{ 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:222233334444:key/*' }, ['alias/acme-transcripts']],
    ]);
    const read = st.find((s) => s.Action.includes('s3:GetObject'));
    expect(read.Resource.map((r: any) => r['Fn::Join'][1][2])).toEqual(['/calls/*', '/clinic/*', '/contact-centre/*', '/hr/*', '/legal/*', '/partners/*', '/public/*']);
    // Transcribe reads the uploads with this role: one stored under SSE-KMS (whichever key) may be decrypted, only through S3 and only in the input bucket (where the role reads the rules' prefixes alone).
    const media = st.filter((s) => s.Resource === '*' && s.Action.join() === 'kms:Decrypt');
    expect(media).toHaveLength(1);
    expect(media[0].Action).toEqual(['kms:Decrypt']);
    expect(media[0].Condition.StringEquals).toEqual({ 'kms:ViaService': { 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' } });
    const contexts = media[0].Condition.StringLike['kms:EncryptionContext:aws:s3:arn'];
    expect(contexts.map((r: any) => r['Fn::Join'][1][1])).toEqual(Array(2).fill({ 'Fn::Sub': 'tkp-dev-input-${AWS::AccountId}-us-east-1' }));
    expect(contexts.map((r: any) => r['Fn::Join'][1][2])).toEqual(['', '/*']);
    // Transcribe writes a keyless rule's transcripts with this role under the output bucket's default, which may be an SSE-KMS key: any key, only through S3, only in the buckets keyless rules write to.
    const bucketDefault = st.filter((s) => s.Resource === '*' && s.Action.includes('kms:GenerateDataKey'));
    expect(bucketDefault).toHaveLength(1);
    expect(bucketDefault[0].Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
    expect(bucketDefault[0].Condition.StringEquals).toEqual({ 'kms:ViaService': { 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' } });
    expect(bucketDefault[0].Condition.StringLike['kms:EncryptionContext:aws:s3:arn'].map((r: any) => r['Fn::Join'][1].slice(1))).toEqual([
      [{ 'Fn::Sub': 'tkp-dev-transcripts-${AWS::AccountId}-us-east-1' }, ''],
      [{ 'Fn::Sub': 'tkp-dev-transcripts-${AWS::AccountId}-us-east-1' }, '/*'],
    ]);
    const write = st.find((s) => s.Action.includes('s3:PutObject'));
    expect(write.Resource.map((r: any) => r['Fn::Join'][1][2])).toEqual(['/transcripts/*', '/transcripts/legal/*', '/transcripts/contact-centre/*']);
    expect(st.find((s) => s.Action.includes('sqs:SendMessage')).Resource).toEqual([{ 'Fn::GetAtt': ['StartDeadLetterQueue', 'Arn'] }, { 'Fn::GetAtt': ['StartQueue', 'Arn'] }]);
  });

  it('lets the verifier read transcripts and publish, but never encrypt or start jobs', () => {
    const actions = actionsOf(template, 'VerifyRole');
    expect(actions).toEqual(expect.arrayContaining(['transcribe:GetTranscriptionJob', 's3:GetObject', 's3:ListBucket', 'events:PutEvents']));
    expect(actions.some((a) => a === 'kms:Encrypt' || a === 'transcribe:StartTranscriptionJob' || a === 'transcribe:TagResource')).toBe(false);
    // KMS data-key use only through S3, only for the ledger in the transcript bucket (whose default key may be SSE-KMS).
    const dataKey = statements(template, 'VerifyRole').filter((s) => s.Action.includes('kms:GenerateDataKey'));
    expect(dataKey).toHaveLength(1);
    expect(dataKey[0].Condition.StringEquals['kms:ViaService']).toEqual({ 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' });
    expect(JSON.stringify(dataKey[0].Condition.StringLike['kms:EncryptionContext:aws:s3:arn'])).toContain('/verdicts/*');
    const allowed = statements(template, 'VerifyRole').filter((s) => s.Effect === 'Allow');
    const writes = allowed.filter((s) => s.Action.includes('s3:PutObject'));
    expect(writes).toHaveLength(1);
    expect(writes[0].Resource['Fn::Join'][1][2]).toBe('/verdicts/*');
    expect(allowed.find((s) => s.Action.includes('events:PutEvents')).Resource).toEqual({ 'Fn::GetAtt': ['OutcomeBus', 'Arn'] });
  });

  it('denies verdicts and ledger writes made with a verifier\'s role by anything but that function\'s own code', () => {
    for (const [role, fn] of [['VerifyRole', 'verify'], ['SweepRole', 'sweep']]) {
      const denied = statements(template, role as string).filter((s) => s.Effect === 'Deny');
      const arn = `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:transcribe-kms-pipeline-dev-${fn}`;
      const guarded = { Effect: 'Deny', Action: ['events:PutEvents', 's3:PutObject'], Resource: [{ 'Fn::GetAtt': ['OutcomeBus', 'Arn'] }, expect.anything()] };
      expect(denied).toEqual([
        // Another function given the role (its ARN is another), in any region.
        { Sid: 'VerdictsOnlyFromOwnCode', ...guarded, Condition: { ArnNotLike: { 'lambda:SourceFunctionArn': [{ 'Fn::Sub': arn }, { 'Fn::Sub': `${arn}:*` }] } } },
        // Anyone who assumed the role outside Lambda (no function ARN at all).
        { Sid: 'VerdictsOnlyFromFunctionCode', ...guarded, Condition: { Null: { 'lambda:SourceFunctionArn': 'true' } } },
      ]);
      // The ledger, exactly as it is allowed, is what is guarded.
      expect(JSON.stringify(denied[0].Resource[1])).toBe(JSON.stringify(statements(template, role as string).find((s) => s.Effect === 'Allow' && s.Action.includes('s3:PutObject')).Resource));
      // The function's name is the one the guard names.
      expect(template.Resources[`${fn === 'verify' ? 'Verify' : 'Sweep'}LambdaFunction`]?.Properties.FunctionName).toBe(`transcribe-kms-pipeline-dev-${fn}`);
    }
  });

  it('allows the three List actions, which have no resource-level permissions, to the sweeper alone', () => {
    const list = statements(template, 'SweepRole').find((s) => s.Action.includes('transcribe:ListTranscriptionJobs'));
    expect(list).toEqual({
      Effect: 'Allow',
      Action: ['transcribe:ListTranscriptionJobs', 'transcribe:ListCallAnalyticsJobs', 'transcribe:ListMedicalTranscriptionJobs'],
      Resource: '*',
    });
    for (const action of list.Action) expect(actionsOf(template, 'VerifyRole')).not.toContain(action);
  });

  it('lets the verifiers get jobs of every type, on this stage’s job ARNs only', () => {
    const arn = (type: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:transcribe:\${AWS::Region}:\${AWS::AccountId}:${type}/tkp.dev.*` });
    for (const role of ['VerifyRole', 'SweepRole']) {
      const gets = statements(template, role).filter((s) => s.Action.some((a: string) => /^transcribe:Get/.test(a)));
      expect(gets.map((s) => [s.Action, s.Resource])).toEqual([
        [['transcribe:GetTranscriptionJob'], arn('transcription-job')],
        [['transcribe:GetCallAnalyticsJob'], arn('analytics')],
        [['transcribe:GetMedicalTranscriptionJob'], arn('medical-transcription-job')],
      ]);
    }
  });

  it('creates the data access role for the Call Analytics rule alone, which the start function may pass and tells its jobs', () => {
    const role = template.Resources.DataAccessRole?.Properties;
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: ['transcribe.amazonaws.com'] });
    const st = role.Policies[0].PolicyDocument.Statement;
    expect(st.find((s: any) => s.Action.includes('s3:GetObject')).Resource.map((r: any) => r['Fn::Join'][1][2])).toEqual(['/contact-centre/*']);
    const media = st.find((s: any) => s.Resource === '*' && s.Action.join() === 'kms:Decrypt');
    expect(media.Condition.StringLike['kms:EncryptionContext:aws:s3:arn'].map((r: any) => r['Fn::Join'][1][2])).toEqual(['', '/*']);
    // Its only rule names a key, so no bucket default applies to what it writes.
    expect(st.filter((s: any) => s.Resource === '*' && s.Action.includes('kms:GenerateDataKey'))).toEqual([]);
    expect(st.find((s: any) => s.Action.includes('s3:PutObject')).Resource.map((r: any) => r['Fn::Join'][1][2])).toEqual(['/transcripts/contact-centre/*']);
    const kms = st.filter((s: any) => s.Action.includes('kms:Encrypt'));
    expect(kms.map((s: any) => s.Condition['ForAnyValue:StringEquals']['kms:ResourceAliases'])).toEqual([['alias/contact-centre-transcripts']]);
    expect(statements(template, 'StartRole').find((s) => s.Action.includes('iam:PassRole')).Resource).toEqual({ 'Fn::GetAtt': ['DataAccessRole', 'Arn'] });
    const start = ofType(template, 'AWS::Lambda::Function').find(([name]) => name === 'StartLambdaFunction')?.[1];
    expect(start?.Properties.Environment.Variables.DATA_ACCESS_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['DataAccessRole', 'Arn'] });
  });

  it('guards StartCallAnalyticsJob with the rule’s output location and key, and StartMedicalTranscriptionJob with its bucket and key', () => {
    const st = statements(template, 'StartRole');
    const calls = st.filter((s) => s.Action.includes('transcribe:StartCallAnalyticsJob'));
    expect(calls).toEqual([
      {
        Effect: 'Allow',
        Action: ['transcribe:StartCallAnalyticsJob'],
        Resource: '*',
        Condition: {
          StringLike: {
            'transcribe:OutputLocation': [{ 'Fn::Join': ['', ['s3://', { 'Fn::Sub': 'tkp-dev-transcripts-${AWS::AccountId}-us-east-1' }, '/transcripts/contact-centre/']] }],
            'transcribe:OutputEncryptionKMSKeyId': [{ 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' }],
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': expect.arrayContaining(['tkp:expected-kms-key-arn', 'tkp:rule-fingerprint']) },
        },
      },
    ]);
    const medical = st.filter((s) => s.Action.includes('transcribe:StartMedicalTranscriptionJob'));
    expect(medical).toEqual([
      {
        Effect: 'Allow',
        Action: ['transcribe:StartMedicalTranscriptionJob'],
        Resource: '*',
        Condition: {
          StringEquals: { 'transcribe:OutputBucketName': [{ 'Fn::Sub': 'tkp-dev-transcripts-${AWS::AccountId}-us-east-1' }] },
          StringLike: { 'transcribe:OutputEncryptionKMSKeyId': ['arn:aws:kms:us-east-1:123456789012:key/7c1d1c5e-2f4a-4b6e-9a3d-5e8f0c2b1a47'] },
          'ForAllValues:StringEquals': { 'aws:TagKeys': expect.arrayContaining(['tkp:expected-kms-key-arn']) },
        },
      },
    ]);
    // No rule of these types goes without a key, so neither type may start a job without one.
    expect([...calls, ...medical].some((s) => s.Condition.Null)).toBe(false);
    const gets = st.filter((s) => s.Action.some((a: string) => /^transcribe:Get/.test(a))).flatMap((s) => s.Action);
    expect(gets).toEqual(['transcribe:GetTranscriptionJob', 'transcribe:GetCallAnalyticsJob', 'transcribe:GetMedicalTranscriptionJob']);
  });

  it('creates both buckets private, TLS-only and SSE-S3 by default, the outcome bus and the alarms', () => {
    for (const name of ['InputBucket', 'TranscriptBucket']) {
      const props = template.Resources[name]?.Properties;
      expect(props.PublicAccessBlockConfiguration.BlockPublicPolicy).toBe(true);
      expect(props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    }
    expect(template.Resources.OutcomeBus?.Properties.Name).toBe('transcribe-kms-pipeline-dev-outcomes');
    expect(ofType(template, 'AWS::CloudWatch::Alarm').map(([n]) => n).sort()).toEqual(['EncryptionMismatchAlarm', 'StartDeadLetterAlarm', 'StartQueueAgeAlarm', 'VerifierDeadLettersLostAlarm', 'VerifyDeadLetterAlarm']);
    // A failed verification Lambda cannot put into the verify DLQ (its role lost sqs:SendMessage there) pages, from either verifier.
    const lost = template.Resources.VerifierDeadLettersLostAlarm?.Properties;
    expect(lost.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName, m.MetricStat.Metric.Dimensions[0].Value])).toEqual([
      ['AWS/Lambda', 'DestinationDeliveryFailures', template.Resources.VerifyLambdaFunction?.Properties.FunctionName],
      ['AWS/Lambda', 'DestinationDeliveryFailures', template.Resources.SweepLambdaFunction?.Properties.FunctionName],
    ]);
    expect(lost).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [{ Ref: 'AlarmTopic' }] });
    expect(lost.Period).toBeUndefined();
    for (const destination of ['VerifyLambdaEvConf', 'SweepLambdaEvConf']) {
      expect(template.Resources[destination]?.Properties.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': ['VerifyDeadLetterQueue', 'Arn'] });
    }
  });

  it('lets the verifiers resolve the configured keys and read each output bucket’s default encryption', () => {
    for (const role of ['VerifyRole', 'SweepRole']) {
      const st = statements(template, role);
      const describe = st.filter((s) => s.Action.includes('kms:DescribeKey'));
      expect(describe.map((s) => s.Resource)).toEqual(
        expect.arrayContaining([
          expect.arrayContaining(['arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321']),
          { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:222233334444:key/*' },
        ]),
      );
      expect(st.find((s) => s.Action.includes('s3:GetEncryptionConfiguration'))).toBeDefined();
    }
  });

  it('guards StartTranscriptionJob with the configured keys and output buckets, and allows TagResource (how Transcribe authorizes tag-on-create) for the pipeline tag keys only', () => {
    const st = statements(template, 'StartRole');
    expect(st.filter((s) => s.Action.includes('transcribe:TagResource'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['transcribe:TagResource'],
        Resource: '*',
        Condition: {
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['tkp:expected-sse', 'tkp:expected-kms-key-arn', 'tkp:rule-prefix', 'tkp:source-bucket', 'tkp:source-key', 'tkp:source-version', 'tkp:rule-fingerprint'] },
          Null: { 'aws:TagKeys': 'false' },
        },
      },
    ]);
    const starts = st.filter((s) => s.Action.includes('transcribe:StartTranscriptionJob'));
    expect(starts).toHaveLength(2);
    for (const s of starts) {
      expect(s.Condition.StringEquals['transcribe:OutputBucketName']).toEqual([{ 'Fn::Sub': 'tkp-dev-transcripts-${AWS::AccountId}-us-east-1' }]);
      expect(s.Condition['ForAllValues:StringEquals']['aws:TagKeys']).toContain('tkp:expected-kms-key-arn');
    }
    const withKey = starts.find((s) => s.Condition.StringLike);
    expect(withKey.Condition.StringLike['transcribe:OutputEncryptionKMSKeyId']).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' },
      'arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321',
      { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:123456789012:key/*' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:222233334444:key/*' },
    ]);
    expect(starts.find((s) => s.Condition.Null)?.Condition.Null).toEqual({ 'transcribe:OutputEncryptionKMSKeyId': 'true' });
    const decrypt = st.filter((s) => s.Action.includes('kms:Decrypt'));
    expect(decrypt.length).toBeGreaterThan(0);
    for (const s of decrypt) expect(s.Condition.StringEquals['kms:ViaService']).toEqual({ 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' });
  });

  it('lets only the verify and sweep roles write the verdict ledger, only conditionally, in a versioned bucket', () => {
    const bucket = template.Resources.TranscriptBucket?.Properties;
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    const policy = template.Resources.TranscriptBucketPolicy?.Properties.PolicyDocument.Statement;
    const others = policy.find((s: any) => s.Sid === 'LedgerWritesOnlyByVerifiers');
    expect(others).toEqual({
      Sid: 'LedgerWritesOnlyByVerifiers',
      Effect: 'Deny',
      Principal: '*',
      // S3 replication from another bucket writes with s3:ReplicateObject (and ReplicateDelete), not s3:PutObject.
      Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:ReplicateObject', 's3:ReplicateDelete'],
      Resource: { 'Fn::Sub': '${TranscriptBucket.Arn}/verdicts/*' },
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': ['VerifyRole', 'Arn'] }, { 'Fn::GetAtt': ['SweepRole', 'Arn'] }] } },
    });
    // A ledger write by another role (the start role, an administrator) matches this Deny: the bucket policy refuses it.
    expect(others.Condition.ArnNotEquals['aws:PrincipalArn']).not.toContainEqual({ 'Fn::GetAtt': ['StartRole', 'Arn'] });
    expect(policy.find((s: any) => s.Sid === 'LedgerWritesOnlyConditional')).toMatchObject({
      Effect: 'Deny',
      Action: 's3:PutObject',
      Condition: { Null: { 's3:if-none-match': 'true', 's3:if-match': 'true' } },
    });
  });

  it('lets only the stack\'s own roles write into the transcript bucket, so nobody can replace a verified transcript with one under another key', () => {
    const policy = template.Resources.TranscriptBucketPolicy?.Properties.PolicyDocument.Statement;
    const writers = [{ 'Fn::GetAtt': ['StartRole', 'Arn'] }, { 'Fn::GetAtt': ['VerifyRole', 'Arn'] }, { 'Fn::GetAtt': ['SweepRole', 'Arn'] }, { 'Fn::GetAtt': ['DataAccessRole', 'Arn'] }];
    expect(policy.find((s: any) => s.Sid === 'WritesOnlyByThisStack')).toEqual({
      Sid: 'WritesOnlyByThisStack',
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:PutObject', 's3:ReplicateObject'],
      Resource: { 'Fn::Sub': '${TranscriptBucket.Arn}/*' },
      // A request with no principal ARN (an AWS service writing as itself) is not denied.
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': writers }, Null: { 'aws:PrincipalArn': 'false' } },
    });
    // Exactly the roles whose own policies write there: Transcribe writes with the start role's
    // credentials or the data access role, the verifiers write the ledger.
    const writesThere = (role: string) =>
      statements(template, role).some((s) => s.Effect === 'Allow' && [s.Action].flat().includes('s3:PutObject') && JSON.stringify(s.Resource).includes('tkp-dev-transcripts-'));
    const roles = ofType(template, 'AWS::IAM::Role').map(([name]) => name);
    expect(roles.filter(writesThere).sort()).toEqual(writers.map((w) => w['Fn::GetAtt'][0]).sort());
  });

  it('lets only the verify and sweep roles put events on the outcome bus, so no one else can publish a verdict', () => {
    const policy = template.Resources.OutcomeBusPolicy;
    expect(policy?.Type).toBe('AWS::Events::EventBusPolicy');
    expect(policy?.Properties.EventBusName).toEqual({ Ref: 'OutcomeBus' });
    const { Effect, Principal, Action, Condition } = policy?.Properties.Statement ?? {};
    expect([Effect, Principal, Action]).toEqual(['Deny', '*', 'events:PutEvents']);
    const exempt = Condition.ArnNotEquals['aws:PrincipalArn'].map((arn: any) => arn['Fn::GetAtt'][0]);
    expect(exempt).toEqual(['VerifyRole', 'SweepRole']);
    // A request with no principal ARN (the archive's replay) is not denied.
    expect(Condition.Null).toEqual({ 'aws:PrincipalArn': 'false' });
    // The roles that may publish are the ones that do.
    for (const role of ['VerifyRole', 'SweepRole']) expect(actionsOf(template, role)).toContain('events:PutEvents');
    expect(actionsOf(template, 'StartRole')).not.toContain('events:PutEvents');
  });

  it('sends every alarm and every paging verdict to one alarm topic, and archives the outcome bus', () => {
    expect(template.Resources.AlarmTopic?.Type).toBe('AWS::SNS::Topic');
    expect(template.Resources.AlarmEmailSubscription).toBeUndefined();
    for (const [, alarm] of ofType(template, 'AWS::CloudWatch::Alarm')) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    expect(template.Resources.EncryptionMismatchAlarm?.Properties.Dimensions).toEqual([
      { Name: 'service', Value: 'transcribe-kms-pipeline' },
      { Name: 'stage', Value: 'dev' },
    ]);
    expect(template.Resources.StartQueueAgeAlarm?.Properties).toMatchObject({ MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 3600 });
    const rule = template.Resources.PagingVerdictsRule?.Properties;
    expect(rule.EventBusName).toEqual({ Ref: 'OutcomeBus' });
    expect(rule.EventPattern).toEqual({
      source: ['transcribe-kms-pipeline'],
      'detail-type': ['Transcript Encryption Mismatch', 'Transcription Failed'],
      detail: { $or: [{ outcome: ['failed'] }, { outcome: ['mismatch'], cause: [{ 'anything-but': ['rule-changed'] }] }] },
    });
    expect(rule.Targets[0].Arn).toEqual({ Ref: 'AlarmTopic' });
    expect(rule.Targets[0].DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['VerifyDeadLetterQueue', 'Arn'] } });
    // A retargeted alias or a changed bucket default (what verdicts follow without a deploy), from
    // the default bus's CloudTrail events: the demo config names three aliases and one keyless rule.
    const trust = template.Resources.TrustChangesRule?.Properties;
    expect(trust.EventBusName).toBeUndefined();
    expect(trust.EventPattern.source).toEqual(['aws.kms', 'aws.s3', 'aws.events', 'aws.cloudtrail']);
    expect(trust.EventPattern['detail-type']).toEqual(['AWS API Call via CloudTrail']);
    const watched = trust.EventPattern.detail.$or.map((alternative: any) => [alternative.eventName, alternative.recipientAccountId, alternative.requestParameters]);
    expect(watched).toEqual([
      [['CreateAlias', 'UpdateAlias', 'DeleteAlias'], undefined, { aliasName: ['alias/contact-centre-transcripts', 'alias/legal-transcripts'] }],
      [['CreateAlias', 'UpdateAlias', 'DeleteAlias'], ['123456789012'], { aliasName: ['alias/partner-intake'] }],
      [['CreateAlias', 'UpdateAlias', 'DeleteAlias'], ['222233334444'], { aliasName: ['alias/acme-transcripts'] }],
      [['PutBucketEncryption', 'DeleteBucketEncryption'], undefined, { bucketName: [{ 'Fn::Sub': 'tkp-dev-transcripts-${AWS::AccountId}-us-east-1' }] }],
      [['PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration'], undefined, { bucketName: [{ 'Fn::Sub': 'tkp-dev-transcripts-${AWS::AccountId}-us-east-1' }] }],
      [['PutPermission', 'RemovePermission'], undefined, { eventBusName: [{ Ref: 'OutcomeBus' }, { 'Fn::GetAtt': ['OutcomeBus', 'Arn'] }] }],
      [['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors'], undefined, undefined],
    ]);
    // After the bucket's own encryption and policy and the bus's policy exist, so that creating them does not page.
    expect(template.Resources.TrustChangesRule?.DependsOn).toEqual(['TranscriptBucketPolicy', 'OutcomeBusPolicy']);
    // The page wraps the event with what to do (the unit tests read the template's text).
    expect(trust.Targets).toEqual([
      {
        Id: 'alarm-topic',
        Arn: { Ref: 'AlarmTopic' },
        InputTransformer: { InputTemplate: expect.stringMatching(/^\{"page": "transcribe-kms-pipeline-dev-trust-changes", "whatToDo": "A key alias .*", "event": <aws\.events\.event\.json>\}$/) },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['VerifyDeadLetterQueue', 'Arn'] } },
      },
    ]);
    // The stack's functions' code and configuration, changed outside a deploy (a deploy's changes come from CloudFormation).
    const verifiers = template.Resources.VerifierChangesRule?.Properties;
    expect(verifiers.EventPattern).toEqual({
      source: ['aws.lambda', 'aws.events', 'aws.s3'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        sourceIPAddress: [{ 'anything-but': 'cloudformation.amazonaws.com' }],
        $or: [
          {
            eventSource: ['lambda.amazonaws.com'],
            eventName: ['UpdateFunctionCode', 'UpdateFunctionConfiguration', 'PutFunctionEventInvokeConfig', 'UpdateFunctionEventInvokeConfig', 'DeleteFunctionEventInvokeConfig', 'PutFunctionConcurrency', 'DeleteFunction', 'RemovePermission'].map(
              (prefix) => ({ prefix }),
            ),
            // Every function of the stack, by the prefix of the names it is given (checked above), in every form Lambda takes.
            requestParameters: { functionName: [{ prefix: 'transcribe-kms-pipeline-dev-' }, { wildcard: '*:function:transcribe-kms-pipeline-dev-*' }] },
          },
          // Any function given one of the stack's roles, by the prefix of the role names the stack sets.
          {
            eventSource: ['lambda.amazonaws.com'],
            eventName: [{ prefix: 'CreateFunction' }, { prefix: 'UpdateFunctionConfiguration' }],
            requestParameters: { role: [{ wildcard: '*:role/transcribe-kms-pipeline-dev-us-east-1-*' }] },
          },
          // The rule that watches the alarms cannot see itself turned off; this one does.
          { eventSource: ['events.amazonaws.com'], eventName: ['DisableRule', 'DeleteRule', 'PutRule'], requestParameters: { name: ['transcribe-kms-pipeline-dev-alerting-changes'] } },
          { eventSource: ['events.amazonaws.com'], eventName: ['PutTargets', 'RemoveTargets'], requestParameters: { rule: ['transcribe-kms-pipeline-dev-alerting-changes'] } },
          // The input bucket's notifications replaced by anyone but the stack's notifications function (the role it deploys with).
          {
            eventSource: ['s3.amazonaws.com'],
            eventName: ['PutBucketNotification', 'PutBucketNotificationConfiguration'],
            requestParameters: { bucketName: [template.Resources.InputBucket?.Properties.BucketName] },
            userIdentity: { arn: [{ 'anything-but': { prefix: { 'Fn::Sub': `arn:\${AWS::Partition}:sts::\${AWS::AccountId}:assumed-role/${template.Resources.BucketNotificationsRole?.Properties.RoleName}/` } } }] },
          },
        ],
      },
    });
    // Created after the functions it names, so that creating them does not page.
    expect(template.Resources.VerifierChangesRule?.DependsOn).toEqual(['VerifyLambdaFunction', 'SweepLambdaFunction', 'StartLambdaFunction', 'PreflightLambdaFunction', 'BucketNotificationsLambdaFunction']);
    // Every role the stack creates starts with that prefix.
    for (const [, resource] of ofType(template, 'AWS::IAM::Role')) expect(resource.Properties.RoleName).toMatch(/^transcribe-kms-pipeline-dev-us-east-1-/);
    // The same target, each with its own page text.
    const withoutPage = (targets: Record<string, unknown>[]) => targets.map(({ InputTransformer, ...target }) => target);
    expect(withoutPage(verifiers.Targets)).toEqual(withoutPage(trust.Targets));
    expect(withoutPage(template.Resources.AlertingChangesRule?.Properties.Targets)).toEqual(withoutPage(trust.Targets));
    expect(withoutPage(template.Resources.QueueTriggersRule?.Properties.Targets)).toEqual(withoutPage(trust.Targets));
    expect([verifiers, template.Resources.AlertingChangesRule?.Properties, template.Resources.QueueTriggersRule?.Properties].map((rule) => rule.Targets[0].InputTransformer.InputTemplate)).toEqual([
      expect.stringMatching(/^\{"page": "transcribe-kms-pipeline-dev-verifier-changes", "whatToDo": "The code, configuration or concurrency of one of this stack's functions or the input bucket's notifications changed/),
      expect.stringMatching(/^\{"page": "transcribe-kms-pipeline-dev-alerting-changes", "whatToDo": "One of this stack's EventBridge rules/),
      expect.stringMatching(/^\{"page": "transcribe-kms-pipeline-dev-queue-triggers", "whatToDo": "A Lambda trigger on one of this stack's queues/),
    ]);
    // Any function's trigger on one of the stack's queues (a trigger names its queue by ARN alone), created, changed or deleted outside a deploy:
    // the request names the queue of one created (refused or not), the response that of one changed or deleted.
    const queueArns = ['StartQueue', 'StartDeadLetterQueue', 'VerifyDeadLetterQueue'].map((queue) => ({ 'Fn::GetAtt': [queue, 'Arn'] }));
    expect(template.Resources.QueueTriggersRule?.Properties).toMatchObject({
      Name: 'transcribe-kms-pipeline-dev-queue-triggers',
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.lambda'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          sourceIPAddress: [{ 'anything-but': 'cloudformation.amazonaws.com' }],
          eventSource: ['lambda.amazonaws.com'],
          eventName: [{ prefix: 'CreateEventSourceMapping' }, { prefix: 'UpdateEventSourceMapping' }, { prefix: 'DeleteEventSourceMapping' }],
          $or: [{ requestParameters: { eventSourceArn: queueArns } }, { responseElements: { eventSourceArn: queueArns } }],
        },
      },
    });
    expect(template.Resources.QueueTriggersRule?.Properties.EventPattern.detail.$or[0].requestParameters.eventSourceArn.map((arn: any) => arn['Fn::GetAtt'][0]).sort()).toEqual(
      ofType(template, 'AWS::SQS::Queue').map(([id]) => id).sort(),
    );
    // Any key of the account disabled or scheduled for deletion, a deploy's included: a rule may name its key by alias. Its policy rewritten outside a deploy.
    expect(template.Resources.KeyLossesRule?.Properties).toMatchObject({
      Name: 'transcribe-kms-pipeline-dev-key-losses',
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.kms'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['kms.amazonaws.com'],
          $or: [{ eventName: ['DisableKey', 'ScheduleKeyDeletion', 'DeleteImportedKeyMaterial'] }, { eventName: ['PutKeyPolicy'], sourceIPAddress: [{ 'anything-but': 'cloudformation.amazonaws.com' }] }],
        },
      },
    });
    expect(withoutPage(template.Resources.KeyLossesRule?.Properties.Targets)).toEqual(withoutPage(trust.Targets));
    expect(template.Resources.KeyLossesRule?.Properties.Targets[0].InputTransformer.InputTemplate).toMatch(/^\{"page": "transcribe-kms-pipeline-dev-key-losses", "whatToDo": "A KMS key of this account was disabled, scheduled for deletion, had its imported key material deleted or its policy rewritten outside a deploy/);
    // The input bucket's policy, and either bucket's replication, public access block or ACL, by the names the stack gives them.
    const exposure = template.Resources.DataExposureRule?.Properties;
    expect(exposure.EventPattern.detail.$or.map((a: any) => a.requestParameters.bucketName)).toEqual([[template.Resources.InputBucket?.Properties.BucketName], [template.Resources.TranscriptBucket?.Properties.BucketName]]);
    expect(exposure.EventPattern.detail.sourceIPAddress).toEqual([{ 'anything-but': 'cloudformation.amazonaws.com' }]);
    expect(withoutPage(exposure.Targets)).toEqual(withoutPage(trust.Targets));
    expect(exposure.Targets[0].InputTransformer.InputTemplate).toMatch(/^\{"page": "transcribe-kms-pipeline-dev-data-exposure", "whatToDo": "The recordings or the transcripts may be open to others/);
    expect(template.Resources.AlarmTopicPolicy?.Properties.PolicyDocument.Statement[0].Principal.Service).toEqual(['cloudwatch.amazonaws.com', 'events.amazonaws.com']);
    expect(template.Resources.OutcomeArchive?.Properties).toMatchObject({ SourceArn: { 'Fn::GetAtt': ['OutcomeBus', 'Arn'] }, RetentionDays: 365 });
    expect(template.Outputs.AlarmTopicArn.Value).toEqual({ Ref: 'AlarmTopic' });
  });

  it('deploys each rule on the bus and with the target that tkp check expects (stackRules)', () => {
    // tkp check fails a rule that does not send where stackRules says; a rule added or repointed
    // in serverless.yml or alarmResources.ts without it would make every deployed check fail.
    const deployed = ofType(template, 'AWS::Events::Rule').map(([, rule]) => {
      const { Name, EventBusName, Targets } = rule.Properties;
      const [target, ...more] = Targets as { Arn: any; DeadLetterConfig?: unknown }[];
      expect(more, `${Name} has one target`).toEqual([]);
      const fn = target?.Arn['Fn::GetAtt']?.[0];
      return {
        name: Name,
        ...(EventBusName && { bus: template.Resources[EventBusName.Ref]?.Properties.Name }),
        target: fn ? { function: template.Resources[fn]?.Properties.FunctionName } : target?.Arn.Ref === 'AlarmTopic' ? { alarmTopic: true } : target?.Arn,
        deadLetter: target?.DeadLetterConfig !== undefined,
      };
    });
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect(deployed.sort(byName)).toEqual(stackRules({ service: 'transcribe-kms-pipeline', stage: 'dev' }).sort(byName));
  });

  it('pages when any of its rules or alarms is turned off, deleted or rewritten outside a deploy, or the alarm topic is unsubscribed, the watcher itself included', () => {
    // Every rule and alarm the template holds, by the name it deploys with, turned off by hand as
    // CloudTrail reports it, against the deployed patterns (the topic's ARN filled in as CloudFormation would).
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:transcribe-kms-pipeline-dev-alarms';
    const resolve = (pattern: unknown) => JSON.parse(JSON.stringify(pattern).replaceAll('{"Ref":"AlarmTopic"}', JSON.stringify(topicArn)).replaceAll('{"Fn::Sub":"${AlarmTopic}:"}', JSON.stringify(`${topicArn}:`)));
    const alerting = resolve(template.Resources.AlertingChangesRule?.Properties.EventPattern);
    const verifiers = template.Resources.VerifierChangesRule?.Properties.EventPattern;
    const byHand = (eventSource: string, eventName: string, requestParameters: Record<string, unknown>, sourceIPAddress = '198.51.100.7') => {
      const event = trailEnvelope({ eventSource: eventSource as never, eventName, account: '123456789012', requestParameters }, 'c0ffee00-0000-4000-8000-000000000009', 'us-east-1');
      return { ...event, detail: { ...event.detail, sourceIPAddress } };
    };
    const rules = ofType(template, 'AWS::Events::Rule');
    const alarms = ofType(template, 'AWS::CloudWatch::Alarm');
    expect(rules.map(([id]) => id)).toHaveLength(11);
    expect(alarms).toHaveLength(5);
    for (const [id, rule] of rules) {
      const name = rule.Properties.Name;
      expect(typeof name, `${id} has a fixed name`).toBe('string');
      expect(matchesPattern(alerting, byHand('events.amazonaws.com', 'DisableRule', { name })), `${id} (${name}) disabled`).toBe(true);
      expect(matchesPattern(alerting, byHand('events.amazonaws.com', 'RemoveTargets', { rule: name, ids: ['x'] })), `${id} (${name}) untargeted`).toBe(true);
      expect(matchesPattern(alerting, byHand('events.amazonaws.com', 'DisableRule', { name }, 'cloudformation.amazonaws.com')), `${id} changed by a deploy`).toBe(false);
    }
    // A verifier changed by hand, however the caller names it, with the names CloudFormation gives the functions.
    const functionNames = { VerifyLambdaFunction: 'transcribe-kms-pipeline-dev-verify', SweepLambdaFunction: 'transcribe-kms-pipeline-dev-sweep', StartLambdaFunction: 'transcribe-kms-pipeline-dev-start' };
    for (const [id, name] of Object.entries(functionNames)) expect(template.Resources[id]?.Properties.FunctionName).toBe(name);
    let resolved = JSON.stringify(verifiers);
    for (const [id, name] of Object.entries(functionNames)) resolved = resolved.replaceAll(`{"Ref":"${id}"}`, JSON.stringify(name)).replaceAll(`\${${id}}`, name);
    const roleArns = ['VerifyRole', 'SweepRole', 'StartRole'].map((id) => {
      const arn = `arn:aws:iam::123456789012:role/${template.Resources[id]?.Properties.RoleName}`;
      resolved = resolved.replaceAll(`{"Fn::GetAtt":["${id}","Arn"]}`, JSON.stringify(arn));
      return arn;
    });
    const verifierPattern = JSON.parse(resolved.replace(/\{"Fn::Sub":("[^"]*")\}/g, '$1'));
    for (const naming of ['transcribe-kms-pipeline-dev-verify', '123456789012:function:transcribe-kms-pipeline-dev-sweep', 'arn:aws:lambda:us-east-1:123456789012:function:transcribe-kms-pipeline-dev-verify:$LATEST']) {
      expect(matchesPattern(verifierPattern, byHand('lambda.amazonaws.com', 'UpdateFunctionConfiguration20150331v2', { functionName: naming })), naming).toBe(true);
    }
    // Every function of the template, by the name it deploys with, and no other stage's.
    for (const [id, fn] of ofType(template, 'AWS::Lambda::Function')) {
      expect(matchesPattern(verifierPattern, byHand('lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', { functionName: fn.Properties.FunctionName })), id).toBe(true);
    }
    expect(matchesPattern(verifierPattern, byHand('lambda.amazonaws.com', 'UpdateFunctionConfiguration20150331v2', { functionName: 'transcribe-kms-pipeline-prod-verify' }))).toBe(false);
    // Another function given a verifier's role or the start role, by the ARN CloudFormation gives the role.
    for (const role of roleArns) expect(matchesPattern(verifierPattern, byHand('lambda.amazonaws.com', 'CreateFunction20150331', { functionName: 'helper', role })), role).toBe(true);
    // The watcher cannot see its own rule turned off, so the verifiers' rule watches it.
    const watcher = template.Resources.AlertingChangesRule?.Properties.Name;
    expect(matchesPattern(verifierPattern, byHand('events.amazonaws.com', 'DisableRule', { name: watcher }))).toBe(true);
    expect(matchesPattern(verifierPattern, byHand('events.amazonaws.com', 'DeleteRule', { name: template.Resources.TrustChangesRule?.Properties.Name }))).toBe(false);
    for (const [id, alarm] of alarms) {
      const name = alarm.Properties.AlarmName;
      expect(typeof name, `${id} has a fixed name`).toBe('string');
      expect(matchesPattern(alerting, byHand('monitoring.amazonaws.com', 'DeleteAlarms', { alarmNames: [name] })), `${id} (${name}) deleted`).toBe(true);
      expect(matchesPattern(alerting, byHand('monitoring.amazonaws.com', 'DisableAlarmActions', { alarmNames: [name] })), `${id} (${name}) silenced`).toBe(true);
    }
    expect(template.Resources.AlarmTopic?.Properties.TopicName).toBe('transcribe-kms-pipeline-dev-alarms');
    expect(matchesPattern(alerting, byHand('sns.amazonaws.com', 'Unsubscribe', { subscriptionArn: `${topicArn}:0b9a4c1e-0000-4000-8000-000000000001` }))).toBe(true);
    expect(matchesPattern(alerting, byHand('sns.amazonaws.com', 'SetTopicAttributes', { topicArn, attributeName: 'Policy' }))).toBe(true);
    expect(matchesPattern(alerting, byHand('sns.amazonaws.com', 'Unsubscribe', { subscriptionArn: 'arn:aws:sns:us-east-1:123456789012:another-topic:0b9a4c1e-0000-4000-8000-000000000001' }))).toBe(false);
    // Every queue the template holds, by the URL CloudFormation gives it (stack name, logical ID, a random end), purged by hand.
    const queues = ofType(template, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(3);
    let queueWatch = JSON.stringify(template.Resources.AlertingChangesRule?.Properties.EventPattern);
    for (const [id] of queues) queueWatch = queueWatch.replaceAll(`{"Fn::Sub":"/\${AWS::AccountId}/\${${id}.QueueName}"}`, JSON.stringify(`/123456789012/transcribe-kms-pipeline-dev-${id}-1A2B3C4D5E6F`));
    const queuePattern = resolve(JSON.parse(queueWatch));
    for (const [id] of queues) {
      const queueUrl = `https://sqs.us-east-1.amazonaws.com/123456789012/transcribe-kms-pipeline-dev-${id}-1A2B3C4D5E6F`;
      expect(matchesPattern(queuePattern, byHand('sqs.amazonaws.com', 'PurgeQueue', { queueUrl })), `${id} purged`).toBe(true);
      expect(matchesPattern(queuePattern, byHand('sqs.amazonaws.com', 'SetQueueAttributes', { queueUrl, attributes: { Policy: '' } })), `${id} re-permissioned`).toBe(true);
    }
  });

  it('keeps dead letters longer than the messages of the queue they come from, and gives every function the stage for its metrics', () => {
    expect(template.Resources.StartQueue?.Properties.MessageRetentionPeriod).toBe(4 * 24 * 3600);
    for (const dlq of ['StartDeadLetterQueue', 'VerifyDeadLetterQueue']) expect(template.Resources[dlq]?.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    for (const [, fn] of ofType(template, 'AWS::Lambda::Function')) expect(fn.Properties.Environment.Variables.STAGE).toBe('dev');
  });

  it('keeps the error names operators filter on in the minified bundles', async () => {
    const unpacked = mkdtempSync(join(tmpdir(), 'tkp-bundles-'));
    await run('unzip', ['-q', '-o', join(dir, 'verify.zip'), '-d', join(unpacked, 'verify')]);
    await run('unzip', ['-q', '-o', join(dir, 'start.zip'), '-d', join(unpacked, 'start')]);
    const env = { ...process.env, ...HANDLER_ENV, POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };
    const invokePackaged = (fn: string, event: unknown) => invokeBundle(join(unpacked, fn, `functions/${fn}.cjs`), event, env);
    const verify = invokePackaged('verify', {});
    expect(verify.error?.name).toBe('EventShapeError');
    // A Call Analytics completion reaches GetCallAnalyticsJob in the minified bundle (the canned
    // responder knows no such job), and another stack's is refused by name without a call.
    const callEvent = (name: string) => ({ ...loadEvent('transcribe-call-analytics-completed.json'), detail: { JobName: name, JobStatus: 'COMPLETED' } });
    const ours = invokePackaged('verify', callEvent('tkp.test.call-1'));
    expect(ours.requests.filter((r) => r.target?.startsWith('Transcribe.')).map((r) => [r.target, JSON.parse(r.body)])).toEqual([
      ['Transcribe.GetCallAnalyticsJob', { CallAnalyticsJobName: 'tkp.test.call-1' }],
    ]);
    expect(ours.error?.name).toBe('JobNotFoundError');
    const foreign = invokePackaged('verify', callEvent('tkp.prod.call-1'));
    expect(foreign.error?.name).toBe('ForeignJobError');
    expect(foreign.requests.filter((r) => r.target?.startsWith('Transcribe.'))).toEqual([]);
    const start = invokePackaged('start', {
      Records: [{ messageId: 'm-1', receiptHandle: 'r-1', body: 'not json', attributes: { ApproximateReceiveCount: '1' }, eventSource: 'aws:sqs' }],
    });
    const letter = start.requests.find((r) => r.target === 'AmazonSQS.SendMessage');
    const attributes = JSON.parse(letter?.body ?? '{}').MessageAttributes;
    expect(attributes.errorName.StringValue).toBe('EventShapeError');
    expect(attributes.reason.StringValue).toMatch(/^EventShapeError: message body is not JSON/);
  }, 60_000);

  it('passes cfn-lint with no check ignored (no DependsOn that a GetAtt already enforces)', async () => {
    const lint = await cfnLint(dir);
    if (lint === 'cfn-lint not installed' && process.env.CI !== 'true') return;
    expect(lint).toBe('clean');
  }, 60_000);
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
        IdPrefix: 'tkp/dev/',
        Prefixes: ['calls/', 'clinic/', 'contact-centre/', 'hr/', 'legal/', 'partners/', 'public/'],
      },
    });
    expect(statements(template, 'BucketNotificationsRole').find((s) => s.Action.includes('s3:PutBucketNotification')).Resource).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:s3:::acme-recordings',
    });
    const start = ofType(template, 'AWS::Lambda::Function').find(([name]) => name === 'StartLambdaFunction')?.[1];
    expect(start?.Properties.Environment.Variables.INPUT_BUCKET).toBe('acme-recordings');
    // The keyless rule writes to the existing transcript bucket, whose default a change pages on.
    const bucketWatch = template.Resources.TrustChangesRule?.Properties.EventPattern.detail.$or.filter((a: any) => a.eventSource[0] === 's3.amazonaws.com');
    expect(bucketWatch.map((a: any) => a.requestParameters)).toEqual([{ bucketName: ['acme-transcripts'] }, { bucketName: ['acme-transcripts'] }]);
    expect(template.Resources.TrustChangesRule?.DependsOn).toEqual(['OutcomeBusPolicy']);
  }, 120_000);

  it('takes the operator’s alarm topic instead of creating one, and subscribes an email to a created one', async () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:oncall';
    const { template: theirs } = await slsPackage([`--param=alarmTopicArn=${topic}`]);
    expect(theirs.Resources.AlarmTopic).toBeUndefined();
    for (const [, alarm] of ofType(theirs, 'AWS::CloudWatch::Alarm')) expect(alarm.Properties.AlarmActions).toEqual([topic]);
    expect(theirs.Resources.PagingVerdictsRule?.Properties.Targets[0].Arn).toBe(topic);
    expect(theirs.Resources.TrustChangesRule?.Properties.Targets[0].Arn).toBe(topic);
    // Their topic is watched as the created one would be.
    const topicWatch = theirs.Resources.AlertingChangesRule?.Properties.EventPattern.detail.$or.filter((a: any) => a.eventSource[0] === 'sns.amazonaws.com');
    expect(topicWatch.map((a: any) => a.requestParameters)).toEqual([{ subscriptionArn: [{ prefix: `${topic}:` }] }, { topicArn: [topic] }]);
    const { template: ours } = await slsPackage(['--param=alarmEmail=oncall@example.com']);
    expect(ours.Resources.AlarmEmailSubscription?.Properties).toEqual({ TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: 'oncall@example.com' });
  }, 240_000);

  it('writes a rule prefix with a space, +, %, = or non-ASCII characters into the notification filter as S3 encodes keys, an accented one in both Unicode spellings, and lets the start role read both', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tkp-odd-')), 'odd.json');
    writeFileSync(path, JSON.stringify({ defaults: { languageCode: 'en-US' }, rules: [{ prefix: 'Call Recordings/Zürich +50% =A&B/' }] }));
    const { template: odd } = await slsPackage([], { PIPELINE_CONFIG_PATH: path });
    const filters = odd.Resources.InputBucket?.Properties.NotificationConfiguration.QueueConfigurations.map((q: any) => q.Filter.S3Key.Rules[0].Value);
    // Composed (NFC) as typed, and decomposed (NFD) as a Mac may name a file: S3 compares bytes.
    expect(filters.sort()).toEqual(['Call+Recordings/Z%C3%BCrich+%2B50%25+%3DA%26B/', 'Call+Recordings/Zu%CC%88rich+%2B50%25+%3DA%26B/']);
    const reads = JSON.stringify(odd.Resources.StartRole?.Properties);
    for (const spelling of ['Call Recordings/Zürich +50% =A&B/*', 'Call Recordings/Zu\u0308rich +50% =A&B/*']) expect(reads).toContain(JSON.stringify(spelling).slice(1, -1));
  }, 120_000);

  it('refuses an output that overlaps the verdict ledger, and an output in the input bucket the stack creates', async () => {
    const failureFor = (rules: object[]) => packageRefusal({ defaults: { languageCode: 'en-US' }, rules });
    expect(await failureFor([{ prefix: 'a/', output: { prefix: 'verdicts/' } }])).toContain('rules[0] (prefix "a/"): output.prefix "verdicts/" is the verdict ledger verdicts/');
    expect(await failureFor([{ prefix: 'a/', output: { bucket: 'tkp-dev-input-123456789012-us-east-1', prefix: 'a/text/' } }])).toContain(
      'output s3://tkp-dev-input-123456789012-us-east-1/a/text/ overlaps input prefix "a/"',
    );
  }, 240_000);

  it('refuses bad --param values before anything is packaged, naming each', async () => {
    const failure = await slsPackage(['--param=inputBucket=s3://acme-recordings', '--param=alarmEmail=oncall@example.com', '--param=alarmTopicArn=arn:aws:sns:us-east-1:123456789012:on-call']).then(
      () => 'packaged',
      (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    );
    expect(failure).toContain('the --param values are invalid:');
    expect(failure).toContain('--param="inputBucket=s3://acme-recordings" must be the bucket\'s name alone: --param="inputBucket=acme-recordings"');
    expect(failure).toContain('so the address would get nothing');
    // A refusal is its message, not a JavaScript stack.
    expect(failure).not.toMatch(/\n\s+at \S/);
  }, 120_000);

  it('refuses a bad config with a message naming the rule and the field', async () => {
    const failure = await packageRefusal({ defaults: { languageCode: 'en-US' }, rules: [{ prefix: 'x/', kmsKey: 'arn:aws:kms:eu-west-1:123456789012:alias/x' }] });
    expect(failure).toContain('rules[0] (prefix "x/"): kmsKey is in region eu-west-1 but the stack deploys to us-east-1');
    expect(failure).not.toMatch(/\n\s+at \S/);
    // A second kmsKey below the first: a reviewer reads alias/hr, JSON.parse keeps alias/public.
    const twice = await packageRefusal('{ "defaults": { "languageCode": "en-US" },\n  "rules": [\n    { "prefix": "hr/", "kmsKey": "alias/hr",\n      "kmsKey": "alias/public" }\n  ]\n}\n');
    expect(twice).toContain('rules[0].kmsKey appears 2 times (lines 3, 4); JSON keeps only the last, while a reader sees the first: keep one and delete the others');
    expect(twice).not.toMatch(/\n\s+at \S/);
  }, 240_000);

  it('gives a role whose statements pass its inline policy managed policies it attaches, and passes cfn-lint', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tkp-many-')), 'many.json');
    const teams = Array.from({ length: 120 }, (_, i) => ({ prefix: `teams/team-${i}/`, kmsKey: `arn:aws:kms:us-east-1:123456789012:key/${String(i).padStart(8, '0')}-1111-4222-8333-444455556666` }));
    const rules = [{ prefix: 'teams/' }, ...teams];
    writeFileSync(path, JSON.stringify({ defaults: { languageCode: 'en-US' }, rules }));
    const { dir: many, template: big } = await slsPackage([], { PIPELINE_CONFIG_PATH: path });
    const byNumber = ([a]: [string, unknown], [b]: [string, unknown]) => a.localeCompare(b, 'en', { numeric: true });
    const managedOf = (role: string) => ofType(big, 'AWS::IAM::ManagedPolicy').filter(([id]) => id.startsWith(`${role}Policy`)).sort(byNumber);
    expect(managedOf('StartRole').length).toBeGreaterThan(1);
    expect(ofType(big, 'AWS::IAM::ManagedPolicy').map(([id]) => id.replace(/Policy\d+$/, ''))).toEqual(expect.arrayContaining(['StartRole', 'VerifyRole', 'SweepRole']));
    for (const [role, ending] of [['StartRole', 'start'], ['VerifyRole', 'verify'], ['SweepRole', 'sweep']]) {
      const managed = managedOf(role!);
      expect(managed.map(([id]) => id)).toEqual(managed.map((_, i) => `${role}Policy${i + 1}`));
      expect(big.Resources[role!]!.Properties.ManagedPolicyArns).toEqual(managed.map(([id]) => ({ Ref: id })));
      expect(managed.map(([, policy]) => policy.Properties.ManagedPolicyName)).toEqual(managed.map((_, i) => `transcribe-kms-pipeline-dev-us-east-1-${ending}-${i + 1}`));
    }
    // Every key is still allowed to the start role, inline or managed, and the verifiers keep their guards inline.
    const startText = JSON.stringify([big.Resources.StartRole, ...managedOf('StartRole').map(([, policy]) => policy)]);
    for (const team of teams) expect(startText).toContain(team.kmsKey);
    for (const role of ['VerifyRole', 'SweepRole']) {
      expect(statements(big, role).filter((s) => s.Effect === 'Deny').map((s) => s.Sid)).toEqual(['VerdictsOnlyFromOwnCode', 'VerdictsOnlyFromFunctionCode']);
    }
    const lint = await cfnLint(many);
    if (lint === 'cfn-lint not installed' && process.env.CI !== 'true') return;
    expect(lint).toBe('clean');
  }, 120_000);

  it('refuses a config that needs more S3 notifications than a bucket takes, before anything is deployed', async () => {
    const failure = await packageRefusal({ defaults: { languageCode: 'en-US' }, rules: Array.from({ length: 101 }, (_, i) => ({ prefix: `site-${i}/` })) });
    expect(failure).toContain("the config's 101 rules need 101 S3 notifications on the input bucket, one per input prefix not under another rule's, over S3's 100 per bucket; put the prefixes under fewer parents");
    expect(failure).not.toMatch(/\n\s+at \S/);
  }, 120_000);

  it('refuses a config whose start role would pass even its managed policies, before anything is deployed', async () => {
    const rules = [{ prefix: 'teams/' }, ...Array.from({ length: 260 }, (_, i) => ({ prefix: `teams/team-${i}/`, kmsKey: `arn:aws:kms:us-east-1:123456789012:key/${String(i).padStart(8, '0')}-1111-4222-8333-444455556666` }))];
    const failure = await packageRefusal({ defaults: { languageCode: 'en-US' }, rules });
    expect(failure).toMatch(/the start role's policies would be up to \d+ characters once deployed, more than IAM lets one role hold \(10240 inline, and 10 managed policies of 6144\); its largest statement is .* each distinct key \(260\) .*: use fewer of whichever is largest/);
    expect(failure).not.toMatch(/\n\s+at \S/);
  }, 120_000);
});

describe('serverless package with deferred execution', () => {
  it('creates the data access role Transcribe assumes, lets the start function pass it, and tells the function', async () => {
    const config = JSON.parse(readFileSync(repoPath('pipeline.config.json'), 'utf8'));
    const path = join(mkdtempSync(join(tmpdir(), 'tkp-deferred-')), 'deferred.json');
    // Medical jobs have no deferred execution (the config refuses the pair), so this config leaves the medical rule out.
    writeFileSync(path, JSON.stringify({ ...config, rules: config.rules.filter((rule: { jobType?: string }) => rule.jobType !== 'medical'), deferredExecution: true }));
    const { template } = await slsPackage([], { PIPELINE_CONFIG_PATH: path });
    const role = template.Resources.DataAccessRole?.Properties;
    expect(role.RoleName).toBe('transcribe-kms-pipeline-dev-us-east-1-transcribe-data');
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: ['transcribe.amazonaws.com'] });
    const actions = role.Policies[0].PolicyDocument.Statement.flatMap((s: any) => s.Action);
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt']));
    const pass = statements(template, 'StartRole').find((s) => s.Action.includes('iam:PassRole'));
    expect(pass.Resource).toEqual({ 'Fn::GetAtt': ['DataAccessRole', 'Arn'] });
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'transcribe.amazonaws.com' } });
    expect(role.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:transcribe:${AWS::Region}:${AWS::AccountId}:*' } },
    });
    const decrypt = role.Policies[0].PolicyDocument.Statement.filter((s: any) => s.Action.includes('kms:Decrypt'));
    for (const s of decrypt) expect(s.Condition.StringEquals['kms:ViaService']).toEqual({ 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' });
    const start = ofType(template, 'AWS::Lambda::Function').find(([name]) => name === 'StartLambdaFunction')?.[1];
    expect(start?.Properties.Environment.Variables.DATA_ACCESS_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['DataAccessRole', 'Arn'] });
  }, 120_000);
});
