/**
 * A Node.js child process, run asynchronously: the local stack it talks to may answer from this
 * very process, which a synchronous spawn would block. runNode waits for its exit code and whole
 * output; startNode also lets a test wait for a line and signal it while it runs.
 */
import { spawn } from 'node:child_process';

export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runNode(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<NodeRun> {
  return startNode(args, options).done;
}

/** A Node.js child process to talk to while it runs: wait for what it prints, then signal it. */
export interface RunningNode {
  /** Everything it has printed on stdout so far. */
  stdout(): string;
  /** Resolves once stdout matches, or rejects after `timeoutMs` (or when the process exits first) with what it printed. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  signal(name: NodeJS.Signals): void;
  /** Its exit code and whole output. */
  done: Promise<NodeRun>;
}

export function startNode(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): RunningNode {
  const child = spawn(process.execPath, args, options);
  let stdout = '';
  let stderr = '';
  let exited = false;
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const listener of listeners) listener();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<NodeRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      exited = true;
      for (const listener of listeners) listener();
      resolve({ code, stdout, stderr });
    });
  });
  return {
    stdout: () => stdout,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = stdout.match(pattern);
          if (!match && !exited) return;
          clearTimeout(timer);
          listeners.delete(check);
          if (match) resolve(match);
          else reject(new Error(`the process exited before printing ${pattern}; it printed:\n${stdout}\n${stderr}`));
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; it printed:\n${stdout}\n${stderr}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    signal: (name) => child.kill(name),
    done,
  };
}
