import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMedicalTranscriptionJobCommand, DeleteTranscriptionJobCommand, TranscribeClient } from '@aws-sdk/client-transcribe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeWav } from '../local/emulator/mediaProbe';
import { MONO_CALL_FAILURE } from '../local/emulator/outputWriter';
import { LocalPipeline, type OutcomeEvent } from '../local/runtime/localPipeline';
import { LOCAL_CREDENTIALS } from '../local/runtime/provision';
import { account } from '../local/runtime/accounting';
import { parseS3Uri, type S3Location } from '../../shared/aws/s3Location';
import { motoAvailable } from '../support/moto';

const mono = makeWav(1.5);
const stereo = makeWav(1.5, { channels: 2 });

/** The shipped demo config: its contact-centre/ Call Analytics rule and its clinic/ medical rule, each with its own key. */
describe.runIf(motoAvailable('end-to-end job type tests'))('Call Analytics and medical rules end to end', () => {
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipeline = await LocalPipeline.start({ timeScale: 50 });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  beforeEach(() => {
    pipeline.emulator.setFaults({});
  });

  const outcomesFor = (key: string): OutcomeEvent[] => pipeline.outcomes.filter((o) => o.detail.source?.key === key);
  const keyArnOf = (reference: string) => pipeline.stack.keys.get(reference)?.arn as string;
  const headOf = async (uri: string) => {
    const { bucket, key } = parseS3Uri(uri) as S3Location;
    return pipeline.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  };
  const uploadAndSettle = async (key: string, body: Buffer) => {
    await pipeline.upload(key, body);
    await pipeline.settle({ timeoutMs: 60_000 });
  };

  it('runs a Call Analytics rule: transcript, redacted transcript and redacted audio all under the rule\'s key, verified once', async () => {
    const key = 'contact-centre/2026/call-7781.wav';
    await uploadAndSettle(key, stereo);
    const arn = keyArnOf('alias/contact-centre-transcripts');
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith(key));
    expect(job).toMatchObject({ jobType: 'callAnalytics', status: 'COMPLETED', outputKmsKeyId: arn });
    const outcomes = outcomesFor(key);
    expect(outcomes.map((o) => o.detailType)).toEqual(['Transcript Encryption Verified']);
    const detail = outcomes[0]?.detail;
    expect(detail).toMatchObject({ jobType: 'callAnalytics', rulePrefix: 'contact-centre/', checkedBy: 'completion-event', expected: { kmsKeyArn: arn } });
    const uris = (detail?.actual as { uri: string }[]).map((object) => object.uri);
    expect(uris.map((uri) => uri.replace(/^.*\//, '').replace(job?.name ?? '', 'JOB'))).toEqual(['JOB.json', 'redacted-JOB.json', 'redacted-JOB.wav']);
    for (const uri of uris) {
      expect(uri.startsWith(`s3://${pipeline.stack.names.transcriptBucket}/transcripts/contact-centre/`)).toBe(true);
      expect(await headOf(uri)).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: arn });
    }
  });

  it('runs a medical rule: no completion event, so the sweeper finds the job, judges it under the rule\'s key, and publishes once', async () => {
    const key = 'clinic/visit-0042.wav';
    await uploadAndSettle(key, mono);
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith(key));
    expect(job).toMatchObject({ jobType: 'medical', status: 'COMPLETED' });
    // Transcribe announces no finished medical job: nothing has judged it yet.
    expect(outcomesFor(key)).toEqual([]);
    await pipeline.sweep();
    await pipeline.settle({ timeoutMs: 60_000 });
    await pipeline.sweep();
    await pipeline.settle({ timeoutMs: 60_000 });
    const arn = 'arn:aws:kms:us-east-1:123456789012:key/7c1d1c5e-2f4a-4b6e-9a3d-5e8f0c2b1a47';
    expect(outcomesFor(key).map((o) => [o.detail.outcome, o.detail.jobType, o.detail.checkedBy])).toEqual([['verified', 'medical', 'sweeper']]);
    expect(await headOf(outcomesFor(key)[0]?.detail.transcriptUri)).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: arn });
  });

  it('sends one-channel audio under a Call Analytics rule to Transcription Failed with Transcribe\'s reason, and pages', async () => {
    const key = 'contact-centre/mono-call.wav';
    await uploadAndSettle(key, mono);
    expect(outcomesFor(key).map((o) => [o.detailType, o.detail.failureReason])).toEqual([['Transcription Failed', MONO_CALL_FAILURE]]);
    expect(pipeline.alarms.filter((a) => a.detail.source?.key === key).map((a) => a.detail.outcome)).toEqual(['failed']);
  });

  it('turns a redacted audio file under the wrong key into a mismatch that pages and dead-letters', async () => {
    const key = 'contact-centre/tampered-call.wav';
    pipeline.emulator.setFaults({ tamper: { match: key, mode: 'wrong-key', output: 'redacted-audio', wrongKeyArn: pipeline.stack.tamperKeyArn } });
    await uploadAndSettle(key, stereo);
    const [outcome] = outcomesFor(key);
    expect(outcome?.detail).toMatchObject({ outcome: 'mismatch', cause: 'wrong-encryption', jobType: 'callAnalytics' });
    expect(outcome?.detail.problems).toEqual([expect.stringMatching(new RegExp(`redacted-.*\\.wav is encrypted under ${pipeline.stack.tamperKeyArn}, expected`))]);
    expect(pipeline.alarms.some((a) => a.detail.source?.key === key)).toBe(true);
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith(key));
    expect(pipeline.deadLetters.filter((d) => d.queue === 'verify' && d.reason.includes(job?.name ?? '?')).map((d) => d.reason)).toEqual([
      expect.stringMatching(/^EncryptionMismatchError: transcript encryption of job .* does not match its rule/),
    ]);
  });

  it('dead-letters a medical job deleted before the sweep reached it, naming who deleted it, as CloudTrail tells the verifier', async () => {
    const key = 'clinic/deleted-before-sweep.wav';
    await uploadAndSettle(key, mono);
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith(key));
    expect(job).toMatchObject({ jobType: 'medical', status: 'COMPLETED' });
    const transcribe = new TranscribeClient({ region: pipeline.stack.names.region, endpoint: pipeline.emulator.endpoint, credentials: LOCAL_CREDENTIALS });
    await transcribe.send(new DeleteMedicalTranscriptionJobCommand({ MedicalTranscriptionJobName: job?.name }));
    await pipeline.settle({ timeoutMs: 60_000 });
    // The sweep that would have judged it no longer lists it; the dead letter is all that is left, and it says what happened.
    await pipeline.sweep();
    await pipeline.settle({ timeoutMs: 60_000 });
    expect(outcomesFor(key)).toEqual([]);
    expect(pipeline.deadLetters.filter((d) => d.reason.includes(job?.name ?? '?')).map((d) => [d.queue, d.reason])).toEqual([
      [
        'verify',
        expect.stringMatching(
          new RegExp(`^JobNotFoundError: medical transcription job ${job?.name.replace(/\./g, '\\.')} was deleted by arn:aws:iam::123456789012:user/local at \\S+ before it was verified`),
        ),
      ],
    ]);
    // The chaos run's accounting maps that dead letter back to the upload, though Transcribe no longer has the job.
    expect(account(pipeline, [key])).toMatchObject({ jobsStarted: pipeline.emulator.jobs().length + 1, deadLettered: 1, unaccounted: 0, deadLetterReasons: { JobNotFoundError: 1 } });
  });

  it('takes the deletion of a job that has its verdict as cleanup: no dead letter, no second verdict', async () => {
    const key = 'calls/cleaned-up.wav';
    await uploadAndSettle(key, mono);
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith(key));
    expect(outcomesFor(key).map((o) => o.detail.outcome)).toEqual(['verified']);
    const transcribe = new TranscribeClient({ region: pipeline.stack.names.region, endpoint: pipeline.emulator.endpoint, credentials: LOCAL_CREDENTIALS });
    await transcribe.send(new DeleteTranscriptionJobCommand({ TranscriptionJobName: job?.name }));
    await pipeline.settle({ timeoutMs: 60_000 });
    expect(outcomesFor(key).map((o) => o.detail.outcome)).toEqual(['verified']);
    expect(pipeline.deadLetters.filter((d) => d.reason.includes(job?.name ?? '?'))).toEqual([]);
    expect(pipeline.logs.some((l) => l.message === 'job deleted after its verdict' && l.jobName === job?.name)).toBe(true);
  });

  it('dead-letters a medical job that Transcribe no longer has when the sweeper reaches it, naming the job and what to do', async () => {
    const key = 'clinic/deleted-visit.wav';
    await uploadAndSettle(key, mono);
    const job = pipeline.emulator.jobs().find((j) => j.mediaUri.endsWith(key));
    pipeline.emulator.setFaults({ vanishOnGet: (name) => name === job?.name });
    await pipeline.sweep({ deadLetterOnFailure: true });
    await pipeline.settle({ timeoutMs: 60_000 });
    expect(outcomesFor(key)).toEqual([]);
    const letter = pipeline.deadLetters.find((d) => d.reason.includes(job?.name ?? '?'));
    expect(letter?.reason).toMatch(
      new RegExp(`^SweepIncompleteError: 1 job\\(s\\) could not be verified or did not match:\\n  - medical job ${job?.name.replace(/\./g, '\\.')}: JobNotFoundError: medical transcription job .* no longer exists .*re-upload the media`),
    );
  });
});
