// Type declarations for Node's undocumented-but-stable latin1 fast paths (one char per byte),
// which @types/node omits. Type-only: importing this module emits nothing at run time.

declare global {
  interface Buffer<TArrayBuffer extends ArrayBufferLike = ArrayBufferLike> {
    /** Bytes start..end as a latin1 string (no intermediate copies). */
    latin1Slice(start?: number, end?: number): string;
    /** Writes `s` (chars ≤ 0xff) as bytes at `offset`; returns the number of bytes written. */
    latin1Write(s: string, offset?: number, length?: number): number;
  }
}

export {};
