import { describe, expect, it } from 'vitest';
import { decodeTagValue, encodeTagValue, encodeTagValueOrDigest, recordToTags, tagsToRecord } from '../../../shared/aws/jobTags';

describe('tag values', () => {
  it('stores plain values as they are', () => {
    expect(encodeTagValue('partners/acme/')).toBe('partners/acme/');
    expect(encodeTagValue('Überprüfung café/')).toBe('Überprüfung café/');
  });

  it('encodes values with characters tagging APIs refuse, and decodes them back', () => {
    const key = 'calls/Q3 (draft) 100% #1.wav';
    const encoded = encodeTagValue(key);
    expect(encoded).toMatch(/^b64:[A-Za-z0-9_-]+$/);
    expect(decodeTagValue(encoded as string)).toBe(key);
  });

  it('does not mistake a plain value that looks encoded', () => {
    expect(decodeTagValue(encodeTagValue('b64:abc') as string)).toBe('b64:abc');
  });

  it('falls back to a digest beyond 256 characters', () => {
    const long = 'k'.repeat(300);
    expect(encodeTagValue(long)).toBeUndefined();
    const digest = encodeTagValueOrDigest(long);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(decodeTagValue(digest)).toBeUndefined();
  });

  it('converts between tag lists and records', () => {
    expect(tagsToRecord([{ Key: 'a', Value: '1' }, { Key: 'b' }, { Value: 'x' }])).toEqual({ a: '1', b: '' });
    expect(recordToTags({ a: '1' })).toEqual([{ Key: 'a', Value: '1' }]);
    expect(tagsToRecord(undefined)).toEqual({});
  });
});
