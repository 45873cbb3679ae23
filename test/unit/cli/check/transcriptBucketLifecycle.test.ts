import { describe, expect, it } from 'vitest';
import { transcriptBucketLifecycleRow, type LifecycleRuleFacts } from '../../../../shared/cli/check/transcriptBucketLifecycle';

const kept = { bucket: 'tkp-dev-transcripts', transcriptPrefixes: ['transcripts/', 'clinic/notes/'] };
/** The rule the stack gives the bucket it creates: old versions after 90 days, nothing current. */
const stacks: LifecycleRuleFacts = { id: 'expire-old-versions', enabled: true, prefix: '', narrowed: false };
const row = (rules: LifecycleRuleFacts[]) => transcriptBucketLifecycleRow({ rules }, kept);
const PUT_BACK =
  'Before it runs, put the bucket\'s lifecycle back as the stack defines it, which a redeploy does not do (aws s3api put-bucket-lifecycle-configuration --bucket tkp-dev-transcripts with the packaged template\'s LifecycleConfiguration of TranscriptBucket, or without those rules on a bucket of your own). ' +
  'On a versioned bucket, as the stack makes it, an expired object stays as an old version behind a delete marker until the old-version rule deletes it: deleting the marker (aws s3api delete-object --version-id) brings it back';

describe('transcriptBucketLifecycleRow', () => {
  it('passes the stack\'s own rule, a bucket with none, and rules that expire nothing current or nothing the stack keeps', () => {
    expect(row([stacks])).toEqual({ rule: '(stack)', check: 'transcript bucket lifecycle', ok: true, detail: 's3://tkp-dev-transcripts: no lifecycle rule expires the verdict ledger or the transcripts (1 rule)' });
    expect(row([]).ok).toBe(true);
    // Elsewhere in the bucket, turned off, or a transition alone.
    expect(row([{ id: 'exports', enabled: true, prefix: 'exports/', narrowed: false, expires: { days: 1 } }, { id: 'off', enabled: false, prefix: '', narrowed: false, expires: { days: 1 } }, { ...stacks, id: 'glacier' }]).ok).toBe(true);
  });

  it('fails a rule that expires the ledger or a rule\'s transcripts, however it names the keys, naming what it deletes and how to put it back', () => {
    expect(row([stacks, { id: 'tidy-up', enabled: true, prefix: '', narrowed: false, expires: { days: 1 } }]).detail).toBe(
      's3://tkp-dev-transcripts: lifecycle rule "tidy-up" expires the current objects in the whole bucket 1 day after they are written, which S3 does whatever the bucket policy denies: ' +
        `it deletes the verdict ledger (verdicts/) and the transcripts under "transcripts/" and the transcripts under "clinic/notes/". ${PUT_BACK}`,
    );
    // A prefix inside the ledger, one that holds a rule's output prefix, and a date.
    expect(row([{ id: 'v', enabled: true, prefix: 'verdicts/2026', narrowed: false, expires: { days: 30 } }]).detail).toMatch(/^s3:\/\/tkp-dev-transcripts: lifecycle rule "v" expires the current objects under "verdicts\/2026" 30 days after they are written, .* it deletes the verdict ledger \(verdicts\/\)\. /);
    expect(row([{ enabled: true, prefix: 'clinic/', narrowed: false, expires: { date: '2026-12-01' } }]).detail).toMatch(/lifecycle rule "\(no ID\)" expires the current objects under "clinic\/" on 2026-12-01, .* it deletes the transcripts under "clinic\/notes\/"\. /);
  });

  it('judges a rule narrowed by tag or size as matching, since whoever may tag an object can bring it under the rule', () => {
    const narrowed = row([{ id: 'tagged', enabled: true, prefix: 'verdicts/', narrowed: true, expires: { days: 1 } }]);
    expect(narrowed.ok).toBe(false);
    expect(narrowed.detail).toContain('expires the current objects under "verdicts/" (of those its tag or size filter picks, which anyone who may tag an object can widen) 1 day after they are written');
  });

  it('fails when the rules cannot be read, naming the permission', () => {
    expect(transcriptBucketLifecycleRow({ error: 'AccessDenied: no' }, kept)).toEqual({
      rule: '(stack)',
      check: 'transcript bucket lifecycle',
      ok: false,
      detail: 'the lifecycle rules of s3://tkp-dev-transcripts cannot be read (AccessDenied: no); the caller needs s3:GetLifecycleConfiguration to tell whether one expires the verdict ledger or the transcripts',
    });
  });
});
