import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/aws/errors';
import { checkPrefixOption, parseSince, readConfigJson } from '../../../shared/cli/cliConfig';

describe('checkPrefixOption (tkp audit and backfill --prefix)', () => {
  const listed = { what: "the rules' input prefixes", items: ['"calls/"', '"legal/"'], verb: 'sent' };

  it('lets a prefix through that overlaps what the command lists, or no prefix at all', () => {
    expect(() => checkPrefixOption('calls/2026/', ['calls/2026/'], listed)).not.toThrow();
    expect(() => checkPrefixOption(undefined, [], listed)).not.toThrow();
  });

  it('refuses one that overlaps nothing, naming what it could overlap', () => {
    expect(() => checkPrefixOption('call/', [], listed)).toThrow(
      '--prefix "call/" overlaps none of the rules\' input prefixes ("calls/", "legal/"), so nothing would be sent; pass a key prefix that lies under one of them, or that one of them lies under',
    );
  });

  it('names the key prefix to pass for an s3:// URI', () => {
    expect(() => checkPrefixOption('s3://tkp-dev-input/calls/2026/', [], listed)).toThrow('--prefix takes a key prefix, not an S3 URI: pass --prefix "calls/2026/"');
  });

  it('lists ten of many, and counts the rest', () => {
    const many = { ...listed, items: Array.from({ length: 14 }, (_, i) => `"team-${i}/"`) };
    expect(() => checkPrefixOption('x/', [], many)).toThrow(/"team-9\/", and 4 more\), so nothing would be sent/);
  });
});

describe('parseSince (tkp audit and backfill --since)', () => {
  it('takes a date as midnight UTC, and a time with its zone as that instant', () => {
    expect(parseSince(undefined)).toBeUndefined();
    expect(parseSince('2026-01-31')?.toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(parseSince('2026-11-30T12:00:00Z')?.toISOString()).toBe('2026-11-30T12:00:00.000Z');
    expect(parseSince('2026-11-30T12:00Z')?.toISOString()).toBe('2026-11-30T12:00:00.000Z');
    expect(parseSince('2026-11-30T12:00:00.5+01:00')?.toISOString()).toBe('2026-11-30T11:00:00.500Z');
    expect(parseSince('2028-02-29')?.toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });

  it('refuses what JavaScript would read as another window than the one meant', () => {
    // new Date() reads these as 2 March, the year 2001, 3 November 2001, and local time.
    expect(() => parseSince('2026-02-30')).toThrow('--since "2026-02-30" is no day or time of the calendar; use ISO 8601');
    expect(() => parseSince('2026-11-30T24:00:00Z')).toThrow('is no day or time of the calendar');
    expect(() => parseSince('1')).toThrow('--since "1" is not a date; use ISO 8601, e.g. 2026-01-31 (midnight UTC) or 2026-01-31T12:00:00Z');
    expect(() => parseSince('Nov 3')).toThrow('is not a date');
    expect(() => parseSince('yesterday')).toThrow('is not a date');
    expect(() => parseSince('2026-11-30T12:00')).toThrow(
      '--since "2026-11-30T12:00" has a time but no time zone; add Z for UTC (2026-11-30T12:00Z, as CloudTrail\'s eventTime has it) or an offset such as +01:00',
    );
  });
});

describe('readConfigJson (every tkp command, and the local mode)', () => {
  it('refuses a config that names a member twice, naming the member and its lines, as serverless package does', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tkp-dup-')), 'pipeline.config.json');
    writeFileSync(path, '{ "rules": [\n  { "prefix": "hr/", "kmsKey": "alias/hr",\n    "kmsKey": "alias/public" } ] }');
    expect(() => readConfigJson(path)).toThrow(ConfigError);
    expect(() => readConfigJson(path)).toThrow('rules[0].kmsKey appears 2 times (lines 2, 3)');
    writeFileSync(path, '{ "rules": [ { "prefix": "hr/", "kmsKey": "alias/hr" } ] }');
    expect(readConfigJson(path).raw).toEqual({ rules: [{ prefix: 'hr/', kmsKey: 'alias/hr' }] });
  });

  it('reads a config saved with a byte order mark, as Windows PowerShell writes UTF-8', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tkp-bom-')), 'pipeline.config.json');
    writeFileSync(path, '\uFEFF{ "rules": [ { "prefix": "hr/", "kmsKey": "alias/hr" } ] }');
    expect(readConfigJson(path).raw).toEqual({ rules: [{ prefix: 'hr/', kmsKey: 'alias/hr' }] });
  });
});
