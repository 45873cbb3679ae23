import { KeyNotUsableError } from '../../../shared/aws/errors';
import type { CallAnalyticsJob, MedicalTranscriptionJob, TranscriptionJob } from '@aws-sdk/client-transcribe';
import type { JobType } from '../../../shared/aws/jobTypes';
import { describe, expect, it, vi } from 'vitest';
import {
  EncryptionMismatchError,
  ForeignJobError,
  isRetryable,
  JobAccessDeniedError,
  JobNotFinishedError,
  JobNotFoundError,
  PublishRefusedError,
  TranscriptAccessDeniedError,
  TranscriptUriError,
  TransientAwsError,
  VerdictInProgressError,
} from '../../../shared/aws/errors';
import type { OutcomeDetail } from '../../../shared/verify/outcomeEvent';
import type { StoredVerdict, VerdictRecord } from '../../../shared/verify/verdictLedger';
import { TAG } from '../../../shared/aws/jobTags';
import { assertNotMismatch, getJobError, headObjectError, publishError, verifyJob, type VerifyDependencies } from '../../../shared/verify/verifyJob';
import { keyArn } from '../../support/fixtures';
import { fromCallAnalyticsJob, fromMedicalTranscriptionJob, fromTranscriptionJob, type TranscribeJob } from '../../../shared/aws/transcribeJob';
import { createKeyResolver } from '../../../shared/config/keyResolution';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import { buildRuleIndex } from '../../../shared/config/ruleIndex';
import { ruleFingerprint, type BucketDefaultEncryption } from '../../../shared/config/expectedEncryption';

const ARN = keyArn('1234abcd-12ab-34cd-56ef-1234567890ab');
const NAME = 'tkp.t.call-abc';
const TRANSCRIPT = `https://s3.us-east-1.amazonaws.com/out/transcripts/${NAME}.json`;
const OTHER_ARN = keyArn('0987dcba-09fe-87dc-65ba-ab0987654321');
const BUCKET_KEY_ARN = keyArn('5555aaaa-12ab-34cd-56ef-1234567890ab');
/** The deployed config the verifier judges against; alias/legal resolves to OTHER_ARN unless a test retargets it. */
const CONFIG = validatePipelineConfig(
  {
    defaults: { languageCode: 'en-US' },
    transcripts: { prefix: 'transcripts/' },
    rules: [
      { prefix: 'calls/', kmsKey: ARN },
      { prefix: 'public/' },
      { prefix: 'legal/', kmsKey: 'alias/legal' },
      { prefix: 'contact-centre/', kmsKey: ARN, jobType: 'callAnalytics', channels: { agent: 0, customer: 1 }, redaction: { output: 'redacted_and_unredacted', audio: true } },
      { prefix: 'clinic/', kmsKey: ARN, jobType: 'medical', type: 'CONVERSATION' },
    ],
  },
  { region: 'us-east-1' },
);
const CALLS_FINGERPRINT = ruleFingerprint(CONFIG.rules[0]!);
const CONFIG_LOADED_AT = Date.parse('2026-11-28T09:30:00Z');

function job(overrides: Partial<TranscriptionJob> = {}, tags: Record<string, string> = {}): TranscriptionJob {
  return {
    TranscriptionJobName: NAME,
    TranscriptionJobStatus: 'COMPLETED',
    CreationTime: new Date('2026-11-28T09:00:00Z'),
    Media: { MediaFileUri: 's3://in/calls/call (1).wav' },
    Transcript: { TranscriptFileUri: TRANSCRIPT },
    Tags: Object.entries({
      [TAG.expectedSse]: 'aws:kms',
      [TAG.expectedKeyArn]: ARN,
      [TAG.rulePrefix]: 'calls/',
      [TAG.sourceBucket]: 'in',
      [TAG.sourceKey]: 'b64:' + Buffer.from('calls/call (1).wav').toString('base64url'),
      [TAG.sourceVersion]: 'etag:e1',
      [TAG.ruleFingerprint]: CALLS_FINGERPRINT,
      ...tags,
    }).map(([Key, Value]) => ({ Key, Value })),
    ...overrides,
  };
}

/** An in-memory verdict ledger with S3's conditional-write rules. */
function ledger(initial?: VerdictRecord) {
  const store = new Map<string, StoredVerdict>();
  let version = 0;
  if (initial) store.set(NAME, { record: initial, etag: `"e${version++}"` });
  return {
    store,
    readVerdict: vi.fn(async (jobName: string) => store.get(jobName)),
    writeVerdict: vi.fn(async (jobName: string, record: VerdictRecord, condition: { ifNoneMatch: true } | { ifMatch: string }) => {
      const current = store.get(jobName);
      if ('ifNoneMatch' in condition ? current !== undefined : current?.etag !== condition.ifMatch) return undefined;
      const etag = `"e${version++}"`;
      store.set(jobName, { record, etag });
      return etag;
    }),
  };
}

