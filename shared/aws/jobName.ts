import { createHash } from 'node:crypto';
import type { JobType } from './jobTypes';
import { objectVersion } from './s3Location';
import { JOB_NAME_MAX_LENGTH, JOB_NAME_PATTERN } from './transcribeModel';

export const JOB_NAME_PREFIX_MAX_LENGTH = 64;
const READABLE_PART_MAX_LENGTH = 60;
const HASH_LENGTH = 40;

/**
 * The job name for one version of one object. It is deterministic, so a redelivered S3 event
 * maps to the same name and Transcribe's ConflictException stops a second paid job; and it
 * hashes bucket, full key and version, so keys that differ only in their 1,000th character still
 * get different names. The readable part (from the file name) is only for humans.
 *
 * Each job type has its own name space in Transcribe; the type is hashed in too (all but
 * transcription, whose names stay as they were), so one name never stands for two jobs in the
 * verdict ledger, which is keyed by name.
 */
export function jobNameFor(
  prefix: string,
  object: { bucket: string; key: string; versionId?: string; eTag?: string },
  jobType: JobType = 'transcription',
): string {
  const version = objectVersion(object);
  const digest = createHash('sha256')
    .update(`${object.bucket}\n${object.key}\n${version}${jobType === 'transcription' ? '' : `\n${jobType}`}`, 'utf8')
    .digest('hex')
    .slice(0, HASH_LENGTH);
  const fileName = object.key.slice(object.key.lastIndexOf('/') + 1);
  const stem = fileName.includes('.') ? fileName.slice(0, fileName.lastIndexOf('.')) : fileName;
  const readable = stem
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^0-9a-zA-Z._-]+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, READABLE_PART_MAX_LENGTH);
  return `${prefix}${readable === '' ? '' : `${readable}-`}${digest}`;
}

/** Whether a job name belongs to this deployment (its prefix is stage-specific). */
export function isServiceJobName(prefix: string, name: string): boolean {
  return name.startsWith(prefix);
}

/** Null when the prefix can start valid job names; otherwise what is wrong with it. */
export function jobNamePrefixProblem(prefix: string): string | null {
  if (prefix.length === 0 || prefix.length > JOB_NAME_PREFIX_MAX_LENGTH) {
    return `must be 1 to ${JOB_NAME_PREFIX_MAX_LENGTH} characters`;
  }
  if (!JOB_NAME_PATTERN.test(prefix)) return 'may only contain letters, digits, ".", "_" and "-"';
  if (prefix.length + READABLE_PART_MAX_LENGTH + 1 + HASH_LENGTH > JOB_NAME_MAX_LENGTH) {
    return `leaves no room for the name within ${JOB_NAME_MAX_LENGTH} characters`;
  }
  return null;
}
