import { TranscriptUriError } from './errors';

export interface S3Location {
  bucket: string;
  key: string;
}

/**
 * Transcribe reports outputs as path-style https URLs (`https://s3.<region>.amazonaws.com/<bucket>/<key>`).
 * Bucket and key are read from the path, never from the host, and a URL of any other shape is an
 * error rather than a guess, because a guessed location could verify the wrong object.
 */
export function parseOutputUri(uri: string): S3Location {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new TranscriptUriError(`output URI ${JSON.stringify(uri)} is not a URL; expected https://s3.<region>.amazonaws.com/<bucket>/<key>`);
  }
  if (url.protocol !== 'https:') {
    throw new TranscriptUriError(`output URI ${uri} uses ${url.protocol}; expected https://s3.<region>.amazonaws.com/<bucket>/<key>`);
  }
  if (!/^s3[.-][a-z0-9.-]*amazonaws\.com(\.cn)?$/.test(url.hostname)) {
    throw new TranscriptUriError(`output URI ${uri} is not a path-style S3 URL; expected https://s3.<region>.amazonaws.com/<bucket>/<key>`);
  }
  const path = url.pathname.replace(/^\//, '');
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) {
    throw new TranscriptUriError(`output URI ${uri} has no bucket and key in its path`);
  }
  return { bucket: path.slice(0, slash), key: decodePath(path.slice(slash + 1), uri) };
}

function decodePath(path: string, uri: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new TranscriptUriError(`output URI ${uri} has an invalid percent-encoding`);
  }
}

/**
 * An ETag as S3's event records carry it: listings and HeadObject quote it, events do not, and
 * the job name hashes the event's form (objectVersion).
 */
export function eventETag(eTag: string): string {
  return eTag.replace(/^"|"$/g, '');
}

/**
 * How one version of an object is named in job names and tags: its version ID in a versioned
 * bucket, else its ETag, because an unversioned key can be overwritten with other audio.
 */
export function objectVersion(object: { versionId?: string | undefined; eTag?: string | undefined }): string {
  return object.versionId !== undefined ? `version:${object.versionId}` : `etag:${object.eTag ?? ''}`;
}

/** S3 URIs name the raw key: Transcribe does not percent-decode them. */
export function s3Uri(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

/** The inverse of s3Uri; undefined for anything that is not `s3://bucket/key`. */
export function parseS3Uri(uri: string): S3Location | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return match ? { bucket: match[1] as string, key: match[2] as string } : undefined;
}

/** Characters S3 leaves as they are when it encodes a key in an event notification. */
const UNENCODED = /^[A-Za-z0-9.\-_*/]$/;

/**
 * A key or prefix as S3 writes it in event notifications, and so as a notification filter must
 * be written and as `tkp backfill` writes its records: a space becomes `+`, and every other
 * character outside letters, digits and `. - _ * /` is percent-encoded as UTF-8 (S3 User Guide, "Configuring event notifications using
 * object key name filtering"). S3 compares the filter with this form, so a raw `Call Recordings/`
 * or `Zürich/` filter never matches and the upload is lost without a message or an alarm.
 */
export function encodeS3EventKey(prefix: string): string {
  let encoded = '';
  for (const character of prefix) {
    if (character === ' ') encoded += '+';
    else if (UNENCODED.test(character)) encoded += character;
    else for (const byte of Buffer.from(character, 'utf8')) encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}
