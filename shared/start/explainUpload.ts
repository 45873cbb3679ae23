/**
 * `tkp explain <key>`: what the pipeline will do with one upload, told with the very functions
 * the start function and the verifier run (rule match, skip decision, job name, request, key
 * resolution, demand), so the explanation cannot drift from the behaviour. It is the first thing
 * to run when someone asks "why did my file get this key?".
 */
import { jobNameFor } from '../aws/jobName';
import { JOB_TYPE_FACTS, type JobType } from '../aws/jobTypes';
import { encodeS3EventKey } from '../aws/s3Location';
import type { ExpectedEncryption } from '../config/expectedEncryption';
import type { ResolvedKey } from '../config/keyResolution';
import type { Rule } from '../config/rule';
import { matchRule, type RuleIndex } from '../config/ruleIndex';
import { demandForRule, type DemandSources } from '../verify/ruleDemand';
import { classifyObject } from './mediaObject';
import { decodeS3Key } from './s3Notification';
import { buildJobRequest, type JobRequest } from './startRequest';

export interface ExplainInput {
  /** The key exactly as stored in S3 (as the uploader wrote it). */
  key: string;
  rules: readonly Rule[];
  ruleIndex: RuleIndex<Rule>;
  inputBucket: string;
  transcriptBucket: string;
  jobNamePrefix: string;
  /** What HeadObject (or the operator) says of the object; size and version are unknown without it. */
  object?: { size?: number; versionId?: string; eTag?: string };
  /** How the object is stored, from HeadObject, with its KMS key as DescribeKey answered. */
  media?: MediaEncryption;
}

/** An object's server-side encryption, and its KMS key's ARN and state (or why they are unknown). */
export interface MediaEncryption {
  serverSideEncryption: string;
  kmsKey?: { id: string; arn?: string; state?: string; error?: string };
}

export interface RuleConsidered {
  prefix: string;
  wins: boolean;
  reason: string;
}

export interface Explanation {
  key: string;
  /** The key as S3 writes it in event notifications (what the start function receives and decodes). */
  eventKey: string;
  winner: string | null;
  considered: RuleConsidered[];
  /** Rules whose prefix simply does not match (not listed one by one). */
  unrelatedRules: number;
  /** `transcribe`, or why the object is skipped; `unknown` parts are said in `notes`. */
  decision: { action: 'transcribe'; mediaFormat?: string } | { action: 'skip' | 'dead-letter'; reason: string } | null;
  jobName: string | null;
  /** The winning rule's job type, and the Start operation the request goes to. */
  jobType: JobType | null;
  operation: string | null;
  request: JobRequest['input'] | null;
  keyArn: string | null;
  demand: (ExpectedEncryption & { output: string }) | null;
  /** How the upload itself is stored (known once the object was read). */
  media: MediaEncryption | null;
  notes: string[];
}

/** Where key and demand come from; absent without credentials. */
export type ExplainLookups = DemandSources | undefined;

