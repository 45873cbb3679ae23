/**
 * Members that a config file names twice in one object. JSON.parse keeps the last of them without
 * a word, while a person reviewing the file reads the first: a second `"kmsKey"` further down a
 * rule would send that rule's transcripts to another key, and the verifier, reading the same file,
 * would call them verified. `serverless package` and every `tkp` command refuse such a file.
 */

export interface DuplicateMember {
  /** Where, in the words of the config's own messages: `rules[3].kmsKey`. */
  path: string;
  /** The line of each occurrence, first to last. */
  lines: number[];
}

type Frame = { kind: 'object'; path: string; seen: Map<string, number[]>; key?: string } | { kind: 'array'; path: string; index: number };

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function childPath(frame: Frame | undefined): string {
  if (!frame) return '';
  if (frame.kind === 'array') return `${frame.path}[${frame.index}]`;
  const key = frame.key ?? '';
  if (IDENTIFIER.test(key)) return frame.path ? `${frame.path}.${key}` : key;
  return `${frame.path}[${JSON.stringify(key)}]`;
}

/** The duplicated members of a JSON text that JSON.parse accepts, each where it is first named again. */
export function duplicateMembers(text: string): DuplicateMember[] {
  const stack: Frame[] = [];
  const found: DuplicateMember[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\n') line++;
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const frame = stack[stack.length - 1];
      if (frame?.kind === 'object' && frame.key === undefined) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        frame.key = key;
        const lines = frame.seen.get(key);
        if (lines) {
          lines.push(line);
          if (lines.length === 2) found.push({ path: childPath(frame), lines });
        } else {
          frame.seen.set(key, [line]);
        }
      }
      i = end + 1;
      continue;
    }
    if (c === '{' || c === '[') {
      const path = childPath(stack[stack.length - 1]);
      stack.push(c === '{' ? { kind: 'object', path, seen: new Map() } : { kind: 'array', path, index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const frame = stack[stack.length - 1];
      if (frame?.kind === 'object') frame.key = undefined;
      else if (frame) frame.index++;
    }
    i++;
  }
  return found;
}

/** One problem line per duplicated member, naming its lines and the value JSON keeps. */
export function duplicateMemberProblems(text: string): string[] {
  return duplicateMembers(text).map(
    ({ path, lines }) =>
      `${path} appears ${lines.length} times (lines ${lines.join(', ')}); JSON keeps only the last, while a reader sees the first: keep one and delete the others`,
  );
}
