import { describe, expect, it } from 'vitest';
import { NO_ERROR_NAME, startLetterView } from '../../../../shared/cli/redrive/deadLetterViews';
import { redriveDeadLetters, type DeadLetterMessage, type RedriveDependencies } from '../../../../shared/cli/redrive/redriveDeadLetters';
import { s3EventFor } from '../../../../shared/start/backfillUploads';

const event = (key: string) => s3EventFor('in-bucket', 'us-east-1', { key, size: 10, eTag: 'abc' });

/** An SQS queue as the loop sees it: each message read once while hidden, visible again when released. */
function fakeQueue(messages: DeadLetterMessage[], options: { failSendOf?: string; failRelease?: boolean; receiveAgain?: boolean } = {}) {
  const visible = [...messages];
  const sent: string[] = [];
  const removed: string[] = [];
  const released: string[] = [];
  const deps: RedriveDependencies = {
    receive: async () => {
      const batch = visible.splice(0, 3);
      // SQS may hand a message out again (a visibility timeout passed): it must not be moved twice.
      if (options.receiveAgain && batch.length > 0 && removed.length === 0) visible.push(batch[0] as DeadLetterMessage);
      return batch;
    },
    describe: startLetterView,
    send: async ({ payload: body }) => {
      if (options.failSendOf && body.includes(options.failSendOf)) throw new Error('SendMessage on START was denied; the caller needs sqs:SendMessage on that queue');
      sent.push(body);
    },
    remove: async (handle) => {
      removed.push(handle);
    },
    release: async (handles) => {
      if (options.failRelease) throw new Error('ChangeMessageVisibilityBatch was denied');
      released.push(...handles);
    },
  };
  return { deps, sent, removed, released };
}

const letter = (n: number, errorName?: string, key = `calls/${n}.wav`): DeadLetterMessage => ({
  messageId: `m${n}`,
  receiptHandle: `h${n}`,
  body: event(key),
  attributes: errorName ? { errorName, reason: `${errorName} for ${key}` } : {},
});

