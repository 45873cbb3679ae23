import { describe, expect, it } from 'vitest';
import { motoFilterValue, NEVER_MATCHES, s3FilterFromMoto, translateNotificationXml } from '../../local/emulator/s3FilterMatching';

describe('the local mode matches notification filters the way S3 does', () => {
  it('turns a filter written as S3 encodes keys into the raw prefix moto compares', () => {
    expect(motoFilterValue('Call+Recordings/Z%C3%BCrich+%2B50%25+%3DA%26B/')).toBe('Call Recordings/Zürich +50% =A&B/');
    expect(motoFilterValue('calls/')).toBe('calls/');
  });

  it.each(['Call Recordings/', 'Zürich/', '100%/', 'a=b/'])('lets a raw filter %j match nothing, as in S3, and reads it back as written', (raw) => {
    expect(motoFilterValue(raw).startsWith(NEVER_MATCHES)).toBe(true);
    expect(s3FilterFromMoto(motoFilterValue(raw))).toBe(raw);
  });

  it('reads an encoded filter back in the form it was written', () => {
    expect(s3FilterFromMoto(motoFilterValue('Call+Recordings/Z%C3%BCrich/'))).toBe('Call+Recordings/Z%C3%BCrich/');
  });

  it('translates the filter values of a notification configuration on the wire, both ways', () => {
    const xml = '<NotificationConfiguration><QueueConfiguration><Filter><S3Key><FilterRule><Name>prefix</Name><Value>Z%C3%BCrich+a%26b/</Value></FilterRule></S3Key></Filter></QueueConfiguration></NotificationConfiguration>';
    const toMoto = translateNotificationXml(xml, 'to-moto');
    expect(toMoto).toContain('<Value>Zürich a&amp;b/</Value>');
    expect(translateNotificationXml(toMoto, 'from-moto')).toBe(xml);
  });
});
