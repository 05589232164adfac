// Whole-file RDB writing/parsing and the copy-on-write snapshot walk, without sockets or files.
import { describe, expect, it } from 'vitest';
import { Db, KeyspaceClock, type KeyspaceEnv } from '../../../node/keyspace/db.js';
import { HashValue } from '../../../node/keyspace/types/hash-value.js';
import { ListValue } from '../../../node/keyspace/types/list-value.js';
import type { StoredValue } from '../../../node/keyspace/types/value.js';
import { RDB_OPCODE, RdbFormatError } from '../../../node/persistence/rdb-constants.js';
import { loadRdbIntoDbs, parseRdb, type RdbAuxInfo } from '../../../node/persistence/rdb-file.js';
import { Snapshot } from '../../../node/persistence/snapshot.js';

const AUX: RdbAuxInfo = { redisVersion: '7.0.15', ctimeSec: 1700000000, usedMemBytes: 1234567, replStreamDb: 0, replId: 'a'.repeat(40), replOffset: 42, aofBase: 0 };
const PARSE = { databases: 16, verifyChecksum: true };

function makeDbs(n = 4): Db[] {
  const dbs: Db[] = [];
  const env: KeyspaceEnv = {
    clock: new KeyspaceClock(),
    accessClock: () => 0,
    isReplica: () => false,
    onExpired: () => undefined,
    beforeRemove: (db, key) => snapshot?.beforeWrite(db, key),
  };
  for (let i = 0; i < n; i++) dbs.push(new Db(i, env));
  return dbs;
}
let snapshot: Snapshot | null = null;

/** Runs a snapshot to completion in small steps, calling `between` after each step. */
function runSnapshot(dbs: Db[], between: (step: number) => void = () => undefined, checksum = true): Buffer {
  const snap = new Snapshot(dbs, AUX, true);
  snapshot = snap;
  const chunks: Buffer[] = [];
  for (let step = 0; ; step++) {
    const done = snap.step(Infinity, 64); // tiny byte budget: many steps
    if (done) {
      chunks.push(snap.finish(checksum));
      break;
    }
    const c = snap.takeChunk();
    if (c) chunks.push(Buffer.from(c));
    between(step);
  }
  snapshot = null;
  return Buffer.concat(chunks);
}

function contents(buf: Buffer): Map<string, { value: unknown; expireAt: number }> {
  const out = new Map<string, { value: unknown; expireAt: number }>();
  parseRdb(buf, PARSE, (db, key, value, expireAt) => out.set(`${db}:${key}`, { value: show(value), expireAt }));
  return out;
}

function show(v: StoredValue): unknown {
  if (typeof v === 'string') return v;
  if (v instanceof ListValue) return [...v];
  if (v instanceof HashValue) return [...v].sort();
  return v;
}

