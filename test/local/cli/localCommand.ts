/**
 * `tkp local` (and `npm start`): the whole pipeline on this machine.
 *
 *   tkp local                                  demo: sample audio under every configured prefix
 *   tkp local --tamper                         demo, with one transcript written under the wrong key
 *   tkp local a.wav b.mp3 --prefix calls/      your own files under one prefix
 *   tkp local --watch ./inbox                  a folder tree as the bucket, until Ctrl-C
 *   tkp local --keep                           then keep the stack running for tkp check/audit/explain/backfill
 *
 * Exits 1 when any object's verdict is not "verified".
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { CliError, EXIT } from '../../../shared/cli/cliErrors';
import { readConfigJson } from '../../../shared/cli/cliConfig';
import { isAwsRegionName } from '../../../shared/cli/cliAws';
import { buildRuleIndex, matchRule } from '../../../shared/config/ruleIndex';
import { firstTenOf, terminalText } from '../../../shared/cli/terminalOutput';
import type { Rule } from '../../../shared/config/rule';
import { functionName } from '../../../shared/stack/stackNames';
import { CHANGE_PAGE_WHAT_TO_DO } from '../../../shared/stack/alarmResources';
import { LocalPipeline } from '../runtime/localPipeline';
import { configSummary, describeProgress, formatTable, notUploadedRow, objectRows, type ObjectRow } from './report';
import { parseTamper, SAMPLE_AUDIO, sampleFor } from './samples';
import { watchFolder } from './watch';
import type { OutputKind } from '../emulator/emulatorModel';

export interface LocalOptions {
  prefix?: string;
  watch?: string;
  /** `true` for a bare --tamper, else MATCH[:wrong-key|no-kms][:OUTPUT]. */
  tamper?: string | boolean;
  config?: string;
  region?: string;
  timeScale?: string;
  bucketDefaultKms?: boolean;
  keep?: boolean;
}

