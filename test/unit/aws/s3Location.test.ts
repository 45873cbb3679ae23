import { describe, expect, it } from 'vitest';
import { TranscriptUriError } from '../../../shared/aws/errors';
import { parseOutputUri } from '../../../shared/aws/s3Location';

describe('parseOutputUri', () => {
  it('reads bucket and key from the path of a regional URL', () => {
    expect(parseOutputUri('https://s3.us-east-1.amazonaws.com/out-bucket/transcripts/tkp.dev.x-1.json')).toEqual({
      bucket: 'out-bucket',
      key: 'transcripts/tkp.dev.x-1.json',
    });
  });

  it('reads the legacy global and China hosts', () => {
    expect(parseOutputUri('https://s3.amazonaws.com/b/k.json')).toEqual({ bucket: 'b', key: 'k.json' });
    expect(parseOutputUri('https://s3.cn-north-1.amazonaws.com.cn/b/k.json').bucket).toBe('b');
  });

  it('percent-decodes the key', () => {
    expect(parseOutputUri("https://s3.us-east-1.amazonaws.com/b/t/a%20(1)!.json").key).toBe('t/a (1)!.json');
  });

  it.each([
    ['not a URL', 'transcripts/x.json'],
    ['an s3 URI', 's3://b/k.json'],
    ['plain http', 'http://s3.us-east-1.amazonaws.com/b/k.json'],
    ['a virtual-hosted URL', 'https://b.s3.us-east-1.amazonaws.com/k.json'],
    ['a foreign host', 'https://example.com/b/k.json'],
    ['a bucket without key', 'https://s3.us-east-1.amazonaws.com/b/'],
    ['no path', 'https://s3.us-east-1.amazonaws.com/'],
  ])('rejects %s', (_label, uri) => {
    expect(() => parseOutputUri(uri)).toThrow(TranscriptUriError);
  });

  it('says what form it expected', () => {
    expect(() => parseOutputUri('https://example.com/b/k')).toThrow('expected https://s3.<region>.amazonaws.com/<bucket>/<key>');
  });
});
