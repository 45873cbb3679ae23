/**
 * The AWS calls behind processStartRecord, so that functions/start.ts only wires. Each
 * StartTranscriptionJob attempt, a retry included, first waits for the pacer: the SDK's own
 * retries would otherwise send extra calls against the account's rate quota that the pacer never
 * saw. A quota answer is not retried here at all; it goes back to the queue with its delay.
 */
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetTranscriptionJobCommand, StartTranscriptionJobCommand, type StartTranscriptionJobCommandInput } from '@aws-sdk/client-transcribe';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsErrorName, isQuotaError, isTransientAwsError } from '../aws/awsErrors';
import { kmsClient, sqsClient, transcribeStartClient } from '../aws/clients';
import { createKeyResolver } from '../config/keyResolution';
import type { StartSettings } from '../config/settings';
import type { StartRecordDependencies } from './startRecord';
import { createStartPacer } from './startPacer';

/** Attempts of one StartTranscriptionJob for 5xx and network faults, each one paced. */
export const START_ATTEMPTS = 3;

type Hooks = Pick<StartRecordDependencies, 'onOutcome' | 'onTestEvent' | 'onDeadLetter' | 'onRetry'>;

/**
 * Calls StartTranscriptionJob through the pacer, retrying only faults that are not quota
 * answers. Exported for tests, which give it a fake send.
 */
export function pacedStart(
  pace: () => Promise<void>,
  send: (input: StartTranscriptionJobCommandInput) => Promise<unknown>,
  attempts = START_ATTEMPTS,
) {
  return async (input: StartTranscriptionJobCommandInput): Promise<void> => {
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

export function createStartAdapters(settings: StartSettings, hooks: Hooks): StartRecordDependencies {
  const pace = createStartPacer(settings.startRatePerSecond, { now: Date.now, sleep: (ms) => sleep(ms) });
  // Built here, at module scope of the handler, so a cold start pays for them before the first record.
  const kms = kmsClient();
  const sqs = sqsClient();
  // One Transcribe client, one attempt per call: a throttled GetTranscriptionJob (only asked
  // after a ConflictException) sends the record back to the queue like any transient fault.
  const transcribe = transcribeStartClient();
  return {
    settings,
    maxReceiveCount: settings.maxReceiveCount,
    resolveKey: createKeyResolver(async (keyId) => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata, {
      ttlMs: settings.keyCacheTtlSeconds * 1000,
    }),
    startTranscriptionJob: pacedStart(pace, (input) => transcribe.send(new StartTranscriptionJobCommand(input))),
    mediaUriOfJob: async (jobName) => {
      try {
        const { TranscriptionJob } = await transcribe.send(new GetTranscriptionJobCommand({ TranscriptionJobName: jobName }));
        return TranscriptionJob?.Media?.MediaFileUri;
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
            reason: { DataType: 'String', StringValue: letter.reason },
            errorName: { DataType: 'String', StringValue: letter.errorName },
            sourceMessageId: { DataType: 'String', StringValue: letter.sourceMessageId },
            receiveCount: { DataType: 'Number', StringValue: String(letter.receiveCount) },
          },
        }),
      );
    },
    delayRedelivery: async (receiptHandle, seconds) => {
      await sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: settings.startQueueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
      );
    },
    ...hooks,
  };
}