function setup(
  found: TranscriptionJob | undefined,
  head: VerifyDependencies['headObject'] = async () => ({ found: true, serverSideEncryption: 'aws:kms', kmsKeyArn: ARN }),
  initial?: VerdictRecord,
  world: { aliases?: Record<string, string>; bucketDefault?: BucketDefaultEncryption } = {},
) {
  const aliases: Record<string, string> = { 'alias/calls': ARN, 'alias/legal': OTHER_ARN, ...world.aliases };
  const deps: VerifyDependencies & { store: Map<string, StoredVerdict> } = {
    jobNamePrefix: 'tkp.t.',
    ruleIndex: buildRuleIndex(CONFIG.rules),
    inputBucket: 'in',
    transcriptBucket: 'out',
    resolveKey: createKeyResolver(async (keyId) => ({
      KeyId: keyId,
      Arn: aliases[keyId] ?? keyId,
      AWSAccountId: '123456789012',
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
    })),
    bucketDefaultEncryption: vi.fn(async () => world.bucketDefault ?? { serverSideEncryption: 'AES256' as const }),
    configEpochStart: vi.fn(async () => CONFIG_LOADED_AT),
    markRule: vi.fn(async () => undefined),
    ruleChangeGraceMs: 15 * 60_000,
    getJob: vi.fn(async () => found && fromTranscriptionJob(found)),
    headObject: vi.fn(head),
    publish: vi.fn(async () => undefined),
    ...ledger(initial),
    verdictLeaseSeconds: 60,
    missingTranscriptRetries: 2,
    missingTranscriptRetryDelayMs: 10,
    sleep: vi.fn(async () => undefined),
    now: () => new Date('2026-11-28T10:00:00Z'),
  };
  return deps;
}

