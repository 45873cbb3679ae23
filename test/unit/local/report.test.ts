import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { describeProgress, formatTable, type ObjectRow } from '../../local/cli/report';

const row = (key: string, verdict: ObjectRow['verdict'] = 'verified'): ObjectRow => ({
  key,
  rule: 'calls/',
  jobType: 'transcription',
  keyAskedFor: 'alias/calls',
  jobName: 'tkp.local.job',
  jobStatus: 'COMPLETED',
  actualEncryption: 'aws:kms key/1234abcd… @123456789012',
  verdict,
  detail: '',
  outcomeEvents: 1,
});

describe('formatTable (the local demo\'s table)', () => {
  it('lines every column up as a terminal shows it, with CJK names, combining accents and control characters in the keys', () => {
    const keys = ['calls/会議の録音.wav', 'calls/e\u0301quipe.wav', 'calls/tab\tname.wav', 'calls/plain.wav'];
    const lines = formatTable(keys.map((key) => row(key))).split('\n');
    const ruleColumn = (line: string) => stringWidth(line.slice(0, line.indexOf('calls/', 1)));
    expect(lines).toHaveLength(2 + keys.length);
    // The rule column starts at the same terminal column on every row.
    expect(new Set(lines.slice(2).map(ruleColumn)).size).toBe(1);
    expect(lines[0]?.startsWith('object')).toBe(true);
  });

  it('shortens a long name to the same width whatever its script, keeping its start and its end', () => {
    const [, , cjk = '', latin = ''] = formatTable([row(`calls/${'録'.repeat(40)}.wav`), row(`calls/${'r'.repeat(80)}.wav`)]).split('\n');
    const object = (line: string) => line.slice(0, line.indexOf('  calls/'));
    expect(stringWidth(object(cjk))).toBeLessThanOrEqual(60);
    expect(stringWidth(object(cjk).trimEnd())).toBeGreaterThanOrEqual(58);
    expect(stringWidth(object(latin))).toBe(60);
    expect(object(cjk)).toMatch(/^calls\/録+…録+\.wav *$/);
  });
});

describe('describeProgress (the local demo\'s live lines)', () => {
  it('writes the escapes an uploader\'s name may hold as text, so a name cannot recolour or rewrite the terminal', () => {
    const key = 'public/esc\u001b[1mbold\rover.wav';
    expect(describeProgress({ level: 'INFO', message: 'job started', key, jobName: 'tkp.local.esc_1mbold' })).toBe('  started   public/esc\\u001b[1mbold\\rover.wav -> tkp.local.esc_1mbold');
    expect(describeProgress({ level: 'INFO', message: 'object skipped', key, reason: 'hidden file' })).toBe('  skipped   public/esc\\u001b[1mbold\\rover.wav: hidden file');
    expect(describeProgress({ level: 'INFO', message: 'record sent to dead-letter queue', reason: `UnsupportedRecordingError: s3://b/${key}` })).toBe('  DLQ       UnsupportedRecordingError: s3://b/public/esc\\u001b[1mbold\\rover.wav');
  });
});
