import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What AWS Lambda does around the handlers, on one machine: the SQS event source (batches,
 * partial batch failures, concurrency), asynchronous invocation for EventBridge targets (two
 * retries, then the on-failure destination) and the schedule. Handlers run unchanged.
 */
export type Handler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * Runs one invocation in its own async context, as Lambda does when one process serves several
 * invocations at once (AWS_LAMBDA_MAX_CONCURRENCY): Powertools then keeps each invocation's
 * log keys and metrics apart. The local runtime runs many invocations of a function in one
 * module instance, so it needs the same isolation.
 */
export async function invoke<E, R>(handler: Handler<E, R>, event: E, context: Context): Promise<R> {
  process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '64';
  const store = await InvokeStore.getInstanceAsync(true);
  return store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () => handler(event, context));
}

export function lambdaContext(functionName: string, region: string, account: string): Context {
  const deadline = Date.now() + 60_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export interface RuntimeCounters {
  startInvocations: number;
  verifyInvocations: number;
  verifyFailures: number;
  asyncDeadLetters: number;
}

export interface SqsSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  account: string;
  functionName: string;
  batchSize: number;
  concurrency: number;
  handler: Handler<SQSEvent, SQSBatchResponse | void>;
  onError(error: unknown): void;
}

/**
 * Deletes messages that were handled, as Lambda's event source does. DeleteMessageBatch answers
 * a refused entry in `Failed` without throwing: such a message comes back after its visibility
 * timeout, so it is reported, not ignored.
 */
export async function deleteBatch(options: { sqs: SQSClient; queueUrl: string }, messages: Message[]): Promise<void> {
  const { Failed = [] } = await options.sqs.send(
    new DeleteMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })) }),
  );
  if (Failed.length > 0) {
    throw new Error(`DeleteMessageBatch on ${options.queueUrl} refused ${Failed.length} of ${messages.length}: ${Failed.map((f) => `${f.Code} ${f.Message ?? ''}`.trim()).join('; ')}`);
  }
}

/**
 * Polls a queue like Lambda's SQS event source mapping: up to `concurrency` batches in flight,
 * and after each invocation deletes exactly the messages the handler did not report as failed.
 * A thrown invocation deletes nothing, so the whole batch comes back.
 */
export function runSqsSource(
  options: SqsSourceOptions,
  counters: RuntimeCounters,
  running: () => Promise<boolean>,
  inFlight: { count: number },
): Promise<void>[] {
  const poll = async () => {
    while (await running()) {
      let messages: Message[] = [];
      try {
        const received = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        messages = received.Messages ?? [];
      } catch (error) {
        options.onError(error);
        await sleep(200);
        continue;
      }
      if (messages.length === 0) continue;
      inFlight.count++;
      try {
        counters.startInvocations++;
        const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, options.queueArn, options.region)) };
        let failed = new Set<string>();
        try {
          const response = await invoke(options.handler, event, lambdaContext(options.functionName, options.region, options.account));
          failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch {
          failed = new Set(messages.map((m) => m.MessageId as string));
        }
        const done = messages.filter((m) => !failed.has(m.MessageId as string));
        if (done.length > 0) await deleteBatch(options, done);
      } catch (error) {
        options.onError(error);
      } finally {
        inFlight.count--;
      }
    }
  };
  return Array.from({ length: options.concurrency }, poll);
}

export interface AsyncSourceOptions {
  sqs: SQSClient;
  /** The queue the EventBridge rule delivers to, standing in for Lambda's async event queue. */
  queueUrl: string;
  deadLetterQueueUrl: string;
  region: string;
  account: string;
  functionName: string;
  handler: Handler<unknown, unknown>;
  maximumRetryAttempts: number;
  /** Real milliseconds before each retry; Lambda waits about 1 and then 2 minutes. */
  retryDelaysMs: number[];
  concurrency: number;
  onError(error: unknown): void;
  /** Told of each record written to the on-failure destination. */
  onDeadLetter?(body: string): void;
}

/** The record Lambda writes to an asynchronous invocation's on-failure destination. */
export function asyncFailureRecord(
  fn: { functionName: string; region: string; account: string },
  event: unknown,
  error: unknown,
  invokeCount: number,
) {
  const failure = error instanceof Error ? error : new Error(String(error));
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:${fn.region}:${fn.account}:function:${fn.functionName}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: invokeCount,
    },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: failure.name, errorMessage: failure.message },
  };
}

/**
 * Lambda asynchronous invocation: each event is tried, retried up to `maximumRetryAttempts`
 * times, then written to the on-failure destination in the record format Lambda uses, with the
 * error type and message as the reason.
 */
export function runAsyncSource(options: AsyncSourceOptions, counters: RuntimeCounters, running: () => boolean, inFlight: { count: number }): Promise<void>[] {
  // Only running invocations count against the concurrency cap; a retry waiting for its turn
  // holds nothing, as in Lambda.
  let executing = 0;
  const attempt = async (event: unknown): Promise<{ ok: true } | { ok: false; error: unknown }> => {
    executing++;
    try {
      await invoke(options.handler, event, lambdaContext(options.functionName, options.region, options.account));
      return { ok: true };
    } catch (error) {
      return { ok: false, error };
    } finally {
      executing--;
    }
  };
  const invokeWithRetries = async (event: unknown) => {
    for (let tries = 0; ; tries++) {
      counters.verifyInvocations++;
      const result = await attempt(event);
      if (result.ok) return;
      counters.verifyFailures++;
      if (tries >= options.maximumRetryAttempts) {
        counters.asyncDeadLetters++;
        const body = JSON.stringify(asyncFailureRecord(options, event, result.error, tries + 1));
        await options.sqs.send(new SendMessageCommand({ QueueUrl: options.deadLetterQueueUrl, MessageBody: body }));
        options.onDeadLetter?.(body);
        return;
      }
      await sleep(options.retryDelaysMs[tries] ?? options.retryDelaysMs.at(-1) ?? 0);
    }
  };
  // Lambda runs each accepted event on its own; a retry waiting for its turn blocks nothing else.
  const poll = async () => {
    while (running()) {
      if (executing >= options.concurrency * 25) {
        await sleep(20);
        continue;
      }
      let messages: Message[] = [];
      try {
        messages = (await options.sqs.send(new ReceiveMessageCommand({ QueueUrl: options.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))).Messages ?? [];
      } catch (error) {
        if (running()) options.onError(error);
        await sleep(200);
        continue;
      }
      if (messages.length === 0) continue;
      // Lambda has accepted the events: from here on, retries are its business, not the queue's.
      inFlight.count += messages.length;
      await deleteBatch(options, messages).catch(options.onError);
      for (const message of messages) {
        void invokeWithRetries(JSON.parse(message.Body ?? 'null'))
          .catch(options.onError)
          .finally(() => {
            inFlight.count--;
          });
      }
    }
  };
  return Array.from({ length: options.concurrency }, poll);
}