export async function explainUpload(input: ExplainInput, lookups: ExplainLookups): Promise<Explanation> {
  const { key } = input;
  const notes: string[] = [];
  const winner = matchRule(input.ruleIndex, key);
  const considered: RuleConsidered[] = [];
  let unrelatedRules = 0;
  const composedKey = key.normalize('NFC');
  for (const rule of input.rules) {
    // Rules match keys composed (ruleIndex.ts): a key and a prefix may spell an accented letter differently.
    const spelledApart = !key.startsWith(rule.prefix) ? SPELLED_APART : '';
    if (rule === winner) considered.push({ prefix: rule.prefix, wins: true, reason: `the longest prefix of the key among the rules${spelledApart}` });
    else if (composedKey.startsWith(rule.prefix.normalize('NFC'))) considered.push({ prefix: rule.prefix, wins: false, reason: `matches${spelledApart}, but ${JSON.stringify(winner?.prefix)} is longer (the longest prefix wins)` });
    else {
      const nearMiss = nearMissReason(key, rule.prefix);
      if (nearMiss) considered.push({ prefix: rule.prefix, wins: false, reason: nearMiss });
      else unrelatedRules++;
    }
  }
  const base: Explanation = {
    key,
    eventKey: encodeS3EventKey(key),
    winner: winner?.prefix ?? null,
    considered,
    unrelatedRules,
    decision: null,
    jobName: null,
    jobType: winner?.job.jobType ?? null,
    operation: winner ? JOB_TYPE_FACTS[winner.job.jobType].startOperation : null,
    request: null,
    keyArn: null,
    demand: null,
    media: input.media ?? null,
    notes,
  };
  if (!winner) {
    notes.push('no rule matches: the start function skips this object ("no rule matches the key"), and no job is started');
    return base;
  }

  const size = input.object?.size;
  if (size === undefined) notes.push('size unknown (the object was not read; pass --size or let explain read it with credentials), so the size checks were not made');
  const decision = classifyObject({ key, size: size ?? 1 });
  base.decision = decision.action === 'transcribe' ? { action: 'transcribe', ...(decision.mediaFormat && { mediaFormat: decision.mediaFormat }) } : decision;
  if (decision.action !== 'transcribe') return base;

  const object = { bucket: input.inputBucket, key, size: size ?? 0, ...(input.object?.versionId && { versionId: input.object.versionId }), ...(input.object?.eTag && { eTag: input.object.eTag }) };
  if (!input.object?.versionId && !input.object?.eTag) {
    notes.push('the job name depends on the object version (its version ID, else its ETag); none is known, so the name shown is for an empty ETag');
  }
  base.jobName = jobNameFor(input.jobNamePrefix, object, winner.job.jobType);
  const unreadable = input.media && unreadableMediaReason(input.media);
  if (unreadable) notes.push(unreadable);

  let key_: ResolvedKey | undefined;
  if (winner.kmsKey) {
    if (lookups) {
      try {
        key_ = await lookups.resolveKey({ ...winner, kmsKey: winner.kmsKey });
        base.keyArn = key_.arn;
      } catch (error) {
        notes.push(`the key cannot be resolved: ${(error as Error).message}`);
      }
    } else {
      notes.push(`without credentials, ${winner.kmsKey.value} is not resolved; the start function sends the key ARN it resolves to`);
    }
  }
  base.request = buildJobRequest({
    object,
    rule: winner,
    ...(decision.mediaFormat && { mediaFormat: decision.mediaFormat }),
    jobName: base.jobName,
    ...(winner.kmsKey && { key: key_ ?? { arn: `<the key ARN of ${winner.kmsKey.value}>`, account: '' } }),
    outputBucket: winner.output.bucket ?? input.transcriptBucket,
  }).input;

  if (lookups) {
    try {
      const demand = await demandForRule(lookups, winner);
      base.demand = { ...demand.expected, output: `s3://${demand.output.bucket}/${demand.output.key}` };
    } catch (error) {
      notes.push(`what the verifier demands cannot be read now: ${(error as Error).message}`);
    }
  } else {
    notes.push(
      winner.kmsKey
        ? `the verifier will demand aws:kms under the key ARN that ${winner.kmsKey.value} resolves to when the job finishes`
        : `the verifier will demand the default encryption of s3://${winner.output.bucket ?? input.transcriptBucket} (SSE-S3, or the bucket's KMS key)`,
    );
  }
  return base;
}

/** What makes the media's key usable again, where enabling it does not. */
const MEDIA_KEY_FIXES: Record<string, string> = {
  PendingDeletion: "cancel the key's deletion and enable it",
  PendingImport: "import the key's material again",
};

/**
 * Why Transcribe cannot read an upload stored under a KMS key, as far as the key's own state
 * tells: S3 decrypts nothing under a key that is not Enabled. Undefined when the key is usable or
 * the object is not under KMS; whether its key policy lets the start role decrypt is not visible
 * here (see tkp check's input bucket row).
 */
export function unreadableMediaReason(media: MediaEncryption): string | undefined {
  const key = media.kmsKey;
  if (!key || key.state === 'Enabled') return undefined;
  const named = key.arn ?? key.id;
  const why = key.state ? `is ${key.state}` : `cannot be described (${key.error ?? 'no answer'})`;
  const fix = key.state ? (MEDIA_KEY_FIXES[key.state] ?? 'enable the key') : 'make the key usable';
  return `the media is stored under the KMS key ${named}, which ${why}: Transcribe cannot read it, so its job would fail (Transcription Failed); ${fix}, or upload the media again under a usable key`;
}

/** Why a rule matches a key that does not start with its prefix byte for byte. */
const SPELLED_APART =
  ', once both are composed: the key and the prefix spell an accented letter differently (one composed, NFC, the other decomposed, NFD, as a Mac may name a file); ' +
  'the rule takes any spelling, and the stack\'s notifications and the start role\'s permissions name every one, folder by folder';

/**
 * Why a rule that looks right does not match: the mistakes uploaders and config writers make.
 * Undefined for a rule that is simply unrelated.
 */
export function nearMissReason(key: string, prefix: string): string | undefined {
  if (prefix === '') return undefined;
  if (key.toLowerCase().startsWith(prefix.toLowerCase())) return 'matches only when case is ignored; S3 keys are case-sensitive';
  if (key.startsWith('/') && key.slice(1).startsWith(prefix)) return 'matches without the key\'s leading "/"; S3 keys have no leading slash, so this key is another key';
  if (key.includes('\\') && key.replace(/\\/g, '/').startsWith(prefix)) {
    return 'matches if its "\\" were "/": a Windows tool wrote its path separator into the key, which S3 keeps as a character, so this key is in no folder; upload it again with "/"';
  }
  const decoded = tryDecodeEventKey(key);
  if (decoded !== undefined && decoded !== key && decoded.startsWith(prefix)) {
    return 'matches the key decoded as S3 encodes event keys; if you copied the key from an event or a log, pass --from-event';
  }
  return undefined;
}

function tryDecodeEventKey(key: string): string | undefined {
  try {
    return decodeS3Key(key);
  } catch {
    return undefined;
  }
}
