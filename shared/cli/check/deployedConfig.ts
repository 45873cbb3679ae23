/**
 * `tkp check`'s "deployed config" row: whether the stack was deployed with the config being
 * checked (the fingerprint its ConfigFingerprint output records). Before a deploy it is not, and
 * the rows that compare the stack with the config (the input bucket's notifications, the
 * transcript bucket's policy, the rules' and roles' statements) then show what the deploy will
 * change rather than drift; this row says which case the reader is in. It passes either way: a
 * config checked before its deploy is what tkp check is for.
 */
import { STACK_ROW, type CheckRow } from './checkRow';

export function deployedConfigRow(stackName: string, configPath: string, fingerprint: string, deployed: { fingerprint: string } | { unknown: string }): CheckRow {
  const row = { rule: STACK_ROW, check: 'deployed config', ok: true };
  if ('unknown' in deployed) return { ...row, skipped: true, detail: `whether ${stackName} runs ${configPath} is not known: ${deployed.unknown}` };
  if (deployed.fingerprint === fingerprint) return { ...row, detail: `${stackName} was deployed with this config (fingerprint ${fingerprint})` };
  return {
    ...row,
    detail:
      `${stackName} was deployed with another config (fingerprint ${deployed.fingerprint}, not ${fingerprint}): where a row below fails on what the stack derives from the config ` +
      '(the input bucket\'s notifications, the transcript bucket\'s policy, the stack\'s rules, roles or functions), that may be what serverless deploy of this config changes; check again after the deploy',
  };
}
