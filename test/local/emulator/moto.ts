import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './loopback';
import { fileURLToPath } from 'node:url';

export const MOTO_DEFAULT_ACCOUNT = '123456789012';

/** moto's own server module, with the queue-count patch described in the file. */
const MOTO_SERVER = fileURLToPath(new URL('./moto_server.py', import.meta.url));

export class MotoUnavailableError extends Error {
  constructor(detail: string) {
    super(`moto is not available (${detail}); install it with: pip install 'moto[server]==5.2.1'`);
    this.name = 'MotoUnavailableError';
  }
}

export interface Moto {
  endpoint: string;
  port: number;
  pid: number;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export function motoInstalled(): { ok: true } | { ok: false; detail: string } {
  const probe = spawnSync('python3', ['-c', 'import moto.server, flask; print(moto.__version__)'], { encoding: 'utf8' });
  if (probe.error) return { ok: false, detail: `python3 not found: ${probe.error.message}` };
  if (probe.status !== 0) return { ok: false, detail: probe.stderr.trim().split('\n').pop() ?? 'import failed' };
  return { ok: true };
}

/**
 * Starts moto's server on a free loopback port and waits until it answers. The caller stops it
 * by PID with stop(); an exit handler also kills it if the caller forgets. `server` runs another
 * launcher that imports this one's patches (the audit bench's seeding route).
 */
export async function startMoto(options: { quiet?: boolean; server?: string } = {}): Promise<Moto> {
  const installed = motoInstalled();
  if (!installed.ok) throw new MotoUnavailableError(installed.detail);
  const port = await freePort();
  const child: ChildProcess = spawn('python3', [options.server ?? MOTO_SERVER, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', options.quiet === false ? 'inherit' : 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new MotoUnavailableError(`moto.server exited with ${child.exitCode}: ${stderr.trim().slice(-500)}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new MotoUnavailableError(`moto.server did not answer on port ${port} within 30 s`);
    }
    await sleep(100);
  }
  return {
    endpoint,
    port,
    pid: child.pid as number,
    reset: async () => {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid as number, 'SIGTERM');
      const timeout = sleep(5_000).then(() => 'timeout');
      if ((await Promise.race([exited, timeout])) === 'timeout') process.kill(child.pid as number, 'SIGKILL');
    },
  };
}

/**
 * Why moto cannot hold this key, when S3 could: moto 5.2.1 answers a key with a line feed with an
 * HTML error page and stores a carriage return as a line feed, so either would end the run with
 * an unreadable error, or give the pipeline another key than the one uploaded.
 */
export function motoKeyProblem(key: string): string | undefined {
  if (!/[\r\n]/.test(key)) return undefined;
  return 'the key has a line break (CR or LF) in it, which S3 stores but moto, the local S3, cannot; rename the file to run it here';
}
