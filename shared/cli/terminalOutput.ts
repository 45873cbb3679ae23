/**
 * What the `tkp` CLI prints: on a terminal, colour and a progress bar for long work; piped or
 * with `--json`, plain text (or only the JSON document) and no bar, so output can be parsed.
 */
import { SingleBar } from 'cli-progress';
import { createColors } from 'picocolors';
import stringWidth from 'string-width';

export interface Progress {
  increment(by?: number): void;
  setTotal(total: number): void;
  stop(): void;
}

export interface TerminalOutput {
  readonly json: boolean;
  readonly colour: ReturnType<typeof createColors>;
  /** A line of human output; suppressed with --json. */
  line(text?: string): void;
  /** The JSON document of a --json run. */
  document(value: unknown): void;
  /** A table with a header row; columns sized as wide as a terminal shows them. Cells are plain text, each shown as terminalText; colour goes in `paint`. */
  table(header: readonly string[], rows: readonly (readonly string[])[], paint?: (cell: string, column: number, row: number) => string): void;
  mark(ok: boolean): string;
  progress(label: string, total?: number): Progress;
}

export interface OutputStreams {
  stdout: NodeJS.WriteStream | { write(text: string): unknown; isTTY?: boolean };
  stderr: NodeJS.WriteStream | { write(text: string): unknown; isTTY?: boolean };
}

/**
 * A cell padded to the columns a terminal gives it: a CJK character takes two, a combining accent
 * (an é written as e and U+0301, as macOS names files) none, so a table of odd file names lines up.
 */
export function padToWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - stringWidth(text)));
}

/** Control characters (C0, DEL, C1) and the bidirectional overrides and isolates. */
const UNSHOWABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Text from outside (an uploader's key, a dead letter's reason, a listing's error) as one line
 * of a terminal: tabs, line breaks, control characters and bidirectional overrides written as
 * escapes (`\u001b`). S3 takes any character in a key, so a name could otherwise restyle, move
 * or erase what the terminal shows (ESC and CSI sequences), break a line, or show itself
 * reversed (U+202E) to an operator reading a report.
 */
export function terminalText(text: string): string {
  return text.replace(UNSHOWABLE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Each column's width in a table: its widest cell, the header's included, as a terminal shows it. */
export function columnWidths(header: readonly string[], rows: readonly (readonly string[])[]): number[] {
  return header.map((h, i) => Math.max(stringWidth(h), ...rows.map((r) => stringWidth(r[i] ?? ''))));
}

export function createTerminalOutput(options: { json: boolean }, streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr }): TerminalOutput {
  const tty = Boolean(streams.stdout.isTTY) && !options.json;
  const colour = createColors(tty);
  const write = (text: string) => streams.stdout.write(`${text}\n`);
  return {
    json: options.json,
    colour,
    line: (text = '') => {
      if (!options.json) write(text);
    },
    document: (value) => write(JSON.stringify(value, null, 2)),
    table: (header, given, paint = (cell) => cell) => {
      if (options.json) return;
      const rows = given.map((row) => row.map(terminalText));
      const widths = columnWidths(header, rows);
      const render = (cells: readonly string[], rowIndex: number) =>
        cells
          .map((cell, i) => {
            const padded = i === cells.length - 1 ? cell : padToWidth(cell, widths[i] ?? 0);
            return rowIndex < 0 ? colour.bold(padded) : paint(padded, i, rowIndex);
          })
          .join('  ')
          .trimEnd();
      write(render(header, -1));
      rows.forEach((row, i) => write(render(row, i)));
    },
    mark: (ok) => (ok ? colour.green('✔') : colour.red('✘')),
    progress: (label, total) => {
      if (!tty || !streams.stderr.isTTY) return { increment: () => undefined, setTotal: () => undefined, stop: () => undefined };
      const bar = new SingleBar(
        {
          // A listing's length is unknown until it ends: a count then, a bar only against a known total.
          format: total === undefined ? `${label}: {value} | {duration_formatted}` : `${label} [{bar}] {value}/{total} | {duration_formatted}`,
          stream: streams.stderr as NodeJS.WriteStream,
          hideCursor: true,
          clearOnComplete: true,
        },
      );
      bar.start(total ?? 0, 0);
      return {
        increment: (by = 1) => bar.increment(by),
        setTotal: (value) => bar.setTotal(value),
        stop: () => bar.stop(),
      };
    },
  };
}

/** How many filters or problems one line lists: a config of a hundred prefixes would otherwise fill the screen. */
const LISTED = 10;
/** The first ten items, and how many more there are. */
export const firstTenOf = (items: readonly string[], separator: string) =>
  items.length <= LISTED ? items.join(separator) : `${items.slice(0, LISTED).join(separator)}${separator}and ${items.length - LISTED} more`;
