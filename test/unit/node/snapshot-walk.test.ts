// The BGSAVE walk (persistence/snapshot.ts) under writes, removals, renames and re-creations made
// between its slices: the file must hold each key of the dataset as it was at the start exactly
// once (loading refuses a duplicate), and nothing created later. Keys are spread over all slots
// and also packed into a few hash-tag slots (many keys per slot, swaps on removal).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slotOf } from '../../../common/slots.js';
import { Db, Entry, KeyspaceClock, type KeyspaceEnv } from '../../../node/keyspace/db.js';
import { ListValue } from '../../../node/keyspace/types/list-value.js';
import type { StoredValue } from '../../../node/keyspace/types/value.js';
import { loadRdbIntoDbs, type RdbAuxInfo } from '../../../node/persistence/rdb-file.js';
import { Snapshot } from '../../../node/persistence/snapshot.js';

const AUX: RdbAuxInfo = { redisVersion: '7.0.15', ctimeSec: 1700000000, usedMemBytes: 0, replStreamDb: 0, replId: 'a'.repeat(40), replOffset: 0, aofBase: 0 };
const LOAD = { databases: 2, verifyChecksum: true, now: 0, dropExpired: false };

let snapshot: Snapshot | null = null;

function makeDbs(): Db[] {
  const env: KeyspaceEnv = {
    clock: new KeyspaceClock(),
    accessClock: () => 0,
    isReplica: () => false,
    onExpired: () => undefined,
    beforeRemove: (db, key) => snapshot?.beforeWrite(db, key),
  };
  return [new Db(0, env), new Db(1, env)];
}

/** A key name: plain (any slot) or in one of three hash tags (three crowded slots). */
const keyName = (n: number): string => (n % 3 === 0 ? `{t${n % 9}}k${n}` : `k${n}`);

function show(v: StoredValue): unknown {
  return v instanceof ListValue ? [...v] : v;
}

/** db:key → [value, expireAt] of every key. */
function dataset(dbs: readonly Db[]): Map<string, [unknown, number]> {
  const out = new Map<string, [unknown, number]>();
  for (const db of dbs) for (const [key, e] of db.dict) out.set(`${db.id}:${key}`, [show(e.value), e.expireAt]);
  return out;
}

/** One write a client could make between two slices, through the hooks the dispatcher calls. */
type Op = { kind: 'set' | 'del' | 'add' | 'rename' | 'expire' | 'push'; db: number; a: number; b: number };

function apply(dbs: readonly Db[], op: Op): void {
  const db = dbs[op.db]!;
  const a = keyName(op.a);
  const b = keyName(op.b);
  snapshot?.beforeWrite(db, a);
  switch (op.kind) {
    case 'set':
      db.set(a, `new${op.b}`);
      break;
    case 'del':
      db.delete(a);
      break;
    case 'add':
      if (!db.dict.has(a)) db.add(a, `created${op.b}`);
      break;
    case 'rename': {
      snapshot?.beforeWrite(db, b);
      const e = db.dict.get(a);
      if (e !== undefined && a !== b) db.rename(a, e, b);
      break;
    }
    case 'expire': {
      const e = db.dict.get(a);
      if (e !== undefined) db.setExpire(a, e, 4_000_000_000_000 + op.b);
      break;
    }
    case 'push': {
      const e = db.dict.get(a);
      if (e !== undefined && e.value instanceof ListValue) e.value.pushBack(`p${op.b}`);
      break;
    }
  }
}

/** Runs a snapshot in slices of a few keys, applying `ops[i]` after slice i; returns the file. */
function snapshotUnder(dbs: readonly Db[], ops: readonly Op[]): Buffer {
  const snap = new Snapshot(dbs, AUX, false);
  snapshot = snap;
  const chunks: Buffer[] = [];
  try {
    for (let i = 0; ; i++) {
      const done = snap.step(Infinity, 24); // a tiny byte budget: a slice is one to a few keys
      if (done) {
        chunks.push(snap.finish(true));
        break;
      }
      const c = snap.takeChunk();
      if (c !== null) chunks.push(Buffer.from(c));
      for (const op of ops.slice(i * 3, i * 3 + 3)) apply(dbs, op);
    }
  } finally {
    snapshot = null;
  }
  return Buffer.concat(chunks);
}

function fill(dbs: readonly Db[], keys: number): void {
  for (let n = 0; n < keys; n++) {
    const db = dbs[n % 2]!;
    const key = keyName(n);
    const e = db.add(key, n % 10 === 0 ? ListValue.from(['a', `${n}`]) : `v${n}`);
    if (n % 7 === 0) db.setExpire(key, e, 3_000_000_000_000 + n);
  }
}

/** Loads the file into fresh dbs (a duplicate key throws) and returns what it held. */
function loaded(buf: Buffer): Map<string, [unknown, number]> {
  const dst = makeDbs();
  loadRdbIntoDbs(buf, dst, LOAD);
  return dataset(dst);
}

const opArb = fc.record({
  kind: fc.constantFrom<Op['kind']>('set', 'del', 'add', 'rename', 'expire', 'push'),
  db: fc.integer({ min: 0, max: 1 }),
  a: fc.integer({ min: 0, max: 299 }),
  b: fc.integer({ min: 0, max: 299 }),
});

describe('snapshot walk', () => {
  it('holds the dataset as it was at the start, each key once, under random writes between slices', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 600 }), (ops) => {
        const dbs = makeDbs();
        fill(dbs, 240);
        const before = dataset(dbs);
        const buf = snapshotUnder(dbs, ops);
        expect(loaded(buf)).toEqual(before);
      }),
      { numRuns: 150 },
    );
  });

  it('a key renamed onto a key the walk has not reached is written once, with its old value', () => {
    const dbs = makeDbs();
    fill(dbs, 240);
    const before = dataset(dbs);
    // Every rename lands on a key of db 0 before the walk gets there; then the sources go.
    const ops: Op[] = [];
    for (let n = 0; n < 40; n++) ops.push({ kind: 'rename', db: 0, a: 2 * n, b: 238 - 2 * n });
    expect(loaded(snapshotUnder(dbs, ops))).toEqual(before);
  });

  it('removals in a crowded slot while the walk is inside it move no unwritten key out of its way', () => {
    const dbs = makeDbs();
    const db = dbs[0]!;
    const keys = Array.from({ length: 200 }, (_, n) => `{crowd}k${n}`);
    for (const k of keys) db.add(k, `v-${k}`);
    expect(new Set(keys.map((k) => slotOf(k))).size).toBe(1);
    const before = dataset(dbs);
    const snap = new Snapshot(dbs, AUX, false);
    snapshot = snap;
    const chunks: Buffer[] = [];
    try {
      // Into the slot: a few keys written, then the first (written) keys removed one by one,
      // each removal swapping the slot's last (unwritten) key into its place.
      for (let i = 0; !snap.step(Infinity, 24); i++) {
        const c = snap.takeChunk();
        if (c !== null) chunks.push(Buffer.from(c));
        const k = keys[i];
        if (k !== undefined) {
          snap.beforeWrite(db, k);
          db.delete(k);
        }
      }
      chunks.push(snap.finish(true));
    } finally {
      snapshot = null;
    }
    expect(loaded(Buffer.concat(chunks))).toEqual(before);
  });

  it('entries carry no snapshot state: value, expiry, access clock and slot position only', () => {
    const e = new Entry('v', 0, 0, 0);
    expect(Object.keys(e).sort()).toEqual(['expireAt', 'lru', 'slotPos', 'value']);
  });
});
