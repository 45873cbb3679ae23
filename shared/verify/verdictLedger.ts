import type { OutcomeDetail } from './outcomeEvent';

/**
 * One object per job in the stack's transcript bucket, `verdicts/<job name>.json`, written with
 * S3 conditional writes. It is how a verdict is published exactly once although completion
 * events arrive at least once, sometimes twice at the same moment, and the sweeper may reach
 * the same job: whoever creates the object (If-None-Match: *) publishes; everyone else finds
 * it and stops.
 */
export const VERDICT_PREFIX = 'verdicts/';

export interface VerdictRecord {
  state: 'claimed' | 'published';
  claimedAt: string;
  publishedAt?: string;
  detail: OutcomeDetail;
}

export interface StoredVerdict {
  record: VerdictRecord;
  /** The S3 ETag, for a conditional overwrite. */
  etag: string;
}

export function verdictKey(jobName: string): string {
  return `${VERDICT_PREFIX}${jobName}.json`;
}

export type ClaimDecision = { action: 'already-published' } | { action: 'wait' } | { action: 'take-over' };

/**
 * What to do when another invocation already holds the claim. A published verdict is final. A
 * claim younger than the lease belongs to an invocation that is publishing right now. An older
 * claim belongs to one that died between claiming and publishing, so its work is taken over.
 */
export function decideOnExistingClaim(existing: VerdictRecord, now: Date, leaseSeconds: number): ClaimDecision {
  if (existing.state === 'published') return { action: 'already-published' };
  const age = (now.getTime() - Date.parse(existing.claimedAt)) / 1000;
  return Number.isFinite(age) && age < leaseSeconds ? { action: 'wait' } : { action: 'take-over' };
}

export function parseVerdictRecord(text: string): VerdictRecord | undefined {
  try {
    const record = JSON.parse(text) as Partial<VerdictRecord>;
    if ((record.state === 'claimed' || record.state === 'published') && typeof record.claimedAt === 'string' && record.detail) {
      return record as VerdictRecord;
    }
  } catch {
    // fall through: an unreadable record is treated as no record by the caller
  }
  return undefined;
}
