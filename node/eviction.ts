// maxmemory enforcement: measures used memory, evicts keys by the configured policy (Redis's
// approximated LRU/LFU with an eviction pool) before a write that may grow memory, and answers
// -OOM when nothing can be evicted. Also owns the access clock stamped on entries (entry.lru):
// LRU milliseconds, or an LFU counter + minutes packed as Redis packs them. Never writes RESP.
import { getHeapStatistics } from 'node:v8';
import type { Db, Entry } from './keyspace/db.js';
import { HashValue } from './keyspace/types/hash-value.js';
import { ListValue } from './keyspace/types/list-value.js';
import { SetValue } from './keyspace/types/set-value.js';
import type { StoredValue } from './keyspace/types/value.js';
import { ZSetValue } from './keyspace/types/zset-value.js';
import type { EvictionPolicy } from './config.js';
import { NOTIFY_EVICTED, notifyKeyspaceEvent } from './notify.js';
import type { NodeServer } from './server.js';
import type { Session } from './session.js';

export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

// ---- The access clock (entry.lru), as Redis keeps it in robj.lru (24 bits) ----

const LFU_INIT_VAL = 5;
const LFU_COUNTER_MAX = 255;

/** Live LFU tuning (lfu-log-factor, lfu-decay-time), copied from the config by Eviction. */
export const lfuParams = { logFactor: 10, decayMinutes: 1 };

// Access stamps are milliseconds since this process started: small integers, stored unboxed in
// the entry (epoch milliseconds would allocate a heap number on every access).
const CLOCK_BASE_MS = Date.now();

/**
 * The LRU clock. Redis keeps 24-bit seconds in robj.lru; we keep milliseconds, so eviction tells
 * apart keys touched within the same second (Redis cannot); IDLETIME is still in seconds.
 */
export function lruClock(nowMs: number): number {
  return nowMs - CLOCK_BASE_MS;
}

/** True for the allkeys-lfu / volatile-lfu policies. */
export function isLfuPolicy(policy: string): boolean {
  return policy.endsWith('-lfu');
}

/** Minutes modulo 2^16: the "last decrement time" half of an LFU stamp. */
function lfuMinutes(nowMs: number): number {
  return Math.floor(nowMs / 60000) & 0xffff;
}

/** Elapsed minutes between an LFU stamp's minutes and now, with 16-bit wrap-around. */
function lfuElapsedMinutes(ldt: number, nowMs: number): number {
  const now = lfuMinutes(nowMs);
  return now >= ldt ? now - ldt : 65535 - ldt + now;
}

/** The LFU counter of a stamp after applying lfu-decay-time (Redis's LFUDecrAndReturn). */
function lfuDecayed(stamp: number, nowMs: number): number {
  const ldt = stamp >>> 8;
  const counter = stamp & 255;
  const periods = lfuParams.decayMinutes > 0 ? Math.floor(lfuElapsedMinutes(ldt, nowMs) / lfuParams.decayMinutes) : 0;
  return periods > counter ? 0 : counter - periods;
}

/** Logarithmic increment (Redis's LFULogIncr): the higher the counter, the less likely it grows. */
function lfuLogIncr(counter: number): number {
  if (counter === LFU_COUNTER_MAX) return counter;
  const base = Math.max(0, counter - LFU_INIT_VAL);
  const p = 1 / (base * lfuParams.logFactor + 1);
  return Math.random() < p ? counter + 1 : counter;
}

/** OBJECT IDLETIME: seconds since the key was last accessed (valid under LRU policies). */
export function idleSeconds(entry: Entry, nowMs: number = Date.now()): number {
  return Math.max(0, Math.floor((lruClock(nowMs) - entry.lru) / 1000));
}

/** The LRU stamp of a key idle for `seconds` now (RESTORE … IDLETIME). */
export function lruStampForIdle(seconds: number, nowMs: number): number {
  return lruClock(nowMs) - seconds * 1000;
}

/** The packed LFU stamp for a counter value set now (RESTORE … FREQ n). */
export function lfuStamp(counter: number, nowMs: number): number {
  return ((lfuMinutes(nowMs) << 8) | (counter & 0xff)) >>> 0;
}

