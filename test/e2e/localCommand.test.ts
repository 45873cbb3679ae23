import { appendFileSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { motoAvailable } from '../support/moto';
import { runNode, startNode, type NodeRun, type RunningNode } from '../support/runNode';
import { SAMPLE_AUDIO } from '../local/cli/samples';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/tkp.mjs', import.meta.url));

/**
 * `tkp local` (what `npm start` runs) as a user runs it: a child process in a folder of their
 * own, with a config the project does not ship. It must end in a verdict for every sample and
 * an exit code that says whether the demo showed what was asked.
 */
describe.runIf(motoAvailable('tkp local end-to-end tests'))('tkp local', () => {
  let work: string;
  let config: string;

  const tkpLocal = (args: string[]) =>
    runNode([BIN, 'local', '--config', config, '--time-scale', '50', ...args], asUser(work));

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tkp-local-'));
    config = writeConfig(work, 'my.config.json', [
      { prefix: 'Équipe A/', kmsKey: 'alias/equipe-a' },
      { prefix: 'open/' },
      // An AWS managed key: it exists without being created, locally too.
      { prefix: 'managed/', kmsKey: 'alias/aws/s3' },
    ]);
  });

  it('verifies a sample under every rule and exits 0', async () => {
    const run = await tkpLocal([]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Équipe A\/sample-call\.wav +Équipe A\/ +transcription +alias\/equipe-a .* verified$/m);
    expect(run.stdout).toMatch(/^open\/sample-call\.wav +open\/ +transcription +none: bucket default .* AES256 +verified$/m);
    expect(run.stdout).toMatch(/^managed\/sample-call\.wav +managed\/ +transcription +alias\/aws\/s3 .* aws:kms key\/\S+ @123456789012 +verified$/m);
    expect(run.stdout).toContain('All transcripts verified.');
    expect(run.code).toBe(0);
  }, 120_000);

  it('runs `npm start` as it is, with its own config and samples, from a checkout whose path has a space and an accent', async () => {
    // A file URL spells the folder "my%20checkout"; a path taken from one as it stands names no file.
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    const checkout = join(work, 'my checkout é');
    for (const entry of ['bin', 'shared', 'functions', 'test', 'events', 'pipeline.config.json', 'package.json', 'tsconfig.json']) cpSync(join(repo, entry), join(checkout, entry), { recursive: true });
    symlinkSync(join(repo, 'node_modules'), join(checkout, 'node_modules'));
    const run = await runNode([join(checkout, 'bin', 'tkp.mjs'), 'local', '--time-scale', '50'], asUser(checkout));
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^calls\/sample-call\.wav +calls\/ +transcription .* verified$/m);
    expect(run.stdout).toContain('All transcripts verified.');
    expect(run.code).toBe(0);
  }, 180_000);

  it('runs a config written for another region in that region, which its key ARNs name; --region that disagrees is refused naming the rule', async () => {
    const euConfig = writeConfig(work, 'eu.config.json', [
      { prefix: 'Aufnahmen/', kmsKey: 'arn:aws:kms:eu-central-1:123456789012:key/3f2c9a1e-7b4d-4e8a-9c61-0d5e8f7a2b13' },
      { prefix: 'extern/', kmsKey: 'arn:aws:kms:eu-central-1:999988887777:alias/extern-transcripts', account: '999988887777' },
      { prefix: 'intern/', kmsKey: 'alias/intern' },
    ]);
    const run = await runNode([BIN, 'local', '--config', euConfig, '--time-scale', '50'], asUser(work));
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^region eu-central-1, input bucket /m);
    expect(run.stdout).toMatch(/^Aufnahmen\/sample-call\.wav +Aufnahmen\/ +transcription .* aws:kms key\/3f2c9a1e… @123456789012 +verified$/m);
    expect(run.stdout).toMatch(/^extern\/sample-call\.wav +extern\/ +transcription .* aws:kms key\/\S+ @999988887777 +verified$/m);
    expect(run.stdout).toMatch(/^intern\/sample-call\.wav +intern\/ +transcription +alias\/intern .* verified$/m);
    expect(run.stdout).toContain('All transcripts verified.');
    expect(run.code).toBe(0);

    const other = await runNode([BIN, 'local', '--config', euConfig, '--region', 'us-west-2'], asUser(work));
    expect(other.stderr).toContain('rules[0] (prefix "Aufnahmen/"): kmsKey is in region eu-central-1 but the stack deploys to us-west-2');
    expect(other.code).toBe(2);
  }, 120_000);

  it('--bucket-default-kms gives the transcript bucket an SSE-KMS default, which a rule without a key is then held to', async () => {
    const run = await tkpLocal(['--bucket-default-kms']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^open\/sample-call\.wav +open\/ +transcription +none: bucket default .* aws:kms key\/\S+ @123456789012 +verified$/m);
    expect(run.stdout).toContain('All transcripts verified.');
    expect(run.code).toBe(0);
  }, 120_000);

  it('your own files under --prefix: odd names verified, exit 0', async () => {
    copyFileSync(SAMPLE_AUDIO, join(work, 'my call (2).WAV'));
    copyFileSync(SAMPLE_AUDIO, join(work, 'Zoë + Bob 50% =done.wav'));
    const run = await tkpLocal(['--prefix', 'Équipe A/2026 Q4/', 'my call (2).WAV', 'Zoë + Bob 50% =done.wav']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Équipe A\/2026 Q4\/my call \(2\)\.WAV +Équipe A\/ +transcription +alias\/equipe-a .* verified$/m);
    expect(run.stdout).toMatch(/^Équipe A\/2026 Q4\/Zoë \+ Bob 50% =done\.wav +Équipe A\/ +transcription +alias\/equipe-a .* verified$/m);
    expect(run.stdout).toContain('All transcripts verified.');
    expect(run.code).toBe(0);
  }, 120_000);

  it('a file whose folder a Mac spells decomposed (NFD, "E" and a combining accent) under a rule typed composed: notified, given that rule\'s key, verified', async () => {
    copyFileSync(SAMPLE_AUDIO, join(work, 'mac.wav'));
    const run = await tkpLocal(['--prefix', 'E\u0301quipe A/', 'mac.wav']);
    expect(run.stderr).toBe('');
    // Both spellings are notified, as the stack's notifications are.
    expect(run.stdout).toContain('S3 notifications on "E\u0301quipe A/", "managed/", "open/", "Équipe A/"');
    expect(run.stdout).toMatch(/^  started +E\u0301quipe A\/mac\.wav -> /m);
    expect(run.stdout).toMatch(/^E\u0301quipe A\/mac\.wav +Équipe A\/ +transcription +alias\/equipe-a .* verified$/m);
    expect(run.code).toBe(0);
  }, 120_000);

  it('a file a sync tool puts in a bucket folder typed composed from a folder the Mac spells decomposed: notified under the rule of both folders, given its key, verified', async () => {
    // No parent rule: only the notifications of Größe/Übung/ itself can see the upload.
    const nested = writeConfig(work, 'nested.config.json', [{ prefix: 'Größe/Übung/', kmsKey: 'alias/uebung' }, { prefix: 'open/' }]);
    copyFileSync(SAMPLE_AUDIO, join(work, 'synced.wav'));
    const mixed = 'Größe/U\u0308bung/';
    const run = await runNode([BIN, 'local', '--config', nested, '--time-scale', '50', '--prefix', mixed, 'synced.wav'], asUser(work));
    expect(run.stderr).toBe('');
    // Four spellings: each folder composed or decomposed.
    expect(run.stdout).toContain(`S3 notifications on ${['Größe/Übung/', 'Größe/U\u0308bung/', 'Gro\u0308ße/Übung/', 'Gro\u0308ße/U\u0308bung/', 'open/'].sort().map((p) => JSON.stringify(p)).join(', ')}`);
    expect(run.stdout).toMatch(new RegExp(`^${mixed}synced\\.wav +Größe/Übung/ +transcription +alias/uebung .* verified$`, 'm'));
    expect(run.code).toBe(0);
  }, 120_000);

  it('a --prefix missing its "/" is refused before anything is uploaded, naming the prefix it meant (exit 2)', async () => {
    copyFileSync(SAMPLE_AUDIO, join(work, 'a.wav'));
    const run = await tkpLocal(['--prefix', 'open', 'a.wav']);
    expect(run.stderr).toBe('tkp: --prefix "open" puts "a.wav" at "opena.wav", which no rule covers; did you mean --prefix "open/"?\n');
    expect(run.stdout).not.toContain('uploaded');
    expect(run.code).toBe(2);
  }, 120_000);

  it('a file under no rule is reported as ignored, with why, and the run exits 1', async () => {
    copyFileSync(SAMPLE_AUDIO, join(work, 'a.wav'));
    const run = await tkpLocal(['--prefix', 'elsewhere/', 'a.wav']);
    expect(run.stdout).toMatch(/^elsewhere\/a\.wav +\(none\) .* ignored$/m);
    expect(run.stdout).toContain("elsewhere/a.wav: no rule's prefix covers this key, so S3 sends the pipeline no notification for it");
    expect(run.stdout).toContain('Not every transcript was verified');
    expect(run.code).toBe(1);
  }, 120_000);

  it('a file whose name moto cannot store as a key is reported as not uploaded, with why; the others still run; a tab is shown escaped; exit 1', async () => {
    copyFileSync(SAMPLE_AUDIO, join(work, 'line\nbreak.wav'));
    copyFileSync(SAMPLE_AUDIO, join(work, 'tab\there.wav'));
    const run = await tkpLocal(['--prefix', 'open/', 'line\nbreak.wav', 'tab\there.wav']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('  not uploaded  open/line\\nbreak.wav: the key has a line break (CR or LF) in it, which S3 stores but moto, the local S3, cannot; rename the file to run it here');
    expect(run.stdout).toMatch(/^open\/line\\nbreak\.wav +- +- +- +- +- +- +not uploaded$/m);
    expect(run.stdout).toMatch(/^open\/tab\\there\.wav +open\/ +transcription +none: bucket default .* verified$/m);
    expect(run.stdout).toContain('Not every transcript was verified');
    expect(run.code).toBe(1);
  }, 120_000);

  it('answers bad arguments with one line and exit 2, before starting anything', async () => {
    writeFileSync(join(work, 'broken.json'), '{ "rules": [ { "prefix": "a/", } ] }');
    const cases: [string[], string][] = [
      [['missing.wav'], 'tkp: your own files need --prefix, e.g. --prefix calls/'],
      [['missing.wav', '--prefix', 'open/'], 'tkp: cannot read missing.wav (ENOENT); pass audio files that exist'],
      [['--bogus'], "tkp: unknown option '--bogus' (--help lists the commands and options)"],
      [['--watch', 'inbox', 'a.wav', '--prefix', 'open/'], 'tkp: use either --watch or a list of files, not both'],
      [['--time-scale', '0'], 'tkp: --time-scale must be a positive number'],
      [['--config', 'nowhere.json'], `tkp: cannot read the config ${join(work, 'nowhere.json')} (ENOENT); pass --config FILE`],
      [['--region', 'Frankfurt'], 'tkp: --region "Frankfurt" is not an AWS region; pass one such as eu-west-1'],
      [['--config', 'broken.json'], `tkp: ${join(work, 'broken.json')} is not valid JSON: Expected double-quoted property name in JSON at position 31`],
    ];
    for (const [args, line] of cases) {
      const run = await runNode([BIN, 'local', ...args], asUser(work));
      expect(run.stderr).toBe(`${line}\n`);
      expect(run.stdout).not.toContain('Starting the local pipeline');
      expect(run.code).toBe(2);
    }
  }, 60_000);

  it('--tamper turns the first keyed rule\'s transcript into a mismatch and exits 1', async () => {
    const run = await tkpLocal(['--tamper']);
    expect(run.stdout).toContain('tamper: the first job for media matching "Équipe A/" gets the wrong KMS key on its transcript');
    expect(run.stdout).toMatch(/^Équipe A\/sample-call\.wav .* mismatch$/m);
    expect(run.stdout).toMatch(/on the alarm topic: 1; dead letters: 1;/);
    expect(run.stdout).not.toContain('--tamper changed nothing');
    expect(run.code).toBe(1);
  }, 120_000);

  it('a tamper that rewrites nothing says what to change and exits 2, not "all verified" with 0', async () => {
    const run = await tkpLocal(['--tamper', 'Équipe A/:wrong-key:redacted-audio']);
    expect(run.stdout).toContain('All transcripts verified.');
    expect(run.stdout).toContain(
      '--tamper changed nothing: no job whose media matched "Équipe A/" wrote a redacted-audio ' +
        '(only a Call Analytics rule with "redaction": { "audio": true } writes one). Pick a MATCH under such a rule, or another output.',
    );
    expect(run.code).toBe(2);
  }, 120_000);
});

