import { describe, expect, it } from 'vitest';
import { ConfigError, KeyNotUsableError } from '../../../shared/aws/errors';
import { CliError, describeCliError, exitCodeOf, StackNotDeployedError } from '../../../shared/cli/cliErrors';

const awsError = (name: string, message: string, status = 400) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('describeCliError', () => {
  it.each([
    [awsError('CredentialsProviderError', 'Could not load credentials from any providers'), /^no AWS credentials found; set AWS_PROFILE or pass --profile/],
    [awsError('ExpiredTokenException', 'The security token included in the request is expired', 403), /^your AWS credentials have expired \(ExpiredTokenException\); refresh them/],
    [awsError('InvalidClientTokenId', 'The security token included in the request is invalid', 403), /^AWS rejected the credentials \(InvalidClientTokenId/],
    [new Error('Region is missing'), /^no AWS region; pass --region or set AWS_REGION/],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), /^cannot reach the AWS endpoint \(ECONNREFUSED.*tkp local --keep/],
    [awsError('AccessDenied', 'Access Denied', 403), /^access denied: Access Denied$/],
  ])('turns %s into one line that says what to do', (error, expected) => {
    const line = describeCliError(error);
    expect(line).toMatch(expected);
    expect(line).not.toContain('\n');
  });

  it('keeps the config\'s rule-and-field messages, on one line', () => {
    const error = new ConfigError('pipeline.config.json', ['rules[0] (prefix "calls/"): kmsKey must be a key ID, alias or ARN', 'rules[2]: prefix is required']);
    expect(describeCliError(error)).toBe('pipeline.config.json is invalid: rules[0] (prefix "calls/"): kmsKey must be a key ID, alias or ARN; rules[2]: prefix is required');
    expect(exitCodeOf(error)).toBe(2);
  });

  it('passes the pipeline\'s own messages through and keeps their exit codes', () => {
    expect(describeCliError(new KeyNotUsableError('rules[1] (prefix "legal/"): kmsKey alias/x was not found', 'alias/x'))).toBe('rules[1] (prefix "legal/"): kmsKey alias/x was not found');
    expect(exitCodeOf(new CliError('findings', 1))).toBe(1);
    expect(exitCodeOf(new StackNotDeployedError('stack x is not deployed'))).toBe(2);
    expect(new StackNotDeployedError('x')).toBeInstanceOf(CliError);
  });
});
