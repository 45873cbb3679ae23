/**
 * The AWS calls behind processStartRecord, so that functions/start.ts only wires. Each Start
 * attempt, a retry included, first waits for its API's pacer (each job type has its own quota):
 * the SDK's own retries would otherwise send extra calls against the account's rate quota that
 * the pacer never saw. A quota answer is not retried here at all; it goes back to the queue with
 * its delay.
 */
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  StartCallAnalyticsJobCommand,
  StartMedicalTranscriptionJobCommand,
  StartTranscriptionJobCommand,
  type TranscribeClient,
} from '@aws-sdk/client-transcribe';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsErrorName, isQuotaError, isTransientAwsError } from '../aws/awsErrors';
import { kmsClient, sqsClient, transcribeStartClient } from '../aws/clients';
import { createKeyResolver } from '../config/keyResolution';
import type { StartSettings } from '../config/settings';
import type { StartRecordDependencies } from './startRecord';
import { createStartPacer } from './startPacer';
import { getRawJob } from '../aws/transcribeJob';
import type { JobRequest } from './startRequest';
import { JOB_TYPES, quotaShare, type JobType } from '../aws/jobTypes';

/** Attempts of one Start call for 5xx and network faults, each one paced. */
export const START_ATTEMPTS = 3;

type Hooks = Pick<StartRecordDependencies, 'onOutcome' | 'onTestEvent' | 'onDeadLetter' | 'onRetry'>;

/**
 * Calls a Start operation through the pacer, retrying only faults that are not quota
 * answers. Exported for tests, which give it a fake send.
 */
export function pacedStart<Input>(pace: () => Promise<void>, send: (input: Input) => Promise<unknown>, attempts = START_ATTEMPTS) {
  return async (input: Input): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      await pace();
      try {
        await send(input);
        return;
      } catch (error) {
        if (attempt >= attempts || isQuotaError(error) || !isTransientAwsError(error)) throw error;
      }
    }
  };
}

/**
 * Each Start operation has its own rate quota, so each job type gets its own pacer, at the
 * configured pace scaled by its quota against StartTranscriptionJob's (Call Analytics: 10 of 25).
 */
export function startRatesPerSecond(transcriptionRate: number): Record<JobType, number> {
  return Object.fromEntries(JOB_TYPES.map((type) => [type, transcriptionRate * quotaShare(type, 'startQuotaTps')])) as Record<JobType, number>;
}

/** Sends a job request with its own type's Start command. */
function sendStart(transcribe: TranscribeClient, request: JobRequest): Promise<unknown> {
  switch (request.jobType) {
    case 'callAnalytics':
      return transcribe.send(new StartCallAnalyticsJobCommand(request.input));
    case 'medical':
      return transcribe.send(new StartMedicalTranscriptionJobCommand(request.input));
    default:
      return transcribe.send(new StartTranscriptionJobCommand(request.input));
  }
}

export function createStartAdapters(settings: StartSettings, hooks: Hooks): StartRecordDependencies {
  // Built here, at module scope of the handler, so a cold start pays for them before the first record.
  const kms = kmsClient();
  const sqs = sqsClient();
  // One Transcribe client, one attempt per call: a throttled Get*Job (only asked after a
  // ConflictException) sends the record back to the queue like any transient fault.
  const transcribe = transcribeStartClient();
  const rates = startRatesPerSecond(settings.startRatePerSecond);
  const clock = { now: Date.now, sleep: (ms: number) => sleep(ms) };
  const paced = Object.fromEntries(
    JOB_TYPES.map((type) => [type, pacedStart(createStartPacer(rates[type], clock), (request: JobRequest) => sendStart(transcribe, request))]),
  ) as Record<JobType, (request: JobRequest) => Promise<void>>;
  return {
    settings,
    maxReceiveCount: settings.maxReceiveCount,
    resolveKey: createKeyResolver(async (keyId) => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata, {
      ttlMs: settings.keyCacheTtlSeconds * 1000,
    }),
    startJob: (request) => paced[request.jobType](request),
    mediaUriOfJob: async (jobType, jobName) => {
      try {
        // Get*Job answers BadRequestException for an unknown name.
        return (await getRawJob(transcribe, jobName, jobType))?.Media?.MediaFileUri;
      } catch (error) {
        if (awsErrorName(error) === 'BadRequestException') return undefined;
        throw error;
      }
    },
    sendToDeadLetterQueue: async (letter) => {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: settings.startDeadLetterQueueUrl,
          MessageBody: letter.body,
          MessageAttributes: {
            // SQS refuses text holding a character XML does not (a control character other than
            // tab, LF and CR, or U+FFFE, U+FFFF), and an S3 key may hold any: a reason naming such a
            // key would never be sent, and the record would come back until the queue's redrive
            // moved it here without its reason. escape() writes each one as %1B or %uFFFE. (The
            // body is the message SQS delivered, with the key as S3 encoded it, or JSON.)
            reason: { DataType: 'String', StringValue: letter.reason.replace(/[^\t\n\r -\ufffd]/g, escape) },
            errorName: { DataType: 'String', StringValue: letter.errorName },
            sourceMessageId: { DataType: 'String', StringValue: letter.sourceMessageId },
            receiveCount: { DataType: 'Number', StringValue: String(letter.receiveCount) },
          },
        }),
      );
    },
    requeue: async (body, delaySeconds) => {
      await sqs.send(new SendMessageCommand({ QueueUrl: settings.startQueueUrl, MessageBody: body, DelaySeconds: Math.min(delaySeconds, 900) }));
    },
    delayRedelivery: async (receiptHandle, seconds) => {
      await sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: settings.startQueueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
      );
    },
    ...hooks,
  };
}
