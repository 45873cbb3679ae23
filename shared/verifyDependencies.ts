import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { GetTranscriptionJobCommand, TagResourceCommand } from '@aws-sdk/client-transcribe';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsErrorName } from './awsErrors';
import { eventBridgeClient, s3Client, transcribeClient } from './clients';
import type { VerifySettings } from './config';
import { TransientAwsError } from './errors';
import { recordToTags, TAG } from './jobTags';
import { outcomeEntry } from './outcomeEvent';
import { headObjectError, type VerifyDependencies } from './verifyJob';

/** The AWS calls behind verifyJob, shared by the completion handler and the sweeper. */
export function createVerifyDependencies(settings: VerifySettings): VerifyDependencies {
  return {
    jobNamePrefix: settings.jobNamePrefix,
    missingTranscriptRetries: settings.missingTranscriptRetries,
    missingTranscriptRetryDelayMs: settings.missingTranscriptRetryDelayMs,
    sleep: async (ms) => {
      await sleep(ms);
    },
    now: () => new Date(),
    getJob: async (jobName) => {
      try {
        const { TranscriptionJob } = await transcribeClient().send(new GetTranscriptionJobCommand({ TranscriptionJobName: jobName }));
        return TranscriptionJob;
      } catch (error) {
        if (awsErrorName(error) === 'BadRequestException' || awsErrorName(error) === 'NotFoundException') return undefined;
        throw error;
      }
    },
    headObject: async (location) => {
      try {
        const head = await s3Client().send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
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
      const result = await eventBridgeClient().send(
        new PutEventsCommand({ Entries: [outcomeEntry(detail, settings.outcomeBusName, settings.outcomeSource)] }),
      );
      if (result.FailedEntryCount) {
        const entry = result.Entries?.[0];
        throw new TransientAwsError(
          `PutEvents to ${settings.outcomeBusName} failed for job ${detail.jobName}: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`,
          false,
        );
      }
    },
    recordVerdict: async (jobName, outcome) => {
      await transcribeClient().send(
        new TagResourceCommand({
          ResourceArn: `${settings.jobArnPrefix}${jobName}`,
          Tags: recordToTags({ [TAG.verdict]: outcome, [TAG.verdictAt]: new Date().toISOString() }),
        }),
      );
    },
  };
}
