import { awsErrorName, isAccessDenied, isMissingObject, isTransientAwsError } from '../aws/awsErrors';
import { recordOfTags, ruleFingerprint, type BucketDefaultEncryption } from '../config/expectedEncryption';
import { demandForRule } from './ruleDemand';
import type { KeyResolver } from '../config/keyResolution';
import type { Rule } from '../config/rule';
import { matchRule, type RuleIndex } from '../config/ruleIndex';
import type { ObservedObject } from './encryptionVerdict';
import { judge, type Demand } from './judgeJob';
import {
  describeError,
  describeErrorOnOneLine,
  EncryptionMismatchError,
  isRetryable,
  ForeignJobError,
  JobAccessDeniedError,
  JobNotFinishedError,
  JobNotFoundError,
  PublishRefusedError,
  TranscriptAccessDeniedError,
  TranscriptUriError,
  TransientAwsError,
  VerdictInProgressError,
} from '../aws/errors';
import { decodeTagValue, TAG, tagsToRecord } from '../aws/jobTags';
import { decideOnExistingClaim, verdictLedgerId, type StoredVerdict, type VerdictRecord } from './verdictLedger';
import { isServiceJobName } from '../aws/jobName';
import { OUTCOME_SCHEMA_VERSION, pagesOperator, whatToDo, type Outcome, type OutcomeDetail } from './outcomeEvent';
import { parseOutputUri, parseS3Uri, s3Uri, type S3Location } from '../aws/s3Location';
import { JOB_TYPE_FACTS, type JobType } from '../aws/jobTypes';
import type { TranscribeJob } from '../aws/transcribeJob';
import type { JobDeletion } from './completionEvent';

export type HeadResult =
  | { found: true; serverSideEncryption?: string; kmsKeyArn?: string; bucketKeyEnabled?: boolean }
  | { found: false };

export interface VerifyDependencies {
  jobNamePrefix: string;
  /** The deployed config: the verifier judges against it, never against the job's tags. */
  ruleIndex: RuleIndex<Rule>;
  inputBucket: string;
  transcriptBucket: string;
  resolveKey: KeyResolver;
  /** The bucket's default encryption, any key resolved to its ARN (cached by the adapter). */
  bucketDefaultEncryption(bucket: string): Promise<BucketDefaultEncryption>;
  /**
   * When this stack first judged a job under the deployed config, in ms, as recorded in the
   * ledger (which only the verifiers can write). A job created later than this plus
   * `ruleChangeGraceMs` was started under this same config, so a fingerprint that differs from
   * the rule's cannot be a config deploy.
   */
  configEpochStart(): Promise<number>;
  ruleChangeGraceMs: number;
  /** The job of that type, or undefined when Transcribe no longer has it. */
  getJob(jobName: string, jobType: JobType): Promise<TranscribeJob | undefined>;
  headObject(location: S3Location): Promise<HeadResult>;
  publish(detail: OutcomeDetail): Promise<void>;
  /** The job's verdict record, by its ledger ID (verdictLedgerId: the name, typed for non-transcription jobs). */
  readVerdict(ledgerId: string): Promise<StoredVerdict | undefined>;
  /**
   * Writes the job's verdict record only if it does not exist yet (`ifNoneMatch`) or is still
   * the version read (`ifMatch`). Returns the new ETag, or undefined when the condition failed.
   */
  writeVerdict(ledgerId: string, record: VerdictRecord, condition: { ifNoneMatch: true } | { ifMatch: string }): Promise<string | undefined>;
  /** Records which rule judged the job, for `tkp audit` (see ruleMarkerKey); best effort. */
  markRule(ledgerId: string, ruleFingerprint: string): Promise<void>;
  verdictLeaseSeconds: number;
  missingTranscriptRetries: number;
  missingTranscriptRetryDelayMs: number;
  sleep(ms: number): Promise<void>;
  now(): Date;
}

export type VerifyResult =
  | { status: 'reported'; detail: OutcomeDetail }
  | { status: 'already-reported'; jobName: string; outcome: Outcome; verdictId: string };

/**
 * Judges one finished job and publishes the verdict, once. What the transcript must be comes
 * from the deployed config: the rule that the job's own media URI matches (the same
 * longest-prefix match the start function uses) and that rule's key, resolved now with
 * DescribeKey. The job's tags are only a record of what was asked; where they disagree with the
 * config, the verdict says which said what (see judgeJob.ts). The facts come from
 * HeadObject on every output object. Before publishing, the verdict is claimed in the verdict
 * ledger with a conditional write, so of two deliveries of the same completion event, or an
 * event and the sweeper, exactly one publishes.
 */
