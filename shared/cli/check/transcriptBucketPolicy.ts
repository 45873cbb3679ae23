/**
 * `tkp check`'s "transcript bucket policy" row: whether the transcript bucket's policy still
 * refuses the writes a forger needs, judged by what it does rather than by statement names. Each
 * probe is one PutObject (a principal, a key, with or without a conditional-write header) that
 * the policy's Deny statements either refuse or not:
 * - the verdict ledger: anyone but the verifiers refused, and a verifier refused without a
 *   conditional write, but not with one (LedgerWritesOnlyByVerifiers, LedgerWritesOnlyConditional);
 * - each rule's transcripts in that bucket: anyone but the stack's roles refused, and the start
 *   role (whose credentials Transcribe writes with) and the data access role not (WritesOnlyByThisStack).
 * A forger refused PutObject is probed again as S3 replication from a bucket of theirs writes, with
 * s3:ReplicateObject, which a Deny of PutObject alone lets through.
 * Only Deny statements are read: an Allow in a bucket policy cannot overrule them. A condition
 * operator it does not evaluate makes the row say so rather than guess.
 */
import { VERDICT_PREFIX } from '../../config/reservedPrefixes';
import { PUT_BACK_README, STACK_ROW, type CheckRow } from './checkRow';
import { deniesRequest, list, principalContext, type PolicyStatement } from './policyStatement';

/** One PutObject as the policy sees it. */
export interface WriteProbe {
  principalArn: string;
  key: string;
  /** Sent with If-None-Match, as the verifiers claim a verdict. */
  conditional: boolean;
  /** The write's action: s3:PutObject, or s3:ReplicateObject as S3 replication from another bucket writes. */
  action?: 's3:PutObject' | 's3:ReplicateObject';
}

/** The bucket policy's statements; `null` when the bucket has no policy. */
export type BucketPolicyAnswer = { statements: PolicyStatement[] | null } | { error: string };

export interface BucketWriters {
  bucket: string;
  partition: string;
  /** Role ARNs, by what the stack names them. */
  verifiers: string[];
  start: string;
  dataAccess?: string;
  /** Each rule's output prefix in this bucket. */
  transcriptPrefixes: string[];
  /** A principal of the account that is none of the stack's. */
  outsider: string;
}

/**
 * What the probe's request carries for the condition keys it knows (undefined: known to be
 * absent). Any other key (a VPC endpoint, an encryption header) is one it cannot judge.
 */
function contextOf(probe: WriteProbe): Record<string, string | undefined> {
  return {
    ...principalContext(probe.principalArn),
    's3:if-none-match': probe.conditional ? '*' : undefined,
    's3:if-match': undefined,
  };
}

/** Whether the policy's Deny statements refuse the probe; a string when one uses an operator this does not evaluate. */
export function deniesWrite(statements: readonly PolicyStatement[], bucket: { name: string; partition: string }, probe: WriteProbe): boolean | string {
  return deniesRequest(statements, { principal: probe.principalArn, action: probe.action ?? 's3:PutObject', resource: `arn:${bucket.partition}:s3:::${bucket.name}/${probe.key}`, context: contextOf(probe) });
}

const LEDGER_PROBE_KEY = `${VERDICT_PREFIX}tkp-check-probe.json`;

/** The stack's roles that write into the bucket: Transcribe's (the start role, the data access role), and the verifiers. */
const transcribeWriters = (writers: BucketWriters) => [writers.start, ...(writers.dataAccess ? [writers.dataAccess] : [])];

/**
 * Principals a Deny statement spares by name (aws:PrincipalArn) that are none of the stack's, each
 * as one concrete ARN: someone who added themselves to the exemption is then probed as themselves.
 */
function sparedOthers(statements: readonly PolicyStatement[], writers: BucketWriters): string[] {
  const own = new Set([...writers.verifiers, ...transcribeWriters(writers)]);
  const spared = statements
    .filter((statement) => statement.Effect === 'Deny')
    .flatMap((statement) =>
      Object.entries(statement.Condition ?? {}).flatMap(([operator, entries]) =>
        operator === 'Null' ? [] : Object.entries(entries).flatMap(([key, values]) => (key.toLowerCase() === 'aws:principalarn' ? list(values) : [])),
      ),
    );
  return [...new Set(spared.filter((arn) => arn.startsWith('arn:') && !own.has(arn)).map((arn) => arn.replace(/[*?]/g, 'x')))];
}

/**
 * The writes the policy must refuse and the ones it must let through, each with what it would
 * mean otherwise and, for a forger's write, the statement of the stack's policy that refuses it.
 */
