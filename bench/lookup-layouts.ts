// How long one keyspace lookup takes in different in-memory layouts, in one process, the way the
// node looks keys up: 100,000 keys `key:<12 digits>` (redis-benchmark's -r 100000 names), each
// lookup given the key's bytes in a request-like buffer, keys picked at random so that the
// table does not sit in the CPU's caches. It measures memory layout, not the node: no sockets.
//   node dist/bench/lookup-layouts.js [--keys N] [--lookups N] [--rounds N]
//                                     (npm run bench:lookup-layouts -- …)
// Layouts (docs/performance.md, "Where the lookup's time goes"):
//   map        one Map from key string to an entry object (the node's Db.dict today)
//   by-slot    1,024 Maps, the slot computed from the key's bytes
//   hashed     open addressing: each key's hash beside its slot, keys as strings
//   inline-key open addressing over one Buffer of 32-byte slots holding hash, length, key bytes
// and two GET-like steps (find the key, copy its value out as a reply writer would):
//   get-today  Map → entry object → value string written with latin1Write
//   get-inline one Buffer of 64-byte slots holding hash, lengths, key and value bytes (no object)
import { pathToFileURL } from 'node:url';
import { crc32Bytes, slotOfBytes } from '../common/slots.js';

export const LAYOUTS = ['map', 'by-slot', 'hashed', 'inline-key', 'get-today', 'get-inline'] as const;
export type Layout = (typeof LAYOUTS)[number];

/** The n-th key's name, as redis-benchmark's -r spells __rand_int__. */
export function keyName(i: number): string {
  return `key:${String(i).padStart(12, '0')}`;
}

/** The value stored under the n-th key (GET-like steps copy it out). */
export function valueOf(i: number): string {
  return `v${i}`;
}

interface EntryLike {
  value: string;
  expireAt: number;
  lru: number;
  slotPos: number;
}

/** A layout loaded with keys 0..n-1: `find` answers the key's number (or -1) from its bytes. */
export interface LoadedLayout {
  find(buf: Buffer, start: number, end: number): number;
}

const NOT_FOUND = -1;
/** Value bytes the GET-like steps copy into (a reply buffer's stand-in). */
const reply = Buffer.alloc(64);

function capacityFor(keys: number): number {
  let cap = 1024;
  while (cap < keys * 2) cap *= 2;
  return cap;
}

/** A non-zero 32-bit hash of bytes (0 marks an empty slot). */
function hashOf(buf: Buffer, start: number, end: number): number {
  return crc32Bytes(buf, start, end) | 1;
}

function sameBytes(a: Buffer, aStart: number, b: Buffer, bStart: number, n: number): boolean {
  for (let j = 0; j < n; j++) if (a[aStart + j] !== b[bStart + j]) return false;
  return true;
}

/** The n-th key's entry object, shaped like the node's Entry (plus the key's number). */
function entry(i: number): EntryLike & { n: number } {
  return { value: valueOf(i), expireAt: 0, lru: 0, slotPos: 0, n: i };
}

function loadMap(keys: number): LoadedLayout {
  const map = new Map<string, EntryLike & { n: number }>();
  for (let i = 0; i < keys; i++) map.set(keyName(i), entry(i));
  return { find: (buf, start, end) => map.get(buf.latin1Slice(start, end))?.n ?? NOT_FOUND };
}

function loadBySlot(keys: number): LoadedLayout {
  const maps = Array.from({ length: 1024 }, () => new Map<string, EntryLike & { n: number }>());
  for (let i = 0; i < keys; i++) {
    const b = Buffer.from(keyName(i), 'latin1');
    maps[slotOfBytes(b)]!.set(keyName(i), entry(i));
  }
  return { find: (buf, start, end) => maps[slotOfBytes(buf, start, end)]!.get(buf.latin1Slice(start, end))?.n ?? NOT_FOUND };
}

function loadHashed(keys: number): LoadedLayout {
  const cap = capacityFor(keys);
  const mask = cap - 1;
  const hashes = new Int32Array(cap);
  const names: string[] = new Array<string>(cap).fill('');
  const entries: Array<EntryLike & { n: number }> = new Array(cap);
  for (let i = 0; i < keys; i++) {
    const b = Buffer.from(keyName(i), 'latin1');
    const h = hashOf(b, 0, b.length);
    let at = h & mask;
    while (hashes[at] !== 0) at = (at + 1) & mask;
    hashes[at] = h;
    names[at] = keyName(i);
    entries[at] = entry(i);
  }
  return {
    find(buf, start, end) {
      const h = hashOf(buf, start, end);
      const n = end - start;
      for (let at = h & mask; hashes[at] !== 0; at = (at + 1) & mask) {
        if (hashes[at] !== h) continue;
        const k = names[at]!;
        if (k.length !== n) continue;
        let j = 0;
        while (j < n && k.charCodeAt(j) === buf[start + j]) j++;
        if (j === n) return entries[at]!.n;
      }
      return NOT_FOUND;
    },
  };
}

/**
 * Open addressing over one Buffer of `slot`-byte slots: [hash 4][key length 2][value length 2]
 * [key ≤ 24][value ≤ 24][key's number 4] (value and number only `withValues`). Without values the
 * entries stay objects in an array, as the node's would.
 */
