// The set type with Redis's intset/hashtable encoding rules. Members are latin1 strings; while
// intset, reads come back in ascending numeric order like Redis's sorted intset.

import { compareCanonicalInts, isCanonicalInt64 } from './canonical-int.js';
import { encodingLimits } from './encoding-limits.js';
import { IndexedSet } from './indexed-map.js';

export type SetEncoding = 'intset' | 'hashtable';

export interface SetScanResult {
  cursor: number;
  items: string[];
}

export class SetValue {
  /** Members in arbitrary order (swap-removal); `intset` decides how they are read back. */
  readonly members = new IndexedSet();
  private intset = true;

  constructor() {
    this.members.makeUnordered();
  }

  get size(): number {
    return this.members.size;
  }

  encoding(): SetEncoding {
    return this.intset ? 'intset' : 'hashtable';
  }

  has(member: string): boolean {
    return this.members.has(member);
  }

  /** Adds a member; returns true when it was new. A non-integer or the 513th member converts. */
  add(member: string): boolean {
    if (!this.members.add(member)) return false;
    if (this.intset && (this.members.size > encodingLimits.setMaxIntsetEntries || !isCanonicalInt64(member))) {
      this.intset = false;
    }
    return true;
  }

  delete(member: string): boolean {
    return this.members.deleteKey(member);
  }

  /** Forces the hashtable encoding (RDB/RESTORE of a SET type). */
  convertToHashtable(): void {
    this.intset = false;
  }

  memberAt(slot: number): string {
    return this.members.keys[slot];
  }

  randomSlot(): number {
    return this.members.randomSlot();
  }

  /** A random member in O(1); the set must not be empty. */
  randomMember(): string {
    return this.members.keys[this.members.randomSlot()];
  }

  /** All members: ascending numeric order while intset, storage order otherwise. */
  toArray(): string[] {
    const out = this.members.keys.slice();
    if (this.intset) out.sort(compareCanonicalInts);
    return out;
  }

  /** SSCAN: an intset returns everything sorted at once; a hashtable walks slots high → low. */
  scan(cursor: number, count: number): SetScanResult {
    if (this.intset) return { cursor: 0, items: this.toArray() };
    const keys = this.members.keys;
    const step = this.members.scanSlots(cursor, count);
    const items = new Array<string>(step.slots.length);
    for (let i = 0; i < items.length; i++) items[i] = keys[step.slots[i]];
    return { cursor: step.cursor, items };
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.toArray()[Symbol.iterator]();
  }
}
