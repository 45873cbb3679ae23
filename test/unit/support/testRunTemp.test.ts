import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

describe("the test run's temporary directory (testRunTemp.ts)", () => {
  it("is where this worker's os.tmpdir() points, so the run removes what its tests leave", () => {
    expect(basename(tmpdir())).toMatch(/^tkp-test-run-/);
    expect(dirname(tmpdir())).not.toBe(tmpdir());
  });
});