function loadInline(keys: number, slot: number, withValues: boolean): LoadedLayout {
  const cap = capacityFor(keys);
  const mask = cap - 1;
  const table = Buffer.alloc(cap * slot);
  const entries: Array<EntryLike & { n: number }> = withValues ? [] : new Array(cap);
  const keyAt = 8;
  const valueAt = 32;
  const numberAt = 56;
  for (let i = 0; i < keys; i++) {
    const b = Buffer.from(keyName(i), 'latin1');
    const h = hashOf(b, 0, b.length);
    let at = h & mask;
    while (table.readInt32LE(at * slot) !== 0) at = (at + 1) & mask;
    const o = at * slot;
    table.writeInt32LE(h, o);
    table.writeUInt16LE(b.length, o + 4);
    b.copy(table, o + keyAt);
    if (withValues) {
      const v = Buffer.from(valueOf(i), 'latin1');
      table.writeUInt16LE(v.length, o + 6);
      v.copy(table, o + valueAt);
      table.writeInt32LE(i, o + numberAt);
    } else {
      entries[at] = entry(i);
    }
  }
  return {
    find(buf, start, end) {
      const h = hashOf(buf, start, end);
      const n = end - start;
      for (let at = h & mask; ; at = (at + 1) & mask) {
        const o = at * slot;
        const stored = table[o]! | (table[o + 1]! << 8) | (table[o + 2]! << 16) | (table[o + 3]! << 24);
        if (stored === 0) return NOT_FOUND;
        if (stored !== h || (table[o + 4]! | (table[o + 5]! << 8)) !== n || !sameBytes(table, o + keyAt, buf, start, n)) continue;
        if (!withValues) return entries[at]!.n;
        const len = table[o + 6]! | (table[o + 7]! << 8);
        for (let k = 0; k < len; k++) reply[k] = table[o + valueAt + k]!;
        return table.readInt32LE(o + numberAt);
      }
    },
  };
}

function loadGetToday(keys: number): LoadedLayout {
  const map = new Map<string, EntryLike & { n: number }>();
  for (let i = 0; i < keys; i++) map.set(keyName(i), entry(i));
  return {
    find(buf, start, end) {
      const e = map.get(buf.latin1Slice(start, end));
      if (e === undefined) return NOT_FOUND;
      reply.latin1Write(e.value, 0);
      return e.n;
    },
  };
}

/** Loads `layout` with keys 0..keys-1. */
export function loadLayout(layout: Layout, keys: number): LoadedLayout {
  switch (layout) {
    case 'map': return loadMap(keys);
    case 'by-slot': return loadBySlot(keys);
    case 'hashed': return loadHashed(keys);
    case 'inline-key': return loadInline(keys, 32, false);
    case 'get-today': return loadGetToday(keys);
    case 'get-inline': return loadInline(keys, 64, true);
  }
}

/** Request-like buffers, each holding one random key's name between other bytes. */
export function lookupBuffers(keys: number, count: number, random: () => number = Math.random): Array<{ buf: Buffer; start: number; end: number; n: number }> {
  const out: Array<{ buf: Buffer; start: number; end: number; n: number }> = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(random() * keys);
    const name = keyName(n);
    const buf = Buffer.from(`*2\r\n$3\r\nGET\r\n$${name.length}\r\n${name}\r\n`, 'latin1');
    const start = buf.length - 2 - name.length;
    out.push({ buf, start, end: start + name.length, n });
  }
  return out;
}

/** Nanoseconds per lookup over `lookups` lookups cycling through `buffers`; throws on a wrong answer. */
export function timeLookups(layout: LoadedLayout, buffers: ReturnType<typeof lookupBuffers>, lookups: number): number {
  const mask = buffers.length - 1;
  if ((buffers.length & mask) !== 0) throw new Error('lookup buffers: a power of two is needed');
  let wrong = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < lookups; i++) {
    const b = buffers[i & mask]!;
    if (layout.find(b.buf, b.start, b.end) !== b.n) wrong++;
  }
  const ns = Number(process.hrtime.bigint() - started) / lookups;
  if (wrong > 0) throw new Error(`${wrong} wrong answers`);
  return ns;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(argv: string[]): void {
  const opt = (name: string, dflt: number): number => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`--${name} wants a positive integer`);
    return v;
  };
  const keys = opt('keys', 100_000);
  const lookups = opt('lookups', 2_000_000);
  const rounds = opt('rounds', 3);
  const buffers = lookupBuffers(keys, 1 << 18);
  const loaded = LAYOUTS.map((l) => [l, loadLayout(l, keys)] as const);
  const times = new Map<Layout, number[]>(LAYOUTS.map((l) => [l, []]));
  // Rounds alternate the layouts, so a slow moment of the machine does not fall on one alone.
  for (let r = 0; r < rounds; r++) for (const [l, layout] of loaded) times.get(l)!.push(timeLookups(layout, buffers, lookups));
  process.stdout.write(`${keys} keys, ${lookups} random lookups per round, ${rounds} rounds; ns per lookup\n`);
  process.stdout.write('layout      median  rounds\n');
  for (const l of LAYOUTS) {
    const t = times.get(l)!;
    process.stdout.write(`${l.padEnd(11)} ${median(t).toFixed(0).padStart(6)}  ${t.map((x) => x.toFixed(0)).join(' ')}\n`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
