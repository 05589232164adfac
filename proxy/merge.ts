// Merging the replies of a request split across backends, per the table's proxy policy. Works
// on raw reply frames: element boundaries come from the frame scanner, never from decoding.
import { scanFrame } from '../common/resp/frame-scanner.js';

/** True when a raw frame is an error reply. */
export function isError(frame: Buffer): boolean {
  return frame[0] === 0x2d;
}

/** The integer of a ":n" frame, or null. */
export function integerOf(frame: Buffer): number | null {
  if (frame[0] !== 0x3a) return null;
  return Number(frame.latin1Slice(1, frame.length - 2));
}

/** Splits an array frame ("*n" or RESP3 "~n") into its element frames. */
export function arrayElements(frame: Buffer): Buffer[] | null {
  if (frame[0] !== 0x2a && frame[0] !== 0x7e && frame[0] !== 0x3e) return null;
  const lineEnd = frame.indexOf(13);
  const n = Number(frame.latin1Slice(1, lineEnd));
  const out: Buffer[] = [];
  let pos = lineEnd + 2;
  for (let i = 0; i < n; i++) {
    const end = scanFrame(frame, pos);
    out.push(frame.subarray(pos, end));
    pos = end;
  }
  return out;
}

/** "*n\r\n" followed by the given element frames. */
export function arrayFrame(elements: readonly Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(`*${elements.length}\r\n`, 'latin1'), ...elements]);
}

export function integerFrame(n: number): Buffer {
  return Buffer.from(`:${n}\r\n`, 'latin1');
}

export function errorFrame(message: string): Buffer {
  return Buffer.from(`-${message.replace(/[\r\n]/g, ' ')}\r\n`, 'latin1');
}

export const OK_FRAME = Buffer.from('+OK\r\n');

/** Sum of integer replies (DEL, EXISTS, UNLINK, TOUCH, DBSIZE); the first error wins. */
export function mergeSum(parts: readonly Buffer[]): Buffer {
  let sum = 0;
  for (const p of parts) {
    const n = integerOf(p);
    if (n === null) return isError(p) ? p : errorFrame('ERR unexpected reply from backend');
    sum += n;
  }
  return integerFrame(sum);
}

/** +OK when every part is +OK (MSET, FLUSHALL); otherwise the first error. */
export function mergeAllOk(parts: readonly Buffer[]): Buffer {
  for (const p of parts) if (isError(p)) return p;
  return OK_FRAME;
}

/**
 * A command every master must run alike (SCRIPT LOAD/EXISTS/FLUSH): the first error wins; arrays of
 * integers are ANDed position by position (SCRIPT EXISTS: 1 only where every master has the
 * script); anything else is the same everywhere (LOAD's sha, FLUSH's +OK), so the first reply.
 */
export function mergeEvery(parts: readonly Buffer[]): Buffer {
  for (const p of parts) if (isError(p)) return p;
  const first = arrayElements(parts[0]!);
  if (first === null) return parts[0]!;
  const all = first.map((el) => integerOf(el) ?? 0);
  for (let i = 1; i < parts.length; i++) {
    const els = arrayElements(parts[i]!);
    if (els === null || els.length !== all.length) return errorFrame('ERR unexpected reply from backend');
    for (let j = 0; j < all.length; j++) if (integerOf(els[j]!) !== 1) all[j] = 0;
  }
  return arrayFrame(all.map(integerFrame));
}

/** Concatenated arrays (KEYS); the first error wins. */
export function mergeConcat(parts: readonly Buffer[]): Buffer {
  const all: Buffer[] = [];
  for (const p of parts) {
    if (isError(p)) return p;
    const els = arrayElements(p);
    if (els === null) return errorFrame('ERR unexpected reply from backend');
    all.push(...els);
  }
  return arrayFrame(all);
}

/** One piece of a per-key split: the positions (in the client's key order) of its keys, and its reply. */
export interface Piece {
  readonly positions: readonly number[];
  reply: Buffer | null;
}

/**
 * MGET's merge: an array of `count` elements, each piece's elements put back at its keys'
 * positions. A failed piece (an error, or not an array) fails only its own keys: its reply takes
 * each of their places, so the client gets the shape it asked for.
 */
export function mergeByPosition(count: number, pieces: readonly Piece[]): Buffer {
  const out: Buffer[] = new Array(count);
  for (const piece of pieces) {
    const reply = piece.reply!;
    const els = isError(reply) ? null : arrayElements(reply);
    const failed = els === null || els.length !== piece.positions.length ? (isError(reply) ? reply : errorFrame('ERR unexpected reply from backend')) : null;
    for (let j = 0; j < piece.positions.length; j++) out[piece.positions[j]!] = failed ?? els![j]!;
  }
  return arrayFrame(out);
}