describe('redriveDeadLetters', () => {
  it('sends every message\'s body to the start queue unchanged, then deletes it from the DLQ, counting by error name', async () => {
    const messages = [letter(1, 'KeyNotUsableError'), letter(2, 'KeyNotUsableError'), letter(3, 'StartRejectedError'), letter(4, 'KeyNotUsableError'), letter(5)];
    const queue = fakeQueue(messages);
    const report = await redriveDeadLetters(queue.deps, { dryRun: false });
    expect(queue.sent).toEqual(messages.map((m) => m.body));
    expect(queue.removed).toEqual(['h1', 'h2', 'h3', 'h4', 'h5']);
    expect(queue.released).toEqual([]);
    expect(report).toMatchObject({ read: 5, moved: 5, kept: 0, failed: 0 });
    expect(report.byErrorName).toEqual([
      { errorName: 'KeyNotUsableError', count: 3 },
      { errorName: NO_ERROR_NAME, count: 1 },
      { errorName: 'StartRejectedError', count: 1 },
    ]);
    expect(report.messages[4]).toMatchObject({ errorName: NO_ERROR_NAME, reason: expect.stringMatching(/no reason recorded/), objects: ['s3://in-bucket/calls/5.wav'] });
  });

  it('in a dry run sends and deletes nothing, and makes every message visible again', async () => {
    const queue = fakeQueue([letter(1, 'KeyNotUsableError'), letter(2, 'StartRejectedError', 'calls/a b.wav')]);
    const report = await redriveDeadLetters(queue.deps, { dryRun: true });
    expect(queue.sent).toEqual([]);
    expect(queue.removed).toEqual([]);
    expect(queue.released).toEqual(['h1', 'h2']);
    expect(report).toMatchObject({ read: 2, moved: 0, kept: 2 });
    expect(report.messages[1]).toMatchObject({ objects: ['s3://in-bucket/calls/a b.wav'], reason: 'StartRejectedError for calls/a b.wav', action: 'kept', note: 'dry run' });
  });

  it('with an error name moves only those and leaves the rest in the DLQ', async () => {
    const queue = fakeQueue([letter(1, 'KeyNotUsableError'), letter(2, 'StartRejectedError'), letter(3, 'KeyNotUsableError'), letter(4)]);
    const report = await redriveDeadLetters(queue.deps, { dryRun: false, errorName: 'KeyNotUsableError' });
    expect(queue.removed).toEqual(['h1', 'h3']);
    expect(queue.released).toEqual(['h2', 'h4']);
    expect(report.messages.map((m) => [m.messageId, m.action, m.note])).toEqual([
      ['m1', 'moved', undefined],
      ['m2', 'kept', 'not KeyNotUsableError'],
      ['m3', 'moved', undefined],
      ['m4', 'kept', 'not KeyNotUsableError'],
    ]);
  });

  it('stops at the first send that fails, keeps that message and every later one, and says why', async () => {
    const queue = fakeQueue([letter(1, 'KeyNotUsableError'), letter(2, 'KeyNotUsableError'), letter(3, 'KeyNotUsableError'), letter(4, 'KeyNotUsableError')], { failSendOf: 'calls/2.wav' });
    const report = await redriveDeadLetters(queue.deps, { dryRun: false });
    expect(queue.removed).toEqual(['h1']);
    expect(queue.released).toEqual(['h2', 'h3']);
    expect(report).toMatchObject({ read: 3, moved: 1, kept: 1, failed: 1, stoppedBy: expect.stringMatching(/needs sqs:SendMessage/) });
    expect(report.messages[2]).toMatchObject({ action: 'kept', note: 'not tried: the run stopped at a failure' });
  });

  it('leaves a letter that comes straight back (its problem not fixed) for the next run instead of moving it for ever', async () => {
    const startedAt = 1_000_000;
    const queue = fakeQueue([{ ...letter(1, 'StartRejectedError'), sentAt: startedAt - 60_000 }]);
    // The start function dead-letters each moved body again at once: a new message, sent after the run began.
    const bounced: DeadLetterMessage[] = [];
    const { send, receive } = queue.deps;
    queue.deps.send = async (retry) => {
      await send(retry);
      const n = queue.sent.length;
      bounced.push({ messageId: `b${n}`, receiptHandle: `hb${n}`, body: retry.payload, attributes: { errorName: 'StartRejectedError', reason: 'again' }, sentAt: startedAt + n });
    };
    queue.deps.receive = async () => [...(await receive()), ...bounced.splice(0)];
    const report = await redriveDeadLetters(queue.deps, { dryRun: false, startedAt });
    expect(report).toMatchObject({ read: 2, moved: 1, kept: 1 });
    expect(report.messages[1]).toMatchObject({ messageId: 'b1', action: 'kept', note: expect.stringMatching(/^dead-lettered during this run/) });
    expect(queue.sent).toHaveLength(1);
    expect(queue.released).toEqual(['hb1']);
  });

  it('keeps a letter that no retry can help, even outside a dry run, with why', async () => {
    const queue = fakeQueue([letter(1, 'KeyNotUsableError'), letter(2, 'KeyNotUsableError')]);
    const describe = queue.deps.describe;
    queue.deps.describe = (message) => ({ ...describe(message), ...(message.messageId === 'm2' && { stays: 'a Mismatch verdict, already published' }) });
    const report = await redriveDeadLetters(queue.deps, { dryRun: false });
    expect(queue.removed).toEqual(['h1']);
    expect(queue.released).toEqual(['h2']);
    expect(report.messages[1]).toMatchObject({ action: 'kept', note: 'a Mismatch verdict, already published' });
  });

  it('with discard deletes that error name\'s letters unsent, those that stay included, and in a dry run only says it would', async () => {
    const messages = [letter(1, 'KeyNotUsableError'), letter(2, 'UnsupportedRecordingError'), letter(3, 'UnsupportedRecordingError')];
    const dry = fakeQueue(messages);
    const preview = await redriveDeadLetters(dry.deps, { dryRun: true, discard: 'UnsupportedRecordingError' });
    expect(dry.removed).toEqual([]);
    expect(preview.messages.map((m) => m.note)).toEqual(['dry run', 'dry run: would be discarded', 'dry run: would be discarded']);
    const queue = fakeQueue(messages);
    const report = await redriveDeadLetters(queue.deps, { dryRun: false, discard: 'UnsupportedRecordingError', errorName: 'StartRejectedError' });
    expect(queue.sent).toEqual([]);
    expect(queue.removed).toEqual(['h2', 'h3']);
    expect(queue.released).toEqual(['h1']);
    expect(report).toMatchObject({ read: 3, moved: 0, discarded: 2, kept: 1 });
  });

  it('moves a message handed out twice only once', async () => {
    const queue = fakeQueue([letter(1, 'KeyNotUsableError'), letter(2, 'KeyNotUsableError')], { receiveAgain: true });
    const report = await redriveDeadLetters(queue.deps, { dryRun: false });
    expect(queue.sent).toHaveLength(2);
    expect(report.read).toBe(2);
  });

  it('reports kept messages it could not make visible again instead of failing the run', async () => {
    const queue = fakeQueue([letter(1, 'KeyNotUsableError')], { failRelease: true });
    const report = await redriveDeadLetters(queue.deps, { dryRun: true });
    expect(report).toMatchObject({ kept: 1, notReleased: 'ChangeMessageVisibilityBatch was denied' });
  });
});
