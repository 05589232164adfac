// One logical database: the key → entry dictionary with TTLs (lazy and active expiry), a per-slot
// key index, random access and cursor scans. Speaks statuses (values, undefined, WRONG_TYPE),
// never RESP. Hidden keys (the mover's partial imports, slot-index.ts) are absent for every
// lookup, count and scan here; node/cluster/import.ts reaches them with peekHidden/deleteHidden.
import { SLOT_COUNT, slotOf } from '../../common/slots.js';
import { ExpiryQueue } from './expiry-queue.js';
import { SlotIndex } from './slot-index.js';
export { isHiddenName } from './slot-index.js';
import { HashValue } from './types/hash-value.js';
import { ListValue } from './types/list-value.js';
import { SetValue } from './types/set-value.js';
import type { StoredValue as RValue } from './types/value.js';
import { ZSetValue } from './types/zset-value.js';

export const WRONG_TYPE = Symbol('WRONGTYPE');
/** Bound of Db.untouched (keys of slots being imported or moved; cleared per slot when it settles). */
const UNTOUCHED_MAX = 1_000_000;
export type WrongType = typeof WRONG_TYPE;

/** The largest deadline a key keeps (ms): the largest double below 2^63 (2^63 - 1024). */
export const MAX_DEADLINE_MS = 2 ** 63 - 1024;

// Four fields (56 bytes of heap): one per key, so anything only some keys or some moments need
// lives elsewhere (a running BGSAVE keeps its own state: persistence/snapshot.ts).
export class Entry {
  constructor(
    public value: RValue,
    /** Absolute deadline in ms since the epoch; 0 = no TTL. */
    public expireAt: number,
    /** Access clock for LRU/LFU eviction and OBJECT IDLETIME/FREQ (see eviction.ts). */
    public lru: number,
    /** Position in the slot index list (kept by Db). */
    public slotPos: number,
  ) {}
}

/**
 * Per-batch values every lookup reads, kept as plain fields (no calls on the hot path). The server
 * owns one and updates it before running commands.
 */
export class KeyspaceClock {
  /** Cached current time in ms (one reading per batch of commands, like Redis's mstime cache). */
  now = Date.now();
  /** The LRU access stamp for "now" (see eviction.ts); used unless `lfu`. */
  lruStamp = 0;
  /** Under an LFU policy every touch goes through env.accessClock (the counter must grow). */
  lfu = false;
  /**
   * True while keys past their deadline must stay, as in Redis: while a replica applies its
   * master's stream (replication/master-stream.ts: the master decided what exists, so a key our
   * clock calls expired is still there until the master's DEL; an INCR the master ran on a live
   * key changes that key, TTL and all), and while the AOF is replayed at start (persistence/
   * aof.ts: a key's later commands in the file apply to it; it expires once loading is done).
   */
  keepExpired = false;
  /** While a read-only command runs, lookups count as keyspace hits and misses (as in Redis). */
  countingReads = false;
  keyspaceHits = 0;
  keyspaceMisses = 0;
}

/** What the keyspace needs from the server around it. */
export interface KeyspaceEnv {
  readonly clock: KeyspaceClock;
  /** The access stamp for an entry being touched (LFU counters; LRU uses clock.lruStamp). */
  accessClock(entry: Entry | null): number;
  /** Replicas keep logically expired keys until the master's DEL arrives. */
  isReplica(): boolean;
  /** A key was removed because its TTL passed: count it, propagate a DEL, wake WATCHers. */
  onExpired(db: Db, key: string): void;
  /** A key is about to be removed (any path: DEL, expiry, eviction, RENAME): BGSAVE dumps it first. */
  beforeRemove?(db: Db, key: string): void;
}

export class Db {
  readonly dict = new Map<string, Entry>();
  readonly slots = new SlotIndex();
  private expiries = new ExpiryQueue();
  /** Keys with a TTL, hidden ones included (the active expiry cycle runs while any exist). */
  volatileCount = 0;
  /**
   * Keys "untouched since" they were noted (node/cluster/import.ts, mover.ts): a write to one
   * (NodeServer.changed) forgets it. Null, the usual case, costs a write one field check.
   */
  untouched: Map<string, Entry> | null = null;
  /**
   * True while the AOF is replayed at start (persistence/aof.ts): a rewritten AOF stores a partial
   * import as ordinary commands (RPUSH … in parts, PEXPIREAT), which must reach the hidden key.
   */
  revealHidden = false;