/** Milliseconds since the last access: the LRU eviction score. */
function idleMillis(entry: Entry, nowMs: number): number {
  return lruClock(nowMs) - entry.lru;
}

/** OBJECT FREQ: the decayed LFU counter (valid under LFU policies). */
export function lfuFrequency(entry: Entry, nowMs: number = Date.now()): number {
  return lfuDecayed(entry.lru, nowMs);
}

// ---- Size estimates (MEMORY USAGE, and the bytes an eviction frees) ----

export const DICT_ENTRY_BYTES = 24;
const ROBJ_BYTES = 16;
const EMBSTR_MAX = 44;
const DEFAULT_SAMPLES = 5;

/** Rounds an allocation up to jemalloc's size classes (so estimates look like Redis's). */
function allocSize(n: number): number {
  if (n <= 8) return 8;
  if (n <= 128) return Math.ceil(n / 16) * 16;
  const pow = 2 ** Math.floor(Math.log2(n - 1));
  const step = pow / 4;
  return Math.ceil(n / step) * step;
}

/** An sds string: header (1–9 bytes by length) + bytes + NUL. */
function sdsSize(len: number): number {
  const header = len < 32 ? 1 : len < 256 ? 3 : len < 65536 ? 5 : 9;
  return allocSize(header + len + 1);
}

function stringValueSize(v: string): number {
  if (v.length <= 20 && /^-?[1-9]\d*$|^0$/.test(v) && Math.abs(Number(v)) < 2 ** 63) return ROBJ_BYTES;
  if (v.length <= EMBSTR_MAX) return allocSize(ROBJ_BYTES + 3 + v.length + 1);
  return ROBJ_BYTES + sdsSize(v.length);
}

/**
 * Estimated bytes a key uses, like MEMORY USAGE: the dict entry, the key, and the value; for
 * containers, `samples` elements are measured and scaled to the whole (0 = all of them).
 */
export function keyMemoryUsage(key: string, value: StoredValue, samples = DEFAULT_SAMPLES): number {
  return DICT_ENTRY_BYTES + sdsSize(key.length) + valueSize(value, samples);
}

function valueSize(value: StoredValue, samples: number): number {
  if (typeof value === 'string') return stringValueSize(value);
  const sampler = new ElementSampler(samples);
  if (value instanceof ListValue) {
    for (const item of value) if (!sampler.add(item.length + 11)) break;
    return ROBJ_BYTES + 48 + sampler.scaled(value.length);
  }
  if (value instanceof HashValue) {
    const compact = value.encoding() === 'listpack';
    for (const [f, v] of value) if (!sampler.add(compact ? f.length + v.length + 4 : DICT_ENTRY_BYTES + sdsSize(f.length) + sdsSize(v.length))) break;
    return ROBJ_BYTES + (compact ? 7 : 96) + sampler.scaled(value.size);
  }
  if (value instanceof SetValue) {
    const compact = value.encoding() === 'intset';
    for (const m of value) if (!sampler.add(compact ? 8 : DICT_ENTRY_BYTES + sdsSize(m.length))) break;
    return ROBJ_BYTES + (compact ? 8 : 96) + sampler.scaled(value.size);
  }
  if (value instanceof ZSetValue) {
    const compact = value.encoding() === 'listpack';
    const n = value.size;
    for (const c = value.cursorAt(0); c.valid; c.next()) {
      if (!sampler.add(compact ? c.member.length + 12 : DICT_ENTRY_BYTES + sdsSize(c.member.length) + 48)) break;
    }
    return ROBJ_BYTES + (compact ? 7 : 160) + sampler.scaled(n);
  }
  return ROBJ_BYTES;
}

/** Sums the sizes of up to `limit` elements (0 = no limit), then scales to a total count. */
class ElementSampler {
  private sum = 0;
  private n = 0;
  constructor(private readonly limit: number) {}
  add(bytes: number): boolean {
    this.sum += bytes;
    this.n++;
    return this.limit === 0 || this.n < this.limit;
  }
  scaled(total: number): number {
    return this.n === 0 ? 0 : Math.round((this.sum / this.n) * total);
  }
}

