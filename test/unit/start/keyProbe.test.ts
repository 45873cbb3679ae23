import type { KeyMetadata } from '@aws-sdk/client-kms';
import { describe, expect, it, vi } from 'vitest';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import { CROSS_ACCOUNT_STATEMENT_SID, dryRunVerdict, probeRuleKey, type KeyProbeDependencies } from '../../../shared/start/keyProbe';
import { ACCOUNT, keyArn, OTHER_ACCOUNT } from '../../support/fixtures';

const { rules } = validatePipelineConfig(
  {
    defaults: { languageCode: 'en-US' },
    rules: [
      { prefix: 'calls/', kmsKey: 'alias/calls', encryptionContext: { department: 'support' } },
      { prefix: 'acme/', kmsKey: `arn:aws:kms:us-east-1:${OTHER_ACCOUNT}:alias/acme`, account: OTHER_ACCOUNT },
      { prefix: 'public/' },
    ],
  },
  { region: 'us-east-1' },
);
const [calls, acme, pub] = rules as [(typeof rules)[number], (typeof rules)[number], (typeof rules)[number]];
const START_ROLE = { arn: `arn:aws:iam::${ACCOUNT}:role/transcribe-kms-pipeline-dev-us-east-1-start`, account: ACCOUNT };
const awsError = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
const metadata = (arn: string, account: string, overrides: Partial<KeyMetadata> = {}): KeyMetadata => ({ KeyId: arn, Arn: arn, AWSAccountId: account, KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', ...overrides });

function deps(overrides: Partial<KeyProbeDependencies> = {}): KeyProbeDependencies {
  return {
    describeKey: vi.fn(async (keyId: string) => (keyId.includes(OTHER_ACCOUNT) ? metadata(keyArn('acme-key', OTHER_ACCOUNT), OTHER_ACCOUNT) : metadata(keyArn('calls-key'), ACCOUNT))),
    dryRun: vi.fn(async () => {
      throw awsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
    }),
    ...overrides,
  };
}

describe('probeRuleKey', () => {
  it('resolves the key, then dry-runs GenerateDataKey and Encrypt on the ARN with the rule\'s encryption context', async () => {
    const d = deps();
    const probe = await probeRuleKey(d, calls, START_ROLE);
    expect(d.describeKey).toHaveBeenCalledWith('alias/calls');
    expect(vi.mocked(d.dryRun).mock.calls).toEqual([
      ['GenerateDataKey', keyArn('calls-key'), { department: 'support' }],
      ['Encrypt', keyArn('calls-key'), { department: 'support' }],
    ]);
    expect(probe).toEqual({
      rulePrefix: 'calls/',
      key: { ok: true, detail: keyArn('calls-key'), arn: keyArn('calls-key'), account: ACCOUNT },
      dryRuns: {
        GenerateDataKey: { ok: true, detail: `kms:GenerateDataKey allowed for ${START_ROLE.arn}` },
        Encrypt: { ok: true, detail: `kms:Encrypt allowed for ${START_ROLE.arn}` },
      },
    });
  });

  it('probes nothing for a rule without a key', async () => {
    const d = deps();
    expect(await probeRuleKey(d, pub, START_ROLE)).toEqual({ rulePrefix: 'public/', dryRuns: {} });
    expect(d.describeKey).not.toHaveBeenCalled();
  });

  it('stops at a disabled key, with the fix, and makes no DryRun call', async () => {
    const d = deps({ describeKey: vi.fn(async () => metadata(keyArn('calls-key'), ACCOUNT, { KeyState: 'Disabled' })) });
    const probe = await probeRuleKey(d, calls, START_ROLE);
    expect(probe.key?.ok).toBe(false);
    expect(probe.key?.detail).toMatch(/rules\[0\] \(prefix "calls\/"\): kmsKey alias\/calls .* is Disabled \(enable it\)/);
    expect(d.dryRun).not.toHaveBeenCalled();
  });

  it('stops at a key whose imported material is gone (PendingImport) with the fix that applies, importing it again, not enabling it', async () => {
    const d = deps({ describeKey: vi.fn(async () => metadata(keyArn('calls-key'), ACCOUNT, { KeyState: 'PendingImport' })) });
    const probe = await probeRuleKey(d, calls, START_ROLE);
    expect(probe.key).toEqual({
      ok: false,
      detail:
        `rules[0] (prefix "calls/"): kmsKey alias/calls (${keyArn('calls-key')}) is PendingImport: it has no key material, deleted or expired, so every job under the rule fails; ` +
        `import the same material again (aws kms get-parameters-for-import --key-id ${keyArn('calls-key')}, then aws kms import-key-material with the material your team keeps; the transcripts under the key stay unreadable until that material is back)`,
    });
    expect(probe.key?.detail).not.toContain('enable');
    expect(d.dryRun).not.toHaveBeenCalled();
  });

  it('reports a key DescribeKey cannot find, naming the rule', async () => {
    const probe = await probeRuleKey(deps({ describeKey: vi.fn(async () => Promise.reject(awsError('NotFoundException'))) }), calls, START_ROLE);
    expect(probe.key).toEqual({ ok: false, detail: expect.stringMatching(/prefix "calls\/".*was not found/) });
  });

  it('names the key\'s account and the README key policy statement when another account\'s key refuses the start role', async () => {
    const d = deps({ dryRun: vi.fn(async () => Promise.reject(awsError('AccessDeniedException', 'not authorized'))) });
    const probe = await probeRuleKey(d, acme, START_ROLE);
    expect(probe.dryRuns.GenerateDataKey).toEqual({
      ok: false,
      detail: expect.stringContaining(`account ${OTHER_ACCOUNT} must add the statement "${CROSS_ACCOUNT_STATEMENT_SID}" to the key's policy`),
    });
    expect(probe.dryRuns.Encrypt?.detail).toContain(START_ROLE.arn);
  });
});

describe('dryRunVerdict', () => {
  const key = { arn: keyArn('k'), account: ACCOUNT };
  it.each([
    ['DisabledException', /is disabled; enable it/],
    ['KMSInvalidStateException', /cancel a pending deletion/],
    ['InvalidKeyUsageException', /symmetric ENCRYPT_DECRYPT/],
    ['AccessDeniedException', /allow it in the key policy/],
  ])('turns %s into its fix', (name, fix) => {
    expect(dryRunVerdict('Encrypt', awsError(name), key, START_ROLE)).toEqual({ ok: false, detail: expect.stringMatching(fix) });
  });

  it('asks to run again after a transient error rather than failing the key', () => {
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    expect(dryRunVerdict('Encrypt', throttled, key, START_ROLE)).toEqual({ ok: false, detail: expect.stringContaining('run the check again') });
  });
});
