import * as v from 'valibot';
import { EventShapeError } from '../aws/errors';
import { joinIssues, nonEmptyString, openObject } from '../config/schemaIssues';

export interface S3ObjectRef {
  bucket: string;
  /** Decoded key, exactly as stored in S3. */
  key: string;
  size: number;
  eTag?: string;
  versionId?: string;
}

export type S3Notification = { kind: 'test-event' } | { kind: 'objects'; objects: S3ObjectRef[] };

/**
 * Only the fields this pipeline reads. Powertools' S3Schema is stricter (it requires
 * userIdentity and an IPv4 sourceIPAddress), which would reject real uploads over IPv6.
 */
const recordSchema = openObject({
  eventSource: v.literal('aws:s3'),
  eventName: v.string(),
  s3: openObject({
    bucket: openObject({ name: nonEmptyString }),
    object: openObject({
      key: nonEmptyString,
      size: v.pipe(v.number(), v.integer('must be a whole number of bytes'), v.minValue(0, 'must not be negative')),
      eTag: v.optional(nonEmptyString),
      versionId: v.optional(nonEmptyString),
    }),
  }),
});

/**
 * Parses the body of an SQS message that S3 sent. S3 sends `s3:TestEvent` once when the
 * notification is configured; that is reported, not treated as an error.
 */
export function parseS3Notification(body: string): S3Notification {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new EventShapeError(
      `message body is not JSON (starts ${JSON.stringify(body.slice(0, 40))}); only S3 event notifications belong on this queue`,
    );
  }
  if (isTestEvent(json)) return { kind: 'test-event' };
  const records = (json as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records) || records.length === 0) {
    // An SNS envelope (Type, Message...) or an EventBridge event (detail-type, source...) shows in its fields.
    const fields = json && typeof json === 'object' ? Object.keys(json).slice(0, 6).join(', ') : typeof json;
    throw new EventShapeError(
      `S3 event has no Records (its fields: ${fields}); only S3 ObjectCreated notifications belong on this queue, sent by S3 itself, not through SNS or EventBridge`,
    );
  }
  return { kind: 'objects', objects: records.map(parseRecord) };
}

function parseRecord(record: unknown, index: number): S3ObjectRef {
  // S3 names the event ObjectCreated:Put; a hand-written test event often takes the notification
  // configuration's name for it, s3:ObjectCreated:Put. Either is an upload.
  const eventName = (record as { eventName?: unknown } | null)?.eventName;
  if (typeof eventName === 'string' && !/^(s3:)?ObjectCreated:/.test(eventName)) {
    throw new EventShapeError(
      `Records[${index}] is ${eventName}, not ObjectCreated; limit the bucket notification to s3:ObjectCreated:* events`,
    );
  }
  const parsed = v.safeParse(recordSchema, record);
  if (!parsed.success) {
    const fields = joinIssues(parsed.issues, '(record)');
    throw new EventShapeError(`Records[${index}] is not an S3 event record: ${fields}`);
  }
  const { bucket, object } = parsed.output.s3;
  if (!object.versionId && !object.eTag) {
    throw new EventShapeError(`Records[${index}] has neither versionId nor eTag, so the object version cannot be identified`);
  }
  return {
    bucket: bucket.name,
    key: decodeS3Key(object.key, index),
    size: object.size,
    ...(object.eTag && { eTag: object.eTag.replace(/"/g, '') }),
    ...(object.versionId && { versionId: object.versionId }),
  };
}

/**
 * S3 form-URL-encodes keys in notifications: a space arrives as `+` and a literal `+` as `%2B`,
 * so `+` must become a space before percent-decoding, never after.
 */
export function decodeS3Key(encoded: string, index = 0): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    throw new EventShapeError(`Records[${index}].s3.object.key ${JSON.stringify(encoded)} is not valid URL encoding`);
  }
}

function isTestEvent(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { Event?: unknown }).Event === 's3:TestEvent';
}
