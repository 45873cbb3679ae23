import { vi } from 'vitest';
import { HANDLER_ENV } from './functionEnvironment';

export { HANDLER_ENV };

/** Sets the environment, then loads a handler module fresh so it reads it at "cold start". */
export async function loadHandler<T>(load: () => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  for (const [name, value] of Object.entries({ ...HANDLER_ENV, ...env })) vi.stubEnv(name, value);
  vi.resetModules();
  return load();
}
