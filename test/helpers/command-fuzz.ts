// Seeded random command sequences for differential fuzzing (our node or proxy against
// redis-server): every data type and MULTI/EXEC and EVAL, with hostile arguments (wrong types,
// junk numbers, stray options). Left out because Redis's own answer is not reproducible:
// anything that reads the clock (TTL, PTTL, EXPIRETIME, XADD *), OBJECT (encodings, refcounts),
// SCAN cursors and random picks (SPOP, SRANDMEMBER, RANDOMKEY).
import { expect } from 'vitest';

/** A small seeded generator (an LCG), so a failure names a sequence that can be run again. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return this.s / 2 ** 32;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)]!;
  }
}

const NUMS = ['0', '1', '2', '-1', '5', '100', '-100', '9223372036854775807', '-9223372036854775808', '1.5', 'x', '', '3.0', '1e2', ' 1', '+1', '007'];
const FLOATS = ['0', '1', '-1', '1.5', '-2.25', 'inf', '-inf', '+inf', '1e308', 'nan', 'x', '3', '0.1', '(1', '(2', '[a', '-', '+'];
const MEMBERS = ['m1', 'm2', 'm3', 'a', 'b', '1', '2', '10', '-1', ''];
const WORDS = [
  'NX', 'XX', 'GT', 'LT', 'CH', 'INCR', 'EX', 'PX', 'EXAT', 'PXAT', 'KEEPTTL', 'GET', 'WITHSCORES', 'LIMIT', 'REV', 'BYSCORE',
  'BYLEX', 'COUNT', 'LEFT', 'RIGHT', 'BEFORE', 'AFTER', 'MATCH', 'RANK', 'MAXLEN', 'WEIGHTS', 'AGGREGATE', 'SUM', 'MIN', 'MAX',
  'STORE', 'BY', 'ALPHA', 'DESC', 'REPLACE', 'LEN', 'IDX', 'WITHMATCHLEN', 'MINMATCHLEN', 'BIT', 'BYTE', 'OVERFLOW', 'WRAP',
  'SAT', 'FAIL', 'u8', 'i5', 'u63', 'i64', '#1', 'PERSIST', 'MINID',
];
const SCRIPTS = [
  'return redis.call("get", KEYS[1])', 'return redis.call("incr", KEYS[1])', 'return redis.pcall("lpush", KEYS[1], ARGV[1])',
  'return {1, 2, {3, "x"}, redis.call("type", KEYS[1])}', 'redis.call("set", KEYS[1], ARGV[1]) return redis.call("strlen", KEYS[1])',
  'return 1.5', 'return redis.error_reply("MY err")', 'return redis.status_reply("FINE")', 'return redis.call("hgetall", KEYS[1])',
  'return tonumber(ARGV[1])',
];

export type Gen = (r: Rng) => string[];

/**
 * Argument generators by command name. `keys` are used wherever a command takes keys; `split`
 * (default: `keys`) for the commands a proxy splits per key (MSET, MGET, DEL, EXISTS, TOUCH).
 */
