/**
 * A burst of uploads through the whole local pipeline: the uploads land first (on two cores moto
 * cannot take thousands of PUTs and the pipeline's traffic at once), then the start function is
 * let loose on the backlog. Reports the sustained start rate (between the 5th and 95th percentile
 * of start times), peak concurrent jobs, quota answers, drain time, duplicates and losses.
 *
 * The burst measures the pacing of one API against its quota: StartTranscriptionJob, with the
 * demo config's transcription rules (the Call Analytics and medical APIs have quotas of their
 * own, paced apart; `npm run chaos` mixes all three types).
 *
 * A local pipeline is one per process (the handlers read their settings once), so bench.ts runs
 * each burst as its own process: `tsx test/bench/burst.ts OBJECTS QUOTAS_JSON RESULT_FILE`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeWav } from '../local/emulator/mediaProbe';
import type { Quotas } from '../local/emulator/emulatorModel';
import { account } from '../local/runtime/accounting';
import { LocalPipeline } from '../local/runtime/localPipeline';

export interface BurstResult {
  objects: number;
  quotas: Quotas;
  uploadSeconds: number;
  sustainedStartsPerSecond: number;
  /** Objects per second from the release of the backlog to the last verdict: what the whole pipeline carries. */
  endToEndPerSecond: number;
  peakConcurrentJobs: number;
  quotaAnswers: Record<string, number>;
  drainSeconds: number;
  duplicates: number;
  losses: number;
  verified: number;
  /** Why records went back to the queue, by error (`record will be retried` logs). */
  retried: Record<string, number>;
}

/** The demo config without its Call Analytics and medical rules, as a file for the local pipeline. */
function transcriptionRulesOnly(): string {
  const config = JSON.parse(readFileSync(new URL('../../pipeline.config.json', import.meta.url), 'utf8')) as { rules: { jobType?: string }[] };
  const path = join(mkdtempSync(join(tmpdir(), 'tkp-burst-')), 'pipeline.config.json');
  writeFileSync(path, JSON.stringify({ ...config, rules: config.rules.filter((rule) => (rule.jobType ?? 'transcription') === 'transcription') }));
  return path;
}

export async function runBurst(objects: number, quotas: Quotas, log: (line: string) => void): Promise<BurstResult> {
  const pipeline = await LocalPipeline.start({
    configPath: transcriptionRulesOnly(),
    timeScale: 1,
    startPaused: true,
    quotas,
    timing: { queuedSeconds: 1, processingSeconds: 4, processingPerAudioSecond: 0.25 },
  });
  try {
    const prefixes = pipeline.config.rules.map((rule) => rule.prefix);
    const keys = Array.from({ length: objects }, (_, i) => `${prefixes[i % prefixes.length]}burst/${String(i).padStart(5, '0')}.wav`);
    const audio = makeWav(1);
    const began = Date.now();
    let next = 0;
    let lastReport = began;
    const progress = () => {
      if (Date.now() - lastReport < 15_000) return;
      lastReport = Date.now();
      log(`    ${next} uploaded, ${pipeline.emulator.stats.started} started, ${pipeline.outcomes.length} verdicts`);
    };
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < keys.length) {
          await pipeline.upload(keys[next++] as string, audio);
          progress();
        }
      }),
    );
    const uploadedAt = Date.now();
    pipeline.resumeStart();
    await pipeline.settle({ timeoutMs: 30 * 60_000, onProgress: progress });
    await pipeline.sweep().catch(() => undefined);
    await pipeline.settle({ timeoutMs: 5 * 60_000 });
    const drainedAt = Math.max(...pipeline.outcomes.map((o) => Date.parse(String(o.detail.checkedAt))));
    const starts = [...pipeline.emulator.stats.startTimes].sort((a, b) => a - b);
    const lo = starts[Math.floor(starts.length * 0.05)] as number;
    const hi = starts[Math.floor(starts.length * 0.95)] as number;
    const accounting = account(pipeline, keys);
    return {
      objects,
      quotas,
      uploadSeconds: Number(((uploadedAt - began) / 1000).toFixed(1)),
      sustainedStartsPerSecond: Number(((starts.length * 0.9) / ((hi - lo) / 1000)).toFixed(2)),
      endToEndPerSecond: Number((objects / ((drainedAt - uploadedAt) / 1000)).toFixed(2)),
      peakConcurrentJobs: pipeline.emulator.stats.peakConcurrency,
      quotaAnswers: pipeline.emulator.stats.rejected,
      drainSeconds: Number(((drainedAt - uploadedAt) / 1000).toFixed(1)),
      duplicates: accounting.duplicateJobs + accounting.duplicateVerdicts,
      losses: accounting.unaccounted,
      verified: accounting.verified,
      retried: pipeline.logs
        .filter((l) => l.message === 'record will be retried')
        .reduce<Record<string, number>>((counts, l) => {
          const reason = String(l.error).split(':')[0] as string;
          counts[reason] = (counts[reason] ?? 0) + 1;
          return counts;
        }, {}),
    };
  } finally {
    await pipeline.stop();
  }
}

/** Transcribe's default quota ratio: 250 concurrent jobs per 25 starts a second, and 30 gets per 25 starts. */
export function scaledQuotas(startTps: number): Quotas {
  return { startTps, maxConcurrentJobs: Math.round(startTps * 10), getTps: Math.max(1, Math.round(startTps * 1.2)), maxDeferredJobs: 10_000 };
}

/** No quota at all: what the local pipeline itself sustains. */
export const UNLIMITED: Quotas = { startTps: 100_000, maxConcurrentJobs: 1_000_000, getTps: 100_000, maxDeferredJobs: 1_000_000 };

/** Runs one burst in a child process and returns its result. */
export async function runBurstProcess(root: string, objects: number, quotas: Quotas, resultFile: string): Promise<BurstResult> {
  const { spawnSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const child = spawnSync(`${root}/node_modules/.bin/tsx`, [`${root}/test/bench/burst.ts`, String(objects), JSON.stringify(quotas), resultFile], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  if (child.status !== 0) throw new Error(`the burst of ${objects} objects failed (exit ${child.status})`);
  return JSON.parse(readFileSync(resultFile, 'utf8')) as BurstResult;
}

if (process.argv[1]?.endsWith('burst.ts') && process.argv.length >= 5) {
  const [objects, quotas, resultFile] = process.argv.slice(2) as [string, string, string];
  const result = await runBurst(Number(objects), JSON.parse(quotas) as Quotas, (line) => console.log(line));
  writeFileSync(resultFile, JSON.stringify(result));
  process.exit(0);
}