  private readonly clock: KeyspaceClock;

  constructor(
    readonly id: number,
    private readonly env: KeyspaceEnv,
  ) {
    this.clock = env.clock;
  }

  /** Keys clients can see (DBSIZE, INFO keyspace). */
  get size(): number {
    return this.dict.size - this.slots.hiddenCount;
  }

  /** Keys with a TTL clients can see (INFO keyspace "expires"). */
  get visibleVolatileCount(): number {
    if (this.slots.hiddenCount === 0) return this.volatileCount;
    let n = this.volatileCount;
    for (const [key] of this.slots.hiddenKeys()) if (this.dict.get(key)?.expireAt) n--;
    return n;
  }

  /**
   * Whether a key past its deadline is deleted now when met: on a master, outside AOF loading
   * (a replica waits for its master's DEL; clock.keepExpired keeps it for later commands).
   */
  deletesExpired(): boolean {
    return !this.clock.keepExpired && !this.env.isReplica();
  }

  /** True for a hidden key present (KEYS and other walks over dict skip it, on masters and replicas). */
  isHidden(key: string): boolean {
    return this.slots.isHidden(key);
  }

  /**
   * Whether lookups and writes by name treat `key` as absent: on a master only. A replica applies
   * its master's stream, which writes partial imports with ordinary commands (RPUSH, PEXPIREAT,
   * RENAME …), and takes no writes of its own; its clients still never meet one in a walk or count.
   */
  private hides(key: string): boolean {
    return this.slots.hiddenCount !== 0 && !this.revealHidden && this.slots.isHidden(key) && !this.env.isReplica();
  }

  /** A write changed `key` (called for every changed key): forgets it as untouched. */
  noteChanged(key: string): void {
    const u = this.untouched;
    if (u !== null && u.size !== 0) u.delete(key);
  }

  /** Notes that `key` holds `e` as written by the mover (see `untouched`); bounded. */
  noteUntouched(key: string, e: Entry): void {
    const u = (this.untouched ??= new Map());
    if (u.size < UNTOUCHED_MAX) u.set(key, e);
  }

  /** Whether `key` still holds the entry noted, unwritten since. */
  isUntouched(key: string, e: Entry): boolean {
    return this.untouched !== null && this.untouched.get(key) === e && this.dict.get(key) === e;
  }

  /** The live entry of a key (touching its access clock), or undefined if absent or expired. */
  lookup(key: string): Entry | undefined {
    const e = this.dict.get(key);
    const clock = this.clock;
    if (e === undefined || (e.expireAt !== 0 && e.expireAt <= clock.now && this.expireIfNeeded(key, e)) || this.hides(key)) {
      if (clock.countingReads) clock.keyspaceMisses++;
      return undefined;
    }
    if (clock.countingReads) clock.keyspaceHits++;
    e.lru = clock.lfu ? this.env.accessClock(e) : clock.lruStamp;
    return e;
  }

  /** Like lookup, without touching the access clock (TYPE, OBJECT, TTL do not count as access). */
  peek(key: string): Entry | undefined {
    const e = this.dict.get(key);
    if (e === undefined) return undefined;
    if (e.expireAt !== 0 && e.expireAt <= this.clock.now && this.expireIfNeeded(key, e)) return undefined;
    return this.hides(key) ? undefined : e;
  }

  /** peek for the importer: hidden keys included. */
  peekHidden(key: string): Entry | undefined {
    const e = this.dict.get(key);
    if (e === undefined) return undefined;
    if (e.expireAt !== 0 && e.expireAt <= this.clock.now && this.expireIfNeeded(key, e)) return undefined;
    return e;
  }

  /**
   * For a key past its deadline: true when it must be treated as absent, deleting it unless we
   * are a replica (a replica keeps it for its master's DEL). Never while clock.keepExpired.
   */
  private expireIfNeeded(key: string, e: Entry): boolean {
    if (this.clock.keepExpired) return false;
    if (this.env.isReplica()) return true;
    this.removeEntry(key, e);
    this.env.onExpired(this, key);
    return true;
  }

  exists(key: string): boolean {
    return this.peek(key) !== undefined;
  }