export async function verifyJob(
  deps: VerifyDependencies,
  jobName: string,
  checkedBy: OutcomeDetail['checkedBy'],
  jobType: JobType = 'transcription',
  deletion?: JobDeletion,
): Promise<VerifyResult> {
  if (!isServiceJobName(deps.jobNamePrefix, jobName)) {
    throw new ForeignJobError(
      `job ${jobName} does not start with this stack's prefix ${deps.jobNamePrefix}; the EventBridge rule should not have delivered it`,
    );
  }
  // The sweeper mostly meets jobs that already have a verdict, and a job's deletion mostly comes
  // after its verdict, so both read the ledger first; a completion event mostly meets a new job,
  // so it goes straight to the claim, which also catches a duplicate.
  const ledgerId = verdictLedgerId(jobName, jobType);
  const existing = checkedBy === 'sweeper' || deletion ? await deps.readVerdict(ledgerId) : undefined;
  if (existing?.record.state === 'published' && existing.record.detail.jobName === jobName) {
    return alreadyReported(ledgerId, jobName, existing.record);
  }
  const job = await deps.getJob(jobName, jobType);
  if (!job) {
    const named = `${JOB_TYPE_FACTS[jobType].label} job ${jobName}`;
    const again = 're-upload the media (or `tkp backfill` its prefix) to transcribe it again';
    throw new JobNotFoundError(
      deletion
        ? `${named} was deleted by ${deletion.by} at ${deletion.at} before it was verified, so its transcript was never checked against its rule: ` +
            `judge it (its key ends in ${jobName}.json) with \`tkp audit\`, ${again}, and ask who deleted the job if that was not your cleanup`
        : `${named} no longer exists (deleted, or older than Transcribe's 90-day retention); ${again}`,
    );
  }
  const tags = tagsToRecord(job.tags);
  const record = recordOfTags(tags);
  const recorded = typeof record === 'string' ? null : record;

  const status = job.status;
  if (status !== 'COMPLETED' && status !== 'FAILED') {
    throw new JobNotFinishedError(`job ${jobName} is ${status ?? 'in an unknown state'}, not finished; it will be checked again`);
  }
  const mediaUri = job.mediaUri ?? null;
  const media = mediaUri ? parseS3Uri(mediaUri) : undefined;
  // A failed job's verdict is `failed` whatever its rule demands: a rule whose key cannot be
  // described now (deleted, refused) must not keep that verdict from being published.
  const demand = await demandOf(deps, mediaUri, media).catch((error: unknown) => {
    if (status !== 'FAILED' || isRetryable(error)) throw error;
    return { problem: `what the rule demands cannot be read: ${describeError(error)}` } as Demand;
  });
  const expected = demand.expected ?? recorded;
  if (!expected) {
    throw new ForeignJobError(
      `job ${jobName} ${record === 'absent' ? "carries none of the start function's tags" : `has no valid ${TAG.expectedSse} tag`}, and ` +
        `${demand.problem ?? 'no rule applies to it'}: neither the config nor the job says what its transcript must be, so it is not judged. ` +
        'If this stack started it, its tags were changed (check CloudTrail for transcribe:TagResource and transcribe:UntagResource) and its rule removed since.',
    );
  }
  const base = {
    schemaVersion: OUTCOME_SCHEMA_VERSION,
    verdictId: '',
    jobName,
    jobType,
    jobStatus: status,
    mediaUri,
    rulePrefix: demand.rule?.prefix ?? null,
    source: {
      bucket: media?.bucket ?? tags[TAG.sourceBucket] ?? null,
      key: media?.key ?? decodeNullable(tags[TAG.sourceKey]),
      version: decodeNullable(tags[TAG.sourceVersion]),
    },
    expected,
    recorded,
    checkedBy,
  } as const;

  let detail: OutcomeDetail;
  if (status === 'FAILED') {
    detail = {
      ...base,
      outcome: 'failed',
      verdictId: `${ledgerId}:failed`,
      cause: null,
      transcriptUri: null,
      actual: [],
      problems: demand.problem ? [demand.problem] : [],
      whatToDo: whatToDo({ outcome: 'failed', cause: null }),
      failureReason: job.failureReason ?? 'Transcribe gave no FailureReason',
      checkedAt: deps.now().toISOString(),
    };
  } else {
    const locations = jobOutputObjects(job);
    const actual = await observeOutputs(deps, locations);
    const judgement = judge({
      demand,
      recorded: record,
      tagFingerprint: tags[TAG.ruleFingerprint],
      jobCreatedAt: job.creationTime?.getTime(),
      // Read only when the tags' rule fingerprint differs from the deployed rule's; otherwise unused.
      configEpochStart: demand.rule && fingerprintDiffers(tags[TAG.ruleFingerprint], demand.rule) ? await deps.configEpochStart() : 0,
      ruleChangeGraceMs: deps.ruleChangeGraceMs,
      outputs: locations,
      actual,
    });
    const outcome = judgement.cause === null ? 'verified' : 'mismatch';
    detail = {
      ...base,
      outcome,
      verdictId: `${ledgerId}:${outcome}`,
      cause: judgement.cause,
      transcriptUri: locations[0] ? s3Uri(locations[0]) : null,
      actual,
      problems: judgement.problems,
      whatToDo: whatToDo({ outcome, cause: judgement.cause }),
      failureReason: null,
      checkedAt: deps.now().toISOString(),
    };
  }
  const claimedAt = deps.now().toISOString();
  const taken = await claim(deps, ledgerId, jobName, { state: 'claimed', claimedAt, detail }, existing);
  if (typeof taken !== 'string') return taken;
  // The audit's marker is written beside the publish, not before it: it only indexes the verdict.
  await Promise.all([demand.rule && deps.markRule(ledgerId, ruleFingerprint(demand.rule)), deps.publish(detail)]);
  await deps.writeVerdict(ledgerId, { state: 'published', claimedAt, publishedAt: deps.now().toISOString(), detail }, { ifMatch: taken });
  return { status: 'reported', detail };
}