/**
 * `tkp local --watch` as a user runs it: a folder tree is the bucket, files dropped into it are
 * uploaded once they hold still, every one ends in a result line, and Ctrl-C prints the table and
 * shuts moto down.
 */
describe.runIf(motoAvailable('tkp local --watch end-to-end test'))('tkp local --watch', () => {
  it('turns files dropped into the folder tree into verdicts, and Ctrl-C stops it and moto cleanly', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tkp-watch-'));
    const config = writeConfig(work, 'watch.config.json', [
      { prefix: 'Équipe A/', kmsKey: 'alias/equipe-a' },
      { prefix: 'open/' },
      { prefix: 'dictation/', jobType: 'medical', type: 'DICTATION' },
    ]);
    const inbox = join(work, 'inbox');
    await withTkpLocal(work, ['--config', config, '--watch', inbox], async (watch, motoPid) => {
      await watch.waitFor(/^Watching .*inbox: drop audio into its folders/m, 60_000);
      // A folder per rule prefix, ready to drop into.
      for (const folder of ['Équipe A', 'open', 'dictation']) expect(existsSync(join(inbox, folder))).toBe(true);

      copyFileSync(SAMPLE_AUDIO, join(inbox, 'Équipe A', 'rec 1 + 2 = 3 #x.wav'));
      copyFileSync(SAMPLE_AUDIO, join(inbox, 'dictation', 'note.wav'));
      writeFileSync(join(inbox, 'open', 'notes.txt'), 'not audio');
      copyFileSync(SAMPLE_AUDIO, join(inbox, 'open', 'line\nbreak.wav'));
      mkdirSync(join(inbox, 'elsewhere'));
      copyFileSync(SAMPLE_AUDIO, join(inbox, 'elsewhere', 'stray.wav'));
      // Written in two steps, as a copy in progress: it is sent once, whole.
      const audio = readFileSync(SAMPLE_AUDIO);
      writeFileSync(join(inbox, 'open', 'slow.wav'), audio.subarray(0, 1000));
      await new Promise((resolve) => setTimeout(resolve, 200));
      appendFileSync(join(inbox, 'open', 'slow.wav'), audio.subarray(1000));

      await watch.waitFor(/^  result +Équipe A\/rec 1 \+ 2 = 3 #x\.wav: verified, output aws:kms key\/\S+ @123456789012$/m, 90_000);
      // The medical job has no completion event: the watch runs the sweeper for it.
      await watch.waitFor(/^  result +dictation\/note\.wav: verified, output AES256$/m, 90_000);
      await watch.waitFor(/^  result +open\/slow\.wav: verified, output AES256$/m, 90_000);
      await watch.waitFor(/^  result +open\/notes\.txt: skipped \(unsupported extension \.txt/m, 90_000);
      // Under no rule: S3 sends no notification, so the report says so at once, as for a run over files.
      await watch.waitFor(/^  result +elsewhere\/stray\.wav: ignored \(no rule's prefix covers this key/m, 90_000);
      expect(watch.stdout().match(/^  uploaded +open\/slow\.wav$/gm)).toHaveLength(1);
      // A name moto cannot store as a key: said once, with why, and counted as not verified.
      expect(watch.stdout()).toContain('  could not upload open/line\\nbreak.wav: the key has a line break (CR or LF) in it');

      const run = await stopWithCtrlC(watch, motoPid);
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('Stopping. 6 object(s) processed.');
      expect(run.stdout).toMatch(/^open\/line\\nbreak\.wav +- +- +- +- +- +- +not uploaded$/m);
      expect(run.stdout).toMatch(/^elsewhere\/stray\.wav +\(none\) .* ignored$/m);
      expect(run.stdout).toMatch(/^Équipe A\/rec 1 \+ 2 = 3 #x\.wav +Équipe A\/ +transcription +alias\/equipe-a .* verified$/m);
      expect(run.stdout).toMatch(/^dictation\/note\.wav +dictation\/ +medical .* verified$/m);
      // The skipped .txt and the file under no rule are not verified, as in a run over files.
      expect(run.stdout).toContain('Not every upload was verified (see the verdict column).');
      expect(run.code).toBe(1);
    });
  }, 180_000);

  it('exits 0 on Ctrl-C when every upload was verified', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tkp-watch-ok-'));
    const config = writeConfig(work, 'watch.config.json', [{ prefix: 'open/' }]);
    const inbox = join(work, 'inbox');
    await withTkpLocal(work, ['--config', config, '--watch', inbox], async (watch, motoPid) => {
      await watch.waitFor(/^Watching .*inbox: drop audio into its folders/m, 60_000);
      copyFileSync(SAMPLE_AUDIO, join(inbox, 'open', 'fine.wav'));
      await watch.waitFor(/^  result +open\/fine\.wav: verified, output AES256$/m, 90_000);
      const run = await stopWithCtrlC(watch, motoPid);
      expect(run.stdout).toContain('Stopping. 1 object(s) processed.');
      expect(run.stdout).toContain('All transcripts verified.');
      expect(run.code).toBe(0);
    });
  }, 180_000);
});

/**
 * `tkp local ARGS` in the user's folder, for `body` to talk to while it runs. Whatever the body
 * does, the process is then stopped the way a user stops it (Ctrl-C), and no moto is left behind.
 */
async function withTkpLocal(work: string, args: string[], body: (local: RunningNode, motoPid: number) => Promise<void>): Promise<void> {
  const local = startNode([BIN, 'local', '--time-scale', '50', ...args], asUser(work));
  let motoPid: number | undefined;
  try {
    motoPid = Number((await local.waitFor(/^moto on \S+ \(pid (\d+)\)/m, 60_000))[1]);
    await body(local, motoPid);
  } finally {
    local.signal('SIGINT');
    await Promise.race([local.done, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    local.signal('SIGKILL');
    if (motoPid) killIfAlive(motoPid);
  }
}

/** Ctrl-C: how it exits, with moto shut down by then. */
async function stopWithCtrlC(local: RunningNode, motoPid: number): Promise<NodeRun> {
  local.signal('SIGINT');
  const run = await local.done;
  expect(() => process.kill(motoPid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  return run;
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * `tkp local --keep` as a user runs it: the `export` lines it prints, pasted into another shell,
 * point `tkp` and the SDK at the running stack, whose alarm topic it prints as messages arrive;
 * Ctrl-C then stops it and moto.
 */
describe.runIf(motoAvailable('tkp local --keep end-to-end test'))('tkp local --keep', () => {
  it('prints export lines that another process can use, an alias retarget made from it as an alarm and a job deleted from it as a dead letter, and stops the stack and moto on Ctrl-C', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tkp-keep-'));
    // A quote in the config's path, so one export (PIPELINE_CONFIG_PATH) needs shell quoting.
    const config = writeConfig(work, "keep's.config.json", [
      { prefix: "Zoë's calls/", kmsKey: 'alias/zoe' },
      { prefix: 'open/' },
      { prefix: 'dictation/', jobType: 'medical', type: 'DICTATION' },
    ]);
    await withTkpLocal(work, ['--config', config, '--keep'], async (keep, motoPid) => {
      await keep.waitFor(/^Ctrl-C stops it\.$/m, 120_000);
      expect(keep.stdout()).toContain('All transcripts verified.');
      const exports = Object.fromEntries(
        [...keep.stdout().matchAll(/^  export (\w+)=(.*)$/gm)].map(([, name, value]) => [name as string, shellWord(value as string)]),
      );
      expect(exports.PIPELINE_CONFIG_PATH).toBe(config);
      expect(Object.keys(exports)).toEqual(expect.arrayContaining(['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_TRANSCRIBE', 'TKP_INPUT_BUCKET', 'TKP_TRANSCRIPT_BUCKET']));

      // Another shell, with only those exports: the audit finds both transcripts compliant.
      const audit = await runNode([BIN, 'audit', '--json'], asUser(work, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...exports }));
      expect(audit.stderr).toBe('');
      expect(JSON.parse(audit.stdout).totals).toMatchObject({ objects: 3, compliant: 3 });
      expect(audit.code).toBe(0);

      /** Runs an ES module script in another shell with only the printed exports, as a second terminal would; it must print no error. What it printed. */
      const fromAnotherShell = async (script: string) => {
        const run = await runNode(['--input-type=module', '-e', script], { ...asUser(work, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...exports }), cwd: process.cwd() });
        expect(run.stderr).toBe('');
        return run.stdout;
      };

      // Another shell retargets the rule's alias (here to the key it has): the kept stack prints the page.
      await fromAnotherShell(
        "import { KMSClient, DescribeKeyCommand, UpdateAliasCommand } from '@aws-sdk/client-kms'; const kms = new KMSClient({}); " +
          "const key = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/zoe' }))).KeyMetadata.KeyId; " +
          "await kms.send(new UpdateAliasCommand({ AliasName: 'alias/zoe', TargetKeyId: key }));",
      );
      await keep.waitFor(/^  alarm +UpdateAlias \{"aliasName":"alias\/zoe","targetKeyId":"[0-9a-f-]+"\} by arn:aws:iam::\d{12}:user\/local\. A key alias a rule names, .* README: When an alarm fires; Putting back what changed outside a deploy\.$/m, 10_000);

      // Another shell stops the verifier with a reserved concurrency of 0: VerifierChangesRule's page, with its own text.
      await fromAnotherShell(
        "import { LambdaClient, PutFunctionConcurrencyCommand, DeleteFunctionConcurrencyCommand } from '@aws-sdk/client-lambda'; const lambda = new LambdaClient({}); " +
          "await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'transcribe-kms-pipeline-local-verify', ReservedConcurrentExecutions: 0 })); " +
          "await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'transcribe-kms-pipeline-local-verify' }));",
      );
      await keep.waitFor(
        /^  alarm +PutFunctionConcurrency20171031 \{"functionName":"transcribe-kms-pipeline-local-verify","reservedConcurrentExecutions":0\} by arn:aws:iam::\d{12}:user\/local\. The code, configuration or concurrency of one of this stack's functions or the input bucket's notifications changed, .* README: When an alarm fires; Putting back what changed outside a deploy\.$/m,
        10_000,
      );

      // Another shell schedules a key of the account for deletion (one no rule names) and cancels it, then rewrites its policy (with the one it has): KeyLossesRule's pages, with the key.
      const doomed = await fromAnotherShell(
        "import { KMSClient, CreateKeyCommand, ScheduleKeyDeletionCommand, CancelKeyDeletionCommand, GetKeyPolicyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms'; const kms = new KMSClient({}); " +
          "const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'scratch' })); " +
          'await kms.send(new ScheduleKeyDeletionCommand({ KeyId: KeyMetadata.KeyId, PendingWindowInDays: 7 })); await kms.send(new CancelKeyDeletionCommand({ KeyId: KeyMetadata.KeyId })); ' +
          "const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: KeyMetadata.KeyId, PolicyName: 'default' })); " +
          "await kms.send(new PutKeyPolicyCommand({ KeyId: KeyMetadata.KeyId, PolicyName: 'default', Policy })); " +
          'console.log(KeyMetadata.KeyId);',
      );
      await keep.waitFor(
        new RegExp(`^  alarm +ScheduleKeyDeletion \\{"keyId":"${doomed.trim()}","pendingWindowInDays":7\\} by arn:aws:iam::\\d{12}:user/local\\. A KMS key of this account was disabled, scheduled for deletion, had its imported key material deleted or its policy rewritten outside a deploy, .* aws kms cancel-key-deletion --key-id ARN .* README: When an alarm fires; Putting back what changed outside a deploy\\.$`, 'm'),
        10_000,
      );
      await keep.waitFor(
        new RegExp(`^  alarm +PutKeyPolicy \\{"keyId":"${doomed.trim()}","policyName":"default","policy":".*kms:\\*.*"\\} by arn:aws:iam::\\d{12}:user/local\\. A KMS key of this account .* aws kms put-key-policy --key-id ARN --policy-name default with the policy before it .* README: When an alarm fires; Putting back what changed outside a deploy\\.$`, 'm'),
        10_000,
      );

      // Another shell gives a function a trigger on the verify DLQ, which would delete the dead letters unread, and removes it: QueueTriggersRule's pages.
      await fromAnotherShell(
        "import { LambdaClient, CreateEventSourceMappingCommand, DeleteEventSourceMappingCommand } from '@aws-sdk/client-lambda'; const lambda = new LambdaClient({}); " +
          "const EventSourceArn = 'arn:aws:sqs:us-east-1:' + process.env.TKP_ALARM_TOPIC_ARN.split(':')[4] + ':' + process.env.TKP_VERIFY_DLQ_URL.split('/').pop(); " +
          "const { UUID } = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'transcribe-kms-pipeline-local-sweep', EventSourceArn, Enabled: false })); " +
          'await lambda.send(new DeleteEventSourceMappingCommand({ UUID }));',
      );
      await keep.waitFor(
        /^  alarm +CreateEventSourceMapping20150331 \{"functionName":"transcribe-kms-pipeline-local-sweep","eventSourceArn":"arn:aws:sqs:us-east-1:\d{12}:tkp-verify-dlq","enabled":false\} by arn:aws:iam::\d{12}:user\/local\. A Lambda trigger on one of this stack's queues was created, .* tkp backfill --since the event's time transcribes the uploads taken meanwhile, .* README: When an alarm fires; Putting back what changed outside a deploy\.$/m,
        10_000,
      );
      await keep.waitFor(/^  alarm +DeleteEventSourceMapping20150331 \{"uUID":"[0-9a-f-]+"\} by arn:aws:iam::\d{12}:user\/local\. A Lambda trigger on one of this stack's queues/m, 10_000);

      // Another shell changes a queue's attributes (here to what they are) and the alarm topic's, and turns a rule off and on: AlertingChangesRule's pages.
      await fromAnotherShell(
        "import { SQSClient, SetQueueAttributesCommand } from '@aws-sdk/client-sqs'; import { SNSClient, SetTopicAttributesCommand } from '@aws-sdk/client-sns'; " +
          "await new SQSClient({}).send(new SetQueueAttributesCommand({ QueueUrl: process.env.TKP_START_DLQ_URL, Attributes: { MessageRetentionPeriod: '1209600' } })); " +
          "await new SNSClient({}).send(new SetTopicAttributesCommand({ TopicArn: process.env.TKP_ALARM_TOPIC_ARN, AttributeName: 'DisplayName', AttributeValue: 'pages' })); " +
          "const { EventBridgeClient, DisableRuleCommand, EnableRuleCommand } = await import('@aws-sdk/client-eventbridge'); const events = new EventBridgeClient({}); " +
          "await events.send(new DisableRuleCommand({ Name: 'transcribe-kms-pipeline-local-trust-changes' })); await events.send(new EnableRuleCommand({ Name: 'transcribe-kms-pipeline-local-trust-changes' }));",
      );
      await keep.waitFor(
        /^  alarm +SetQueueAttributes \{"queueUrl":"http:\/\/127\.0\.0\.1:\d+\/\d{12}\/tkp-start-dlq"\} by arn:aws:iam::\d{12}:user\/local\. One of this stack's EventBridge rules or CloudWatch alarms, the alarm topic's subscriptions or policy, or one of its queues was .* tkp backfill --since the event's time transcribes what was uploaded meanwhile; after the start DLQ was purged, .* README: When an alarm fires; Putting back what changed outside a deploy\.$/m,
        10_000,
      );
      await keep.waitFor(/^  alarm +SetTopicAttributes \{"topicArn":"arn:aws:sns:us-east-1:\d{12}:transcribe-kms-pipeline-local-alarms","attributeName":"DisplayName"\} by arn:aws:iam::\d{12}:user\/local\. One of this stack's EventBridge rules/m, 10_000);
      await keep.waitFor(/^  alarm +DisableRule \{"name":"transcribe-kms-pipeline-local-trust-changes"\} by arn:aws:iam::\d{12}:user\/local\. One of this stack's EventBridge rules/m, 10_000);

      // Another shell uploads what an ingestion system named by ID alone, and is not media: the
      // job fails, and the kept stack prints the page with what to do.
      await fromAnotherShell(
        "import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3'; " +
          "await new S3Client({ forcePathStyle: true }).send(new PutObjectCommand({ Bucket: process.env.TKP_INPUT_BUCKET, Key: 'open/ingest/0b7e1c2d', Body: 'not a recording' }));",
      );
      await keep.waitFor(
        /^  alarm +Transcription Failed: tkp\.local\.0b7e1c2d-[0-9a-f]+\. Transcribe failed the job and wrote no transcript: fix what failureReason names \(the media, the key, its grants, the quota\), then upload the media again \(where the input bucket keeps no versions, an unchanged file keeps its job name: delete the failed job first\)$/m,
        30_000,
      );

      // Another shell uploads dictation, waits for its medical job (which only the sweeper would
      // judge) to finish, and deletes it: the kept stack prints the dead letter, naming the deleter.
      const deleted = await fromAnotherShell(
        "import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3'; " +
          "import { TranscribeClient, ListMedicalTranscriptionJobsCommand, DeleteMedicalTranscriptionJobCommand } from '@aws-sdk/client-transcribe'; " +
          `import { readFileSync } from 'node:fs'; ` +
          "const s3 = new S3Client({ forcePathStyle: true }); const transcribe = new TranscribeClient({}); " +
          `await s3.send(new PutObjectCommand({ Bucket: process.env.TKP_INPUT_BUCKET, Key: 'dictation/late note.wav', Body: readFileSync(${JSON.stringify(SAMPLE_AUDIO)}) })); ` +
          'let job; ' +
          "for (let i = 0; i < 200 && !job; i++) { const { MedicalTranscriptionJobSummaries: all = [] } = await transcribe.send(new ListMedicalTranscriptionJobsCommand({ Status: 'COMPLETED' })); " +
          "job = all.find((j) => j.MedicalTranscriptionJobName.includes('late_note')); if (!job) await new Promise((r) => setTimeout(r, 100)); } " +
          'await transcribe.send(new DeleteMedicalTranscriptionJobCommand({ MedicalTranscriptionJobName: job.MedicalTranscriptionJobName })); ' +
          'console.log(job.MedicalTranscriptionJobName);',
      );
      const jobName = deleted.trim();
      await keep.waitFor(
        new RegExp(`^  dead letter \\(verify DLQ\\) JobNotFoundError: medical transcription job ${jobName.replace(/\./g, '\\.')} was deleted by arn:aws:iam::\\d{12}:user/local at \\S+ before it was verified`, 'm'),
        30_000,
      );

      expect((await stopWithCtrlC(keep, motoPid)).code).toBe(0);
    });
  }, 180_000);
});

/** One word as the shell reads it: bare, or in single quotes with '\'' for a quote. */
function shellWord(word: string): string {
  return word.startsWith("'") ? word.slice(1, -1).replace(/'\\''/g, "'") : word;
}

/** A process as a user starts it: in their folder, with their PATH and HOME there, and nothing else but `env`. */
function asUser(work: string, env: Record<string, string> = {}): { cwd: string; env: NodeJS.ProcessEnv } {
  return { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, ...env } };
}

/** A config the project does not ship, in the user's folder. */
function writeConfig(work: string, name: string, rules: object[]): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify({ defaults: { languageCode: 'en-GB' }, rules }));
  return path;
}