// ---- Used memory ----

// Re-estimating costs a few dozen key samples; doing it at most every 10 ms keeps writes cheap.
const MEMORY_SAMPLE_MS = 10;
const SAMPLED_KEYS = 32;
// Below this many keys a db is measured exactly instead of sampled.
const EXACT_BELOW_KEYS = 64;

/**
 * Used memory is a maintained estimate, like Redis's accounting rather than the process size:
 * the heap at start-up (code, tables) + client buffers + per db (key count × average key size).
 * Key counts are exact and live; average sizes come from MEMORY USAGE style estimates of random
 * keys, refreshed at most every MEMORY_SAMPLE_MS, so the write path pays nothing.
 * Why not V8's heap? Its "used" includes garbage until the next major GC: evicted keys and
 * parsed requests keep counting, and eviction would then empty the dataset to pay for garbage.
 * The cost of sampling: one huge key among many small ones is seen late (when a sample hits it).
 */
class MemoryMeter {
  /** Heap in use when the node started (MEMORY STATS startup.allocated). */
  readonly baseline = getHeapStatistics().used_heap_size;
  private readonly avgKeyBytes = new Map<Db, number>();
  private clientBytes = 0;
  private sampledAt = -Infinity;
  peak = 0;

  constructor(private readonly server: NodeServer) {}

  used(): number {
    const now = performance.now();
    if (now - this.sampledAt >= MEMORY_SAMPLE_MS) {
      this.sampledAt = now;
      this.resample();
    }
    let used = this.baseline + this.clientBytes;
    for (const db of this.server.dbs) if (db.size > 0) used += db.size * (this.avgKeyBytes.get(db) ?? 0);
    used = Math.round(used);
    if (used > this.peak) this.peak = used;
    return used;
  }


  private resample(): void {
    let clients = 0;
    for (const c of this.server.sessions) clients += c.w.length + c.socket.writableLength + c.decoder.pendingBytes;
    this.clientBytes = clients;
    for (const db of this.server.dbs) {
      if (db.size === 0) {
        this.avgKeyBytes.delete(db);
        continue;
      }
      let sum = 0;
      let n = 0;
      if (db.size < EXACT_BELOW_KEYS) {
        for (const [key, e] of db.dict) {
          sum += keyMemoryUsage(key, e.value);
          n++;
        }
        this.avgKeyBytes.set(db, sum / n);
        continue;
      }
      for (const key of sampleKeys(db, SAMPLED_KEYS, false)) {
        sum += keyMemoryUsage(key, db.dict.get(key)!.value);
        n++;
      }
      if (n === 0) continue;
      const prev = this.avgKeyBytes.get(db);
      // Smooth over samples so one odd sample does not swing the total.
      this.avgKeyBytes.set(db, prev === undefined ? sum / n : prev * 0.5 + (sum / n) * 0.5);
    }
  }
}

// ---- The eviction pool and policies ----

const EVICTION_POOL_SIZE = 16;

interface PoolEntry {
  score: number; // higher = better candidate
  key: string;
  db: Db;
}

export class Eviction {
  private readonly meter: MemoryMeter;
  private readonly pool: PoolEntry[] = [];
  private policy: EvictionPolicy = 'noeviction';
  // Cached: accessClock runs on every key lookup.
  private lfu = false;
  private continuing = false;

  constructor(private readonly server: NodeServer) {
    this.meter = new MemoryMeter(server);
    const config = server.config;
    this.setPolicy(config.get('maxmemory-policy') as EvictionPolicy);
    lfuParams.logFactor = config.getInt('lfu-log-factor');
    lfuParams.decayMinutes = config.getInt('lfu-decay-time');
    config.onChange((name) => {
      if (name === 'maxmemory-policy') this.setPolicy(config.get(name) as EvictionPolicy);
      else if (name === 'lfu-log-factor') lfuParams.logFactor = config.getInt(name);
      else if (name === 'lfu-decay-time') lfuParams.decayMinutes = config.getInt(name);
      // Lowering maxmemory evicts right away, as CONFIG SET maxmemory does in Redis.
      else if (name === 'maxmemory') this.performEvictions();
    });
  }

