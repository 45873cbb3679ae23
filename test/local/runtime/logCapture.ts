export interface LogRecord {
  level: string;
  message: string;
  function?: string;
  [field: string]: unknown;
}

const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/**
 * Catches the structured lines the handlers' Powertools logger writes (POWERTOOLS_DEV sends
 * them to the global console), so the local mode can show and keep them the way CloudWatch
 * would. Metric (EMF) lines are dropped; anything that is not JSON passes through.
 */
export function captureLambdaLogs(onRecord: (record: LogRecord) => void): () => void {
  const originals = Object.fromEntries(METHODS.map((m) => [m, console[m]])) as Record<(typeof METHODS)[number], (...args: unknown[]) => void>;
  for (const method of METHODS) {
    console[method] = (...args: unknown[]) => {
      const [first] = args;
      if (args.length === 1 && typeof first === 'string' && first.trimStart().startsWith('{')) {
        try {
          const parsed = JSON.parse(first) as Record<string, unknown>;
          if ('_aws' in parsed) return;
          if (typeof parsed.message === 'string' && typeof parsed.level === 'string') {
            onRecord({ ...parsed, level: parsed.level, message: parsed.message, ...(typeof parsed.function_name === 'string' && { function: parsed.function_name }) });
            return;
          }
        } catch {
          // not a log line of ours
        }
      }
      originals[method](...args);
    };
  }
  return () => {
    for (const method of METHODS) console[method] = originals[method];
  };
}
