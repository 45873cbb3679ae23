/**
 * The audit over many stored transcripts in the local mode (moto behind the gateway), against a
 * bare loop of the same ListObjectsV2 and HeadObject calls at the same concurrency, alternating,
 * each side in a fresh process so that its peak RSS is its own.
 *
 *   seeding (bench.ts):  runAuditBench(root, objects, runs)
 *   one side (a child):  tsx test/bench/auditBench.ts audit|bare SETUP_JSON
 *
 * The transcripts are stored as the pipeline leaves them: under each rule's output location,
 * under the key the rule demands, named after their job, with the verifier's rule marker in the
 * ledger. They go straight into moto's S3 backend (moto_seeding_server.py), not through 20,000
 * PutObject requests, which took a tenth of the whole bench and measured nothing. The demo config
 * has five rules sharing `transcripts/`, so the audit maps each of those transcripts through its
 * marker.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createDemandSources, createAuditAdapters, listObjects } from '../../shared/cli/cliAdapters';
import { ruleFingerprint } from '../../shared/config/expectedEncryption';
import { validatePipelineConfig } from '../../shared/config/pipelineConfig';
import { buildRuleIndex } from '../../shared/config/ruleIndex';
import { auditTranscripts } from '../../shared/verify/auditTranscripts';
import { demandForRule } from '../../shared/verify/ruleDemand';
import { ruleMarkerKey } from '../../shared/verify/verdictLedger';
import { startGateway } from '../local/emulator/gateway';
import { MOTO_DEFAULT_ACCOUNT, startMoto } from '../local/emulator/moto';
import { LOCAL_CREDENTIALS, localNames, provision } from '../local/runtime/provision';
import { median, medianRatio } from './alternate';
import { fileURLToPath } from 'node:url';

interface Setup {
  endpoint: string;
  configPath: string;
  transcriptBucket: string;
  jobNamePrefix: string;
  concurrency: number;
}

interface SideResult {
  objects: number;
  ms: number;
  peakRssMb: number;
}

export interface AuditBenchResult {
  objects: number;
  concurrency: number;
  seedSeconds: number;
  objectsPerSecond: { audit: number; bareLoop: number };
  /** The audit's rate over the bare loop's: the median of the pairwise ratios. */
  ratio: number;
  peakRssMb: { audit: number; bareLoop: number };
}

const CONFIG = fileURLToPath(new URL('../../pipeline.config.json', import.meta.url));

function clients(endpoint: string) {
  const common = { region: 'us-east-1', endpoint, credentials: LOCAL_CREDENTIALS };
  return { s3: new S3Client({ ...common, forcePathStyle: true }), kms: new KMSClient(common) };
}

