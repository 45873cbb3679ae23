import { DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT, keyArn, lambdaContext, OTHER_ACCOUNT } from '../support/fixtures';
import { loadHandler } from '../support/handlerEnv';

const kms = mockClient(KMSClient);
const START_ROLE = `arn:aws:iam::${ACCOUNT}:role/transcribe-kms-pipeline-dev-us-east-1-start`;
const ACME_KEY = keyArn('acme-key', OTHER_ACCOUNT);
const kmsError = (name: string) => Object.assign(new Error(name), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
const preflight = () => loadHandler(async () => (await import('../../functions/preflight')).handler, { PREFLIGHT_ROLE_ARN: START_ROLE });

describe('preflight handler', () => {
  beforeEach(() => {
    kms.reset();
    kms.on(DescribeKeyCommand).callsFake(({ KeyId }: { KeyId: string }) => {
      const account = KeyId.includes(OTHER_ACCOUNT) ? OTHER_ACCOUNT : ACCOUNT;
      const arn = account === OTHER_ACCOUNT ? ACME_KEY : keyArn(KeyId.replace(/\W/g, '-').slice(-20));
      return { KeyMetadata: { KeyId, Arn: arn, AWSAccountId: account, KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' } };
    });
    kms.on(GenerateDataKeyCommand).rejects(kmsError('DryRunOperationException'));
    kms.on(EncryptCommand).rejects(kmsError('DryRunOperationException'));
    kms.on(GenerateDataKeyCommand, { KeyId: ACME_KEY }).rejects(kmsError('AccessDeniedException'));
    kms.on(EncryptCommand, { KeyId: ACME_KEY }).rejects(kmsError('AccessDeniedException'));
  });

  it('dry-runs GenerateDataKey and Encrypt for every key rule of the bundled config, with each rule\'s context, as the start role', async () => {
    const result = await (await preflight())({}, lambdaContext);
    const generate = kms.commandCalls(GenerateDataKeyCommand).map((c) => c.args[0].input);
    const encrypt = kms.commandCalls(EncryptCommand).map((c) => c.args[0].input);
    expect(generate).toHaveLength(7);
    expect(encrypt).toHaveLength(7);
    expect(generate.every((input) => input.DryRun === true && input.KeySpec === 'AES_256' && input.KeyId?.startsWith('arn:aws:kms:'))).toBe(true);
    expect(encrypt.every((input) => input.DryRun === true && input.Plaintext?.length === 1)).toBe(true);
    expect(generate[0]).toMatchObject({ EncryptionContext: { department: 'support' } });
    expect(result.identity).toBe(START_ROLE);
    expect(result.configFingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(result.probes.map((p) => [p.rulePrefix, p.key?.ok ?? null, p.dryRuns.GenerateDataKey?.ok ?? null])).toEqual([
      ['calls/', true, true],
      ['legal/', true, true],
      ['hr/', true, true],
      ['partners/', true, true],
      ['partners/acme/', true, false],
      ['public/', null, null],
      ['contact-centre/', true, true],
      ['clinic/', true, true],
    ]);
    // A Call Analytics rule has no encryption context (the API takes none); a medical rule's goes with its dry runs.
    expect(generate[5]?.EncryptionContext).toBeUndefined();
    expect(generate[6]).toMatchObject({ EncryptionContext: { department: 'clinic' } });
    expect(result.probes[4]?.dryRuns.Encrypt?.detail).toContain(`account ${OTHER_ACCOUNT} must add the statement "TranscribeKmsPipelineEncrypt"`);
  });

  it('fails its cold start, naming the variable, without PREFLIGHT_ROLE_ARN', async () => {
    await expect(loadHandler(async () => (await import('../../functions/preflight')).handler, { PREFLIGHT_ROLE_ARN: '' })).rejects.toThrow(/PREFLIGHT_ROLE_ARN is not set/);
  });
});
