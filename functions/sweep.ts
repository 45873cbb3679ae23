import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { ListTranscriptionJobsCommand } from '@aws-sdk/client-transcribe';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { transcribeClient } from '../shared/clients';
import { loadSweepSettings } from '../shared/config';
import { logger, metrics } from '../shared/observability';
import { OUTCOME_METRIC } from '../shared/outcomeEvent';
import { SweepIncompleteError } from '../shared/errors';
import { sweep } from '../shared/sweep';
import { createVerifyDependencies } from '../shared/verifyDependencies';
import { verifyJob } from '../shared/verifyJob';

const settings = loadSweepSettings();
const verifyDeps = createVerifyDependencies(settings);

export const handler = middy<unknown, void, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async () => {
    const report = await sweep({
      jobNamePrefix: settings.jobNamePrefix,
      lookbackSeconds: settings.lookbackSeconds,
      graceSeconds: settings.graceSeconds,
      concurrency: 4,
      now: () => new Date(),
      listJobs: async (status, nextToken) => {
        const page = await transcribeClient().send(
          new ListTranscriptionJobsCommand({ Status: status, JobNameContains: settings.jobNamePrefix, MaxResults: 100, NextToken: nextToken }),
        );
        return { jobs: page.TranscriptionJobSummaries ?? [], ...(page.NextToken && { nextToken: page.NextToken }) };
      },
      verify: async (jobName) => {
        const result = await verifyJob(verifyDeps, jobName, 'sweeper');
        if (result.status === 'reported') metrics.addMetric(OUTCOME_METRIC[result.detail.outcome], MetricUnit.Count, 1);
        return result;
      },
    });
    logger.info('sweep finished', { ...report });
    metrics.addMetric('SweptJobs', MetricUnit.Count, report.examined);
    if (report.failures.length > 0) throw new SweepIncompleteError(report.failures);
  });
