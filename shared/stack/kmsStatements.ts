/**
 * KMS permissions for exactly the configured keys, shared by every role that touches them.
 */
import { aliasesByAccount, type KeyReference } from '../aws/keyReference';
import type { PipelineConfig } from '../config/rule';
import { distinctCfn, sub, type Cfn, type Statement } from './cfnValues';

function keyArnResource(ref: KeyReference): Cfn {
  if (ref.form === 'key-arn') return ref.value;
  if (ref.form === 'key-id') return sub(`arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/${ref.keyId}`);
  return accountKeysResource(ref.form === 'alias-arn' ? ref.account : undefined);
}

/** Every key of one account (undefined: the deploying account), which is what an alias can point at. */
function accountKeysResource(account: string | undefined): Cfn {
  return sub(`arn:\${AWS::Partition}:kms:\${AWS::Region}:${account ?? '${AWS::AccountId}'}:key/*`);
}

/**
 * KMS permissions for exactly the configured keys. An IAM Resource must be a key ARN, so keys
 * named by ID or ARN are listed directly, and keys named by alias are matched on
 * `kms:ResourceAliases`, per account, with the account's keys as the resource.
 */
export function kmsStatements(config: PipelineConfig, actions: string[], condition: Record<string, unknown> = {}): Statement[] {
  const keys = config.rules.flatMap((rule) => (rule.kmsKey ? [rule.kmsKey] : []));
  const statements: Statement[] = [];
  const direct = [...new Map(keys.filter((k) => k.form === 'key-id' || k.form === 'key-arn').map((k) => [k.value, keyArnResource(k)])).values()];
  const extra = Object.keys(condition).length > 0 ? condition : undefined;
  if (direct.length > 0) statements.push({ Effect: 'Allow', Action: actions, Resource: direct, ...(extra && { Condition: extra }) });
  for (const [account, aliases] of aliasesByAccount(keys)) {
    statements.push({
      Effect: 'Allow',
      Action: actions,
      Resource: accountKeysResource(account),
      Condition: { ...condition, 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': aliases } },
    });
  }
  return statements;
}

/**
 * What `transcribe:OutputEncryptionKMSKeyId` may be in a StartTranscriptionJob the start role
 * sends: the start function sends the resolved key ARN, so keys named by ID or ARN are listed
 * exactly; a key named by alias can be any key of the alias's account (the alias decides which,
 * and only its owner can retarget it), so it is matched with a pattern over that account's keys.
 */
export function allowedOutputKeyArns(config: PipelineConfig): Cfn[] {
  const keys = config.rules.flatMap((rule) => (rule.kmsKey ? [rule.kmsKey] : []));
  return distinctCfn(keys.map(keyArnResource));
}
