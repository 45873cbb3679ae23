import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { SweepIncompleteError } from '../shared/aws/errors';
import { logger, metrics } from '../shared/aws/observability';
import { loadSweepSettings } from '../shared/config/settings';
import { NO_RECORD, verdictLogLevel, verdictMetric } from '../shared/verify/outcomeEvent';
import { sweepFinishedJobs } from '../shared/verify/sweepFinishedJobs';
import { createSweepAdapters, createVerifyAdapters } from '../shared/verify/verifyAdapters';
import { verifyJob } from '../shared/verify/verifyJob';

const settings = loadSweepSettings();
const verifyDeps = createVerifyAdapters(settings);
const sweepDeps = createSweepAdapters(settings);

export const handler = middy<unknown, void, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async () => {
    const report = await sweepFinishedJobs({
      ...sweepDeps,
      verify: async (jobName, jobType) => {
        const result = await verifyJob(verifyDeps, jobName, 'sweeper', jobType);
        if (result.status === 'reported') {
          const { outcome, cause, problems, failureReason, recorded } = result.detail;
          logger[verdictLogLevel(result.detail)]('verdict published', { jobName, jobType, outcome, cause, problems, failureReason, recorded: recorded ?? NO_RECORD });
          metrics.addMetric(verdictMetric(result.detail), MetricUnit.Count, 1);
        }
        return result;
      },
    });
    logger.info('sweep finished', { ...report });
    metrics.addMetric('SweptJobs', MetricUnit.Count, report.examined);
    if (report.failures.length + report.listingFailures.length > 0) throw new SweepIncompleteError(report.failures, report.listingFailures);
  });