describe('verifyJob', () => {
  it('publishes verified with the expectation, the facts and the source, then records the verdict', async () => {
    const deps = setup(job());
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(deps.headObject).toHaveBeenCalledWith({ bucket: 'out', key: `transcripts/${NAME}.json` });
    expect(deps.publish).toHaveBeenCalledWith({
      schemaVersion: '1',
      outcome: 'verified',
      verdictId: `${NAME}:verified`,
      jobName: NAME,
      jobType: 'transcription',
      jobStatus: 'COMPLETED',
      mediaUri: 's3://in/calls/call (1).wav',
      transcriptUri: `s3://out/transcripts/${NAME}.json`,
      rulePrefix: 'calls/',
      source: { bucket: 'in', key: 'calls/call (1).wav', version: 'etag:e1' },
      expected: { serverSideEncryption: 'aws:kms', kmsKeyArn: ARN, source: 'rule' },
      recorded: { serverSideEncryption: 'aws:kms', kmsKeyArn: ARN },
      cause: null,
      actual: [{ uri: `s3://out/transcripts/${NAME}.json`, serverSideEncryption: 'aws:kms', kmsKeyArn: ARN }],
      problems: [],
      whatToDo: null,
      failureReason: null,
      checkedBy: 'completion-event',
      checkedAt: '2026-11-28T10:00:00.000Z',
    });
    const writes = vi.mocked(deps.writeVerdict).mock;
    expect(writes.calls.map(([, record, condition]) => [record.state, condition])).toEqual([
      ['claimed', { ifNoneMatch: true }],
      ['published', { ifMatch: '"e0"' }],
    ]);
    expect(writes.invocationCallOrder[0]).toBeLessThan(vi.mocked(deps.publish).mock.invocationCallOrder[0] as number);
    expect(vi.mocked(deps.publish).mock.invocationCallOrder[0]).toBeLessThan(writes.invocationCallOrder[1] as number);
    expect(deps.store.get(NAME)?.record).toMatchObject({ state: 'published', detail: { outcome: 'verified' } });
    expect(() => assertNotMismatch(result)).not.toThrow();
    expect(deps.configEpochStart).not.toHaveBeenCalled();
    // The audit's index: which rule judged the job, by the deployed rule's fingerprint.
    expect(deps.markRule).toHaveBeenCalledWith(NAME, ruleFingerprint(CONFIG.rules[0]!));
  });

  it('checks the redacted transcript and subtitles too', async () => {
    const deps = setup(
      job({
        Transcript: { TranscriptFileUri: TRANSCRIPT, RedactedTranscriptFileUri: 'https://s3.us-east-1.amazonaws.com/out/transcripts/r.json' },
        Subtitles: { SubtitleFileUris: ['https://s3.us-east-1.amazonaws.com/out/transcripts/s.vtt', 'https://s3.us-east-1.amazonaws.com/out/transcripts/s.srt'] },
      }),
    );
    await verifyJob(deps, NAME, 'completion-event');
    expect(vi.mocked(deps.headObject).mock.calls.map(([l]) => l.key)).toEqual([`transcripts/${NAME}.json`, 'transcripts/r.json', 'transcripts/s.vtt', 'transcripts/s.srt']);
  });

  it('publishes a mismatch for the wrong key and fails the invocation afterwards', async () => {
    const other = keyArn('0987dcba-09fe-87dc-65ba-ab0987654321');
    const deps = setup(job(), async () => ({ found: true, serverSideEncryption: 'aws:kms', kmsKeyArn: other }));
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(deps.publish).toHaveBeenCalledWith(expect.objectContaining({ outcome: 'mismatch', problems: [expect.stringContaining(`encrypted under ${other}, expected ${ARN}`)] }));
    expect(deps.store.get(NAME)?.record.detail.outcome).toBe('mismatch');
    expect(() => assertNotMismatch(result)).toThrow(EncryptionMismatchError);
  });

  it('publishes transcription failed with the FailureReason, without touching S3', async () => {
    const deps = setup(job({ TranscriptionJobStatus: 'FAILED', FailureReason: 'KMS key disabled', Transcript: undefined }));
    await verifyJob(deps, NAME, 'sweeper');
    expect(deps.headObject).not.toHaveBeenCalled();
    expect(deps.publish).toHaveBeenCalledWith(expect.objectContaining({ outcome: 'failed', failureReason: 'KMS key disabled', transcriptUri: null, checkedBy: 'sweeper' }));
  });

  it('publishes a failed job as failed even when its rule\'s key can no longer be described', async () => {
    const deps = setup(job({ TranscriptionJobStatus: 'FAILED', FailureReason: 'The KMS key was deleted', Transcript: undefined }));
    deps.resolveKey = vi.fn(async () => Promise.reject(new KeyNotUsableError('rules[0] (prefix "calls/"): kmsKey alias/calls was not found', 'alias/calls')));
    await verifyJob(deps, NAME, 'sweeper');
    expect(deps.publish).toHaveBeenCalledWith(
      expect.objectContaining({ outcome: 'failed', failureReason: 'The KMS key was deleted', problems: [expect.stringContaining('what the rule demands cannot be read: KeyNotUsableError: rules[0]')] }),
    );
  });

  it('does not publish a completed job whose rule\'s key cannot be described: it fails, to be retried', async () => {
    const deps = setup(job());
    deps.resolveKey = vi.fn(async () => Promise.reject(new KeyNotUsableError('rules[0] (prefix "calls/"): kmsKey alias/calls was not found', 'alias/calls')));
    await expect(verifyJob(deps, NAME, 'completion-event')).rejects.toThrow(/was not found/);
    expect(deps.publish).not.toHaveBeenCalled();
  });

  it('does not report a job twice, and the sweeper finds that out from the ledger alone', async () => {
    const deps = setup(job());
    await verifyJob(deps, NAME, 'completion-event');
    await expect(verifyJob(deps, NAME, 'completion-event')).resolves.toEqual({ status: 'already-reported', jobName: NAME, outcome: 'verified', verdictId: `${NAME}:verified` });
    await expect(verifyJob(deps, NAME, 'sweeper')).resolves.toEqual({ status: 'already-reported', jobName: NAME, outcome: 'verified', verdictId: `${NAME}:verified` });
    expect(deps.publish).toHaveBeenCalledTimes(1);
    expect(deps.getJob).toHaveBeenCalledTimes(2);
  });

  it('publishes once when the same completion event is delivered twice at the same moment', async () => {
    const deps = setup(job());
    const results = await Promise.allSettled([verifyJob(deps, NAME, 'completion-event'), verifyJob(deps, NAME, 'completion-event')]);
    expect(deps.publish).toHaveBeenCalledTimes(1);
    const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : (r.reason as Error).name)).sort();
    expect(statuses).toEqual(expect.arrayContaining(['reported']));
    expect(statuses.filter((s) => s === 'reported')).toHaveLength(1);
  });

  it('waits for a fresh claim held by another invocation, asking to be retried', async () => {
    const held: VerdictRecord = { state: 'claimed', claimedAt: '2026-11-28T09:59:30.000Z', detail: { jobName: NAME, outcome: 'verified' } as OutcomeDetail };
    const deps = setup(job(), undefined, held);
    await expect(verifyJob(deps, NAME, 'completion-event')).rejects.toBeInstanceOf(VerdictInProgressError);
    expect(deps.publish).not.toHaveBeenCalled();
  });

  it('takes over a claim older than the lease, left by an invocation that died before publishing', async () => {
    const stale: VerdictRecord = { state: 'claimed', claimedAt: '2026-11-28T09:50:00.000Z', detail: { jobName: NAME, outcome: 'verified' } as OutcomeDetail };
    const deps = setup(job(), undefined, stale);
    await verifyJob(deps, NAME, 'sweeper');
    expect(deps.publish).toHaveBeenCalledTimes(1);
    expect(vi.mocked(deps.writeVerdict).mock.calls[0]?.[2]).toEqual({ ifMatch: '"e0"' });
    expect(deps.store.get(NAME)?.record.state).toBe('published');
  });

  it('keeps failing a recorded mismatch without publishing it again', async () => {
    const published: VerdictRecord = { state: 'published', claimedAt: '2026-11-28T09:00:00.000Z', detail: { jobName: NAME, outcome: 'mismatch' } as OutcomeDetail };
    const deps = setup(job(), undefined, published);
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(deps.publish).not.toHaveBeenCalled();
    expect(() => assertNotMismatch(result)).toThrow(`already published with verdictId ${NAME}:mismatch`);
  });

  it('retries a missing transcript with backoff, then reports it as a mismatch', async () => {
    const deps = setup(job(), async () => ({ found: false }));
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(deps.headObject).toHaveBeenCalledTimes(3);
    expect(vi.mocked(deps.sleep).mock.calls).toEqual([[10], [20]]);
    expect(result.status === 'reported' && result.detail.problems).toEqual([`s3://out/transcripts/${NAME}.json does not exist`]);
  });

  it('verifies a transcript that appears during the retries', async () => {
    const head = vi.fn().mockResolvedValueOnce({ found: false }).mockResolvedValue({ found: true, serverSideEncryption: 'aws:kms', kmsKeyArn: ARN });
    const result = await verifyJob(setup(job(), head), NAME, 'completion-event');
    expect(result.status === 'reported' && result.detail.outcome).toBe('verified');
  });

  it('refuses another service’s job by name before calling AWS', async () => {
    const deps = setup(job());
    await expect(verifyJob(deps, 'their-job', 'completion-event')).rejects.toBeInstanceOf(ForeignJobError);
    expect(deps.getJob).not.toHaveBeenCalled();
  });

  it('judges a job that carries none of our tags on the config alone: verified under the rule\'s key, recorded null', async () => {
    // Tags removed, or a Transcribe stand-in that keeps none (moto 5.2.1): the config is the authority.
    const deps = setup(job({ Tags: [] }));
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(result.status === 'reported' && result.detail).toMatchObject({
      outcome: 'verified',
      cause: null,
      problems: [],
      recorded: null,
      expected: { serverSideEncryption: 'aws:kms', kmsKeyArn: ARN, source: 'rule' },
      source: { bucket: 'in', key: 'calls/call (1).wav', version: null },
    });
    expect(vi.mocked(deps.publish).mock.calls[0]?.[0]).toMatchObject({ outcome: 'verified', recorded: null });
  });

  it('still reports the wrong key as a mismatch when the tags are gone, and says they are', async () => {
    const result = await verifyJob(setup(job({ Tags: [] }), async () => ({ found: true, serverSideEncryption: 'aws:kms', kmsKeyArn: OTHER_ARN })), NAME, 'completion-event');
    expect(result.status === 'reported' && result.detail).toMatchObject({ outcome: 'mismatch', cause: 'wrong-encryption', recorded: null });
    const problems = result.status === 'reported' ? result.detail.problems : [];
    expect(problems[0]).toContain(OTHER_ARN);
    expect(problems.at(-1)).toBe("the job carries none of the start function's tags, so nothing records what was asked (they were removed, or a Transcribe stand-in keeps no tags)");
    expect(() => assertNotMismatch(result)).toThrow(EncryptionMismatchError);
    // A missing transcript stays a missing output.
    const missing = await verifyJob(setup(job({ Tags: [] }), async () => ({ found: false })), NAME, 'completion-event');
    expect(missing.status === 'reported' && missing.detail.cause).toBe('missing-output');
  });

  it('reports tags that remain without a readable record as altered, even over a right object', async () => {
    const tags = job().Tags!.filter((tag) => tag.Key !== TAG.expectedSse);
    const result = await verifyJob(setup(job({ Tags: tags })), NAME, 'completion-event');
    expect(result.status === 'reported' && result.detail).toMatchObject({ outcome: 'mismatch', cause: 'tags-altered', recorded: null });
    expect(result.status === 'reported' && result.detail.problems).toEqual([
      "the job's tags hold no valid tkp:expected-sse record of what was asked although others of its tkp: tags remain, so the tags were altered " +
        '(check CloudTrail for transcribe:TagResource and transcribe:UntagResource)',
    ]);
  });

  it('refuses to judge a job with neither our tags nor a rule, saying why', async () => {
    const refused = verifyJob(setup(job({ Tags: [], Media: { MediaFileUri: 's3://in/elsewhere/x.wav' } })), NAME, 'completion-event');
    await expect(refused).rejects.toBeInstanceOf(ForeignJobError);
    await expect(refused).rejects.toThrow(
      `job ${NAME} carries none of the start function's tags, and the job's media s3://in/elsewhere/x.wav lies under no rule of the deployed config, ` +
        'so nothing says how it must be encrypted: neither the config nor the job says what its transcript must be, so it is not judged.',
    );
  });

  it('reports a job that no longer exists', async () => {
    await expect(verifyJob(setup(undefined), NAME, 'completion-event')).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('answers a job\'s deletion from the ledger when the job has its verdict, without reading the job', async () => {
    const deps = setup(job());
    await verifyJob(deps, NAME, 'completion-event');
    const deletion = { by: 'arn:aws:iam::123456789012:user/cleanup', at: '2026-11-29T10:00:00Z' };
    await expect(verifyJob(deps, NAME, 'completion-event', 'transcription', deletion)).resolves.toEqual({ status: 'already-reported', jobName: NAME, outcome: 'verified', verdictId: `${NAME}:verified` });
    expect(deps.getJob).toHaveBeenCalledTimes(1);
    expect(deps.publish).toHaveBeenCalledTimes(1);
  });

  it('fails a job deleted before its verdict, saying who deleted it, when, and what to do', async () => {
    const deps = setup(undefined);
    const deletion = { by: 'arn:aws:sts::123456789012:assumed-role/ops/mallory', at: '2026-11-29T10:00:00Z' };
    const error = await verifyJob(deps, NAME, 'completion-event', 'medical', deletion).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect((error as Error).message).toBe(
      `medical transcription job ${NAME} was deleted by arn:aws:sts::123456789012:assumed-role/ops/mallory at 2026-11-29T10:00:00Z before it was verified, ` +
        `so its transcript was never checked against its rule: judge it (its key ends in ${NAME}.json) with \`tkp audit\`, ` +
        're-upload the media (or `tkp backfill` its prefix) to transcribe it again, and ask who deleted the job if that was not your cleanup',
    );
    expect(deps.readVerdict).toHaveBeenCalledWith(`medical/${NAME}`);
    expect(deps.publish).not.toHaveBeenCalled();
  });

  it('asks for a retry when the job is not finished yet', async () => {
    await expect(verifyJob(setup(job({ TranscriptionJobStatus: 'IN_PROGRESS' })), NAME, 'completion-event')).rejects.toBeInstanceOf(JobNotFinishedError);
  });

  it('rejects a transcript URI in an unexpected form without publishing', async () => {
    const deps = setup(job({ Transcript: { TranscriptFileUri: 'https://example.com/out/x.json' } }));
    await expect(verifyJob(deps, NAME, 'completion-event')).rejects.toBeInstanceOf(TranscriptUriError);
    expect(deps.publish).not.toHaveBeenCalled();
  });

  it('rejects a COMPLETED job without a transcript URI', async () => {
    await expect(verifyJob(setup(job({ Transcript: {} })), NAME, 'completion-event')).rejects.toThrow('reports no TranscriptFileUri');
  });
});

