/**
 * vitest's global setup: the whole run, its workers and every process they start (serverless
 * package, moto, the CLI, the bundles) write their temporary files under one directory of the
 * OS temp directory, through TMPDIR, and the directory is removed when the run ends. Without it
 * each `npm test` left a few dozen `tkp-*` directories in /tmp, some holding packaged stacks.
 * Set TKP_KEEP_TEST_TEMP=1 to keep it for a look after a failure; its path is printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'tkp-test-run-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    if (process.env.TKP_KEEP_TEST_TEMP === '1') console.log(`the test run's temporary files are kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
}
