import { describe, expect, it } from 'vitest';
import { deployedConfigRow } from '../../../../shared/cli/check/deployedConfig';

const STACK = 'transcribe-kms-pipeline-dev';

describe('deployedConfigRow', () => {
  it('says whether the config checked is the deployed one, and passes either way: checking a config before its deploy is what tkp check is for', () => {
    expect(deployedConfigRow(STACK, './pipeline.config.json', 'f1', { fingerprint: 'f1' })).toEqual({
      rule: '(stack)',
      check: 'deployed config',
      ok: true,
      detail: `${STACK} was deployed with this config (fingerprint f1)`,
    });
    expect(deployedConfigRow(STACK, './pipeline.config.json', 'f2', { fingerprint: 'f1' })).toEqual({
      rule: '(stack)',
      check: 'deployed config',
      ok: true,
      detail:
        `${STACK} was deployed with another config (fingerprint f1, not f2): where a row below fails on what the stack derives from the config ` +
        "(the input bucket's notifications, the transcript bucket's policy, the stack's rules, roles or functions), that may be what serverless deploy of this config changes; check again after the deploy",
    });
  });

  it('is skipped, saying why, when the deployed config is not known', () => {
    expect(deployedConfigRow(STACK, 'cfg.json', 'f1', { unknown: `stack ${STACK} records no config fingerprint (deployed by an earlier version)` })).toEqual({
      rule: '(stack)',
      check: 'deployed config',
      ok: true,
      skipped: true,
      detail: `whether ${STACK} runs cfg.json is not known: stack ${STACK} records no config fingerprint (deployed by an earlier version)`,
    });
  });
});