  getString(key: string): string | undefined | WrongType {
    const e = this.lookup(key);
    if (e === undefined) return undefined;
    return typeof e.value === 'string' ? e.value : WRONG_TYPE;
  }

  getList(key: string): ListValue | undefined | WrongType {
    const e = this.lookup(key);
    if (e === undefined) return undefined;
    return e.value instanceof ListValue ? e.value : WRONG_TYPE;
  }

  getHash(key: string): HashValue | undefined | WrongType {
    const e = this.lookup(key);
    if (e === undefined) return undefined;
    return e.value instanceof HashValue ? e.value : WRONG_TYPE;
  }

  getSet(key: string): SetValue | undefined | WrongType {
    const e = this.lookup(key);
    if (e === undefined) return undefined;
    return e.value instanceof SetValue ? e.value : WRONG_TYPE;
  }

  getZSet(key: string): ZSetValue | undefined | WrongType {
    const e = this.lookup(key);
    if (e === undefined) return undefined;
    return e.value instanceof ZSetValue ? e.value : WRONG_TYPE;
  }

  /**
   * Adds a key lookups report absent; returns its entry. Absent is not always gone: a hidden key
   * a client writes over, or on a replica a key past its deadline kept for the master's DEL
   * (a writable replica's own client writing to it, as in Redis, replaces it). Either is removed
   * first, so the dictionary and the slot index never hold a name twice.
   */
  add(key: string, value: RValue): Entry {
    const old = this.dict.get(key);
    if (old !== undefined) this.removeEntry(key, old);
    return this.insert(key, value);
  }

  /** add() for a key known to have no entry at all. */
  private insert(key: string, value: RValue): Entry {
    const slot = slotOf(key);
    const e = new Entry(value, 0, this.clock.lfu ? this.env.accessClock(null) : this.clock.lruStamp, 0);
    e.slotPos = this.slots.add(slot, key);
    this.dict.set(key, e);
    return e;
  }

  /** Sets a key's value (SET semantics): creates it or replaces the value; drops the TTL unless keepTtl. */
  set(key: string, value: RValue, keepTtl = false): Entry {
    const e = this.dict.get(key);
    if (e === undefined) return this.insert(key, value);
    if (this.hides(key)) return this.add(key, value);
    e.lru = this.clock.lfu ? this.env.accessClock(e) : this.clock.lruStamp;
    return this.overwrite(e, value, keepTtl);
  }

  /**
   * set() for an entry lookup() has just returned (so live, visible, and already touched once, as
   * Redis's SET touches a key once): replaces the value in place without finding the key again.
   */
  overwrite(e: Entry, value: RValue, keepTtl = false): Entry {
    e.value = value;
    if (!keepTtl && e.expireAt !== 0) {
      e.expireAt = 0;
      this.volatileCount--;
    }
    return e;
  }

  /**
   * Removes a key; true if it existed (expired and hidden keys count as absent: a master keeps a
   * hidden key a client names; a replica, which hides none by name, applies its master's DELs).
   */
  delete(key: string): boolean {
    if (this.hides(key)) return false;
    return this.deleteHidden(key);
  }

  /** delete for the importer: hidden keys included. */
  deleteHidden(key: string): boolean {
    const e = this.dict.get(key);
    if (e === undefined) return false;
    if (e.expireAt !== 0 && e.expireAt <= this.clock.now && this.deletesExpired()) {
      this.removeEntry(key, e);
      this.env.onExpired(this, key);
      return false;
    }
    this.removeEntry(key, e);
    return true;
  }

  private removeEntry(key: string, e: Entry): void {
    this.env.beforeRemove?.(this, key);
    this.dict.delete(key);
    if (e.expireAt !== 0) this.volatileCount--;
    const slot = slotOf(key);
    const moved = this.slots.remove(slot, e.slotPos);
    if (moved !== undefined) this.dict.get(moved)!.slotPos = e.slotPos;
  }

  /** Sets an absolute deadline (ms since the epoch) on an existing entry. */
  setExpire(key: string, e: Entry, at: number): void {
    // Deadlines are doubles: Redis's largest (PEXPIREAT k 9223372036854775807) would round up to
    // 2^63, which no RDB, AOF or reply can carry. Kept at the largest double below 2^63 instead.
    if (at > MAX_DEADLINE_MS) at = MAX_DEADLINE_MS;
    if (e.expireAt === 0) this.volatileCount++;
    e.expireAt = at;
    this.expiries.push(at, key);
    this.expiries.compactIfNeeded(this.volatileCount, (a, k) => this.dict.get(k)?.expireAt === a);
  }

