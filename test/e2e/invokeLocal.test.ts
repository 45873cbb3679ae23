import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { loadEvent, repoPath } from '../support/fixtures';
import { motoAvailable } from '../support/moto';

const run = promisify(execFile);

/**
 * The sample events through `serverless invoke local`, the way a developer runs them: the
 * handler is bundled by serverless-esbuild exactly as for deployment and pointed, through the
 * shell environment, at the local stand-ins.
 */
describe.runIf(motoAvailable('serverless invoke local tests'))('the sample events with serverless invoke local', () => {
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipeline = await LocalPipeline.start({ timeScale: 50 });
  });

  afterAll(async () => {
    await pipeline?.stop();
    rmSync(repoPath(`.esbuild-invoke-${process.pid}`), { recursive: true, force: true });
  });

  async function invokeLocal(fn: string, eventPath: string) {
    // A fresh shell: only what a developer would export, not this process's local-runtime settings.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...pipeline.environment(),
      SLS_TELEMETRY_DISABLED: '1',
      POWERTOOLS_DEV: '',
      ESBUILD_WORK_FOLDER: `.esbuild-invoke-${process.pid}`,
    };
    delete env.AWS_LAMBDA_MAX_CONCURRENCY;
    const { stdout } = await run(repoPath('node_modules/.bin/serverless'), ['invoke', 'local', '-f', fn, '-p', eventPath, '--stage', 'local'], {
      cwd: repoPath('.'),
      env,
      timeout: 90_000,
    });
    return stdout;
  }

  it('starts a job from the SQS-wrapped S3 put, and the verifier then reports it', async () => {
    // The sample names the dev stage's bucket; a record from any other bucket is dead-lettered, so point it at this stack's.
    const input = pipeline.stack.names.inputBucket;
    const sample = readFileSync(repoPath('events/sqs-s3-put.json'), 'utf8').replaceAll('tkp-dev-input-123456789012-us-east-1', input);
    const eventPath = join(mkdtempSync(join(tmpdir(), 'tkp-event-')), 'sqs-s3-put.json');
    writeFileSync(eventPath, sample);
    const out = await invokeLocal('start', eventPath);
    expect(out).toContain('"batchItemFailures": []');
    const media = `s3://${input}/calls/2026/support-call-0142.wav`;
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri === media);
    expect(job?.name).toMatch(/^tkp\.local\.support-call-0142-[0-9a-f]{40}$/);
    await pipeline.settle();
    const outcome = pipeline.outcomes.find((o) => o.detail.jobName === job?.name);
    expect(outcome?.detailType).toBe('Transcription Failed');
    expect(outcome?.detail.failureReason).toContain("can't be accessed");
  }, 120_000);

  it('verifies a completed job from a Transcribe COMPLETED event', async () => {
    await pipeline.upload('public/invoke-local.wav', (await import('../local/emulator/mediaProbe')).makeWav(1));
    await pipeline.settle();
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith('public/invoke-local.wav'));
    const event = loadEvent('transcribe-completed.json');
    event.detail.TranscriptionJobName = job?.name;
    const path = join(mkdtempSync(join(tmpdir(), 'tkp-event-')), 'completed.json');
    writeFileSync(path, JSON.stringify(event));
    const before = pipeline.outcomes.length;
    await invokeLocal('verify', path);
    expect(pipeline.outcomes.length).toBe(before);
    expect(pipeline.outcomes.filter((o) => o.detail.jobName === job?.name)).toHaveLength(1);
  }, 120_000);
});
