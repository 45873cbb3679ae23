import { describe, expect, it, vi } from 'vitest';
import type { JobType } from '../../../shared/aws/jobTypes';
import { JobNotFoundError, SweepIncompleteError, TransientAwsError } from '../../../shared/aws/errors';
import { sweepFinishedJobs, type FinishedJobSummary, type SweepDependencies } from '../../../shared/verify/sweepFinishedJobs';
import type { VerifyResult } from '../../../shared/verify/verifyJob';

const NOW = new Date('2026-11-28T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
const summary = (name: string, completedMinutesAgo: number, createdMinutesAgo = completedMinutesAgo + 1): FinishedJobSummary => ({
  name,
  creationTime: minutesAgo(createdMinutesAgo),
  completionTime: minutesAgo(completedMinutesAgo),
});

/** Pages per status of transcription jobs, or per `jobType:status` for another type. */
function deps(pages: Record<string, FinishedJobSummary[][]>, verify: SweepDependencies['verify']): SweepDependencies {
  return {
    jobNamePrefix: 'tkp.t.',
    lookbackSeconds: 6 * 3600,
    graceSeconds: 600,
    concurrency: 2,
    now: () => NOW,
    listJobs: vi.fn(async (jobType: JobType, status, token) => {
      const list = pages[jobType === 'transcription' ? status : `${jobType}:${status}`] ?? [];
      const index = token ? Number(token) : 0;
      return { jobs: list[index] ?? [], ...(index + 1 < list.length && { nextToken: String(index + 1) }) };
    }),
    verify: vi.fn(verify),
    retryDelayMs: 5_000,
    sleep: vi.fn(async () => undefined),
  };
}

const reported = (jobName: string, outcome: 'verified' | 'mismatch' | 'failed'): VerifyResult => ({
  status: 'reported',
  detail: { jobName, outcome, problems: outcome === 'mismatch' ? ['wrong key'] : [] } as never,
});

describe('sweep', () => {
  it('verifies finished jobs of this stack inside the window, across pages and statuses', async () => {
    const d = deps(
      {
        COMPLETED: [[summary('tkp.t.a', 30), summary('other.b', 30)], [summary('tkp.t.c', 5), summary('tkp.t.d', 400)]],
        FAILED: [[summary('tkp.t.e', 60)]],
      },
      async (name) => reported(name, name === 'tkp.t.e' ? 'failed' : 'verified'),
    );
    const report = await sweepFinishedJobs(d);
    expect(vi.mocked(d.verify).mock.calls.map(([n]) => n).sort()).toEqual(['tkp.t.a', 'tkp.t.e']);
    expect(report).toEqual({ examined: 2, alreadyReported: 0, reported: { verified: 1, mismatch: 0, failed: 1 }, failures: [], listingFailures: [] });
  });

  it('stops paging once jobs are older than the lookback', async () => {
    const d = deps({ COMPLETED: [[summary('tkp.t.a', 30), summary('tkp.t.old', 500)], [summary('tkp.t.never', 30)]] }, async (n) => reported(n, 'verified'));
    await sweepFinishedJobs(d);
    expect(vi.mocked(d.listJobs).mock.calls.filter(([type, status]) => type === 'transcription' && status === 'COMPLETED')).toHaveLength(1);
    expect(d.verify).toHaveBeenCalledTimes(1);
  });

  it('counts jobs already reported and lists failures and mismatches without stopping', async () => {
    const d = deps({ COMPLETED: [[summary('tkp.t.a', 30), summary('tkp.t.b', 30), summary('tkp.t.c', 30)]] }, async (name) => {
      if (name === 'tkp.t.a') return { status: 'already-reported', jobName: name, outcome: 'verified', verdictId: `${name}:verified` };
      if (name === 'tkp.t.b') throw new Error('HeadObject denied');
      return reported(name, 'mismatch');
    });
    const report = await sweepFinishedJobs(d);
    expect(report.alreadyReported).toBe(1);
    expect(report.reported.mismatch).toBe(1);
    // The unexplained error is tried again after the first pass (it may be transient), so it is reported last.
    expect(report.failures).toEqual([
      { jobName: 'tkp.t.c', jobType: 'transcription', error: 'encryption mismatch (event published): wrong key' },
      { jobName: 'tkp.t.b', jobType: 'transcription', error: 'Error: HeadObject denied' },
    ]);
  });

  it('reports a rule changed by a config deploy without counting it as a failure that pages', async () => {
    const d = deps({ COMPLETED: [[summary('tkp.t.changed', 30)]] }, async (jobName) => ({
      status: 'reported',
      detail: { jobName, outcome: 'mismatch', cause: 'rule-changed', problems: ['the rule was changed by a config deploy after the job started'] } as never,
    }));
    const report = await sweepFinishedJobs(d);
    expect(report.reported.mismatch).toBe(1);
    expect(report.failures).toEqual([]);
  });

  it('lists Call Analytics and medical jobs too, and takes a medical job at once: it has no completion event to wait for', async () => {
    const d = deps(
      {
        'callAnalytics:COMPLETED': [[summary('tkp.t.call', 30), summary('tkp.t.fresh-call', 2)]],
        'medical:COMPLETED': [[summary('tkp.t.note', 2)]],
        'medical:FAILED': [[summary('tkp.t.bad-note', 40), summary('other.note', 40)]],
      },
      async (name) => reported(name, name === 'tkp.t.bad-note' ? 'failed' : 'verified'),
    );
    const report = await sweepFinishedJobs(d);
    expect(vi.mocked(d.verify).mock.calls.sort()).toEqual([
      ['tkp.t.bad-note', 'medical'],
      ['tkp.t.call', 'callAnalytics'],
      ['tkp.t.note', 'medical'],
    ]);
    expect(report.reported).toEqual({ verified: 2, mismatch: 0, failed: 1 });
    expect(new Set(vi.mocked(d.listJobs).mock.calls.map(([type, status]) => `${type}:${status}`))).toEqual(
      new Set(['transcription:COMPLETED', 'transcription:FAILED', 'callAnalytics:COMPLETED', 'callAnalytics:FAILED', 'medical:COMPLETED', 'medical:FAILED']),
    );
  });

  it('takes a finished medical job whose completion stamp is ahead of its clock, and leaves an evented job so stamped to its event', async () => {
    const d = deps({ 'medical:COMPLETED': [[summary('tkp.t.ahead', -0.2, 1)]], COMPLETED: [[summary('tkp.t.event-ahead', -0.2, 1)]] }, async (name) => reported(name, 'verified'));
    const report = await sweepFinishedJobs(d);
    expect(vi.mocked(d.verify).mock.calls).toEqual([['tkp.t.ahead', 'medical']]);
    expect(report.reported.verified).toBe(1);
  });

  it('reports a medical job that Transcribe no longer has when the sweeper reaches it, by name and type, and goes on', async () => {
    const d = deps({ 'medical:COMPLETED': [[summary('tkp.t.gone', 30), summary('tkp.t.here', 30)]] }, async (name) => {
      if (name === 'tkp.t.gone') throw new Error('medical transcription job tkp.t.gone no longer exists');
      return reported(name, 'verified');
    });
    const report = await sweepFinishedJobs(d);
    expect(report.failures).toEqual([{ jobName: 'tkp.t.gone', jobType: 'medical', error: 'Error: medical transcription job tkp.t.gone no longer exists' }]);
    expect(report.reported.verified).toBe(1);
  });

  it('gives a job that failed with a retryable error (a throttled Get) a second pass after a pause, so a passing throttle pages no one', async () => {
    let calls = 0;
    const d = deps({ 'medical:COMPLETED': [[summary('tkp.t.busy', 30), summary('tkp.t.gone', 30)]] }, async (name) => {
      if (name === 'tkp.t.gone') throw new JobNotFoundError('medical transcription job tkp.t.gone no longer exists');
      if (calls++ === 0) throw new TransientAwsError('GetMedicalTranscriptionJob must be retried: LimitExceededException', true);
      return reported(name, 'verified');
    });
    const report = await sweepFinishedJobs(d);
    expect(report.reported.verified).toBe(1);
    // Not retryable: reported at once, and not tried again.
    expect(report.failures).toEqual([{ jobName: 'tkp.t.gone', jobType: 'medical', error: 'JobNotFoundError: medical transcription job tkp.t.gone no longer exists' }]);
    expect(vi.mocked(d.verify).mock.calls.map(([name]) => name).sort()).toEqual(['tkp.t.busy', 'tkp.t.busy', 'tkp.t.gone']);
    expect(d.sleep).toHaveBeenCalledWith(5_000);
  });

  it('reports a job that fails its second pass too', async () => {
    const d = deps({ COMPLETED: [[summary('tkp.t.busy', 30)]] }, async () => {
      throw new TransientAwsError('GetTranscriptionJob must be retried: LimitExceededException', true);
    });
    const report = await sweepFinishedJobs(d);
    expect(report.failures).toEqual([{ jobName: 'tkp.t.busy', jobType: 'transcription', error: 'TransientAwsError: GetTranscriptionJob must be retried: LimitExceededException' }]);
    expect(d.verify).toHaveBeenCalledTimes(2);
  });

  it('sweeps the other types when one listing fails (an endpoint without ListCallAnalyticsJobs), and reports that listing', async () => {
    const d = deps({ COMPLETED: [[summary('tkp.t.a', 30)]], 'medical:COMPLETED': [[summary('tkp.t.m', 1)]] }, async (n) => reported(n, 'verified'));
    const list = d.listJobs;
    d.listJobs = vi.fn(async (jobType, status, token) => {
      if (jobType === 'callAnalytics') throw new SyntaxError("Unexpected token '<', \"<!doctype \"... is not valid JSON");
      return list(jobType, status, token);
    });
    const report = await sweepFinishedJobs(d);
    expect(vi.mocked(d.verify).mock.calls.map(([n, t]) => `${t}:${n}`).sort()).toEqual(['medical:tkp.t.m', 'transcription:tkp.t.a']);
    expect(report.listingFailures).toEqual([
      { operation: 'ListCallAnalyticsJobs', status: 'COMPLETED', error: expect.stringMatching(/^SyntaxError: .* \(the Transcribe endpoint answered ListCallAnalyticsJobs with a body that is not the API's JSON: a passing fault, or an endpoint that does not serve ListCallAnalyticsJobs/) },
      { operation: 'ListCallAnalyticsJobs', status: 'FAILED', error: expect.stringContaining('SyntaxError') },
    ]);
    expect(new SweepIncompleteError(report.failures, report.listingFailures).message).toBe(
      '2 listing(s) failed, so those jobs were not swept this run (the next run lists them again):\n' +
        `  - ListCallAnalyticsJobs (Status COMPLETED): ${report.listingFailures[0]?.error}\n` +
        `  - ListCallAnalyticsJobs (Status FAILED): ${report.listingFailures[1]?.error}`,
    );
  });
});
