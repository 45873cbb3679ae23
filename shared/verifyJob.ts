import type { TranscriptionJob } from '@aws-sdk/client-transcribe';
import { awsErrorName, httpStatusOf, isTransientAwsError } from './awsErrors';
import {
  verifyTranscriptEncryption,
  expectedEncryptionFromTags,
  type ObservedObject,
} from './encryptionVerdict';
import {
  describeError,
  EncryptionMismatchError,
  ForeignJobError,
  JobNotFinishedError,
  JobNotFoundError,
  TranscriptAccessDeniedError,
  TranscriptUriError,
  TransientAwsError,
} from './errors';
import { decodeTagValue, TAG, tagsToRecord } from './jobTags';
import { isServiceJobName } from './jobName';
import { OUTCOME_SCHEMA_VERSION, type Outcome, type OutcomeDetail } from './outcomeEvent';
import { parseOutputUri, s3Uri, type S3Location } from './transcriptUri';

export type HeadResult =
  | { found: true; serverSideEncryption?: string; kmsKeyArn?: string; bucketKeyEnabled?: boolean }
  | { found: false };

export interface VerifyDependencies {
  jobNamePrefix: string;
  /** The job, or undefined when Transcribe no longer has it. */
  getJob(jobName: string): Promise<TranscriptionJob | undefined>;
  headObject(location: S3Location): Promise<HeadResult>;
  publish(detail: OutcomeDetail): Promise<void>;
  recordVerdict(jobName: string, outcome: Outcome): Promise<void>;
  missingTranscriptRetries: number;
  missingTranscriptRetryDelayMs: number;
  sleep(ms: number): Promise<void>;
  now(): Date;
}

export type VerifyResult = { status: 'reported'; detail: OutcomeDetail } | { status: 'already-reported'; jobName: string; outcome: Outcome };

const OUTCOMES: readonly string[] = ['verified', 'mismatch', 'failed'];

/**
 * Judges one finished job and publishes the verdict, once. The expectation comes from the
 * job's tags (GetTranscriptionJob does not return the key it was given), the facts from
 * HeadObject on every output object. The verdict is recorded on the job after it is published,
 * so a redelivered event, or the sweeper, finds it and publishes nothing.
 */
export async function verifyJob(deps: VerifyDependencies, jobName: string, checkedBy: OutcomeDetail['checkedBy']): Promise<VerifyResult> {
  if (!isServiceJobName(deps.jobNamePrefix, jobName)) {
    throw new ForeignJobError(
      `job ${jobName} does not start with this stack's prefix ${deps.jobNamePrefix}; the EventBridge rule should not have delivered it`,
    );
  }
  const job = await deps.getJob(jobName);
  if (!job) {
    throw new JobNotFoundError(
      `job ${jobName} no longer exists (deleted, or older than Transcribe's 90-day retention); re-upload the media to transcribe it again`,
    );
  }
  const tags = tagsToRecord(job.Tags);
  const expected = expectedEncryptionFromTags(tags);
  if (!expected) {
    throw new ForeignJobError(`job ${jobName} has no ${TAG.expectedSse} tag, so this stack did not start it; it is not judged`);
  }
  const recorded = tags[TAG.verdict];
  if (recorded !== undefined && OUTCOMES.includes(recorded)) {
    return { status: 'already-reported', jobName, outcome: recorded as Outcome };
  }

  const status = job.TranscriptionJobStatus;
  if (status !== 'COMPLETED' && status !== 'FAILED') {
    throw new JobNotFinishedError(`job ${jobName} is ${status ?? 'in an unknown state'}, not finished; it will be checked again`);
  }
  const base = {
    schemaVersion: OUTCOME_SCHEMA_VERSION,
    verdictId: '',
    jobName,
    jobStatus: status,
    mediaUri: job.Media?.MediaFileUri ?? null,
    rulePrefix: decodeNullable(tags[TAG.rulePrefix]),
    source: {
      bucket: tags[TAG.sourceBucket] ?? null,
      key: decodeNullable(tags[TAG.sourceKey]),
      version: decodeNullable(tags[TAG.sourceVersion]),
    },
    expected,
    checkedBy,
  } as const;

  let detail: OutcomeDetail;
  if (status === 'FAILED') {
    detail = {
      ...base,
      outcome: 'failed',
      verdictId: `${jobName}:failed`,
      transcriptUri: null,
      actual: [],
      problems: [],
      failureReason: job.FailureReason ?? 'Transcribe gave no FailureReason',
      checkedAt: deps.now().toISOString(),
    };
  } else {
    const locations = outputLocations(job);
    const actual = await observeOutputs(deps, locations);
    const verdict = verifyTranscriptEncryption(expected, actual);
    const outcome = verdict.verdict === 'verified' ? 'verified' : 'mismatch';
    detail = {
      ...base,
      outcome,
      verdictId: `${jobName}:${outcome}`,
      transcriptUri: locations[0] ? s3Uri(locations[0]) : null,
      actual,
      problems: verdict.verdict === 'mismatch' ? verdict.problems : [],
      failureReason: null,
      checkedAt: deps.now().toISOString(),
    };
  }
  await deps.publish(detail);
  await deps.recordVerdict(jobName, detail.outcome);
  return { status: 'reported', detail };
}

/** Makes a mismatch fail the invocation, after its event is out, so it reaches alarms and the DLQ. */
export function assertNotMismatch(result: VerifyResult): void {
  const outcome = result.status === 'reported' ? result.detail.outcome : result.outcome;
  if (outcome !== 'mismatch') return;
  const jobName = result.status === 'reported' ? result.detail.jobName : result.jobName;
  const problems =
    result.status === 'reported'
      ? `: ${result.detail.problems.join('; ')}`
      : ` (already published with verdictId ${jobName}:mismatch)`;
  throw new EncryptionMismatchError(`transcript encryption of job ${jobName} does not match its rule${problems}`);
}

/** The transcript first, then the redacted transcript and subtitle files where the job made any. */
export function outputLocations(job: TranscriptionJob): S3Location[] {
  const transcript = job.Transcript?.TranscriptFileUri;
  if (!transcript) {
    throw new TranscriptUriError(`job ${job.TranscriptionJobName} is COMPLETED but reports no TranscriptFileUri`);
  }
  const uris = [transcript, job.Transcript?.RedactedTranscriptFileUri, ...(job.Subtitles?.SubtitleFileUris ?? [])];
  return uris.filter((uri): uri is string => typeof uri === 'string' && uri !== '').map(parseOutputUri);
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
 * What a failed HeadObject means. 404 is a missing object. 403 is a refused permission (S3 also
 * answers 403 for a missing object when the caller lacks s3:ListBucket, which the stack grants
 * so that the two stay distinguishable).
 */
export function headObjectError(location: S3Location, error: unknown): Error | 'missing' {
  const name = awsErrorName(error);
  const status = httpStatusOf(error);
  if (name === 'NotFound' || name === 'NoSuchKey' || status === 404) return 'missing';
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
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

function decodeNullable(value: string | undefined): string | null {
  return value === undefined ? null : (decodeTagValue(value) ?? null);
}
