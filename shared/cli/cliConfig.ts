/**
 * The config file the CLI checks against: `--config`, else PIPELINE_CONFIG_PATH, else
 * `pipeline.config.json` in the working directory. Validated by the same function as at package
 * time and cold start, so `tkp` reports the same rule-and-field messages.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseS3Uri } from '../aws/s3Location';
import { ConfigError } from '../aws/errors';
import { duplicateMemberProblems } from '../config/duplicateMembers';
import { validatePipelineConfig } from '../config/pipelineConfig';
import type { PipelineConfig } from '../config/rule';
import { firstTenOf } from './terminalOutput';
import { CliError } from './cliErrors';

export function loadCliConfig(path: string | undefined, context: { region: string; inputBucket?: string; transcriptBucket?: string }): { config: PipelineConfig; path: string } {
  const { raw, file } = readConfigJson(path ?? 'pipeline.config.json');
  return { config: validatePipelineConfig(raw, { ...context, source: file }), path: file };
}

/**
 * The region a config's key ARNs name, where it names one: a config written for eu-west-1 runs
 * locally in eu-west-1, as `serverless deploy --region eu-west-1` would deploy it, and its
 * `--permissions` policies name eu-west-1's resources. The first ARN decides; one naming another
 * region is then refused by validation, as it would be at package.
 */
export function regionNamedBy(rawConfig: unknown): string | undefined {
  const rules = (rawConfig as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) return undefined;
  for (const rule of rules) {
    const kmsKey = (rule as { kmsKey?: unknown } | null)?.kmsKey;
    const match = typeof kmsKey === 'string' ? /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(kmsKey) : null;
    if (match) return match[1];
  }
  return undefined;
}

/** A config file's JSON, before validation: a file that cannot be read or parsed, or that names a member twice, is a one-line error naming it. */
export function readConfigJson(path: string): { raw: unknown; file: string } {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the config ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass --config FILE`);
  }
  let raw: unknown;
  try {
    // A byte order mark, which Windows PowerShell writes into UTF-8 files, is no part of the JSON.
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const duplicates = duplicateMemberProblems(text);
  if (duplicates.length > 0) throw new ConfigError(file, duplicates);
  return { raw, file };
}

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * A date for --since: ISO 8601, a date alone being midnight UTC and a time needing its zone (Z,
 * as CloudTrail's eventTime has it, or an offset). JavaScript's own parsing would take a time
 * without a zone as the machine's local time, "2026-02-30" as 2 March and "1" as the year 2001,
 * each a window other than the one meant.
 */
export function parseSince(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const usage = 'use ISO 8601, e.g. 2026-01-31 (midnight UTC) or 2026-01-31T12:00:00Z';
  const parts = ISO_8601.exec(value);
  if (!parts) throw new CliError(`--since ${JSON.stringify(value)} is not a date; ${usage}`);
  const [, year, month, day, hour, minute, second, zone] = parts;
  const midnight = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (midnight.getUTCMonth() !== Number(month) - 1 || midnight.getUTCDate() !== Number(day) || Number(hour ?? 0) > 23 || Number(minute ?? 0) > 59 || Number(second ?? 0) > 59) {
    throw new CliError(`--since ${JSON.stringify(value)} is no day or time of the calendar; ${usage}`);
  }
  if (hour !== undefined && zone === undefined) {
    throw new CliError(`--since ${JSON.stringify(value)} has a time but no time zone; add Z for UTC (${value}Z, as CloudTrail's eventTime has it) or an offset such as +01:00`);
  }
  return new Date(value);
}

/**
 * --prefix of audit and backfill, once narrowed to what the command lists (`overlapping`): a
 * prefix that overlaps none of it (a typo, or an s3:// URI) is refused, because the command would
 * otherwise report on nothing as if all were well ("All 0 transcripts are under the encryption
 * their rules demand").
 */
export function checkPrefixOption(prefix: string | undefined, overlapping: readonly string[], listed: { what: string; items: readonly string[]; verb: string }): void {
  if (prefix === undefined || overlapping.length > 0) return;
  const uri = prefix.startsWith('s3://') ? parseS3Uri(prefix) : undefined;
  throw new CliError(
    `--prefix ${JSON.stringify(prefix)} overlaps none of ${listed.what} (${firstTenOf(listed.items, ', ')}), so nothing would be ${listed.verb}; ` +
      (uri ? `--prefix takes a key prefix, not an S3 URI: pass --prefix ${JSON.stringify(uri.key)}` : 'pass a key prefix that lies under one of them, or that one of them lies under'),
  );
}
