/**
 * How the `tkp` CLI fails: one line that says what to change, never a stack trace, and an exit
 * code a script can branch on (0 all good, 1 findings, 2 usage, config or environment).
 */
import { awsErrorName, httpStatusOf, isAccessDenied, isMissingQueue } from '../aws/awsErrors';
import { ConfigError, describeError, PipelineError } from '../aws/errors';

export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

/** A problem the user fixes by changing the command line, a file or the environment. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
  }
}

/**
 * A refused or missing queue, as one line that says what to change: the grant the call needs, or
 * the flag that named the queue (`flag`). Any other error passes unchanged.
 */
export function queueCallError(call: string, queueUrl: string, grant: string, error: unknown, flag: string): unknown {
  if (isAccessDenied(error) || httpStatusOf(error) === 403) return new CliError(`${call} on ${queueUrl} was denied (${describeError(error)}); the caller needs ${grant} on that queue`, EXIT.usage);
  if (isMissingQueue(error)) return new CliError(`queue ${queueUrl} does not exist; check --stage and --region, or the URL ${flag} gives`, EXIT.usage);
  return error;
}

/** The stage's CloudFormation stack does not exist (yet): `tkp check` can still check the keys. */
export class StackNotDeployedError extends CliError {
  override readonly name: string = 'StackNotDeployedError';
}

const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);
const INVALID_CREDENTIALS = new Set(['InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AuthFailure']);

/** The one line printed for an error, without the program name. */
export function describeCliError(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof ConfigError) return `${error.source} is invalid: ${error.problems.join('; ')}`;
  const name = awsErrorName(error);
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return 'no AWS credentials found; set AWS_PROFILE or pass --profile (run `aws sso login` first for SSO), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  }
  if (name && EXPIRED.has(name)) return `your AWS credentials have expired (${name}); refresh them (e.g. \`aws sso login --profile NAME\`) and run again`;
  if (name && INVALID_CREDENTIALS.has(name)) return `AWS rejected the credentials (${name}: ${message}); check the profile or the access key in use`;
  if (/Region is missing/i.test(message)) return 'no AWS region; pass --region or set AWS_REGION (or a region in your profile)';
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || name === 'TimeoutError') {
    return `cannot reach the AWS endpoint (${String(code ?? name)}: ${message}); check --endpoint-url, the network, or that \`tkp local --keep\` is still running`;
  }
  if (error instanceof PipelineError) return message;
  if (isAccessDenied(error)) return `access denied: ${message}`;
  return name && !message.startsWith(name) ? `${name}: ${message}` : message;
}

/** The exit code for an error that ended a command. */
export function exitCodeOf(error: unknown): number {
  return error instanceof CliError ? error.exitCode : EXIT.usage;
}
