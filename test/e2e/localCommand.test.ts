import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { motoAvailable } from '../support/moto';
import { runNode } from '../support/runNode';

const BIN = new URL('../../bin/tkp.mjs', import.meta.url).pathname;

/**
 * `tkp local` (what `npm start` runs) as a user runs it: a child process in a folder of their
 * own, with a config the project does not ship. It must end in a verdict for every sample and
 * an exit code that says whether the demo showed what was asked.
 */
describe.runIf(motoAvailable('tkp local end-to-end tests'))('tkp local', () => {
  let work: string;
  let config: string;

  const tkpLocal = (args: string[]) =>
    runNode([BIN, 'local', '--config', config, '--time-scale', '50', ...args], { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work } });

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tkp-local-'));
    config = join(work, 'my.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        defaults: { languageCode: 'en-GB' },
        rules: [
          { prefix: 'Équipe A/', kmsKey: 'alias/equipe-a' },
          { prefix: 'open/' },
          // An AWS managed key: it exists without being created, locally too.
          { prefix: 'managed/', kmsKey: 'alias/aws/s3' },
        ],
      }),
    );
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
