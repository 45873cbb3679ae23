/**
 * tkp: check the keys before deploying, audit what is stored, explain one upload, backfill what
 * was there first, redrive the dead-letter queues, and run everything locally. The logic lives in
 * shared/cli/ and the flows it reuses; this file only declares the commands and turns their
 * results into exit codes (0 all good, 1 findings, 2 usage, config or environment).
 */
import { Command, CommanderError, Option } from 'commander';
import { describeCliError, EXIT, exitCodeOf } from '../shared/cli/cliErrors';
import type { CliCommand } from '../shared/cli/cliPermissions';
import { createTerminalOutput } from '../shared/cli/terminalOutput';
import { loadCliEnvironment } from '../shared/config/settings';

// This machine may run Node 20; the SDK warns about it on every client otherwise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const env = loadCliEnvironment();

function withStackOptions(command: Command): Command {
  return command
    .option('--stage <stage>', 'the deployed stage (default: TKP_STAGE, else dev)')
    .option('--region <region>', 'AWS region (default: AWS_REGION or the profile\'s)')
    .option('--profile <name>', 'a profile from ~/.aws/config (default: AWS_PROFILE)')
    .option('--endpoint-url <url>', 'send every AWS call here (the local stack of `tkp local --keep`)')
    .option('--config <file>', 'the pipeline config (default: PIPELINE_CONFIG_PATH, else ./pipeline.config.json)')
    .option('--input-bucket <name>', 'the input bucket (default: TKP_INPUT_BUCKET, else the stack\'s output)')
    .option('--transcript-bucket <name>', 'the transcript bucket (default: TKP_TRANSCRIPT_BUCKET, else the stack\'s output)')
    .option('--json', 'print one JSON document, for machines')
    .option('--permissions', 'print the IAM policy this command needs of whoever runs it, and do nothing else');
}

type Runner = (out: ReturnType<typeof createTerminalOutput>) => Promise<number>;
let pending: Runner | undefined;
const later = (runner: Runner) => {
  pending = runner;
};

const program = new Command('tkp')
  .description('Check, audit, explain, backfill and redrive the transcribe-kms-pipeline; run it locally.')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`tkp: ${text.trim().replace(/^error: /, '')} (--help lists the commands and options)\n`) });

withStackOptions(program.command('check').description('prove before deploying that every rule\'s key works for the start role, and that buckets and notifications match the config'))
  .option('--deployed', 'run the KMS DryRun calls inside the deployed preflight function, as the start role')
  .option('--preflight-function <name>', 'the preflight function (default: TKP_PREFLIGHT_FUNCTION, else the stack\'s output)')
  .option('--start-queue-url <url>', 'the start queue (default: TKP_START_QUEUE_URL, else the stack\'s output)')
  .option('--alarm-topic-arn <arn>', 'the alarm topic (default: TKP_ALARM_TOPIC_ARN, else the stack\'s output)')
  .action((options) => later(async (out) => (await import('../shared/cli/check/checkCommand')).runCheck(options, env, out)));

withStackOptions(program.command('audit').description('judge every stored transcript against what its rule demands today'))
  .option('--prefix <prefix>', 'only transcripts whose key starts with this')
  .option('--since <date>', 'only transcripts modified after this date (ISO 8601)')
  .option('--csv <file>', 'write every object\'s row, with the run\'s time, account, region and config fingerprint')
  .option('--concurrency <n>', 'HeadObject calls in flight (default 16)')
  .action((options) => later(async (out) => (await import('../shared/cli/auditCommand')).runAudit(options, env, out)));

withStackOptions(program.command('explain').description('say what the pipeline does with one upload, and why').argument('<key>', 'the object key as the uploader wrote it (quote it), or its s3://BUCKET/KEY URI'))
  .option('--from-event', 'the key is copied from an S3 event or a log (space as +, percent-encoded)')
  .option('--size <bytes>', 'the object size, when the object cannot be read')
  .option('--version-id <id>', 'the object version')
  .option('--offline', 'make no AWS call (no key resolution, no object read)')
  .action((key: string, options) => later(async (out) => (await import('../shared/cli/explainCommand')).runExplain(key, options, env, out)));

withStackOptions(program.command('backfill').description('send objects already in the input bucket to the start queue, as S3 would have'))
  .option('--prefix <prefix>', 'only objects whose key starts with this')
  .option('--since <date>', 'only objects modified after this date (ISO 8601)')
  .option('--dry-run', 'list and count, send nothing')
  .option('--start-queue-url <url>', 'the start queue (default: TKP_START_QUEUE_URL, else the stack\'s output)')
  .action((options) => later(async (out) => (await import('../shared/cli/backfillCommand')).runBackfill(options, env, out)));

withStackOptions(program.command('redrive').description('once what their reasons name is fixed, move the start DLQ\'s uploads back to the start queue, or (--verify) invoke the verify DLQ\'s failed verifications again'))
  .option('--verify', 'the verify DLQ instead of the start DLQ')
  .option('--dry-run', 'list the messages and their reasons, try nothing')
  .option('--error-name <name>', 'try only the messages of this error name (KeyNotUsableError, TranscriptAccessDeniedError, ...)')
  .option('--discard <name>', 'delete the messages of this error name without trying them, once dealt with (UnsupportedRecordingError, EncryptionMismatchError, ...)')
  .option('--start-queue-url <url>', 'the start queue (default: TKP_START_QUEUE_URL, else the stack\'s output)')
  .option('--start-dlq-url <url>', 'the start DLQ (default: TKP_START_DLQ_URL, else the stack\'s output)')
  .option('--verify-dlq-url <url>', 'the verify DLQ (default: TKP_VERIFY_DLQ_URL, else the stack\'s output)')
  .action((options) => later(async (out) => (await import('../shared/cli/redrive/redriveCommand')).runRedrive(options, env, out)));

program
  .command('local')
  .description('run the whole pipeline on this machine (moto, the Transcribe emulator, the real handlers)')
  .argument('[files...]', 'your own audio files (with --prefix); without files, a sample under every rule')
  .option('--prefix <prefix>', 'the key prefix for your files')
  .option('--watch <dir>', 'treat a folder tree as the bucket until Ctrl-C')
  .addOption(new Option('--tamper [match]', 'write one output under the wrong key: MATCH[:wrong-key|no-kms][:transcript|redacted-transcript|redacted-audio]'))
  .option('--config <file>', 'the pipeline config (default: ./pipeline.config.json)')
  .option('--region <region>', 'the region to emulate (default: the one the config\'s key ARNs name, else us-east-1)')
  .option('--time-scale <n>', 'how much faster than real time (default 20)')
  .option('--bucket-default-kms', 'give the transcript bucket an SSE-KMS default, as an existing bucket may have')
  .option('--keep', 'keep the stack running afterwards and print how to reach it')
  .action((files: string[], options) => later(async () => (await import('../test/local/cli/localCommand')).runLocal(files, options)));

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    throw error;
  }
  if (!pending) {
    program.outputHelp();
    return EXIT.usage;
  }
  const chosen = program.commands.find((c) => c.name() === program.args[0]);
  if (chosen?.opts().permissions) {
    const [{ policyFor }, { permissionScope }] = await Promise.all([import('../shared/cli/cliPermissions'), import('../shared/cli/cliAws')]);
    createTerminalOutput({ json: true }).document(policyFor(chosen.name() as CliCommand, permissionScope(chosen.opts(), env)));
    return EXIT.ok;
  }
  return pending(createTerminalOutput({ json: Boolean(chosen?.opts().json) }));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`tkp: ${describeCliError(error)}\n`);
    process.exit(exitCodeOf(error));
  },
);
