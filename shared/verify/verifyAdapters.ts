import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  ListCallAnalyticsJobsCommand,
  ListMedicalTranscriptionJobsCommand,
  ListTranscriptionJobsCommand,
  type TranscribeClient,
} from '@aws-sdk/client-transcribe';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsErrorName, httpStatusOf, isAccessDenied, isMissingObject } from '../aws/awsErrors';
import { eventBridgeClient, kmsClient, s3Client, transcribeClient } from '../aws/clients';
import type { SweepSettings, VerifySettings } from '../config/settings';
import type { FinishedJobSummary, SweepDependencies } from './sweepFinishedJobs';
import { BucketEncryptionUnknownError, describeError, LedgerAccessDeniedError, LedgerRecordError, TransientAwsError } from '../aws/errors';
import { createKeyResolver } from '../config/keyResolution';
import { createBucketDefaultReader } from './bucketDefaultEncryption';
import { outcomeEntry } from './outcomeEvent';
import { configEpochKey, parseConfigEpoch, parseVerdictRecord, ruleMarkerKey, verdictKey } from './verdictLedger';
import { configFingerprint } from '../config/expectedEncryption';
import { getJobError, headObjectError, publishError, type VerifyDependencies } from './verifyJob';
import { getTranscribeJob } from '../aws/transcribeJob';
import type { JobType } from '../aws/jobTypes';

/** One page of ListXJobs of a type and status, as the sweeper reads it. */
async function listJobsOfType(
  transcribe: TranscribeClient,
  jobType: JobType,
  request: { Status: 'COMPLETED' | 'FAILED'; JobNameContains: string; MaxResults: number; NextToken: string | undefined },
): Promise<{ jobs: FinishedJobSummary[]; nextToken?: string }> {
  const page = (jobs: FinishedJobSummary[], nextToken: string | undefined) => ({ jobs, ...(nextToken && { nextToken }) });
  switch (jobType) {
    case 'callAnalytics': {
      const out = await transcribe.send(new ListCallAnalyticsJobsCommand(request));
      return page((out.CallAnalyticsJobSummaries ?? []).map((j) => summary(j.CallAnalyticsJobName, j.CreationTime, j.CompletionTime)), out.NextToken);
    }
    case 'medical': {
      const out = await transcribe.send(new ListMedicalTranscriptionJobsCommand(request));
      return page((out.MedicalTranscriptionJobSummaries ?? []).map((j) => summary(j.MedicalTranscriptionJobName, j.CreationTime, j.CompletionTime)), out.NextToken);
    }
    default: {
      const out = await transcribe.send(new ListTranscriptionJobsCommand(request));
      return page((out.TranscriptionJobSummaries ?? []).map((j) => summary(j.TranscriptionJobName, j.CreationTime, j.CompletionTime)), out.NextToken);
    }
  }
}

function summary(name: string | undefined, creationTime: Date | undefined, completionTime: Date | undefined): FinishedJobSummary {
  return { ...(name !== undefined && { name }), ...(creationTime && { creationTime }), ...(completionTime && { completionTime }) };
}

