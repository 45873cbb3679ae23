import { describe, expect, it, vi } from 'vitest';
import { createCliClients, deployedConfigFingerprint, endpointUrlProblem, flagAttribute, missingProfileProblem, namedTargets, queueArnFromUrl, resolveStackTargets, stackOutputsReader } from '../../../shared/cli/cliAws';

const OUTPUTS = { InputBucketName: 'in-from-stack', TranscriptBucketName: 'out-from-stack', StartQueueUrl: 'https://sqs/q', PreflightFunctionName: 'fn' };

describe('resolveStackTargets', () => {
  it('takes flags over the environment, and reads the stack only for what is still missing', async () => {
    const outputs = vi.fn(async () => OUTPUTS);
    const targets = await resolveStackTargets({ inputBucket: 'in-flag', stage: 'prod' }, { inputBucket: 'in-env', transcriptBucket: 'out-env' }, ['startQueueUrl'], outputs);
    expect(targets).toEqual({ stage: 'prod', stackName: 'transcribe-kms-pipeline-prod', jobNamePrefix: 'tkp.prod.', inputBucket: 'in-flag', transcriptBucket: 'out-env', startQueueUrl: 'https://sqs/q' });
    expect(outputs).toHaveBeenCalledWith('transcribe-kms-pipeline-prod');
  });

  it('makes no CloudFormation call when everything is named, and defaults the stage as serverless does', async () => {
    const outputs = vi.fn(async () => OUTPUTS);
    const targets = await resolveStackTargets({}, { inputBucket: 'a', transcriptBucket: 'b' }, [], outputs);
    expect(targets.stage).toBe('dev');
    expect(outputs).not.toHaveBeenCalled();
  });

  it('finds the dead-letter queues tkp redrive reads under the outputs the template declares', async () => {
    const outputs = vi.fn(async () => ({ ...OUTPUTS, StartDeadLetterQueueUrl: 'https://sqs/start-dlq', VerifyDeadLetterQueueUrl: 'https://sqs/verify-dlq' }));
    const targets = await resolveStackTargets({}, {}, ['startQueueUrl', 'startDeadLetterQueueUrl', 'verifyDeadLetterQueueUrl'], outputs);
    expect(targets).toMatchObject({ startQueueUrl: 'https://sqs/q', startDeadLetterQueueUrl: 'https://sqs/start-dlq', verifyDeadLetterQueueUrl: 'https://sqs/verify-dlq' });
    await expect(resolveStackTargets({}, {}, ['verifyDeadLetterQueueUrl'], async () => OUTPUTS)).rejects.toThrow(
      'stack transcribe-kms-pipeline-dev has no output VerifyDeadLetterQueueUrl; redeploy it with this version, or pass --verify-dlq-url',
    );
  });

  it('refuses a stage no deploy could have made, naming where it came from, before any AWS call', async () => {
    const outputs = vi.fn(async () => OUTPUTS);
    await expect(resolveStackTargets({ stage: '' }, { stage: 'prod' }, [], outputs)).rejects.toThrow(
      '--stage "" is empty; pass the stage you deployed (serverless deploy --stage NAME, default dev) with --stage NAME or TKP_STAGE',
    );
    expect(() => namedTargets({}, { stage: 'team/a' })).toThrow(
      'TKP_STAGE "team/a" is not a stage serverless deploys: a stage name takes only ASCII letters, digits and -; pass the stage you deployed',
    );
    expect(() => namedTargets({ stage: 'qa_1' }, { stage: 'prod' })).toThrow('--stage "qa_1" is not a stage serverless deploys');
    expect(namedTargets({ stage: 'Prod-2' }, {}).stage).toBe('Prod-2');
    expect(outputs).not.toHaveBeenCalled();
  });

  it('takes each resource from its flag as commander keeps it (--start-dlq-url and --verify-dlq-url too), before the environment', async () => {
    // `tkp redrive --start-dlq-url URL` arrives as { startDlqUrl: URL }: it was ignored, and the stack's output asked for.
    const flags = { startDlqUrl: 'https://sqs/flag-dlq', verifyDlqUrl: 'https://sqs/flag-verify-dlq', startQueueUrl: 'https://sqs/flag-q', inputBucket: 'in', transcriptBucket: 'out' };
    const env = { startDeadLetterQueueUrl: 'https://sqs/env-dlq', verifyDeadLetterQueueUrl: 'https://sqs/env-verify-dlq' };
    expect(namedTargets(flags, env)).toMatchObject({ startDeadLetterQueueUrl: 'https://sqs/flag-dlq', verifyDeadLetterQueueUrl: 'https://sqs/flag-verify-dlq', startQueueUrl: 'https://sqs/flag-q' });
    const outputs = vi.fn(async () => OUTPUTS);
    const targets = await resolveStackTargets(flags, {}, ['startQueueUrl', 'startDeadLetterQueueUrl', 'verifyDeadLetterQueueUrl'], outputs);
    expect(targets).toMatchObject({ startDeadLetterQueueUrl: 'https://sqs/flag-dlq', verifyDeadLetterQueueUrl: 'https://sqs/flag-verify-dlq' });
    expect(outputs).not.toHaveBeenCalled();
    expect(flagAttribute('startDeadLetterQueueUrl')).toBe('startDlqUrl');
    expect(flagAttribute('preflightFunction')).toBe('preflightFunction');
  });

  it('names the flag to pass when the stack lacks an output (an older deploy)', async () => {
    await expect(resolveStackTargets({}, {}, ['preflightFunction'], async () => ({ InputBucketName: 'a', TranscriptBucketName: 'b' }))).rejects.toThrow(
      'stack transcribe-kms-pipeline-dev has no output PreflightFunctionName; redeploy it with this version, or pass --preflight-function',
    );
  });
});

