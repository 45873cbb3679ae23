import type { KeyMetadata } from '@aws-sdk/client-kms';
import { describe, expect, it, vi } from 'vitest';
import { KeyNotUsableError, TransientAwsError } from '../../../shared/aws/errors';
import { createKeyResolver } from '../../../shared/config/keyResolution';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import type { Rule } from '../../../shared/config/rule';
import { keyArn } from '../../support/fixtures';

const ARN = keyArn('1234abcd-12ab-34cd-56ef-1234567890ab');
const { rules } = validatePipelineConfig(
  {
    defaults: { languageCode: 'en-US' },
    rules: [
      { prefix: 'a/', kmsKey: 'alias/a' },
      { prefix: 'b/', kmsKey: 'alias/a' },
      { prefix: 'x/', kmsKey: 'arn:aws:kms:us-east-1:222233334444:alias/acme', account: '222233334444' },
    ],
  },
  { region: 'us-east-1' },
);
const withKey = (rule: Rule | undefined) => rule as Rule & { kmsKey: NonNullable<Rule['kmsKey']> };
const enabled: KeyMetadata = { Arn: ARN, AWSAccountId: '123456789012', KeyId: 'k', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' };
const awsError = (name: string, status: number) => Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status } });

describe('createKeyResolver', () => {
  it('resolves an alias to the key ARN and calls DescribeKey once per key', async () => {
    const describe = vi.fn(async () => enabled);
    const resolve = createKeyResolver(describe);
    await expect(resolve(withKey(rules[0]))).resolves.toEqual({ arn: ARN, account: '123456789012' });
    await resolve(withKey(rules[1]));
    await resolve(withKey(rules[0]));
    expect(describe).toHaveBeenCalledTimes(1);
    expect(describe).toHaveBeenCalledWith('alias/a');
  });

  it.each([
    ['disabled', { KeyState: 'Disabled' }, /is Disabled \(enable it\)/],
    ['pending deletion', { KeyState: 'PendingDeletion' }, /is pending deletion/],
    // No call enables a key whose imported material was deleted or expired: only importing it again does.
    ['pending import', { KeyState: 'PendingImport' }, /is PendingImport \(import its key material again\)$/],
    ['asymmetric', { KeySpec: 'RSA_2048' }, /is a RSA_2048 key; Transcribe and S3 need a symmetric/],
    ['for signing', { KeyUsage: 'SIGN_VERIFY' }, /has usage SIGN_VERIFY; it must be ENCRYPT_DECRYPT/],
  ])('rejects a %s key, naming the rule and key', async (_label, change, message) => {
    const resolve = createKeyResolver(async () => ({ ...enabled, ...change }) as KeyMetadata);
    const error = await resolve(withKey(rules[1])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyNotUsableError);
    expect((error as Error).message).toMatch(/^rules\[1\] \(prefix "b\/"\): kmsKey alias\/a/);
    expect((error as Error).message).toMatch(message);
  });

  it('with anyKeyState (the verifier and the audit), resolves a disabled or pending-deletion key to its ARN, which still names what a transcript must be under', async () => {
    for (const state of ['Disabled', 'PendingDeletion']) {
      const resolve = createKeyResolver(async () => ({ ...enabled, KeyState: state }) as KeyMetadata, { anyKeyState: true });
      await expect(resolve(withKey(rules[0]))).resolves.toEqual({ arn: ARN, account: '123456789012' });
    }
    const missing = createKeyResolver(async () => Promise.reject(awsError('NotFoundException', 400)), { anyKeyState: true });
    await expect(missing(withKey(rules[0]))).rejects.toBeInstanceOf(KeyNotUsableError);
  });

  it('explains a missing key in another account', async () => {
    const resolve = createKeyResolver(async () => {
      throw awsError('NotFoundException', 400);
    });
    await expect(resolve(withKey(rules[2]))).rejects.toThrow(
      /kmsKey arn:aws:kms:us-east-1:222233334444:alias\/acme was not found in account 222233334444; .* key policy lets this function's role call kms:DescribeKey/,
    );
  });

  it('explains a refused DescribeKey', async () => {
    const resolve = createKeyResolver(async () => {
      throw awsError('AccessDeniedException', 400);
    });
    await expect(resolve(withKey(rules[2]))).rejects.toThrow(/kms:DescribeKey was denied; allow it for the start function's role in the key policy in account 222233334444/);
  });

  it('treats throttling as transient and asks again next time', async () => {
    const describe = vi.fn().mockRejectedValueOnce(awsError('ThrottlingException', 400)).mockResolvedValue(enabled);
    const resolve = createKeyResolver(describe);
    await expect(resolve(withKey(rules[0]))).rejects.toBeInstanceOf(TransientAwsError);
    await expect(resolve(withKey(rules[0]))).resolves.toMatchObject({ arn: ARN });
    expect(describe).toHaveBeenCalledTimes(2);
  });

  it('remembers a missing or disabled key for the failure TTL, then asks again', async () => {
    let now = 0;
    const describe = vi.fn().mockResolvedValueOnce({ ...enabled, KeyState: 'Disabled' }).mockResolvedValue(enabled);
    const resolve = createKeyResolver(describe, { failureTtlMs: 1000, now: () => now });
    await expect(resolve(withKey(rules[0]))).rejects.toBeInstanceOf(KeyNotUsableError);
    now = 500;
    await expect(resolve(withKey(rules[0]))).rejects.toBeInstanceOf(KeyNotUsableError);
    expect(describe).toHaveBeenCalledTimes(1);
    now = 1500;
    await expect(resolve(withKey(rules[0]))).resolves.toMatchObject({ arn: ARN });
    expect(describe).toHaveBeenCalledTimes(2);
  });
});
