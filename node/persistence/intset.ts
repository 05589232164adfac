// Redis's intset blob (intset.c): sorted little-endian integers of one width (2, 4 or 8 bytes).
// Members travel as canonical decimal strings; the caller sorts before building.

import { parseInt64 } from '../keyspace/types/canonical-int.js';
import { RdbFormatError } from './rdb-constants.js';

const HEADER_SIZE = 8; // encoding (u32) + length (u32)

/** Builds an intset from canonical integer strings already in ascending numeric order. */
export function buildIntset(sortedMembers: readonly string[]): Buffer {
  const values = sortedMembers.map((m) => {
    const v = parseInt64(m);
    if (v === null) throw new RangeError(`intset member is not an integer: ${m}`);
    return v;
  });
  let width = 2;
  for (const v of values) {
    if (typeof v === 'bigint' || v < -2147483648 || v > 2147483647) {
      width = 8;
      break;
    }
    if (v < -32768 || v > 32767) width = 4;
  }
  const blob = Buffer.allocUnsafe(HEADER_SIZE + width * values.length);
  blob.writeUInt32LE(width, 0);
  blob.writeUInt32LE(values.length, 4);
  let p = HEADER_SIZE;
  for (const v of values) {
    if (width === 2) blob.writeInt16LE(v as number, p);
    else if (width === 4) blob.writeInt32LE(v as number, p);
    else blob.writeBigInt64LE(BigInt(v), p);
    p += width;
  }
  return blob;
}

/** Parses an intset into decimal strings; rejects bad sizes and unsorted or duplicate values. */
export function parseIntset(blob: Buffer): string[] {
  if (blob.length < HEADER_SIZE) throw new RdbFormatError('intset: too short');
  const width = blob.readUInt32LE(0);
  if (width !== 2 && width !== 4 && width !== 8) throw new RdbFormatError('intset: bad encoding');
  const count = blob.readUInt32LE(4);
  if (blob.length !== HEADER_SIZE + width * count) throw new RdbFormatError('intset: bad size');
  const out = new Array<string>(count);
  let prev: bigint | null = null;
  for (let i = 0, p = HEADER_SIZE; i < count; i++, p += width) {
    const v =
      width === 2 ? BigInt(blob.readInt16LE(p)) : width === 4 ? BigInt(blob.readInt32LE(p)) : blob.readBigInt64LE(p);
    if (prev !== null && v <= prev) throw new RdbFormatError('intset: not strictly ascending');
    prev = v;
    out[i] = String(v);
  }
  return out;
}
