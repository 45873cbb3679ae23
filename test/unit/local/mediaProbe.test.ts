import { describe, expect, it } from 'vitest';
import { kmsTargetAccount } from '../../local/emulator/gateway';
import { formatMatches, makeWav, probeMedia } from '../../local/emulator/mediaProbe';

describe('probeMedia (the emulator reads formats and durations from headers)', () => {
  it('reads a WAV file and its duration', () => {
    const wav = makeWav(2.5);
    expect(probeMedia(wav.subarray(0, 4096), wav.length)).toEqual({ format: 'wav', durationSeconds: 2.5, channels: 1 });
  });

  it('reads the channels of a two-channel WAV file (Call Analytics takes only those)', () => {
    const wav = makeWav(1.5, { channels: 2 });
    expect(probeMedia(wav.subarray(0, 4096), wav.length)).toEqual({ format: 'wav', durationSeconds: 1.5, channels: 2 });
  });

  it('reads a FLAC STREAMINFO duration', () => {
    const flac = Buffer.alloc(42);
    flac.write('fLaC', 0, 'latin1');
    flac[4] = 0x80; // last metadata block, type 0 (STREAMINFO)
    const info = 8;
    const sampleRate = 16000;
    flac[info + 10] = (sampleRate >> 12) & 0xff;
    flac[info + 11] = (sampleRate >> 4) & 0xff;
    flac[info + 12] = (sampleRate & 0x0f) << 4;
    flac.writeUInt32BE(48000, info + 14);
    expect(probeMedia(flac, 1000)).toEqual({ format: 'flac', durationSeconds: 3, channels: 1 });
    flac[info + 12] = ((sampleRate & 0x0f) << 4) | (1 << 1); // channels - 1 = 1
    expect(probeMedia(flac, 1000)).toMatchObject({ channels: 2 });
  });

  it.each([
    ['ogg', Buffer.from('OggS\0\0\0\0')],
    ['mp3', Buffer.from('ID3\x04\0\0\0\0')],
    ['mp3', Buffer.from([0xff, 0xfb, 0x90, 0x00])],
    ['mp4', Buffer.from('\0\0\0\x18ftypM4A ')],
    ['webm', Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0, 0])],
    ['amr', Buffer.from('#!AMR\n')],
    ['unknown', Buffer.from('hello, this is text')],
  ])('recognises %s without claiming a duration', (format, head) => {
    expect(probeMedia(head, head.length)).toEqual({ format });
  });

  it('accepts m4a for an MP4 container and nothing else', () => {
    expect(formatMatches('m4a', 'mp4')).toBe(true);
    expect(formatMatches('mp3', 'wav')).toBe(false);
  });
});

describe('gateway account routing', () => {
  it('sends a request naming another account’s ARN to that account and keeps bare names at home', () => {
    expect(kmsTargetAccount(JSON.stringify({ KeyId: 'arn:aws:kms:us-east-1:222233334444:alias/acme' }))).toBe('222233334444');
    expect(kmsTargetAccount(JSON.stringify({ KeyId: 'alias/acme' }))).toBe('123456789012');
    expect(kmsTargetAccount('not json')).toBe('123456789012');
  });
});
