// Pure RESP2 reply decoding for the harness's persistent clients: simple strings, errors, integers
// and bulk strings (what PING, INFO, DBSIZE, BGSAVE and REPLICAOF answer). Arrays are not needed.

export type Reply = string | number | null | ReplyError;

/** An error reply (`-ERR …`), kept as a value so a caller decides whether it is fatal. */
export class ReplyError extends Error {}

export interface Decoded {
  reply: Reply;
  /** Offset just past the reply in the buffer. */
  next: number;
}

/**
 * Decodes the reply starting at `offset`, or returns null if the buffer does not hold all of it
 * yet. Throws on a type byte it does not handle, so a surprise fails loudly.
 */
export function decodeReply(buf: Buffer, offset: number): Decoded | null {
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return null;
  const type = buf[offset];
  const line = buf.toString('utf8', offset + 1, lineEnd);
  switch (type) {
    case 0x2b: // '+'
      return { reply: line, next: lineEnd + 2 };
    case 0x2d: // '-'
      return { reply: new ReplyError(line), next: lineEnd + 2 };
    case 0x3a: // ':'
      return { reply: Number(line), next: lineEnd + 2 };
    case 0x24: { // '$'
      const length = Number(line);
      if (length < 0) return { reply: null, next: lineEnd + 2 };
      const start = lineEnd + 2;
      if (buf.length < start + length + 2) return null;
      return { reply: buf.toString('utf8', start, start + length), next: start + length + 2 };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(String.fromCharCode(type))}`);
  }
}