export function commandGenerators(keys: readonly string[], split: readonly string[] = keys): Record<string, Gen> {
  const key = (r: Rng) => r.pick(keys);
  const sk = (r: Rng) => r.pick(split);
  const num = (r: Rng) => r.pick(NUMS);
  const fl = (r: Rng) => r.pick(FLOATS);
  const mem = (r: Rng) => r.pick(MEMBERS);
  const anyArg = (r: Rng) => r.pick([key, num, fl, mem, (x: Rng) => x.pick(WORDS), (x: Rng) => x.pick(WORDS)])(r);
  const rest = (r: Rng, n: number) => Array.from({ length: r.int(0, n) }, () => anyArg(r));
  const numkeys = (r: Rng) => r.pick(['1', '2', '0', 'x']);
  // Expiry only far away (or invalid), so no reply depends on when it was read.
  const ttl = (r: Rng) => r.pick(['100000', '0', '-1', 'x', '9223372036854775807']);
  return {
    set: (r) => [key(r), mem(r), ...rest(r, 3)], get: (r) => [key(r)], getset: (r) => [key(r), mem(r)], getdel: (r) => [key(r)],
    getex: (r) => [key(r), ...rest(r, 2)], setnx: (r) => [key(r), mem(r)], setex: (r) => [key(r), ttl(r), mem(r)],
    mset: (r) => [sk(r), mem(r), sk(r), mem(r), ...(r.next() < 0.2 ? [sk(r)] : [])], msetnx: (r) => [key(r), mem(r), key(r), mem(r)],
    mget: (r) => [sk(r), sk(r), sk(r)],
    append: (r) => [key(r), mem(r)], strlen: (r) => [key(r)], incr: (r) => [key(r)], decr: (r) => [key(r)],
    incrby: (r) => [key(r), num(r)], decrby: (r) => [key(r), num(r)], incrbyfloat: (r) => [key(r), fl(r)],
    getrange: (r) => [key(r), num(r), num(r)], setrange: (r) => [key(r), r.pick(['0', '1', '5', '-1']), mem(r)],
    lcs: (r) => [key(r), key(r), ...rest(r, 3)],
    setbit: (r) => [key(r), r.pick(['0', '1', '7', '15', '-1', '100']), r.pick(['0', '1', '2'])], getbit: (r) => [key(r), num(r)],
    bitcount: (r) => [key(r), ...rest(r, 3)], bitpos: (r) => [key(r), r.pick(['0', '1']), ...rest(r, 3)],
    bitop: (r) => [r.pick(['AND', 'OR', 'XOR', 'NOT', 'x']), key(r), key(r), ...rest(r, 1)], bitfield: (r) => [key(r), ...rest(r, 6)],
    del: (r) => [sk(r), sk(r)], exists: (r) => [sk(r), sk(r), sk(r)], type: (r) => [key(r)], rename: (r) => [key(r), key(r)],
    renamenx: (r) => [key(r), key(r)], copy: (r) => [key(r), key(r), ...rest(r, 2)], expire: (r) => [key(r), ttl(r), ...rest(r, 1)],
    persist: (r) => [key(r)], touch: (r) => [sk(r), sk(r)], dbsize: () => [],
    lpush: (r) => [key(r), mem(r), ...rest(r, 2)], rpush: (r) => [key(r), mem(r), ...rest(r, 2)], lpushx: (r) => [key(r), mem(r)],
    lpop: (r) => [key(r), ...rest(r, 1)], rpop: (r) => [key(r), ...rest(r, 1)], llen: (r) => [key(r)],
    lrange: (r) => [key(r), num(r), num(r)], lindex: (r) => [key(r), num(r)], lset: (r) => [key(r), num(r), mem(r)],
    linsert: (r) => [key(r), r.pick(['BEFORE', 'AFTER', 'x']), mem(r), mem(r)], lrem: (r) => [key(r), num(r), mem(r)],
    ltrim: (r) => [key(r), num(r), num(r)], lpos: (r) => [key(r), mem(r), ...rest(r, 4)],
    lmove: (r) => [key(r), key(r), r.pick(['LEFT', 'RIGHT', 'x']), r.pick(['LEFT', 'RIGHT'])], rpoplpush: (r) => [key(r), key(r)],
    lmpop: (r) => [r.pick(['1', '2', '0', '-1']), key(r), key(r), r.pick(['LEFT', 'RIGHT']), ...rest(r, 2)],
    hset: (r) => [key(r), mem(r), mem(r), ...rest(r, 2)], hsetnx: (r) => [key(r), mem(r), mem(r)], hget: (r) => [key(r), mem(r)],
    hmget: (r) => [key(r), mem(r), mem(r)], hdel: (r) => [key(r), mem(r), ...rest(r, 1)], hlen: (r) => [key(r)],
    hstrlen: (r) => [key(r), mem(r)], hincrby: (r) => [key(r), mem(r), num(r)], hincrbyfloat: (r) => [key(r), mem(r), fl(r)],
    hexists: (r) => [key(r), mem(r)], hgetall: (r) => [key(r)], hkeys: (r) => [key(r)], hvals: (r) => [key(r)],
    hscan: (r) => [key(r), '0', ...rest(r, 2)],
    sadd: (r) => [key(r), mem(r), ...rest(r, 3)], srem: (r) => [key(r), mem(r), ...rest(r, 1)], scard: (r) => [key(r)],
    sismember: (r) => [key(r), mem(r)], smismember: (r) => [key(r), mem(r), mem(r)], smembers: (r) => [key(r)],
    sinter: (r) => [key(r), key(r)], sunion: (r) => [key(r), key(r)], sdiff: (r) => [key(r), key(r)],
    sinterstore: (r) => [key(r), key(r), key(r)], sunionstore: (r) => [key(r), key(r), key(r)], sdiffstore: (r) => [key(r), key(r), key(r)],
    smove: (r) => [key(r), key(r), mem(r)], sintercard: (r) => [numkeys(r), key(r), key(r), ...rest(r, 2)],
    zadd: (r) => [key(r), ...rest(r, 2), fl(r), mem(r), ...rest(r, 2)], zincrby: (r) => [key(r), fl(r), mem(r)],
    zscore: (r) => [key(r), mem(r)], zmscore: (r) => [key(r), mem(r), mem(r)], zcard: (r) => [key(r)], zrem: (r) => [key(r), mem(r)],
    zrank: (r) => [key(r), mem(r), ...rest(r, 1)], zrange: (r) => [key(r), fl(r), fl(r), ...rest(r, 4)],
    zrangebyscore: (r) => [key(r), fl(r), fl(r), ...rest(r, 4)], zrangebylex: (r) => [key(r), fl(r), fl(r), ...rest(r, 3)],
    zcount: (r) => [key(r), fl(r), fl(r)], zlexcount: (r) => [key(r), fl(r), fl(r)], zremrangebyscore: (r) => [key(r), fl(r), fl(r)],
    zremrangebyrank: (r) => [key(r), num(r), num(r)], zpopmin: (r) => [key(r), ...rest(r, 1)], zpopmax: (r) => [key(r), ...rest(r, 1)],
    zunionstore: (r) => [key(r), numkeys(r), key(r), key(r), ...rest(r, 4)], zinterstore: (r) => [key(r), numkeys(r), key(r), key(r), ...rest(r, 4)],
    zunion: (r) => [numkeys(r), key(r), key(r), ...rest(r, 4)], zdiff: (r) => [numkeys(r), key(r), key(r), ...rest(r, 1)],
    zrangestore: (r) => [key(r), key(r), fl(r), fl(r), ...rest(r, 3)], zmpop: (r) => [numkeys(r), key(r), key(r), r.pick(['MIN', 'MAX']), ...rest(r, 2)],
    zscan: (r) => [key(r), '0', ...rest(r, 2)],
    pfadd: (r) => [key(r), mem(r), ...rest(r, 2)], pfcount: (r) => [key(r), ...rest(r, 1)], pfmerge: (r) => [key(r), key(r)],
    sort: (r) => [key(r), ...rest(r, 5)],
    xadd: (r) => [key(r), ...rest(r, 2), r.pick(['1-1', '2-0', '0-1', '1', 'x', '5-5']), mem(r), mem(r)], xlen: (r) => [key(r)],
    xrange: (r) => [key(r), r.pick(['-', '0', '1-1', '(1-1']), r.pick(['+', '5', '2-0']), ...rest(r, 2)],
    xdel: (r) => [key(r), r.pick(['1-1', '2-0', 'x'])], xtrim: (r) => [key(r), r.pick(['MAXLEN', 'MINID', 'x']), ...rest(r, 3)],
    xgroup: (r) => [r.pick(['CREATE', 'DESTROY', 'CREATECONSUMER', 'DELCONSUMER', 'SETID', 'x']), key(r), r.pick(['g', 'h']), ...rest(r, 3)],
    xreadgroup: (r) => ['GROUP', r.pick(['g', 'h']), r.pick(['c1', 'c2']), ...rest(r, 2), 'STREAMS', key(r), r.pick(['>', '0', 'x'])],
    xack: (r) => [key(r), r.pick(['g', 'h']), r.pick(['1-1', '0-1', 'x'])],
    multi: () => [], exec: () => [], discard: () => [], watch: (r) => [key(r)], unwatch: () => [],
    eval: (r) => [r.pick(SCRIPTS), '1', key(r), mem(r)],
  };
}

