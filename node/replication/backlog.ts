// The replication backlog: a ring of the most recent replication stream bytes, addressed by
// stream offsets, from which a reconnecting replica is served a partial resync (+CONTINUE).
//
// The configured size is a cap, not an allocation: the ring starts at 1 MiB (or the cap, if
// smaller) and doubles as history fills it, like Redis's backlog of blocks. So `CONFIG SET
// repl-backlog-size 100gb` allocates nothing at once, and the ring stops growing (keeping what it
// holds) at Node's largest Buffer or when memory for a bigger one cannot be had.
import { constants } from 'node:buffer';

const FIRST_CAPACITY = 1 << 20;

export class Backlog {
  private buf: Buffer;
  /** The most the ring may grow to: the configured size within Node's Buffer limit. */
  private limit: number;
  /** Write position in the ring. */
  private idx = 0;
  /** Bytes of history held (≤ the ring's capacity). */
  histlen = 0;
  /** Stream offset of the first byte held (Redis's repl_backlog->offset). */
  firstByteOffset: number;

  /** `nextOffset` is the stream offset the next appended byte will have (master_repl_offset + 1). */
  constructor(size: number, nextOffset: number) {
    this.limit = capOf(size);
    this.buf = Buffer.allocUnsafe(Math.min(this.limit, FIRST_CAPACITY));
    this.firstByteOffset = nextOffset;
  }

  /** Bytes the ring holds in memory (INFO's mem_replication_backlog). */
  get size(): number {
    return this.buf.length;
  }

  append(data: Buffer): void {
    if (this.histlen + data.length > this.buf.length && this.buf.length < this.limit) this.grow(this.histlen + data.length);
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

  /** A bigger ring (at least `need` bytes when the cap allows) with the history moved to its start. */
  private grow(need: number): void {
    const capacity = Math.min(this.limit, Math.max(need, this.buf.length * 2));
    let next: Buffer;
    try {
      next = Buffer.allocUnsafe(capacity);
    } catch {
      this.limit = this.buf.length; // no memory for more: the ring stays as it is
      return;
    }
    const old = this.buf;
    const start = (this.idx - this.histlen + old.length) % old.length;
    const first = Math.min(this.histlen, old.length - start);
    old.copy(next, 0, start, start + first);
    if (first < this.histlen) old.copy(next, first, 0, this.histlen - first);
    this.buf = next;
    this.idx = this.histlen % capacity;
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

  /** Changes the cap keeping the newest history that fits (CONFIG SET repl-backlog-size). */
  resize(size: number): void {
    this.limit = capOf(size);
    if (this.buf.length <= this.limit) return; // it may grow to the new cap as history comes
    const keep = Math.min(this.histlen, this.limit);
    const tail = this.copyFrom(this.firstByteOffset + this.histlen - keep);
    const nextOffset = this.firstByteOffset + this.histlen;
    this.buf = Buffer.allocUnsafe(Math.min(this.limit, Math.max(keep, FIRST_CAPACITY)));
    this.idx = 0;
    this.histlen = 0;
    this.firstByteOffset = nextOffset - keep;
    this.append(tail);
    this.firstByteOffset = nextOffset - keep;
  }
}

/** The cap for a configured size: at least 16 bytes, at most Node's largest Buffer. */
function capOf(size: number): number {
  return Math.max(16, Math.min(size, constants.MAX_LENGTH));
}
