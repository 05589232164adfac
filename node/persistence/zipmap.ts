// Parser for Redis's legacy zipmap blob (RDB type 9, hashes from Redis ≤ 2.4). Read-only.

import { RdbFormatError } from './rdb-constants.js';

const END = 0xff;
const BIGLEN = 254;

/** Parses a zipmap into flat [field, value, …] latin1 strings; throws RdbFormatError when malformed. */
export function parseZipmap(blob: Buffer): string[] {
  const out: string[] = [];
  let p = 1; // skip zmlen (a count hint that saturates at 254)
  const readLen = (): number => {
    if (p >= blob.length) throw new RdbFormatError('zipmap: truncated');
    const b = blob[p];
    if (b < BIGLEN) {
      p += 1;
      return b;
    }
    if (b === BIGLEN) {
      if (p + 5 > blob.length) throw new RdbFormatError('zipmap: truncated');
      const len = blob.readUInt32LE(p + 1);
      p += 5;
      return len;
    }
    if (b === END) {
      p += 1;
      return -1;
    }
    throw new RdbFormatError('zipmap: bad length byte');
  };
  for (;;) {
    const keyLen = readLen();
    if (keyLen < 0) break;
    if (p + keyLen > blob.length) throw new RdbFormatError('zipmap: truncated');
    const key = blob.latin1Slice(p, p + keyLen);
    p += keyLen;
    const valueLen = readLen();
    if (valueLen < 0 || p + 1 + valueLen > blob.length) throw new RdbFormatError('zipmap: truncated');
    const free = blob[p++];
    const value = blob.latin1Slice(p, p + valueLen);
    p += valueLen + free;
    out.push(key, value);
  }
  if (p !== blob.length) throw new RdbFormatError('zipmap: trailing bytes');
  return out;
}