describe('RDB file format', () => {
  it('writes header, aux fields, dbs, EOF and a valid checksum, and reads them back', () => {
    const dbs = makeDbs();
    dbs[0]!.add('s', 'hello');
    const e = dbs[0]!.add('n', '12345');
    dbs[0]!.setExpire('n', e, 4102444800000);
    dbs[2]!.add('l', ListValue.from(['a', 'b', 'c']));
    const buf = runSnapshot(dbs);
    expect(buf.latin1Slice(0, 9)).toBe('REDIS0010');
    expect(buf[buf.length - 9]).toBe(RDB_OPCODE.EOF);
    const seen = new Map<string, unknown>();
    const result = parseRdb(buf, PARSE, (db, key, value, at) => seen.set(`${db}:${key}`, [show(value), at]));
    expect(result.version).toBe(10);
    expect([...result.aux.keys()]).toEqual(['redis-ver', 'redis-bits', 'ctime', 'used-mem', 'repl-stream-db', 'repl-id', 'repl-offset', 'aof-base']);
    expect(result.aux.get('repl-id')).toBe('a'.repeat(40));
    expect(result.aux.get('repl-offset')).toBe('42');
    expect(seen).toEqual(new Map<string, unknown>([['0:s', ['hello', 0]], ['0:n', ['12345', 4102444800000]], ['2:l', [['a', 'b', 'c'], 0]]]));
  });

  it('rejects a corrupted byte through the checksum, unless checksums are off', () => {
    const dbs = makeDbs();
    dbs[0]!.add('key', 'value-value');
    const buf = runSnapshot(dbs);
    const bad = Buffer.from(buf);
    bad[bad.length - 12] ^= 0x01; // inside the value
    expect(() => parseRdb(bad, PARSE, () => undefined)).toThrow(/Wrong RDB checksum/);
    expect(() => parseRdb(bad, { ...PARSE, verifyChecksum: false }, () => undefined)).not.toThrow();
  });

  it('accepts a zero checksum (rdbchecksum no)', () => {
    const dbs = makeDbs();
    dbs[0]!.add('key', 'v');
    const buf = runSnapshot(dbs, undefined, false);
    expect(buf.subarray(buf.length - 8).every((b) => b === 0)).toBe(true);
    expect(contents(buf).get('0:key')?.value).toBe('v');
  });

  it('rejects bad signatures, future versions, FUNCTION2, MODULE_AUX and out-of-range dbs clearly', () => {
    expect(() => parseRdb(Buffer.from('RADIS0010\xff'), PARSE, () => undefined)).toThrow(/Wrong signature/);
    expect(() => parseRdb(Buffer.from('REDIS0011\xff'), PARSE, () => undefined)).toThrow(/Can't handle RDB format version 0011/);
    expect(() => parseRdb(Buffer.from([...Buffer.from('REDIS0010'), RDB_OPCODE.FUNCTION2]), PARSE, () => undefined)).toThrow(/FUNCTION2/);
    expect(() => parseRdb(Buffer.from([...Buffer.from('REDIS0010'), RDB_OPCODE.MODULE_AUX]), PARSE, () => undefined)).toThrow(/MODULE_AUX/);
    expect(() => parseRdb(Buffer.from([...Buffer.from('REDIS0010'), RDB_OPCODE.SELECTDB, 20]), PARSE, () => undefined)).toThrow(RdbFormatError);
    expect(() => parseRdb(Buffer.from('REDIS0010'), PARSE, () => undefined)).toThrow(/unexpected end/);
  });

  it('skips LRU/LFU opcodes and old second-precision expiries (RDB 9 without checksum check)', () => {
    // IDLE 5, FREQ 3, EXPIRETIME (seconds), then string "k" = "v", EOF, zero checksum.
    const body = [RDB_OPCODE.IDLE, 5, RDB_OPCODE.FREQ, 3, RDB_OPCODE.EXPIRETIME, 0x00, 0x00, 0x00, 0x70, 0, 1, 0x6b, 1, 0x76, RDB_OPCODE.EOF];
    const buf = Buffer.from([...Buffer.from('REDIS0009'), ...body, 0, 0, 0, 0, 0, 0, 0, 0]);
    const seen: unknown[] = [];
    parseRdb(buf, PARSE, (db, key, value, at) => seen.push([db, key, value, at]));
    expect(seen).toEqual([[0, 'k', 'v', 0x70000000 * 1000]]);
  });

  it('loads into dbs, drops expired keys on a master and refuses duplicate keys', () => {
    const src = makeDbs();
    src[0]!.add('live', 'x');
    const dead = src[0]!.add('dead', 'y');
    src[0]!.setExpire('dead', dead, 1000);
    const buf = runSnapshot(src);
    const dst = makeDbs();
    const r = loadRdbIntoDbs(buf, dst, { ...PARSE, now: Date.now(), dropExpired: true });
    expect([r.loaded, r.expired]).toEqual([1, 1]);
    expect(dst[0]!.dict.get('live')?.value).toBe('x');
    expect(() => loadRdbIntoDbs(buf, dst, { ...PARSE, now: Date.now(), dropExpired: true })).toThrow(/duplicated key 'live'/);
    expect(loadRdbIntoDbs(buf, dst, { ...PARSE, now: Date.now(), dropExpired: true, allowDuplicates: true }).loaded).toBe(1);
  });
});

describe('copy-on-write snapshot', () => {
  it('keeps the dataset as it was at the start while keys change, appear and vanish', () => {
    const dbs = makeDbs();
    for (let i = 0; i < 500; i++) dbs[0]!.add(`k${i}`, `old${i}`);
    for (let i = 0; i < 50; i++) dbs[1]!.add(`d1-${i}`, `one${i}`);
    const list = ListValue.from(['a', 'b']);
    dbs[1]!.add('list', list);
    const expected = new Map<string, unknown>();
    for (let i = 0; i < 500; i++) expected.set(`0:k${i}`, `old${i}`);
    for (let i = 0; i < 50; i++) expected.set(`1:d1-${i}`, `one${i}`);
    expected.set('1:list', ['a', 'b']);

    const buf = runSnapshot(dbs, (step) => {
      const db0 = dbs[0]!;
      const db1 = dbs[1]!;
      // In-place changes: the engine must see them first (what the dispatcher does).
      const i = (step * 37) % 500;
      snapshot!.beforeWrite(db0, `k${i}`);
      db0.set(`k${i}`, `new${i}`);
      // Deletions go through the keyspace's pre-removal hook.
      db0.delete(`k${(i + 250) % 500}`);
      // New keys in a db already walked and in one not reached yet.
      snapshot!.beforeWrite(db0, `fresh${step}`);
      db0.add(`fresh${step}`, 'x');
      snapshot!.beforeWrite(db1, `fresh${step}`);
      db1.add(`fresh${step}`, 'x');
      // A list mutated in place before db 1 is reached.
      if (step === 1) {
        snapshot!.beforeWrite(db1, 'list');
        list.pushBack('c');
      }
    });
    const got = new Map([...contents(buf)].map(([k, v]) => [k, v.value]));
    expect(got).toEqual(expected);
  });

  it('finishNow() completes the walk at once (before FLUSHDB / SWAPDB)', () => {
    const dbs = makeDbs();
    for (let i = 0; i < 100; i++) dbs[3]!.add(`k${i}`, 'v');
    const snap = new Snapshot(dbs, AUX, true);
    expect(snap.step(Infinity, 16)).toBe(false);
    snap.finishNow();
    expect(snap.done).toBe(true);
    expect(snap.keysProcessed).toBe(100);
  });
});
