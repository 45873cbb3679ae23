import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describeError, EventShapeError, isRetryable, TransientAwsError } from '../aws/errors';
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
  /** Puts a notification on the start queue, to be received after this delay (a direct S3 event's record that must wait). */
  requeue(body: string, delaySeconds: number): Promise<void>;
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
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount) || 1;
  const retry = await handleNotification(deps, record.body, record.messageId, receiveCount);
  if (!retry) return;
  try {
    await deps.delayRedelivery(record.receiptHandle, retry.delaySeconds);
  } catch {
    // The message still comes back after the queue's visibility timeout.
  }
  deps.onRetry(retry.error, retry.delaySeconds, receiveCount);
  throw retry.error;
}

/**
 * The start function's event, at the edge: a batch from the start queue (how the stack wires
 * it), an S3 event notification delivered directly (S3 -> Lambda, or invoked by hand), or
 * neither. Neither is dead-lettered with what is wrong, and the invocation fails with the same
 * words: there is no queue message to retry.
 */
export async function handleStartEvent<R>(deps: StartRecordDependencies, event: unknown, processQueueBatch: (event: SQSEvent) => Promise<R>): Promise<R | undefined> {
  const shape = startEventShape(event);
  if (shape.kind === 'sqs') return processQueueBatch(event as SQSEvent);
  if (shape.kind === 's3') return processDirectS3Event(deps, shape.records);
  const error = new EventShapeError(`the start function takes an SQS event from the start queue or an S3 event notification; ${shape.problem}`);
  await deadLetter(deps, { body: JSON.stringify(event) ?? 'null', reason: describeError(error), errorName: error.name, sourceMessageId: 'none: not an SQS message', receiveCount: 1 });
  throw error;
}

type StartEventShape = { kind: 'sqs' } | { kind: 's3'; records: unknown[] } | { kind: 'neither'; problem: string };

/** What each kind of record must be, in the words of the error that names a record that is not. */
const RECORD_KINDS: Record<string, string> = { 'aws:sqs': 'an SQS message with a string body and messageId', 'aws:s3': 'an S3 event record' };

/** Which event this is: every record an SQS message, or every one an S3 record, by the first record's eventSource. */
export function startEventShape(event: unknown): StartEventShape {
  const records = (event as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) return { kind: 'neither', problem: 'it has no Records array' };
  const source = records[0]?.eventSource;
  const fits = (record: { eventSource?: unknown; body?: unknown; messageId?: unknown } | null) =>
    record?.eventSource === source && (source === 'aws:s3' || (typeof record?.body === 'string' && typeof record.messageId === 'string'));
  const bad = records.findIndex((record) => !fits(record));
  if (bad < 0 && source !== 'aws:s3') return { kind: 'sqs' };
  if (bad < 0) return { kind: 's3', records };
  const expected = RECORD_KINDS[String(source)];
  return {
    kind: 'neither',
    problem: `Records[${bad}] (eventSource ${JSON.stringify(records[bad]?.eventSource) ?? 'missing'}) is not ${expected ? `${expected}, like Records[0]` : 'an SQS message ("aws:sqs") or an S3 event record ("aws:s3")'}`,
  };
}

/**
 * An S3 notification delivered directly: each record is handled at once, like a queue message
 * received for the first time. A record that must wait (a full quota) goes to the start queue
 * with its delay, to be paced like any upload; one that cannot be handled is dead-lettered.
 */
async function processDirectS3Event(deps: StartRecordDependencies, records: readonly unknown[]): Promise<undefined> {
  for (const [index, record] of records.entries()) {
    const body = JSON.stringify({ Records: [record] });
    const retry = await handleNotification(deps, body, `none: S3 record ${index}, delivered directly`, 1);
    if (!retry) continue;
    await deps.requeue(body, retry.delaySeconds);
    deps.onRetry(retry.error, retry.delaySeconds, 1);
  }
  return undefined;
}

/** Handles one notification body: done (jobs started, objects skipped, or dead-lettered), or the delay it must wait. */
async function handleNotification(
  deps: StartRecordDependencies,
  body: string,
  sourceMessageId: string,
  receiveCount: number,
): Promise<{ error: unknown; delaySeconds: number } | undefined> {
  try {
    const notification = parseS3Notification(body);
    if (notification.kind === 'test-event') {
      deps.onTestEvent();
      return undefined;
    }
    for (const object of notification.objects) {
      deps.onOutcome(await startTranscriptionFor(deps, object), object);
    }
    return undefined;
  } catch (error) {
    const exhausted = receiveCount >= deps.maxReceiveCount;
    if (!isRetryable(error) || exhausted) {
      try {
        await deadLetter(deps, {
          body,
          reason: exhausted && isRetryable(error) ? `gave up after ${receiveCount} attempts: ${describeError(error)}` : describeError(error),
          errorName: error instanceof Error ? error.name : 'Error',
          sourceMessageId,
          receiveCount,
        });
        return undefined;
      } catch (refusal) {
        // The DLQ refused the letter (its policy, or the queue gone): the record comes back as
        // after a fault, and its retry is logged with the refusal, which names the grant.
        error = refusal;
      }
    }
    return { error, delaySeconds: retryDelaySeconds(receiveCount, error instanceof TransientAwsError && error.quotaExceeded, deps.random) };
  }
}

/** Sends a letter to the dead-letter queue, then reports it. */
async function deadLetter(deps: StartRecordDependencies, letter: DeadLetter): Promise<void> {
  await deps.sendToDeadLetterQueue(letter);
  deps.onDeadLetter(letter);
}
