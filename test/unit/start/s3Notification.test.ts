import { describe, expect, it } from 'vitest';
import { EventShapeError } from '../../../shared/aws/errors';
import { decodeS3Key, parseS3Notification } from '../../../shared/start/s3Notification';
import { loadEvent } from '../../support/fixtures';

describe('decodeS3Key', () => {
  it('turns + into a space before percent-decoding, so %2B stays a plus', () => {
    expect(decodeS3Key('a+b%2Bc')).toBe('a b+c');
  });

  it('decodes UTF-8, percent and equals signs', () => {
    expect(decodeS3Key('%C3%9Cber+100%25+%3D')).toBe('Über 100% =');
  });

  it('rejects malformed percent-encoding', () => {
    expect(() => decodeS3Key('bad%E0%A4%A')).toThrow(EventShapeError);
  });
});

describe('parseS3Notification', () => {
  it('reads the sample put event', () => {
    const body = JSON.stringify(loadEvent('s3-put.json'));
    expect(parseS3Notification(body)).toEqual({
      kind: 'objects',
      objects: [
        {
          bucket: 'tkp-dev-input-123456789012-us-east-1',
          key: 'calls/2026/support-call-0142.wav',
          size: 1843244,
          eTag: 'b3f1c6e5a0d39f2a7c41e8d6f0a9b211',
          versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
        },
      ],
    });
  });

  it('decodes the key with spaces, +, %, = and non-ASCII characters', () => {
    const parsed = parseS3Notification(JSON.stringify(loadEvent('s3-put-odd-key.json')));
    expect(parsed.kind === 'objects' && parsed.objects[0]?.key).toBe('calls/Q3 review + notes 100% =final/Überprüfung café.wav');
  });

  it('strips quotes from an eTag', () => {
    const event = loadEvent('s3-put.json');
    event.Records[0].s3.object.eTag = '"abc"';
    const parsed = parseS3Notification(JSON.stringify(event));
    expect(parsed.kind === 'objects' && parsed.objects[0]?.eTag).toBe('abc');
  });

  it('recognises the S3 test event', () => {
    expect(parseS3Notification(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'b' }))).toEqual({ kind: 'test-event' });
  });

  it('rejects a non-JSON body', () => {
    expect(() => parseS3Notification('hello there')).toThrow(/message body is not JSON \(starts "hello there"\)/);
  });

  it('rejects an event with no Records', () => {
    expect(() => parseS3Notification('{"Records":[]}')).toThrow('S3 event has no Records');
    expect(() => parseS3Notification('{}')).toThrow(EventShapeError);
    expect(() => parseS3Notification('[1]')).toThrow('S3 event has no Records (its fields: 0)');
    expect(() => parseS3Notification('7')).toThrow('S3 event has no Records (its fields: number)');
  });

  it('names the fields of an EventBridge event put on the queue, and says S3 must send to it itself', () => {
    const bridged = { version: '0', id: 'e-1', 'detail-type': 'Object Created', source: 'aws.s3', account: '123456789012', time: '2026-11-29T00:00:00Z', detail: {} };
    expect(() => parseS3Notification(JSON.stringify(bridged))).toThrow(
      'S3 event has no Records (its fields: version, id, detail-type, source, account, time); only S3 ObjectCreated notifications belong on this queue, sent by S3 itself, not through SNS or EventBridge',
    );
  });

  it('rejects a record that is not ObjectCreated and names the event', () => {
    const event = loadEvent('s3-put.json');
    event.Records[0].eventName = 'ObjectRemoved:Delete';
    expect(() => parseS3Notification(JSON.stringify(event))).toThrow('Records[0] is ObjectRemoved:Delete, not ObjectCreated');
    event.Records[0].eventName = 's3:ObjectRemoved:Delete';
    expect(() => parseS3Notification(JSON.stringify(event))).toThrow('Records[0] is s3:ObjectRemoved:Delete, not ObjectCreated');
  });

  it('takes an event named as the notification configuration names it (s3:ObjectCreated:Put), as hand-written test events often are', () => {
    const event = loadEvent('s3-put.json');
    event.Records[0].eventName = 's3:ObjectCreated:Put';
    expect(parseS3Notification(JSON.stringify(event))).toMatchObject({ kind: 'objects', objects: [{ key: expect.any(String) }] });
  });

  it('names the missing field of a malformed record', () => {
    const event = loadEvent('s3-put.json');
    delete event.Records[0].s3.object.size;
    expect(() => parseS3Notification(JSON.stringify(event))).toThrow('Records[0] is not an S3 event record: s3.object.size is required');
  });

  it('names every field that is out of range, with what it must be', () => {
    const event = loadEvent('s3-put.json');
    event.Records[0].s3.bucket.name = '';
    event.Records[0].s3.object.size = -1.5;
    expect(() => parseS3Notification(JSON.stringify(event))).toThrow(
      'Records[0] is not an S3 event record: s3.bucket.name must not be empty, s3.object.size must be a whole number of bytes, s3.object.size must not be negative',
    );
  });

  it('rejects a record with neither versionId nor eTag', () => {
    const event = loadEvent('s3-put.json');
    delete event.Records[0].s3.object.eTag;
    delete event.Records[0].s3.object.versionId;
    expect(() => parseS3Notification(JSON.stringify(event))).toThrow('neither versionId nor eTag');
  });
});