function readUploads(files: string[], prefix: string): { key: string; body: Buffer }[] {
  return files.map((file) => {
    try {
      return { key: `${prefix}${basename(file)}`, body: readFileSync(file) };
    } catch (error) {
      throw new CliError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass audio files that exist`);
    }
  });
}

/**
 * `--prefix calls` puts `a.wav` at `callsa.wav`. When that leaves every file under no rule while
 * `calls/` would cover them all, the missing "/" is the mistake: say so before uploading anything.
 */
export function checkPrefixSlash(prefix: string, files: readonly string[], rules: readonly Rule[]): void {
  if (prefix.endsWith('/') || files.length === 0) return;
  const index = buildRuleIndex(rules);
  const names = files.map((file) => basename(file));
  if (names.some((name) => matchRule(index, `${prefix}${name}`)) || !names.every((name) => matchRule(index, `${prefix}/${name}`))) return;
  throw new CliError(
    `--prefix ${JSON.stringify(prefix)} puts ${JSON.stringify(names[0])} at ${JSON.stringify(`${prefix}${names[0]}`)}, which no rule covers; ` +
      `did you mean --prefix ${JSON.stringify(`${prefix}/`)}?`,
  );
}

/** What another shell exports to point `tkp` (or the AWS CLI) at the running local stack. */
export function localEnvironmentExports(pipeline: LocalPipeline): Record<string, string> {
  const { names } = pipeline.stack;
  const env = pipeline.environment();
  return {
    AWS_ENDPOINT_URL: pipeline.gateway.endpoint,
    // Transcribe is the emulator, not the gateway (which forwards to moto, whose Transcribe keeps
    // no tags and writes nothing): without this, the AWS CLI or an SDK would look up jobs in moto.
    AWS_ENDPOINT_URL_TRANSCRIBE: pipeline.emulator.endpoint,
    AWS_REGION: names.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    TKP_STAGE: names.stage,
    TKP_INPUT_BUCKET: names.inputBucket,
    TKP_TRANSCRIPT_BUCKET: names.transcriptBucket,
    TKP_START_QUEUE_URL: env.START_QUEUE_URL as string,
    TKP_START_DLQ_URL: env.START_DLQ_URL as string,
    TKP_VERIFY_DLQ_URL: pipeline.viaGateway(pipeline.stack.verifyDeadLetterQueueUrl),
    TKP_PREFLIGHT_FUNCTION: functionName(names, 'preflight'),
    TKP_ALARM_TOPIC_ARN: pipeline.stack.alarmTopicArn,
    PIPELINE_CONFIG_PATH: pipeline.configPath,
  };
}

export async function runLocal(files: string[], options: LocalOptions): Promise<number> {
  if (files.length > 0 && options.prefix === undefined) throw new CliError('your own files need --prefix, e.g. --prefix calls/');
  if (options.watch && files.length > 0) throw new CliError('use either --watch or a list of files, not both');
  const timeScale = Number(options.timeScale ?? 20);
  if (!(timeScale > 0)) throw new CliError('--time-scale must be a positive number');
  if (options.region !== undefined && !isAwsRegionName(options.region)) {
    throw new CliError(`--region ${JSON.stringify(options.region)} is not an AWS region; pass one such as eu-west-1`);
  }
  const uploadsFromFiles = files.length > 0 ? readUploads(files, options.prefix as string) : undefined;
  // Read and parsed here too, so that an unreadable file or broken JSON is one line before anything starts.
  const configPath = options.config === undefined ? undefined : readConfigJson(options.config).file;

  const logDir = resolve('.local');
  mkdirSync(logDir, { recursive: true });
  const logFile = resolve(logDir, 'lambda.log');
  writeFileSync(logFile, '');
  const tamper = options.tamper === undefined || options.tamper === false ? undefined : parseTamper(options.tamper === true ? '' : options.tamper);

  console.log('Starting the local pipeline: moto (S3, SQS, KMS, EventBridge), the Transcribe emulator and the real handlers...');
  const pipeline = await LocalPipeline.start({
    ...(configPath && { configPath }),
    ...(options.region && { region: options.region }),
    timeScale,
    ...(options.bucketDefaultKms && { transcriptBucketDefault: 'aws:kms' as const }),
    onLog: (record) => {
      appendFileSync(logFile, `${JSON.stringify(record)}\n`);
      const line = describeProgress(record);
      if (line) console.log(line);
    },
  });
  const { names } = pipeline.stack;
  console.log(`moto on ${pipeline.moto.endpoint} (pid ${pipeline.moto.pid}), Transcribe emulator on ${pipeline.emulator.endpoint}`);
  console.log(`region ${names.region}, input bucket ${names.inputBucket}, transcripts in ${names.transcriptBucket}, S3 notifications on ${firstTenOf(pipeline.stack.notificationPrefixes.map((p) => JSON.stringify(p)), ', ')}`);
  console.log(`rules (${pipeline.configPath}):\n${configSummary(pipeline.config).join('\n')}`);
  if (tamper) {
    tamper.match ||= pipeline.config.rules.find((rule) => rule.kmsKey)?.prefix ?? '';
    pipeline.emulator.setFaults({ tamper: { ...tamper, wrongKeyArn: pipeline.stack.tamperKeyArn } });
    console.log(
      `tamper: the first job for media matching ${JSON.stringify(tamper.match)} gets ${tamper.mode === 'wrong-key' ? 'the wrong KMS key' : 'no KMS key'}` +
        ` on its ${tamper.output ?? 'transcript'}`,
    );
  }

  try {
    if (options.watch) {
      const { allVerified } = await watchFolder(pipeline, resolve(options.watch), { logFile });
      return allVerified ? EXIT.ok : EXIT.findings;
    }
    if (uploadsFromFiles) checkPrefixSlash(options.prefix as string, files, pipeline.config.rules);
    const uploads = uploadsFromFiles ?? pipeline.config.rules.map((rule) => ({ key: `${rule.prefix}${basename(SAMPLE_AUDIO)}`, body: readFileSync(sampleFor(rule.job.jobType)) }));
    // A file that cannot be uploaded is reported in its row, and the others still run.
    const notUploaded = new Map<string, ObjectRow>();
    for (const upload of uploads) {
      try {
        await pipeline.upload(upload.key, upload.body);
        console.log(`  uploaded  s3://${names.inputBucket}/${terminalText(upload.key)}`);
      } catch (error) {
        console.log(`  not uploaded  ${terminalText(upload.key)}: ${(error as Error).message}`);
        notUploaded.set(upload.key, notUploadedRow(upload.key, (error as Error).message));
      }
    }
    await pipeline.settle({ timeoutMs: 300_000 });
    if (pipeline.emulator.jobs().some((job) => job.jobType === 'medical')) {
      // Transcribe emits no completion event for medical jobs: the deployed sweeper finds them every 15 minutes.
      console.log('medical jobs have no completion event: running the sweeper now (deployed, it runs every 15 minutes)');
      await pipeline.sweep({ deadLetterOnFailure: true });
      await pipeline.settle({ timeoutMs: 300_000 });
    }
    const reached = await objectRows(pipeline, uploads.map((u) => u.key).filter((key) => !notUploaded.has(key)));
    const rows = uploads.map((u) => notUploaded.get(u.key) ?? (reached.find((row) => row.key === u.key) as ObjectRow));
    console.log(`\n${formatTable(rows)}\n`);
    console.log(`Outcome events on ${names.outcomeBus}: ${pipeline.outcomes.length}; on the alarm topic: ${pipeline.alarms.length}; dead letters: ${pipeline.deadLetters.length}; Lambda logs: ${logFile}`);
    const clean = rows.every((row) => row.verdict === 'verified');
    console.log(clean ? 'All transcripts verified.' : 'Not every transcript was verified (see the verdict column).');
    // A tamper that rewrote nothing must not read as "the pipeline let it through".
    const untampered = tamper && !pipeline.emulator.tamperedJob() ? tamperMissed(tamper) : undefined;
    if (untampered) console.log(untampered);
    if (options.keep) await keepRunning(pipeline);
    return untampered ? EXIT.usage : clean ? EXIT.ok : EXIT.findings;
  } finally {
    await pipeline.stop();
  }
}

