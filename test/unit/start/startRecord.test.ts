import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { createKeyResolver } from '../../../shared/config/keyResolution';
import { buildRuleIndex } from '../../../shared/config/ruleIndex';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import { handleStartEvent, processStartRecord, retryDelaySeconds, startEventShape, type StartRecordDependencies } from '../../../shared/start/startRecord';
import { keyArn, loadEvent } from '../../support/fixtures';

const ARN = keyArn('1234abcd-12ab-34cd-56ef-1234567890ab');
const INPUT_BUCKET = 'tkp-dev-input-123456789012-us-east-1';
const config = validatePipelineConfig(
  { defaults: { languageCode: 'en-US' }, rules: [{ prefix: 'calls/', kmsKey: 'alias/calls' }, { prefix: 'public/' }] },
  { region: 'us-east-1' },
);
const awsError = (name: string, status = 400) => Object.assign(new Error(`${name}: detail`), { name, $metadata: { httpStatusCode: status } });

function setup(overrides: Partial<StartRecordDependencies> = {}) {
  const deps: StartRecordDependencies = {
    settings: { jobNamePrefix: 'tkp.t.', inputBucket: INPUT_BUCKET, transcriptBucket: 'out', ruleIndex: buildRuleIndex(config.rules) },
    resolveKey: createKeyResolver(async () => ({ KeyId: 'k', Arn: ARN, AWSAccountId: '123456789012', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' })),
    startJob: vi.fn(async () => undefined),
    mediaUriOfJob: vi.fn(async () => undefined),
    maxReceiveCount: 5,
    sendToDeadLetterQueue: vi.fn(async () => undefined),
    delayRedelivery: vi.fn(async () => undefined),
    requeue: vi.fn(async () => undefined),
    onOutcome: vi.fn(),
    onTestEvent: vi.fn(),
    onDeadLetter: vi.fn(),
    onRetry: vi.fn(),
    random: () => 0.5,
    ...overrides,
  };
  return deps;
}

function record(body: unknown, receiveCount = 1): SQSRecord {
  const base = loadEvent('sqs-s3-put.json').Records[0];
  return { ...base, body: typeof body === 'string' ? body : JSON.stringify(body), attributes: { ...base.attributes, ApproximateReceiveCount: String(receiveCount) } };
}

function s3Put(key: string, size = 100) {
  const event = loadEvent('s3-put.json');
  event.Records[0].s3.object.key = key;
  event.Records[0].s3.object.size = size;
  return event;
}

describe('processStartRecord', () => {
  it('hands a record whose dead letter the DLQ refuses back to the queue as after a fault, logging the refusal, which names the grant', async () => {
    const refusal = awsError('AccessDenied', 403);
    const deps = setup({ sendToDeadLetterQueue: vi.fn(async () => Promise.reject(refusal)) });
    await expect(processStartRecord(deps, record('not json'))).rejects.toBe(refusal);
    expect(deps.sendToDeadLetterQueue).toHaveBeenCalledWith(expect.objectContaining({ errorName: 'EventShapeError', body: 'not json' }));
    expect(deps.onDeadLetter).not.toHaveBeenCalled();
    expect(deps.onRetry).toHaveBeenCalledWith(refusal, expect.any(Number), 1);
    expect(deps.delayRedelivery).toHaveBeenCalledTimes(1);
  });

  it('dead-letters a record from a bucket other than the input bucket, with the reason, and starts nothing', async () => {
    const deps = setup();
    const event = s3Put('calls/a.wav');
    event.Records[0].s3.bucket.name = 'someone-elses-bucket';
    await processStartRecord(deps, record(event));
    expect(deps.startJob).not.toHaveBeenCalled();
    expect(deps.sendToDeadLetterQueue).toHaveBeenCalledWith(
      expect.objectContaining({
        errorName: 'ForeignBucketError',
        reason: expect.stringContaining(`only transcribes its input bucket ${INPUT_BUCKET}`),
      }),
    );
  });

  it('starts one job under the rule key and reports it', async () => {
    const deps = setup();
    await processStartRecord(deps, record(s3Put('calls/a.wav')));
    expect(deps.startJob).toHaveBeenCalledTimes(1);
    expect(vi.mocked(deps.startJob).mock.calls[0]?.[0]).toMatchObject({ jobType: 'transcription', input: { OutputEncryptionKMSKeyId: ARN, MediaFormat: 'wav' } });
    expect(deps.onOutcome).toHaveBeenCalledWith(expect.objectContaining({ outcome: 'started', rulePrefix: 'calls/' }), expect.objectContaining({ key: 'calls/a.wav' }));
  });

  it('skips an object no rule matches, without calling Transcribe', async () => {
    const deps = setup();
    await processStartRecord(deps, record(s3Put('other/a.wav')));
    expect(deps.startJob).not.toHaveBeenCalled();
    expect(deps.onOutcome).toHaveBeenCalledWith({ outcome: 'skipped', reason: 'no rule matches the key' }, expect.anything());
  });

  it('skips an unsupported file with its reason', async () => {
    const deps = setup();
    await processStartRecord(deps, record(s3Put('public/notes.txt')));
    expect(deps.onOutcome).toHaveBeenCalledWith(expect.objectContaining({ outcome: 'skipped', reason: expect.stringContaining('unsupported extension .txt') }), expect.anything());
  });

  it('treats ConflictException for its own job as already started', async () => {
    const deps = setup({
      startJob: vi.fn(async () => {
        throw awsError('ConflictException');
      }),
      mediaUriOfJob: vi.fn(async () => 's3://tkp-dev-input-123456789012-us-east-1/calls/a.wav'),
    });
    await processStartRecord(deps, record(s3Put('calls/a.wav')));
    expect(deps.onOutcome).toHaveBeenCalledWith(expect.objectContaining({ outcome: 'already-started' }), expect.anything());
    expect(deps.sendToDeadLetterQueue).not.toHaveBeenCalled();
  });

  it('dead-letters a ConflictException for a job about other media', async () => {
    const deps = setup({
      startJob: vi.fn(async () => {
        throw awsError('ConflictException');
      }),
      mediaUriOfJob: vi.fn(async () => 's3://elsewhere/x.wav'),
    });
    await processStartRecord(deps, record(s3Put('calls/a.wav')));
    expect(vi.mocked(deps.sendToDeadLetterQueue).mock.calls[0]?.[0]).toMatchObject({ errorName: 'JobNameTakenError', reason: expect.stringContaining('already used by a job for s3://elsewhere/x.wav') });
  });

  it('leaves a LimitExceededException on the queue with a quota backoff', async () => {
    const deps = setup({
      startJob: vi.fn(async () => {
        throw awsError('LimitExceededException');
      }),
    });
    const sqs = record(s3Put('calls/a.wav'), 2);
    await expect(processStartRecord(deps, sqs)).rejects.toThrow(/must be retried/);
    expect(deps.delayRedelivery).toHaveBeenCalledWith(sqs.receiptHandle, retryDelaySeconds(2, true, () => 0.5));
    expect(deps.sendToDeadLetterQueue).not.toHaveBeenCalled();
  });

  it('leaves a 5xx on the queue', async () => {
    const deps = setup({
      startJob: vi.fn(async () => {
        throw awsError('InternalFailureException', 500);
      }),
    });
    await expect(processStartRecord(deps, record(s3Put('calls/a.wav')))).rejects.toThrow();
    expect(deps.onRetry).toHaveBeenCalled();
  });

  it('dead-letters a BadRequestException with the reason instead of retrying it', async () => {
    const deps = setup({
      startJob: vi.fn(async () => {
        throw awsError('BadRequestException');
      }),
    });
    await processStartRecord(deps, record(s3Put('calls/a.wav')));
    expect(deps.sendToDeadLetterQueue).toHaveBeenCalledWith(
      expect.objectContaining({ errorName: 'StartRejectedError', reason: expect.stringMatching(/Transcribe rejected job tkp\.t\.a-[0-9a-f]+ for rules\[0\] \(prefix "calls\/"\)/) }),
    );
  });

  it('dead-letters a recording that can never be a job, naming the object, the rule and what to do, and starts nothing', async () => {
    const deps = setup();
    await processStartRecord(deps, record(s3Put('calls/Interview 3.aiff')));
    expect(deps.startJob).not.toHaveBeenCalled();
    expect(vi.mocked(deps.sendToDeadLetterQueue).mock.calls[0]?.[0]).toMatchObject({
      errorName: 'UnsupportedRecordingError',
      reason: expect.stringMatching(/^UnsupportedRecordingError: s3:\/\/\S+\/calls\/Interview 3\.aiff \(rules\[0\] \(prefix "calls\/"\)\): \.aiff is a recording format Transcribe does not take/),
    });
  });

  it('dead-letters an unusable key', async () => {
    const deps = setup({ resolveKey: createKeyResolver(async () => ({ KeyId: 'k', Arn: ARN, AWSAccountId: '1', KeyState: 'Disabled' })) });
    await processStartRecord(deps, record(s3Put('calls/a.wav')));
    expect(vi.mocked(deps.sendToDeadLetterQueue).mock.calls[0]?.[0]).toMatchObject({ errorName: 'KeyNotUsableError' });
    expect(deps.startJob).not.toHaveBeenCalled();
  });

  it('dead-letters a transient failure once the receive budget is spent, saying so', async () => {
    const deps = setup({
      startJob: vi.fn(async () => {
        throw awsError('LimitExceededException');
      }),
    });
    await processStartRecord(deps, record(s3Put('calls/a.wav'), 5));
    expect(vi.mocked(deps.sendToDeadLetterQueue).mock.calls[0]?.[0]).toMatchObject({ receiveCount: 5, reason: expect.stringMatching(/^gave up after 5 attempts: TransientAwsError/) });
  });

  it('dead-letters a non-JSON body, keeping the body', async () => {
    const deps = setup();
    await processStartRecord(deps, record('not json'));
    expect(deps.sendToDeadLetterQueue).toHaveBeenCalledWith(expect.objectContaining({ body: 'not json', errorName: 'EventShapeError' }));
  });

  it('reports the S3 test event without dead-lettering it', async () => {
    const deps = setup();
    await processStartRecord(deps, record({ Service: 'Amazon S3', Event: 's3:TestEvent' }));
    expect(deps.onTestEvent).toHaveBeenCalled();
    expect(deps.sendToDeadLetterQueue).not.toHaveBeenCalled();
  });

  it('retries the message when the dead-letter queue cannot be written, so nothing is lost', async () => {
    const deps = setup({ sendToDeadLetterQueue: vi.fn(async () => Promise.reject(new Error('SQS down'))) });
    await expect(processStartRecord(deps, record('not json'))).rejects.toThrow('SQS down');
  });
});

describe('retryDelaySeconds', () => {
  it('grows with each receive and caps at 15 minutes', () => {
    const half = () => 0.5;
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => retryDelaySeconds(n, true, half));
    expect(delays).toEqual([8, 15, 30, 60, 120, 240, 480, 675, 675]);
  });

  it('starts lower for non-quota errors', () => {
    expect(retryDelaySeconds(1, false, () => 0)).toBe(1);
    expect(retryDelaySeconds(1, false, () => 1)).toBe(2);
  });
});

describe('handleStartEvent', () => {
  const queueBatch = vi.fn(async () => ({ batchItemFailures: [] }));

  it('hands a start-queue batch to the batch processor untouched', async () => {
    const deps = setup();
    const event = loadEvent('sqs-s3-put.json');
    expect(await handleStartEvent(deps, event, queueBatch)).toEqual({ batchItemFailures: [] });
    expect(queueBatch).toHaveBeenCalledWith(event);
    expect(deps.startJob).not.toHaveBeenCalled();
  });

  it('handles an S3 event delivered directly, record by record, as a first receive', async () => {
    const deps = setup();
    const event = s3Put('calls/a.wav');
    event.Records.push(s3Put('public/b.mp3').Records[0], s3Put('other/c.wav').Records[0]);
    expect(await handleStartEvent(deps, event, queueBatch)).toBeUndefined();
    expect(vi.mocked(deps.startJob).mock.calls.map(([job]) => job.input.Media?.MediaFileUri)).toEqual([`s3://${INPUT_BUCKET}/calls/a.wav`, `s3://${INPUT_BUCKET}/public/b.mp3`]);
    expect(vi.mocked(deps.onOutcome).mock.calls.map(([outcome]) => outcome.outcome)).toEqual(['started', 'started', 'skipped']);
    expect(deps.sendToDeadLetterQueue).not.toHaveBeenCalled();
  });

  it('puts a directly delivered record that must wait (a full quota) on the start queue with its delay, and dead-letters one that cannot be handled', async () => {
    const quota = awsError('LimitExceededException');
    const deps = setup({ startJob: vi.fn(async () => Promise.reject(quota)) });
    const event = s3Put('calls/a.wav');
    const foreign = s3Put('calls/b.wav').Records[0];
    foreign.s3.bucket.name = 'someone-elses-bucket';
    event.Records.push(foreign);
    await handleStartEvent(deps, event, queueBatch);
    expect(deps.requeue).toHaveBeenCalledTimes(1);
    const [body, delay] = vi.mocked(deps.requeue).mock.calls[0] ?? [];
    expect(JSON.parse(body as string)).toEqual({ Records: [event.Records[0]] });
    expect(delay).toBeGreaterThanOrEqual(5);
    expect(deps.onRetry).toHaveBeenCalledWith(expect.anything(), delay, 1);
    expect(deps.sendToDeadLetterQueue).toHaveBeenCalledWith(
      expect.objectContaining({ errorName: 'ForeignBucketError', body: JSON.stringify({ Records: [foreign] }), sourceMessageId: 'none: S3 record 1, delivered directly' }),
    );
  });

  it('dead-letters an event of neither kind with what is wrong, and fails the invocation with the same words', async () => {
    for (const [event, problem] of [
      [{}, 'it has no Records array'],
      ['x', 'it has no Records array'],
      [{ Records: [{ foo: 1 }] }, 'Records[0] (eventSource missing) is not an SQS message ("aws:sqs") or an S3 event record ("aws:s3")'],
      [{ Records: [loadEvent('sqs-s3-put.json').Records[0], s3Put('calls/a.wav').Records[0]] }, 'Records[1] (eventSource "aws:s3") is not an SQS message with a string body and messageId, like Records[0]'],
      [{ Records: [s3Put('calls/a.wav').Records[0], { eventSource: 'aws:sqs' }] }, 'Records[1] (eventSource "aws:sqs") is not an S3 event record, like Records[0]'],
      [{ Records: [{ eventSource: 'aws:sqs', messageId: 'm' }] }, 'Records[0] (eventSource "aws:sqs") is not an SQS message with a string body and messageId, like Records[0]'],
    ] as const) {
      const deps = setup();
      const message = `the start function takes an SQS event from the start queue or an S3 event notification; ${problem}`;
      await expect(handleStartEvent(deps, event, queueBatch)).rejects.toThrow(message);
      expect(deps.sendToDeadLetterQueue).toHaveBeenCalledWith({ body: JSON.stringify(event), reason: `EventShapeError: ${message}`, errorName: 'EventShapeError', sourceMessageId: 'none: not an SQS message', receiveCount: 1 });
    }
    expect(startEventShape({ Records: [] })).toEqual({ kind: 'sqs' });
  });
});
