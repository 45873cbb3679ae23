import { describe, expect, it, vi } from 'vitest';
import { jobNameFor } from '../../../shared/aws/jobName';
import { backfillPrefixes, backfillUploads, s3EventFor, type BackfillDependencies, type InputObject } from '../../../shared/start/backfillUploads';
import { parseS3Notification } from '../../../shared/start/s3Notification';

const RULES = [{ prefix: 'calls/' }, { prefix: 'calls/vip/' }, { prefix: 'legal/' }];

describe('s3EventFor', () => {
  it.each(['calls/a+b c.wav', 'calls/Zürich 100%.wav', 'calls/ä/ö ü&=?.mp3', 'calls/plain.wav'])('writes %j as S3 would, so the start function names the same job as for a live upload', (key) => {
    const object: InputObject = { key, size: 42, eTag: '"abc123"', versionId: 'v1', lastModified: new Date('2026-01-01T00:00:00Z') };
    const [parsed] = (parseS3Notification(s3EventFor('in', 'eu-west-1', object)) as { objects: { key: string; eTag?: string; versionId?: string; size: number }[] }).objects;
    expect(parsed).toEqual({ bucket: 'in', key, size: 42, eTag: 'abc123', versionId: 'v1' });
    // A live S3 event carries the ETag without quotes; the job name must not depend on who sent the record.
    expect(jobNameFor('tkp.t.', parsed as never)).toBe(jobNameFor('tkp.t.', { bucket: 'in', key, eTag: 'abc123', versionId: 'v1' }));
  });

  it('leaves the version out for an unversioned object, as S3 does', () => {
    const body = JSON.parse(s3EventFor('in', 'us-east-1', { key: 'calls/a.wav', size: 1, eTag: '"e"' }));
    expect(body.Records[0].s3.object).toEqual({ key: 'calls/a.wav', size: 1, eTag: 'e', sequencer: '0' });
    expect(body.Records[0].eventName).toBe('ObjectCreated:Put');
  });
});

describe('backfillPrefixes', () => {
  it('lists each rule prefix once (covered prefixes are inside their parent) and narrows by --prefix', () => {
    expect(backfillPrefixes(RULES, undefined)).toEqual(['calls/', 'legal/']);
    expect(backfillPrefixes(RULES, 'calls/vip/2026/')).toEqual(['calls/vip/2026/']);
    expect(backfillPrefixes(RULES, 'c')).toEqual(['calls/']);
    expect(backfillPrefixes(RULES, 'other/')).toEqual([]);
  });

  it('lists an accented prefix in both Unicode spellings, composed and decomposed (as a Mac may name a file), and --prefix in either spelling narrows to both', () => {
    const nfd = 'E\u0301quipe/';
    expect(backfillPrefixes([{ prefix: 'Équipe/' }], undefined)).toEqual([nfd, 'Équipe/']);
    expect(backfillPrefixes([{ prefix: 'Équipe/' }], 'Équipe/2026/')).toEqual(['E\u0301quipe/2026/', 'Équipe/2026/']);
    expect(backfillPrefixes([{ prefix: 'Équipe/' }], `${nfd}2026/`)).toEqual(['E\u0301quipe/2026/', 'Équipe/2026/']);
    expect(backfillPrefixes([{ prefix: '' }], 'Équipe/')).toEqual([nfd, 'Équipe/']);
  });
});

function deps(objects: Record<string, InputObject[]>, failures: (entries: { id: string }[], call: number) => { id: string; reason: string; retryable: boolean }[] = () => []) {
  let call = 0;
  const sent: string[][] = [];
  const d: BackfillDependencies = {
    listObjects: async function* (_bucket, prefix) {
      yield* objects[prefix] ?? [];
    },
    sendBatch: vi.fn(async (entries) => {
      const failed = failures(entries, call++);
      sent.push(entries.filter((e: { id: string }) => !failed.some((f) => f.id === e.id)).map((e: { body: string }) => JSON.parse(e.body).Records[0].s3.object.key));
      return failed;
    }),
  };
  return { d, sent };
}

const many = (prefix: string, n: number, lastModified = new Date('2026-06-01')) => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}.wav`, size: 1, eTag: `"e${i}"`, lastModified }));

describe('backfillUploads', () => {
  it('sends every object under the rules in batches of 10 (filled across prefixes), skipping folder markers, and counts them', async () => {
    const { d, sent } = deps({ 'calls/': [...many('calls/', 23), { key: 'calls/folder/', size: 0 }], 'legal/': many('legal/', 2) });
    const report = await backfillUploads(d, { rules: RULES, inputBucket: 'in', region: 'us-east-1', dryRun: false });
    expect(report).toEqual({ listed: 25, sent: 25, failed: [] });
    expect(sent.map((batch) => batch.length)).toEqual([10, 10, 5]);
  });

  it('sends nothing on a dry run, and honours --since', async () => {
    const { d } = deps({ 'calls/': [...many('calls/', 3, new Date('2025-01-01')), ...many('calls/new-', 2, new Date('2026-06-01'))] });
    expect(await backfillUploads(d, { rules: RULES, inputBucket: 'in', region: 'us-east-1', dryRun: true, since: new Date('2026-01-01') })).toEqual({ listed: 2, sent: 0, failed: [] });
    expect(d.sendBatch).not.toHaveBeenCalled();
  });

  it('retries entries SQS failed transiently, three attempts in all, and reports by key those it could not send', async () => {
    const { d } = deps({ 'calls/': many('calls/', 3) }, (entries, call) => [
      { id: entries[0]!.id, reason: 'InternalError: retry', retryable: true },
      ...(call === 0 ? [{ id: '2', reason: 'InvalidMessageContents: bad', retryable: false }] : []),
    ]);
    const report = await backfillUploads(d, { rules: RULES, inputBucket: 'in', region: 'us-east-1', dryRun: false });
    expect(report.sent).toBe(1);
    expect(report.failed).toEqual([
      { key: 'calls/2.wav', reason: 'InvalidMessageContents: bad' },
      { key: 'calls/0.wav', reason: 'InternalError: retry' },
    ]);
    expect(d.sendBatch).toHaveBeenCalledTimes(3);
  });
});
