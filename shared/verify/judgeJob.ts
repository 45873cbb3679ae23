/**
 * The verdict on a completed job, as a pure function of what the deployed config demands, what
 * the job's tags recorded, and what HeadObject saw. The config is the authority; the tags are
 * evidence that explains a disagreement, never a way to pass one.
 */
import { TAG } from '../aws/jobTags';
import { s3Uri, type S3Location } from '../aws/s3Location';
import { ruleFingerprint, type ExpectedEncryption } from '../config/expectedEncryption';
import { verifyTranscriptEncryption, type ObservedObject } from './encryptionVerdict';
import type { Rule } from '../config/rule';
import type { MismatchCause } from './outcomeEvent';

/** What the deployed config demands of a job's outputs, found from the job's media URI. */
export interface Demand {
  rule?: Rule;
  expected?: ExpectedEncryption;
  /** Where the rule writes transcripts. */
  output?: S3Location;
  /** Set when no rule applies: the verdict is then a `no-rule` mismatch with this problem. */
  problem?: string;
}

export interface JudgeInput {
  demand: Demand;
  /** What the tags say was asked (AES256 there means: no key was asked), or why they say nothing (recordOfTags). */
  recorded: ExpectedEncryption | 'absent' | 'unreadable';
  tagFingerprint: string | undefined;
  jobCreatedAt: number | undefined;
  /** When the deployed config was first used to judge (see VerifyDependencies.configEpochStart). */
  configEpochStart: number;
  ruleChangeGraceMs: number;
  outputs: readonly S3Location[];
  actual: readonly ObservedObject[];
}

export interface Judgement {
  cause: MismatchCause | null;
  problems: string[];
}

/** The key the start function asked for, as the config says it today: the rule's key, or none. */
function askedKey(demand: Demand): string | null {
  return demand.expected?.source === 'rule' && demand.expected.serverSideEncryption === 'aws:kms' ? demand.expected.kmsKeyArn : null;
}

function recordedKey(recorded: ExpectedEncryption): string | null {
  return recorded.serverSideEncryption === 'aws:kms' ? recorded.kmsKeyArn : null;
}

/**
 * Judges the observed objects against the config's demand, then explains any disagreement
 * between config and tags:
 * - tags that hold no readable record while some of them remain were altered;
 * - a job that carries none of the tags is judged on its objects alone: the config is the
 *   authority, and removing the record can neither pass a wrong key nor silence an alarm;
 * - under an unchanged rule (same fingerprint), tags that name another key were altered;
 * - a rule named by alias whose objects are all under the recorded key: the alias was retargeted;
 * - a fingerprint that differs on a job created before the deployed config was first used (a
 *   moment kept in the ledger, which only the verifiers write): a config deploy, reported as
 *   `rule-changed`, which does not page. A job created later ran under this config, so a
 *   differing fingerprint there is a forgery and counts as tags altered.
 */
export function judge(input: JudgeInput): Judgement {
  const { demand } = input;
  if (!demand.expected || !demand.rule) return { cause: 'no-rule', problems: [demand.problem ?? 'no rule applies to this job'] };

  const problems: string[] = [];
  const verdict = verifyTranscriptEncryption(demand.expected, input.actual);
  const missing = input.actual.some((object) => object.missing);
  if (verdict.verdict === 'mismatch') problems.push(...verdict.problems);
  if (demand.output) {
    for (const output of input.outputs) {
      if (output.bucket !== demand.output.bucket || !output.key.startsWith(demand.output.key)) {
        problems.push(`${s3Uri(output)} is outside the rule's output location ${s3Uri(demand.output)}`);
      }
    }
  }

  const objectCause = (): MismatchCause =>
    missing && verdict.verdict === 'mismatch' && verdict.problems.every((p) => p.endsWith('does not exist')) ? 'missing-output' : 'wrong-encryption';
  if (input.recorded === 'unreadable') {
    problems.push(
      `the job's tags hold no valid ${TAG.expectedSse} record of what was asked although others of its tkp: tags remain, so the tags were altered ` +
        '(check CloudTrail for transcribe:TagResource and transcribe:UntagResource)',
    );
    return { cause: 'tags-altered', problems };
  }
  if (input.recorded === 'absent') {
    if (problems.length === 0) return { cause: null, problems };
    problems.push("the job carries none of the start function's tags, so nothing records what was asked (they were removed, or a Transcribe stand-in keeps no tags)");
    return { cause: objectCause(), problems };
  }
  const asked = askedKey(demand);
  const said = recordedKey(input.recorded);
  if (asked !== said) {
    const disagreement =
      `the job's tags say ${said ? `key ${said}` : 'no key'} was asked, but the deployed rule ` +
      `${JSON.stringify(demand.rule.prefix)} asks for ${asked ? `key ${asked}` : 'no key'}`;
    const fingerprint = ruleFingerprint(demand.rule);
    const startedBeforeThisConfig =
      input.jobCreatedAt !== undefined && input.jobCreatedAt < input.configEpochStart + input.ruleChangeGraceMs;
    if (input.tagFingerprint !== undefined && input.tagFingerprint !== fingerprint && startedBeforeThisConfig) {
      problems.push(`${disagreement}; the rule was changed by a config deploy after the job started (fingerprint ${input.tagFingerprint} then, ${fingerprint} now)`);
      return { cause: 'rule-changed', problems };
    }
    const aliasRule = demand.rule.kmsKey?.form === 'alias' || demand.rule.kmsKey?.form === 'alias-arn';
    const underRecordedKey = said !== null && input.actual.length > 0 && input.actual.every((object) => !object.missing && object.kmsKeyArn === said);
    if (aliasRule && underRecordedKey && input.tagFingerprint === fingerprint) {
      problems.push(`${disagreement}; alias ${demand.rule.kmsKey?.value} now points at ${asked} but the job used ${said}: the alias was retargeted`);
      return { cause: 'alias-retargeted', problems };
    }
    problems.push(`${disagreement}; the rule is unchanged since the job started, so the tags were altered (check CloudTrail for transcribe:TagResource)`);
    return { cause: 'tags-altered', problems };
  }
  if (problems.length === 0) return { cause: null, problems };
  return { cause: objectCause(), problems };
}
