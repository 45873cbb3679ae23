/**
 * One packaged handler bundle handling one event in a fresh process, through runBundle.cjs and
 * its canned AWS responder: what the handler returned or threw, and every request it sent.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A request as runBundle.cjs records it. */
export interface RecordedRequest {
  target: string | null;
  method: string;
  path: string;
  body: string;
  ifNoneMatch?: string;
  ifMatch?: string;
}

export interface BundleRun {
  result?: unknown;
  error?: { name: string; message: string };
  requests: RecordedRequest[];
}

export const RUN_BUNDLE = fileURLToPath(new URL('./runBundle.cjs', import.meta.url));

export function invokeBundle(bundle: string, event: unknown, env: NodeJS.ProcessEnv): BundleRun {
  // The bundle's own warnings (Powertools' empty metrics, the SDK's) stay out of the caller's output.
  const stdout = execFileSync(process.execPath, [RUN_BUNDLE, bundle, JSON.stringify(event)], { env, timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(stdout.toString()) as BundleRun;
}
