/**
 * `tkp audit`: the evidence that every stored transcript is under the key its rule demands
 * today, as a per-rule summary, the list of what is not, and evidence files (`--csv`, `--json`)
 * stamped with the run's time, account, region and config fingerprint.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { configFingerprint } from '../config/expectedEncryption';
import type { CliEnvironment } from '../config/settings';
import { auditLocations, auditTranscripts, type AuditedObject } from '../verify/auditTranscripts';
import { createAuditAdapters } from './cliAdapters';
import { callerIdentity, deployedConfigFingerprint, openStack, type StackOptions } from './cliAws';
import { checkPrefixOption, parseSince } from './cliConfig';
import { CliError, EXIT } from './cliErrors';
import { firstTenOf, terminalText, type TerminalOutput } from './terminalOutput';

export interface AuditOptions extends StackOptions {
  prefix?: string;
  since?: string;
  csv?: string;
  concurrency?: string;
}

const CSV_COLUMNS: (keyof AuditedObject)[] = ['uri', 'status', 'rulePrefix', 'jobName', 'source', 'serverSideEncryption', 'kmsKeyArn', 'expected', 'lastModified', 'problem'];
const FINDINGS_SHOWN = 50;

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  const quote = '"';
  return text.includes(quote) || /[,\n\r]/.test(text) ? quote + text.split(quote).join(quote + quote) + quote : text;
}

export function parseConcurrency(value: string | undefined): number {
  if (value === undefined) return 16;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new CliError(`--concurrency ${JSON.stringify(value)} must be an integer from 1 to 256`);
  return n;
}

export async function runAudit(options: AuditOptions, env: CliEnvironment, out: TerminalOutput): Promise<number> {
  const since = parseSince(options.since);
  const concurrency = parseConcurrency(options.concurrency);
  const stack = await openStack(options, env);
  const { clients, targets, config } = stack;
  const locations = (prefix?: string) => auditLocations({ rules: config.rules, transcriptBucket: targets.transcriptBucket, ...(prefix !== undefined && { prefix }) }).map((l) => `s3://${l.bucket}/${l.key}`);
  const scoped = locations(options.prefix);
  checkPrefixOption(options.prefix, scoped, { what: "the rules' output locations", items: locations(), verb: 'audited' });
  const caller = await callerIdentity(clients);
  const runAt = new Date().toISOString();
  const fingerprint = configFingerprint(config.rules);
  const deployed = await deployedConfigFingerprint(clients, targets.stackName);
  const deployedNote =
    'unknown' in deployed
      ? `whether ${stack.configPath} is the deployed config is not known (${deployed.unknown})`
      : deployed.fingerprint === fingerprint
        ? undefined
        : `${targets.stackName} was deployed with another config (fingerprint ${deployed.fingerprint}): this audit judges the transcripts against the rules of ${stack.configPath}, not the deployed ones`;

  let csv: WriteStream | undefined;
  if (options.csv) {
    csv = createWriteStream(options.csv);
    // once() rejects with the stream's error when it fails to open, before any other listener hears of it.
    await once(csv, 'open').catch((error: Error) => {
      throw new CliError(`cannot write --csv ${options.csv} (${error.message}); pass a file in a folder that exists and that you may write to`);
    });
    csv.write(`# tkp audit; run at ${runAt}; account ${caller.account}; region ${clients.region}; stage ${targets.stage}; config fingerprint ${fingerprint}; deployed config fingerprint ${'fingerprint' in deployed ? deployed.fingerprint : 'unknown'}\n`);
    csv.write(`${CSV_COLUMNS.join(',')}\n`);
  }
  const progress = out.progress('auditing');
  const report = await auditTranscripts(
    createAuditAdapters(clients, targets.transcriptBucket),
    { rules: config.rules, ruleIndex: stack.ruleIndex, transcriptBucket: targets.transcriptBucket, jobNamePrefix: targets.jobNamePrefix, concurrency, ...(options.prefix !== undefined && { prefix: options.prefix }), ...(since && { since }) },
    (object) => {
      progress.increment();
      // No back-pressure wait: rows are small, and the HEADs are far slower than the disk.
      csv?.write(`${CSV_COLUMNS.map((c) => csvCell(object[c])).join(',')}\n`);
    },
  ).finally(() => progress.stop());
  if (csv) {
    csv.end();
    await once(csv, 'finish');
  }

  const failing = report.totals.wrongKey + report.totals.noKms + report.totals.unreadable;
  if (out.json) {
    out.document({
      command: 'audit',
      runAt,
      account: caller.account,
      region: clients.region,
      stage: targets.stage,
      configFingerprint: fingerprint,
      deployedConfigFingerprint: 'fingerprint' in deployed ? deployed.fingerprint : null,
      ...(deployedNote && { deployedConfigNote: deployedNote }),
      scope: { prefix: options.prefix ?? null, since: since?.toISOString() ?? null },
      totals: report.totals,
      summary: report.summary,
      findings: report.findings,
      ledgerRecordsRead: report.recordsRead,
    });
  } else {
    out.line(`tkp audit: stage ${targets.stage}, region ${clients.region}, account ${caller.account}, config fingerprint ${fingerprint}${deployedNote ? '' : ' (the deployed config)'}, run at ${runAt}`);
    if (deployedNote) out.line(`note: ${deployedNote}`);
    out.line();
    out.table(
      ['rule', 'objects', 'compliant', 'wrong key', 'no KMS', 'unreadable', 'deleted'],
      [...report.summary, { rule: 'total', ...report.totals }].map((r) => [r.rule, ...[r.objects, r.compliant, r.wrongKey, r.noKms, r.unreadable, r.deleted].map(String)]),
    );
    const listed = report.findings.filter((f) => f.status !== 'deleted');
    const deleted = report.findings.filter((f) => f.status === 'deleted');
    if (listed.length > 0) {
      out.line();
      out.line(out.colour.red(`Not compliant (${listed.length}):`));
      for (const finding of listed.slice(0, FINDINGS_SHOWN)) {
        out.line(`  ${out.colour.red('✘')} ${terminalText(`${finding.uri}  ${finding.status}  rule ${finding.rulePrefix ?? '(unmapped)'}${finding.source ? `  source ${finding.source}` : ''}`)}`);
        out.line(`      ${terminalText(finding.problem ?? '')}`);
      }
      if (listed.length > FINDINGS_SHOWN) out.line(`  ... and ${listed.length - FINDINGS_SHOWN} more (all are in --csv and --json)`);
    }
    if (deleted.length > 0) out.line(`${deleted.length} object(s) were deleted while the audit ran; they are listed in --csv and --json, and do not fail the audit.`);
    out.line();
    if (report.totals.objects === 0) out.line(`No transcript is stored under ${firstTenOf(scoped, ', ')}${since ? ` modified since ${since.toISOString()}` : ''}: nothing was judged.`);
    else out.line(failing === 0 ? out.colour.green(`All ${report.totals.objects} transcripts are under the encryption their rules demand.`) : out.colour.red(`${failing} of ${report.totals.objects} transcripts are not.`));
    if (options.csv) out.line(`Evidence: ${options.csv}`);
  }
  return failing === 0 ? EXIT.ok : EXIT.findings;
}
