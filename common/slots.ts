// Key → slot hashing shared by node, proxy and coordinator: crc32(tag) % 1024, Codis's hash with
// Redis Cluster's hash-tag rule. Works on raw bytes (proxy) and on latin1 strings (node keyspace).

export const SLOT_COUNT = 1024;

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** IEEE CRC-32 (zlib's) of bytes [start, end) of a buffer. */
export function crc32Bytes(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = -1;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** IEEE CRC-32 of chars [start, end) of a latin1 string (one char = one byte). */
export function crc32Latin1(s: string, start = 0, end = s.length): number {
  let crc = -1;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ s.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** Slot of a latin1 key: hash the text inside the first non-empty {…}, else the whole key. */
export function slotOf(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc32Latin1(key, open + 1, close) % SLOT_COUNT;
  }
  return crc32Latin1(key) % SLOT_COUNT;
}

/**
 * Slot of the key held in bytes [start, end) of a buffer (no string is created). One pass for a
 * key without '{' (the proxy's every request): the CRC runs while looking for the tag.
 */
export function slotOfBytes(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = -1;
  let i = start;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b === 0x7b /* { */) break;
    crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  }
  if (i < end) {
    for (let j = i + 1; j < end; j++) {
      if (buf[j] === 0x7d /* } */) {
        if (j > i + 1) return crc32Bytes(buf, i + 1, j) % SLOT_COUNT;
        break;
      }
    }
    // No tag after all ("{" alone, or "{}" first): the whole key is hashed.
    for (; i < end; i++) crc = CRC_TABLE[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return ((crc ^ -1) >>> 0) % SLOT_COUNT;
}

/** The hash tag of a key (what is hashed), as a latin1 string. */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}
