import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalPipeline } from '../runtime/localPipeline';
import { terminalText } from '../../../shared/cli/terminalOutput';
import { formatTable, notUploadedRow, objectRows, type ObjectRow } from './report';

/**
 * Treats a folder tree as the input bucket: `<dir>/calls/a.wav` is uploaded as `calls/a.wav`.
 * A file is uploaded once its size and modification time have held still for one scan, so a
 * file still being copied is not sent half-written; a file changed later is sent again (a new
 * object version, so a new job). Runs until SIGINT or SIGTERM. A finished medical job (which
 * has no completion event) is verified by running the sweeper, as its schedule would. Says at
 * the end whether every upload was verified, as a run over files does (its exit status).
 */
export async function watchFolder(pipeline: LocalPipeline, dir: string, options: { logFile: string; scanMs?: number }): Promise<{ allVerified: boolean }> {
  mkdirSync(dir, { recursive: true });
  for (const rule of pipeline.config.rules) {
    if (rule.prefix.endsWith('/')) mkdirSync(join(dir, ...rule.prefix.split('/').filter(Boolean)), { recursive: true });
  }
  console.log(`\nWatching ${dir}: drop audio into its folders (each folder is a key prefix). Ctrl-C stops and shuts moto down.`);
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const seen = new Map<string, string>();
  const uploaded = new Map<string, string>();
  const reported = new Set<string>();
  const keys: string[] = [];
  const finished: ObjectRow[] = [];
  const swept = new Set<string>();
  while (!stop) {
    const medical = pipeline.emulator.jobs().filter((job) => job.jobType === 'medical' && (job.status === 'COMPLETED' || job.status === 'FAILED') && !swept.has(job.name));
    if (medical.length > 0) {
      for (const job of medical) swept.add(job.name);
      await pipeline.sweep({ deadLetterOnFailure: true });
    }
    for (const file of listFiles(dir)) {
      const key = relative(dir, file).split(sep).join('/');
      let stamp: string;
      try {
        const stats = statSync(file);
        stamp = `${stats.size}:${stats.mtimeMs}`;
      } catch {
        continue;
      }
      const previous = seen.get(key);
      seen.set(key, stamp);
      if (previous !== stamp || uploaded.get(key) === stamp) continue;
      uploaded.set(key, stamp);
      reported.delete(key);
      if (!keys.includes(key)) keys.push(key);
      try {
        await pipeline.upload(key, readFileSync(file));
        console.log(`  uploaded  ${terminalText(key)}`);
      } catch (error) {
        console.log(`  could not upload ${terminalText(key)}: ${(error as Error).message}`);
        reported.add(key);
        finished.push(notUploadedRow(key, (error as Error).message));
      }
    }
    const rows = await objectRows(pipeline, keys.filter((k) => !reported.has(k)));
    for (const row of rows) {
      if (row.verdict === 'unaccounted') continue;
      reported.add(row.key);
      finished.push(row);
      console.log(`  result    ${row.key}: ${row.verdict}${row.detail ? ` (${row.detail})` : ''}${row.actualEncryption !== '-' ? `, output ${row.actualEncryption}` : ''}`);
    }
    await sleep(options.scanMs ?? 500);
  }
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  const pending = keys.filter((key) => !reported.has(key));
  console.log(`\nStopping. ${finished.length} object(s) processed.${finished.length ? `\n\n${formatTable(finished)}` : ''}\nLambda logs: ${options.logFile}`);
  if (pending.length > 0) console.log(`${pending.length} upload(s) had no verdict yet when stopped: ${pending.join(', ')}`);
  // As in a run over files, a file under no rule (ignored) counts as not verified.
  const allVerified = pending.length === 0 && finished.every((row) => row.verdict === 'verified');
  console.log(allVerified ? 'All transcripts verified.' : 'Not every upload was verified (see the verdict column).');
  return { allVerified };
}

function listFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}