async function demandOf(deps: VerifyDependencies, mediaUri: string | null, media: S3Location | undefined): Promise<Demand> {
  if (!media) return { problem: `the job reports media ${JSON.stringify(mediaUri)}, not an s3:// URI in the input bucket, so no rule applies` };
  if (media.bucket !== deps.inputBucket) {
    return { problem: `the job's media ${mediaUri} is not in the stack's input bucket ${deps.inputBucket}, so no rule applies` };
  }
  const rule = matchRule(deps.ruleIndex, media.key);
  if (!rule) return { problem: `the job's media ${mediaUri} lies under no rule of the deployed config, so nothing says how it must be encrypted` };
  return { rule, ...(await demandForRule(deps, rule)) };
}

/** Takes the job's verdict claim, or says who has it. A contradicted record is overruled, with the reason added to the verdict. */
async function claim(
  deps: VerifyDependencies,
  ledgerId: string,
  jobName: string,
  record: VerdictRecord,
  existing: StoredVerdict | undefined,
): Promise<string | VerifyResult> {
  let current = existing;
  for (let attempt = 0; attempt < 2; attempt++) {
    if (!current) {
      const etag = await deps.writeVerdict(ledgerId, record, { ifNoneMatch: true });
      if (etag) return etag;
    } else {
      const decision = decideOnExistingClaim(current.record, deps.now(), deps.verdictLeaseSeconds, record.detail);
      if (decision.action === 'already-published') return alreadyReported(ledgerId, jobName, current.record);
      if (decision.action === 'wait') break;
      if (decision.action === 'overrule') record.detail.problems.push(decision.reason);
      const etag = await deps.writeVerdict(ledgerId, record, { ifMatch: current.etag });
      if (etag) return etag;
    }
    current = await deps.readVerdict(ledgerId);
  }
  throw new VerdictInProgressError(`another invocation is publishing the verdict of job ${jobName} right now; this one will check again`);
}

function alreadyReported(ledgerId: string, jobName: string, record: VerdictRecord): VerifyResult {
  const outcome = record.detail.outcome;
  return { status: 'already-reported', jobName, outcome, verdictId: `${ledgerId}:${outcome}` };
}

/** Makes a mismatch fail the invocation, after its event is out, so it reaches alarms and the DLQ. */
export function assertNotMismatch(result: VerifyResult): void {
  const outcome = result.status === 'reported' ? result.detail.outcome : result.outcome;
  if (outcome !== 'mismatch') return;
  if (result.status === 'reported' && !pagesOperator(result.detail)) return;
  const jobName = result.status === 'reported' ? result.detail.jobName : result.jobName;
  const problems =
    result.status === 'reported'
      ? `: ${result.detail.problems.join('; ')}`
      : ` (already published with verdictId ${result.verdictId})`;
  throw new EncryptionMismatchError(`transcript encryption of job ${jobName} does not match its rule${problems}`);
}

