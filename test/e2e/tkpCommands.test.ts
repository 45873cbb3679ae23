import { CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { GetBucketNotificationConfigurationCommand, HeadObjectCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeS3EventKey } from '../../shared/aws/s3Location';
import { localEnvironmentExports } from '../local/cli/localCommand';
import { makeWav } from '../local/emulator/mediaProbe';
import { MOTO_DEFAULT_ACCOUNT } from '../local/emulator/moto';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { motoAvailable } from '../support/moto';
import { runNode } from '../support/runNode';
import { CONFIG, expectOneLineError, useTkpStack, ZURICH } from '../support/tkpStack';
import { fileURLToPath } from 'node:url';

/**
 * `tkp explain`, `tkp audit`, `tkp backfill` and `tkp redrive` as a user runs them against the
 * local mode, on a stack of their own (test/support/tkpStack.ts).
 */
describe.runIf(motoAvailable('tkp CLI end-to-end tests'))('tkp against the local mode', () => {
  const { stack, tkp, kms, jobsFor, verdictsFor } = useTkpStack();
  let pipeline: LocalPipeline;
  let work: string;
  beforeAll(() => {
    ({ pipeline, work } = stack());
  });

  describe('tkp explain', () => {
    it.each(['calls/a+b c 100%.wav', `${ZURICH}Anruf +1 100%.wav`, 'partners/acme/Ünïcödé ✓.mp3'])('explains %j with the job name and key the pipeline uses', async (key) => {
      if (jobsFor(key).length === 0) {
        await pipeline.upload(key, makeWav(1));
        await pipeline.settle();
      }
      const [job] = jobsFor(key);
      const run = await tkp(['explain', key, '--json']);
      expect(run.code).toBe(0);
      expect(run.json).toMatchObject({ key, eventKey: encodeS3EventKey(key), jobName: job?.name, decision: { action: 'transcribe' } });
      expect(run.json.request.OutputEncryptionKMSKeyId).toBe(job?.outputKmsKeyId);
      expect(run.json.keyArn).toBe(job?.outputKmsKeyId);
      expect(run.json.demand).toMatchObject({ serverSideEncryption: 'aws:kms', kmsKeyArn: job?.outputKmsKeyId });
      const fromEvent = await tkp(['explain', encodeS3EventKey(key), '--from-event', '--json']);
      expect(fromEvent.json.jobName).toBe(job?.name);
    });

    it('takes the object\'s s3:// URI as the local mode prints it, and refuses one in another bucket', async () => {
      const key = 'calls/a+b c 100%.wav';
      const byKey = await tkp(['explain', key, '--json']);
      const byUri = await tkp(['explain', `s3://${pipeline.stack.names.inputBucket}/${key}`, '--json']);
      expect(byUri.code).toBe(0);
      expect(byUri.json).toMatchObject({ key, jobName: byKey.json.jobName, request: byKey.json.request });
      expectOneLineError(await tkp(['explain', `s3://elsewhere/${key}`]), /^tkp: s3:\/\/elsewhere\/calls\/a\+b c 100%\.wav is in the bucket elsewhere, not this stage's input bucket tkp-local-input/);
    });

    it('offline, given the object\'s version and size, names the same job and makes no AWS call', async () => {
      const key = 'calls/offline (v2).wav';
      await pipeline.upload(key, makeWav(1));
      await pipeline.settle();
      const [job] = jobsFor(key);
      expect(job).toBeDefined();
      const head = await pipeline.s3.send(new HeadObjectCommand({ Bucket: pipeline.stack.names.inputBucket, Key: key }));
      const unreachable = { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ENDPOINT_URL_TRANSCRIBE: 'http://127.0.0.1:9' };
      const args = ['explain', key, '--offline', '--version-id', String(head.VersionId), '--size', String(head.ContentLength), '--json'];
      const run = await tkp(args, unreachable);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.json).toMatchObject({ jobName: job?.name, keyArn: null, decision: { action: 'transcribe' } });
      expect(run.json.notes).toContain('without credentials, 1234abcd-12ab-34cd-56ef-1234567890ab is not resolved; the start function sends the key ARN it resolves to');
    });

    it('says how the upload is stored, and that Transcribe cannot read one under a disabled key', async () => {
      const { KeyMetadata } = await kms().send(new CreateKeyCommand({ KeyUsage: 'ENCRYPT_DECRYPT' }));
      const key = 'public/sealed (disabled key).wav';
      await pipeline.s3.send(new PutObjectCommand({ Bucket: pipeline.stack.names.inputBucket, Key: key, Body: makeWav(1), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KeyMetadata?.Arn }));
      await pipeline.settle();
      const enabled = await tkp(['explain', key, '--json']);
      expect(enabled.json.media).toEqual({ serverSideEncryption: 'aws:kms', kmsKey: { id: KeyMetadata?.Arn, arn: KeyMetadata?.Arn, state: 'Enabled' } });
      expect(enabled.json.notes.filter((n: string) => n.startsWith('the media is stored'))).toEqual([]);
      await kms().send(new DisableKeyCommand({ KeyId: KeyMetadata?.KeyId }));
      const table = await tkp(['explain', key]);
      expect(table.code).toBe(0);
      expect(table.stdout).toContain(`media          stored under aws:kms with ${KeyMetadata?.Arn} (Disabled)`);
      expect(table.stdout).toContain(`note: the media is stored under the KMS key ${KeyMetadata?.Arn}, which is Disabled: Transcribe cannot read it`);
      expect((await tkp(['explain', 'public/ingest/manifest-plain.wav', '--json'])).json.media).toBeNull();
    });

    it('prints the rule that lost and why for a human', async () => {
      const run = await tkp(['explain', 'partners/acme/x.wav', '--size', '10']);
      expect(run.stdout).toMatch(/rule\s+"partners\/acme\/"/);
      expect(run.stdout).toContain('lost: "partners/": matches, but "partners/acme/" is longer (the longest prefix wins)');
      expect(run.stdout).not.toContain('deployed with another config');
      expect(run.stdout).not.toContain('won:');
      // A folder a Mac names decomposed: the rule typed composed wins, and says why.
      const mac = await tkp(['explain', `${ZURICH.normalize('NFD')}Anruf.wav`, '--size', '10']);
      expect(mac.stdout).toContain(`rule           ${JSON.stringify(ZURICH)}`);
      expect(mac.stdout).toMatch(/^  won: the longest prefix of the key among the rules, once both are composed: the key and the prefix spell an accented letter differently .*name every one, folder by folder$/m);
    });

    it('says when the config it is given is not the one deployed, so its answer is what a deploy would do', async () => {
      const changed = JSON.parse(readFileSync(CONFIG, 'utf8'));
      changed.rules = changed.rules.filter((rule: { prefix: string }) => rule.prefix !== 'partners/acme/');
      const changedPath = join(work, 'without-acme.config.json');
      writeFileSync(changedPath, JSON.stringify(changed));
      const run = await tkp(['explain', 'partners/acme/x.wav', '--size', '10', '--config', changedPath, '--json']);
      expect(run.json.notes).toContainEqual(
        expect.stringMatching(new RegExp(`^transcribe-kms-pipeline-local was deployed with another config \\(fingerprint [0-9a-f]{32}\\): this is what it will do once ${changedPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is deployed, not what it does today$`)),
      );
      expect(run.json.winner).toBe('partners/');
    });
  });

  describe('tkp audit', () => {
    it('finds a tampered transcript and a transcript written before a config change, with evidence files', async () => {
      pipeline.emulator.setFaults({ tamper: { match: 'hr/tampered.wav', mode: 'wrong-key', wrongKeyArn: pipeline.stack.tamperKeyArn } });
      await pipeline.upload('hr/tampered.wav', makeWav(1));
      await pipeline.settle();
      pipeline.emulator.setFaults({});
      const tampered = jobsFor('hr/tampered.wav')[0]?.name;

      const today = await tkp(['audit', '--json']);
      expect(today.code).toBe(1);
      expect(today.json.findings.map((f: any) => [f.status, f.jobName, f.rulePrefix])).toEqual([['wrong-key', tampered, 'hr/']]);
      expect(today.json).toMatchObject({ account: MOTO_DEFAULT_ACCOUNT, region: 'us-east-1', configFingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) });
      // The config given is the one the stack was deployed with, and the audit says so.
      expect(today.json.deployedConfigFingerprint).toBe(today.json.configFingerprint);
      expect(today.json).not.toHaveProperty('deployedConfigNote');
      expect((await tkp(['audit'])).stdout).toMatch(/^tkp audit: .*, config fingerprint [0-9a-f]{32} \(the deployed config\), run at /m);
      expect(today.json.ledgerRecordsRead).toBe(1);

      // The config changes calls/ to another key: the transcript written before is now under the wrong key.
      const { KeyMetadata } = await kms().send(new CreateKeyCommand({ Description: 'calls, after the change' }));
      const changed = JSON.parse(readFileSync(CONFIG, 'utf8'));
      changed.rules[0].kmsKey = KeyMetadata?.Arn;
      delete changed.rules[0].encryptionContext;
      const changedPath = join(work, 'changed.config.json');
      writeFileSync(changedPath, JSON.stringify(changed));
      const csv = join(work, 'evidence.csv');
      const after = await tkp(['audit', '--config', changedPath, '--csv', csv, '--json']);
      expect(after.code).toBe(1);
      const calls = after.json.findings.find((f: any) => f.jobName === jobsFor('calls/a.wav')[0]?.name);
      expect(calls).toMatchObject({ status: 'wrong-key', rulePrefix: 'calls/', source: `s3://${pipeline.stack.names.inputBucket}/calls/a.wav`, expected: `aws:kms ${KeyMetadata?.Arn}` });
      const evidence = readFileSync(csv, 'utf8').split('\n');
      expect(evidence[0]).toMatch(
        new RegExp(`^# tkp audit; run at .*; account 123456789012; region us-east-1; stage local; config fingerprint ${after.json.configFingerprint}; deployed config fingerprint ${today.json.configFingerprint}$`),
      );
      // Another config than the deployed one: the audit judges against it, and says so.
      expect(after.json.deployedConfigNote).toBe(
        `transcribe-kms-pipeline-local was deployed with another config (fingerprint ${today.json.configFingerprint}): this audit judges the transcripts against the rules of ${changedPath}, not the deployed ones`,
      );
      expect(evidence[1]).toBe('uri,status,rulePrefix,jobName,source,serverSideEncryption,kmsKeyArn,expected,lastModified,problem');
      expect(evidence.filter((line) => line.includes(',wrong-key,'))).toHaveLength(after.json.totals.wrongKey);
      expect(evidence.length - 3).toBe(after.json.totals.objects);
    });

    it('checks only objects modified after --since, and finds the same with one HEAD at a time (--concurrency 1)', async () => {
      const later = await tkp(['audit', '--since', '2999-01-01', '--json']);
      expect(later.code).toBe(0);
      expect(later.json.totals).toMatchObject({ objects: 0 });
      const all = await tkp(['audit', '--json']);
      expect(all.json.totals.objects).toBeGreaterThan(0);
      const serial = await tkp(['audit', '--concurrency', '1', '--json']);
      expect(serial.json.totals).toEqual(all.json.totals);
      expect(serial.code).toBe(all.code);
    });

    it('reports an object deleted during the audit without failing it', async () => {
      const [job] = jobsFor('public/c.wav');
      const vanish = pipeline.gateway.addFault((request) => (request.method === 'HEAD' && request.path.includes(`${job?.name}.json`) ? { status: 404, code: 'NotFound', message: 'gone' } : undefined));
      try {
        const run = await tkp(['audit', '--prefix', `transcripts/${job?.name}`, '--json']);
        expect(run.code).toBe(0);
        expect(run.json.totals).toMatchObject({ objects: 1, deleted: 1 });
        expect(run.json.findings[0]).toMatchObject({ status: 'deleted', problem: 'deleted during the audit (listed, then not found)' });
      } finally {
        vanish();
      }
    });

    it('refuses a --prefix that overlaps no output location (an s3:// URI, a typo) instead of passing on nothing, and says when nothing is stored under one that does', async () => {
      const bucket = pipeline.stack.names.transcriptBucket;
      expectOneLineError(
        await tkp(['audit', '--prefix', `s3://${bucket}/transcripts/`]),
        new RegExp(`^tkp: --prefix "s3://${bucket}/transcripts/" overlaps none of the rules' output locations \\(s3://${bucket}/transcripts/\\), so nothing would be audited; --prefix takes a key prefix, not an S3 URI: pass --prefix "transcripts/"`),
      );
      expectOneLineError(await tkp(['audit', '--prefix', 'transcript/hr/']), /overlaps none of the rules' output locations .* pass a key prefix that lies under one of them/);
      const empty = await tkp(['audit', '--prefix', 'transcripts/tkp.nothing-here']);
      expect(empty.code).toBe(0);
      expect(empty.stdout).toContain(`No transcript is stored under s3://${bucket}/transcripts/tkp.nothing-here: nothing was judged.`);
      expect(empty.stdout).not.toContain('All 0');
    });

    it('says in one line when the transcript bucket cannot be listed', async () => {
      const bucket = pipeline.stack.names.transcriptBucket;
      const deny = pipeline.gateway.addFault((request) => (request.method === 'GET' && request.path.startsWith(`/${bucket}`) && request.path.includes('list-type=2') ? { status: 403, code: 'AccessDenied', message: 'Access Denied' } : undefined));
      try {
        expectOneLineError(await tkp(['audit']), new RegExp(`listing s3://${bucket}/.* was denied .*s3:ListBucket on arn:aws:s3:::${bucket}`));
      } finally {
        deny();
      }
    });
  });

  describe('tkp backfill', () => {
    it('transcribes objects uploaded before the notifications existed, once each, however often it runs', async () => {
      const bucket = pipeline.stack.names.inputBucket;
      const saved = await pipeline.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
      const before = ['calls/old 1+1.wav', `${ZURICH}alt ä.wav`, 'legal/Akte #7 100%.wav'];
      await pipeline.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: {} }));
      for (const key of before) await pipeline.upload(key, makeWav(1));
      const { $metadata: _, ...configuration } = saved;
      await pipeline.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: configuration }));
      await pipeline.settle();
      for (const key of before) expect(jobsFor(key)).toHaveLength(0);

      const jobsBefore = pipeline.emulator.jobs().length;
      const dry = await tkp(['backfill', '--dry-run', '--json']);
      expect(dry.json).toMatchObject({ dryRun: true, sent: 0 });
      expect(dry.json).not.toHaveProperty('deployedConfigNote');
      const first = await tkp(['backfill', '--json']);
      expect(first.code).toBe(0);
      expect(first.json).toMatchObject({ listed: dry.json.listed, sent: dry.json.listed, failed: [] });
      await pipeline.settle();
      const second = await tkp(['backfill']);
      expect(second.stdout).toContain(`${dry.json.listed} object(s) listed, ${dry.json.listed} sent to the start queue, 0 failed.`);
      await pipeline.settle();

      for (const key of before) {
        expect(jobsFor(key)).toHaveLength(1);
        expect(verdictsFor(key).map((o) => o.detailType)).toEqual(['Transcript Encryption Verified']);
      }
      // Everything uploaded live earlier was already transcribed: the backfill started only the three.
      expect(pipeline.emulator.jobs().length).toBe(jobsBefore + before.length);
    });

    it('says, before it sends, that the deployed start function judges by its own rules when the config given is another', async () => {
      const changed = JSON.parse(readFileSync(CONFIG, 'utf8'));
      changed.rules.push({ prefix: 'new-team/' });
      const changedPath = join(work, 'new-team.config.json');
      writeFileSync(changedPath, JSON.stringify(changed));
      const run = await tkp(['backfill', '--dry-run', '--config', changedPath]);
      expect(run.code).toBe(0);
      const note = run.stdout.split('\n')[1] ?? '';
      expect(note).toMatch(/^note: transcribe-kms-pipeline-local was deployed with another config \(fingerprint [0-9a-f]{32}\): /);
      expect(note).toContain(`the start function judges what is sent by the deployed rules, not those of ${changedPath}, so an object under a prefix only ${changedPath} has is skipped there; deploy it, then backfill`);
    });

    it('refuses a --prefix that overlaps no rule prefix, naming the rules\' prefixes, before sending anything', async () => {
      const bucket = pipeline.stack.names.inputBucket;
      expectOneLineError(
        await tkp(['backfill', '--prefix', `s3://${bucket}/calls/`]),
        new RegExp(`^tkp: --prefix "s3://${bucket}/calls/" overlaps none of the rules' input prefixes \\(.*"calls/".*\\), so nothing would be sent; --prefix takes a key prefix, not an S3 URI: pass --prefix "calls/"`),
      );
    });
  });

  describe('tkp redrive', () => {
    beforeAll(async () => {
      // The DLQs keep their messages from here on, as deployed ones do; the letters of the tests
      // above, put back by retainDeadLetters, are purged so that each test counts its own.
      await pipeline.retainDeadLetters();
      for (const QueueUrl of [pipeline.stack.startDeadLetterQueueUrl, pipeline.stack.verifyDeadLetterQueueUrl]) await pipeline.sqs.send(new PurgeQueueCommand({ QueueUrl }));
    });

    it('lists the start DLQ with each letter\'s object and reason, and once the key is enabled again moves the key\'s letter back, so the upload is verified, while a .aiff stays', async () => {
      const bucket = pipeline.stack.names.inputBucket;
      const key = 'retired/Bänd 1 (redrive) 100%.wav';
      const aiff = 'retired/memo.aiff';
      const { KeyMetadata } = await kms().send(new DescribeKeyCommand({ KeyId: 'alias/retired-key' }));
      await kms().send(new DisableKeyCommand({ KeyId: KeyMetadata?.KeyId }));
      const deadLettered = Date.now();
      try {
        await pipeline.upload(key, makeWav(1));
        await pipeline.upload(aiff, 'FORM AIFF');
        await pipeline.settle();
      } finally {
        await kms().send(new EnableKeyCommand({ KeyId: KeyMetadata?.KeyId }));
      }
      expect(jobsFor(key)).toHaveLength(0);
      expect(await pipeline.deadLetterDepth('start')).toBe(2);

      const dry = await tkp(['redrive', '--dry-run', '--json']);
      expect(dry.code).toBe(0);
      expect(dry.json).toMatchObject({ dryRun: true, read: 2, moved: 0, kept: 2, failed: 0 });
      expect(dry.json.byErrorName).toEqual([
        { errorName: 'KeyNotUsableError', count: 1 },
        { errorName: 'UnsupportedRecordingError', count: 1 },
      ]);
      expect(dry.json.messages).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ errorName: 'KeyNotUsableError', objects: [`s3://${bucket}/${key}`], reason: expect.stringMatching(/kmsKey alias\/retired-key \(arn:aws:kms:[^)]+\) is Disabled \(enable it\)$/), action: 'kept' }),
          expect.objectContaining({ errorName: 'UnsupportedRecordingError', objects: [`s3://${bucket}/${aiff}`], action: 'kept' }),
        ]),
      );
      const table = await tkp(['redrive', '--dry-run']);
      expect(table.stdout).toMatch(new RegExp(`· s3://${bucket}/retired/Bänd 1 \\(redrive\\) 100%\\.wav \\[dry run\\]\\n +KeyNotUsableError: rules\\[7\\] \\(prefix "retired/"\\)`));
      expect(table.stdout).toContain('2 message(s) in the start DLQ. Fix what their reasons name, then run tkp redrive without --dry-run');
      expect(await pipeline.deadLetterDepth('start')).toBe(2);

      // The start function remembers a failed key lookup for 30 seconds, so that a burst under a broken rule does not call KMS per record.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadLettered + 31_000 - Date.now())));
      const run = await tkp(['redrive', '--json']);
      expect(run.code).toBe(0);
      expect(run.json).toMatchObject({ dryRun: false, read: 2, moved: 1, kept: 1, failed: 0 });
      expect(run.json.messages.find((m: any) => m.errorName === 'UnsupportedRecordingError')).toMatchObject({ action: 'kept', note: expect.stringMatching(/^the recording itself must change/) });
      await pipeline.settle();
      expect(jobsFor(key)).toHaveLength(1);
      expect(verdictsFor(key).map((o) => o.detailType)).toEqual(['Transcript Encryption Verified']);
      const rest = await tkp(['redrive', '--dry-run', '--json']);
      expect(rest.json).toMatchObject({ read: 1, byErrorName: [{ errorName: 'UnsupportedRecordingError', count: 1 }] });
      // Once its uploader has been told to convert it, the .aiff's letter is discarded and the DLQ is empty.
      const discard = await tkp(['redrive', '--discard', 'UnsupportedRecordingError']);
      expect(discard.stdout).toContain('1 message(s) read: 0 moved to the start queue, 1 discarded, 0 left in the DLQ, 0 failed.');
      expect(await pipeline.deadLetterDepth('start')).toBe(0);
    }, 120_000);

    it('with --verify lists a verification that failed on a refused HEAD and, once the grant is back, invokes the verifier again, which verifies the transcript', async () => {
      const key = 'calls/Verify me 1.wav';
      const deny = pipeline.gateway.addFault((request) => (request.method === 'HEAD' && request.path.includes('Verify_me_1-') ? { status: 403, code: 'Forbidden', message: 'denied for the test' } : undefined));
      try {
        await pipeline.upload(key, makeWav(1));
        await pipeline.settle();
      } finally {
        deny();
      }
      const [job] = jobsFor(key);
      expect(verdictsFor(key)).toEqual([]);
      expect(await pipeline.deadLetterDepth('verify')).toBe(1);

      const dry = await tkp(['redrive', '--verify', '--dry-run', '--json']);
      expect(dry.code).toBe(0);
      expect(dry.json).toMatchObject({ queue: 'verify', dryRun: true, read: 1, kept: 1, byErrorName: [{ errorName: 'TranscriptAccessDeniedError', count: 1 }] });
      expect(dry.json.messages[0]).toMatchObject({ objects: [`job ${job?.name}`], reason: expect.stringMatching(/^TranscriptAccessDeniedError: /), note: 'dry run' });

      const run = await tkp(['redrive', '--verify']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('1 message(s) read: 1 invoked again, 0 discarded, 0 left in the DLQ, 0 failed.');
      await pipeline.settle();
      expect(verdictsFor(key).map((o) => o.detailType)).toEqual(['Transcript Encryption Verified']);
      expect(await pipeline.deadLetterDepth('verify')).toBe(0);
    }, 60_000);

    it('says so when the start DLQ cannot be found, naming the flag', async () => {
      expectOneLineError(
        await tkp(['redrive', '--dry-run'], { TKP_START_DLQ_URL: `${pipeline.gateway.endpoint}/${MOTO_DEFAULT_ACCOUNT}/no-such-queue` }),
        /^tkp: queue \S+\/no-such-queue does not exist; check --stage and --region, or the URL --start-dlq-url \(or TKP_START_DLQ_URL\) gives\n$/,
      );
    });
  });

  it('its exports alone reach the stack’s services from another process, Transcribe’s jobs included', async () => {
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith('/calls/a.wav'));
    const script = [
      "const { TranscribeClient, GetTranscriptionJobCommand } = require('@aws-sdk/client-transcribe');",
      "const { S3Client, HeadBucketCommand } = require('@aws-sdk/client-s3');",
      '(async () => {',
      `  const job = (await new TranscribeClient({}).send(new GetTranscriptionJobCommand({ TranscriptionJobName: ${JSON.stringify(job?.name)} }))).TranscriptionJob;`,
      '  await new S3Client({ forcePathStyle: true }).send(new HeadBucketCommand({ Bucket: process.env.TKP_TRANSCRIPT_BUCKET }));',
      '  console.log(JSON.stringify({ status: job.TranscriptionJobStatus, tags: job.Tags.map((t) => t.Key).sort() }));',
      '})().catch((e) => { console.error(e.name, e.message); process.exit(1); });',
    ].join('\n');
    const child = await runNode(['-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { PATH: process.env.PATH ?? '', HOME: work, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...localEnvironmentExports(pipeline) },
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ status: 'COMPLETED', tags: expect.arrayContaining(['tkp:expected-sse', 'tkp:expected-kms-key-arn']) });
  });

  it('answers an unknown subcommand or flag with one line and exit code 2', async () => {
    expectOneLineError(await tkp(['frobnicate']), /^tkp: unknown command 'frobnicate'/);
    expectOneLineError(await tkp(['audit', '--bogus']), /^tkp: unknown option '--bogus'/);
    expectOneLineError(await tkp(['audit', '--config', join(work, 'missing.json')]), /^tkp: cannot read the config .*missing\.json \(ENOENT\); pass --config FILE/);
    // As the AWS CLI does, a profile that no shared file holds is named, not reported as missing credentials.
    expectOneLineError(await tkp(['audit', '--profile', 'nope']), /^tkp: --profile "nope" is in neither the AWS config file nor the credentials file .*; there are no profiles there/);
    // What a typo makes of a flag is named, with what to pass, before any AWS call: not an empty
    // DLQ, not a stack that is not there, not a JavaScript error.
    expectOneLineError(await tkp(['check', '--stage', '']), /^tkp: --stage "" is empty; pass the stage you deployed/);
    expectOneLineError(await tkp(['audit'], { TKP_STAGE: 'qa_1' }), /^tkp: TKP_STAGE "qa_1" is not a stage serverless deploys: a stage name takes only ASCII letters, digits and -/);
    expectOneLineError(await tkp(['audit', '--region', 'us east']), /^tkp: --region "us east" is not an AWS region name; pass one such as us-east-1/);
    expectOneLineError(await tkp(['audit', '--endpoint-url', 'localhost:4566']), /^tkp: --endpoint-url "localhost:4566" is not an http:\/\/ or https:\/\/ URL; pass one such as http:\/\/127\.0\.0\.1:4566/);
    expectOneLineError(await tkp(['audit', '--csv', join(work, 'no-such-folder', 'audit.csv')]), /^tkp: cannot write --csv .*no-such-folder\/audit\.csv \(ENOENT: .*\); pass a file in a folder that exists/);
    expectOneLineError(await tkp(['redrive', '--discard', '']), /^tkp: --discard is empty; pass an error name from the DLQ's list \(tkp redrive --dry-run counts/);
    for (const command of ['check', 'audit', 'explain', 'backfill', 'local']) {
      const help = await tkp([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: tkp ${command} `));
    }
    expect((await tkp(['audit', '--help'])).stdout).toContain('--since <date>');
  });

  it('prints neither colour nor a progress bar when piped', async () => {
    for (const args of [['check'], ['audit'], ['backfill', '--dry-run']]) {
      const run = await tkp(args);
      expect(run.stdout + run.stderr).not.toContain('\u001b[');
    }
  });
});
