import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEvent, repoPath } from '../support/fixtures';
import { HANDLER_ENV } from '../support/functionEnvironment';
import { invokeBundle, type RecordedRequest } from '../support/invokeBundle';
import { bundleLikeServerless } from './floors';
import { buildHttpFloor, buildReplayFloor, requestSignature } from './replayFloors';

const root = repoPath('.');
const env = { ...process.env, ...HANDLER_ENV, POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };
const run = (bundle: string, event: unknown) => invokeBundle(bundle, event, env);

describe("the bench's replay floor", () => {
  let dir: string;
  let verifyBundle: string;
  let replay: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tkp-replay-'));
    verifyBundle = await bundleLikeServerless(root, `export { handler } from ${JSON.stringify(repoPath('functions/verify.ts'))};`, join(dir, 'verify.cjs'));
    replay = await buildReplayFloor(root, dir, 'verify');
  }, 60_000);

  it("sends, with the SDK alone, exactly the requests the verify handler sent for the bench's event", () => {
    const event = loadEvent('transcribe-completed.json');
    event.detail.TranscriptionJobName = 'tkp.test.bench-call-1';
    const handled = run(verifyBundle, event);
    expect(handled.error).toBeUndefined();
    expect(requestSignature(handled.requests)).toEqual([
      'AWSEvents.PutEvents',
      'HEAD /tkp-test-transcripts/transcripts/tkp.test.bench-call-1.json',
      'PUT /tkp-test-transcripts/verdicts/_rules/9cc78cac215a57f06479e20f6231ecaa/tkp.test.bench-call-1',
      'PUT /tkp-test-transcripts/verdicts/tkp.test.bench-call-1.json',
      'PUT /tkp-test-transcripts/verdicts/tkp.test.bench-call-1.json',
      'Transcribe.GetTranscriptionJob',
      'TrentService.DescribeKey',
    ]);
    const replayed = run(replay, { requests: handled.requests });
    expect(replayed.error).toBeUndefined();
    expect(requestSignature(replayed.requests)).toEqual(requestSignature(handled.requests));
    // The same bodies and conditions, not only the same operations.
    const detail = (requests: RecordedRequest[]) => requests.map((r) => [r.target ?? r.method, r.body, r.ifNoneMatch ?? null, r.ifMatch ?? null]).sort();
    expect(detail(replayed.requests)).toEqual(detail(handled.requests));
  });

  it("sends one plain HTTP request and nothing else from the HTTP floor, over the start function's floor", async () => {
    const httpFloor = await buildHttpFloor(root, dir);
    const handled = run(httpFloor, {});
    expect(handled.error).toBeUndefined();
    expect(handled.requests).toEqual([{ target: null, method: 'GET', path: '/', body: '' }]);
  }, 60_000);

  it('refuses a request it has no command for, so the bench cannot compare against fewer requests', () => {
    const replayed = run(replay, { requests: [{ target: 'AmazonSNS.Publish', method: 'POST', path: '/', body: '{}' }] });
    expect(replayed.error?.message).toBe('the replay floor cannot send AmazonSNS.Publish');
    expect(replayed.requests).toEqual([]);
  });
});
