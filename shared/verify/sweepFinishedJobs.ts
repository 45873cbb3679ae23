import { httpStatusOf } from '../aws/awsErrors';
import { describeError, describeErrorOnOneLine, isRetryable } from '../aws/errors';
import { JOB_TYPE_FACTS, JOB_TYPES, type JobType } from '../aws/jobTypes';
import { isServiceJobName } from '../aws/jobName';
import { pagesOperator, type Outcome } from './outcomeEvent';
import type { VerifyResult } from './verifyJob';

/** A finished job the sweeper is to verify: its name in its type's name space. */
interface Candidate {
  jobName: string;
  jobType: JobType;
}

/** What a List*Jobs summary says of one job, whatever its type. */
export interface FinishedJobSummary {
  name?: string;
  creationTime?: Date;
  completionTime?: Date;
}

export interface SweepDependencies {
  jobNamePrefix: string;
  lookbackSeconds: number;
  graceSeconds: number;
  concurrency: number;
  listJobs(jobType: JobType, status: 'COMPLETED' | 'FAILED', nextToken?: string): Promise<{ jobs: FinishedJobSummary[]; nextToken?: string }>;
  verify(jobName: string, jobType: JobType): Promise<VerifyResult>;
  /** How long to wait before the second pass over jobs that failed with a retryable error. */
  retryDelayMs: number;
  sleep(ms: number): Promise<void>;
  now(): Date;
}

export interface SweepReport {
  examined: number;
  alreadyReported: number;
  reported: Record<Outcome, number>;
  failures: (Candidate & { error: string })[];
  /** A List*Jobs call that failed: that type and status went unswept this run (the next run tries again). */
  listingFailures: ListingFailure[];
}

export interface ListingFailure {
  operation: string;
  status: 'COMPLETED' | 'FAILED';
  error: string;
}

/**
 * Finds this stack's finished jobs of every type that never got a verdict, and verifies them:
 * transcription and Call Analytics jobs whose completion event was lost (EventBridge delivery is
 * best-effort), and every medical job, for which Transcribe emits no event at all. Jobs of an
 * evented type that finished within the grace period are left to their event, so the sweeper
 * and the event do not race for the same fresh job; a medical job has no event to wait for.
 */
export async function sweepFinishedJobs(deps: SweepDependencies): Promise<SweepReport> {
  const now = deps.now().getTime();
  const oldest = now - deps.lookbackSeconds * 1000;
  const candidates: Candidate[] = [];
  const listingFailures: ListingFailure[] = [];
  for (const jobType of JOB_TYPES) {
    // A type without a completion event has nothing to race, so its finished jobs are taken
    // whatever their completion stamp says: a stamp ahead of this clock (skew, or a stand-in such
    // as moto, which stamps completion ten seconds ahead) must not hide a job from its only check.
    const newest = JOB_TYPE_FACTS[jobType].completionDetailType ? now - deps.graceSeconds * 1000 : Number.POSITIVE_INFINITY;
    for (const status of ['COMPLETED', 'FAILED'] as const) {
      // One listing that fails (refused, throttled, or an endpoint without that API) leaves the
      // other types and statuses to be swept; the failure is reported and the run fails.
      let nextToken: string | undefined;
      try {
        do {
          const page = await deps.listJobs(jobType, status, nextToken);
          nextToken = page.nextToken;
          for (const job of page.jobs) {
            const created = job.creationTime?.getTime() ?? now;
            if (created < oldest) nextToken = undefined;
            const finished = job.completionTime?.getTime() ?? now;
            const name = job.name;
            if (name && isServiceJobName(deps.jobNamePrefix, name) && finished >= oldest && finished <= newest) candidates.push({ jobName: name, jobType });
          }
        } while (nextToken);
      } catch (error) {
        const operation = JOB_TYPE_FACTS[jobType].listOperation;
        listingFailures.push({ operation, status, error: describeListingError(operation, error) });
      }
    }
  }

  const report: SweepReport = { examined: candidates.length, alreadyReported: 0, reported: { verified: 0, mismatch: 0, failed: 0 }, failures: [], listingFailures };
  // Every medical job passes through here, so a burst of them can meet Get*Job's rate quota:
  // a job that failed with a retryable error (throttling, a fault) gets a second pass after a
  // pause, so that a transient answer does not page anyone; what fails twice is reported.
  const retry: Candidate[] = [];
  await runPool(candidates, deps.concurrency, async (candidate) => {
    const error = await verifyOne(deps, candidate, report);
    if (error === undefined) return;
    if (isRetryable(error)) retry.push(candidate);
    else report.failures.push({ ...candidate, error: describeError(error) });
  });
  if (retry.length > 0) {
    await deps.sleep(deps.retryDelayMs);
    await runPool(retry, deps.concurrency, async (candidate) => {
      const error = await verifyOne(deps, candidate, report);
      if (error !== undefined) report.failures.push({ ...candidate, error: describeError(error) });
    });
  }
  return report;
}

/** One line on a failed listing; an answer the SDK could not parse means the endpoint lacks the operation. */
function describeListingError(operation: string, error: unknown): string {
  const text = describeErrorOnOneLine(error);
  if ((error as Error | undefined)?.name !== 'SyntaxError') return text;
  const status = httpStatusOf(error);
  return (
    `${text} (the Transcribe endpoint answered ${operation}${status ? ` with HTTP ${status} and` : ' with'} a body that is not the API's JSON: ` +
    `a passing fault, or an endpoint that does not serve ${operation}; check AWS_ENDPOINT_URL_TRANSCRIBE or the region)`
  );
}

/** Verifies one job into the report; returns the error it failed with, if any. */
async function verifyOne(deps: SweepDependencies, { jobName, jobType }: Candidate, report: SweepReport): Promise<unknown> {
  try {
    const result = await deps.verify(jobName, jobType);
    if (result.status === 'already-reported') {
      report.alreadyReported++;
    } else {
      report.reported[result.detail.outcome]++;
      if (result.detail.outcome === 'mismatch' && pagesOperator(result.detail)) {
        report.failures.push({ jobName, jobType, error: `encryption mismatch (event published): ${result.detail.problems.join('; ')}` });
      }
    }
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Runs `work` over the items with at most `concurrency` at once. */
async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}
