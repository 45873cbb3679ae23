import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { ConfigError } from '../../shared/aws/errors';
import { validatePipelineConfig } from '../../shared/config/pipelineConfig';
import type { ValidationContext } from '../../shared/config/rule';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);

/** A fresh copy of a sample event from events/, safe to change in a test. */
export function loadEvent<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(`events/${name}`, root), 'utf8')) as T;
}

export function repoPath(relative: string): string {
  return fileURLToPath(new URL(relative, root));
}

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'transcribe-kms-pipeline-test-fn',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:transcribe-kms-pipeline-test-fn',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  logGroupName: '/aws/lambda/transcribe-kms-pipeline-test-fn',
  logStreamName: '2026/11/28/[$LATEST]abcdef0123456789',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const OTHER_ACCOUNT = '222233334444';
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const keyArn = (id: string, account = ACCOUNT) => `arn:aws:kms:${REGION}:${account}:key/${id}`;

/** The problems a config is rejected with; fails the test when it is accepted. */
export function configProblems(raw: unknown, context: ValidationContext): string[] {
  try {
    validatePipelineConfig(raw, context);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
  throw new Error('expected the config to be rejected');
}