describe('verifyJob: the deployed config decides, the tags only explain', () => {
  const underKey = (arn: string) => async () => ({ found: true as const, serverSideEncryption: 'aws:kms', kmsKeyArn: arn });

  it('reports a mismatch when the tags were rewritten to the key the transcript is under', async () => {
    const deps = setup(job({}, { [TAG.expectedKeyArn]: OTHER_ARN }), underKey(OTHER_ARN));
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(deps.publish).toHaveBeenCalledWith(
      expect.objectContaining({
        outcome: 'mismatch',
        cause: 'tags-altered',
        expected: { serverSideEncryption: 'aws:kms', kmsKeyArn: ARN, source: 'rule' },
        recorded: { serverSideEncryption: 'aws:kms', kmsKeyArn: OTHER_ARN },
        problems: expect.arrayContaining([
          expect.stringContaining(`encrypted under ${OTHER_ARN}, expected ${ARN}`),
          expect.stringContaining(`tags say key ${OTHER_ARN} was asked, but the deployed rule "calls/" asks for key ${ARN}`),
        ]),
      }),
    );
    expect(() => assertNotMismatch(result)).toThrow(EncryptionMismatchError);
  });

  it('reports tags rewritten to AES256 on a key rule as a mismatch even when the object is SSE-S3', async () => {
    const deps = setup(job({}, { [TAG.expectedSse]: 'AES256' }), async () => ({ found: true, serverSideEncryption: 'AES256' }));
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(result.status === 'reported' && result.detail).toMatchObject({ outcome: 'mismatch', cause: 'tags-altered' });
  });

  it('reports a mismatch when the rule alias now points at another key than the one the job used', async () => {
    const legal = job({ Media: { MediaFileUri: 's3://in/legal/deposition.wav' } }, {
      [TAG.expectedKeyArn]: OTHER_ARN,
      [TAG.rulePrefix]: 'legal/',
      [TAG.ruleFingerprint]: ruleFingerprint(CONFIG.rules[2]!),
    });
    const deps = setup(legal, underKey(OTHER_ARN), undefined, { aliases: { 'alias/legal': BUCKET_KEY_ARN } });
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(result.status === 'reported' && result.detail).toMatchObject({
      outcome: 'mismatch',
      cause: 'alias-retargeted',
      problems: expect.arrayContaining([expect.stringContaining(`alias alias/legal now points at ${BUCKET_KEY_ARN} but the job used ${OTHER_ARN}`)]),
    });
    expect(() => assertNotMismatch(result)).toThrow(EncryptionMismatchError);
  });

  it('reports a rule changed by a deploy after the job started distinctly, without failing the invocation', async () => {
    const deps = setup(job({}, { [TAG.expectedKeyArn]: OTHER_ARN, [TAG.ruleFingerprint]: 'f'.repeat(32) }), underKey(OTHER_ARN));
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(result.status === 'reported' && result.detail).toMatchObject({
      outcome: 'mismatch',
      cause: 'rule-changed',
      problems: expect.arrayContaining([expect.stringContaining('the rule was changed by a config deploy after the job started')]),
    });
    expect(() => assertNotMismatch(result)).not.toThrow();
  });

  it('treats a changed fingerprint on a job started after this config was loaded as altered tags', async () => {
    const late = job({ CreationTime: new Date(CONFIG_LOADED_AT + 3_600_000) }, { [TAG.expectedKeyArn]: OTHER_ARN, [TAG.ruleFingerprint]: 'f'.repeat(32) });
    const result = await verifyJob(setup(late, underKey(OTHER_ARN)), NAME, 'completion-event');
    expect(result.status === 'reported' && result.detail).toMatchObject({ outcome: 'mismatch', cause: 'tags-altered' });
  });

  it('reports a job whose media lies under no rule, instead of judging it verified', async () => {
    const deps = setup(job({ Media: { MediaFileUri: 's3://in/elsewhere/a.wav' } }));
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(result.status === 'reported' && result.detail).toMatchObject({
      outcome: 'mismatch',
      cause: 'no-rule',
      rulePrefix: null,
      problems: [expect.stringContaining('lies under no rule of the deployed config')],
    });
    expect(() => assertNotMismatch(result)).toThrow(EncryptionMismatchError);
  });

  it('reports a job whose media is in another bucket as under no rule', async () => {
    const result = await verifyJob(setup(job({ Media: { MediaFileUri: 's3://elsewhere/calls/a.wav' } })), NAME, 'completion-event');
    expect(result.status === 'reported' && result.detail).toMatchObject({ outcome: 'mismatch', cause: 'no-rule' });
  });

  it('expects the bucket default key for a no-key rule in a bucket whose default is SSE-KMS, and says so', async () => {
    const publicJob = job({ Media: { MediaFileUri: 's3://in/public/a.wav' } }, {
      [TAG.expectedSse]: 'AES256',
      [TAG.expectedKeyArn]: '',
      [TAG.rulePrefix]: 'public/',
      [TAG.ruleFingerprint]: ruleFingerprint(CONFIG.rules[1]!),
    });
    const deps = setup(publicJob, underKey(BUCKET_KEY_ARN), undefined, { bucketDefault: { serverSideEncryption: 'aws:kms', kmsKeyArn: BUCKET_KEY_ARN } });
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(deps.bucketDefaultEncryption).toHaveBeenCalledWith('out');
    expect(result.status === 'reported' && result.detail).toMatchObject({
      outcome: 'verified',
      expected: { serverSideEncryption: 'aws:kms', kmsKeyArn: BUCKET_KEY_ARN, source: 'bucket-default' },
    });
  });

  it('reports a transcript written outside the rule output location', async () => {
    const deps = setup(job({ Transcript: { TranscriptFileUri: `https://s3.us-east-1.amazonaws.com/out/verdicts/${NAME}.json` } }));
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(result.status === 'reported' && result.detail.problems).toEqual([expect.stringContaining('outside the rule\'s output location s3://out/transcripts/')]);
  });

  it('overrules a "verified" record planted in the ledger in advance, and publishes the mismatch', async () => {
    const planted: VerdictRecord = { state: 'published', claimedAt: '2026-11-28T09:00:00.000Z', detail: { jobName: NAME, outcome: 'verified' } as OutcomeDetail };
    const deps = setup(job(), underKey(OTHER_ARN), planted);
    const result = await verifyJob(deps, NAME, 'completion-event');
    expect(deps.publish).toHaveBeenCalledWith(
      expect.objectContaining({ outcome: 'mismatch', problems: expect.arrayContaining([expect.stringContaining('held a published "verified" record for this job that this judgement contradicts')]) }),
    );
    expect(deps.store.get(NAME)?.record).toMatchObject({ state: 'published', detail: { outcome: 'mismatch' } });
    expect(() => assertNotMismatch(result)).toThrow(EncryptionMismatchError);
  });

  it('overrules a planted claim dated in the future instead of waiting on it forever', async () => {
    const planted: VerdictRecord = { state: 'claimed', claimedAt: '2099-01-01T00:00:00.000Z', detail: { jobName: NAME, outcome: 'verified' } as OutcomeDetail };
    const deps = setup(job(), undefined, planted);
    await verifyJob(deps, NAME, 'completion-event');
    expect(deps.publish).toHaveBeenCalledTimes(1);
  });
});

