// The stream RDB codec on its own: round trips keep entries, tombstones, node layout and counters;
// the old STREAM_LISTPACKS (15) body loads; consumer groups round-trip; malformed bodies are refused.
import { describe, expect, it } from 'vitest';
import { StreamGroups } from '../../../node/keyspace/types/stream-groups.js';
import { StreamValue, U64_MAX } from '../../../node/keyspace/types/stream.js';
import { parseDumpPayload } from '../../../node/persistence/dump.js';
import { crc64Update, writeCrc64LE } from '../../../node/persistence/crc64.js';
import { RDB_TYPE, RdbFormatError } from '../../../node/persistence/rdb-constants.js';
import { RdbReader } from '../../../node/persistence/rdb-reader.js';
import { readStream, writeStream } from '../../../node/persistence/rdb-stream.js';
import { RdbWriter } from '../../../node/persistence/rdb-writer.js';

const ALL = [{ ms: 0n, seq: 0n }, { ms: U64_MAX, seq: U64_MAX }] as const;

function picture(s: StreamValue): unknown {
  return {
    entries: s.range(ALL[0], ALL[1], 0).map((e) => [String(e.ms), String(e.seq), e.fields]),
    nodes: [...s.nodeEntries()].map((n) => n.map((e) => `${e.ms}-${e.seq}${e.deleted ? 'x' : ''}`)),
    length: s.length,
    last: `${s.lastId.ms}-${s.lastId.seq}`,
    added: String(s.entriesAdded),
    maxDeleted: `${s.maxDeletedId.ms}-${s.maxDeletedId.seq}`,
  };
}

function body(s: StreamValue): Buffer {
  const w = new RdbWriter({ compression: false });
  writeStream(w, s);
  return Buffer.from(w.view());
}

const read = (buf: Buffer, type: number = RDB_TYPE.STREAM_LISTPACKS_2) => readStream(new RdbReader(buf), type);

function sample(): StreamValue {
  const s = new StreamValue();
  for (let i = 0; i < 230; i++) s.append({ ms: 2n ** 40n + BigInt(i), seq: BigInt(i % 5) }, i % 7 === 0 ? ['other', String(i), 'x', '-1'] : ['f', `v${i}`]);
  s.delete({ ms: 2n ** 40n, seq: 0n }); // a node's first entry: a tombstone
  s.delete({ ms: 2n ** 40n + 150n, seq: 0n });
  s.append({ ms: U64_MAX - 1n, seq: U64_MAX }, ['big', 'ids']);
  return s;
}

describe('stream RDB codec', () => {
  it('round-trips entries, tombstones, nodes and counters, and re-encodes to the same bytes', () => {
    const s = sample();
    const bytes = body(s);
    const back = read(bytes);
    expect(picture(back)).toEqual(picture(s));
    expect(back.nodeCount).toBe(3);
    expect(body(back)).toEqual(bytes);
  });

  it('an empty stream keeps its last id and counters', () => {
    const s = new StreamValue();
    s.append({ ms: 5n, seq: 1n }, ['f', 'v']);
    s.delete({ ms: 5n, seq: 1n });
    const back = read(body(s));
    expect(picture(back)).toEqual(picture(s));
    expect(back.nodeCount).toBe(0);
  });

  it('loads the old STREAM_LISTPACKS body (no first id, max deleted id or entries added)', () => {
    const s = new StreamValue();
    for (let i = 1; i <= 3; i++) s.append({ ms: BigInt(i), seq: 0n }, ['f', String(i)]);
    const full = body(s);
    // The 7.0 tail here is 5 one-byte lengths (first id, max deleted id, entries added) + groups.
    const legacy = Buffer.concat([full.subarray(0, full.length - 6), full.subarray(full.length - 1)]);
    const back = read(legacy, RDB_TYPE.STREAM_LISTPACKS);
    expect(picture(back)).toEqual(picture(s));
  });

  it('reads 7.2\'s STREAM_LISTPACKS_3 (consumers carry an active time after the seen time)', () => {
    const s = new StreamValue();
    s.append({ ms: 1n, seq: 0n }, ['f', 'v']);
    s.groups = new StreamGroups();
    s.groups.create('g', { ms: 1n, seq: 0n }, 1n)!.createConsumer('c', 1700000000000);
    const v2 = body(s);
    // The body ends with the consumer's seen time and its empty PEL length: put the active time between.
    const active = Buffer.alloc(8);
    active.writeBigInt64LE(1700000000005n);
    const v3 = Buffer.concat([v2.subarray(0, v2.length - 1), active, v2.subarray(v2.length - 1)]);
    const back = read(v3, RDB_TYPE.STREAM_LISTPACKS_3);
    const c = back.groups!.get('g')!.consumer('c')!;
    expect(c.seenTime).toBe(1700000000000);
    expect(back.groups!.get('g')!.entriesRead).toBe(1n);
  });

  it('round-trips consumer groups (PEL, consumers, unknown entries-read); a truncated group part is bad format', () => {
    const s = new StreamValue();
    for (let i = 1; i <= 4; i++) s.append({ ms: BigInt(i), seq: 0n }, ['f', String(i)]);
    s.groups = new StreamGroups();
    const g = s.groups.create('grp', { ms: 3n, seq: 0n }, 3n)!;
    s.groups.create('other', { ms: 0n, seq: 0n }, -1n);
    const c = g.createConsumer('c1', 1700000000000)!;
    g.createConsumer('idle', 1700000000001);
    for (const ms of [1n, 3n]) {
      const nack = { id: { ms, seq: 0n }, deliveryTime: 1700000000002, deliveryCount: 2, consumer: c };
      g.pel.insert(nack);
      c.pel.insert(nack);
    }
    const back = read(body(s));
    const view = (v: StreamValue) => v.groups!.sorted().map((x) => ({
      name: x.name, last: x.lastId, read: x.entriesRead,
      pel: x.pel.values().map((n) => [n.id, n.deliveryTime, n.deliveryCount, n.consumer?.name]),
      consumers: x.consumers().map((k) => [k.name, k.seenTime, k.pel.size]),
    }));
    expect(view(back)).toEqual(view(s));
    expect(() => read(body(s).subarray(0, body(s).length - 3))).toThrow();
    const payload = Buffer.concat([Buffer.from([RDB_TYPE.STREAM_LISTPACKS_2]), body(s).subarray(0, body(s).length - 3), Buffer.from([10, 0]), Buffer.alloc(8)]);
    writeCrc64LE(crc64Update({ lo: 0, hi: 0 }, payload, 0, payload.length - 8), payload, payload.length - 8);
    expect(parseDumpPayload(payload)).toEqual({ ok: false, error: expect.stringContaining('Bad data format') });
  });

  it('refuses malformed bodies', () => {
    const s = sample();
    const bytes = body(s);
    expect(() => read(bytes.subarray(0, bytes.length - 3))).toThrow(RdbFormatError);
    const w = new RdbWriter({ compression: false });
    w.writeLength(1);
    w.writeBlob(Buffer.alloc(15));
    expect(() => read(Buffer.from(w.view()))).toThrow(/128-bit id/);
  });
});
