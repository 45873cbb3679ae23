/**
 * `tkp backfill`: transcribe what was in the input bucket before the stack existed, by sending
 * S3's own event records to the start queue.
 */
import { configFingerprint } from '../config/expectedEncryption';
import type { CliEnvironment } from '../config/settings';
import { backfillPrefixes, backfillUploads } from '../start/backfillUploads';
import { createBackfillAdapters } from './cliAdapters';
import { deployedConfigFingerprint, openStack, type StackOptions } from './cliAws';
import { checkPrefixOption, parseSince } from './cliConfig';
import { EXIT } from './cliErrors';
import { terminalText, type TerminalOutput } from './terminalOutput';

export interface BackfillOptions extends StackOptions {
  prefix?: string;
  since?: string;
  dryRun?: boolean;
}

export async function runBackfill(options: BackfillOptions, env: CliEnvironment, out: TerminalOutput): Promise<number> {
  const since = parseSince(options.since);
  const stack = await openStack(options, env, ['startQueueUrl']);
  const { clients, targets, config } = stack;
  const prefixes = backfillPrefixes(config.rules, options.prefix);
  checkPrefixOption(options.prefix, prefixes, { what: "the rules' input prefixes", items: backfillPrefixes(config.rules, undefined).map((p) => JSON.stringify(p)), verb: 'sent' });
  out.line(`tkp backfill: s3://${targets.inputBucket} under ${prefixes.map((p) => JSON.stringify(p)).join(', ')} -> ${targets.startQueueUrl}${options.dryRun ? ' (dry run: nothing is sent)' : ''}`);
  const deployed = await deployedConfigFingerprint(clients, targets.stackName);
  const deployedConfigNote =
    'fingerprint' in deployed && deployed.fingerprint !== configFingerprint(config.rules)
      ? `${targets.stackName} was deployed with another config (fingerprint ${deployed.fingerprint}): the start function judges what is sent by the deployed rules, not those of ${stack.configPath}, so an object under a prefix only ${stack.configPath} has is skipped there; deploy it, then backfill`
      : undefined;
  if (deployedConfigNote && !out.json) out.line(out.colour.yellow(`note: ${deployedConfigNote}`));
  const progress = out.progress(options.dryRun ? 'listing' : 'sending');
  let shown = 0;
  const report = await backfillUploads(
    createBackfillAdapters(clients, targets.startQueueUrl as string),
    { rules: config.rules, inputBucket: targets.inputBucket, region: clients.region, dryRun: Boolean(options.dryRun), ...(options.prefix !== undefined && { prefix: options.prefix }), ...(since && { since }) },
    (counts) => {
      const done = options.dryRun ? counts.listed : counts.sent + counts.failed.length;
      progress.increment(done - shown);
      shown = done;
    },
  ).finally(() => progress.stop());
  if (out.json) {
    out.document({ command: 'backfill', stage: targets.stage, inputBucket: targets.inputBucket, startQueueUrl: targets.startQueueUrl, dryRun: Boolean(options.dryRun), prefixes, ...(deployedConfigNote && { deployedConfigNote }), ...report });
  } else {
    out.line(options.dryRun ? `${report.listed} object(s) would be sent to the start queue.` : `${report.listed} object(s) listed, ${report.sent} sent to the start queue, ${report.failed.length} failed.`);
    for (const failure of report.failed.slice(0, 50)) out.line(out.colour.red(`  ✘ ${terminalText(`${failure.key}: ${failure.reason}`)}`));
    if (!options.dryRun && report.sent > 0) out.line('The start function picks them up with its usual pacing; objects already transcribed are not started again (their job names are taken).');
  }
  return report.failed.length === 0 ? EXIT.ok : EXIT.findings;
}
