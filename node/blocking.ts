// Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, BLMPOP …): FIFO per key, served when a write
// makes a key ready, timed out at their deadline. Serving runs after each command, like Redis's
// handleClientsBlockedOnKeys, so a MULTI or a pipeline completes before waiters see its effects.
import type { Db } from './keyspace/db.js';
import type { BlockedState, Session } from './session.js';

export class BlockingManager {
  private readonly waiting = new Map<Db, Map<string, Session[]>>();
  private ready: Array<[Db, string]> = [];
  private readonly readySet = new Map<Db, Set<string>>();
  private readonly timers = new Map<Session, NodeJS.Timeout | null>(); // null = no timeout
  private holds = 0; // open deferServing() calls
  /** Runs before a waiter is served from `key` (the snapshot engine dumps the keys it will write). */
  beforeServe: ((db: Db, key: string, s: Session) => void) | null = null;

  constructor(private readonly dbOf: (index: number) => Db) {}

  get blockedCount(): number {
    return this.timers.size;
  }

  /** Parks a session until one of its keys can serve it or the deadline passes. */
  block(s: Session, state: BlockedState): void {
    s.blocked = state;
    const db = this.dbOf(state.dbIndex);
    let map = this.waiting.get(db);
    if (!map) this.waiting.set(db, (map = new Map()));
    for (const key of new Set(state.keys)) {
      let queue = map.get(key);
      if (!queue) map.set(key, (queue = []));
      queue.push(s);
    }
    const timer = state.deadline === 0 ? null : setTimeout(() => this.timeout(s), Math.max(0, state.deadline - Date.now() + 1));
    this.timers.set(s, timer);
  }

  private timeout(s: Session): void {
    if (!s.blocked) return;
    const state = s.blocked;
    // Timed out once the clock is past the deadline (Redis: timeout < now). The deadline came from
    // a whole-ms clock, so "at" it can be up to 1 ms before the client's full timeout; and
    // timers may fire early. Either way the client must never see its timeout early.
    const early = state.deadline - Date.now();
    if (early >= 0) {
      this.timers.set(s, setTimeout(() => this.timeout(s), early + 1));
      return;
    }
    this.unblock(s);
    state.onTimeout();
    this.resume(s);
  }

  /** Removes a session from every wait queue (served, timed out, CLIENT UNBLOCK, or disconnected). */
  unblock(s: Session): void {
    const state = s.blocked;
    if (!state) return;
    s.blocked = null;
    clearTimeout(this.timers.get(s) ?? undefined);
    this.timers.delete(s);
    const map = this.waiting.get(this.dbOf(state.dbIndex));
    if (!map) return;
    for (const key of state.keys) {
      const queue = map.get(key);
      if (!queue) continue;
      const i = queue.indexOf(s);
      if (i >= 0) queue.splice(i, 1);
      if (queue.length === 0) map.delete(key);
    }
  }

  /** A key of `db` may now serve waiters (a push, a ZADD, a rename onto it …). */
  signal(db: Db, key: string): void {
    if (!this.waiting.get(db)?.has(key)) return;
    let set = this.readySet.get(db);
    if (!set) this.readySet.set(db, (set = new Set()));
    if (set.has(key)) return;
    set.add(key);
    this.ready.push([db, key]);
  }

  /**
   * Every key of `db` someone waits on may have changed (FLUSHDB, FLUSHALL, SWAPDB): a blocked
   * XREADGROUP whose stream went answers -UNBLOCKED, as Redis's scanDatabaseForDeletedStreams
   * makes it; other waiters are served if the key now holds what they wait for. Bounded by the
   * number of waited keys, not the db's size.
   */
  signalWaitedKeys(db: Db): void {
    const map = this.waiting.get(db);
    if (map !== undefined) for (const key of map.keys()) this.signal(db, key);
  }

  /**
   * Runs `run` (EXEC's queue, a script) as one atomic step: waiters are not served in the middle,
   * only by the serveReadyKeys that follows it, so they never see its intermediate states.
   */
  deferServing<T>(run: () => T): T {
    this.holds++;
    try {
      return run();
    } finally {
      this.holds--;
    }
  }

  /** Serves waiters of every ready key, in arrival order, until no key is ready. */
  serveReadyKeys(): void {
    if (this.ready.length === 0 || this.holds > 0) return;
    const resumed: Session[] = [];
    while (this.ready.length > 0) {
      const batch = this.ready;
      this.ready = [];
      this.readySet.clear();
      for (const [db, key] of batch) {
        const queue = this.waiting.get(db)?.get(key);
        if (!queue) continue;
        for (const s of [...queue]) {
          const state = s.blocked;
          if (!state) continue;
          this.beforeServe?.(db, key, s);
          if (state.tryServe(key)) {
            this.unblock(s);
            resumed.push(s);
          } else if (!db.exists(key)) {
            break; // popped empty: later waiters keep waiting
          }
          // Otherwise the key holds a type this waiter can't use (a BLPOP behind a BZPOPMIN):
          // skip it, as Redis does, so waiters of the key's type behind it are still served.
        }
      }
    }
    for (const s of resumed) this.resume(s);
  }

  /** Flushes a served session's reply and lets it run the commands it pipelined meanwhile. */
  private resume(s: Session): void {
    s.flush();
    setImmediate(() => s.processInput());
  }
}
