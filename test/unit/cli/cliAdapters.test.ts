import { S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createBackfillAdapters } from '../../../shared/cli/cliAdapters';
import { CliError } from '../../../shared/cli/cliErrors';

const START = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tkp-prod-start';
const awsError = (name: string, status: number) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

const sqsMock = mockClient(SQSClient);
const clients = { s3: new S3Client({ region: 'eu-west-1' }), sqs: new SQSClient({ region: 'eu-west-1' }) };

beforeEach(() => sqsMock.reset());

describe('the tkp backfill adapters', () => {
  it('send each batch to the start queue and return the entries SQS failed, retryable unless the sender was at fault', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [
        { Id: 'a', Code: 'InternalError', SenderFault: false, Message: 'try again' },
        { Id: 'b', Code: 'InvalidMessageContents', SenderFault: true, Message: 'bad' },
      ],
    });
    const failed = await createBackfillAdapters(clients, START).sendBatch([
      { id: 'a', body: '{"Records":[]}' },
      { id: 'b', body: '{}' },
    ]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input).toEqual({
      QueueUrl: START,
      Entries: [
        { Id: 'a', MessageBody: '{"Records":[]}' },
        { Id: 'b', MessageBody: '{}' },
      ],
    });
    expect(failed).toEqual([
      { id: 'a', reason: 'InternalError: try again', retryable: true },
      { id: 'b', reason: 'InvalidMessageContents: bad', retryable: false },
    ]);
  });

  it('name the grant a refusal needs, and the flag that names a start queue that does not exist, as tkp redrive does', async () => {
    const send = () => createBackfillAdapters(clients, START).sendBatch([{ id: 'a', body: '{}' }]);
    sqsMock.on(SendMessageBatchCommand).rejects(awsError('AccessDenied', 403));
    await expect(send()).rejects.toThrow(new CliError(`SendMessageBatch on ${START} was denied (AccessDenied: AccessDenied happened); the caller needs sqs:SendMessage on that queue`));
    sqsMock.on(SendMessageBatchCommand).rejects(awsError('AWS.SimpleQueueService.NonExistentQueue', 400));
    await expect(send()).rejects.toThrow(`queue ${START} does not exist; check --stage and --region, or the URL --start-queue-url (or TKP_START_QUEUE_URL) gives`);
    // Anything else is not the caller's to fix here, and passes unchanged.
    sqsMock.on(SendMessageBatchCommand).rejects(awsError('InternalError', 500));
    await expect(send()).rejects.toThrow('InternalError happened');
  });
});
