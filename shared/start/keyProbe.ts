/**
 * Proves, before any job runs, that an identity can use a rule's key the way Transcribe and S3
 * will: DescribeKey (the start function resolves every key with it), then KMS `DryRun` calls of
 * GenerateDataKey and Encrypt with the rule's encryption context. KMS evaluates a DryRun against
 * the key policy, IAM, grants, SCPs and permission boundaries and answers
 * DryRunOperationException when the real call would succeed, without using the key. The
 * preflight function runs this inside Lambda with the start role; `tkp check` without
 * `--deployed` runs it as the caller.
 */
import type { KeyMetadata } from '@aws-sdk/client-kms';
import { awsErrorName, isTransientAwsError } from '../aws/awsErrors';
import { describeError } from '../aws/errors';
import { keyLookupError, usableKeyArn } from '../config/keyResolution';
import { describeRule } from '../config/describeRule';
import type { Rule } from '../config/rule';

/** The KMS operations S3 performs with the writer's credentials for an SSE-KMS PutObject. Both support DryRun. */
export const DRY_RUN_OPERATIONS = ['GenerateDataKey', 'Encrypt'] as const;
export type DryRunOperation = (typeof DRY_RUN_OPERATIONS)[number];

/** The key policy statement README.md gives another account to add ("The key policy another account must grant"). */
export const CROSS_ACCOUNT_STATEMENT_SID = 'TranscribeKmsPipelineEncrypt';

export interface KeyProbeDependencies {
  describeKey(keyId: string): Promise<KeyMetadata | undefined>;
  /** Calls the operation with DryRun: true; resolves only when the endpoint ignored DryRun and performed it. */
  dryRun(operation: DryRunOperation, keyArn: string, encryptionContext: Record<string, string> | undefined): Promise<void>;
}

export interface ProbeCheck {
  ok: boolean;
  /** What was found when ok; otherwise the fix, in words. */
  detail: string;
}

export interface KeyProbe {
  rulePrefix: string;
  /** Undefined when the rule names no key (nothing to probe). */
  key?: ProbeCheck & { arn?: string; account?: string };
  dryRuns: Partial<Record<DryRunOperation, ProbeCheck>>;
}

/**
 * A key whose material was imported, and then deleted or expired: KMS calls it PendingImport, and
 * no call enables it; only importing the same material again does. The start function's dead
 * letter (usableKeyArn) says so in a few words; check names the commands.
 */
function pendingImportError(rule: Rule, key: string, arn: string): Error {
  return new Error(
    `${describeRule(rule)}: kmsKey ${key} (${arn}) is PendingImport: it has no key material, deleted or expired, so every job under the rule fails; ` +
      `import the same material again (aws kms get-parameters-for-import --key-id ${arn}, then aws kms import-key-material with the material your team keeps; the transcripts under the key stay unreadable until that material is back)`,
  );
}

/** Probes one rule's key as `identity` (an ARN or a description, used in the fixes). */
export async function probeRuleKey(deps: KeyProbeDependencies, rule: Rule, identity: { arn: string; account: string }): Promise<KeyProbe> {
  if (!rule.kmsKey) return { rulePrefix: rule.prefix, dryRuns: {} };
  const refused = (error: unknown): KeyProbe => ({ rulePrefix: rule.prefix, key: { ok: false, detail: (error as Error).message }, dryRuns: {} });
  let metadata: KeyMetadata | undefined;
  try {
    metadata = await deps.describeKey(rule.kmsKey.value);
  } catch (error) {
    return refused(keyLookupError(rule, rule.kmsKey, error));
  }
  let arn: string;
  let account: string;
  try {
    ({ arn, account } = usableKeyArn(rule, rule.kmsKey, metadata));
  } catch (error) {
    return refused(metadata?.KeyState === 'PendingImport' && metadata.Arn ? pendingImportError(rule, rule.kmsKey.value, metadata.Arn) : error);
  }
  const dryRuns: KeyProbe['dryRuns'] = {};
  for (const operation of DRY_RUN_OPERATIONS) {
    try {
      await deps.dryRun(operation, arn, rule.encryptionContext);
      dryRuns[operation] = { ok: true, detail: `${operation} succeeded (the endpoint ignored DryRun)` };
    } catch (error) {
      dryRuns[operation] = dryRunVerdict(operation, error, { arn, account }, identity);
    }
  }
  return { rulePrefix: rule.prefix, key: { ok: true, detail: arn, arn, account }, dryRuns };
}

/**
 * What a DryRun's answer means, with the fix for each refusal. A key in another account needs
 * its key policy to allow the identity (IAM alone never grants another account's key).
 */
export function dryRunVerdict(operation: DryRunOperation, error: unknown, key: { arn: string; account: string }, identity: { arn: string; account: string }): ProbeCheck {
  const name = awsErrorName(error);
  if (name === 'DryRunOperationException') return { ok: true, detail: `kms:${operation} allowed for ${identity.arn}` };
  if (isTransientAwsError(error)) return { ok: false, detail: `kms:${operation} could not be checked (${describeError(error)}); run the check again` };
  switch (name) {
    case 'AccessDeniedException':
      return {
        ok: false,
        detail:
          key.account !== identity.account
            ? `kms:${operation} on ${key.arn} is refused for ${identity.arn}; account ${key.account} must add the statement ` +
              `"${CROSS_ACCOUNT_STATEMENT_SID}" to the key's policy (README, "The key policy another account must grant")`
            : `kms:${operation} on ${key.arn} is refused for ${identity.arn}; allow it in the key policy ` +
              `(the stack's IAM policy already allows it), and check SCPs and permission boundaries`,
      };
    case 'DisabledException':
      return { ok: false, detail: `${key.arn} is disabled; enable it (kms enable-key)` };
    case 'KMSInvalidStateException':
      return { ok: false, detail: `${key.arn} cannot be used in its current state (${describeError(error)}); cancel a pending deletion or finish the import` };
    case 'InvalidKeyUsageException':
      return { ok: false, detail: `${key.arn} cannot ${operation}: it must be a symmetric ENCRYPT_DECRYPT key` };
    case 'NotFoundException':
      return { ok: false, detail: `${key.arn} was not found by kms:${operation}; check the key exists in this region` };
    default:
      return { ok: false, detail: `kms:${operation} on ${key.arn} failed: ${describeError(error)}` };
  }
}
