// WATCH bookkeeping: which sessions watch which keys, and marking them dirty when a key changes
// (write, expiry, eviction, FLUSHDB), so their EXEC fails as in Redis.
import type { Session } from './session.js';

export class WatchManager {
  private readonly byDb = new Map<number, Map<string, Set<Session>>>();
  /** Number of (session, key) watches; 0 lets writers skip all lookups. */
  private count = 0;

  get active(): boolean {
    return this.count > 0;
  }

  watch(s: Session, dbIndex: number, key: string): void {
    let keys = s.watched.get(dbIndex);
    if (!keys) s.watched.set(dbIndex, (keys = new Set()));
    if (keys.has(key)) return;
    keys.add(key);
    let map = this.byDb.get(dbIndex);
    if (!map) this.byDb.set(dbIndex, (map = new Map()));
    let sessions = map.get(key);
    if (!sessions) map.set(key, (sessions = new Set()));
    sessions.add(s);
    this.count++;
  }

  unwatchAll(s: Session): void {
    for (const [dbIndex, keys] of s.watched) {
      const map = this.byDb.get(dbIndex);
      for (const key of keys) {
        const sessions = map?.get(key);
        if (sessions?.delete(s)) this.count--;
        if (sessions && sessions.size === 0) map!.delete(key);
      }
    }
    s.watched.clear();
    s.watchDirty = false;
  }

  /** A key changed: every session watching it will fail its EXEC. */
  touch(dbIndex: number, key: string): void {
    if (this.count === 0) return;
    const sessions = this.byDb.get(dbIndex)?.get(key);
    if (sessions) for (const s of sessions) s.watchDirty = true;
  }

  /** Every watched key of a db changed (FLUSHDB, FLUSHALL, SWAPDB). `exists` limits it to keys that existed. */
  touchDb(dbIndex: number, exists: (key: string) => boolean = () => true): void {
    const map = this.byDb.get(dbIndex);
    if (!map) return;
    for (const [key, sessions] of map) if (exists(key)) for (const s of sessions) s.watchDirty = true;
  }
}
