import { describe, expect, it } from 'vitest';
import { callAnalyticsCompletionPattern, completionEventPattern, outcomeEventPattern } from '../../../shared/stack/eventPatterns';
import { envelope, matchesPattern } from '../../local/runtime/eventBus';
import { loadEvent } from '../../support/fixtures';

describe('local EventBridge rule matching', () => {
  const rule = completionEventPattern('tkp.dev.');

  it('matches this stage’s completion events with the rule serverless.yml deploys', () => {
    const event = loadEvent('transcribe-completed.json');
    event.detail.TranscriptionJobName = 'tkp.dev.call-1';
    expect(matchesPattern(rule, event)).toBe(true);
    expect(matchesPattern(rule, { ...event, detail: { ...event.detail, TranscriptionJobStatus: 'FAILED' } })).toBe(true);
  });

  it('does not match another stage, another service, or a job still running', () => {
    const event = loadEvent('transcribe-completed.json');
    expect(matchesPattern(rule, { ...event, detail: { ...event.detail, TranscriptionJobName: 'tkp.dev2.call-1' } })).toBe(false);
    expect(matchesPattern(rule, { ...event, source: 'aws.s3' })).toBe(false);
    expect(matchesPattern(rule, { ...event, detail: { TranscriptionJobName: 'tkp.dev.x', TranscriptionJobStatus: 'IN_PROGRESS' } })).toBe(false);
  });

  it('matches this stage’s Call Analytics completions, and not another stack’s, nor a transcription event', () => {
    const calls = callAnalyticsCompletionPattern('tkp.dev.');
    const event = loadEvent('transcribe-call-analytics-completed.json');
    expect(matchesPattern(calls, event)).toBe(true);
    expect(matchesPattern(calls, { ...event, detail: { ...event.detail, JobStatus: 'FAILED', FailureReason: 'mono' } })).toBe(true);
    expect(matchesPattern(calls, { ...event, detail: { ...event.detail, JobName: 'tkp.prod.sample-call-1' } })).toBe(false);
    expect(matchesPattern(calls, { ...event, detail: { ...event.detail, JobStatus: 'IN_PROGRESS' } })).toBe(false);
    const transcription = loadEvent('transcribe-completed.json');
    expect(matchesPattern(calls, transcription)).toBe(false);
    expect(matchesPattern(rule, event)).toBe(false);
  });

  it('rejects pattern features it does not implement instead of matching them', () => {
    expect(() => matchesPattern({ source: [{ numeric: ['>', 1] }] }, { source: 'y' })).toThrow(/unsupported/);
  });

  it('matches anything-but and $or, as the paging rule to the alarm topic uses them', () => {
    const pattern = { detail: { $or: [{ outcome: ['failed'] }, { outcome: ['mismatch'], cause: [{ 'anything-but': ['rule-changed'] }] }] } };
    expect(matchesPattern(pattern, { detail: { outcome: 'failed', cause: null } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { outcome: 'mismatch', cause: 'tags-altered' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { outcome: 'mismatch', cause: 'rule-changed' } })).toBe(false);
    expect(matchesPattern(pattern, { detail: { outcome: 'verified', cause: null } })).toBe(false);
  });

  it('matches an array in the event when one element matches, by value or by prefix, as EventBridge does', () => {
    expect(matchesPattern({ names: [{ prefix: 'tkp-dev-' }] }, { names: ['other', 'tkp-dev-alarm'] })).toBe(true);
    expect(matchesPattern({ names: ['tkp-dev-alarm'] }, { names: ['other', 'tkp-dev-alarm'] })).toBe(true);
    expect(matchesPattern({ names: [{ prefix: 'tkp-dev-' }] }, { names: ['other', 'tkp-prod-alarm'] })).toBe(false);
    expect(matchesPattern({ names: [{ prefix: 'tkp-dev-' }] }, { names: [] })).toBe(false);
  });

  it('matches suffix and wildcard filters as EventBridge does, with only * special in a wildcard', () => {
    expect(matchesPattern({ f: [{ suffix: ':function:tkp-verify' }] }, { f: '123456789012:function:tkp-verify' })).toBe(true);
    expect(matchesPattern({ f: [{ suffix: ':function:tkp-verify' }] }, { f: 'arn:aws:lambda:us-east-1:123456789012:function:tkp-verify-2' })).toBe(false);
    expect(matchesPattern({ f: [{ wildcard: '*:function:tkp.verify:*' }] }, { f: 'arn:aws:lambda:us-east-1:1:function:tkp.verify:$LATEST' })).toBe(true);
    expect(matchesPattern({ f: [{ wildcard: '*:function:tkp.verify:*' }] }, { f: 'arn:aws:lambda:us-east-1:1:function:tkpXverify:$LATEST' })).toBe(false);
    expect(matchesPattern({ f: [{ wildcard: '*:function:tkp.verify:*' }] }, { f: 'arn:aws:lambda:us-east-1:1:function:tkp.verify' })).toBe(false);
    expect(() => matchesPattern({ f: [{ suffix: 'a', prefix: 'b' }] }, { f: 'ab' })).toThrow(/unsupported/);
  });

  it('builds the envelope EventBridge delivers', () => {
    const built = envelope({ Source: 'transcribe-kms-pipeline', DetailType: 'Transcription Failed', Detail: '{"a":1}' }, 'id-1', '123456789012', 'us-east-1', new Date('2026-11-28T10:00:00.123Z'));
    expect(built).toEqual({ version: '0', id: 'id-1', 'detail-type': 'Transcription Failed', source: 'transcribe-kms-pipeline', account: '123456789012', time: '2026-11-28T10:00:00Z', region: 'us-east-1', resources: [], detail: { a: 1 } });
    expect(matchesPattern(outcomeEventPattern('transcribe-kms-pipeline'), built)).toBe(true);
  });
});
