import type { KeyMetadata } from '@aws-sdk/client-kms';
import { awsErrorName, isTransientAwsError } from '../aws/awsErrors';
import { describeError, KeyNotUsableError, TransientAwsError } from '../aws/errors';
import { isArnForm, type KeyReference } from '../aws/keyReference';
import { describeRule } from './describeRule';
import type { Rule } from './rule';

export interface ResolvedKey {
  /** The key ARN, which is what S3 reports in SSEKMSKeyId whatever form the writer used. */
  arn: string;
  account: string;
}

export type DescribeKey = (keyId: string) => Promise<KeyMetadata | undefined>;

/**
 * Checks that DescribeKey's answer is a key Transcribe can encrypt a transcript with. S3 SSE-KMS
 * only works with an enabled symmetric encryption key; anything else fails the job much later.
 */
export function usableKeyArn(rule: Rule, ref: KeyReference, metadata: KeyMetadata | undefined): ResolvedKey {
  const where = `${describeRule(rule)}: kmsKey ${ref.value}`;
  if (!metadata?.Arn || !metadata.AWSAccountId) {
    throw new KeyNotUsableError(`${where}: DescribeKey returned no key ARN`, ref.value);
  }
  const problems: string[] = [];
  if (metadata.KeyState !== 'Enabled') {
    problems.push(
      metadata.KeyState === 'PendingDeletion'
        ? 'is pending deletion (cancel the deletion to use it)'
        : `is ${metadata.KeyState ?? 'in an unknown state'} (${metadata.KeyState === 'PendingImport' ? 'import its key material again' : 'enable it'})`,
    );
  }
  const spec = metadata.KeySpec ?? metadata.CustomerMasterKeySpec;
  if (spec !== undefined && spec !== 'SYMMETRIC_DEFAULT') {
    problems.push(`is a ${spec} key; Transcribe and S3 need a symmetric (SYMMETRIC_DEFAULT) key`);
  }
  if (metadata.KeyUsage !== undefined && metadata.KeyUsage !== 'ENCRYPT_DECRYPT') {
    problems.push(`has usage ${metadata.KeyUsage}; it must be ENCRYPT_DECRYPT`);
  }
  if (problems.length > 0) {
    throw new KeyNotUsableError(`${where} (${metadata.Arn}) ${problems.join(' and ')}`, ref.value);
  }
  return { arn: metadata.Arn, account: metadata.AWSAccountId };
}

/** Turns a DescribeKey failure into an error that says what to grant or fix. */
export function keyLookupError(rule: Rule, ref: KeyReference, error: unknown): Error {
  const where = `${describeRule(rule)}: kmsKey ${ref.value}`;
  if (isTransientAwsError(error)) {
    return new TransientAwsError(`${where}: DescribeKey failed transiently (${describeError(error)})`, false, { cause: error });
  }
  const owner = isArnForm(ref) ? ref.account : undefined;
  switch (awsErrorName(error)) {
    case 'NotFoundException':
      return new KeyNotUsableError(
        `${where} was not found${owner ? ` in account ${owner}` : ''}; check that the key or alias exists in this region` +
          (owner ? ` and that its key policy lets this function's role call kms:DescribeKey` : ''),
        ref.value,
        { cause: error },
      );
    case 'AccessDeniedException':
      return new KeyNotUsableError(
        `${where}: kms:DescribeKey was denied; allow it for the start function's role` +
          (owner ? ` in the key policy in account ${owner}` : ' in its IAM policy and the key policy'),
        ref.value,
        { cause: error },
      );
    default:
      return new KeyNotUsableError(`${where} cannot be described: ${describeError(error)}`, ref.value, { cause: error });
  }
}

/** How long a resolved key ARN is trusted before DescribeKey is asked again. */
export const DEFAULT_KEY_CACHE_TTL_MS = 300_000;

/**
 * Resolves each configured key to its ARN, and asks DescribeKey again after `ttlMs`, so that an
 * alias pointed at another key is noticed within that time by the start function and the
 * verifier alike (both use the same TTL setting). A failed lookup is remembered for
 * `failureTtlMs` (a missing or disabled key included, so that re-enabling it takes effect
 * without a cold start) so that a burst of uploads under a broken rule does not call KMS per
 * record; a transient failure is forgotten at once.
 */
export function createKeyResolver(describe: DescribeKey, options: { ttlMs?: number; failureTtlMs?: number; now?: () => number; anyKeyState?: boolean } = {}) {
  const ttlMs = options.ttlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
  const failureTtlMs = options.failureTtlMs ?? 30_000;
  const now = options.now ?? Date.now;
  const lookups = new Map<string, { metadata: Promise<KeyMetadata | undefined>; at: number; failedAt?: number }>();

  function lookup(keyId: string): Promise<KeyMetadata | undefined> {
    const cached = lookups.get(keyId);
    const fresh = cached && (cached.failedAt === undefined ? now() - cached.at <= ttlMs : now() - cached.failedAt <= failureTtlMs);
    if (cached && fresh) return cached.metadata;
    const entry: { metadata: Promise<KeyMetadata | undefined>; at: number; failedAt?: number } = { metadata: describe(keyId), at: now() };
    lookups.set(keyId, entry);
    entry.metadata.catch((error: unknown) => {
      if (isTransientAwsError(error)) lookups.delete(keyId);
      else entry.failedAt = now();
    });
    return entry.metadata;
  }

  return async function resolveKey(rule: Rule & { kmsKey: KeyReference }): Promise<ResolvedKey> {
    let metadata: KeyMetadata | undefined;
    try {
      metadata = await lookup(rule.kmsKey.value);
    } catch (error) {
      throw keyLookupError(rule, rule.kmsKey, error);
    }
    try {
      // Judging needs only the key's ARN: a key disabled (or pending deletion) since the job ran
      // still names what its transcript must be under. Encrypting needs a usable key.
      if (options.anyKeyState && metadata?.Arn && metadata.AWSAccountId) return { arn: metadata.Arn, account: metadata.AWSAccountId };
      return usableKeyArn(rule, rule.kmsKey, metadata);
    } catch (error) {
      const entry = lookups.get(rule.kmsKey.value);
      if (entry && entry.failedAt === undefined) entry.failedAt = now();
      throw error;
    }
  };
}

export type KeyResolver = ReturnType<typeof createKeyResolver>;
