import type { TranscriptionJobSummary } from '@aws-sdk/client-transcribe';
import { describe, expect, it, vi } from 'vitest';
import { sweepFinishedJobs, type SweepDependencies } from '../../../shared/verify/sweepFinishedJobs';
import type { VerifyResult } from '../../../shared/verify/verifyJob';

const NOW = new Date('2026-11-28T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
const summary = (name: string, completedMinutesAgo: number, createdMinutesAgo = completedMinutesAgo + 1): TranscriptionJobSummary => ({
  TranscriptionJobName: name,
  CreationTime: minutesAgo(createdMinutesAgo),
  CompletionTime: minutesAgo(completedMinutesAgo),
});

function deps(pages: Record<string, TranscriptionJobSummary[][]>, verify: SweepDependencies['verify']): SweepDependencies {
  return {
    jobNamePrefix: 'tkp.t.',
    lookbackSeconds: 6 * 3600,
    graceSeconds: 600,
    concurrency: 2,
    now: () => NOW,
    listJobs: vi.fn(async (status, token) => {
      const list = pages[status] ?? [];
      const index = token ? Number(token) : 0;
      return { jobs: list[index] ?? [], ...(index + 1 < list.length && { nextToken: String(index + 1) }) };
    }),
    verify: vi.fn(verify),
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
    expect(report).toEqual({ examined: 2, alreadyReported: 0, reported: { verified: 1, mismatch: 0, failed: 1 }, failures: [] });
  });

  it('stops paging once jobs are older than the lookback', async () => {
    const d = deps({ COMPLETED: [[summary('tkp.t.a', 30), summary('tkp.t.old', 500)], [summary('tkp.t.never', 30)]] }, async (n) => reported(n, 'verified'));
    await sweepFinishedJobs(d);
    expect(d.listJobs).toHaveBeenCalledTimes(2);
    expect(d.verify).toHaveBeenCalledTimes(1);
  });

  it('counts jobs already reported and lists failures and mismatches without stopping', async () => {
    const d = deps({ COMPLETED: [[summary('tkp.t.a', 30), summary('tkp.t.b', 30), summary('tkp.t.c', 30)]] }, async (name) => {
      if (name === 'tkp.t.a') return { status: 'already-reported', jobName: name, outcome: 'verified' };
      if (name === 'tkp.t.b') throw new Error('HeadObject denied');
      return reported(name, 'mismatch');
    });
    const report = await sweepFinishedJobs(d);
    expect(report.alreadyReported).toBe(1);
    expect(report.reported.mismatch).toBe(1);
    expect(report.failures).toEqual([
      { jobName: 'tkp.t.b', error: 'Error: HeadObject denied' },
      { jobName: 'tkp.t.c', error: 'encryption mismatch (event published): wrong key' },
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
});
