import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { zipStagingDirs } = require('../../../shared/stack/removeZipStaging.cjs') as { zipStagingDirs(entries: string[], functionNames: string[], pid: number): string[] };

describe('zipStagingDirs', () => {
  const functions = ['start', 'verify', 'bucketNotifications'];

  it("picks the staging directories of this process's functions, as serverless-esbuild names them", () => {
    const entries = ['start-4242-1796103599932-149b17fd', 'bucketNotifications-4242-1796103599933-1ac20119', 'verify-4242-1796103599940-0a1b2c3d'];
    expect(zipStagingDirs(entries, functions, 4242)).toEqual(entries);
  });

  it("leaves another process's, another function's, and anything not named exactly that way", () => {
    const entries = [
      'start-4243-1796103599932-149b17fd', // another process
      'sweep-4242-1796103599932-149b17fd', // not a function of this service
      'start-4242-1796103599932-149b17f', // seven hex digits
      'start-4242-1796103599932-149B17FD', // upper case
      'start-4242-x-149b17fd',
      'my-start-4242-1796103599932-149b17fd',
      'start-4242-1796103599932-149b17fd.zip',
      'tkp-package-abc123',
      'tsx-0',
    ];
    expect(zipStagingDirs(entries, functions, 4242)).toEqual([]);
  });

  it('reads a function name literally, not as a pattern', () => {
    expect(zipStagingDirs(['aXb-1-2-0123abcd', 'a.b-1-2-0123abcd'], ['a.b'], 1)).toEqual(['a.b-1-2-0123abcd']);
    expect(zipStagingDirs(['start-1-2-0123abcd'], [], 1)).toEqual([]);
  });
});
