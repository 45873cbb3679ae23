import { createHash } from 'node:crypto';
import { TAG_VALUE_MAX_LENGTH } from './transcribeModel';

/**
 * What a job was asked to do travels in its tags, because GetTranscriptionJob returns Tags but
 * never OutputEncryptionKMSKeyId, KMSEncryptionContext or the OutputKey. The tags are a record,
 * not the authority: anyone allowed transcribe:TagResource can rewrite them, so the verifier
 * judges against the deployed config and only reports where the tags disagree.
 */
export const TAG = {
  expectedSse: 'tkp:expected-sse',
  expectedKeyArn: 'tkp:expected-kms-key-arn',
  rulePrefix: 'tkp:rule-prefix',
  sourceBucket: 'tkp:source-bucket',
  sourceKey: 'tkp:source-key',
  sourceVersion: 'tkp:source-version',
  ruleFingerprint: 'tkp:rule-fingerprint',
} as const;

export type Tags = Record<string, string>;

/** Characters every AWS tagging API accepts; anything else is stored base64url-encoded. */
const PLAIN_TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const ENCODED = 'b64:';
const DIGEST = 'sha256:';

/**
 * Encodes a value (an S3 key or prefix can hold any Unicode) into a tag value, or returns
 * undefined when even the encoded form exceeds the 256-character tag limit.
 */
export function encodeTagValue(value: string): string | undefined {
  const encoded = PLAIN_TAG_VALUE.test(value) && !value.startsWith(ENCODED) && !value.startsWith(DIGEST)
    ? value
    : ENCODED + Buffer.from(value, 'utf8').toString('base64url');
  return encoded.length <= TAG_VALUE_MAX_LENGTH ? encoded : undefined;
}

/** Like encodeTagValue, but falls back to a digest that still identifies the value. */
export function encodeTagValueOrDigest(value: string): string {
  return encodeTagValue(value) ?? DIGEST + createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Returns the original value, or undefined when only its digest was stored. */
export function decodeTagValue(value: string): string | undefined {
  if (value.startsWith(ENCODED)) return Buffer.from(value.slice(ENCODED.length), 'base64url').toString('utf8');
  if (value.startsWith(DIGEST)) return undefined;
  return value;
}

export function tagsToRecord(tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined): Tags {
  const record: Tags = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) record[tag.Key] = tag.Value ?? '';
  return record;
}

export function recordToTags(record: Tags): { Key: string; Value: string }[] {
  return Object.entries(record).map(([Key, Value]) => ({ Key, Value }));
}
