import { describe, expect, it } from 'vitest';
import { isServiceJobName, jobNameFor, jobNamePrefixProblem } from '../../../shared/aws/jobName';
import { JOB_NAME_MAX_LENGTH, JOB_NAME_PATTERN } from '../../../shared/aws/transcribeModel';

const object = { bucket: 'in', key: 'calls/Q3 review + notes/Überprüfung café.wav', eTag: 'abc' };

describe('jobNameFor', () => {
  it('is deterministic, so a redelivered event maps to the same name', () => {
    expect(jobNameFor('tkp.dev.', object)).toBe(jobNameFor('tkp.dev.', { ...object }));
  });

  it('keeps a readable stem from the file name, starts with the prefix and matches the service pattern', () => {
    const name = jobNameFor('tkp.dev.', object);
    expect(name).toMatch(/^tkp\.dev\.Uberprufung_cafe-[0-9a-f]{40}$/);
    expect(name).toMatch(JOB_NAME_PATTERN);
  });

  it('separates versions of the same key', () => {
    expect(jobNameFor('p.', { ...object, versionId: '1' })).not.toBe(jobNameFor('p.', { ...object, versionId: '2' }));
    expect(jobNameFor('p.', { ...object, eTag: 'x' })).not.toBe(jobNameFor('p.', { ...object, eTag: 'y' }));
  });

  it('separates buckets', () => {
    expect(jobNameFor('p.', object)).not.toBe(jobNameFor('p.', { ...object, bucket: 'other' }));
  });

  it('gives 1,000-character keys that differ only at the end different names within 200 characters', () => {
    const stem = 'a/'.repeat(300) + 'x'.repeat(395);
    const one = jobNameFor('tkp.production-eu.', { bucket: 'in', key: `${stem}1.wav`, eTag: 'e' });
    const two = jobNameFor('tkp.production-eu.', { bucket: 'in', key: `${stem}2.wav`, eTag: 'e' });
    expect(`${stem}1.wav`).toHaveLength(1000);
    expect(one).not.toBe(two);
    expect(one.length).toBeLessThanOrEqual(JOB_NAME_MAX_LENGTH);
    expect(one).toMatch(JOB_NAME_PATTERN);
  });

  it('still makes a valid name when the file name has no usable characters', () => {
    const name = jobNameFor('tkp.dev.', { bucket: 'in', key: 'calls/录音.wav', eTag: 'e' });
    expect(name).toMatch(/^tkp\.dev\.[0-9a-f]{40}$/);
  });

  it('never lets a version string change the readable part', () => {
    expect(jobNameFor('p.', { bucket: 'b', key: 'k.wav', versionId: 'v/=+' })).toMatch(JOB_NAME_PATTERN);
  });
});

describe('job name prefix', () => {
  it('recognises its own names only', () => {
    expect(isServiceJobName('tkp.dev.', 'tkp.dev.x-1')).toBe(true);
    expect(isServiceJobName('tkp.dev.', 'tkp.dev2.x-1')).toBe(false);
    expect(isServiceJobName('tkp.dev.', 'someone-else')).toBe(false);
  });

  it('rejects prefixes that cannot start a valid name', () => {
    expect(jobNamePrefixProblem('tkp.dev.')).toBeNull();
    expect(jobNamePrefixProblem('tkp dev')).toMatch(/letters, digits/);
    expect(jobNamePrefixProblem('')).toMatch(/1 to 64/);
    expect(jobNamePrefixProblem('x'.repeat(65))).toMatch(/1 to 64/);
  });
});
