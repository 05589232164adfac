// AOF bytes: commands as RESP arrays of bulk strings (latin1 strings in, latin1 strings out) and
// a reader that splits a file into commands, telling a clean end from a truncated or corrupt one.

/** One command in AOF/RESP form, as a latin1 string (key and value bytes are one char each). */
export function encodeAofCommand(argv: readonly string[]): string {
  let out = `*${argv.length}\r\n`;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    out += `$${a.length}\r\n${a}\r\n`;
  }
  return out;
}

export type AofReadEnd =
  /** The file ended after a complete command (or was empty). */
  | { kind: 'ok' }
  /** The file ended inside a command: everything from `validBytes` on is an incomplete tail. */
  | { kind: 'truncated'; validBytes: number }
  /** Bytes that are not AOF at `offset` (Redis's "Bad file format"). */
  | { kind: 'corrupt'; offset: number };

/**
 * Calls `onCommand` for each complete command of `buf`, in order, with its end offset.
 * Like Redis's loader, lines starting with '#' between commands are annotations and skipped.
 */
export function readAofCommands(buf: Buffer, onCommand: (argv: string[], endOffset: number) => void): AofReadEnd {
  let pos = 0;
  const len = buf.length;
  while (pos < len) {
    const start = pos;
    if (buf[pos] === 0x23 /* # */) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) return { kind: 'truncated', validBytes: start };
      pos = nl + 1;
      continue;
    }
    if (buf[pos] !== 0x2a /* * */) return { kind: 'corrupt', offset: pos };
    const head = readNumberLine(buf, pos + 1);
    if (head === null) return { kind: 'truncated', validBytes: start };
    if (head === 'bad' || head.value < 1) return { kind: 'corrupt', offset: pos };
    pos = head.next;
    const argv = new Array<string>(head.value);
    for (let i = 0; i < head.value; i++) {
      if (pos >= len) return { kind: 'truncated', validBytes: start };
      if (buf[pos] !== 0x24 /* $ */) return { kind: 'corrupt', offset: pos };
      const bulk = readNumberLine(buf, pos + 1);
      if (bulk === null) return { kind: 'truncated', validBytes: start };
      if (bulk === 'bad' || bulk.value < 0) return { kind: 'corrupt', offset: pos };
      const dataEnd = bulk.next + bulk.value;
      if (dataEnd + 2 > len) return { kind: 'truncated', validBytes: start };
      argv[i] = buf.toString('latin1', bulk.next, dataEnd);
      pos = dataEnd + 2;
    }
    onCommand(argv, pos);
  }
  return { kind: 'ok' };
}

/** Parses "<digits>\r\n" at `pos`: null when the file ends first, 'bad' when it is not a number line. */
function readNumberLine(buf: Buffer, pos: number): { value: number; next: number } | null | 'bad' {
  const nl = buf.indexOf(0x0a, pos);
  if (nl < 0) return null;
  const end = nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl;
  const text = buf.toString('latin1', pos, end);
  if (!/^-?\d{1,18}$/.test(text)) return 'bad';
  return { value: Number(text), next: nl + 1 };
}
