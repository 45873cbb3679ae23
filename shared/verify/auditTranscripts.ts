/**
 * `tkp audit`: every transcript already stored, judged against what its rule demands today, with
 * the verifier's own demand (ruleDemand.ts) and comparison (encryptionVerdict.ts). It streams:
 * the listing is consumed page by page by a bounded pool of HEADs, and only findings and counts
 * are kept, so 100,000 objects take no more memory than 1,000.
 *
 * A transcript is mapped to its rule by where it lies. Where several rules share an output
 * location, the verdict ledger says which rule judged the job: first through the rule markers,
 * read by listing `verdicts/_rules/` once; else through the job's verdict record, read only for
 * that transcript. A transcript that nothing maps is reported by its location alone.
 */
import { s3Uri, type S3Location } from '../aws/s3Location';
import { isServiceJobName } from '../aws/jobName';
import { MEDIA_FORMATS, WRITE_ACCESS_PROBE_NAME } from '../aws/transcribeModel';
import { ruleFingerprint, type ExpectedEncryption } from '../config/expectedEncryption';
import { VERDICT_PREFIX } from '../config/reservedPrefixes';
import type { Rule } from '../config/rule';
import { buildRuleIndex, matchRule, type RuleIndex } from '../config/ruleIndex';
import { coveringPrefixes, narrowPrefixes } from '../config/notificationPrefixes';
import { verifyTranscriptEncryption } from './encryptionVerdict';
import { verdictLedgerId, type VerdictRecord } from './verdictLedger';
import type { HeadResult } from './verifyJob';

export interface ListedObject {
  key: string;
  lastModified?: Date;
}

export interface AuditDependencies {
  /** Every object under a prefix, page by page (ListObjectsV2). */
  listObjects(bucket: string, prefix: string): AsyncIterable<ListedObject>;
  /** HeadObject; throws when the object cannot be read (a refused permission). */
  headObject(location: S3Location): Promise<HeadResult>;
  /** The rule markers of the ledger: a job's ledger ID (verdictLedgerId) to its rule's fingerprint. */
  ruleMarkers(): AsyncIterable<{ ledgerId: string; ruleFingerprint: string }>;
  /** A job's verdict record by its ledger ID (verdictLedgerId), or undefined when the ledger has none. */
  readVerdict(ledgerId: string): Promise<VerdictRecord | undefined>;
  /** What the rule demands today (demandForRule); cached by the caller. */
  demand(rule: Rule): Promise<ExpectedEncryption>;
}

export interface AuditScope {
  rules: readonly Rule[];
  ruleIndex: RuleIndex<Rule>;
  transcriptBucket: string;
  jobNamePrefix: string;
  /** Only transcripts whose key starts with this. */
  prefix?: string;
  /** Only transcripts modified after this moment. */
  since?: Date;
  concurrency: number;
}

export type AuditStatus = 'compliant' | 'wrong-key' | 'no-kms' | 'unreadable' | 'deleted';

export interface AuditedObject {
  uri: string;
  /** The rule the object was judged by; null when nothing maps it (see `candidates`). */
  rulePrefix: string | null;
  /** The rules whose output location holds it. */
  candidates: string[];
  jobName: string | null;
  source: string | null;
  status: AuditStatus;
  serverSideEncryption: string | null;
  kmsKeyArn: string | null;
  expected: string;
  problem: string | null;
  lastModified: string | null;
}

export interface AuditCounts {
  objects: number;
  compliant: number;
  wrongKey: number;
  noKms: number;
  unreadable: number;
  deleted: number;
}

export interface AuditReport {
  /** One row per rule, plus one per location for transcripts nothing maps. */
  summary: ({ rule: string } & AuditCounts)[];
  totals: AuditCounts;
  /** Every object that is not compliant (deleted ones included: they are reported, not failed). */
  findings: AuditedObject[];
  /** How many verdict records had to be read because no marker mapped the transcript. */
  recordsRead: number;
}

const COUNT_FIELD: Record<AuditStatus, keyof AuditCounts> = {
  compliant: 'compliant',
  'wrong-key': 'wrongKey',
  'no-kms': 'noKms',
  unreadable: 'unreadable',
  deleted: 'deleted',
};

const emptyCounts = (): AuditCounts => ({ objects: 0, compliant: 0, wrongKey: 0, noKms: 0, unreadable: 0, deleted: 0 });

