import { describe, expect, it } from 'vitest';
import { keyOfArgument } from '../../../shared/cli/explainCommand';

describe('keyOfArgument (tkp explain)', () => {
  const bucket = 'tkp-dev-input-123456789012-us-east-1';

  it('takes a key as it is', () => {
    expect(keyOfArgument('calls/Call 1.wav', bucket)).toBe('calls/Call 1.wav');
    expect(keyOfArgument('s3 notes/a.wav', bucket)).toBe('s3 notes/a.wav');
  });

  it('takes the key out of an s3:// URI of the input bucket, as the local mode and aws s3 ls print it', () => {
    expect(keyOfArgument(`s3://${bucket}/hr/Q3 review (Zürich).wav`, bucket)).toBe('hr/Q3 review (Zürich).wav');
    expect(keyOfArgument(`s3://${bucket}/praxis+notes/a b.wav `, bucket)).toBe('praxis+notes/a b.wav ');
  });

  it('refuses a URI in another bucket, naming both buckets and what to pass instead', () => {
    expect(() => keyOfArgument('s3://other-bucket/calls/a.wav', bucket)).toThrow(
      `s3://other-bucket/calls/a.wav is in the bucket other-bucket, not this stage's input bucket ${bucket}, and the start function dead-letters an upload to another bucket (ForeignBucketError); name the stage whose input bucket it is (--stage, or --input-bucket), or pass the key alone`,
    );
  });

  it('refuses a URI that names no object', () => {
    expect(() => keyOfArgument(`s3://${bucket}/`, bucket)).toThrow(`s3://${bucket}/ names no object; pass s3://BUCKET/KEY, or the key alone`);
    expect(() => keyOfArgument('s3://', bucket)).toThrow('names no object');
  });
});
