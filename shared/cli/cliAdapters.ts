/**
 * The AWS calls behind `tkp audit`, `tkp backfill` and `tkp explain`, on the CLI's clients (those
 * of `tkp check` are in checkAdapters.ts, of `tkp redrive` in redriveAdapters.ts). Listings are
 * async generators that fetch one page at a time, so the callers stream rather than collect.
 */
import { GetBucketEncryptionCommand, GetBucketVersioningCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { awsErrorName, isAccessDenied, isMissingObject } from '../aws/awsErrors';
import { BucketEncryptionUnknownError, describeError } from '../aws/errors';
import { createKeyResolver } from '../config/keyResolution';
import { createBucketDefaultReader } from '../verify/bucketDefaultEncryption';
import type { DemandSources } from '../verify/ruleDemand';
import { parseRuleMarkerKey, parseVerdictRecord, RULE_MARKER_PREFIX, verdictKey } from '../verify/verdictLedger';
import type { HeadResult } from '../verify/verifyJob';
import type { AuditDependencies, ListedObject } from '../verify/auditTranscripts';
import { demandForRule } from '../verify/ruleDemand';
import type { BackfillDependencies, InputObject } from '../start/backfillUploads';
import type { MediaEncryption } from '../start/explainUpload';
import { CliError, queueCallError } from './cliErrors';

function listingError(bucket: string, prefix: string, error: unknown): unknown {
  if (isAccessDenied(error)) {
    return new CliError(`listing s3://${bucket}/${prefix} was denied (${describeError(error)}); the caller needs s3:ListBucket on arn:aws:s3:::${bucket}`);
  }
  if (awsErrorName(error) === 'NoSuchBucket') return new CliError(`bucket ${bucket} does not exist in this account and region; check --stage, --region or the bucket name`);
  return error;
}

/** Every object under a prefix, one ListObjectsV2 page (up to 1,000) at a time. */
export async function* listObjects(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<ListedObject & { size: number; eTag?: string }> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token && { ContinuationToken: token }) })).catch((error: unknown) => {
      throw listingError(bucket, prefix, error);
    });
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      yield { key: object.Key, size: object.Size ?? 0, ...(object.LastModified && { lastModified: object.LastModified }), ...(object.ETag && { eTag: object.ETag }) };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** The current version of every object under a prefix, with its version ID (ListObjectVersions). */
export async function* listCurrentVersions(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<InputObject> {
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await s3
      .send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, ...(keyMarker && { KeyMarker: keyMarker }), ...(versionMarker && { VersionIdMarker: versionMarker }) }))
      .catch((error: unknown) => {
        throw listingError(bucket, prefix, error);
      });
    for (const version of page.Versions ?? []) {
      if (!version.IsLatest || version.Key === undefined) continue;
      yield {
        key: version.Key,
        size: version.Size ?? 0,
        ...(version.ETag && { eTag: version.ETag }),
        // An object written while versioning was off or suspended has the version "null", and S3's event then carries none.
        ...(version.VersionId && version.VersionId !== 'null' && { versionId: version.VersionId }),
        ...(version.LastModified && { lastModified: version.LastModified }),
      };
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
}

async function headObject(s3: S3Client, bucket: string, key: string): Promise<HeadResult> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      found: true,
      ...(head.ServerSideEncryption !== undefined && { serverSideEncryption: head.ServerSideEncryption }),
      ...(head.SSEKMSKeyId !== undefined && { kmsKeyArn: head.SSEKMSKeyId }),
    };
  } catch (error) {
    if (isMissingObject(error)) return { found: false };
    if (isAccessDenied(error)) {
      throw new Error(`HeadObject on s3://${bucket}/${key} was denied; the caller needs s3:GetObject on it (a key policy does not matter for HEAD)`);
    }
    throw new Error(`HeadObject on s3://${bucket}/${key} failed: ${describeError(error)}`);
  }
}

/**
 * The verifier's demand, with the verifier's key resolution and bucket-default reading, on the
 * CLI's identity. For the audit, a key that exists but cannot encrypt now (disabled, pending
 * deletion) still names what its rule's transcripts must be under: `anyKeyState`.
 */
