/**
 * `tkp check`: before deploying (or after), proves that every rule's key will work for the start
 * role, that every output bucket suits its rules, that the input bucket's notifications are
 * exactly what the config derives, that a CloudTrail trail lets TrustChangesRule page, that the
 * alarm topic has someone to deliver pages to and a KMS key (if any) that lets EventBridge and
 * CloudWatch publish, that the stack's EventBridge rules are on and its alarms send to that topic,
 * that the verifiers' roles refuse forged verdicts, that the stack's functions run as deployed
 * (role, handler, environment, layers, concurrency, trigger, failure destination), that the
 * outcome bus refuses a verdict from anyone but the verifiers, that the transcript bucket's
 * policy refuses a forged verdict record or a rewritten transcript and its lifecycle deletes
 * neither, and that nobody outside the account may read the recordings or the transcripts.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { awsErrorName } from '../../aws/awsErrors';
import { describeError } from '../../aws/errors';
import { configFingerprint } from '../../config/expectedEncryption';
import { needsDataAccessRole } from '../../config/pipelineConfig';
import type { CliEnvironment } from '../../config/settings';
import { notificationPrefixes } from '../../config/notificationPrefixes';
import { probeRuleKey, type KeyProbe } from '../../start/keyProbe';
import { createKeyProbeAdapters } from '../../start/keyProbeAdapters';
import { STACK_ROW, type CheckRow } from './checkRow';
import { bucketWriters, busPublishers, deployedFunctions, deployedQueues, rolesWhere, topicPublishers, type CheckTargets } from './expectedStack';
import { inputBucketRow, notificationRoomRow, notificationRow } from './inputBucketRows';
import { alarmsRow, alarmTopicRow, alertingRulesRow, trailRow } from './pagingRows';
import { keyRows, outputBucketRow, type BucketDefaultAnswer } from './ruleRows';
import { verifierRolesRow } from './verifierRoles';
import { alertingNames, functionName, stackName, roleArn, roleName, STACK_FUNCTIONS, stackRules, VERIFIERS, type FunctionId } from '../../stack/stackNames';
import { VERDICT_GUARD_SIDS } from '../../stack/iamStatements';
import { notificationCountProblem } from '../../stack/inputNotifications';
import { changePageInputs } from '../../stack/alarmResources';
import { alarmTopicKeyRow } from './alarmTopicKey';
import { bucketExposureRow, type ExposureScope } from './bucketExposure';
import type { PolicyStatement } from './policyStatement';
import { alarmTopicPolicyRow } from './alarmTopicPolicy';
import { stackQueuesRow } from './stackQueues';
import { createDemandSources } from '../cliAdapters';
import { readAlarms, readAlarmTopic, readBucketExposure, readBucketLifecycle, readBucketPolicy, readBusPolicy, readDeployedCode, readInputBucketDefault, readRules, readStackFunctions, readStackQueues, readSubscriptions, readTrails, readVerifierRoles } from './checkAdapters';
import { outcomeBusPolicyRow } from './outcomeBusPolicy';
import { stackFunctionsRow } from './stackFunctions';
import { deployedConfigRow } from './deployedConfig';
import { functionCodeRow } from './functionCode';
import { transcriptBucketLifecycleRow } from './transcriptBucketLifecycle';
import { transcriptBucketPolicyRow } from './transcriptBucketPolicy';
import { callerIdentity, createCliClients, deployedConfigFingerprint, namedTargets, openStack, queueArnFromUrl, SERVICE_NAME, type CliClients, type StackOptions } from '../cliAws';
import { loadCliConfig } from '../cliConfig';
import { CliError, EXIT, StackNotDeployedError } from '../cliErrors';
import type { TerminalOutput } from '../terminalOutput';

export interface CheckOptions extends StackOptions {
  deployed?: boolean;
}

/** The preflight function's answer (functions/preflight.ts). */
interface PreflightAnswer {
  configFingerprint: string;
  identity: string;
  probes: KeyProbe[];
}