  /** Removes a TTL; true if there was one. */
  persist(e: Entry): boolean {
    if (e.expireAt === 0) return false;
    e.expireAt = 0;
    this.volatileCount--;
    return true;
  }

  /** Moves a key's value and TTL to another name (RENAME); the target is overwritten. */
  rename(from: string, e: Entry, to: string): void {
    const at = e.expireAt;
    this.removeEntry(from, e);
    if (this.dict.has(to)) this.removeEntry(to, this.dict.get(to)!);
    const ne = this.add(to, e.value);
    if (at !== 0) this.setExpire(to, ne, at);
  }

  /** Deletes every key. */
  flush(): void {
    this.untouched = null;
    this.dict.clear();
    this.slots.clear();
    this.expiries.clear();
    this.volatileCount = 0;
  }

  /** Swaps the whole contents with another db (SWAPDB). */
  swapWith(other: Db): void {
    for (const f of ['dict', 'slots', 'expiries', 'volatileCount', 'untouched'] as const) {
      const mine = this[f as 'dict'];
      (this as unknown as Record<string, unknown>)[f] = other[f as 'dict'];
      (other as unknown as Record<string, unknown>)[f] = mine;
    }
  }

  /** A random live key, or undefined when empty. */
  randomKey(): string | undefined {
    for (let tries = 0; tries < 100 && this.size > 0; tries++) {
      let n = Math.floor(Math.random() * this.dict.size);
      for (let s = 0; s < SLOT_COUNT; s++) {
        const c = this.slots.rawCount(s);
        if (n < c) {
          const key = this.slots.keyAt(s, n)!;
          if (this.peek(key) && !this.slots.isHidden(key)) return key;
          break;
        }
        n -= c;
      }
    }
    return undefined;
  }

  /**
   * SCAN over slots: the cursor packs (positions left in the slot + 1) * 1024 + slot; 0 = start
   * and end. Visits about `count` keys, expired ones included (callers filter).
   */
  scan(cursor: number, count: number, visit: (key: string) => void): number {
    let slot = cursor % SLOT_COUNT;
    let inSlot = Math.floor(cursor / SLOT_COUNT);
    let budget = count;
    while (slot < SLOT_COUNT) {
      if (this.slots.rawCount(slot) === 0 && inSlot === 0) {
        slot++;
        continue;
      }
      let seen = 0;
      const next = this.slots.scanSlot(slot, inSlot, budget, (key) => {
        seen++;
        visit(key);
      });
      budget -= seen;
      if (next !== 0) return next * SLOT_COUNT + slot;
      slot++;
      inSlot = 0;
      if (budget <= 0) return slot < SLOT_COUNT ? slot : 0;
    }
    return 0;
  }

  /**
   * Active expiry: removes keys whose deadline passed, oldest first, within a time budget.
   * Returns true when more expired keys remain (the caller schedules another round soon).
   */
  expireCycle(budgetMs: number): boolean {
    if (this.env.isReplica()) return false;
    const start = Date.now();
    const now = this.clock.now;
    let n = 0;
    while (this.expiries.peekAt() <= now) {
      const key = this.expiries.peekKey();
      const at = this.expiries.peekAt();
      this.expiries.pop();
      const e = this.dict.get(key);
      if (e !== undefined && e.expireAt === at) {
        this.removeEntry(key, e);
        this.env.onExpired(this, key);
      }
      if (++n % 64 === 0 && Date.now() - start >= budgetMs) return this.expiries.peekAt() <= now;
    }
    return false;
  }

  /** Average remaining TTL of volatile keys, sampled (INFO keyspace avg_ttl), in ms. */
  averageTtl(sample = 64): number {
    if (this.volatileCount === 0) return 0;
    let sum = 0;
    let n = 0;
    const now = this.clock.now;
    for (const e of this.dict.values()) {
      if (e.expireAt !== 0) {
        sum += Math.max(0, e.expireAt - now);
        if (++n >= sample) break;
      }
    }
    return n === 0 ? 0 : Math.round(sum / n);
  }
}