export function createDemandSources(clients: { s3: S3Client; kms: KMSClient }, transcriptBucket: string, options: { anyKeyState?: boolean } = {}): DemandSources {
  const describeKey = async (keyId: string) => (await clients.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
  return {
    transcriptBucket,
    resolveKey: createKeyResolver(describeKey, { anyKeyState: Boolean(options.anyKeyState) }),
    bucketDefaultEncryption: createBucketDefaultReader(
      async (bucket) => {
        try {
          return (await clients.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }))).ServerSideEncryptionConfiguration;
        } catch (error) {
          if (awsErrorName(error) === 'ServerSideEncryptionConfigurationNotFoundError') return undefined;
          if (awsErrorName(error) === 'NoSuchBucket') throw new BucketEncryptionUnknownError(`bucket ${bucket} does not exist; create it or fix the rule's output.bucket`);
          throw new BucketEncryptionUnknownError(`GetBucketEncryption on s3://${bucket} failed (${describeError(error)}); the caller needs s3:GetEncryptionConfiguration on it`);
        }
      },
      describeKey,
      { ttlMs: 300_000 },
    ),
  };
}

export function createAuditAdapters(clients: { s3: S3Client; kms: KMSClient }, transcriptBucket: string): AuditDependencies {
  const sources = createDemandSources(clients, transcriptBucket, { anyKeyState: true });
  return {
    listObjects: (bucket, prefix) => listObjects(clients.s3, bucket, prefix),
    headObject: (location) => headObject(clients.s3, location.bucket, location.key),
    ruleMarkers: async function* () {
      for await (const object of listObjects(clients.s3, transcriptBucket, RULE_MARKER_PREFIX)) {
        const marker = parseRuleMarkerKey(object.key);
        if (marker) yield marker;
      }
    },
    readVerdict: async (ledgerId) => {
      try {
        const object = await clients.s3.send(new GetObjectCommand({ Bucket: transcriptBucket, Key: verdictKey(ledgerId) }));
        return parseVerdictRecord((await object.Body?.transformToString('utf8')) ?? '');
      } catch (error) {
        if (isMissingObject(error)) return undefined;
        throw error;
      }
    },
    demand: async (rule) => (await demandForRule(sources, rule)).expected,
  };
}

export function createBackfillAdapters(clients: { s3: S3Client; sqs: SQSClient }, startQueueUrl: string): BackfillDependencies {
  return {
    listObjects: async function* (bucket, prefix) {
      const versioning = await clients.s3.send(new GetBucketVersioningCommand({ Bucket: bucket })).catch((error: unknown) => {
        throw listingError(bucket, prefix, error);
      });
      if (versioning.Status === 'Enabled' || versioning.Status === 'Suspended') yield* listCurrentVersions(clients.s3, bucket, prefix);
      else for await (const object of listObjects(clients.s3, bucket, prefix)) yield object;
    },
    sendBatch: async (entries) => {
      try {
        const result = await clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: startQueueUrl, Entries: entries.map((e) => ({ Id: e.id, MessageBody: e.body })) }));
        return (result.Failed ?? []).map((f) => ({ id: f.Id ?? '', reason: `${f.Code ?? 'error'}: ${f.Message ?? ''}`, retryable: !f.SenderFault }));
      } catch (error) {
        throw queueCallError('SendMessageBatch', startQueueUrl, 'sqs:SendMessage', error, '--start-queue-url (or TKP_START_QUEUE_URL)');
      }
    },
  };
}

/** How an object is stored (HeadObject's answer), its KMS key described as the caller sees it (`tkp explain`). */
export async function describeMediaEncryption(kms: KMSClient, head: { ServerSideEncryption?: string; SSEKMSKeyId?: string }): Promise<MediaEncryption> {
  const serverSideEncryption = head.ServerSideEncryption ?? 'AES256';
  if (!head.SSEKMSKeyId) return { serverSideEncryption };
  try {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: head.SSEKMSKeyId }));
    return { serverSideEncryption, kmsKey: { id: head.SSEKMSKeyId, ...(KeyMetadata?.Arn && { arn: KeyMetadata.Arn }), ...(KeyMetadata?.KeyState && { state: KeyMetadata.KeyState }) } };
  } catch (error) {
    return { serverSideEncryption, kmsKey: { id: head.SSEKMSKeyId, error: describeError(error) } };
  }
}