/** Replies whose element order is a hash table's (compared as multisets). */
export const UNORDERED = new Set(['smembers', 'sinter', 'sunion', 'sdiff', 'hkeys', 'hvals', 'hgetall', 'hscan', 'eval']);

export function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return v;
}


export interface FuzzRun {
  /** Sequences run, and how many ended early because `endsSequence` said so. */
  sequences: number;
  ended: number;
  compared: number;
}

/**
 * Runs `sequences` seeded sequences of `length` commands: `reset` before each, `both` runs one
 * command on the two servers and returns their replies (plain values), which must be equal.
 * `endsSequence(ours, theirs, cmd, queued)` may stop a sequence whose states can no longer match
 * (a proxy's CROSSSLOT refusal, say), after checking what it must; `tx` holds the commands of
 * the transaction being built: the WATCHes since the last EXEC, DISCARD or UNWATCH, then those
 * queued in an open MULTI (null when there is neither).
 */
export async function fuzzSequences(opts: {
  gens: Record<string, Gen>;
  sequences: number;
  length: number;
  seedBase?: number;
  reset: () => Promise<void>;
  both: (cmd: string[]) => Promise<[unknown, unknown]>;
  endsSequence?: (ours: unknown, theirs: unknown, cmd: string[], tx: readonly string[][] | null) => boolean;
}): Promise<FuzzRun> {
  const names = Object.keys(opts.gens);
  const run: FuzzRun = { sequences: opts.sequences, ended: 0, compared: 0 };
  for (let seq = 0; seq < opts.sequences; seq++) {
    const seed = (opts.seedBase ?? 1) + seq;
    const r = new Rng(seed);
    await opts.reset();
    const history: string[][] = [];
    let queued: string[][] | null = null; // the commands queued in an open MULTI
    let watched: string[][] = [];
    for (let i = 0; i < opts.length; i++) {
      const name = r.pick(names);
      const cmd = [name, ...opts.gens[name]!(r)];
      history.push(cmd);
      let [a, b] = await opts.both(cmd);
      const tx = queued === null && watched.length === 0 ? null : [...watched, ...(queued ?? [])];
      let ends: boolean | undefined;
      try {
        ends = opts.endsSequence?.(a, b, cmd, tx);
      } catch (err) {
        throw new Error(`seed ${seed}, after ${JSON.stringify(history.slice(0, -1))}: ${(err as Error).message}`);
      }
      if (ends) {
        run.ended++;
        break;
      }
      if (name === 'multi') queued ??= [];
      else if (name === 'exec' || name === 'discard') {
        if (name === 'exec' && Array.isArray(a) && Array.isArray(b) && queued) {
          const inner = queued;
          [a, b] = [a, b].map((x) => (x as unknown[]).map((e, j) => (UNORDERED.has(inner[j]![0]!) ? sortDeep(e) : e)));
        }
        queued = null;
        watched = [];
      } else if (name === 'unwatch' && queued === null) {
        watched = [];
      } else if (name === 'watch' && queued === null) {
        if (a === '+OK') watched.push(cmd);
      } else if (queued) {
        if (a === '+QUEUED') queued.push(cmd); // refused ones (arity, WATCH) are not in EXEC's reply
      } else if (UNORDERED.has(name)) [a, b] = [sortDeep(a), sortDeep(b)];
      expect(a, `seed ${seed}, after ${JSON.stringify(history.slice(0, -1))}: reply to ${JSON.stringify(cmd)}`).toEqual(b);
      run.compared++;
    }
  }
  return run;
}