/** The rules' output locations that overlap the audit's prefix, without listing any object twice. */
export function auditLocations(scope: Pick<AuditScope, 'rules' | 'transcriptBucket' | 'prefix'>): S3Location[] {
  return [...outputPrefixesByBucket(scope)].flatMap(([bucket, byPrefix]) =>
    narrowPrefixes(coveringPrefixes([...byPrefix.keys()]), scope.prefix).map((key) => ({ bucket, key })),
  );
}

/** Per output bucket, the rules by the output prefix they write under. */
function outputPrefixesByBucket(scope: Pick<AuditScope, 'rules' | 'transcriptBucket'>): Map<string, Map<string, Rule[]>> {
  const byBucket = new Map<string, Map<string, Rule[]>>();
  for (const rule of scope.rules) {
    const bucket = rule.output.bucket ?? scope.transcriptBucket;
    const byPrefix = byBucket.get(bucket) ?? new Map<string, Rule[]>();
    byPrefix.set(rule.output.prefix, [...(byPrefix.get(rule.output.prefix) ?? []), rule]);
    byBucket.set(bucket, byPrefix);
  }
  return byBucket;
}

/**
 * The job a transcript belongs to: Transcribe writes `<output prefix><job name>.json`, and with
 * redaction `redacted-<job name>.json`; subtitles end in `.srt` or `.vtt`; a Call Analytics
 * job's redacted audio is `redacted-<job name>` in the media's format.
 */
export function jobNameOfOutput(key: string, outputPrefix: string): string | undefined {
  const name = key.slice(outputPrefix.length);
  if (name.includes('/')) return undefined;
  const match = OUTPUT_NAME.exec(name);
  return match?.[1];
}

const OUTPUT_NAME = new RegExp(`^(?:redacted-)?(.+)\\.(?:json|srt|vtt|${MEDIA_FORMATS.join('|')})$`);

