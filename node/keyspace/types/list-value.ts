// The list type: a ring-buffer deque of latin1 strings with O(1) amortised push/pop at both ends
// and O(1) indexing. Index arguments are already normalised (0 ≤ i < length) by the caller.

const MIN_CAPACITY = 8;

export class ListValue {
  private buf: (string | undefined)[] = new Array(MIN_CAPACITY);
  private mask = MIN_CAPACITY - 1;
  private head = 0;
  private len = 0;

  get length(): number {
    return this.len;
  }

  /** Redis 7.0 stores every list as a quicklist. */
  encoding(): 'quicklist' {
    return 'quicklist';
  }

  static from(items: Iterable<string>): ListValue {
    const list = new ListValue();
    for (const item of items) list.pushBack(item);
    return list;
  }

  pushBack(value: string): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.buf[(this.head + this.len) & this.mask] = value;
    this.len++;
  }

  pushFront(value: string): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = value;
    this.len++;
  }

  popBack(): string | undefined {
    if (this.len === 0) return undefined;
    const slot = (this.head + this.len - 1) & this.mask;
    const value = this.buf[slot];
    this.buf[slot] = undefined; // release the string for GC
    this.len--;
    this.maybeShrink();
    return value;
  }

  popFront(): string | undefined {
    if (this.len === 0) return undefined;
    const value = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.len--;
    this.maybeShrink();
    return value;
  }

  at(index: number): string {
    return this.buf[(this.head + index) & this.mask] as string;
  }

  set(index: number, value: string): void {
    this.buf[(this.head + index) & this.mask] = value;
  }

  /** Elements start..stop inclusive (already clamped to the list). Empty when start > stop. */
  range(start: number, stop: number): string[] {
    const count = stop - start + 1;
    if (count <= 0) return [];
    const out = new Array<string>(count);
    const { buf, mask } = this;
    const base = this.head + start;
    for (let i = 0; i < count; i++) out[i] = buf[(base + i) & mask] as string;
    return out;
  }

  toArray(): string[] {
    return this.range(0, this.len - 1);
  }

  /** Inserts `value` so that it ends up at `index` (0 ≤ index ≤ length), shifting the shorter side. */
  insertAt(index: number, value: string): void {
    if (index === 0) return this.pushFront(value);
    if (index === this.len) return this.pushBack(value);
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    const { buf, mask } = this;
    if (index < this.len / 2) {
      // Move elements 0..index-1 one slot towards the front.
      this.head = (this.head - 1) & mask;
      for (let i = 0; i < index; i++) buf[(this.head + i) & mask] = buf[(this.head + i + 1) & mask];
    } else {
      for (let i = this.len; i > index; i--) buf[(this.head + i) & mask] = buf[(this.head + i - 1) & mask];
    }
    buf[(this.head + index) & mask] = value;
    this.len++;
  }

  insertBefore(index: number, value: string): void {
    this.insertAt(index, value);
  }

  insertAfter(index: number, value: string): void {
    this.insertAt(index + 1, value);
  }

  /** Removes and returns the element at `index`, shifting the shorter side. */
  removeAt(index: number): string {
    const { buf, mask } = this;
    const value = buf[(this.head + index) & mask] as string;
    if (index < this.len / 2) {
      for (let i = index; i > 0; i--) buf[(this.head + i) & mask] = buf[(this.head + i - 1) & mask];
      buf[this.head] = undefined;
      this.head = (this.head + 1) & mask;
    } else {
      for (let i = index; i < this.len - 1; i++) buf[(this.head + i) & mask] = buf[(this.head + i + 1) & mask];
      buf[(this.head + this.len - 1) & mask] = undefined;
    }
    this.len--;
    this.maybeShrink();
    return value;
  }

  /**
   * LREM: count > 0 removes the first `count` matches from the head, count < 0 the first |count|
   * from the tail, 0 removes all. Returns how many were removed. One compaction pass, O(n).
   */
  remove(count: number, value: string): number {
    const len = this.len;
    const limit = count === 0 ? Infinity : Math.abs(count);
    const keep = new Array<string>();
    let removed = 0;
    if (count >= 0) {
      for (let i = 0; i < len; i++) {
        const item = this.at(i);
        if (removed < limit && item === value) removed++;
        else keep.push(item);
      }
    } else {
      for (let i = len - 1; i >= 0; i--) {
        const item = this.at(i);
        if (removed < limit && item === value) removed++;
        else keep.push(item);
      }
      keep.reverse();
    }
    if (removed > 0) this.replaceAll(keep);
    return removed;
  }

  /** LTRIM: keeps start..stop inclusive (already clamped); start > stop empties the list. */
  trim(start: number, stop: number): void {
    this.replaceAll(this.range(start, Math.min(stop, this.len - 1)));
  }

  /** Index of the first element equal to `value` at or after `from`, or -1. */
  indexOf(value: string, from = 0): number {
    for (let i = from; i < this.len; i++) if (this.at(i) === value) return i;
    return -1;
  }

  clear(): void {
    this.buf = new Array(MIN_CAPACITY);
    this.mask = MIN_CAPACITY - 1;
    this.head = 0;
    this.len = 0;
  }

  *[Symbol.iterator](): IterableIterator<string> {
    for (let i = 0; i < this.len; i++) yield this.at(i);
  }

  private replaceAll(items: string[]): void {
    let capacity = MIN_CAPACITY;
    while (capacity < items.length) capacity *= 2;
    const buf = new Array<string | undefined>(capacity);
    for (let i = 0; i < items.length; i++) buf[i] = items[i];
    this.buf = buf;
    this.mask = capacity - 1;
    this.head = 0;
    this.len = items.length;
  }

  /** Shrinks a mostly empty buffer so popped lists give memory back (amortised O(1)). */
  private maybeShrink(): void {
    const capacity = this.buf.length;
    if (capacity > 64 && this.len <= capacity / 4) this.resize(capacity / 2);
  }

  private resize(capacity: number): void {
    const buf = new Array<string | undefined>(capacity);
    for (let i = 0; i < this.len; i++) buf[i] = this.buf[(this.head + i) & this.mask];
    this.buf = buf;
    this.mask = capacity - 1;
    this.head = 0;
  }
}
