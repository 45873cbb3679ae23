/**
 * The floor of each handler bundle: a bundle that only imports and constructs the same AWS SDK
 * clients and Powertools/middy modules as the handler and exports an empty handler, built with
 * serverless.yml's esbuild settings. It is what the dependencies cost; a handler's figures are
 * reported over its floor, so they say what the project adds on top.
 */
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FUNCTIONS = ['start', 'verify', 'sweep', 'bucketNotifications', 'preflight'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

export const CLIENTS: Record<FunctionName, [string, string][]> = {
  start: [
    ['@aws-sdk/client-kms', 'KMSClient'],
    ['@aws-sdk/client-sqs', 'SQSClient'],
    ['@aws-sdk/client-transcribe', 'TranscribeClient'],
  ],
  verify: [
    ['@aws-sdk/client-eventbridge', 'EventBridgeClient'],
    ['@aws-sdk/client-kms', 'KMSClient'],
    ['@aws-sdk/client-s3', 'S3Client'],
    ['@aws-sdk/client-transcribe', 'TranscribeClient'],
  ],
  sweep: [
    ['@aws-sdk/client-eventbridge', 'EventBridgeClient'],
    ['@aws-sdk/client-kms', 'KMSClient'],
    ['@aws-sdk/client-s3', 'S3Client'],
    ['@aws-sdk/client-transcribe', 'TranscribeClient'],
  ],
  bucketNotifications: [['@aws-sdk/client-s3', 'S3Client']],
  preflight: [['@aws-sdk/client-kms', 'KMSClient']],
};

/**
 * A floor's source: the dependencies' imports and construction, and an empty handler behind the
 * same middleware. `handler` replaces the empty handler's body (replayFloors.ts sends requests
 * from it); `extra` adds lines after the construction.
 */
export function floorSource(fn: FunctionName, replay?: { extra: string[]; handler: string }): string {
  const clients = CLIENTS[fn];
  // Every handler constructs Metrics (shared/aws/observability.ts builds it beside the logger);
  // only these three also use the logMetrics middleware.
  const metrics = fn === 'start' || fn === 'verify' || fn === 'sweep';
  const batch = fn === 'start';
  const empty = batch ? '{ void processor; void processPartialResponse; }' : 'void metrics';
  return [
    `import middy from '@middy/core';`,
    `import { Logger } from '@aws-lambda-powertools/logger';`,
    `import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';`,
    `import { Metrics } from '@aws-lambda-powertools/metrics';`,
    ...(metrics ? [`import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';`] : []),
    ...(batch ? [`import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';`] : []),
    ...clients.map(([pkg, name]) => `import { ${name} } from '${pkg}';`),
    `const logger = new Logger();`,
    `const metrics = new Metrics();`,
    ...(batch ? [`const processor = new BatchProcessor(EventType.SQS);`] : []),
    `export const clients = [${clients.map(([, name]) => `new ${name}({})`).join(', ')}];`,
    ...(replay?.extra ?? []),
    `export const handler = middy().use(injectLambdaContext(logger))${metrics ? '.use(logMetrics(metrics))' : ''}.handler(async (event) => ${replay?.handler ?? empty});`,
  ].join('\n');
}

/** Builds one bundle from `source` with serverless.yml's esbuild settings, as the floors are built. */
export async function bundleLikeServerless(root: string, source: string, outfile: string): Promise<string> {
  const entry = outfile.replace(/\.cjs$/, '.ts');
  writeFileSync(entry, source);
  await build({
    entryPoints: [entry],
    outfile,
    absWorkingDir: root,
    nodePaths: [join(root, 'node_modules')],
    bundle: true,
    minify: true,
    sourcemap: false,
    target: 'node22',
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    alias: { '@aws-sdk/credential-provider-node': join(root, 'shared/aws/lambdaCredentials.ts') },
    legalComments: 'none',
    logLevel: 'silent',
  });
  return outfile;
}

/** Builds each floor bundle beside the packaged ones. */
export async function buildFloors(root: string, outDir: string): Promise<Record<FunctionName, string>> {
  const files = {} as Record<FunctionName, string>;
  for (const fn of FUNCTIONS) files[fn] = await bundleLikeServerless(root, floorSource(fn), join(outDir, `${fn}.floor.cjs`));
  return files;
}
