/**
 * `tkp redrive`: the start DLQ's messages moved back to the start queue once what their reasons
 * name is fixed (the key enabled, the grant added). Most of them were sent there by the start
 * function itself, not moved by the queue's redrive policy, so SQS records no source queue for
 * them and a move task must be told the destination; this loop always sends to the start queue.
 * Each message is read once per run (hidden for longer than the run), sent to the start queue,
 * then deleted from the DLQ; what is kept (a dry run, another error name than asked, a failed
 * send, which ends the run) is made visible again at the end. The start function takes each as a new delivery, and
 * its job name is deterministic, so an upload that did become a job meanwhile is not started twice.
 */
import { parseS3Notification } from './s3Notification';

export interface DeadLetterMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** The start function's `reason` and `errorName` attributes; absent on a message moved by the redrive policy. */
  reason?: string;
  errorName?: string;
  /** When SQS received it (SentTimestamp, ms). */
  sentAt?: number;
}

export interface RedriveDependencies {
  /** Up to 10 messages, hidden from other readers for longer than the run; none when the queue is empty. */
  receive(): Promise<DeadLetterMessage[]>;
  send(body: string): Promise<void>;
  remove(receiptHandle: string): Promise<void>;
  /** Makes kept messages visible again at once. */
  release(receiptHandles: string[]): Promise<void>;
}

export type RedriveAction = 'moved' | 'kept' | 'failed';

export interface RedrivenMessage {
  messageId: string;
  errorName: string;
  reason: string;
  /** The objects the message is about, or what the body is when it is not an S3 event. */
  objects: string[];
  action: RedriveAction;
  /** Why a message was kept or could not be moved. */
  note?: string;
}

export interface RedriveReport {
  read: number;
  moved: number;
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

/** A message the start function did not write: the queue's redrive policy moved it. */
export const NO_ERROR_NAME = '(none: moved by the redrive policy)';

/** The objects a dead-lettered body names, for the operator to recognise. */
export function objectsOf(body: string): string[] {
  try {
    const notification = parseS3Notification(body);
    return notification.kind === 'test-event' ? ['(s3:TestEvent)'] : notification.objects.map((o) => `s3://${o.bucket}/${o.key}`);
  } catch {
    return [`(not an S3 event: ${JSON.stringify(body.slice(0, 60))})`];
  }
}

/**
 * Moves only what was in the DLQ when the run began (`startedAt`): a letter whose problem is not
 * fixed comes straight back, as a new message, and moving that one too would never end.
 */
export async function redriveDeadLetters(
  deps: RedriveDependencies,
  options: { dryRun: boolean; errorName?: string; startedAt?: number },
  onProgress: (report: RedriveReport) => void = () => {},
): Promise<RedriveReport> {
  const startedAt = options.startedAt ?? Date.now();
  const report: RedriveReport = { read: 0, moved: 0, kept: 0, failed: 0, byErrorName: [], messages: [] };
  const seen = new Set<string>();
  const kept: string[] = [];
  try {
    while (report.stoppedBy === undefined) {
      const batch = (await deps.receive()).filter((message) => !seen.has(message.messageId));
      if (batch.length === 0) break;
      for (const message of batch) {
        seen.add(message.messageId);
        report.read++;
        const errorName = message.errorName ?? NO_ERROR_NAME;
        const entry: RedrivenMessage = { messageId: message.messageId, errorName, reason: message.reason ?? 'no reason recorded: see the start function\'s logs', objects: objectsOf(message.body), action: 'kept' };
        if (options.dryRun) entry.note = 'dry run';
        else if (report.stoppedBy !== undefined) entry.note = 'not tried: the run stopped at a failure';
        else if (message.sentAt !== undefined && message.sentAt >= startedAt) entry.note = 'dead-lettered during this run (again, if its problem is not fixed): left for the next run';
        else if (options.errorName !== undefined && errorName !== options.errorName) entry.note = `not ${options.errorName}`;
        else {
          try {
            await deps.send(message.body);
            await deps.remove(message.receiptHandle);
            entry.action = 'moved';
          } catch (error) {
            // Whatever refused this one (a missing grant, the queue gone) refuses the rest.
            entry.action = 'failed';
            entry.note = (error as Error).message;
            report.stoppedBy = entry.note;
          }
        }
        if (entry.action !== 'moved') kept.push(message.receiptHandle);
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
