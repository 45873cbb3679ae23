import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // One temporary directory for the run, removed at its end (testRunTemp.ts).
    globalSetup: ['test/support/testRunTemp.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration and end-to-end files each start their own moto; two cores run two at a time.
    maxWorkers: 2,
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
