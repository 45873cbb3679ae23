import { describe, expect, it } from 'vitest';
import { classifyObject, mediaFormatOf } from '../../../shared/start/mediaObject';

describe('classifyObject', () => {
  it.each([
    ['calls/a.wav', 'wav'],
    ['calls/A.MP3', 'mp3'],
    ['x/y.m4a', 'm4a'],
    ['x/y.tar.flac', 'flac'],
    ['x/y.webm', 'webm'],
    ['x/y.ogg', 'ogg'],
    ['x/y.amr', 'amr'],
    ['x/y.mp4', 'mp4'],
  ])('transcribes %s as %s', (key, format) => {
    expect(classifyObject({ key, size: 100 })).toEqual({ action: 'transcribe', mediaFormat: format });
  });

  it.each([
    ['a folder marker', { key: 'calls/2026/', size: 0 }, 'folder marker'],
    ['the write probe', { key: 'transcripts/.write_access_check_file.temp', size: 1 }, 'Transcribe write-access probe'],
    ['a zero-byte object', { key: 'calls/a.wav', size: 0 }, 'zero-byte object'],
    ['an unsupported extension', { key: 'calls/notes.txt', size: 5 }, 'unsupported extension .txt; Transcribe takes amr, flac, m4a, mp3, mp4, ogg, wav, webm'],
    ['a hidden file', { key: 'calls/.DS_Store', size: 6148 }, 'hidden file'],
    // macOS writes one beside every file copied to a mounted bucket; as a job it would fail and page.
    ['macOS metadata named like a recording', { key: 'calls/._Interview 3.wav', size: 4096 }, 'hidden file'],
    ['a temporary copy named like a recording', { key: 'calls/.interview.wav', size: 48_000 }, 'hidden file'],
    ['a hidden file without an extension', { key: 'ingest/._4f0c2a9e', size: 4096 }, 'hidden file'],
  ])('skips %s with a reason', (_label, object, reason) => {
    expect(classifyObject(object)).toEqual({ action: 'skip', reason });
  });

  it.each([
    ['a recording over 2 GB', { key: 'calls/a.wav', size: 2 * 1024 ** 3 + 1 }, 'the recording is 2147483649 bytes and Transcribe accepts at most 2 GB: split it into parts under 2 GB and upload those'],
    [
      'a recording in a format Transcribe does not take',
      { key: 'calls/Interview 3.AIFF', size: 5 },
      '.AIFF is a recording format Transcribe does not take (it takes amr, flac, m4a, mp3, mp4, ogg, wav, webm): convert the recording to one of them and upload that',
    ],
  ])('dead-letters %s, whose uploader expects a transcript, with what to do', (_label, object, reason) => {
    expect(classifyObject(object)).toEqual({ action: 'dead-letter', reason });
  });

  it('transcribes a name without an extension with no MediaFormat, so that Transcribe determines it (what is not media ends as a Failed verdict)', () => {
    expect(classifyObject({ key: 'ingest/2026/11/29/4f0c2a9e-77b1-4c35-9d2e-0a1b2c3d4e5f', size: 48_000 })).toEqual({ action: 'transcribe' });
    expect(classifyObject({ key: 'calls/README', size: 5 })).toEqual({ action: 'transcribe' });
    // The extension is the last dot's in the name, not in a folder.
    expect(classifyObject({ key: 'calls/v1.2/recording', size: 5 })).toEqual({ action: 'transcribe' });
  });

  it('reads the format past whitespace after the extension, which an ingestion slip leaves (a trailing space, or a CR from a list of names written on Windows)', () => {
    expect(classifyObject({ key: 'hr/ leading space and trailing .ogg ', size: 100 })).toEqual({ action: 'transcribe', mediaFormat: 'ogg' });
    expect(classifyObject({ key: 'ingest/call 7.WAV\r', size: 100 })).toEqual({ action: 'transcribe', mediaFormat: 'wav' });
    expect(classifyObject({ key: 'calls/a.mp3\u00a0\t', size: 100 })).toEqual({ action: 'transcribe', mediaFormat: 'mp3' });
    // ...and the same for what is not a recording, or a recording Transcribe does not take.
    expect(classifyObject({ key: 'calls/notes.txt ', size: 5 })).toEqual({ action: 'skip', reason: 'unsupported extension .txt; Transcribe takes amr, flac, m4a, mp3, mp4, ogg, wav, webm' });
    expect(classifyObject({ key: 'calls/a.aiff\n', size: 5 }).action).toBe('dead-letter');
    // Whitespace inside the name is part of it.
    expect(classifyObject({ key: 'calls/a.w av', size: 5 }).action).toBe('skip');
  });

  it('accepts exactly 2 GB', () => {
    expect(classifyObject({ key: 'a.wav', size: 2 * 1024 ** 3 }).action).toBe('transcribe');
  });

  it('does not take a dot file for an extension', () => {
    expect(mediaFormatOf('.wav')).toBeUndefined();
  });
});
