/**
 * One temporary directory per run. The test run (vitest's global setup, the default export) and
 * the bench point TMPDIR at it, so the run, its workers and every process they start (serverless
 * package, moto, the CLI, the bundles) write their temporary files there, and it is removed when
 * the run ends. Without it each `npm test` left a few dozen `tkp-*` directories in /tmp, some
 * holding packaged stacks. Set TKP_KEEP_TEST_TEMP=1 to keep the directory for a look after a
 * failure; its path is printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Points TMPDIR at a new directory named `prefix…` and returns what restores TMPDIR and removes it. */
export function useRunTemp(prefix: string): () => void {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    if (process.env.TKP_KEEP_TEST_TEMP === '1') console.log(`the run's temporary files are kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
}

export default function setup(): () => void {
  return useRunTemp('tkp-test-run-');
}
