import { describe, expect, it } from 'vitest';
import { createDumpPayload, parseDumpPayload, DUMP_ERR_BAD_FORMAT, DUMP_ERR_VERSION_OR_CHECKSUM } from '../../../node/persistence/dump.js';
import { rdbTypeOf, readValue, writeValue } from '../../../node/persistence/rdb-value.js';
import { RdbWriter } from '../../../node/persistence/rdb-writer.js';
import { RdbReader } from '../../../node/persistence/rdb-reader.js';
import { RDB_TYPE } from '../../../node/persistence/rdb-constants.js';
import { buildListpack } from '../../../node/persistence/listpack.js';
import { crc64Update, writeCrc64LE } from '../../../node/persistence/crc64.js';
import { ListValue } from '../../../node/keyspace/types/list-value.js';
import { HashValue } from '../../../node/keyspace/types/hash-value.js';
import { SetValue } from '../../../node/keyspace/types/set-value.js';
import { ZSetValue } from '../../../node/keyspace/types/zset-value.js';
import type { StoredValue } from '../../../node/keyspace/types/value.js';

/** Comparable plain form of any value. */
function plain(v: StoredValue): unknown {
  if (typeof v === 'string') return v;
  if (v instanceof ListValue) return { list: v.toArray() };
  if (v instanceof HashValue) return { hash: [...v].sort() };
  if (v instanceof SetValue) return { set: v.toArray().sort() };
  return { zset: [...(v as ZSetValue)].map((e) => [e.member, e.score]) };
}

function hashOf(n: number, valueLen = 3): HashValue {
  const h = new HashValue();
  for (let i = 0; i < n; i++) h.set(`field:${i}`, 'v'.repeat(valueLen) + i);
  return h;
}
function setOf(members: string[]): SetValue {
  const s = new SetValue();
  members.forEach((m) => s.add(m));
  return s;
}
function zsetOf(n: number, memberLen = 3): ZSetValue {
  const z = new ZSetValue();
  for (let i = 0; i < n; i++) z.set('m'.repeat(memberLen) + i, i % 2 ? i * 1.5 : -i - 1);
  return z;
}

/** Wraps an object body into a DUMP payload (for hand-built legacy types). */
function payloadOf(type: number, body: (w: RdbWriter) => void, version = 10): Buffer {
  const w = new RdbWriter();
  w.writeByte(type);
  body(w);
  w.writeUInt16LE(version);
  const out = Buffer.alloc(w.length + 8);
  w.view().copy(out);
  writeCrc64LE(crc64Update({ lo: 0, hi: 0 }, out, 0, w.length), out, w.length);
  return out;
}

