/**
 * The logger and metrics shared by every function, created once. Service name, log level and
 * metrics namespace come from the POWERTOOLS_* variables that serverless.yml sets. Every metric
 * carries the stage (STAGE; `local` outside a deployed stack), so one stage's mismatches never
 * trip another stage's alarm.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger();
export const metrics = new Metrics({ defaultDimensions: { stage: process.env.STAGE || 'local' } });
