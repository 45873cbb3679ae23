import { describe, expect, it } from 'vitest';
import { createTerminalOutput, padToWidth, terminalText } from '../../../shared/cli/terminalOutput';

function streams(isTTY: boolean) {
  const written = { stdout: '', stderr: '' };
  return {
    written,
    streams: {
      stdout: { isTTY, write: (text: string) => (written.stdout += text) },
      stderr: { isTTY, write: (text: string) => (written.stderr += text) },
    },
  };
}

describe('createTerminalOutput', () => {
  it('prints plain text and no progress when piped', () => {
    const { written, streams: s } = streams(false);
    const out = createTerminalOutput({ json: false }, s);
    out.table(['rule', 'result'], [['calls/', out.mark(true)], ['hr/', out.mark(false)]]);
    const progress = out.progress('auditing');
    progress.increment(5);
    progress.stop();
    expect(written.stdout).toBe('rule    result\ncalls/  ✔\nhr/     ✘\n');
    expect(written.stdout).not.toContain('\u001b[');
    expect(written.stderr).toBe('');
  });

  it('lines a table up by the columns a terminal shows: a CJK name takes two per character, a combining accent none', () => {
    const { written, streams: s } = streams(false);
    const out = createTerminalOutput({ json: false }, s);
    out.table(['object', 'verdict'], [['会議.wav', 'verified'], ['e\u0301.wav', 'failed'], ['plain.wav', 'verified']]);
    expect(written.stdout).toBe('object     verdict\n会議.wav   verified\ne\u0301.wav      failed\nplain.wav  verified\n');
    expect(padToWidth('会議', 6)).toBe('会議  ');
  });

  it('colours a terminal', () => {
    const { written, streams: s } = streams(true);
    const out = createTerminalOutput({ json: false }, s);
    out.line(out.mark(true));
    expect(written.stdout).toContain('\u001b[32m✔');
  });

  it('prints only the JSON document with --json, even on a terminal', () => {
    const { written, streams: s } = streams(true);
    const out = createTerminalOutput({ json: true }, s);
    out.line('human text');
    out.table(['a'], [['b']]);
    out.document({ failed: 0 });
    expect(JSON.parse(written.stdout)).toEqual({ failed: 0 });
    expect(written.stderr).toBe('');
  });
});

describe('terminalText: an uploader\'s name as one line of a terminal', () => {
  it('writes control characters, C1 controls and bidirectional overrides as escapes, and keeps every other character', () => {
    expect(terminalText('calls/\u001b]0;owned\u0007x\u001b[2K\ry\tz\n.wav')).toBe('calls/\\u001b]0;owned\\u0007x\\u001b[2K\\ry\\tz\\n.wav');
    expect(terminalText('invoice\u202ewav.exe \u009b31m \u2066x\u2069')).toBe('invoice\\u202ewav.exe \\u009b31m \\u2066x\\u2069');
    expect(terminalText('会議 é e\u0301 🎧 ~%41+')).toBe('会議 é e\u0301 🎧 ~%41+');
  });

  it('is how a table shows every cell, before it is padded and painted, so a name holding ESC neither restyles the row nor breaks the columns', () => {
    const { written, streams: s } = streams(true);
    const out = createTerminalOutput({ json: false }, s);
    out.table(['object', 'verdict'], [['a\u001b[8mhidden.wav', 'verified'], ['b.wav', 'failed']]);
    const [, first = '', second = ''] = written.stdout.split('\n');
    expect(first).toContain('a\\u001b[8mhidden.wav');
    expect(first).not.toContain('\u001b[8m');
    expect(first.indexOf('verified')).toBe(second.indexOf('failed'));
  });
});
