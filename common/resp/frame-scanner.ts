// Finds where one RESP reply frame ends without decoding it, so the proxy can forward raw bytes.
// Understands RESP2 and RESP3 types. Pure function: no allocation on the complete path.

export const INCOMPLETE = -1;

export class FrameError extends Error {}

/**
 * Returns the offset just past the reply frame starting at `start`, or INCOMPLETE (-1) when the
 * buffer ends first. Throws FrameError when the bytes are not RESP.
 */
export function scanFrame(buf: Uint8Array, start: number, end = buf.length): number {
  // Aggregates are walked iteratively: `pending` counts the frames still owed by open aggregates.
  let pos = start;
  let pending = 1;
  while (pending > 0) {
    if (pos >= end) return INCOMPLETE;
    const type = buf[pos]!;
    const lineEnd = findLineEnd(buf, pos + 1, end);
    if (lineEnd < 0) return INCOMPLETE;
    pending--;
    switch (type) {
      case 0x2b: // + simple
      case 0x2d: // - error
      case 0x3a: // : integer
      case 0x5f: // _ null
      case 0x2c: // , double
      case 0x23: // # boolean
      case 0x28: // ( big number
        pos = lineEnd + 2;
        break;
      case 0x24: // $ bulk
      case 0x3d: // = verbatim
      case 0x21: { // ! bulk error
        const n = lineInt(buf, pos + 1, lineEnd);
        if (n < 0) {
          pos = lineEnd + 2;
          break;
        }
        const next = lineEnd + 2 + n + 2;
        if (next > end) return INCOMPLETE;
        pos = next;
        break;
      }
      case 0x2a: // * array
      case 0x7e: // ~ set
      case 0x3e: { // > push
        const n = lineInt(buf, pos + 1, lineEnd);
        if (n > 0) pending += n;
        pos = lineEnd + 2;
        break;
      }
      case 0x25: // % map
      case 0x7c: { // | attribute: its pairs precede the real reply
        const n = lineInt(buf, pos + 1, lineEnd);
        if (n > 0) pending += 2 * n;
        if (type === 0x7c) pending++;
        pos = lineEnd + 2;
        break;
      }
      default:
        throw new FrameError(`unexpected byte 0x${type.toString(16)} at reply start`);
    }
  }
  return pos;
}

function findLineEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i + 1 < end; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10) return i;
  }
  return -1;
}

function lineInt(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
  }
  if (i >= end) throw new FrameError('empty length');
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) throw new FrameError('bad length');
    n = n * 10 + d;
  }
  return neg ? -n : n;
}
