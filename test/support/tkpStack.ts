/**
 * The local stack the `tkp` end-to-end tests run the CLI against (tkpCheck.test.ts and
 * tkpCheckDrift.test.ts for `tkp check`, tkpCommands.test.ts for the other commands), and the CLI as a user runs it: a
 * child process of `bin/tkp.mjs`, pointed at the stack with the environment `tkp local --keep`
 * prints, and nothing else.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { localEnvironmentExports } from '../local/cli/localCommand';
import { makeWav } from '../local/emulator/mediaProbe';
import { MOTO_DEFAULT_ACCOUNT } from '../local/emulator/moto';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { kmsClientFor, LOCAL_CREDENTIALS } from '../local/runtime/provision';
import { runNode, type NodeRun } from './runNode';
import { fileURLToPath } from 'node:url';

export const CONFIG = fileURLToPath(new URL('../e2e/e2e.config.json', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/tkp.mjs', import.meta.url));
/** The other account whose key the config's partners/acme/ rule names. */
export const ACME = '222233334444';
/** A rule prefix with a space, a non-ASCII letter and the characters S3 events encode. */
export const ZURICH = 'Call Recordings/Zürich +50% =A&B/';

export interface Run extends NodeRun {
  json: any;
}

export interface TkpStack {
  pipeline: LocalPipeline;
  /** The CLI's working directory and HOME: no config file or AWS profile of the machine's. */
  work: string;
}

/** The stack with one upload under each of four rules, settled, as each test file starts from. */
async function startTkpStack(): Promise<TkpStack> {
  const work = mkdtempSync(join(tmpdir(), 'tkp-cli-'));
  const pipeline = await LocalPipeline.start({ configPath: CONFIG, timeScale: 50 });
  for (const key of ['calls/a.wav', 'hr/b.wav', 'public/c.wav', `${ZURICH}Anruf +1 100%.wav`]) await pipeline.upload(key, makeWav(1));
  await pipeline.settle();
  return { pipeline, work };
}

/** One run of `tkp ARGS`, with its output parsed as JSON where it is. */
async function runTkp({ pipeline, work }: TkpStack, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const run = await runNode([BIN, ...args], { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, ...localEnvironmentExports(pipeline), ...env } });
  let json: unknown;
  try {
    json = JSON.parse(run.stdout);
  } catch {
    json = undefined;
  }
  return { ...run, json };
}

/** A usage error: exit 2, one line on stderr matching `pattern`, no stack trace. */
export function expectOneLineError(run: Run, pattern: RegExp): void {
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

/**
 * Starts the stack before the calling describe block's tests and stops it after them. What it
 * returns reads the stack once started: the CLI (and `tkp check` expected to fail while the stack
 * is broken), KMS in the stack's own account, clients for its
 * moto (through which the tests break and mend it behind the CLI's back), and an upload's jobs and
 * verdicts.
 */
export function useTkpStack() {
  let started: TkpStack | undefined;
  beforeAll(async () => {
    started = await startTkpStack();
  }, 120_000);
  afterAll(async () => {
    await started?.pipeline.stop();
  });
  const stack = (): TkpStack => {
    if (!started) throw new Error('the tkp stack has not started: call useTkpStack() inside a describe block');
    return started;
  };
  const pipeline = () => stack().pipeline;
  const tkp = (args: string[], env: Record<string, string> = {}) => runTkp(stack(), args, env);
  /** `tkp check` while `breakIt` holds: it exits 1 with exactly these stack rows failing, and passes again once `restore` has run. */
  const expectCheckFailsWhile = async (breakIt: () => Promise<unknown>, restore: () => Promise<unknown>, failed: { check: string; detail: string }[]) => {
    await breakIt();
    try {
      const run = await tkp(['check', '--json']);
      expect(run.code).toBe(1);
      expect(run.json.rows.filter((r: any) => !r.ok)).toEqual(failed.map((row) => ({ rule: '(stack)', ok: false, ...row })));
    } finally {
      await restore();
    }
    expect((await tkp(['check', '--json'])).code).toBe(0);
  };
  return {
    stack,
    tkp,
    expectCheckFailsWhile,
    kms: () => kmsClientFor(pipeline().moto.endpoint, 'us-east-1', MOTO_DEFAULT_ACCOUNT),
    atMoto: () => ({ region: 'us-east-1', endpoint: pipeline().moto.endpoint, credentials: LOCAL_CREDENTIALS }),
    jobsFor: (key: string) => pipeline().emulator.jobs().filter((j) => j.mediaUri === `s3://${pipeline().stack.names.inputBucket}/${key}`),
    verdictsFor: (key: string) => pipeline().outcomes.filter((o) => o.detail.source?.key === key),
  };
}