describe('DUMP payload round trip', () => {
  const cases: [string, StoredValue, number][] = [
    ['short string', 'hello', RDB_TYPE.STRING],
    ['integer string', '-12345', RDB_TYPE.STRING],
    ['long compressible string', 'abc'.repeat(500), RDB_TYPE.STRING],
    ['binary string', '\x00\xff\x80\r\n', RDB_TYPE.STRING],
    ['list', ListValue.from(['a', '1', 'x'.repeat(100)]), RDB_TYPE.LIST_QUICKLIST_2],
    ['multi-node list', ListValue.from(Array.from({ length: 5000 }, (_, i) => `e${i}`)), RDB_TYPE.LIST_QUICKLIST_2],
    ['listpack hash', hashOf(10), RDB_TYPE.HASH_LISTPACK],
    ['hashtable hash', hashOf(600), RDB_TYPE.HASH],
    ['intset', setOf(['3', '-1', '9223372036854775807']), RDB_TYPE.SET_INTSET],
    ['hashtable set', setOf(['a', '1', 'b']), RDB_TYPE.SET],
    ['listpack zset', zsetOf(20), RDB_TYPE.ZSET_LISTPACK],
    ['skiplist zset', zsetOf(500), RDB_TYPE.ZSET_2],
  ];
  for (const [name, value, type] of cases) {
    it(`${name} → type ${type} and back`, () => {
      expect(rdbTypeOf(value)).toBe(type);
      for (const compression of [true, false]) {
        const payload = createDumpPayload(value, { compression });
        expect(payload[0]).toBe(type);
        const parsed = parseDumpPayload(payload);
        if (!parsed.ok) throw new Error(parsed.error);
        expect(plain(parsed.value)).toEqual(plain(value));
      }
    });
  }

  it('keeps hash listpack order and encodings after a round trip', () => {
    const h = hashOf(5);
    const parsed = parseDumpPayload(createDumpPayload(h));
    expect(parsed.ok && parsed.value instanceof HashValue && [...parsed.value]).toEqual([...h]);
    const big = parseDumpPayload(createDumpPayload(hashOf(600)));
    expect(big.ok && (big.value as HashValue).encoding()).toBe('hashtable');
  });

  it('reads the legacy types Redis 7.0 still loads', () => {
    const read = (payload: Buffer) => {
      const res = parseDumpPayload(payload);
      if (!res.ok) throw new Error(res.error);
      return plain(res.value);
    };
    expect(read(payloadOf(RDB_TYPE.LIST, (w) => { w.writeLength(2); w.writeString('a'); w.writeString('b'); }))).toEqual({ list: ['a', 'b'] });
    expect(read(payloadOf(RDB_TYPE.ZSET, (w) => { w.writeLength(2); w.writeString('a'); w.writeStringDouble(1.5); w.writeString('b'); w.writeStringDouble(-Infinity); })))
      .toEqual({ zset: [['b', -Infinity], ['a', 1.5]] });
    expect(read(payloadOf(RDB_TYPE.HASH_LISTPACK, (w) => w.writeBlob(buildListpack(['f', 'v']))))).toEqual({ hash: [['f', 'v']] });
    const zl = Buffer.from([15, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 3, 0x61, 0x62, 0x63, 0xff]);
    zl.writeUInt32LE(zl.length, 0);
    expect(read(payloadOf(RDB_TYPE.LIST_ZIPLIST, (w) => w.writeBlob(zl)))).toEqual({ list: ['abc'] });
    expect(read(payloadOf(RDB_TYPE.LIST_QUICKLIST, (w) => { w.writeLength(1); w.writeBlob(zl); }))).toEqual({ list: ['abc'] });
    expect(read(payloadOf(RDB_TYPE.LIST_QUICKLIST_2, (w) => { w.writeLength(1); w.writeLength(1); w.writeString('plain'); }))).toEqual({ list: ['plain'] });
  });

  it('reports Redis errors for bad payloads', () => {
    const good = createDumpPayload('hello');
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 1] ^= 1;
    expect(parseDumpPayload(badCrc)).toEqual({ ok: false, error: DUMP_ERR_VERSION_OR_CHECKSUM });
    expect(parseDumpPayload(payloadOf(RDB_TYPE.STRING, (w) => w.writeString('x'), 11))).toEqual({ ok: false, error: DUMP_ERR_VERSION_OR_CHECKSUM });
    expect(parseDumpPayload(Buffer.alloc(5))).toEqual({ ok: false, error: DUMP_ERR_VERSION_OR_CHECKSUM });
    const bad = (type: number, body: (w: RdbWriter) => void) => expect(parseDumpPayload(payloadOf(type, body))).toEqual({ ok: false, error: DUMP_ERR_BAD_FORMAT });
    bad(RDB_TYPE.STRING, (w) => w.writeLength(50));
    bad(RDB_TYPE.SET, (w) => w.writeLength(0));
    bad(RDB_TYPE.SET, (w) => { w.writeLength(2); w.writeString('a'); w.writeString('a'); });
    bad(RDB_TYPE.ZSET_2, (w) => { w.writeLength(1); w.writeString('a'); w.writeBinaryDouble(NaN); });
    bad(RDB_TYPE.STREAM_LISTPACKS, () => {});
    bad(42, () => {});
    bad(RDB_TYPE.HASH_LISTPACK, (w) => w.writeBlob(buildListpack(['f'])));
  });

  it('writeValue/readValue compose for RDB files', () => {
    const w = new RdbWriter();
    writeValue(w, zsetOf(3));
    writeValue(w, 'tail');
    const r = new RdbReader(Buffer.from(w.view()));
    expect(plain(readValue(r, r.readByte()))).toEqual(plain(zsetOf(3)));
    expect(readValue(r, r.readByte())).toBe('tail');
  });
});
