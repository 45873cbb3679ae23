/**
 * Spaces the Start calls of one API from one function container to a steady rate. Each Start
 * quota is per account (StartTranscriptionJob 25 TPS by default, StartCallAnalyticsJob 10); with
 * the SQS event source's maximum concurrency M, each container paced at quota / M keeps the
 * account just under it, so LimitExceededException becomes the exception rather than the way the
 * rate is found. The start adapters build one pacer per job type.
 */
export function createStartPacer(ratePerSecond: number, clock: { now(): number; sleep(ms: number): Promise<void> }) {
  if (ratePerSecond <= 0) return async () => undefined;
  const interval = 1000 / ratePerSecond;
  let nextSlot = 0;
  return async function acquire(): Promise<void> {
    const now = clock.now();
    const slot = Math.max(now, nextSlot);
    nextSlot = slot + interval;
    if (slot > now) await clock.sleep(slot - now);
  };
}