export async function auditTranscripts(deps: AuditDependencies, scope: AuditScope, onObject: (object: AuditedObject) => void = () => undefined): Promise<AuditReport> {
  const ruleByFingerprint = new Map(scope.rules.map((rule) => [ruleFingerprint(rule), rule]));
  const markers = new Map<string, string>();
  for await (const marker of deps.ruleMarkers()) markers.set(marker.ledgerId, marker.ruleFingerprint);

  // Per bucket, the longest output prefix of a key names its candidates: the rule index's match.
  const outputIndex = new Map(
    [...outputPrefixesByBucket(scope)].map(([bucket, byPrefix]) => [bucket, buildRuleIndex([...byPrefix].map(([prefix, rules]) => ({ prefix, rules })))] as const),
  );
  const demands = new Map<Rule, Promise<ExpectedEncryption>>();
  const demandOf = (rule: Rule) => {
    let demand = demands.get(rule);
    if (!demand) {
      demand = deps.demand(rule);
      demands.set(rule, demand);
    }
    return demand;
  };

  const summary = new Map<string, { rule: string } & AuditCounts>(scope.rules.map((rule) => [rule.prefix, { rule: rule.prefix, ...emptyCounts() }]));
  const totals = emptyCounts();
  const findings: AuditedObject[] = [];
  let recordsRead = 0;

  const judgeOne = async (bucket: string, listed: ListedObject): Promise<AuditedObject | undefined> => {
    if (bucket === scope.transcriptBucket && listed.key.startsWith(VERDICT_PREFIX)) return undefined;
    if (listed.key.endsWith('/') || listed.key.endsWith(`/${WRITE_ACCESS_PROBE_NAME}`) || listed.key === WRITE_ACCESS_PROBE_NAME) return undefined;
    if (scope.since && listed.lastModified && listed.lastModified <= scope.since) return undefined;
    const index = outputIndex.get(bucket);
    const output = index && matchRule(index, listed.key);
    const outputPrefix = output?.prefix;
    const candidates = output?.rules ?? [];
    const location = { bucket, key: listed.key };
    const jobName = outputPrefix === undefined ? undefined : jobNameOfOutput(listed.key, outputPrefix);
    const ours = jobName !== undefined && isServiceJobName(scope.jobNamePrefix, jobName);

    let rule: Rule | undefined = candidates.length === 1 ? candidates[0] : undefined;
    let source: string | null = null;
    if (!rule && ours) {
      // A marker of the candidates' job types only: a same-named job of another type is another job.
      for (const candidate of candidates) {
        const marked = ruleByFingerprint.get(markers.get(verdictLedgerId(jobName, candidate.job.jobType)) ?? '');
        if (marked && candidates.includes(marked)) rule = marked;
      }
    }
    const readSource = async () => {
      if (!ours) return undefined;
      // The ledger keeps each job type's verdicts apart (verdictLedgerId): look where the candidates' types would be.
      for (const jobType of new Set(candidates.map((candidate) => candidate.job.jobType))) {
        recordsRead++;
        const media = (await deps.readVerdict(verdictLedgerId(jobName, jobType)))?.detail.source;
        if (media?.bucket && media.key) return { uri: s3Uri({ bucket: media.bucket, key: media.key }), key: media.key };
      }
      return undefined;
    };
    if (!rule && candidates.length > 1) {
      const found = await readSource();
      if (found) {
        source = found.uri;
        rule = matchRule(scope.ruleIndex, found.key);
      }
    }

    const head = await deps.headObject(location).then(
      (result) => result,
      (error: unknown) => ({ found: 'error' as const, error }),
    );
    const base = {
      uri: s3Uri(location),
      candidates: candidates.map((c) => c.prefix),
      jobName: jobName ?? null,
      lastModified: listed.lastModified?.toISOString() ?? null,
    };
    const judgedBy = rule ? [rule] : candidates;
    let expectations: ExpectedEncryption[];
    try {
      expectations = await Promise.all(judgedBy.map(demandOf));
    } catch (error) {
      // The rule's key cannot be described (deleted, or DescribeKey refused): nothing says what the
      // transcript must be, so it is reported as not judged rather than ending the audit.
      const problem = `cannot be judged: ${error instanceof Error ? error.message : String(error)}`;
      return { ...base, rulePrefix: rule?.prefix ?? null, source, status: 'unreadable', serverSideEncryption: null, kmsKeyArn: null, expected: 'unknown', problem };
    }
    const expectedText = expectations.map(describeExpectation).join(' or ');
    if (head.found === 'error') {
      return { ...base, rulePrefix: rule?.prefix ?? null, source, status: 'unreadable', serverSideEncryption: null, kmsKeyArn: null, expected: expectedText, problem: head.error instanceof Error ? head.error.message : String(head.error) };
    }
    if (!head.found) {
      return { ...base, rulePrefix: rule?.prefix ?? null, source, status: 'deleted', serverSideEncryption: null, kmsKeyArn: null, expected: expectedText, problem: 'deleted during the audit (listed, then not found)' };
    }
    const observed = {
      uri: base.uri,
      ...(head.serverSideEncryption !== undefined && { serverSideEncryption: head.serverSideEncryption }),
      ...(head.kmsKeyArn !== undefined && { kmsKeyArn: head.kmsKeyArn }),
    };
    // Unmapped: compliant only if it satisfies one of the rules that write here.
    const verdicts = expectations.map((expected) => verifyTranscriptEncryption(expected, [observed]));
    const passed = verdicts.some((v) => v.verdict === 'verified');
    if (!passed && source === null) source = (await readSource().catch(() => undefined))?.uri ?? null;
    const first = verdicts[0];
    return {
      ...base,
      rulePrefix: rule?.prefix ?? null,
      source,
      status: passed ? 'compliant' : head.serverSideEncryption === 'aws:kms' || head.serverSideEncryption === 'aws:kms:dsse' ? 'wrong-key' : 'no-kms',
      serverSideEncryption: head.serverSideEncryption ?? null,
      kmsKeyArn: head.kmsKeyArn ?? null,
      expected: expectedText,
      problem: !passed && first?.verdict === 'mismatch' ? first.problems.join('; ') : null,
    };
  };

  const record = (audited: AuditedObject) => {
    const label = audited.rulePrefix ?? `(no ledger record) ${audited.uri.slice(0, audited.uri.lastIndexOf('/') + 1)}`;
    const row = summary.get(label) ?? { rule: label, ...emptyCounts() };
    summary.set(label, row);
    for (const counts of [row, totals]) {
      counts.objects++;
      counts[COUNT_FIELD[audited.status]]++;
    }
    if (audited.status !== 'compliant') findings.push(audited);
    onObject(audited);
  };

  for (const location of auditLocations(scope)) {
    const listing = deps.listObjects(location.bucket, location.key)[Symbol.asyncIterator]();
    const worker = async () => {
      for (;;) {
        const next = await listing.next();
        if (next.done) return;
        const audited = await judgeOne(location.bucket, next.value);
        if (audited) record(audited);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, scope.concurrency) }, worker));
  }
  return { summary: [...summary.values()], totals, findings, recordsRead };
}

export function describeExpectation(expected: ExpectedEncryption): string {
  return expected.serverSideEncryption === 'aws:kms' ? `aws:kms ${expected.kmsKeyArn}` : 'AES256 (SSE-S3)';
}