/** Which jobs write each output a tamper can rewrite. */
const TAMPER_OUTPUT_WRITERS: Record<OutputKind, string> = {
  transcript: 'every job that completes writes one, except a Call Analytics job with redaction output "redacted"',
  'redacted-transcript': 'only a Call Analytics rule with "redaction" writes one',
  'redacted-audio': 'only a Call Analytics rule with "redaction": { "audio": true } writes one',
};

/** What to change when --tamper rewrote no output: which match, which output, which jobs write it. */
function tamperMissed(tamper: ReturnType<typeof parseTamper>): string {
  const output = tamper.output ?? 'transcript';
  return (
    `--tamper changed nothing: no job whose media matched ${JSON.stringify(tamper.match)} wrote a ${output} (${TAMPER_OUTPUT_WRITERS[output]}). ` +
    'Pick a MATCH under such a rule, or another output.'
  );
}

/**
 * Keeps the stack serving until Ctrl-C, and says how to reach it from another shell. What reaches
 * the alarm topic meanwhile (a verdict that pages, or a call that changes what verdicts rest on,
 * such as `aws kms update-alias`), and each verification dead-lettered with its reason, is printed
 * as it arrives. The DLQs keep their messages from then on, as deployed ones do, for `tkp redrive`,
 * and a change in their number is printed.
 */
async function keepRunning(pipeline: LocalPipeline): Promise<void> {
  await pipeline.retainDeadLetters();
  const exports = localEnvironmentExports(pipeline);
  console.log('\nThe local stack keeps running. In another shell:');
  for (const [name, value] of Object.entries(exports)) console.log(`  export ${name}=${shellQuote(value)}`);
  console.log(`then, for example: npm run tkp -- check   (or pass --endpoint-url ${exports.AWS_ENDPOINT_URL} instead of AWS_ENDPOINT_URL)`);
  console.log('Ctrl-C stops it.');
  let shown = pipeline.alarms.length;
  const queues = [
    { queue: 'start' as const, list: 'npm run tkp -- redrive --dry-run' },
    { queue: 'verify' as const, list: 'npm run tkp -- redrive --verify --dry-run' },
  ];
  // A DLQ's depth is what its alarm counts: each change is printed with how to list its messages.
  const depths = await Promise.all(queues.map(({ queue }) => pipeline.deadLetterDepth(queue)));
  queues.forEach(({ queue, list }, i) => {
    if ((depths[i] ?? 0) > 0) console.log(`The ${queue} DLQ holds ${depths[i]} message(s): ${list} lists them with their reasons.`);
  });
  const showLetters = setInterval(() => {
    queues.forEach(({ queue, list }, i) => {
      void pipeline.deadLetterDepth(queue).then((depth) => {
        if (depth !== depths[i]) console.log(`  ${queue} DLQ now holds ${depth} message(s) (${list} lists them)`);
        depths[i] = depth;
      }, () => undefined);
    });
  }, 2000);
  let shownLetters = pipeline.deadLetters.length;
  const showAlarms = setInterval(() => {
    for (const alarm of pipeline.alarms.slice(shown)) console.log(`  alarm     ${describeAlarm(alarm)}`);
    shown = pipeline.alarms.length;
    // A verification dead-lettered: the first line of its reason says what happened (the start function logs its own).
    for (const letter of pipeline.deadLetters.slice(shownLetters)) console.log(`  dead letter (${letter.queue} DLQ) ${letter.reason.split('\n')[0]}`);
    shownLetters = pipeline.deadLetters.length;
  }, 250);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  clearInterval(showAlarms);
  clearInterval(showLetters);
}

/** One line for a message on the alarm topic: a CloudTrail call with what it named, or a verdict with its job and what to do. */
function describeAlarm(alarm: LocalPipeline['alarms'][number]): string {
  const { detail } = alarm;
  // The local mode lists the calls the CloudTrail rules (CHANGE_PAGE_WHAT_TO_DO) page on; each page says what to do.
  if (alarm.page) return `${detail.eventName} ${JSON.stringify(detail.requestParameters)} by ${detail.userIdentity?.arn ?? 'unknown'}. ${CHANGE_PAGE_WHAT_TO_DO[alarm.page]}`;
  return `${alarm.detailType}: ${detail.jobName}${detail.cause ? ` (${detail.cause})` : ''}${detail.whatToDo ? `. ${detail.whatToDo}` : ''}`;
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