  private setPolicy(policy: EvictionPolicy): void {
    this.policy = policy;
    this.lfu = policy === 'allkeys-lfu' || policy === 'volatile-lfu';
    this.server.clock.lfu = this.lfu;
    // Pooled scores were computed under the old policy.
    this.pool.length = 0;
  }

  /** The entry's next access stamp: LRU milliseconds, or (minutes << 8 | counter) under LFU. */
  accessClock(entry: Entry | null): number {
    const now = this.server.now;
    if (!this.lfu) return lruClock(now);
    if (entry === null) return (lfuMinutes(now) << 8) | LFU_INIT_VAL;
    const counter = lfuLogIncr(lfuDecayed(entry.lru, now));
    return (lfuMinutes(now) << 8) | counter;
  }

  /** Bytes the node uses (see MemoryMeter for what is counted). */
  usedMemory(): number {
    return this.meter.used();
  }

  get peakMemory(): number {
    return this.meter.peak;
  }

  /** The heap in use when the node started (MEMORY STATS startup.allocated). */
  get startupMemory(): number {
    return this.meter.baseline;
  }

  /** Before a command that may grow memory: evict if over the limit; an OOM reply text or null. */
  checkBeforeWrite(_s: Session): string | null {
    const max = this.server.config.getInt('maxmemory');
    if (max === 0) return null;
    if (this.meter.used() <= max) return null;
    return this.performEvictions() ? null : OOM_ERROR;
  }

  /** Redis's time budget per eviction run from maxmemory-eviction-tenacity (µs; Infinity = none). */
  private timeLimitMicros(): number {
    const t = this.server.config.getInt('maxmemory-eviction-tenacity');
    if (t <= 10) return 50 * t;
    if (t < 100) return 500 * 1.15 ** (t - 10);
    return Infinity;
  }

  /**
   * Evicts keys until used memory is estimated under maxmemory. Returns false when still over
   * the limit and nothing can be evicted (the caller answers -OOM).
   */
  performEvictions(): boolean {
    const server = this.server;
    const max = server.config.getInt('maxmemory');
    if (max === 0) return true;
    // Replicas leave eviction to their master (whose DELs arrive through replication).
    if (server.replication.role === 'slave' && server.config.getBool('replica-ignore-maxmemory')) return true;
    const used = this.meter.used();
    if (used <= max) return true;
    if (this.policy === 'noeviction') return false;
    const toFree = used - max;
    let freed = 0;
    const start = performance.now();
    const limitMs = this.timeLimitMicros() / 1000;
    let evicted = 0;
    // Stop when the estimate is under the limit, or when the victims' own sizes cover the excess
    // (a big victim frees more than the average key the estimate subtracts).
    while (freed < toFree && this.meter.used() > max) {
      const victim = this.pickVictim();
      if (victim === null) break;
      freed += this.evict(victim.db, victim.key, victim.entry);
      // Check the clock every 16 keys, like Redis, and finish in the background if over budget.
      if (++evicted % 16 === 0 && performance.now() - start > limitMs) {
        this.continueLater();
        break;
      }
    }
    const ms = performance.now() - start;
    server.latency.add('eviction-cycle', Math.round(ms));
    return freed >= toFree || this.continuing || this.meter.used() <= max;
  }

  private continueLater(): void {
    if (this.continuing) return;
    this.continuing = true;
    setImmediate(() => {
      this.continuing = false;
      this.server.updateClock();
      this.performEvictions();
    });
  }

  /** Removes one key as eviction does: counts it, wakes WATCHers, propagates a DEL. */
  private evict(db: Db, key: string, entry: Entry): number {
    const bytes = keyMemoryUsage(key, entry.value, 1);
    db.delete(key);
    const server = this.server;
    server.stats.evictedKeys++;
    server.watch.touch(db.id, key);
    if (server.tracking.active) server.tracking.invalidate(key);
    server.propagate(db.id, ['DEL', key]);
    if ((server.notifyFlags & NOTIFY_EVICTED) !== 0) notifyKeyspaceEvent(server, NOTIFY_EVICTED, 'evicted', key, db.id);
    return bytes;
  }

