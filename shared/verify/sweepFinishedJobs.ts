import type { TranscriptionJobSummary } from '@aws-sdk/client-transcribe';
import { describeError } from '../aws/errors';
import { isServiceJobName } from '../aws/jobName';
import { pagesOperator, type Outcome } from './outcomeEvent';
import type { VerifyResult } from './verifyJob';

export interface SweepDependencies {
  jobNamePrefix: string;
  lookbackSeconds: number;
  graceSeconds: number;
  concurrency: number;
  listJobs(status: 'COMPLETED' | 'FAILED', nextToken?: string): Promise<{ jobs: TranscriptionJobSummary[]; nextToken?: string }>;
  verify(jobName: string): Promise<VerifyResult>;
  now(): Date;
}

export interface SweepReport {
  examined: number;
  alreadyReported: number;
  reported: Record<Outcome, number>;
  failures: { jobName: string; error: string }[];
}

/**
 * Finds this stack's finished jobs that never got a verdict, because EventBridge delivery is
 * best-effort, and verifies them. Jobs that finished within the grace period are left to their
 * completion event, so the sweeper and the event do not race for the same fresh job.
 */
export async function sweepFinishedJobs(deps: SweepDependencies): Promise<SweepReport> {
  const now = deps.now().getTime();
  const oldest = now - deps.lookbackSeconds * 1000;
  const newest = now - deps.graceSeconds * 1000;
  const candidates: string[] = [];
  for (const status of ['COMPLETED', 'FAILED'] as const) {
    let nextToken: string | undefined;
    do {
      const page = await deps.listJobs(status, nextToken);
      nextToken = page.nextToken;
      for (const job of page.jobs) {
        const created = job.CreationTime?.getTime() ?? now;
        if (created < oldest) nextToken = undefined;
        const finished = job.CompletionTime?.getTime() ?? now;
        const name = job.TranscriptionJobName;
        if (name && isServiceJobName(deps.jobNamePrefix, name) && finished >= oldest && finished <= newest) candidates.push(name);
      }
    } while (nextToken);
  }

  const report: SweepReport = { examined: candidates.length, alreadyReported: 0, reported: { verified: 0, mismatch: 0, failed: 0 }, failures: [] };
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const jobName = candidates[next++] as string;
      try {
        const result = await deps.verify(jobName);
        if (result.status === 'already-reported') {
          report.alreadyReported++;
        } else {
          report.reported[result.detail.outcome]++;
          if (result.detail.outcome === 'mismatch' && pagesOperator(result.detail)) {
            report.failures.push({ jobName, error: `encryption mismatch (event published): ${result.detail.problems.join('; ')}` });
          }
        }
      } catch (error) {
        report.failures.push({ jobName, error: describeError(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.concurrency) }, worker));
  return report;
}
