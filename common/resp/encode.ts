// Encoders for requests (client side: tests, replication, the coordinator) as RESP multibulk bytes.

/** Encodes a command as a RESP array of bulk strings. String arguments are written as latin1 bytes. */
export function encodeCommand(args: ReadonlyArray<string | Buffer | number>): Buffer {
  let size = 16;
  for (const a of args) size += (typeof a === 'string' ? a.length : typeof a === 'number' ? 24 : a.length) + 16;
  const out = Buffer.allocUnsafe(size);
  let p = out.latin1Write(`*${args.length}\r\n`, 0);
  for (const a of args) {
    if (Buffer.isBuffer(a)) {
      p += out.latin1Write(`$${a.length}\r\n`, p);
      p += a.copy(out, p);
    } else {
      const s = typeof a === 'number' ? String(a) : a;
      p += out.latin1Write(`$${s.length}\r\n`, p);
      p += out.latin1Write(s, p);
    }
    out[p++] = 13;
    out[p++] = 10;
  }
  return out.subarray(0, p);
}
