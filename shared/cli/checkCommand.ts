/**
 * `tkp check`: before deploying (or after), proves that every rule's key will work for the start
 * role, that every output bucket suits its rules, and that the input bucket's notifications are
 * exactly what the config derives.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { awsErrorName } from '../aws/awsErrors';
import { describeError } from '../aws/errors';
import { configFingerprint } from '../config/expectedEncryption';
import type { CliEnvironment } from '../config/settings';
import { notificationPrefixes } from '../stack/inputNotifications';
import { probeRuleKey, type KeyProbe } from '../start/keyProbe';
import { createKeyProbeAdapters } from '../start/keyProbeAdapters';
import { keyRows, notificationRow, outputBucketRow, queueArnFromUrl, STACK_ROW, type BucketDefaultAnswer, type CheckRow } from '../start/preflightChecks';
import { createDemandSources } from './cliAdapters';
import { callerIdentity, openStack, type OpenStack, type StackOptions } from './cliAws';
import { CliError, EXIT } from './cliErrors';
import type { TerminalOutput } from './terminalOutput';

export interface CheckOptions extends StackOptions {
  deployed?: boolean;
}

/** The preflight function's answer (functions/preflight.ts). */
interface PreflightAnswer {
  configFingerprint: string;
  identity: string;
  probes: KeyProbe[];
}

async function invokePreflight(stack: OpenStack, identity: string): Promise<PreflightAnswer> {
  const name = stack.targets.preflightFunction as string;
  let response;
  try {
    response = await stack.clients.lambda.send(new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode('{}') }));
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') {
      throw new CliError(
        `--deployed: the preflight function ${name} is not deployed in ${stack.clients.region}; deploy this version of the stack (serverless deploy --stage ${stack.targets.stage}), or run tkp check without --deployed`,
      );
    }
    if (awsErrorName(error) === 'AccessDeniedException') {
      throw new CliError(`--deployed: lambda:InvokeFunction on ${name} was denied for ${identity}; that is the only permission --deployed needs`);
    }
    throw error;
  }
  const text = new TextDecoder().decode(response.Payload ?? new Uint8Array());
  if (response.FunctionError) {
    const message = (() => {
      try {
        return (JSON.parse(text) as { errorMessage?: string }).errorMessage ?? text;
      } catch {
        return text;
      }
    })();
    throw new CliError(`--deployed: the preflight function ${name} failed: ${message}`);
  }
  return JSON.parse(text) as PreflightAnswer;
}

export async function runCheck(options: CheckOptions, env: CliEnvironment, out: TerminalOutput): Promise<number> {
  const stack = await openStack(options, env, ['startQueueUrl', ...(options.deployed ? (['preflightFunction'] as const) : [])]);
  const { clients, targets, config } = stack;
  const caller = await callerIdentity(clients);
  const fingerprint = configFingerprint(config.rules);
  const rows: CheckRow[] = [{ rule: STACK_ROW, check: 'config', ok: true, detail: `${stack.configPath}: ${config.rules.length} rule(s), fingerprint ${fingerprint}` }];

  let probes: KeyProbe[];
  let dryRunAs: string;
  if (options.deployed) {
    const answer = await invokePreflight(stack, caller.arn);
    probes = answer.probes;
    dryRunAs = `${answer.identity} (the start role, inside the preflight function ${targets.preflightFunction})`;
    if (answer.configFingerprint !== fingerprint) {
      rows.push({ rule: STACK_ROW, check: 'deployed config', ok: false, detail: `the deployed config (fingerprint ${answer.configFingerprint}) differs from ${stack.configPath}; deploy this config, then check again` });
    }
  } else {
    const deps = createKeyProbeAdapters(clients.kms);
    probes = await Promise.all(config.rules.map((rule) => probeRuleKey(deps, rule, caller)));
    dryRunAs = `${caller.arn} (your identity, not the start role: pass --deployed to run the DryRun calls as the start role)`;
  }

  const sources = createDemandSources(clients, targets.transcriptBucket);
  const bucketAnswers = new Map<string, Promise<BucketDefaultAnswer>>();
  const bucketAnswer = (bucket: string) => {
    let answer = bucketAnswers.get(bucket);
    if (!answer) {
      answer = sources.bucketDefaultEncryption(bucket).then(
        (found) => ({ ok: found }),
        (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
      );
      bucketAnswers.set(bucket, answer);
    }
    return answer;
  };
  for (const rule of config.rules) {
    rows.push(...keyRows(rule, probes.find((p) => p.rulePrefix === rule.prefix), dryRunAs));
    const bucket = rule.output.bucket ?? targets.transcriptBucket;
    rows.push(outputBucketRow(rule, bucket, await bucketAnswer(bucket)));
  }

  const queueArn = queueArnFromUrl(targets.startQueueUrl as string, clients.region);
  try {
    const current = await clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: targets.inputBucket }));
    rows.push(notificationRow(current, queueArn, notificationPrefixes(config.rules), targets.inputBucket));
  } catch (error) {
    rows.push({ rule: STACK_ROW, check: `notifications of s3://${targets.inputBucket}`, ok: false, detail: `cannot be read (${describeError(error)}); the caller needs s3:GetBucketNotification on the input bucket` });
  }

  const failed = rows.filter((row) => !row.ok).length;
  if (out.json) {
    out.document({ command: 'check', checkedAt: new Date().toISOString(), stage: targets.stage, region: clients.region, account: caller.account, identity: caller.arn, dryRunAs, deployed: Boolean(options.deployed), configFingerprint: fingerprint, failed, rows });
  } else {
    out.line(`tkp check: stage ${targets.stage}, region ${clients.region}, account ${caller.account}`);
    out.line(`DryRun as ${dryRunAs}`);
    out.line();
    out.table(
      ['', 'rule', 'check', 'result'],
      rows.map((row) => [row.ok ? '✔' : '✘', row.rule, row.check, row.detail]),
      (cell, column, i) => (column === 0 ? (rows[i]?.ok ? out.colour.green(cell) : out.colour.red(cell)) : cell),
    );
    out.line();
    out.line(failed === 0 ? out.colour.green(`All ${rows.length} checks passed.`) : out.colour.red(`${failed} of ${rows.length} checks failed; the result column says what to change.`));
  }
  return failed === 0 ? EXIT.ok : EXIT.findings;
}
