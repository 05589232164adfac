// Keys (and values) in dense arrays plus a key → slot Map: O(1) lookup, O(1) random pick, and a
// cursor SCAN that never misses an element. Knows nothing about Redis types or encodings.

/** Result of one SCAN step: the next cursor (0 = done) and the slots visited. */
export interface ScanStep {
  cursor: number;
  /** Slot indexes visited by this step, valid until the next mutation. */
  slots: number[];
}

/**
 * Dense key array with an index. Two deletion modes:
 * - ordered (the start): deletion splices, so iteration order is insertion order, like a listpack;
 * - unordered (sticky once chosen): deletion moves the last key into the hole, O(1).
 *
 * SCAN proof (unordered mode). The cursor is p = how many low slots are left to visit (0 = start,
 * meaning p = size). A step visits slots p-1 down to p-count and returns the new p (0 = finished).
 * Mutations only ever (a) append at slot size, or (b) move the last key down into a deleted slot.
 * So a key's slot never increases while it stays present. Claim: before each step, a key present
 * since the scan began and not yet returned sits at a slot < p. True at the start (p = size).
 * A step either returns it or leaves it below the new p; mutations between steps only lower its
 * slot; clamping p to size keeps the claim since every slot is < size. When p reaches 0 no slot is
 * below it, so the key was returned. Keys moved from the visited zone may be returned twice, which
 * SCAN allows.
 */
export class IndexedKeys {
  readonly keys: string[] = [];
  readonly index = new Map<string, number>();
  protected ordered = true;

  get size(): number {
    return this.keys.length;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  slotOf(key: string): number | undefined {
    return this.index.get(key);
  }

  /** True while deletions preserve insertion order. */
  get isOrdered(): boolean {
    return this.ordered;
  }

  /** Switches to O(1) swap-removal for good (the compact encoding was given up). */
  makeUnordered(): void {
    this.ordered = false;
  }

  /** Appends a key that must not be present; returns its slot. */
  protected appendKey(key: string): number {
    const slot = this.keys.length;
    this.keys.push(key);
    this.index.set(key, slot);
    return slot;
  }

  /** Deletes `key`; returns false when absent. */
  deleteKey(key: string): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    this.deleteSlot(slot);
    return true;
  }

  /** Deletes the key at `slot` (0 ≤ slot < size). */
  deleteSlot(slot: number): void {
    const keys = this.keys;
    this.index.delete(keys[slot]);
    const last = keys.length - 1;
    if (this.ordered) {
      for (let i = slot; i < last; i++) {
        const moved = keys[i + 1];
        keys[i] = moved;
        this.index.set(moved, i);
        this.moveValue(i + 1, i);
      }
    } else if (slot !== last) {
      const moved = keys[last];
      keys[slot] = moved;
      this.index.set(moved, slot);
      this.moveValue(last, slot);
    }
    keys.pop();
    this.popValue();
  }

  /** Hook: the value at `from` now lives at `to`. */
  protected moveValue(_from: number, _to: number): void {}

  /** Hook: drop the value in the last slot. */
  protected popValue(): void {}

  /** A uniformly random slot; the structure must not be empty. */
  randomSlot(): number {
    return Math.floor(Math.random() * this.keys.length);
  }

  /**
   * One SCAN step in unordered mode (see the class comment for why nothing is missed).
   * `cursor` 0 starts a scan; the returned cursor 0 ends it.
   */
  scanSlots(cursor: number, count: number): ScanStep {
    const size = this.keys.length;
    let p = cursor === 0 || cursor > size ? size : cursor;
    const stop = Math.max(0, p - Math.max(1, count));
    const slots: number[] = [];
    while (p > stop) slots.push(--p);
    return { cursor: p, slots };
  }

  clear(): void {
    this.keys.length = 0;
    this.index.clear();
    this.clearValues();
  }

  protected clearValues(): void {}
}

/** IndexedKeys with a value per key, kept in a parallel array. */
export class IndexedMap<V> extends IndexedKeys {
  readonly vals: V[] = [];

  get(key: string): V | undefined {
    const slot = this.index.get(key);
    return slot === undefined ? undefined : this.vals[slot];
  }

  /** Sets `key`; an existing key keeps its slot (updated in place). Returns true when added. */
  set(key: string, value: V): boolean {
    const slot = this.index.get(key);
    if (slot !== undefined) {
      this.vals[slot] = value;
      return false;
    }
    this.appendKey(key);
    this.vals.push(value);
    return true;
  }

  /** Appends a key the caller knows is absent (saves set()'s second lookup). */
  appendAbsent(key: string, value: V): void {
    this.appendKey(key);
    this.vals.push(value);
  }

  /** Sets the value at an existing slot. */
  setAt(slot: number, value: V): void {
    this.vals[slot] = value;
  }

  delete(key: string): boolean {
    return this.deleteKey(key);
  }

  protected override moveValue(from: number, to: number): void {
    this.vals[to] = this.vals[from];
  }

  protected override popValue(): void {
    this.vals.pop();
  }

  protected override clearValues(): void {
    this.vals.length = 0;
  }
}

/** IndexedKeys used as a set of strings. */
export class IndexedSet extends IndexedKeys {
  /** Adds `key`; returns true when it was not present. */
  add(key: string): boolean {
    if (this.index.has(key)) return false;
    this.appendKey(key);
    return true;
  }
}