describe('headObjectError', () => {
  const location = { bucket: 'out', key: 'k.json' };
  const err = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

  it('reads 404 as a missing object', () => {
    expect(headObjectError(location, err('NotFound', 404))).toBe('missing');
  });

  it('turns 403 into an error naming the permission to grant', () => {
    const error = headObjectError(location, err('Forbidden', 403));
    expect(error).toBeInstanceOf(TranscriptAccessDeniedError);
    expect((error as Error).message).toContain('grant the verifier\'s role s3:GetObject on arn:aws:s3:::out/*');
  });

  it('marks 503 as transient', () => {
    expect(headObjectError(location, err('SlowDown', 503))).toBeInstanceOf(TransientAwsError);
  });
});

describe('getJobError', () => {
  const err = (name: string, status: number, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

  it('names the grant for a refused Get*Job, and does not retry it', () => {
    const error = getJobError('tkp.t.x', 'callAnalytics', 'tkp.t.', err('AccessDeniedException', 400, 'not authorized to perform: transcribe:GetCallAnalyticsJob'));
    expect(error).toBeInstanceOf(JobAccessDeniedError);
    expect(isRetryable(error)).toBe(false);
    expect(error.message).toBe(
      'GetCallAnalyticsJob on job tkp.t.x was denied (AccessDeniedException: not authorized to perform: transcribe:GetCallAnalyticsJob); the verify and sweep roles ' +
        'need transcribe:GetCallAnalyticsJob on arn:aws:transcribe:<region>:<account>:analytics/tkp.t.*, which the stack grants: look for a permissions boundary, an SCP or a changed role policy',
    );
  });

  it('retries a fault, a throttle, or an answer the SDK cannot parse, in one line', () => {
    const unparseable = Object.assign(new SyntaxError('Unexpected token \'<\'\n  Deserialization error: see $response'), { $metadata: { httpStatusCode: 500 } });
    for (const error of [err('ThrottlingException', 400), err('InternalFailureException', 500), unparseable]) {
      const mapped = getJobError('tkp.t.x', 'transcription', 'tkp.t.', error);
      expect(mapped).toBeInstanceOf(TransientAwsError);
      expect(mapped.message).toMatch(/^GetTranscriptionJob on job tkp\.t\.x must be retried: [^\n]+$/);
    }
  });
});

describe('publishError', () => {
  const err = (name: string, status: number, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

  it('names the grant for a refused PutEvents and the setting for a missing bus, without retrying either', () => {
    const denied = publishError('tkp-bus', 'tkp.t.x', err('AccessDeniedException', 400, 'not authorized to perform: events:PutEvents'));
    expect(denied).toBeInstanceOf(PublishRefusedError);
    expect(isRetryable(denied)).toBe(false);
    expect(denied.message).toBe(
      "PutEvents of job tkp.t.x's verdict to tkp-bus was denied (AccessDeniedException: not authorized to perform: events:PutEvents); the verify and sweep roles need " +
        'events:PutEvents on arn:aws:events:<region>:<account>:event-bus/tkp-bus, which the stack grants: look for a permissions boundary, an SCP or a changed role policy',
    );
    const missing = publishError('tkp-bus', 'tkp.t.x', err('ResourceNotFoundException', 400, 'Event bus tkp-bus does not exist.'));
    expect(missing.message).toBe("the outcome bus tkp-bus does not exist, so job tkp.t.x's verdict cannot be published; check OUTCOME_BUS_NAME and the stack");
    expect(isRetryable(missing)).toBe(false);
  });

  it('leaves a fault as the SDK raised it, to be retried', () => {
    const fault = err('InternalException', 500);
    expect(publishError('tkp-bus', 'tkp.t.x', fault)).toBe(fault);
    expect(isRetryable(fault)).toBe(true);
  });
});

describe('verifyJob: Call Analytics and medical jobs', () => {
  const OUT = 'https://s3.us-east-1.amazonaws.com/out/transcripts';
  const tags = (rule: number, media: string) =>
    Object.entries({
      [TAG.expectedSse]: 'aws:kms',
      [TAG.expectedKeyArn]: ARN,
      [TAG.sourceBucket]: 'in',
      [TAG.sourceKey]: media,
      [TAG.sourceVersion]: 'v1',
      [TAG.ruleFingerprint]: ruleFingerprint(CONFIG.rules[rule]!),
    }).map(([Key, Value]) => ({ Key, Value }));
  const callJob = (overrides: Partial<CallAnalyticsJob> = {}): CallAnalyticsJob => ({
    CallAnalyticsJobName: NAME,
    CallAnalyticsJobStatus: 'COMPLETED',
    CreationTime: new Date('2026-11-28T09:45:00Z'),
    Media: { MediaFileUri: 's3://in/contact-centre/call.wav', RedactedMediaFileUri: `${OUT}/redacted-${NAME}.wav` },
    Transcript: { TranscriptFileUri: `${OUT}/${NAME}.json`, RedactedTranscriptFileUri: `${OUT}/redacted-${NAME}.json` },
    Tags: tags(3, 'contact-centre/call.wav'),
    ...overrides,
  });
  const medicalJob = (overrides: Partial<MedicalTranscriptionJob> = {}): MedicalTranscriptionJob => ({
    MedicalTranscriptionJobName: NAME,
    TranscriptionJobStatus: 'COMPLETED',
    CreationTime: new Date('2026-11-28T09:45:00Z'),
    Media: { MediaFileUri: 's3://in/clinic/visit.wav' },
    Transcript: { TranscriptFileUri: `${OUT}/${NAME}.json` },
    Tags: tags(4, 'clinic/visit.wav'),
    ...overrides,
  });
  const typed = (jobType: JobType, view: TranscribeJob, head?: VerifyDependencies['headObject']) => {
    const deps = setup(undefined, head);
    deps.getJob = vi.fn(async (_name: string, type: JobType) => (type === jobType ? view : undefined));
    return deps;
  };
  const underKey = (keyArnOf: (key: string) => string | undefined): VerifyDependencies['headObject'] => async (location) => {
    const arn = keyArnOf(location.key);
    return arn === undefined ? { found: false } : { found: true, serverSideEncryption: 'aws:kms', kmsKeyArn: arn };
  };

  it('judges every Call Analytics output: transcript, redacted transcript and redacted audio, under the rule\'s key', async () => {
    const deps = typed('callAnalytics', fromCallAnalyticsJob(callJob()));
    const result = await verifyJob(deps, NAME, 'completion-event', 'callAnalytics');
    expect(deps.getJob).toHaveBeenCalledWith(NAME, 'callAnalytics');
    expect(vi.mocked(deps.headObject).mock.calls.map(([l]) => l.key)).toEqual([`transcripts/${NAME}.json`, `transcripts/redacted-${NAME}.json`, `transcripts/redacted-${NAME}.wav`]);
    expect(result).toMatchObject({ status: 'reported', detail: { outcome: 'verified', jobType: 'callAnalytics', rulePrefix: 'contact-centre/' } });
  });

  it.each([
    ['transcript', `transcripts/${NAME}.json`],
    ['redacted transcript', `transcripts/redacted-${NAME}.json`],
    ['redacted audio', `transcripts/redacted-${NAME}.wav`],
  ])('publishes a Call Analytics mismatch when the %s is under the wrong key, and when it is missing', async (_kind, wrongKey) => {
    const wrong = typed('callAnalytics', fromCallAnalyticsJob(callJob()), underKey((key) => (key === wrongKey ? OTHER_ARN : ARN)));
    const result = await verifyJob(wrong, NAME, 'completion-event', 'callAnalytics');
    expect(result).toMatchObject({ detail: { outcome: 'mismatch', cause: 'wrong-encryption', jobType: 'callAnalytics', problems: [`s3://out/${wrongKey} is encrypted under ${OTHER_ARN}, expected ${ARN}`] } });
    expect(() => assertNotMismatch(result)).toThrow(EncryptionMismatchError);

    const missing = typed('callAnalytics', fromCallAnalyticsJob(callJob()), underKey((key) => (key === wrongKey ? undefined : ARN)));
    const gone = await verifyJob(missing, NAME, 'completion-event', 'callAnalytics');
    expect(gone).toMatchObject({ detail: { outcome: 'mismatch', cause: 'missing-output', problems: [`s3://out/${wrongKey} does not exist`] } });
  });

  it('does not judge the input media as an output when the response only echoes it as RedactedMediaFileUri', async () => {
    const echo = callJob({ Media: { MediaFileUri: 's3://in/contact-centre/call.wav', RedactedMediaFileUri: 's3://in/contact-centre/call.wav' } });
    const deps = typed('callAnalytics', fromCallAnalyticsJob(echo));
    await verifyJob(deps, NAME, 'completion-event', 'callAnalytics');
    expect(vi.mocked(deps.headObject).mock.calls.map(([l]) => l.key)).toEqual([`transcripts/${NAME}.json`, `transcripts/redacted-${NAME}.json`]);
  });

  it('judges a medical transcript under the right key, the wrong key, and missing', async () => {
    const right = typed('medical', fromMedicalTranscriptionJob(medicalJob()));
    expect(await verifyJob(right, NAME, 'sweeper', 'medical')).toMatchObject({ detail: { outcome: 'verified', jobType: 'medical', rulePrefix: 'clinic/' } });
    const wrong = typed('medical', fromMedicalTranscriptionJob(medicalJob()), underKey(() => OTHER_ARN));
    expect(await verifyJob(wrong, NAME, 'sweeper', 'medical')).toMatchObject({ detail: { outcome: 'mismatch', cause: 'wrong-encryption' } });
    const missing = typed('medical', fromMedicalTranscriptionJob(medicalJob()), underKey(() => undefined));
    expect(await verifyJob(missing, NAME, 'sweeper', 'medical')).toMatchObject({ detail: { outcome: 'mismatch', cause: 'missing-output' } });
  });

  it('publishes a Call Analytics job that Transcribe failed (mono audio) as failed, with its reason', async () => {
    const reason = 'Call Analytics requires two-channel audio; this media has 1 channel.';
    const deps = typed('callAnalytics', fromCallAnalyticsJob(callJob({ CallAnalyticsJobStatus: 'FAILED', FailureReason: reason, Transcript: undefined })));
    const result = await verifyJob(deps, NAME, 'completion-event', 'callAnalytics');
    expect(result).toMatchObject({ detail: { outcome: 'failed', jobType: 'callAnalytics', failureReason: reason } });
    expect(deps.headObject).not.toHaveBeenCalled();
  });

  it('says which job type is gone when a medical job no longer exists', async () => {
    const deps = typed('callAnalytics', fromCallAnalyticsJob(callJob()));
    await expect(verifyJob(deps, NAME, 'sweeper', 'medical')).rejects.toThrow(new JobNotFoundError(
      `medical transcription job ${NAME} no longer exists (deleted, or older than Transcribe's 90-day retention); re-upload the media (or \`tkp backfill\` its prefix) to transcribe it again`,
    ));
  });

  it('keeps a Call Analytics verdict apart from a same-named job of another type: a planted transcription job cannot take its place', async () => {
    // Anyone allowed to start jobs can create a transcription job under this stack's name for the
    // Call Analytics job (the name spaces are separate); its verdict is in the ledger already.
    const squatter: VerdictRecord = { state: 'published', claimedAt: '2026-11-28T09:00:00.000Z', detail: { jobName: NAME, outcome: 'verified' } as OutcomeDetail };
    const deps = typed('callAnalytics', fromCallAnalyticsJob(callJob()), underKey((key) => (key.endsWith('.wav') ? OTHER_ARN : ARN)));
    deps.store.set(NAME, { record: squatter, etag: '"planted"' });
    const result = await verifyJob(deps, NAME, 'sweeper', 'callAnalytics');
    expect(result).toMatchObject({ status: 'reported', detail: { outcome: 'mismatch', verdictId: `callAnalytics/${NAME}:mismatch` } });
    expect(vi.mocked(deps.writeVerdict).mock.calls.map(([id]) => id)).toEqual([`callAnalytics/${NAME}`, `callAnalytics/${NAME}`]);
    expect(deps.store.get(NAME)?.record).toBe(squatter);
  });

  it('refuses a Call Analytics job of another stack by its name', async () => {
    const deps = typed('callAnalytics', fromCallAnalyticsJob(callJob({ CallAnalyticsJobName: 'tkp.prod.x' })));
    await expect(verifyJob(deps, 'tkp.prod.x', 'completion-event', 'callAnalytics')).rejects.toThrow(ForeignJobError);
    expect(deps.getJob).not.toHaveBeenCalled();
  });
});
