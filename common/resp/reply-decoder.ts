// Decodes complete reply frames into values (tests, replication, the coordinator's raw links).
// Types are kept apart so callers can tell +OK from $2 OK and errors from strings.
import { INCOMPLETE, scanFrame } from './frame-scanner.js';

export class ReplyErrorValue {
  constructor(readonly message: string) {}
}

/** A RESP3 map, kept as ordered pairs. */
export class MapValue {
  constructor(readonly pairs: Array<[Reply, Reply]>) {}
}

/** A simple string (+text), distinct from a bulk string. */
export class SimpleString {
  constructor(readonly value: string) {}
}

export type Reply = string | number | bigint | null | boolean | SimpleString | ReplyErrorValue | Reply[] | MapValue;

/** Decodes one frame at `pos`; returns [value, nextPos] or null when incomplete. Strings are latin1. */
export function decodeReply(buf: Buffer, pos = 0): [Reply, number] | null {
  const end = scanFrame(buf, pos);
  if (end === INCOMPLETE) return null;
  const [value, next] = decodeAt(buf, pos);
  return [value, next];
}

function lineEnd(buf: Buffer, from: number): number {
  return buf.indexOf('\r\n', from, 'latin1');
}

function decodeAt(buf: Buffer, pos: number): [Reply, number] {
  const type = String.fromCharCode(buf[pos]!);
  const le = lineEnd(buf, pos + 1);
  const line = buf.latin1Slice(pos + 1, le);
  const next = le + 2;
  switch (type) {
    case '+':
      return [new SimpleString(line), next];
    case '-':
      return [new ReplyErrorValue(line), next];
    case ':': {
      const n = Number(line);
      return [Number.isSafeInteger(n) ? n : BigInt(line), next];
    }
    case '_':
      return [null, next];
    case '#':
      return [line === 't', next];
    case ',':
      return [line, next];
    case '(':
      return [BigInt(line), next];
    case '$':
    case '=':
    case '!': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const s = buf.latin1Slice(next, next + n);
      return [type === '!' ? new ReplyErrorValue(s) : s, next + n + 2];
    }
    case '*':
    case '~':
    case '>': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const out: Reply[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const [v, np] = decodeAt(buf, p);
        out.push(v);
        p = np;
      }
      return [out, p];
    }
    case '%':
    case '|': {
      const n = Number(line);
      const pairs: Array<[Reply, Reply]> = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const [k, p1] = decodeAt(buf, p);
        const [v, p2] = decodeAt(buf, p1);
        pairs.push([k, v]);
        p = p2;
      }
      if (type === '|') return decodeAt(buf, p); // attributes are metadata: skip to the reply
      return [new MapValue(pairs), p];
    }
    default:
      throw new Error(`bad reply type ${type}`);
  }
}
