import type { TranscriptionJob } from '@aws-sdk/client-transcribe';
import { describe, expect, it, vi } from 'vitest';
import {
  EncryptionMismatchError,
  ForeignJobError,
  JobNotFinishedError,
  JobNotFoundError,
  TranscriptAccessDeniedError,
  TranscriptUriError,
  TransientAwsError,
  VerdictInProgressError,
} from '../../../shared/aws/errors';
import type { OutcomeDetail } from '../../../shared/verify/outcomeEvent';
import type { StoredVerdict, VerdictRecord } from '../../../shared/verify/verdictLedger';
import { TAG } from '../../../shared/aws/jobTags';
import { assertNotMismatch, headObjectError, verifyJob, type VerifyDependencies } from '../../../shared/verify/verifyJob';
import { keyArn } from '../../support/fixtures';

const ARN = keyArn('1234abcd-12ab-34cd-56ef-1234567890ab');
const NAME = 'tkp.t.call-abc';
const TRANSCRIPT = `https://s3.us-east-1.amazonaws.com/out/transcripts/${NAME}.json`;

function job(overrides: Partial<TranscriptionJob> = {}, tags: Record<string, string> = {}): TranscriptionJob {
  return {
    TranscriptionJobName: NAME,
    TranscriptionJobStatus: 'COMPLETED',
    Media: { MediaFileUri: 's3://in/calls/call.wav' },
    Transcript: { TranscriptFileUri: TRANSCRIPT },
    Tags: Object.entries({
      [TAG.expectedSse]: 'aws:kms',
      [TAG.expectedKeyArn]: ARN,
      [TAG.rulePrefix]: 'calls/',
      [TAG.sourceBucket]: 'in',
      [TAG.sourceKey]: 'b64:' + Buffer.from('calls/call (1).wav').toString('base64url'),
      [TAG.sourceVersion]: 'etag:e1',
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
) {
  const deps: VerifyDependencies & { store: Map<string, StoredVerdict> } = {
    jobNamePrefix: 'tkp.t.',
    getJob: vi.fn(async () => found),
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
      jobStatus: 'COMPLETED',
      mediaUri: 's3://in/calls/call.wav',
      transcriptUri: `s3://out/transcripts/${NAME}.json`,
      rulePrefix: 'calls/',
      source: { bucket: 'in', key: 'calls/call (1).wav', version: 'etag:e1' },
      expected: { serverSideEncryption: 'aws:kms', kmsKeyArn: ARN },
      actual: [{ uri: `s3://out/transcripts/${NAME}.json`, serverSideEncryption: 'aws:kms', kmsKeyArn: ARN }],
      problems: [],
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
  });

  it('checks the redacted transcript and subtitles too', async () => {
    const deps = setup(
      job({
        Transcript: { TranscriptFileUri: TRANSCRIPT, RedactedTranscriptFileUri: 'https://s3.us-east-1.amazonaws.com/out/r.json' },
        Subtitles: { SubtitleFileUris: ['https://s3.us-east-1.amazonaws.com/out/s.vtt', 'https://s3.us-east-1.amazonaws.com/out/s.srt'] },
      }),
    );
    await verifyJob(deps, NAME, 'completion-event');
    expect(vi.mocked(deps.headObject).mock.calls.map(([l]) => l.key)).toEqual([`transcripts/${NAME}.json`, 'r.json', 's.vtt', 's.srt']);
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

  it('does not report a job twice, and the sweeper finds that out from the ledger alone', async () => {
    const deps = setup(job());
    await verifyJob(deps, NAME, 'completion-event');
    await expect(verifyJob(deps, NAME, 'completion-event')).resolves.toEqual({ status: 'already-reported', jobName: NAME, outcome: 'verified' });
    await expect(verifyJob(deps, NAME, 'sweeper')).resolves.toEqual({ status: 'already-reported', jobName: NAME, outcome: 'verified' });
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
    const held: VerdictRecord = { state: 'claimed', claimedAt: '2026-11-28T09:59:30.000Z', detail: { outcome: 'verified' } as OutcomeDetail };
    const deps = setup(job(), undefined, held);
    await expect(verifyJob(deps, NAME, 'completion-event')).rejects.toBeInstanceOf(VerdictInProgressError);
    expect(deps.publish).not.toHaveBeenCalled();
  });

  it('takes over a claim older than the lease, left by an invocation that died before publishing', async () => {
    const stale: VerdictRecord = { state: 'claimed', claimedAt: '2026-11-28T09:50:00.000Z', detail: { outcome: 'verified' } as OutcomeDetail };
    const deps = setup(job(), undefined, stale);
    await verifyJob(deps, NAME, 'sweeper');
    expect(deps.publish).toHaveBeenCalledTimes(1);
    expect(vi.mocked(deps.writeVerdict).mock.calls[0]?.[2]).toEqual({ ifMatch: '"e0"' });
    expect(deps.store.get(NAME)?.record.state).toBe('published');
  });

  it('keeps failing a recorded mismatch without publishing it again', async () => {
    const published: VerdictRecord = { state: 'published', claimedAt: '2026-11-28T09:00:00.000Z', detail: { outcome: 'mismatch' } as OutcomeDetail };
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

  it('refuses a job with our prefix but without our tags', async () => {
    await expect(verifyJob(setup(job({ Tags: [] })), NAME, 'completion-event')).rejects.toThrow(/has no tkp:expected-sse tag/);
  });

  it('reports a job that no longer exists', async () => {
    await expect(verifyJob(setup(undefined), NAME, 'completion-event')).rejects.toBeInstanceOf(JobNotFoundError);
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
