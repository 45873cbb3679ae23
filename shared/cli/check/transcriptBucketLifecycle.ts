/**
 * `tkp check`'s "transcript bucket lifecycle" row: whether a lifecycle rule of the transcript
 * bucket would expire the verdict ledger or a rule's transcripts. S3 runs a lifecycle rule itself,
 * whatever the bucket policy denies, so an expiring rule removes what LedgerWritesOnlyByVerifiers
 * and WritesOnlyByThisStack keep, a day or more after it is set, with no other call to see (on a
 * versioned bucket it leaves them as old versions behind delete markers, until the old-version
 * rule deletes them).
 * TrustChangesRule pages when a rule is set; this row sees the state, whoever set it and whenever.
 * Only the expiration of current objects loses them: old versions expiring (the stack's own rule),
 * transitions to another storage class and the cleanup of delete markers or incomplete uploads
 * leave every current record and transcript in place. A rule narrowed by tag or object size is
 * judged as if it matched: whoever may tag an object can bring it under such a rule.
 */
import { VERDICT_PREFIX } from '../../config/reservedPrefixes';
import { STACK_ROW, type CheckRow } from './checkRow';

/** One lifecycle rule, as GetBucketLifecycleConfiguration tells it. */
export interface LifecycleRuleFacts {
  id?: string;
  enabled: boolean;
  /** The key prefix it applies to, whichever way it names one (`Prefix`, `Filter.Prefix`, `Filter.And.Prefix`); empty for the whole bucket. */
  prefix: string;
  /** It also filters by tag or object size. */
  narrowed: boolean;
  /** When it expires current objects; absent when it does not. */
  expires?: { days?: number; date?: string };
}

/** The bucket's lifecycle rules (none when it has no configuration), or why they cannot be read. */
export type BucketLifecycleAnswer = { rules: LifecycleRuleFacts[] } | { error: string };

/** What a lifecycle rule must not expire: the ledger, and each rule's transcripts in this bucket. */
export interface KeptKeys {
  bucket: string;
  /** Each output prefix in this bucket of a rule of the config. */
  transcriptPrefixes: string[];
}

/** Whether some key can start with both prefixes. */
const overlaps = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);

const when = (expires: NonNullable<LifecycleRuleFacts['expires']>) =>
  expires.date ? `on ${expires.date}` : `${expires.days ?? '?'} day${expires.days === 1 ? '' : 's'} after they are written`;

export function transcriptBucketLifecycleRow(answer: BucketLifecycleAnswer, kept: KeptKeys): CheckRow {
  const row = { rule: STACK_ROW, check: 'transcript bucket lifecycle' };
  if ('error' in answer) {
    return {
      ...row,
      ok: false,
      detail: `the lifecycle rules of s3://${kept.bucket} cannot be read (${answer.error}); the caller needs s3:GetLifecycleConfiguration to tell whether one expires the verdict ledger or the transcripts`,
    };
  }
  const spaces = [{ prefix: VERDICT_PREFIX, what: `the verdict ledger (${VERDICT_PREFIX})` }, ...kept.transcriptPrefixes.map((prefix) => ({ prefix, what: `the transcripts under ${JSON.stringify(prefix)}` }))];
  const problems = answer.rules.flatMap((rule) => {
    if (!rule.enabled || !rule.expires) return [];
    const lost = spaces.filter(({ prefix }) => overlaps(rule.prefix, prefix)).map(({ what }) => what);
    if (lost.length === 0) return [];
    const scope = `${rule.prefix ? `under ${JSON.stringify(rule.prefix)}` : 'in the whole bucket'}${rule.narrowed ? ' (of those its tag or size filter picks, which anyone who may tag an object can widen)' : ''}`;
    return [`lifecycle rule ${JSON.stringify(rule.id ?? '(no ID)')} expires the current objects ${scope} ${when(rule.expires)}, which S3 does whatever the bucket policy denies: it deletes ${lost.join(' and ')}`];
  });
  if (problems.length === 0) {
    return { ...row, ok: true, detail: `s3://${kept.bucket}: no lifecycle rule expires the verdict ledger or the transcripts (${answer.rules.length} rule${answer.rules.length === 1 ? '' : 's'})` };
  }
  return {
    ...row,
    ok: false,
    detail:
      `s3://${kept.bucket}: ${problems.join('; ')}. Before it runs, put the bucket's lifecycle back as the stack defines it, which a redeploy does not do ` +
      `(aws s3api put-bucket-lifecycle-configuration --bucket ${kept.bucket} with the packaged template's LifecycleConfiguration of TranscriptBucket, or without those rules on a bucket of your own). ` +
      'On a versioned bucket, as the stack makes it, an expired object stays as an old version behind a delete marker until the old-version rule deletes it: deleting the marker (aws s3api delete-object --version-id) brings it back',
  };
}
