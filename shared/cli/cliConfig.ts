/**
 * The config file the CLI checks against: `--config`, else PIPELINE_CONFIG_PATH, else
 * `pipeline.config.json` in the working directory. Validated by the same function as at package
 * time and cold start, so `tkp` reports the same rule-and-field messages.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { validatePipelineConfig } from '../config/pipelineConfig';
import type { PipelineConfig } from '../config/rule';
import { CliError } from './cliErrors';

export function loadCliConfig(path: string | undefined, context: { region: string; inputBucket?: string; transcriptBucket?: string }): { config: PipelineConfig; path: string } {
  const file = resolve(path ?? 'pipeline.config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the config ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass --config FILE`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  return { config: validatePipelineConfig(raw, { ...context, source: file }), path: file };
}

/** A date for --since: ISO 8601 (a date alone is midnight UTC). */
export function parseSince(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new CliError(`--since ${JSON.stringify(value)} is not a date; use ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z`);
  return at;
}
