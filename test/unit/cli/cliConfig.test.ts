import { describe, expect, it } from 'vitest';
import { checkPrefixOption } from '../../../shared/cli/cliConfig';

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