describe('createCliClients', () => {
  it('names a region no AWS service has, and an endpoint that is no http(s) URL, before any call', async () => {
    await expect(createCliClients({ region: 'us east' })).rejects.toThrow('--region "us east" is not an AWS region name; pass one such as us-east-1 or eu-west-1');
    await expect(createCliClients({ region: 'useast1' })).rejects.toThrow('--region "useast1" is not an AWS region name');
    await expect(createCliClients({ region: 'eu-west-1', endpointUrl: 'notaurl' })).rejects.toThrow('--endpoint-url "notaurl" is not an http:// or https:// URL; pass one such as http://127.0.0.1:4566');
    await expect(createCliClients({ region: 'eu-west-1' }, { endpointUrl: 'ftp://x' })).rejects.toThrow('AWS_ENDPOINT_URL "ftp://x" is not an http:// or https:// URL');
    expect((await createCliClients({ region: 'us-gov-west-1' })).region).toBe('us-gov-west-1');
    expect((await createCliClients({ region: 'eusc-de-east-1' })).region).toBe('eusc-de-east-1');
    // An emulator may go by any region name a host name can carry.
    expect((await createCliClients({ region: 'local', endpointUrl: 'http://127.0.0.1:4566' })).region).toBe('local');
    expect(endpointUrlProblem('https://s3.eu-west-1.amazonaws.com')).toBeNull();
  });
});

describe('deployedConfigFingerprint', () => {
  const answering = (answer: () => unknown) => ({ region: 'eu-west-1', cloudFormation: { send: vi.fn(async () => answer()) } }) as any;
  const refusing = (name: string, message: string) => answering(() => { throw Object.assign(new Error(message), { name }); });

  it('reads the stack\'s ConfigFingerprint output, and says why it is not known instead of stopping the command', async () => {
    expect(await deployedConfigFingerprint(answering(() => ({ Stacks: [{ Outputs: [{ OutputKey: 'ConfigFingerprint', OutputValue: 'f'.repeat(32) }] }] })), 'tkp-prod')).toEqual({ fingerprint: 'f'.repeat(32) });
    expect(await deployedConfigFingerprint(answering(() => ({ Stacks: [{ Outputs: [{ OutputKey: 'InputBucketName', OutputValue: 'in' }] }] })), 'tkp-prod')).toEqual({
      unknown: 'stack tkp-prod records no config fingerprint (deployed by an earlier version)',
    });
    expect(await deployedConfigFingerprint(refusing('ValidationError', 'Stack with id tkp-prod does not exist'), 'tkp-prod')).toEqual({ unknown: 'stack tkp-prod is not deployed in eu-west-1' });
    expect(await deployedConfigFingerprint(refusing('AccessDenied', 'not authorized to perform: cloudformation:DescribeStacks'), 'tkp-prod')).toEqual({
      unknown: 'access denied: not authorized to perform: cloudformation:DescribeStacks',
    });
  });

  it('finds the resources and the fingerprint in one DescribeStacks', async () => {
    const clients = answering(() => ({ Stacks: [{ Outputs: [{ OutputKey: 'InputBucketName', OutputValue: 'in' }, { OutputKey: 'TranscriptBucketName', OutputValue: 'out' }, { OutputKey: 'ConfigFingerprint', OutputValue: 'f1' }] }] }));
    const targets = await resolveStackTargets({ stage: 'prod' }, {}, [], stackOutputsReader(clients));
    expect(targets).toMatchObject({ inputBucket: 'in', transcriptBucket: 'out' });
    expect(await deployedConfigFingerprint(clients, targets.stackName)).toEqual({ fingerprint: 'f1' });
    expect(clients.cloudFormation.send).toHaveBeenCalledTimes(1);
  });
});

describe('missingProfileProblem', () => {
  const files = { configFile: { default: { region: 'us-east-1' }, work: { sso_session: 'corp' } }, credentialsFile: { ci: { aws_access_key_id: 'a' } } };

  it('accepts a profile from either file', () => {
    expect(missingProfileProblem('work', files, '--profile')).toBeUndefined();
    expect(missingProfileProblem('ci', files, 'AWS_PROFILE')).toBeUndefined();
  });

  it('names a profile neither file holds, where it came from, and the profiles there are', () => {
    expect(missingProfileProblem('wrok', files, '--profile')).toBe(
      '--profile "wrok" is in neither the AWS config file nor the credentials file (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE); ' +
        'the profiles there are "ci", "default", "work"',
    );
    expect(missingProfileProblem('x', {}, 'AWS_PROFILE')).toMatch(/^AWS_PROFILE "x" is in neither .*; there are no profiles there: run `aws configure --profile NAME` or `aws configure sso`$/);
  });
});

describe('queueArnFromUrl', () => {
  it('derives the queue ARN from its URL, in AWS and in an emulator', () => {
    expect(queueArnFromUrl('https://sqs.eu-west-1.amazonaws.com/123456789012/tkp-start', 'eu-west-1')).toBe('arn:aws:sqs:eu-west-1:123456789012:tkp-start');
    expect(queueArnFromUrl('http://127.0.0.1:4566/123456789012/tkp-start', 'us-east-1')).toBe('arn:aws:sqs:us-east-1:123456789012:tkp-start');
    expect(queueArnFromUrl('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/tkp-start', 'cn-north-1')).toBe('arn:aws-cn:sqs:cn-north-1:123456789012:tkp-start');
  });
});
