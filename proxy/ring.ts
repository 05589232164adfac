// A FIFO on a ring of slots (capacity a power of two, doubled when full, never shrunk): push and
// shift allocate nothing once it fits the pipeline, and a shifted slot is cleared at once, so
// what it held can be collected young (a plain array with a moving head keeps it until compacted).
export class Ring<T> {
  private slots: Array<T | undefined>;
  private head = 0;
  private count = 0;

  constructor(capacity = 16) {
    let size = 1;
    while (size < capacity) size *= 2;
    this.slots = new Array<T | undefined>(size).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  /** The oldest item, or undefined when empty. */
  first(): T | undefined {
    return this.count === 0 ? undefined : this.slots[this.head];
  }

  push(item: T): void {
    if (this.count === this.slots.length) this.grow();
    this.slots[(this.head + this.count) & (this.slots.length - 1)] = item;
    this.count++;
  }

  /** Removes and returns the oldest item (undefined when empty). */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & (this.slots.length - 1);
    this.count--;
    return item;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const old = this.slots;
    const next = new Array<T | undefined>(old.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.slots = next;
    this.head = 0;
  }
}
