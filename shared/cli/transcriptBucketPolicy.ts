/**
 * `tkp check`'s "transcript bucket policy" row: whether the transcript bucket's policy still
 * refuses the writes a forger needs, judged by what it does rather than by statement names. Each
 * probe is one PutObject (a principal, a key, with or without a conditional-write header) that
 * the policy's Deny statements either refuse or not:
 * - the verdict ledger: anyone but the verifiers refused, and a verifier refused without a
 *   conditional write, but not with one (LedgerWritesOnlyByVerifiers, LedgerWritesOnlyConditional);
 * - each rule's transcripts in that bucket: anyone but the stack's roles refused, and the start
 *   role (whose credentials Transcribe writes with) and the data access role not (WritesOnlyByThisStack).
 * Only Deny statements are read: an Allow in a bucket policy cannot overrule them. A condition
 * operator it does not evaluate makes the row say so rather than guess.
 */
import { VERDICT_PREFIX } from '../config/reservedPrefixes';
import { STACK_ROW, type CheckRow } from '../start/preflightChecks';
import { glob, list, type PolicyStatement } from './policyStatement';

/** One PutObject as the policy sees it. */
export interface WriteProbe {
  principalArn: string;
  key: string;
  /** Sent with If-None-Match, as the verifiers claim a verdict. */
  conditional: boolean;
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

function principalMatches(principal: unknown, arn: string): boolean {
  if (principal === '*') return true;
  const aws = list((principal as { AWS?: unknown } | undefined)?.AWS);
  return aws.some((candidate) => candidate === '*' || candidate === arn);
}

/**
 * What the probe's request carries for the condition keys it knows (undefined: known to be
 * absent). Any other key (a VPC endpoint, an encryption header) is one it cannot judge.
 */
function contextOf(probe: WriteProbe): Record<string, string | undefined> {
  return {
    'aws:principalarn': probe.principalArn,
    'aws:principalaccount': probe.principalArn.split(':')[4],
    'aws:securetransport': 'true',
    's3:if-none-match': probe.conditional ? '*' : undefined,
    's3:if-match': undefined,
  };
}

const OPERATORS: Record<string, (values: string[], actual: string) => boolean> = {
  StringEquals: (values, actual) => values.includes(actual),
  StringLike: (values, actual) => values.some((value) => glob(value, actual)),
  ArnEquals: (values, actual) => values.some((value) => glob(value, actual)),
  ArnLike: (values, actual) => values.some((value) => glob(value, actual)),
  Bool: (values, actual) => values.some((value) => value.toLowerCase() === actual.toLowerCase()),
};

/** Whether a statement's conditions hold for the probe's request; a string names an operator it does not evaluate. */
function conditionsHold(condition: PolicyStatement['Condition'], context: Record<string, string | undefined>): boolean | string {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      if (!(key.toLowerCase() in context)) return `${operator} on ${key}`;
      const actual = context[key.toLowerCase()];
      const values = list(expected);
      if (operator === 'Null') {
        if ((values[0] === 'true') !== (actual === undefined)) return false;
        continue;
      }
      const negated = /^(String|Arn)Not(Equals|Like)$/.exec(operator);
      const positive = negated ? `${negated[1]}${negated[2]}` : operator;
      const test = OPERATORS[positive];
      if (!test) return operator;
      // A key the request does not carry matches no value, so a negated operator holds.
      const matches = actual !== undefined && test(values, actual);
      if (negated ? matches : !matches) return false;
    }
  }
  return true;
}

/** Whether the policy's Deny statements refuse the probe; a string when one uses an operator this does not evaluate. */
export function deniesWrite(statements: readonly PolicyStatement[], bucket: { name: string; partition: string }, probe: WriteProbe): boolean | string {
  const resource = `arn:${bucket.partition}:s3:::${bucket.name}/${probe.key}`;
  const context = contextOf(probe);
  let unknown: string | undefined;
  for (const statement of statements) {
    if (statement.Effect !== 'Deny') continue;
    if (statement.Principal !== undefined && !principalMatches(statement.Principal, probe.principalArn)) continue;
    if (statement.NotPrincipal !== undefined && principalMatches(statement.NotPrincipal, probe.principalArn)) continue;
    if (statement.Action !== undefined && !list(statement.Action).some((action) => glob(action, 's3:PutObject', true))) continue;
    if (statement.NotAction !== undefined && list(statement.NotAction).some((action) => glob(action, 's3:PutObject', true))) continue;
    if (statement.Resource !== undefined && !list(statement.Resource).some((pattern) => glob(pattern, resource))) continue;
    if (statement.NotResource !== undefined && list(statement.NotResource).some((pattern) => glob(pattern, resource))) continue;
    const holds = conditionsHold(statement.Condition, context);
    if (holds === true) return true;
    if (typeof holds === 'string') unknown = `${statement.Sid ?? 'a statement'} uses ${holds}`;
  }
  return unknown ?? false;
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
function probes(writers: BucketWriters, spared: string[]): { probe: WriteProbe; refused: boolean; otherwise: string; guard?: string }[] {
  const [verifier = ''] = writers.verifiers;
  const ledger = (principalArn: string, conditional: boolean) => ({ principalArn, key: LEDGER_PROBE_KEY, conditional });
  const others = [{ arn: writers.outsider, who: 'anyone in the account' }, { arn: writers.start, who: 'the start role' }, ...spared.map((arn) => ({ arn, who: arn }))];
  return [
    ...others.map(({ arn, who }) => ({ probe: ledger(arn, true), refused: true, otherwise: `${who} may write the verdict ledger ${VERDICT_PREFIX}`, guard: 'LedgerWritesOnlyByVerifiers' })),
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
  for (const { probe, refused, otherwise, guard } of probes(writers, sparedOthers(statements, writers))) {
    const denied = deniesWrite(statements, bucket, probe);
    if (typeof denied === 'string') {
      if (refused) problems.add(`${denied}, which tkp check does not evaluate, so it cannot tell whether ${otherwise}: check that statement by hand`);
      else unjudged.add(denied);
    } else if (denied !== refused) {
      problems.add(guard ? `${otherwise} (${guard})` : otherwise);
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
      `put the policy of the bucket the stack creates back as the stack defines it, which a redeploy does not do (README: "Putting back what changed outside a deploy"); a transcript bucket of your own needs the statements LedgerWritesOnlyByVerifiers, LedgerWritesOnlyConditional and WritesOnlyByThisStack (README: "The verdict ledger")`,
  };
}
