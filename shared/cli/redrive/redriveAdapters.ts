/**
 * The AWS calls behind `tkp redrive`, on the CLI's clients: reading, deleting and releasing a
 * dead-letter queue's messages, and trying each again where it came from (the start queue, or an
 * asynchronous invocation of the function that failed on it).
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { awsErrorName, httpStatusOf, isAccessDenied } from '../../aws/awsErrors';
import { describeError } from '../../aws/errors';
import { CliError, EXIT, queueCallError } from '../cliErrors';
import { startLetterView, verifyLetterView, type VerifyFunctionNames } from './deadLetterViews';
import type { RedriveDependencies } from './redriveDeadLetters';

/** A run of `tkp redrive` reads each message once: it stays hidden from other readers this long. */
export const REDRIVE_VISIBILITY_SECONDS = 900;

type QueueWrites = Pick<RedriveDependencies, 'receive' | 'remove' | 'release'>;

/** Reading, deleting and releasing one dead-letter queue's messages; `flag` is what names its URL. */
function deadLetterQueue(sqs: SQSClient, queueUrl: string, flag: string): QueueWrites {
  return {
    receive: async () => {
      const { Messages } = await sqs
        .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: REDRIVE_VISIBILITY_SECONDS, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['SentTimestamp'] }))
        .catch((error: unknown) => {
          throw queueCallError('ReceiveMessage', queueUrl, 'sqs:ReceiveMessage and sqs:DeleteMessage', error, flag);
        });
      return (Messages ?? []).map((message) => {
        const sentAt = Number(message.Attributes?.SentTimestamp);
        const attributes = Object.entries(message.MessageAttributes ?? {}).flatMap(([name, value]) => (value.StringValue === undefined ? [] : [[name, value.StringValue] as const]));
        return {
          messageId: message.MessageId ?? '',
          receiptHandle: message.ReceiptHandle ?? '',
          body: message.Body ?? '',
          attributes: Object.fromEntries(attributes),
          ...(Number.isFinite(sentAt) && { sentAt }),
        };
      });
    },
    remove: async (receiptHandle) => {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle })).catch((error: unknown) => {
        throw queueCallError('DeleteMessage', queueUrl, 'sqs:DeleteMessage', error, flag);
      });
    },
    release: async (receiptHandles) => {
      for (let i = 0; i < receiptHandles.length; i += 10) {
        const entries = receiptHandles.slice(i, i + 10).map((handle, n) => ({ Id: String(n), ReceiptHandle: handle, VisibilityTimeout: 0 }));
        const { Failed = [] } = await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        if (Failed.length > 0) throw new Error(`ChangeMessageVisibilityBatch left ${Failed.length} hidden (${Failed[0]?.Code ?? 'error'}: ${Failed[0]?.Message ?? ''})`);
      }
    },
  };
}

/** The start DLQ's messages, sent back to the start queue. */
export function createStartRedriveAdapters(sqs: SQSClient, deadLetterQueueUrl: string, startQueueUrl: string): RedriveDependencies {
  return {
    ...deadLetterQueue(sqs, deadLetterQueueUrl, '--start-dlq-url (or TKP_START_DLQ_URL)'),
    describe: startLetterView,
    send: async ({ payload }) => {
      await sqs.send(new SendMessageCommand({ QueueUrl: startQueueUrl, MessageBody: payload })).catch((error: unknown) => {
        throw queueCallError('SendMessage', startQueueUrl, 'sqs:SendMessage', error, '--start-queue-url (or TKP_START_QUEUE_URL)');
      });
    },
  };
}

/**
 * The verify DLQ's failed invocations, each tried again as Lambda would have: an asynchronous
 * invocation of the function that failed, with its event, so its retries and on-failure
 * destination apply again.
 */
export function createVerifyRedriveAdapters(clients: { sqs: SQSClient; lambda: LambdaClient }, deadLetterQueueUrl: string, functions: VerifyFunctionNames): RedriveDependencies {
  return {
    ...deadLetterQueue(clients.sqs, deadLetterQueueUrl, '--verify-dlq-url (or TKP_VERIFY_DLQ_URL)'),
    describe: (message) => verifyLetterView(message, functions),
    send: async ({ payload, functionName }) => {
      try {
        await clients.lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(payload) }));
      } catch (error) {
        if (isAccessDenied(error) || httpStatusOf(error) === 403) {
          throw new CliError(`invoking ${functionName} was denied (${describeError(error)}); the caller needs lambda:InvokeFunction on it`, EXIT.usage);
        }
        if (awsErrorName(error) === 'ResourceNotFoundException') throw new CliError(`function ${functionName} does not exist; check --stage and --region`, EXIT.usage);
        throw error;
      }
    },
  };
}
