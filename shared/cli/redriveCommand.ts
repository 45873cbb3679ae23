/**
 * `tkp redrive`: after fixing what the start DLQ's reasons name, move its messages back to the
 * start queue (all of them, or those of one error name), or with --dry-run only list them.
 */
import type { CliEnvironment } from '../config/settings';
import { redriveDeadLetters, type RedriveReport } from '../start/redriveDeadLetters';
import { createRedriveAdapters, REDRIVE_VISIBILITY_SECONDS } from './cliAdapters';
import { openStack, type StackOptions } from './cliAws';
import { EXIT } from './cliErrors';
import type { TerminalOutput } from './terminalOutput';

export interface RedriveOptions extends StackOptions {
  dryRun?: boolean;
  errorName?: string;
}

/** Lines printed per message; the JSON document has them all. */
const SHOWN = 50;

export async function runRedrive(options: RedriveOptions, env: CliEnvironment, out: TerminalOutput): Promise<number> {
  const { clients, targets } = await openStack(options, env, ['startQueueUrl', 'startDeadLetterQueueUrl']);
  const dlq = targets.startDeadLetterQueueUrl as string;
  const startQueue = targets.startQueueUrl as string;
  const scope = options.errorName === undefined ? '' : ` (only ${options.errorName})`;
  out.line(`tkp redrive: ${dlq} -> ${startQueue}${scope}${options.dryRun ? ' (dry run: nothing is moved)' : ''}`);
  const progress = out.progress(options.dryRun ? 'reading' : 'moving');
  let shown = 0;
  const report = await redriveDeadLetters(createRedriveAdapters(clients.sqs, dlq, startQueue), { dryRun: Boolean(options.dryRun), ...(options.errorName !== undefined && { errorName: options.errorName }) }, (r) => {
    progress.increment(r.read - shown);
    shown = r.read;
  }).finally(() => progress.stop());
  if (out.json) out.document({ command: 'redrive', stage: targets.stage, deadLetterQueueUrl: dlq, startQueueUrl: startQueue, dryRun: Boolean(options.dryRun), ...report });
  else printReport(report, out, Boolean(options.dryRun));
  return report.failed > 0 ? EXIT.findings : EXIT.ok;
}

function printReport(report: RedriveReport, out: TerminalOutput, dryRun: boolean): void {
  if (report.read === 0) {
    out.line('The start DLQ is empty: nothing to move.');
    return;
  }
  for (const { errorName, count } of report.byErrorName) out.line(`  ${String(count).padStart(6)}  ${errorName}`);
  for (const m of report.messages.slice(0, SHOWN)) {
    const mark = m.action === 'moved' ? out.colour.green('→') : m.action === 'failed' ? out.colour.red('✘') : '·';
    out.line(`  ${mark} ${m.objects.join(', ')}${m.note ? ` [${m.note}]` : ''}`);
    out.line(`      ${m.reason.split('\n')[0]}`);
  }
  if (report.messages.length > SHOWN) out.line(`  ... and ${report.messages.length - SHOWN} more (--json lists them all)`);
  out.line(
    dryRun
      ? `${report.read} message(s) in the start DLQ. Fix what their reasons name, then run tkp redrive without --dry-run (--error-name NAME moves only those).`
      : `${report.read} message(s) read: ${report.moved} moved to the start queue, ${report.kept} left in the DLQ, ${report.failed} failed.`,
  );
  if (report.stoppedBy) out.line(out.colour.red(`Stopped at the first failure: ${report.stoppedBy}`));
  if (report.notReleased) out.line(`The messages left in the DLQ stay hidden for ${REDRIVE_VISIBILITY_SECONDS / 60} minutes (making them visible again failed: ${report.notReleased}).`);
  if (!dryRun && report.moved > 0) {
    out.line('The start function takes them with its usual pacing; one whose problem is not fixed comes back to the DLQ with its reason, and an upload that did become a job meanwhile is not started again.');
  }
}