/** The AWS calls behind verifyJob, shared by the completion handler and the sweeper. */
export function createVerifyAdapters(settings: VerifySettings): VerifyDependencies {
  // Built here, at module scope of the handler, so a cold start pays for them before the first event.
  const kms = kmsClient();
  const s3 = s3Client();
  const transcribe = transcribeClient();
  const eventBridge = eventBridgeClient();
  const describeKey = async (keyId: string) => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
  const ttlMs = settings.keyCacheTtlSeconds * 1000;
  const ledgerDenied = (action: string, error: unknown) =>
    new LedgerAccessDeniedError(
      `${action} on the verdict ledger s3://${settings.transcriptBucket}/verdicts/ was denied (${describeError(error)}); ` +
        `the verify and sweep roles need s3:GetObject and s3:PutObject there, and when the bucket's default encryption is SSE-KMS, ` +
        `kms:GenerateDataKey and kms:Decrypt on that key in its key policy too`,
      { cause: error },
    );
  async function readLedger(key: string): Promise<{ text: string; etag?: string } | undefined> {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: settings.transcriptBucket, Key: key }));
      return { text: (await object.Body?.transformToString('utf8')) ?? '', ...(object.ETag && { etag: object.ETag }) };
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      if (isAccessDenied(error)) throw ledgerDenied('GetObject', error);
      throw error;
    }
  }
  /** A conditional write: returns the new ETag, or undefined when the condition failed. */
  async function writeLedger(key: string, body: string, condition: { ifNoneMatch: true } | { ifMatch: string }): Promise<string | undefined> {
    try {
      const written = await s3.send(
        new PutObjectCommand({
          Bucket: settings.transcriptBucket,
          Key: key,
          Body: body,
          // Stated, because the SDK warns of a stream of unknown length for an empty body (a rule marker).
          ContentLength: Buffer.byteLength(body),
          ContentType: 'application/json',
          ...('ifMatch' in condition ? { IfMatch: condition.ifMatch } : { IfNoneMatch: '*' }),
        }),
      );
      return written.ETag;
    } catch (error) {
      // 412: the condition failed; 409: a concurrent conditional write to the same key won.
      if (httpStatusOf(error) === 412 || httpStatusOf(error) === 409) return undefined;
      if (isAccessDenied(error)) throw ledgerDenied('PutObject', error);
      throw error;
    }
  }
  /** When this config was first used to judge: read from the ledger, or recorded there now. Once per container. */
  let epoch: Promise<number> | undefined;
  const readOrRecordEpoch = async (): Promise<number> => {
    const fingerprint = configFingerprint(settings.config.rules);
    const epochKey = configEpochKey(fingerprint);
    for (let attempt = 0; attempt < 2; attempt++) {
      const found = parseConfigEpoch((await readLedger(epochKey))?.text);
      // A moment in the future cannot be when a config was first used; it would widen the window.
      if (found !== undefined) return Math.min(found, Date.now());
      const firstSeenAt = Date.now();
      const written = await writeLedger(epochKey, JSON.stringify({ configFingerprint: fingerprint, firstSeenAt: new Date(firstSeenAt).toISOString() }), { ifNoneMatch: true });
      if (written) return firstSeenAt;
    }
    throw new LedgerRecordError(`the config epoch s3://${settings.transcriptBucket}/${epochKey} in the verdict ledger is unreadable; delete it (the break-glass path in README) so the verifier records it again`);
  };

  return {
    jobNamePrefix: settings.jobNamePrefix,
    ruleIndex: settings.ruleIndex,
    inputBucket: settings.inputBucket,
    transcriptBucket: settings.transcriptBucket,
    // The verifier judges by the key's ARN whatever its state: see createKeyResolver's anyKeyState.
    resolveKey: createKeyResolver(describeKey, { ttlMs, anyKeyState: true }),
    bucketDefaultEncryption: createBucketDefaultReader(
      async (bucket) => {
        try {
          return (await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }))).ServerSideEncryptionConfiguration;
        } catch (error) {
          if (awsErrorName(error) === 'ServerSideEncryptionConfigurationNotFoundError') return undefined;
          if (isAccessDenied(error)) {
            throw new BucketEncryptionUnknownError(
              `GetBucketEncryption on s3://${bucket} was denied; grant the verify and sweep roles s3:GetEncryptionConfiguration on arn:aws:s3:::${bucket}`,
              { cause: error },
            );
          }
          throw error;
        }
      },
      describeKey,
      { ttlMs },
    ),
    configEpochStart: () => {
      epoch ??= readOrRecordEpoch().catch((error: unknown) => {
        epoch = undefined;
        throw error;
      });
      return epoch;
    },
    ruleChangeGraceMs: settings.ruleChangeGraceSeconds * 1000,
    verdictLeaseSeconds: settings.verdictLeaseSeconds,
    missingTranscriptRetries: settings.missingTranscriptRetries,
    missingTranscriptRetryDelayMs: settings.missingTranscriptRetryDelayMs,
    sleep: async (ms) => {
      await sleep(ms);
    },
    now: () => new Date(),
    getJob: async (jobName, jobType) => {
      try {
        return await getTranscribeJob(transcribe, jobName, jobType);
      } catch (error) {
        if (awsErrorName(error) === 'BadRequestException' || awsErrorName(error) === 'NotFoundException') return undefined;
        throw getJobError(jobName, jobType, settings.jobNamePrefix, error);
      }
    },
    headObject: async (location) => {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
        return {
          found: true,
          ...(head.ServerSideEncryption !== undefined && { serverSideEncryption: head.ServerSideEncryption }),
          ...(head.SSEKMSKeyId !== undefined && { kmsKeyArn: head.SSEKMSKeyId }),
          ...(head.BucketKeyEnabled !== undefined && { bucketKeyEnabled: head.BucketKeyEnabled }),
        };
      } catch (error) {
        const meaning = headObjectError(location, error);
        if (meaning === 'missing') return { found: false };
        throw meaning;
      }
    },
    publish: async (detail) => {
      const result = await eventBridge
        .send(new PutEventsCommand({ Entries: [outcomeEntry(detail, settings.outcomeBusName, settings.outcomeSource)] }))
        .catch((error: unknown) => {
          throw publishError(settings.outcomeBusName, detail.jobName, error);
        });
      if (result.FailedEntryCount) {
        const entry = result.Entries?.[0];
        throw new TransientAwsError(
          `PutEvents to ${settings.outcomeBusName} failed for job ${detail.jobName}: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`,
          false,
        );
      }
    },
    readVerdict: async (ledgerId) => {
      const object = await readLedger(verdictKey(ledgerId));
      const record = object && parseVerdictRecord(object.text);
      return record && object.etag ? { record, etag: object.etag } : undefined;
    },
    writeVerdict: (ledgerId, record, condition) => writeLedger(verdictKey(ledgerId), JSON.stringify(record), condition),
    // Only an index for `tkp audit`, which reads the verdict record where a marker is missing, so a
    // failed write must not hold up the verdict.
    markRule: async (ledgerId, fingerprint) => {
      await writeLedger(ruleMarkerKey(fingerprint, ledgerId), '', { ifNoneMatch: true }).catch(() => undefined);
    },
  };
}

/** The sweeper's listing of this stack's finished jobs, one page at a time. */
export function createSweepAdapters(
  settings: SweepSettings,
): Pick<SweepDependencies, 'jobNamePrefix' | 'lookbackSeconds' | 'graceSeconds' | 'concurrency' | 'listJobs' | 'retryDelayMs' | 'sleep' | 'now'> {
  const transcribe = transcribeClient();
  return {
    jobNamePrefix: settings.jobNamePrefix,
    lookbackSeconds: settings.lookbackSeconds,
    graceSeconds: settings.graceSeconds,
    concurrency: 4,
    retryDelayMs: settings.retryDelayMs,
    sleep: async (ms) => {
      await sleep(ms);
    },
    now: () => new Date(),
    listJobs: (jobType, status, nextToken) =>
      listJobsOfType(transcribe, jobType, { Status: status, JobNameContains: settings.jobNamePrefix, MaxResults: 100, NextToken: nextToken }),
  };
}
