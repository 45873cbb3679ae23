import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../../support/fixtures';

/**
 * What a test run does when moto is missing: in CI the run fails, elsewhere the suite is skipped
 * with a loud message. Run in a child process whose `python3` cannot import moto.
 */
function withoutMoto(env: Record<string, string>) {
  const bin = mkdtempSync(join(tmpdir(), 'tkp-nomoto-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  writeFileSync(join(bin, 'python3'), "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'moto'\" >&2\nexit 1\n");
  chmodSync(join(bin, 'python3'), 0o755);
  const script = `import { motoAvailable } from ${JSON.stringify(repoPath('test/support/moto.ts'))};
try { console.log('available:', motoAvailable('the suite')); } catch (error) { console.log('threw:', error.message); }`;
  return spawnSync(repoPath('node_modules/.bin/tsx'), ['-e', script], { env: { PATH: bin, ...env }, encoding: 'utf8' });
}

describe('motoAvailable', () => {
  it('fails the run in CI when moto is missing, naming what is missing', () => {
    const run = withoutMoto({ CI: 'true' });
    expect(run.stdout).toBe("threw: the suite needs moto, which is missing in CI: ModuleNotFoundError: No module named 'moto'\n");
  });

  it('skips elsewhere, with a loud message that says how to install it', () => {
    const run = withoutMoto({});
    expect(run.stdout).toBe('available: false\n');
    expect(run.stderr).toContain("!!! SKIPPING the suite: moto is not installed (ModuleNotFoundError: No module named 'moto'). Install it: pip install 'moto[server]==5.2.1' !!!");
  });
});
