/**
 * `tkp redrive`'s loop over one dead-letter queue: each message is read once per run (hidden for
 * longer than the run), described (deadLetterViews.ts says what it is, and whether it can be
 * tried again), sent where it came from (the start queue, or an invocation of the function that
 * failed on it), then deleted; or, with `discard`, deleted unsent (what no retry can help, once a
 * person has dealt with it). What is kept (a dry run, another error name than asked, a message that
 * no retry can help, a failed send, which ends the run) is made visible again at the end.
 */
export interface DeadLetterMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** The message's string attributes (the start function's `reason` and `errorName`, EventBridge's `ERROR_CODE`, ...). */
  attributes: Record<string, string>;
  /** When SQS received it (SentTimestamp, ms). */
  sentAt?: number;
}

/** What a dead letter is, for a person, and where it goes to be tried again. */
export interface LetterView {
  errorName: string;
  reason: string;
  /** What the message is about: the objects of an upload, the job of a completion event. */
  objects: string[];
  /** What a person must read in the message itself (an undelivered page). */
  content?: string;
  /** Set when no retry can help: why it stays, and what to do instead. */
  stays?: string;
  /** The payload to try again: a message body for the start queue, or an event for `functionName`. */
  retry: { payload: string; functionName?: string };
}

export interface RedriveDependencies {
  /** Up to 10 messages, hidden from other readers for longer than the run; none when the queue is empty. */
  receive(): Promise<DeadLetterMessage[]>;
  describe(message: DeadLetterMessage): LetterView;
  send(retry: LetterView['retry']): Promise<void>;
  remove(receiptHandle: string): Promise<void>;
  /** Makes kept messages visible again at once. */
  release(receiptHandles: string[]): Promise<void>;
}

export type RedriveAction = 'moved' | 'discarded' | 'kept' | 'failed';

export interface RedrivenMessage {
  messageId: string;
  errorName: string;
  reason: string;
  objects: string[];
  content?: string;
  action: RedriveAction;
  /** Why a message was kept or could not be moved. */
  note?: string;
}

export interface RedriveReport {
  read: number;
  moved: number;
  /** Deleted unread by anything, as --discard asked: what no retry can help, once dealt with. */
  discarded: number;
  kept: number;
  failed: number;
  /** The send or delete that failed, which ended the run: the rest was left in the DLQ. */
  stoppedBy?: string;
  /** Why the kept messages could not be made visible again (they reappear after the run's visibility timeout). */
  notReleased?: string;
  /** Messages by error name, most first. */
  byErrorName: { errorName: string; count: number }[];
  messages: RedrivenMessage[];
}

/**
 * Moves only what was in the DLQ when the run began (`startedAt`): a letter whose problem is not
 * fixed comes straight back, as a new message, and moving that one too would never end.
 */
export async function redriveDeadLetters(
  deps: RedriveDependencies,
  options: { dryRun: boolean; errorName?: string; discard?: string; startedAt?: number },
  onProgress: (report: RedriveReport) => void = () => {},
): Promise<RedriveReport> {
  const startedAt = options.startedAt ?? Date.now();
  const report: RedriveReport = { read: 0, moved: 0, discarded: 0, kept: 0, failed: 0, byErrorName: [], messages: [] };
  const seen = new Set<string>();
  const kept: string[] = [];
  try {
    while (report.stoppedBy === undefined) {
      const batch = (await deps.receive()).filter((message) => !seen.has(message.messageId));
      if (batch.length === 0) break;
      for (const message of batch) {
        seen.add(message.messageId);
        report.read++;
        const view = deps.describe(message);
        const entry: RedrivenMessage = { messageId: message.messageId, errorName: view.errorName, reason: view.reason, objects: view.objects, ...(view.content !== undefined && { content: view.content }), action: 'kept' };
        const discard = options.discard !== undefined && view.errorName === options.discard;
        if (options.dryRun) entry.note = discard ? 'dry run: would be discarded' : view.stays !== undefined ? view.stays : 'dry run';
        else if (report.stoppedBy !== undefined) entry.note = 'not tried: the run stopped at a failure';
        else if (message.sentAt !== undefined && message.sentAt >= startedAt) entry.note = 'dead-lettered during this run (again, if its problem is not fixed): left for the next run';
        else if (!discard && view.stays !== undefined) entry.note = view.stays;
        else if (!discard && options.errorName !== undefined && view.errorName !== options.errorName) entry.note = `not ${options.errorName}`;
        else {
          try {
            if (!discard) await deps.send(view.retry);
            await deps.remove(message.receiptHandle);
            entry.action = discard ? 'discarded' : 'moved';
          } catch (error) {
            // Whatever refused this one (a missing grant, the queue gone) refuses the rest.
            entry.action = 'failed';
            entry.note = (error as Error).message;
            report.stoppedBy = entry.note;
          }
        }
        if (entry.action === 'kept' || entry.action === 'failed') kept.push(message.receiptHandle);
        report[entry.action]++;
        report.messages.push(entry);
      }
      onProgress(report);
    }
  } finally {
    if (kept.length > 0) {
      // Not fatal: they reappear by themselves once the run's visibility timeout passes.
      await deps.release(kept).catch((error: unknown) => {
        report.notReleased = (error as Error).message;
      });
    }
  }
  const counts = new Map<string, number>();
  for (const m of report.messages) counts.set(m.errorName, (counts.get(m.errorName) ?? 0) + 1);
  report.byErrorName = [...counts].map(([errorName, count]) => ({ errorName, count })).sort((a, b) => b.count - a.count || a.errorName.localeCompare(b.errorName));
  return report;
}
