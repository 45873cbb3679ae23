import type { Event, QueueConfiguration } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { inputBucketRow, notificationRow } from '../../../../shared/cli/check/inputBucketRows';
import { keyArn } from '../../../support/fixtures';

const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:start';
const queueConfig = (prefix: string, events: Event[] = ['s3:ObjectCreated:*']): QueueConfiguration => ({ QueueArn: QUEUE, Events: events, Filter: { Key: { FilterRules: [{ Name: 'prefix' as const, Value: prefix }] } } });

describe('notificationRow', () => {
  it('passes when each configured prefix notifies the start queue, encoded as S3 encodes keys', () => {
    const row = notificationRow({ QueueConfigurations: [queueConfig('calls/'), queueConfig('Kundenanrufe+Z%C3%BCrich/')] }, QUEUE, ['calls/', 'Kundenanrufe Zürich/'], 'in');
    expect(row).toMatchObject({ ok: true, rule: '(stack)' });
  });

  it('fails a filter written raw, which S3 never matches, and says to redeploy', () => {
    const row = notificationRow({ QueueConfigurations: [queueConfig('calls/'), queueConfig('Kundenanrufe Zürich/')] }, QUEUE, ['calls/', 'Kundenanrufe Zürich/'], 'in');
    expect(row.ok).toBe(false);
    expect(row.detail).toContain('no notification for prefix "Kundenanrufe+Z%C3%BCrich/"');
    expect(row.detail).toContain('an extra notification for prefix "Kundenanrufe Zürich/"');
    expect(row.detail).toContain('redeploy');
  });

  it('ignores other queues\' notifications and fails a notification for the wrong events', () => {
    const other = { ...queueConfig('x/'), QueueArn: 'arn:aws:sqs:us-east-1:123456789012:other' };
    const row = notificationRow({ QueueConfigurations: [other, queueConfig('calls/', ['s3:ObjectRemoved:*'])] }, QUEUE, ['calls/'], 'in');
    expect(row).toMatchObject({ ok: false, detail: expect.stringContaining('is not for s3:ObjectCreated:*') });
  });

  it('fails when the bucket has no notification to the queue at all', () => {
    expect(notificationRow({}, QUEUE, ['calls/'], 'in')).toMatchObject({ ok: false, detail: expect.stringContaining('no notification for prefix "calls/"') });
  });

  it('lists ten filters or problems of a config with hundreds of prefixes, and counts the rest', () => {
    const prefixes = Array.from({ length: 300 }, (_, i) => `team-${String(i).padStart(3, '0')}/`);
    const passing = notificationRow({ QueueConfigurations: prefixes.map((prefix) => queueConfig(prefix)) }, QUEUE, prefixes, 'in');
    expect(passing).toMatchObject({ ok: true, detail: `300 notification(s) to the start queue, filters ${prefixes.slice(0, 10).map((p) => JSON.stringify(p)).join(', ')}, and 290 more` });
    const wiped = notificationRow({}, QUEUE, prefixes, 'in');
    expect(wiped.ok).toBe(false);
    expect(wiped.detail).toBe(
      `${prefixes.slice(0, 10).map((p) => `no notification for prefix ${JSON.stringify(p)}`).join('; ')}; and 290 more; ` +
        'if the config changed since the last deploy, serverless deploy applies it; if the notifications were changed by hand, put them, encoded as S3 encodes keys, back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy")',
    );
  });
});

describe('inputBucketRow', () => {
  const start = 'arn:aws:iam::123456789012:role/transcribe-kms-pipeline-dev-us-east-1-start';

  it('says which key an upload gets by default, and who must be allowed to decrypt it', () => {
    const row = inputBucketRow('in', { serverSideEncryption: 'aws:kms', key: keyArn('media') }, [start]);
    expect(row).toMatchObject({ rule: '(stack)', check: 'input bucket', ok: true });
    expect(row.detail).toMatch(new RegExp(`^s3://in encrypts uploads with ${keyArn('media')} \\(aws:kms\\) unless the uploader names another key\\. Transcribe reads an upload under a KMS key with ${start},`));
    expect(row.detail).toContain('must allow that in its key policy');
  });

  it('names SSE-S3 and every role that reads uploads', () => {
    const data = start.replace(/start$/, 'transcribe-data');
    expect(inputBucketRow('in', { serverSideEncryption: 'AES256' }, [start, data]).detail).toMatch(new RegExp(`^s3://in stores uploads under SSE-S3 unless the uploader names a KMS key\\. Transcribe reads an upload under a KMS key with ${start} or ${data},`));
  });

  it('fails when the default cannot be read, naming the permission', () => {
    expect(inputBucketRow('in', { error: 'AccessDenied: no' }, [start])).toEqual({
      rule: '(stack)',
      check: 'input bucket',
      ok: false,
      detail: 's3://in: its default encryption cannot be read (AccessDenied: no); the caller needs s3:GetEncryptionConfiguration on it',
    });
  });
});
