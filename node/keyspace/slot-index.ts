// Per-slot key lists (1024 slots) so a slot can be counted, scanned and migrated without a full
// keyspace scan. Removal swaps the last key into the hole; scans walk from the end so that every
// key present for a whole scan is returned at least once (a moved key only ever moves backwards
// in the walk, into the part not yet visited, or stays in the visited part).
import { SLOT_COUNT } from '../../common/slots.js';

export class SlotIndex {
  private readonly slots: string[][] = Array.from({ length: SLOT_COUNT }, () => []);

  /** Adds a key; returns its position (to keep in the key's entry). */
  add(slot: number, key: string): number {
    const keys = this.slots[slot]!;
    keys.push(key);
    return keys.length - 1;
  }

  /**
   * Removes the key at `pos`; returns the key that moved into `pos` (the caller updates that
   * key's stored position), or undefined if nothing moved.
   */
  remove(slot: number, pos: number): string | undefined {
    const keys = this.slots[slot]!;
    const last = keys.pop()!;
    if (pos < keys.length) {
      keys[pos] = last;
      return last;
    }
    return undefined;
  }

  count(slot: number): number {
    return this.slots[slot]!.length;
  }

  keyAt(slot: number, pos: number): string | undefined {
    return this.slots[slot]![pos];
  }

  keysOf(slot: number): readonly string[] {
    return this.slots[slot]!;
  }

  clear(): void {
    for (let s = 0; s < SLOT_COUNT; s++) this.slots[s] = [];
  }

  /**
   * Visits up to about `count` keys of one slot starting from `cursor` (0 = start) and returns
   * the next cursor (0 = done). The cursor is the number of positions still to visit plus one.
   */
  scanSlot(slot: number, cursor: number, count: number, visit: (key: string) => void): number {
    const keys = this.slots[slot]!;
    let next = cursor === 0 ? keys.length : Math.min(cursor - 1, keys.length);
    let visited = 0;
    while (next > 0 && visited < count) {
      next--;
      visit(keys[next]!);
      visited++;
    }
    return next === 0 ? 0 : next + 1;
  }
}
