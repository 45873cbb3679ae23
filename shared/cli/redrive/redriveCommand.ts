/**
 * `tkp redrive`: after fixing what the dead letters' reasons name, try them again: the start
 * DLQ's uploads go back to the start queue; with --verify, the verify DLQ's failed verifications
 * and sweeps are invoked again. --dry-run only lists them; --error-name narrows to one kind;
 * --discard deletes one kind that no retry can help, once a person has dealt with it.
 */
import type { CliEnvironment } from '../../config/settings';
import { functionName } from '../../stack/stackNames';
import { createStartRedriveAdapters, createVerifyRedriveAdapters, REDRIVE_VISIBILITY_SECONDS } from './redriveAdapters';
import { openStack, SERVICE_NAME, type StackOptions } from '../cliAws';
import { CliError, EXIT } from '../cliErrors';
import { redriveDeadLetters, type RedriveReport } from './redriveDeadLetters';
import { terminalText, type TerminalOutput } from '../terminalOutput';

export interface RedriveOptions extends StackOptions {
  verify?: boolean;
  dryRun?: boolean;
  errorName?: string;
  discard?: string;
}

/** Lines printed per message; the JSON document has them all. */
const SHOWN = 50;

export async function runRedrive(options: RedriveOptions, env: CliEnvironment, out: TerminalOutput): Promise<number> {
  for (const [flag, value] of [['--error-name', options.errorName], ['--discard', options.discard]] as const) {
    if (value !== undefined && value.trim() === '') throw new CliError(`${flag} is empty; pass an error name from the DLQ's list (tkp redrive${options.verify ? ' --verify' : ''} --dry-run counts its messages by error name)`);
  }
  const stack = await openStack(options, env, options.verify ? ['verifyDeadLetterQueueUrl'] : ['startQueueUrl', 'startDeadLetterQueueUrl']);
  const { clients, targets } = stack;
  const stackNamed = { service: SERVICE_NAME, stage: targets.stage };
  const functions = { verify: functionName(stackNamed, 'verify'), sweep: functionName(stackNamed, 'sweep') };
  const dlq = (options.verify ? targets.verifyDeadLetterQueueUrl : targets.startDeadLetterQueueUrl) as string;
  const destination = options.verify ? `${functions.verify} and ${functions.sweep}, invoked again` : (targets.startQueueUrl as string);
  const deps = options.verify ? createVerifyRedriveAdapters(clients, dlq, functions) : createStartRedriveAdapters(clients.sqs, dlq, targets.startQueueUrl as string);
  const scope = [options.errorName !== undefined && ` (only ${options.errorName})`, options.discard !== undefined && ` (discarding ${options.discard})`].filter(Boolean).join('');
  out.line(`tkp redrive: ${dlq} -> ${destination}${scope}${options.dryRun ? ' (dry run: nothing is moved)' : ''}`);
  const progress = out.progress(options.dryRun ? 'reading' : 'moving');
  let shown = 0;
  const choice = { ...(options.errorName !== undefined && { errorName: options.errorName }), ...(options.discard !== undefined && { discard: options.discard }) };
  const report = await redriveDeadLetters(deps, { dryRun: Boolean(options.dryRun), ...choice }, (r) => {
    progress.increment(r.read - shown);
    shown = r.read;
  }).finally(() => progress.stop());
  const queue = options.verify ? 'verify' : 'start';
  if (out.json) out.document({ command: 'redrive', queue, stage: targets.stage, deadLetterQueueUrl: dlq, destination, dryRun: Boolean(options.dryRun), ...report });
  else printReport(report, out, { queue, dryRun: Boolean(options.dryRun) });
  return report.failed > 0 ? EXIT.findings : EXIT.ok;
}

function printReport(report: RedriveReport, out: TerminalOutput, run: { queue: 'start' | 'verify'; dryRun: boolean }): void {
  if (report.read === 0) {
    out.line(`The ${run.queue} DLQ is empty: nothing to move.`);
    return;
  }
  for (const { errorName, count } of report.byErrorName) out.line(`  ${String(count).padStart(6)}  ${errorName}`);
  for (const m of report.messages.slice(0, SHOWN)) {
    const mark = { moved: out.colour.green('→'), discarded: '-', failed: out.colour.red('✘'), kept: '·' }[m.action];
    out.line(`  ${mark} ${terminalText(`${m.objects.join(', ')}${m.note ? ` [${m.note}]` : ''}`)}`);
    out.line(`      ${terminalText(m.reason.split('\n')[0] ?? '')}`);
    if (m.content !== undefined) out.line(`      ${terminalText(m.content.length > 600 ? `${m.content.slice(0, 600)}... (--json has all of it)` : m.content)}`);
  }
  if (report.messages.length > SHOWN) out.line(`  ... and ${report.messages.length - SHOWN} more (--json lists them all)`);
  out.line(
    run.dryRun
      ? `${report.read} message(s) in the ${run.queue} DLQ. Fix what their reasons name, then run tkp redrive${run.queue === 'verify' ? ' --verify' : ''} without --dry-run (--error-name NAME tries only those; --discard NAME deletes those once dealt with).`
      : `${report.read} message(s) read: ${report.moved} ${run.queue === 'verify' ? 'invoked again' : 'moved to the start queue'}, ${report.discarded} discarded, ${report.kept} left in the DLQ, ${report.failed} failed.`,
  );
  if (report.stoppedBy) out.line(out.colour.red(`Stopped at the first failure: ${report.stoppedBy}`));
  if (report.notReleased) out.line(`The messages left in the DLQ stay hidden for ${REDRIVE_VISIBILITY_SECONDS / 60} minutes (making them visible again failed: ${report.notReleased}).`);
  if (!run.dryRun && report.moved > 0) {
    out.line(
      run.queue === 'verify'
        ? 'Each runs again with its retries and its dead-letter queue; a verdict already published is not published twice, and one that fails again comes back with its reason.'
        : 'The start function takes them with its usual pacing; one whose problem is not fixed comes back to the DLQ with its reason, and an upload that did become a job meanwhile is not started again.',
    );
  }
}