/** Every output object the job reports, the transcript first (see transcribeJob.ts per type). */
export function jobOutputObjects(job: TranscribeJob): S3Location[] {
  if (job.outputUris.length === 0) {
    throw new TranscriptUriError(`${JOB_TYPE_FACTS[job.jobType].label} job ${job.name} is COMPLETED but reports no TranscriptFileUri`);
  }
  return job.outputUris.map(parseOutputUri);
}

async function observeOutputs(deps: VerifyDependencies, locations: S3Location[]): Promise<ObservedObject[]> {
  for (let attempt = 0; ; attempt++) {
    const observed = await Promise.all(locations.map((location) => observe(deps, location)));
    if (!observed.some((object) => object.missing) || attempt >= deps.missingTranscriptRetries) return observed;
    await deps.sleep(deps.missingTranscriptRetryDelayMs * 2 ** attempt);
  }
}

async function observe(deps: VerifyDependencies, location: S3Location): Promise<ObservedObject> {
  const head = await deps.headObject(location);
  const uri = s3Uri(location);
  if (!head.found) return { uri, missing: true };
  return {
    uri,
    ...(head.serverSideEncryption !== undefined && { serverSideEncryption: head.serverSideEncryption }),
    ...(head.kmsKeyArn !== undefined && { kmsKeyArn: head.kmsKeyArn }),
    ...(head.bucketKeyEnabled !== undefined && { bucketKeyEnabled: head.bucketKeyEnabled }),
  };
}

/**
 * What a failed Get*Job means, other than an unknown job (the adapter's undefined): a refused
 * permission names the grant and is not retried; a fault or throttle is retried, on one line.
 */
export function getJobError(jobName: string, jobType: JobType, jobNamePrefix: string, error: unknown): Error {
  const { getOperation, arnResourceType } = JOB_TYPE_FACTS[jobType];
  if (isAccessDenied(error)) {
    return new JobAccessDeniedError(
      `${getOperation} on job ${jobName} was denied (${describeError(error)}); the verify and sweep roles need transcribe:${getOperation} ` +
        `on arn:aws:transcribe:<region>:<account>:${arnResourceType}/${jobNamePrefix}*, which the stack grants: look for a permissions boundary, an SCP or a changed role policy`,
      { cause: error },
    );
  }
  if (isTransientAwsError(error)) {
    return new TransientAwsError(`${getOperation} on job ${jobName} must be retried: ${describeErrorOnOneLine(error)}`, false, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * What a failed PutEvents of a verdict means: a refused permission or a missing bus names what
 * to change and is not retried (the verdict's claim stays, for the sweeper to publish once fixed);
 * anything else is the SDK's error, retried.
 */
export function publishError(busName: string, jobName: string, error: unknown): Error {
  if (isAccessDenied(error)) {
    return new PublishRefusedError(
      `PutEvents of job ${jobName}'s verdict to ${busName} was denied (${describeError(error)}); the verify and sweep roles need events:PutEvents ` +
        `on arn:aws:events:<region>:<account>:event-bus/${busName}, which the stack grants: look for a permissions boundary, an SCP or a changed role policy`,
      { cause: error },
    );
  }
  if (awsErrorName(error) === 'ResourceNotFoundException') {
    return new PublishRefusedError(`the outcome bus ${busName} does not exist, so job ${jobName}'s verdict cannot be published; check OUTCOME_BUS_NAME and the stack`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * What a failed HeadObject means. 404 is a missing object. 403 is a refused permission (S3 also
 * answers 403 for a missing object when the caller lacks s3:ListBucket, which the stack grants
 * so that the two stay distinguishable).
 */
export function headObjectError(location: S3Location, error: unknown): Error | 'missing' {
  if (isMissingObject(error)) return 'missing';
  if (isAccessDenied(error)) {
    return new TranscriptAccessDeniedError(
      `HeadObject on ${s3Uri(location)} was denied; grant the verifier's role s3:GetObject on arn:aws:s3:::${location.bucket}/* ` +
        `and s3:ListBucket on the bucket (a KMS key policy does not matter for HEAD)`,
      { cause: error },
    );
  }
  if (isTransientAwsError(error)) {
    return new TransientAwsError(`HeadObject on ${s3Uri(location)} must be retried: ${describeError(error)}`, false, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

function fingerprintDiffers(tagged: string | undefined, rule: Rule): boolean {
  return tagged !== undefined && tagged !== ruleFingerprint(rule);
}

function decodeNullable(value: string | undefined): string | null {
  return value === undefined ? null : (decodeTagValue(value) ?? null);
}
