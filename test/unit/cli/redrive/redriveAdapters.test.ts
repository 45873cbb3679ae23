import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createStartRedriveAdapters, createVerifyRedriveAdapters, REDRIVE_VISIBILITY_SECONDS } from '../../../../shared/cli/redrive/redriveAdapters';

const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tkp-prod-start-dlq';
const START = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tkp-prod-start';
const VERIFY_DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tkp-prod-verify-dlq';
const functions = { verify: 'transcribe-kms-pipeline-prod-verify', sweep: 'transcribe-kms-pipeline-prod-sweep' };
const awsError = (name: string, status: number) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

const sqsMock = mockClient(SQSClient);
const lambdaMock = mockClient(LambdaClient);
const sqs = new SQSClient({ region: 'eu-west-1' });
const lambda = new LambdaClient({ region: 'eu-west-1' });

beforeEach(() => {
  sqsMock.reset();
  lambdaMock.reset();
});

describe('the start DLQ adapters', () => {
  it('read each message once for the run, with its attributes and when it was sent, and send its body unchanged to the start queue', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({
      Messages: [{ MessageId: 'm1', ReceiptHandle: 'h1', Body: '{"Records":[]}', Attributes: { SentTimestamp: '1764400000000' }, MessageAttributes: { errorName: { DataType: 'String', StringValue: 'KeyNotUsableError' } } }],
    });
    sqsMock.on(SendMessageCommand).resolves({}).on(DeleteMessageCommand).resolves({}).on(ChangeMessageVisibilityBatchCommand).resolves({});
    const deps = createStartRedriveAdapters(sqs, DLQ, START);
    expect(await deps.receive()).toEqual([{ messageId: 'm1', receiptHandle: 'h1', body: '{"Records":[]}', attributes: { errorName: 'KeyNotUsableError' }, sentAt: 1764400000000 }]);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: DLQ,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: REDRIVE_VISIBILITY_SECONDS,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['SentTimestamp'],
    });
    await deps.send({ payload: '{"Records":[]}' });
    await deps.remove('h1');
    await deps.release(Array.from({ length: 12 }, (_, i) => `k${i}`));
    expect(sqsMock.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({ QueueUrl: START, MessageBody: '{"Records":[]}' });
    expect(sqsMock.commandCalls(DeleteMessageCommand)[0]?.args[0].input).toEqual({ QueueUrl: DLQ, ReceiptHandle: 'h1' });
    // At most 10 entries per batch, each visible again at once.
    const releases = sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).map((call) => call.args[0].input);
    expect(releases.map((input) => input.Entries?.length)).toEqual([10, 2]);
    expect(releases[1]?.Entries?.[1]).toEqual({ Id: '1', ReceiptHandle: 'k11', VisibilityTimeout: 0 });
  });

  it('say when SQS left some kept messages hidden, so the run can report it', async () => {
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', Code: 'ReceiptHandleIsInvalid', SenderFault: true, Message: 'expired' }] });
    await expect(createStartRedriveAdapters(sqs, DLQ, START).release(['h1'])).rejects.toThrow('ChangeMessageVisibilityBatch left 1 hidden (ReceiptHandleIsInvalid: expired)');
  });

  it('name the grant a refusal needs, and the flag that names a queue that does not exist', async () => {
    sqsMock.on(SendMessageCommand).rejects(awsError('AccessDenied', 403));
    sqsMock.on(ReceiveMessageCommand).rejects(awsError('QueueDoesNotExist', 400));
    const deps = createStartRedriveAdapters(sqs, DLQ, START);
    await expect(deps.send({ payload: '{}' })).rejects.toThrow(`SendMessage on ${START} was denied (AccessDenied: AccessDenied happened); the caller needs sqs:SendMessage on that queue`);
    await expect(deps.receive()).rejects.toThrow(`queue ${DLQ} does not exist; check --stage and --region, or the URL --start-dlq-url (or TKP_START_DLQ_URL) gives`);
  });
});

describe('the verify DLQ adapters', () => {
  it('invoke the function asynchronously with the event, as Lambda would have retried it', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
    const deps = createVerifyRedriveAdapters({ sqs, lambda }, VERIFY_DLQ, functions);
    await deps.send({ payload: '{"detail":{}}', functionName: functions.verify });
    const input = lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect({ ...input, Payload: new TextDecoder().decode(input?.Payload as Uint8Array) }).toEqual({ FunctionName: functions.verify, InvocationType: 'Event', Payload: '{"detail":{}}' });
  });

  it('name lambda:InvokeFunction when the invocation is refused, and the stage when the function does not exist', async () => {
    const deps = createVerifyRedriveAdapters({ sqs, lambda }, VERIFY_DLQ, functions);
    lambdaMock.on(InvokeCommand).rejectsOnce(awsError('AccessDeniedException', 403)).rejectsOnce(awsError('ResourceNotFoundException', 404));
    await expect(deps.send({ payload: '{}', functionName: functions.sweep })).rejects.toThrow(/^invoking transcribe-kms-pipeline-prod-sweep was denied \(.*\); the caller needs lambda:InvokeFunction on it$/);
    await expect(deps.send({ payload: '{}', functionName: functions.sweep })).rejects.toThrow('function transcribe-kms-pipeline-prod-sweep does not exist; check --stage and --region');
  });
});
