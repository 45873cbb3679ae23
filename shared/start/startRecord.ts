import type { SQSRecord } from 'aws-lambda';
import { describeError, isRetryable, TransientAwsError } from '../aws/errors';
import { parseS3Notification } from './s3Notification';
import { startTranscriptionFor, type ObjectOutcome, type StartDependencies } from './startJob';

export interface DeadLetter {
  body: string;
  reason: string;
  errorName: string;
  sourceMessageId: string;
  receiveCount: number;
}

export interface StartRecordDependencies extends StartDependencies {
  maxReceiveCount: number;
  sendToDeadLetterQueue(letter: DeadLetter): Promise<void>;
  /** Keeps the message invisible for this long before it is received again. */
  delayRedelivery(receiptHandle: string, seconds: number): Promise<void>;
  onOutcome(outcome: ObjectOutcome, object: { bucket: string; key: string }): void;
  onTestEvent(): void;
  onDeadLetter(letter: DeadLetter): void;
  onRetry(error: unknown, delaySeconds: number, receiveCount: number): void;
  random?: () => number;
}

const MAX_DELAY_SECONDS = 900;

/**
 * How long a record waits before its next attempt. Quota errors start higher and grow faster
 * than other transient errors, because a full concurrent-job quota drains at the pace of job
 * completions, not in milliseconds. Jitter spreads a burst so retries do not arrive together.
 */
export function retryDelaySeconds(receiveCount: number, quotaExceeded: boolean, random: () => number = Math.random): number {
  const base = quotaExceeded ? 10 : 2;
  const exponential = Math.min(MAX_DELAY_SECONDS, base * 2 ** Math.max(0, receiveCount - 1));
  return Math.max(1, Math.round(exponential / 2 + (random() * exponential) / 2));
}

/**
 * Handles one SQS message. It returns normally when the message is done with (jobs started,
 * objects skipped, or the message dead-lettered with its reason) and throws only when the
 * message should come back later, so the batch processor reports it as a partial failure.
 */
export async function processStartRecord(deps: StartRecordDependencies, record: SQSRecord): Promise<void> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  try {
    const notification = parseS3Notification(record.body);
    if (notification.kind === 'test-event') {
      deps.onTestEvent();
      return;
    }
    for (const object of notification.objects) {
      deps.onOutcome(await startTranscriptionFor(deps, object), object);
    }
  } catch (error) {
    const exhausted = receiveCount >= deps.maxReceiveCount;
    if (!isRetryable(error) || exhausted) {
      const letter: DeadLetter = {
        body: record.body,
        reason: exhausted && isRetryable(error) ? `gave up after ${receiveCount} attempts: ${describeError(error)}` : describeError(error),
        errorName: error instanceof Error ? error.name : 'Error',
        sourceMessageId: record.messageId,
        receiveCount,
      };
      await deps.sendToDeadLetterQueue(letter);
      deps.onDeadLetter(letter);
      return;
    }
    const delay = retryDelaySeconds(receiveCount, error instanceof TransientAwsError && error.quotaExceeded, deps.random);
    try {
      await deps.delayRedelivery(record.receiptHandle, delay);
    } catch {
      // The message still comes back after the queue's visibility timeout.
    }
    deps.onRetry(error, delay, receiveCount);
    throw error;
  }
}
