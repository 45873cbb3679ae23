/**
 * `tkp backfill`: the objects that were in the input bucket before its notifications existed,
 * sent to the start queue as the S3 event records S3 would have sent. It never starts a job: the
 * start function does, with its pacing, quota handling and dead-letter queue. The record carries
 * the same key encoding, ETag and version ID as S3's, so the deterministic job name is the same
 * as for a live upload of that version: a rerun, or an overlap with live uploads, starts nothing
 * twice.
 */
import { encodeS3EventKey, eventETag } from '../aws/s3Location';
import type { Rule } from '../config/rule';
import { coveringPrefixes, narrowPrefixes, notificationPrefixes, unicodeSpellings } from '../config/notificationPrefixes';

export interface InputObject {
  key: string;
  size: number;
  eTag?: string;
  versionId?: string;
  lastModified?: Date;
}

export interface BackfillDependencies {
  /** The current version of every object under a prefix, page by page. */
  listObjects(bucket: string, prefix: string): AsyncIterable<InputObject>;
  /** SendMessageBatch (at most 10 entries); returns the entries that failed. */
  sendBatch(entries: { id: string; body: string }[]): Promise<{ id: string; reason: string; retryable: boolean }[]>;
}

export interface BackfillScope {
  rules: readonly Pick<Rule, 'prefix'>[];
  inputBucket: string;
  region: string;
  prefix?: string;
  since?: Date;
  dryRun: boolean;
}

export interface BackfillReport {
  listed: number;
  sent: number;
  /** Objects whose message could not be sent after retries, with SQS's reason. */
  failed: { key: string; reason: string }[];
}

/** SQS takes at most 10 messages per SendMessageBatch. */
export const SQS_BATCH_SIZE = 10;
const SEND_ATTEMPTS = 3;

/**
 * The prefixes to list: the rules' notification prefixes, narrowed by --prefix. A --prefix with
 * accented letters narrows in every Unicode spelling, folder by folder, as the rules take keys in any.
 */
export function backfillPrefixes(rules: readonly Pick<Rule, 'prefix'>[], prefix: string | undefined): string[] {
  const covering = notificationPrefixes(rules);
  if (prefix === undefined) return covering;
  return coveringPrefixes(unicodeSpellings(prefix).flatMap((spelling) => narrowPrefixes(covering, spelling)));
}

/** The S3 event notification S3 sends for one created object (event structure version 2.1). */
export function s3EventFor(bucket: string, region: string, object: InputObject): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: (object.lastModified ?? new Date()).toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'tkp-backfill' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: {},
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'tkp-backfill',
          bucket: { name: bucket, ownerIdentity: { principalId: 'tkp-backfill' }, arn: `arn:aws:s3:::${bucket}` },
          object: {
            key: encodeS3EventKey(object.key),
            size: object.size,
            ...(object.eTag && { eTag: eventETag(object.eTag) }),
            ...(object.versionId && { versionId: object.versionId }),
            sequencer: '0',
          },
        },
      },
    ],
  });
}

export async function backfillUploads(deps: BackfillDependencies, scope: BackfillScope, onProgress: (report: BackfillReport) => void = () => undefined): Promise<BackfillReport> {
  const report: BackfillReport = { listed: 0, sent: 0, failed: [] };
  let batch: { id: string; body: string; key: string }[] = [];
  const flush = async () => {
    let pending = batch;
    batch = [];
    for (let attempt = 1; pending.length > 0; attempt++) {
      const failed = await deps.sendBatch(pending.map(({ id, body }) => ({ id, body })));
      const failedIds = new Map(failed.map((f) => [f.id, f]));
      report.sent += pending.length - failed.length;
      const retry = pending.filter((entry) => failedIds.get(entry.id)?.retryable && attempt < SEND_ATTEMPTS);
      for (const entry of pending) {
        const failure = failedIds.get(entry.id);
        if (failure && !retry.includes(entry)) report.failed.push({ key: entry.key, reason: failure.reason });
      }
      pending = retry;
    }
    onProgress(report);
  };
  for (const prefix of backfillPrefixes(scope.rules, scope.prefix)) {
    for await (const object of deps.listObjects(scope.inputBucket, prefix)) {
      if (object.key.endsWith('/')) continue;
      if (scope.since && object.lastModified && object.lastModified <= scope.since) continue;
      report.listed++;
      if (scope.dryRun) {
        onProgress(report);
        continue;
      }
      batch.push({ id: String(batch.length), body: s3EventFor(scope.inputBucket, scope.region, object), key: object.key });
      if (batch.length === SQS_BATCH_SIZE) await flush();
    }
  }
  if (batch.length > 0) await flush();
  return report;
}
