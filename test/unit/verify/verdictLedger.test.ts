import { describe, expect, it } from 'vitest';
import type { OutcomeDetail } from '../../../shared/verify/outcomeEvent';
import { decideOnExistingClaim, parseVerdictRecord, parseRuleMarkerKey, ruleMarkerKey, verdictKey, verdictLedgerId } from '../../../shared/verify/verdictLedger';

const now = new Date('2026-11-28T10:00:00Z');
const record = (state: 'claimed' | 'published', claimedAt: string) => ({ state, claimedAt, detail: { jobName: 'tkp.dev.a-1', outcome: 'verified' } as OutcomeDetail });

describe('verdict ledger', () => {
  it('keeps one record per job under verdicts/', () => {
    expect(verdictKey('tkp.dev.a-1')).toBe('verdicts/tkp.dev.a-1.json');
    expect(verdictKey(verdictLedgerId('tkp.dev.a-1', 'transcription'))).toBe('verdicts/tkp.dev.a-1.json');
    expect(verdictKey(verdictLedgerId('tkp.dev.a-1', 'medical'))).toBe('verdicts/medical/tkp.dev.a-1.json');
    // The audit's rule markers are typed the same way, and read back whole.
    const fingerprint = 'a'.repeat(32);
    expect(ruleMarkerKey(fingerprint, verdictLedgerId('tkp.dev.a-1', 'callAnalytics'))).toBe(`verdicts/_rules/${fingerprint}/callAnalytics/tkp.dev.a-1`);
    expect(parseRuleMarkerKey(`verdicts/_rules/${fingerprint}/callAnalytics/tkp.dev.a-1`)).toEqual({ ruleFingerprint: fingerprint, ledgerId: 'callAnalytics/tkp.dev.a-1' });
    expect(parseRuleMarkerKey(`verdicts/_rules/${fingerprint}/tkp.dev.a-1`)).toEqual({ ruleFingerprint: fingerprint, ledgerId: 'tkp.dev.a-1' });
    expect(parseRuleMarkerKey(`verdicts/_rules/${fingerprint}/a/b/c`)).toBeUndefined();
  });

  it('treats a published verdict as final, whatever its age', () => {
    expect(decideOnExistingClaim(record('published', '2020-01-01T00:00:00Z'), now, 60)).toEqual({ action: 'already-published' });
  });

  it('waits for a claim younger than the lease and takes over an older one', () => {
    expect(decideOnExistingClaim(record('claimed', '2026-11-28T09:59:30Z'), now, 60)).toEqual({ action: 'wait' });
    expect(decideOnExistingClaim(record('claimed', '2026-11-28T09:58:59Z'), now, 60)).toEqual({ action: 'take-over' });
    expect(decideOnExistingClaim(record('claimed', 'garbage'), now, 60)).toEqual({ action: 'take-over' });
  });

  it('overrules a published "verified" record that a fresh wrong-key verdict contradicts, or a record about another job', () => {
    const fresh = { jobName: 'tkp.dev.a-1', outcome: 'mismatch', cause: 'wrong-encryption' } as const;
    expect(decideOnExistingClaim(record('published', '2026-11-28T09:00:00Z'), now, 60, fresh)).toMatchObject({ action: 'overrule' });
    expect(decideOnExistingClaim(record('published', '2026-11-28T09:00:00Z'), now, 60, { ...fresh, cause: 'missing-output' })).toEqual({ action: 'already-published' });
    expect(decideOnExistingClaim(record('published', '2026-11-28T09:00:00Z'), now, 60, { ...fresh, jobName: 'tkp.dev.b-2', outcome: 'verified', cause: null })).toMatchObject({ action: 'overrule' });
  });

  it('takes over a claim dated in the future rather than waiting on it', () => {
    expect(decideOnExistingClaim(record('claimed', '2099-01-01T00:00:00Z'), now, 60)).toEqual({ action: 'take-over' });
  });

  it('reads back what was written and refuses anything else', () => {
    expect(parseVerdictRecord(JSON.stringify(record('claimed', '2026-11-28T09:59:30Z')))?.state).toBe('claimed');
    expect(parseVerdictRecord('{"state":"done"}')).toBeUndefined();
    expect(parseVerdictRecord('not json')).toBeUndefined();
  });
});
