const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'LimitExceededException',
]);

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'TimeoutError', 'RequestTimeout']);

/** The AWS error code (`name`) of an SDK error, or undefined for anything else. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

export function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/**
 * Whether the same request may succeed later: throttling and quotas (LimitExceededException is
 * Transcribe's answer to both a rate and a full concurrent-job quota), 5xx answers and network
 * faults. Everything else is a property of the request and will fail again.
 */
export function isTransientAwsError(error: unknown): boolean {
  const name = awsErrorName(error);
  if (name && (THROTTLING.has(name) || NETWORK.has(name))) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK.has(code)) return true;
  const status = httpStatusOf(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return (error as { $retryable?: unknown } | null)?.$retryable !== undefined;
}

export function isQuotaError(error: unknown): boolean {
  const name = awsErrorName(error);
  return name !== undefined && THROTTLING.has(name);
}
