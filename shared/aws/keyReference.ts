/**
 * The four ways a KMS key can be named in the config, parsed into one shape.
 *
 * The form matters for more than syntax: a bare key ID or alias name is always looked up in
 * the caller's own account, so it can never reach a key in another account, and an IAM policy
 * can only name a key by its key ARN (aliases are matched with `kms:ResourceAliases`).
 */
export type KeyReference =
  | { form: 'key-id'; value: string; keyId: string }
  | { form: 'alias'; value: string; aliasName: string }
  | { form: 'key-arn'; value: string; partition: string; region: string; account: string; keyId: string }
  | { form: 'alias-arn'; value: string; partition: string; region: string; account: string; aliasName: string };

export type KeyForm = KeyReference['form'];

const KEY_ID = '(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})';
const ALIAS_NAME = 'alias/[a-zA-Z0-9:/_-]{1,250}';
const ARN_HEAD = '^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):kms:([a-z]{2}(?:-[a-z]+)+-\\d):(\\d{12}):';

const KEY_ID_RE = new RegExp(`^${KEY_ID}$`);
const ALIAS_RE = new RegExp(`^${ALIAS_NAME}$`);
const KEY_ARN_RE = new RegExp(`${ARN_HEAD}key/(${KEY_ID})$`);
const ALIAS_ARN_RE = new RegExp(`${ARN_HEAD}(${ALIAS_NAME})$`);

/** Returns undefined when the value is in none of the four forms KMS accepts. */
export function parseKeyReference(value: string): KeyReference | undefined {
  if (KEY_ID_RE.test(value)) return { form: 'key-id', value, keyId: value };
  if (ALIAS_RE.test(value)) return { form: 'alias', value, aliasName: value };
  const keyArn = KEY_ARN_RE.exec(value);
  if (keyArn) {
    const [, partition, region, account, keyId] = keyArn as unknown as [string, string, string, string, string];
    return { form: 'key-arn', value, partition, region, account, keyId };
  }
  const aliasArn = ALIAS_ARN_RE.exec(value);
  if (aliasArn) {
    const [, partition, region, account, aliasName] = aliasArn as unknown as [string, string, string, string, string];
    return { form: 'alias-arn', value, partition, region, account, aliasName };
  }
  return undefined;
}

export function isArnForm(ref: KeyReference): ref is Extract<KeyReference, { form: 'key-arn' | 'alias-arn' }> {
  return ref.form === 'key-arn' || ref.form === 'alias-arn';
}

/** Parses a key ARN as S3 and DescribeKey report it; undefined for anything else. */
export function parseKeyArn(value: string): Extract<KeyReference, { form: 'key-arn' }> | undefined {
  const ref = parseKeyReference(value);
  return ref?.form === 'key-arn' ? ref : undefined;
}

/**
 * The aliases among key references, grouped by the account they live in: an alias ARN's own
 * account, or undefined for a bare alias name (always the caller's account). Accounts keep the
 * order of their first reference; each account's alias names are sorted and distinct.
 */
export function aliasesByAccount(refs: readonly (KeyReference | undefined)[]): Map<string | undefined, string[]> {
  const groups = new Map<string | undefined, Set<string>>();
  for (const ref of refs) {
    if (ref?.form !== 'alias' && ref?.form !== 'alias-arn') continue;
    const account = ref.form === 'alias-arn' ? ref.account : undefined;
    groups.set(account, (groups.get(account) ?? new Set()).add(ref.aliasName));
  }
  return new Map([...groups].map(([account, aliases]) => [account, [...aliases].sort()]));
}
