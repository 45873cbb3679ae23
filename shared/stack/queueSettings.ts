/** Queue and retry settings shared by serverless.yml, the local mode and the docs. */
export const QUEUE_SETTINGS = {
  batchSize: 10,
  maximumBatchingWindowSeconds: 1,
  maximumConcurrency: 5,
  /** Transcribe's default StartTranscriptionJob quota; raise it with yours. */
  startQuotaTps: 25,
  startTimeoutSeconds: 60,
  /** Six times the function timeout, as AWS recommends for SQS event sources. */
  visibilityTimeoutSeconds: 360,
  /** High, because quota retries back off up to 15 minutes each and must not drain into the DLQ. */
  maxReceiveCount: 50,
  /** Four days: ample for 50 receives backing off up to 15 minutes each. */
  retentionSeconds: 4 * 24 * 3600,
  /** Dead letters outlive their source queue's messages (SQS's maximum, 14 days). */
  deadLetterRetentionSeconds: 14 * 24 * 3600,
  verifyRetryAttempts: 2,
} as const;

/** Per-container StartTranscriptionJob pace: the account's rate quota shared by the containers. */
export function startRatePerSecond(quotaTps = QUEUE_SETTINGS.startQuotaTps): number {
  return quotaTps / QUEUE_SETTINGS.maximumConcurrency;
}
