/**
 * `tkp check`'s rows for the input bucket: what an upload gets when it names no key, whether
 * the bucket notifies the start queue of exactly the prefixes the config derives, written as S3
 * encodes keys (by the same function the stack uses), and, before the first deploy into an
 * existing bucket, whether it has room for them.
 */
import type { NotificationConfiguration } from '@aws-sdk/client-s3';
import { encodeS3EventKey } from '../../aws/s3Location';
import { notificationIdPrefix, notificationRoomProblem } from '../../stack/inputNotifications';
import { firstTenOf } from '../terminalOutput';
import { PUT_BACK, STACK_ROW, type CheckRow } from './checkRow';

/** What S3 applies to an upload into the input bucket that names no key. */
export type InputBucketDefault = { serverSideEncryption: 'AES256' } | { serverSideEncryption: 'aws:kms' | 'aws:kms:dsse'; key: string };

/**
 * What Transcribe meets when it reads the uploads. It reads them with the roles that start jobs,
 * which the stack allows kms:Decrypt on any key through S3 for the input bucket's objects, so an
 * upload under SSE-KMS (the bucket's default or the uploader's choice) is readable as far as IAM
 * goes. The key's own policy can still refuse, and no call the check can make proves otherwise (a
 * DryRun is not made through S3), so the row names the key and what its policy must allow.
 */
export function inputBucketRow(bucket: string, found: InputBucketDefault | { error: string }, readers: readonly string[]): CheckRow {
  const row = { rule: STACK_ROW, check: 'input bucket' };
  if ('error' in found) return { ...row, ok: false, detail: `s3://${bucket}: its default encryption cannot be read (${found.error}); the caller needs s3:GetEncryptionConfiguration on it` };
  const stored = found.serverSideEncryption === 'AES256' ? 'stores uploads under SSE-S3 unless the uploader names a KMS key' : `encrypts uploads with ${found.key} (${found.serverSideEncryption}) unless the uploader names another key`;
  return {
    ...row,
    ok: true,
    detail:
      `s3://${bucket} ${stored}. Transcribe reads an upload under a KMS key with ${readers.join(' or ')}, which the stack allows kms:Decrypt through S3 for this bucket; ` +
      'a key in another account, or one whose key policy does not let IAM policies grant its use, must allow that in its key policy (README: "The key policy another account must grant")',
  };
}

/**
 * Whether the input bucket sends exactly the configured prefixes to the start queue, with each
 * filter written as S3 encodes keys. A filter written raw (`Zürich/` instead of
 * `Z%C3%BCrich/`) never matches and loses every upload under it without a message.
 */
export function notificationRow(current: NotificationConfiguration, queueArn: string, prefixes: readonly string[], inputBucket: string): CheckRow {
  const row = { rule: STACK_ROW, check: `notifications of s3://${inputBucket}` };
  const ours = (current.QueueConfigurations ?? []).filter((q) => q.QueueArn === queueArn);
  const found = ours.map((q) => {
    const filter = q.Filter?.Key?.FilterRules?.find((r) => r.Name?.toLowerCase() === 'prefix')?.Value ?? '';
    const created = (q.Events ?? []).some((e) => e === 's3:ObjectCreated:*');
    return { filter, created };
  });
  const wanted = prefixes.map(encodeS3EventKey);
  const problems: string[] = [];
  for (const filter of wanted) {
    if (!found.some((f) => f.filter === filter)) problems.push(`no notification for prefix ${JSON.stringify(filter)}`);
  }
  for (const f of found) {
    if (!wanted.includes(f.filter)) problems.push(`an extra notification for prefix ${JSON.stringify(f.filter)} that no rule derives`);
    else if (!f.created) problems.push(`the notification for ${JSON.stringify(f.filter)} is not for s3:ObjectCreated:*`);
  }
  if (problems.length === 0) return { ...row, ok: true, detail: `${wanted.length} notification(s) to the start queue, filters ${firstTenOf(wanted.map((w) => JSON.stringify(w)), ', ')}` };
  return {
    ...row,
    ok: false,
    detail: `${firstTenOf(problems, '; ')}; if the config changed since the last deploy, serverless deploy applies it; if the notifications were changed by hand, ${PUT_BACK.replace('them', 'them, encoded as S3 encodes keys,')}`,
  };
}

/**
 * An existing input bucket before this stage's first deploy: the custom resource will add the
 * stage's notifications beside the bucket's own, and fails the deploy if S3's 100 would not hold
 * them all, so the check says so first.
 */
export function notificationRoomRow(current: NotificationConfiguration, stage: string, prefixes: readonly string[], check: string): CheckRow {
  const row = { rule: STACK_ROW, check };
  const noRoom = notificationRoomProblem(current, notificationIdPrefix(stage), prefixes.length);
  if (noRoom) return { ...row, ok: false, detail: `${noRoom}; the deploy would fail at the custom resource that sets them` };
  return { ...row, ok: true, skipped: true, detail: `the start queue does not exist until the stack is deployed; the bucket has room for this stage's ${prefixes.length} notification(s)` };
}
