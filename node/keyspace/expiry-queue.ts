// Deadlines of keys with a TTL, as a binary min-heap of (deadline ms, key). Entries are never
// updated in place: a changed or removed TTL leaves a stale pair that the owner skips when popped
// (it checks the key's current deadline), and the heap compacts itself when stale pairs dominate.

const COMPACT_SLACK = 1024;

export class ExpiryQueue {
  private ats: number[] = [];
  private keys: string[] = [];

  get size(): number {
    return this.ats.length;
  }

  push(at: number, key: string): void {
    const ats = this.ats;
    const keys = this.keys;
    let i = ats.length;
    ats.push(at);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (ats[parent]! <= at) break;
      ats[i] = ats[parent]!;
      keys[i] = keys[parent]!;
      i = parent;
    }
    ats[i] = at;
    keys[i] = key;
  }

  /** Earliest deadline, or Infinity when empty. */
  peekAt(): number {
    return this.ats.length > 0 ? this.ats[0]! : Infinity;
  }

  peekKey(): string {
    return this.keys[0]!;
  }

  pop(): void {
    const ats = this.ats;
    const keys = this.keys;
    const lastAt = ats.pop()!;
    const lastKey = keys.pop()!;
    const n = ats.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && ats[r]! < ats[l]! ? r : l;
      if (ats[c]! >= lastAt) break;
      ats[i] = ats[c]!;
      keys[i] = keys[c]!;
      i = c;
    }
    ats[i] = lastAt;
    keys[i] = lastKey;
  }

  /**
   * Drops stale pairs once they outnumber live TTLs (amortised O(1) per push).
   * `isLive(at, key)` tells whether a pair is still the key's deadline.
   */
  compactIfNeeded(liveCount: number, isLive: (at: number, key: string) => boolean): void {
    if (this.ats.length <= 2 * liveCount + COMPACT_SLACK) return;
    const ats = this.ats;
    const keys = this.keys;
    this.ats = [];
    this.keys = [];
    for (let i = 0; i < ats.length; i++) if (isLive(ats[i]!, keys[i]!)) this.push(ats[i]!, keys[i]!);
  }

  clear(): void {
    this.ats = [];
    this.keys = [];
  }
}
