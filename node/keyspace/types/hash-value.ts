// The hash type: field → value with Redis's listpack/hashtable encoding rules.
// Small hashes keep listpack order exactly (in-place update, splice on delete); big ones don't.

import { encodingLimits } from './encoding-limits.js';
import { IndexedMap } from './indexed-map.js';

export type HashEncoding = 'listpack' | 'hashtable';

export interface HashScanResult {
  cursor: number;
  /** Flat [field, value, field, value, …] like HSCAN's reply. */
  items: string[];
}

export class HashValue {
  readonly map = new IndexedMap<string>();

  get size(): number {
    return this.map.size;
  }

  encoding(): HashEncoding {
    return this.map.isOrdered ? 'listpack' : 'hashtable';
  }

  get(field: string): string | undefined {
    return this.map.get(field);
  }

  has(field: string): boolean {
    return this.map.has(field);
  }

  /** Sets a field; returns true when the field is new. Converts to hashtable when a limit is passed. */
  set(field: string, value: string): boolean {
    const map = this.map;
    const added = map.set(field, value);
    if (map.isOrdered) {
      const maxLen = encodingLimits.hashMaxListpackValue;
      if (field.length > maxLen || value.length > maxLen || map.size > encodingLimits.hashMaxListpackEntries) {
        map.makeUnordered();
      }
    }
    return added;
  }

  delete(field: string): boolean {
    return this.map.delete(field);
  }

  /** Forces the hashtable encoding (RDB/RESTORE of a HASH type, conversions). */
  convertToHashtable(): void {
    this.map.makeUnordered();
  }

  fieldAt(slot: number): string {
    return this.map.keys[slot];
  }

  valueAt(slot: number): string {
    return this.map.vals[slot];
  }

  /** A random slot in O(1); the hash must not be empty. */
  randomSlot(): number {
    return this.map.randomSlot();
  }

  /** HSCAN: a listpack hash returns everything at once; a hashtable walks slots high → low. */
  scan(cursor: number, count: number): HashScanResult {
    const { keys, vals } = this.map;
    const items: string[] = [];
    if (this.map.isOrdered) {
      for (let i = 0; i < keys.length; i++) items.push(keys[i], vals[i]);
      return { cursor: 0, items };
    }
    const step = this.map.scanSlots(cursor, count);
    for (const slot of step.slots) items.push(keys[slot], vals[slot]);
    return { cursor: step.cursor, items };
  }

  /** Iterates [field, value] pairs in storage order (listpack order while small). */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    const { keys, vals } = this.map;
    for (let i = 0; i < keys.length; i++) yield [keys[i], vals[i]];
  }
}
