/**
 * `npm run bench`: the speed and size figures, printed as a table and written to
 * .local/bench-results.json. Targets are checked here, never in timed tests.
 *
 *   npm run bench -- [--runs 15] [--burst-objects 10000] [--time-scale 1] [--skip-burst]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRuleIndex, matchRule } from '../../shared/config/ruleIndex';
import { account } from '../local/runtime/accounting';
import { makeWav } from '../local/emulator/mediaProbe';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { HANDLER_ENV } from '../support/functionEnvironment';
import { seededRandom } from './random';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    'burst-objects': { type: 'string', default: '10000' },
    'time-scale': { type: 'string', default: '1' },
    'skip-burst': { type: 'boolean', default: false },
  },
});
const root = resolve(new URL('../..', import.meta.url).pathname);
const FUNCTIONS = ['start', 'verify', 'sweep', 'bucketNotifications'] as const;
const TARGETS = { zippedKb: 150, loadMs: 40, cpuMsPerRecord: 0.2, lookupsPerSecond: 1_000_000, quotaFraction: 0.95 };

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const rows: [string, string, string, string][] = [];
const record = (figure: string, value: string, target: string, met: boolean | undefined) => {
  rows.push([figure, value, target, met === undefined ? '' : met ? 'met' : 'MISSED']);
  console.log(`  ${figure}: ${value}${target ? ` (target ${target}: ${met ? 'met' : 'MISSED'})` : ''}`);
};
const results: Record<string, unknown> = { machine: { node: process.version, cpus: (await import('node:os')).cpus().length }, date: new Date().toISOString() };

// 1. Bundles: exactly what `serverless package` ships.
console.log('Packaging with serverless package...');
const packageDir = mkdtempSync(join(tmpdir(), 'tkp-bench-'));
execFileSync(join(root, 'node_modules/.bin/serverless'), ['package', '--package', packageDir], {
  cwd: root,
  env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', ESBUILD_WORK_FOLDER: '.esbuild-bench' },
  stdio: 'ignore',
});
const bundles: Record<string, { zippedKb: number; file: string }> = {};
for (const fn of FUNCTIONS) {
  const zip = join(packageDir, `${fn}.zip`);
  const file = join(packageDir, `${fn}.cjs`);
  writeFileSync(file, execFileSync('unzip', ['-p', zip, `functions/${fn}.cjs`]));
  bundles[fn] = { zippedKb: statSync(zip).size / 1024, file };
  record(`${fn} bundle, zipped`, `${bundles[fn].zippedKb.toFixed(1)} KB`, `<= ${TARGETS.zippedKb} KB`, bundles[fn].zippedKb <= TARGETS.zippedKb);
}
results.bundlesZippedKb = Object.fromEntries(FUNCTIONS.map((fn) => [fn, Number(bundles[fn]?.zippedKb.toFixed(1))]));

// 2. Cold start: module load of each bundle over a bare node start, median of several runs. The
// bundles are CommonJS, which Lambda's runtime loads with require(), so that is what is timed.
const runs = Number(values.runs);
const handlerEnv = { ...process.env, ...HANDLER_ENV };
const wallMs = (args: string[]) => {
  const begin = process.hrtime.bigint();
  const child = spawnSync(process.execPath, args, { env: handlerEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${child.stderr.toString()}`);
  return Number(process.hrtime.bigint() - begin) / 1e6;
};
const bare = median(Array.from({ length: runs }, () => wallMs(['-e', ''])));
const loadMs: Record<string, number> = {};
for (const fn of FUNCTIONS) {
  const file = bundles[fn]?.file as string;
  const withHandler = median(Array.from({ length: runs }, () => wallMs(['-e', `require(${JSON.stringify(file)})`])));
  loadMs[fn] = withHandler - bare;
  record(`${fn} cold start over bare node (${bare.toFixed(0)} ms)`, `${loadMs[fn].toFixed(1)} ms`, `<= ${TARGETS.loadMs} ms`, loadMs[fn] <= TARGETS.loadMs);
}
results.coldStartMs = { bareNode: Number(bare.toFixed(1)), ...Object.fromEntries(Object.entries(loadMs).map(([k, v]) => [k, Number(v.toFixed(1))])) };

// 3. CPU per record, AWS answered locally, in a child whose stdout (the logs) is discarded.
const cpuFile = join(packageDir, 'cpu.json');
const cpuRun = spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'test/bench/cpuPerRecord.ts'), cpuFile], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (cpuRun.status !== 0) throw new Error('the CPU-per-record run failed');
const cpu = JSON.parse(readFileSync(cpuFile, 'utf8')) as { startCpuMsPerRecord: number; verifyCpuMsPerEvent: number };
record('start: CPU per record', `${cpu.startCpuMsPerRecord.toFixed(3)} ms`, `<= ${TARGETS.cpuMsPerRecord} ms`, cpu.startCpuMsPerRecord <= TARGETS.cpuMsPerRecord);
record('verify: CPU per completion event', `${cpu.verifyCpuMsPerEvent.toFixed(3)} ms`, '', undefined);
results.cpu = cpu;

// 4. Longest-prefix rule lookup with 10,000 rules.
const random = seededRandom(7);
const rules = Array.from({ length: 10_000 }, (_, i) => ({ prefix: `tenant-${String(i % 2500).padStart(4, '0')}/${i < 2500 ? '' : `site-${i}/`}` }));
const index = buildRuleIndex(rules);
const keys = Array.from({ length: 100_000 }, () => {
  const tenant = String(Math.floor(random() * 2600)).padStart(4, '0');
  return `tenant-${tenant}/site-${Math.floor(random() * 10_000)}/2026/11/28/recording-${Math.floor(random() * 1e6)}.wav`;
});
let matched = 0;
for (const key of keys) if (matchRule(index, key)) matched++;
const LOOKUPS = 3_000_000;
const lookupStart = process.hrtime.bigint();
for (let i = 0; i < LOOKUPS; i++) if (matchRule(index, keys[i % keys.length] as string)) matched++;
const lookupsPerSecond = LOOKUPS / (Number(process.hrtime.bigint() - lookupStart) / 1e9);
record('rule lookups, 10,000 rules', `${Math.round(lookupsPerSecond).toLocaleString('en-US')} /s`, `>= ${TARGETS.lookupsPerSecond.toLocaleString('en-US')} /s`, lookupsPerSecond >= TARGETS.lookupsPerSecond);
results.ruleLookupsPerSecond = Math.round(lookupsPerSecond);

// 5. Burst: many uploads at once through the local pipeline under the default quotas.
if (!values['skip-burst']) {
  const objects = Number(values['burst-objects']);
  const timeScale = Number(values['time-scale']);
  console.log(`Burst: ${objects} uploads, quotas 25 TPS / 250 concurrent jobs, clock x${timeScale} (this takes a few minutes)...`);
  // The uploads land first and the start function is let loose on the backlog: on two cores,
  // moto cannot take 10,000 PUTs and the whole pipeline's traffic at the same time.
  const pipeline = await LocalPipeline.start({ timeScale, startPaused: true, timing: { queuedSeconds: 1, processingSeconds: 4, processingPerAudioSecond: 0.25 } });
  try {
    const prefixes = pipeline.config.rules.map((rule) => rule.prefix);
    const uploadKeys = Array.from({ length: objects }, (_, i) => `${prefixes[i % prefixes.length]}burst/${String(i).padStart(5, '0')}.wav`);
    const audio = makeWav(1);
    const began = Date.now();
    let next = 0;
    let lastReport = began;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < uploadKeys.length) {
          await pipeline.upload(uploadKeys[next++] as string, audio);
          if (Date.now() - lastReport > 15_000) {
            lastReport = Date.now();
            console.log(`  ${next} uploaded, ${pipeline.emulator.stats.started} started, ${pipeline.outcomes.length} verdicts`);
          }
        }
      }),
    );
    const uploadedAt = Date.now();
    console.log(`  ${objects} uploaded in ${((uploadedAt - began) / 1000).toFixed(1)} s; starting the backlog`);
    pipeline.resumeStart();
    await pipeline.settle({
      timeoutMs: 60 * 60_000,
      onProgress: () => {
        if (Date.now() - lastReport > 15_000) {
          lastReport = Date.now();
          console.log(`  ${pipeline.emulator.stats.started} started, ${pipeline.outcomes.length} verdicts`);
        }
      },
    });
    await pipeline.sweep().catch(() => undefined);
    await pipeline.settle({ timeoutMs: 10 * 60_000 });
    const drainedAt = Math.max(...pipeline.outcomes.map((o) => Date.parse(String(o.detail.checkedAt))));
    const starts = [...pipeline.emulator.stats.startTimes].sort((a, b) => a - b);
    const lo = starts[Math.floor(starts.length * 0.05)] as number;
    const hi = starts[Math.floor(starts.length * 0.95)] as number;
    const sustained = ((starts.length * 0.9) / ((hi - lo) / 1000)) / timeScale;
    const overall = (starts.length / (((starts.at(-1) as number) - (starts[0] as number)) / 1000)) / timeScale;
    const accounting = account(pipeline, uploadKeys);
    const burst = {
      objects,
      timeScale,
      uploadSeconds: (uploadedAt - began) / 1000,
      sustainedStartsPerServiceSecond: Number(sustained.toFixed(2)),
      overallStartsPerServiceSecond: Number(overall.toFixed(2)),
      quotaFraction: Number((sustained / 25).toFixed(3)),
      peakConcurrentJobs: pipeline.emulator.stats.peakConcurrency,
      limitExceededAnswers: pipeline.emulator.stats.rejected,
      drainSecondsReal: Number(((drainedAt - began) / 1000).toFixed(1)),
      drainSecondsService: Number((((drainedAt - began) / 1000) * timeScale).toFixed(1)),
      duplicates: accounting.duplicateJobs + accounting.duplicateVerdicts,
      losses: accounting.unaccounted,
      verified: accounting.verified,
    };
    results.burst = burst;
    record('burst: sustained start rate', `${burst.sustainedStartsPerServiceSecond} /s = ${(burst.quotaFraction * 100).toFixed(1)}% of 25 TPS`, `>= ${TARGETS.quotaFraction * 100}%`, burst.quotaFraction >= TARGETS.quotaFraction);
    record('burst: peak concurrent jobs', `${burst.peakConcurrentJobs} of 250`, '', undefined);
    record('burst: quota answers', JSON.stringify(burst.limitExceededAnswers), '', undefined);
    record('burst: time to drain', `${burst.drainSecondsService} s service time (${burst.drainSecondsReal} s real)`, '', undefined);
    record('burst: duplicates', String(burst.duplicates), '0', burst.duplicates === 0);
    record('burst: losses', String(burst.losses), '0', burst.losses === 0);
  } finally {
    await pipeline.stop();
  }
}

const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0), ['figure', 'value', 'target', ''][i]?.length ?? 0));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
console.log(`\n${line(['figure', 'value', 'target', ''])}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}`);
mkdirSync(join(root, '.local'), { recursive: true });
writeFileSync(join(root, '.local/bench-results.json'), `${JSON.stringify({ ...results, table: rows }, null, 2)}\n`);
console.log(`\nwritten to .local/bench-results.json`);