/** One side, timed from its first call to its last, in this process. */
async function runSide(mode: 'audit' | 'bare', setup: Setup): Promise<SideResult> {
  const { s3, kms } = clients(setup.endpoint);
  const config = validatePipelineConfig(JSON.parse(readFileSync(setup.configPath, 'utf8')), { region: 'us-east-1', transcriptBucket: setup.transcriptBucket });
  const began = process.hrtime.bigint();
  let objects = 0;
  if (mode === 'audit') {
    const report = await auditTranscripts(createAuditAdapters({ s3, kms }, setup.transcriptBucket), {
      rules: config.rules,
      ruleIndex: buildRuleIndex(config.rules),
      transcriptBucket: setup.transcriptBucket,
      jobNamePrefix: setup.jobNamePrefix,
      concurrency: setup.concurrency,
    });
    if (report.totals.compliant !== report.totals.objects) throw new Error(`the seeded transcripts should all be compliant: ${JSON.stringify(report.totals)}`);
    objects = report.totals.objects;
  } else {
    const listing = listObjects(s3, setup.transcriptBucket, 'transcripts/')[Symbol.asyncIterator]();
    await Promise.all(
      Array.from({ length: setup.concurrency }, async () => {
        for (let next = await listing.next(); !next.done; next = await listing.next()) {
          await s3.send(new HeadObjectCommand({ Bucket: setup.transcriptBucket, Key: next.value.key }));
          objects++;
        }
      }),
    );
  }
  const ms = Number(process.hrtime.bigint() - began) / 1e6;
  return { objects, ms, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

/** One object as PutObject would store it, for the seeding route (moto_seeding_server.py). */
export interface SeedObject {
  bucket: string;
  key: string;
  body: string;
  encryption: 'aws:kms' | 'AES256' | null;
  kmsKeyId: string | null;
}

export const MOTO_SEEDING_SERVER = fileURLToPath(new URL('./moto_seeding_server.py', import.meta.url));

/** Stores objects straight in moto's S3 backend (moto started with MOTO_SEEDING_SERVER), a thousand per request. */
export async function putObjectsInMoto(motoEndpoint: string, objects: readonly SeedObject[]): Promise<void> {
  for (let at = 0; at < objects.length; at += 1000) {
    const batch = objects.slice(at, at + 1000);
    const response = await fetch(`${motoEndpoint}/tkp-bench/put-objects`, { method: 'POST', body: JSON.stringify({ account: MOTO_DEFAULT_ACCOUNT, objects: batch }) });
    const answer = await response.text();
    if (!response.ok || (JSON.parse(answer) as { stored?: number }).stored !== batch.length) throw new Error(`moto's seeding route refused a batch (HTTP ${response.status}): ${answer.slice(0, 500)}`);
  }
}

/**
 * Writes `objects` transcripts and their rule markers, spread over the rules as uploads would be:
 * each transcript under its rule's output location, encrypted as the rule demands (under the ARN
 * its key resolves to), each marker in the ledger.
 */
async function seed(gatewayEndpoint: string, motoEndpoint: string, transcriptBucket: string, jobNamePrefix: string, objects: number): Promise<void> {
  const { s3, kms } = clients(gatewayEndpoint);
  const config = validatePipelineConfig(JSON.parse(readFileSync(CONFIG, 'utf8')), { region: 'us-east-1', transcriptBucket });
  const sources = createDemandSources({ s3, kms }, transcriptBucket);
  const demands = await Promise.all(config.rules.map(async (rule) => ({ rule, ...(await demandForRule(sources, rule)) })));
  const stored: SeedObject[] = [];
  for (let i = 0; i < objects; i++) {
    const { rule, expected, output } = demands[i % demands.length] as (typeof demands)[number];
    const jobName = `${jobNamePrefix}bench-${String(i).padStart(6, '0')}-${'0'.repeat(40)}`;
    stored.push({
      bucket: output.bucket,
      key: `${output.key}${jobName}.json`,
      body: JSON.stringify({ jobName, results: { transcripts: [{ transcript: 'a bench transcript' }] } }),
      ...(expected.serverSideEncryption === 'aws:kms' ? { encryption: 'aws:kms', kmsKeyId: expected.kmsKeyArn } : { encryption: 'AES256', kmsKeyId: null }),
    });
    stored.push({ bucket: transcriptBucket, key: ruleMarkerKey(ruleFingerprint(rule), jobName), body: '', encryption: null, kmsKeyId: null });
  }
  await putObjectsInMoto(motoEndpoint, stored);
}

export async function runAuditBench(root: string, objects: number, runsWanted: number, log: (line: string) => void): Promise<AuditBenchResult> {
  const moto = await startMoto({ server: MOTO_SEEDING_SERVER });
  try {
    const gateway = await startGateway(moto.endpoint);
    const names = localNames('bench');
    const direct = { region: names.region, endpoint: moto.endpoint, credentials: LOCAL_CREDENTIALS };
    const config = validatePipelineConfig(JSON.parse(readFileSync(CONFIG, 'utf8')), { region: names.region, inputBucket: names.inputBucket, transcriptBucket: names.transcriptBucket });
    await provision({ s3: new S3Client({ ...direct, forcePathStyle: true }), sqs: new SQSClient(direct), events: new EventBridgeClient(direct), motoEndpoint: moto.endpoint, gatewayEndpoint: gateway.endpoint }, config, names, gateway.declareKey);
    log(`  seeding ${objects} transcripts and their rule markers...`);
    const seedBegan = Date.now();
    await seed(gateway.endpoint, moto.endpoint, names.transcriptBucket, names.jobNamePrefix, objects);
    const seedSeconds = Math.round((Date.now() - seedBegan) / 1000);
    const setup: Setup = { endpoint: gateway.endpoint, configPath: CONFIG, transcriptBucket: names.transcriptBucket, jobNamePrefix: names.jobNamePrefix, concurrency: 16 };
    // Asynchronous: the gateway the children talk to runs in this process.
    const side = (mode: 'audit' | 'bare') =>
      new Promise<SideResult>((resolve, reject) => {
        const child = spawn(`${root}/node_modules/.bin/tsx`, [`${root}/test/bench/auditBench.ts`, mode, JSON.stringify(setup)], {
          cwd: root,
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
        child.on('error', reject);
        child.on('close', (code) => {
          if (code !== 0) return reject(new Error(`the ${mode} side of the audit bench failed (exit ${code})`));
          const result = JSON.parse(out) as SideResult;
          if (result.objects !== objects) return reject(new Error(`the ${mode} side saw ${result.objects} objects, not ${objects}`));
          resolve(result);
        });
      });
    // Runs alternate, audit first (A B A ...); each bare run is paired with the audit run before it
    // and the one after it, so three runs give two pairwise ratios. Each run takes most of a minute.
    const order = Array.from({ length: Math.max(2, runsWanted) }, (_, i) => (i % 2 === 0 ? 'audit' : 'bare') as 'audit' | 'bare');
    log(`  ${order.length} alternating runs (${order.join(', ')})...`);
    const runs: Record<'audit' | 'bare', SideResult[]> = { audit: [], bare: [] };
    const sequence: SideResult[] = [];
    for (const mode of order) {
      const result = await side(mode);
      runs[mode].push(result);
      sequence.push(result);
    }
    const pairs: { audit: number; bare: number }[] = [];
    for (let i = 1; i < sequence.length; i++) {
      const [a, b] = order[i] === 'bare' ? [sequence[i - 1], sequence[i]] : [sequence[i], sequence[i - 1]];
      pairs.push({ audit: (a as SideResult).ms, bare: (b as SideResult).ms });
    }
    const times = { audit: pairs.map((p) => p.audit), bare: pairs.map((p) => p.bare) };
    await gateway.close();
    return {
      objects,
      concurrency: setup.concurrency,
      seedSeconds,
      objectsPerSecond: { audit: Math.round(objects / (median(times.audit) / 1000)), bareLoop: Math.round(objects / (median(times.bare) / 1000)) },
      // A rate ratio: the bare loop's time over the audit's.
      ratio: medianRatio(times.bare, times.audit),
      peakRssMb: { audit: Math.round(Math.max(...runs.audit.map((r) => r.peakRssMb))), bareLoop: Math.round(Math.max(...runs.bare.map((r) => r.peakRssMb))) },
    };
  } finally {
    await moto.stop();
  }
}

if (process.argv[1]?.endsWith('auditBench.ts') && process.argv.length >= 4) {
  const result = await runSide(process.argv[2] as 'audit' | 'bare', JSON.parse(process.argv[3] as string) as Setup);
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}
