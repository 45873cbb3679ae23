/**
 * `tkp check`'s rows for each rule of the config: its key (resolved, then each DryRun as the start
 * role or the caller, keyProbe.ts's probes) and its output bucket (read as the verifier reads a
 * bucket's default encryption).
 */
import type { BucketDefaultEncryption } from '../../config/expectedEncryption';
import type { Rule } from '../../config/rule';
import { DRY_RUN_OPERATIONS, type KeyProbe } from '../../start/keyProbe';
import type { CheckRow } from './checkRow';

/** The rows for one rule's key: resolution, then each DryRun. */
export function keyRows(rule: Rule, probe: KeyProbe | undefined, dryRunIdentity: string): CheckRow[] {
  if (!rule.kmsKey) return [{ rule: rule.prefix, check: 'key', ok: true, detail: 'no key named: the output bucket\'s default encryption applies' }];
  if (!probe?.key) {
    return [{ rule: rule.prefix, check: 'key', ok: false, detail: 'the deployed config has no such rule; deploy this config, then check again' }];
  }
  const rows: CheckRow[] = [{ rule: rule.prefix, check: 'key', ok: probe.key.ok, detail: probe.key.ok ? `${rule.kmsKey.value} -> ${probe.key.detail} (Enabled, SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)` : probe.key.detail }];
  if (!probe.key.ok) return rows;
  for (const operation of DRY_RUN_OPERATIONS) {
    const result = probe.dryRuns[operation];
    const context = rule.encryptionContext ? ` with context ${JSON.stringify(rule.encryptionContext)}` : '';
    rows.push({
      rule: rule.prefix,
      check: `kms:${operation} (DryRun)`,
      ok: result?.ok ?? false,
      detail: result ? (result.ok ? `${result.detail}${context}` : result.detail) : `not checked as ${dryRunIdentity}`,
    });
  }
  return rows;
}

export type BucketDefaultAnswer = { ok: BucketDefaultEncryption } | { error: string };

/**
 * Whether a rule's output bucket works with the rule. A rule with a key overrides the bucket's
 * default; a rule without one gets whatever the default is, and the verifier demands exactly
 * that, so the check says what it will be. A bucket whose default cannot be read fails both:
 * Transcribe cannot write there, or the verifier cannot judge.
 */
export function outputBucketRow(rule: Rule, bucket: string, answer: BucketDefaultAnswer): CheckRow {
  const row = { rule: rule.prefix, check: 'output bucket' };
  if ('error' in answer) return { ...row, ok: false, detail: answer.error };
  const found = answer.ok;
  const described = found.serverSideEncryption === 'AES256' ? 'SSE-S3' : `${found.serverSideEncryption} under ${found.kmsKeyArn}`;
  return rule.kmsKey
    ? { ...row, ok: true, detail: `s3://${bucket}: the rule's key overrides the bucket default (${described})` }
    : {
        ...row,
        ok: true,
        detail:
          `s3://${bucket}: transcripts get the bucket default, ${described}, and the verifier demands it` +
          (found.serverSideEncryption === 'AES256'
            ? ''
            : '; Transcribe writes them with the start role, which the stack allows that key through S3 for this bucket (a key in another account, or one whose key policy does not let IAM policies grant its use, must allow it too)'),
      };
}