function probes(writers: BucketWriters, spared: string[]): { probe: WriteProbe; refused: boolean; otherwise: string; guard?: string; replicated?: string }[] {
  const [verifier = ''] = writers.verifiers;
  const ledger = (principalArn: string, conditional: boolean) => ({ principalArn, key: LEDGER_PROBE_KEY, conditional });
  const others = [{ arn: writers.outsider, who: 'anyone in the account' }, { arn: writers.start, who: 'the start role' }, ...spared.map((arn) => ({ arn, who: arn }))];
  return [
    ...others.map(({ arn, who }) => ({
      probe: ledger(arn, true),
      refused: true,
      otherwise: `${who} may write the verdict ledger ${VERDICT_PREFIX}`,
      guard: 'LedgerWritesOnlyByVerifiers',
      replicated: `${who} may replicate objects into the verdict ledger ${VERDICT_PREFIX} from a bucket of theirs, which S3 writes with s3:ReplicateObject`,
    })),
    { probe: ledger(verifier, false), refused: true, otherwise: 'a verifier may overwrite a verdict without a conditional write', guard: 'LedgerWritesOnlyConditional' },
    ...writers.verifiers.map((arn) => ({ probe: ledger(arn, true), refused: false, otherwise: `the policy refuses ${arn} its claim of a verdict, so no verdict can be recorded` })),
    ...writers.transcriptPrefixes.flatMap((prefix) => {
      const key = `${prefix}tkp-check-probe.json`;
      return [
        ...others
          .filter(({ arn }) => arn !== writers.start)
          .map(({ arn, who }) => ({
            probe: { principalArn: arn, key, conditional: false },
            refused: true,
            otherwise: `${who} may replace a transcript under ${prefix} with one under another key`,
            guard: 'WritesOnlyByThisStack',
            replicated: `${who} may replicate an object under another key over a transcript under ${prefix} from a bucket of theirs, which S3 writes with s3:ReplicateObject`,
          })),
        ...transcribeWriters(writers).map((arn) => ({
          probe: { principalArn: arn, key, conditional: false },
          refused: false,
          otherwise: `the policy refuses ${arn} writes under ${prefix}, so Transcribe cannot write the transcripts`,
        })),
      ];
    }),
  ];
}

export function transcriptBucketPolicyRow(answer: BucketPolicyAnswer, writers: BucketWriters): CheckRow {
  const row = { rule: STACK_ROW, check: 'transcript bucket policy' };
  if ('error' in answer) {
    return { ...row, ok: false, detail: `the policy of s3://${writers.bucket} cannot be read (${answer.error}); the caller needs s3:GetBucketPolicy to tell whether it refuses forged verdicts and rewritten transcripts` };
  }
  const statements = answer.statements ?? [];
  const bucket = { name: writers.bucket, partition: writers.partition };
  const problems = new Set<string>();
  // A statement it cannot evaluate fails the row only where it is all that stands between a forger and a write.
  const unjudged = new Set<string>();
  for (const { probe, refused, otherwise, guard, replicated } of probes(writers, sparedOthers(statements, writers))) {
    const denied = deniesWrite(statements, bucket, probe);
    if (typeof denied === 'string') {
      if (refused) problems.add(`${denied}, which tkp check does not evaluate, so it cannot tell whether ${otherwise}: check that statement by hand`);
      else unjudged.add(denied);
    } else if (denied !== refused) {
      problems.add(guard ? `${otherwise} (${guard})` : otherwise);
    } else if (replicated) {
      // PutObject refused: replication from a bucket of the forger's writes with another action, which must be refused too.
      const viaReplication = deniesWrite(statements, bucket, { ...probe, action: 's3:ReplicateObject' });
      if (typeof viaReplication === 'string') problems.add(`${viaReplication}, which tkp check does not evaluate, so it cannot tell whether ${replicated}: check that statement by hand`);
      else if (!viaReplication) problems.add(`${replicated} (${guard})`);
    }
  }
  const notJudged = unjudged.size > 0 ? `; not evaluated: ${[...unjudged].join(', ')} (it must let the stack's own writes through)` : '';
  if (problems.size === 0) {
    return { ...row, ok: true, detail: `s3://${writers.bucket}: the verdict ledger is written by the verifiers alone, conditionally, and transcripts by the stack's roles alone${notJudged}` };
  }
  return {
    ...row,
    ok: false,
    detail:
      `s3://${writers.bucket}${answer.statements ? '' : ' has no bucket policy'}: ${[...problems].join('; ')}${notJudged}. ` +
      `put the policy of the bucket the stack creates back as the stack defines it, which a redeploy does not do (${PUT_BACK_README}); a transcript bucket of your own needs the statements LedgerWritesOnlyByVerifiers, LedgerWritesOnlyConditional and WritesOnlyByThisStack (README: "The verdict ledger")`,
  };
}
