import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useRunTemp } from '../../support/testRunTemp';

describe("the test run's temporary directory (testRunTemp.ts)", () => {
  it("is where this worker's os.tmpdir() points, so the run removes what its tests leave", () => {
    expect(basename(tmpdir())).toMatch(/^tkp-test-run-/);
    expect(dirname(tmpdir())).not.toBe(tmpdir());
  });
});

describe('useRunTemp, shared by the test run and the bench', () => {
  const before = process.env.TMPDIR;
  afterEach(() => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    delete process.env.TKP_KEEP_TEST_TEMP;
    vi.restoreAllMocks();
  });

  it('points TMPDIR at a new directory, then restores TMPDIR and removes the directory with what is in it', () => {
    const dispose = useRunTemp('tkp-unit-');
    const dir = process.env.TMPDIR!;
    expect(basename(dir)).toMatch(/^tkp-unit-/);
    expect(dirname(dir)).toBe(before);
    writeFileSync(join(dir, 'left-behind'), 'x');
    dispose();
    expect(process.env.TMPDIR).toBe(before);
    expect(existsSync(dir)).toBe(false);
  });

  it('keeps the directory and prints where it is when TKP_KEEP_TEST_TEMP=1', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const dispose = useRunTemp('tkp-unit-');
    const dir = process.env.TMPDIR!;
    process.env.TKP_KEEP_TEST_TEMP = '1';
    dispose();
    expect(existsSync(dir)).toBe(true);
    expect(log).toHaveBeenCalledWith(expect.stringContaining(dir));
    rmSync(dir, { recursive: true });
  });
});
