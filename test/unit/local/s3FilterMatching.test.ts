import { describe, expect, it } from 'vitest';
import { motoFilterValue, NEVER_MATCHES } from '../../local/emulator/s3FilterMatching';

describe('the local mode matches notification filters the way S3 does', () => {
  it('turns a filter written as S3 encodes keys into the raw prefix moto compares', () => {
    expect(motoFilterValue('Call+Recordings/Z%C3%BCrich+%2B50%25+%3DA%26B/')).toBe('Call Recordings/Zürich +50% =A&B/');
    expect(motoFilterValue('calls/')).toBe('calls/');
  });

  it.each(['Call Recordings/', 'Zürich/', '100%/', 'a=b/'])('lets a raw filter %j match nothing, as in S3', (raw) => {
    expect(motoFilterValue(raw)).toBe(NEVER_MATCHES);
  });
});
