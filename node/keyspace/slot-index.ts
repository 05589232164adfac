// Per-slot key lists (1024 slots) so a slot can be counted, scanned and migrated without a full
// keyspace scan. Removal swaps the last key into the hole; scans walk from the end so that every
// key present for a whole scan is returned at least once (a moved key only ever moves backwards
// in the walk, into the part not yet visited, or stays in the visited part).
//
// Hidden keys: the slot mover's partial imports (node/cluster/import.ts) live in the keyspace,
// so replicas, the AOF and snapshots carry them like any key, under names ending in
// HIDDEN_SUFFIX. Clients must never see them: the index remembers which are present (a few at a
// time: one per big key being imported), counts leave them out, and Db's lookups treat them as
// absent. Telling one apart costs one character comparison per added key; everything else is
// skipped while no hidden key exists.
import { SLOT_COUNT } from '../../common/slots.js';

/** The end of every hidden key's name (NUL + "tessera-import"): reserved, never shown to clients. */
export const HIDDEN_SUFFIX = '\x00tessera-import';
const SUFFIX_LEN = HIDDEN_SUFFIX.length;

/** Whether a key name is reserved for a partial import (cheap: fails on the first char for almost all keys). */
export function isHiddenName(key: string): boolean {
  return key.length >= SUFFIX_LEN && key.charCodeAt(key.length - SUFFIX_LEN) === 0 && key.endsWith(HIDDEN_SUFFIX);
}

export class SlotIndex {
  private readonly slots: string[][] = Array.from({ length: SLOT_COUNT }, () => []);
  /** Hidden keys present → their slot. */
  private readonly hidden = new Map<string, number>();

  /** Adds a key; returns its position (to keep in the key's entry). */
  add(slot: number, key: string): number {
    const keys = this.slots[slot]!;
    keys.push(key);
    if (isHiddenName(key)) this.hidden.set(key, slot);
    return keys.length - 1;
  }

  /**
   * Removes the key at `pos`; returns the key that moved into `pos` (the caller updates that
   * key's stored position), or undefined if nothing moved.
   */
  remove(slot: number, pos: number): string | undefined {
    const keys = this.slots[slot]!;
    if (this.hidden.size !== 0) this.hidden.delete(keys[pos]!);
    const last = keys.pop()!;
    if (pos < keys.length) {
      keys[pos] = last;
      return last;
    }
    return undefined;
  }

  /** How many hidden keys exist (0: nothing to filter anywhere). */
  get hiddenCount(): number {
    return this.hidden.size;
  }

  isHidden(key: string): boolean {
    return this.hidden.size !== 0 && this.hidden.has(key);
  }

  /** Hidden keys present (with their slots): few, one per big key being imported. */
  hiddenKeys(): IterableIterator<[string, number]> {
    return this.hidden.entries();
  }

  /** Keys of the slot clients can see (hidden keys left out). */
  count(slot: number): number {
    const n = this.slots[slot]!.length;
    if (this.hidden.size === 0) return n;
    let h = 0;
    for (const s of this.hidden.values()) if (s === slot) h++;
    return n - h;
  }

  /** Every key of the slot, hidden ones included (positions for keyAt). */
  rawCount(slot: number): number {
    return this.slots[slot]!.length;
  }

  keyAt(slot: number, pos: number): string | undefined {
    return this.slots[slot]![pos];
  }

  /** Every key of the slot, hidden ones included (callers that move or sample keys skip them). */
  keysOf(slot: number): readonly string[] {
    return this.slots[slot]!;
  }

  clear(): void {
    for (let s = 0; s < SLOT_COUNT; s++) this.slots[s] = [];
    this.hidden.clear();
  }

  /**
   * Visits up to about `count` keys of one slot starting from `cursor` (0 = start) and returns
   * the next cursor (0 = done). The cursor is the number of positions still to visit plus one.
   * Hidden keys are passed over (they count toward `count`, so a scan stays bounded).
   */
  scanSlot(slot: number, cursor: number, count: number, visit: (key: string) => void): number {
    const keys = this.slots[slot]!;
    let next = cursor === 0 ? keys.length : Math.min(cursor - 1, keys.length);
    let visited = 0;
    const filter = this.hidden.size !== 0;
    while (next > 0 && visited < count) {
      next--;
      const key = keys[next]!;
      if (!filter || !this.hidden.has(key)) visit(key);
      visited++;
    }
    return next === 0 ? 0 : next + 1;
  }
}
