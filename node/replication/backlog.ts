// The replication backlog: a fixed-size ring of the most recent replication stream bytes, addressed
// by stream offsets, from which a reconnecting replica is served a partial resync (+CONTINUE).

export class Backlog {
  private buf: Buffer;
  /** Write position in the ring. */
  private idx = 0;
  /** Bytes of history held (≤ size). */
  histlen = 0;
  /** Stream offset of the first byte held (Redis's repl_backlog->offset). */
  firstByteOffset: number;

  /** `nextOffset` is the stream offset the next appended byte will have (master_repl_offset + 1). */
  constructor(size: number, nextOffset: number) {
    this.buf = Buffer.allocUnsafe(Math.max(16, size));
    this.firstByteOffset = nextOffset;
  }

  get size(): number {
    return this.buf.length;
  }

  append(data: Buffer): void {
    const size = this.buf.length;
    let src = data;
    if (src.length > size) {
      // Only the tail fits: older bytes would be overwritten anyway.
      this.firstByteOffset += this.histlen + (src.length - size);
      this.histlen = 0;
      src = src.subarray(src.length - size);
    }
    const first = Math.min(src.length, size - this.idx);
    src.copy(this.buf, this.idx, 0, first);
    if (first < src.length) src.copy(this.buf, 0, first);
    this.idx = (this.idx + src.length) % size;
    const newHist = this.histlen + src.length;
    if (newHist > size) {
      this.firstByteOffset += newHist - size;
      this.histlen = size;
    } else {
      this.histlen = newHist;
    }
  }

  /** True when every byte from stream offset `offset` on is held (offset may be one past the end). */
  covers(offset: number): boolean {
    return offset >= this.firstByteOffset && offset <= this.firstByteOffset + this.histlen;
  }

  /** A copy of the bytes from stream offset `offset` to the end; the caller checked covers(). */
  copyFrom(offset: number): Buffer {
    const skip = offset - this.firstByteOffset;
    const len = this.histlen - skip;
    const out = Buffer.allocUnsafe(len);
    const size = this.buf.length;
    const start = (this.idx - this.histlen + skip + size * 2) % size;
    const first = Math.min(len, size - start);
    this.buf.copy(out, 0, start, start + first);
    if (first < len) this.buf.copy(out, first, 0, len - first);
    return out;
  }

  /** Changes the ring size keeping the newest history that fits (CONFIG SET repl-backlog-size). */
  resize(size: number): void {
    if (size === this.buf.length) return;
    const keep = Math.min(this.histlen, size);
    const tail = this.copyFrom(this.firstByteOffset + this.histlen - keep);
    const nextOffset = this.firstByteOffset + this.histlen;
    this.buf = Buffer.allocUnsafe(Math.max(16, size));
    this.idx = 0;
    this.histlen = 0;
    this.firstByteOffset = nextOffset - keep;
    this.append(tail);
    this.firstByteOffset = nextOffset - keep;
  }
}