async function invokePreflight(clients: CliClients, targets: CheckTargets, identity: string): Promise<PreflightAnswer> {
  const name = targets.preflightFunction as string;
  let response;
  try {
    response = await clients.lambda.send(new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode('{}') }));
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') {
      throw new CliError(
        `--deployed: the preflight function ${name} is not deployed in ${clients.region}; deploy this version of the stack (serverless deploy --stage ${targets.stage}), or run tkp check without --deployed`,
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

/** Why a row of a bucket the stack creates is not checked yet: the bucket does not exist before the first deploy. */
const NOT_CREATED = {
  inputBucket: 'the input bucket the stack creates does not exist yet (or pass --input-bucket)',
  transcriptBucket: 'the transcript bucket the stack creates does not exist yet (or pass --transcript-bucket)',
};

/** A stack row's facts, or the reason they could not be read, which the row then says. */
const orError = <T>(read: Promise<T>): Promise<T | { error: string }> => read.catch((error: unknown) => ({ error: describeError(error) }));

async function openForCheck(options: CheckOptions, env: CliEnvironment) {
  try {
    const stack = await openStack(options, env, ['startQueueUrl', 'startDeadLetterQueueUrl', 'verifyDeadLetterQueueUrl', 'alarmTopicArn', ...(options.deployed ? (['preflightFunction'] as const) : [])]);
    return { ...stack, targets: stack.targets as CheckTargets, notDeployed: undefined };
  } catch (error) {
    if (!(error instanceof StackNotDeployedError) || options.deployed) throw error;
    // Before the first deploy: the keys can be proved, the stack's own buckets and queue do not exist yet.
    const clients = await createCliClients(options, env);
    const targets: CheckTargets = namedTargets(options, env);
    const { config, path } = loadCliConfig(options.config ?? env.configPath, { region: clients.region, ...(targets.inputBucket && { inputBucket: targets.inputBucket }), ...(targets.transcriptBucket && { transcriptBucket: targets.transcriptBucket }) });
    return { clients, targets, config, configPath: path, notDeployed: (error as Error).message };
  }
}


export async function runCheck(options: CheckOptions, env: CliEnvironment, out: TerminalOutput): Promise<number> {
  const { clients, targets, config, configPath, notDeployed } = await openForCheck(options, env);
  const caller = await callerIdentity(clients);
  const fingerprint = configFingerprint(config.rules);
  const rows: CheckRow[] = [{ rule: STACK_ROW, check: 'config', ok: true, detail: `${configPath}: ${config.rules.length} rule(s), fingerprint ${fingerprint}` }];
  if (notDeployed) rows.push({ rule: STACK_ROW, check: 'stack', ok: true, skipped: true, detail: `${notDeployed.split(';')[0]}: what it creates is not checked until it is` });
  const deployedStack = stackName({ service: SERVICE_NAME, stage: targets.stage });
  // --deployed compares the preflight function's own config below, which is what runs.
  if (!notDeployed && !options.deployed) rows.push(deployedConfigRow(deployedStack, configPath, fingerprint, await deployedConfigFingerprint(clients, deployedStack)));

  let probes: KeyProbe[];
  let dryRunAs: string;
  if (options.deployed) {
    const answer = await invokePreflight(clients, targets, caller.arn);
    probes = answer.probes;
    dryRunAs = `${answer.identity} (the start role, inside the preflight function ${targets.preflightFunction})`;
    if (answer.configFingerprint !== fingerprint) {
      rows.push({ rule: STACK_ROW, check: 'deployed config', ok: false, detail: `the deployed config (fingerprint ${answer.configFingerprint}) differs from ${configPath}; deploy this config, then check again` });
    }
  } else {
    const deps = createKeyProbeAdapters(clients.kms);
    probes = await Promise.all(config.rules.map((rule) => probeRuleKey(deps, rule, caller)));
    dryRunAs = `${caller.arn} (your identity, not the start role: pass --deployed to run the DryRun calls as the start role)`;
  }

  const sources = createDemandSources(clients, targets.transcriptBucket ?? '');
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
    rows.push(
      bucket
        ? outputBucketRow(rule, bucket, await bucketAnswer(bucket))
        : { rule: rule.prefix, check: 'output bucket', ok: true, skipped: true, detail: NOT_CREATED.transcriptBucket },
    );
  }

  const stack = { service: SERVICE_NAME, stage: targets.stage, region: clients.region };
  if (targets.inputBucket) {
    const where = rolesWhere(caller);
    const readers = [roleArn(where, roleName(stack, 'start')), ...(needsDataAccessRole(config) ? [roleArn(where, roleName(stack, 'transcribe-data'))] : [])];
    rows.push(inputBucketRow(targets.inputBucket, await orError(readInputBucketDefault(clients.s3, targets.inputBucket)), readers));
  } else {
    rows.push({ rule: STACK_ROW, check: 'input bucket', ok: true, skipped: true, detail: NOT_CREATED.inputBucket });
  }

  const notifications = `notifications of s3://${targets.inputBucket ?? '(input bucket)'}`;
  const tooManyNotifications = notificationCountProblem(config.rules);
  if (tooManyNotifications) {
    rows.push({ rule: STACK_ROW, check: notifications, ok: false, detail: tooManyNotifications });
  } else if (targets.inputBucket) {
    const prefixes = notificationPrefixes(config.rules);
    try {
      const current = await clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: targets.inputBucket }));
      rows.push(
        targets.startQueueUrl
          ? notificationRow(current, queueArnFromUrl(targets.startQueueUrl, clients.region), prefixes, targets.inputBucket)
          : // Before the first deploy into an existing bucket: whether the bucket's own notifications leave room for this stage's.
            notificationRoomRow(current, targets.stage, prefixes, notifications),
      );
    } catch (error) {
      rows.push({ rule: STACK_ROW, check: notifications, ok: false, detail: `cannot be read (${describeError(error)}); the caller needs s3:GetBucketNotification on the input bucket` });
    }
  } else {
    rows.push({ rule: STACK_ROW, check: notifications, ok: true, skipped: true, detail: 'the start queue does not exist until the stack is deployed' });
  }

  rows.push(trailRow(await orError(readTrails(clients.cloudTrail)), clients.region));
  rows.push(
    targets.alarmTopicArn
      ? alarmTopicRow(targets.alarmTopicArn, await orError(readSubscriptions(clients.sns, targets.alarmTopicArn)))
      : { rule: STACK_ROW, check: 'alarm topic', ok: true, skipped: true, detail: 'the alarm topic does not exist until the stack is deployed (or pass --alarm-topic-arn)' },
  );
  if (targets.alarmTopicArn) {
    const topic = await orError(readAlarmTopic(clients, targets.alarmTopicArn));
    // The rules' and alarms' names are fixed, so a topic of the operator's can be judged before the first deploy.
    rows.push(alarmTopicPolicyRow('error' in topic ? topic : { statements: topic.policy }, topicPublishers(targets.alarmTopicArn, stack, caller)));
    rows.push(alarmTopicKeyRow(targets.alarmTopicArn, 'error' in topic ? topic : topic.key));
  } else {
    const notYet = 'the alarm topic does not exist until the stack is deployed (or pass --alarm-topic-arn)';
    rows.push({ rule: STACK_ROW, check: 'alarm topic policy', ok: true, skipped: true, detail: notYet }, { rule: STACK_ROW, check: 'alarm topic key', ok: true, skipped: true, detail: notYet });
  }
  if (notDeployed) {
    rows.push({ rule: STACK_ROW, check: 'EventBridge rules', ok: true, skipped: true, detail: 'the stack\'s rules do not exist until it is deployed' });
    rows.push({ rule: STACK_ROW, check: 'CloudWatch alarms', ok: true, skipped: true, detail: 'the stack\'s alarms do not exist until it is deployed' });
    rows.push({ rule: STACK_ROW, check: 'verifier roles', ok: true, skipped: true, detail: 'the verifiers\' roles do not exist until the stack is deployed' });
    rows.push({ rule: STACK_ROW, check: 'stack functions', ok: true, skipped: true, detail: 'the stack\'s functions do not exist until it is deployed' });
    rows.push({ rule: STACK_ROW, check: 'function code', ok: true, skipped: true, detail: 'the stack\'s functions do not exist until it is deployed' });
    rows.push({ rule: STACK_ROW, check: 'outcome bus policy', ok: true, skipped: true, detail: 'the outcome bus does not exist until the stack is deployed' });
    rows.push({ rule: STACK_ROW, check: 'stack queues', ok: true, skipped: true, detail: 'the stack\'s queues do not exist until it is deployed' });
  } else {
    const { alarms } = alertingNames(stack);
    const pages = changePageInputs(stack);
    const rules = stackRules(stack).map((rule) => ({ ...rule, ...(pages[rule.name] && { pageTemplate: pages[rule.name]?.InputTemplate }) }));
    rows.push(alertingRulesRow(await orError(readRules(clients.events, rules)), targets.alarmTopicArn));
    rows.push(
      targets.alarmTopicArn
        ? alarmsRow(await orError(readAlarms(clients.cloudWatch, Object.values(alarms))), targets.alarmTopicArn)
        : { rule: STACK_ROW, check: 'CloudWatch alarms', ok: true, skipped: true, detail: 'the alarm topic is not known (pass --alarm-topic-arn)' },
    );
    const verifierRoles = VERIFIERS.map((fn) => ({ name: roleName(stack, fn), policy: fn }));
    rows.push(verifierRolesRow(await orError(readVerifierRoles(clients.iam, verifierRoles)), VERDICT_GUARD_SIDS));
    const functions = (Object.keys(STACK_FUNCTIONS) as FunctionId[]).map((id) => ({ id, name: functionName(stack, id) }));
    const functionFacts = await orError(readStackFunctions(clients.lambda, functions));
    rows.push(stackFunctionsRow(functionFacts, deployedFunctions(targets, stack, caller)));
    rows.push(functionCodeRow(functionFacts, await orError(readDeployedCode(clients.cloudFormation, deployedStack, functions)), targets.stage));
    const publishers = busPublishers(stack, caller);
    rows.push(outcomeBusPolicyRow(await orError(readBusPolicy(clients.events, publishers.busName)), publishers));
    const { startQueueUrl: start, startDeadLetterQueueUrl: startDeadLetters, verifyDeadLetterQueueUrl: verifyDeadLetters, inputBucket } = targets;
    rows.push(
      start && startDeadLetters && verifyDeadLetters && inputBucket
        ? stackQueuesRow(await orError(readStackQueues(clients, { start, startDeadLetters, verifyDeadLetters })), deployedQueues(inputBucket, stack, caller))
        : { rule: STACK_ROW, check: 'stack queues', ok: true, skipped: true, detail: 'the queues are not known (pass --start-queue-url, --start-dlq-url, --verify-dlq-url and --input-bucket)' },
    );
  }
  const { partition } = rolesWhere(caller);
  const exposure = (check: ExposureScope['check'], bucket: string, holds: string, policy?: Promise<{ statements: PolicyStatement[] | null }>) =>
    orError(readBucketExposure(clients.s3, bucket, policy)).then((answer) => bucketExposureRow(answer, { check, bucket, holds, partition, account: caller.account }));
  // Read once for the policy row and the exposure row.
  const transcriptPolicy = targets.transcriptBucket ? readBucketPolicy(clients.s3, targets.transcriptBucket) : undefined;
  // The roles' names are fixed, so an existing bucket's policy can be judged before the first deploy.
  if (targets.transcriptBucket && transcriptPolicy) {
    const writers = bucketWriters(config, targets.transcriptBucket, stack, caller);
    rows.push(transcriptBucketPolicyRow(await orError(transcriptPolicy), writers));
    rows.push(transcriptBucketLifecycleRow(await orError(readBucketLifecycle(clients.s3, writers.bucket)), writers));
  } else {
    const notYet = { rule: STACK_ROW, ok: true, skipped: true, detail: NOT_CREATED.transcriptBucket } as const;
    rows.push({ ...notYet, check: 'transcript bucket policy' }, { ...notYet, check: 'transcript bucket lifecycle' });
  }
  // Who may read the recordings and the transcripts: the buckets' own settings, whoever made the buckets.
  rows.push(
    targets.inputBucket
      ? await exposure('input bucket exposure', targets.inputBucket, 'the recordings')
      : { rule: STACK_ROW, check: 'input bucket exposure', ok: true, skipped: true, detail: NOT_CREATED.inputBucket },
    targets.transcriptBucket
      ? await exposure('transcript bucket exposure', targets.transcriptBucket, 'the transcripts', transcriptPolicy)
      : { rule: STACK_ROW, check: 'transcript bucket exposure', ok: true, skipped: true, detail: NOT_CREATED.transcriptBucket },
  );

  const failed = rows.filter((row) => !row.ok).length;
  const skipped = rows.filter((row) => row.skipped).length;
  if (out.json) {
    out.document({ command: 'check', checkedAt: new Date().toISOString(), stage: targets.stage, region: clients.region, account: caller.account, identity: caller.arn, dryRunAs, deployed: Boolean(options.deployed), configFingerprint: fingerprint, failed, skipped, rows });
  } else {
    out.line(`tkp check: stage ${targets.stage}, region ${clients.region}, account ${caller.account}`);
    out.line(`DryRun as ${dryRunAs}`);
    out.line();
    const mark = (row: CheckRow) => (row.skipped ? '–' : row.ok ? '✔' : '✘');
    out.table(
      ['', 'rule', 'check', 'result'],
      rows.map((row) => [mark(row), row.rule, row.check, row.detail]),
      (cell, column, i) => (column === 0 ? (rows[i]?.skipped ? out.colour.dim(cell) : rows[i]?.ok ? out.colour.green(cell) : out.colour.red(cell)) : cell),
    );
    out.line();
    const summary = failed === 0 ? `All ${rows.length - skipped} checks passed${skipped ? ` (${skipped} not checked yet)` : ''}.` : `${failed} of ${rows.length - skipped} checks failed; the result column says what to change.`;
    out.line(failed === 0 ? out.colour.green(summary) : out.colour.red(summary));
  }
  return failed === 0 ? EXIT.ok : EXIT.findings;
}
