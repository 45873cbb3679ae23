/**
 * `npm start`: the whole pipeline on this machine.
 *
 *   npm start                                  demo: sample audio under every configured prefix
 *   npm start -- --tamper                      demo, with one transcript written under the wrong key
 *   npm start -- a.wav b.mp3 --prefix calls/   your own files under one prefix
 *   npm start -- --watch ./inbox               a folder tree as the bucket, until Ctrl-C
 *
 * Options: --config <file>, --time-scale <n>, --tamper[=<match>[:wrong-key|no-kms]], --bucket-default-kms
 * (the transcript bucket encrypts with its own KMS key by default, as an existing bucket may).
 * Exits 1 when any object's verdict is not "verified".
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MotoUnavailableError } from '../emulator/moto';
import { LocalPipeline } from '../runtime/localPipeline';
import { configSummary, describeProgress, formatTable, objectRows } from './report';
import { parseTamper, SAMPLE_AUDIO } from './samples';
import { watchFolder } from './watch';

// This machine runs Node 20; the deployed functions run on nodejs22.x.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const USAGE = `usage: npm start [-- [files...] [--prefix P] [--watch DIR] [--tamper[=MATCH[:wrong-key|no-kms]]] [--config FILE] [--time-scale N] [--bucket-default-kms]]`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      prefix: { type: 'string' },
      watch: { type: 'string' },
      tamper: { type: 'string' },
      config: { type: 'string' },
      'time-scale': { type: 'string' },
      'bucket-default-kms': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    args: normalizeTamperFlag(process.argv.slice(2)),
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 0 && values.prefix === undefined) throw new UsageError('your own files need --prefix, e.g. --prefix calls/');
  if (values.watch && positionals.length > 0) throw new UsageError('use either --watch or a list of files, not both');
  const timeScale = Number(values['time-scale'] ?? 20);
  if (!(timeScale > 0)) throw new UsageError('--time-scale must be a positive number');

  const logDir = resolve('.local');
  mkdirSync(logDir, { recursive: true });
  const logFile = resolve(logDir, 'lambda.log');
  writeFileSync(logFile, '');
  const tamper = values.tamper === undefined ? undefined : parseTamper(values.tamper);

  console.log('Starting the local pipeline: moto (S3, SQS, KMS, EventBridge), the Transcribe emulator and the real handlers...');
  const pipeline = await LocalPipeline.start({
    ...(values.config && { configPath: resolve(values.config) }),
    timeScale,
    ...(values['bucket-default-kms'] && { transcriptBucketDefault: 'aws:kms' as const }),
    onLog: (record) => {
      appendFileSync(logFile, `${JSON.stringify(record)}\n`);
      const line = describeProgress(record);
      if (line) console.log(line);
    },
  });
  const { names } = pipeline.stack;
  console.log(`moto on ${pipeline.moto.endpoint} (pid ${pipeline.moto.pid}), Transcribe emulator on ${pipeline.emulator.endpoint}`);
  console.log(`input bucket ${names.inputBucket}, transcripts in ${names.transcriptBucket}, S3 notifications on ${pipeline.stack.notificationPrefixes.map((p) => JSON.stringify(p)).join(', ')}`);
  console.log(`rules (${pipeline.configPath}):\n${configSummary(pipeline.config).join('\n')}`);
  if (tamper) {
    tamper.match ||= pipeline.config.rules.find((rule) => rule.kmsKey)?.prefix ?? '';
    pipeline.emulator.setFaults({ tamper: { ...tamper, wrongKeyArn: pipeline.stack.tamperKeyArn } });
  }
  if (tamper) console.log(`tamper: the first job for media matching ${JSON.stringify(tamper.match)} gets ${tamper.mode === 'wrong-key' ? 'the wrong KMS key' : 'no KMS key'}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await pipeline.stop();
  };
  try {
    if (values.watch) {
      await watchFolder(pipeline, resolve(values.watch), { logFile });
      return 0;
    }
    const uploads: { key: string; body: Buffer }[] =
      positionals.length > 0
        ? positionals.map((file) => ({ key: `${values.prefix}${basename(file)}`, body: readFileSync(file) }))
        : pipeline.config.rules.map((rule) => ({ key: `${rule.prefix}${basename(SAMPLE_AUDIO)}`, body: readFileSync(SAMPLE_AUDIO) }));
    for (const upload of uploads) {
      await pipeline.upload(upload.key, upload.body);
      console.log(`  uploaded  s3://${names.inputBucket}/${upload.key}`);
    }
    await pipeline.settle({ timeoutMs: 300_000 });
    const rows = await objectRows(pipeline, uploads.map((u) => u.key));
    console.log(`\n${formatTable(rows)}\n`);
    console.log(`Outcome events on ${names.outcomeBus}: ${pipeline.outcomes.length}; on the alarm topic: ${pipeline.alarms.length}; dead letters: ${pipeline.deadLetters.length}; Lambda logs: ${logFile}`);
    const clean = rows.every((row) => row.verdict === 'verified');
    console.log(clean ? 'All transcripts verified.' : 'Not every transcript was verified (see the verdict column).');
    return clean ? 0 : 1;
  } finally {
    await stop();
  }
}

/** `--tamper` may stand alone; parseArgs wants a value, so give it the default one. */
function normalizeTamperFlag(args: string[]): string[] {
  return args.map((arg, i) => (arg === '--tamper' && (args[i + 1] === undefined || args[i + 1]?.startsWith('--')) ? '--tamper=' : arg));
}

class UsageError extends Error {}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) console.error(`${error.message}\n${USAGE}`);
    else if (error instanceof MotoUnavailableError) console.error(error.message);
    else console.error(error);
    process.exit(2);
  },
);