  /** The next key to evict under the current policy, or null when none qualifies. */
  private pickVictim(): { db: Db; key: string; entry: Entry } | null {
    const volatileOnly = this.policy.startsWith('volatile-');
    if (this.policy.endsWith('-random')) return this.randomVictim(volatileOnly);
    for (let round = 0; round < 2; round++) {
      for (const db of this.server.dbs) {
        if ((volatileOnly ? db.volatileCount : db.size) > 0) this.populatePool(db, volatileOnly);
      }
      // Best candidates sit at the end; skip ones deleted or changed since they were pooled.
      while (this.pool.length > 0) {
        const best = this.pool.pop()!;
        const entry = best.db.dict.get(best.key);
        if (entry !== undefined && (!volatileOnly || entry.expireAt !== 0)) return { db: best.db, key: best.key, entry };
      }
    }
    return null;
  }

  /** Eviction score: bigger is a better victim (idle time, inverse frequency, or nearer expiry). */
  private score(entry: Entry): number {
    const now = this.server.now;
    if (this.policy === 'volatile-ttl') return Number.MAX_SAFE_INTEGER - entry.expireAt;
    if (this.lfu) return 255 - lfuDecayed(entry.lru, now);
    return idleMillis(entry, now);
  }

  /** Samples maxmemory-samples keys of `db` into the pool, which keeps the 16 best, sorted. */
  private populatePool(db: Db, volatileOnly: boolean): void {
    const n = this.server.config.getInt('maxmemory-samples');
    for (const key of sampleKeys(db, n, volatileOnly)) {
      const entry = db.dict.get(key)!;
      const score = this.score(entry);
      if (this.pool.some((p) => p.key === key && p.db === db)) continue;
      if (this.pool.length >= EVICTION_POOL_SIZE && score <= this.pool[0]!.score) continue;
      let i = 0;
      while (i < this.pool.length && this.pool[i]!.score < score) i++;
      this.pool.splice(i, 0, { score, key, db });
      if (this.pool.length > EVICTION_POOL_SIZE) this.pool.shift();
    }
  }

  private randomVictim(volatileOnly: boolean): { db: Db; key: string; entry: Entry } | null {
    // Like Redis, rotate over the databases so one db is not emptied first.
    const dbs = this.server.dbs;
    for (let i = 0; i < dbs.length; i++) {
      const db = dbs[(this.nextRandomDb + i) % dbs.length]!;
      if ((volatileOnly ? db.volatileCount : db.size) === 0) continue;
      const [key] = sampleKeys(db, 1, volatileOnly);
      if (key === undefined) continue;
      this.nextRandomDb = (db.id + 1) % dbs.length;
      return { db, key, entry: db.dict.get(key)! };
    }
    return null;
  }

  private nextRandomDb = 0;
}

/**
 * Up to `n` random keys of a db (with a TTL when volatileOnly), by picking random slots of the
 * per-slot index. Falls back to walking the dict when few keys are volatile.
 */
function sampleKeys(db: Db, n: number, volatileOnly: boolean): string[] {
  const out: string[] = [];
  const slots = db.slots;
  let tries = 0;
  const maxTries = n * 16;
  while (out.length < n && tries++ < maxTries) {
    let slot = Math.floor(Math.random() * 1024);
    for (let k = 0; k < 1024 && slots.count(slot) === 0; k++) slot = (slot + 1) & 1023;
    const count = slots.count(slot);
    if (count === 0) return out;
    const key = slots.keyAt(slot, Math.floor(Math.random() * count))!;
    if (volatileOnly && db.dict.get(key)?.expireAt === 0) continue;
    if (!out.includes(key)) out.push(key);
  }
  if (volatileOnly && out.length === 0 && db.volatileCount > 0) {
    for (const [key, e] of db.dict) {
      if (e.expireAt !== 0) out.push(key);
      if (out.length >= n) break;
    }
  }
  return out;
}
