// The consumer group model on its own: PEL ordering (middle inserts, deletes, lower bounds), NACKs
// shared between the group and its consumers, clone independence, and the rax node count XINFO
// reports for a few layouts worked out by hand.
import { describe, expect, it } from 'vitest';
import { PelIndex, StreamGroups, type StreamNack } from '../../../node/keyspace/types/stream-groups.js';
import { StreamValue, radixTreeNodes } from '../../../node/keyspace/types/stream.js';

const id = (ms: number, seq = 0) => ({ ms: BigInt(ms), seq: BigInt(seq) });

describe('PelIndex', () => {
  it('keeps ids ordered whatever the insert order; get, delete, lowerBound', () => {
    const pel = new PelIndex<{ id: { ms: bigint; seq: bigint } }>();
    for (const ms of [5, 1, 9, 3, 7]) expect(pel.insert({ id: id(ms) })).toBe(true);
    expect(pel.insert({ id: id(3) })).toBe(false);
    expect(pel.values().map((x) => Number(x.id.ms))).toEqual([1, 3, 5, 7, 9]);
    expect(pel.lowerBound(id(4))).toBe(2);
    expect(pel.lowerBound(id(10))).toBe(5);
    expect(pel.get(id(7))?.id.ms).toBe(7n);
    expect(pel.get(id(7, 1))).toBeUndefined();
    expect(pel.delete(id(1))).toBe(true);
    expect(pel.delete(id(1))).toBe(false);
    expect(pel.first()?.id.ms).toBe(3n);
    expect(pel.last()?.id.ms).toBe(9n);
    expect(pel.size).toBe(4);
  });
});

describe('StreamGroup', () => {
  function setup() {
    const groups = new StreamGroups();
    const g = groups.create('g', id(0), 0n)!;
    const alice = g.createConsumer('alice', 1)!;
    const bob = g.createConsumer('bob', 2)!;
    for (const ms of [1, 2, 3]) {
      const nack: StreamNack = { id: id(ms), deliveryTime: 10, deliveryCount: 1, consumer: alice };
      g.pel.insert(nack);
      alice.pel.insert(nack);
    }
    return { groups, g, alice, bob };
  }

  it('assign moves a NACK between consumers; ack and deleteConsumer clear both PELs', () => {
    const { g, alice, bob } = setup();
    g.assign(g.pel.get(id(2))!, bob);
    expect(alice.pel.values().map((n) => n.id.ms)).toEqual([1n, 3n]);
    expect(bob.pel.values().map((n) => n.id.ms)).toEqual([2n]);
    expect(g.ack(id(1))).toBe(true);
    expect(g.ack(id(1))).toBe(false);
    expect(alice.pel.size).toBe(1);
    g.deleteConsumer(alice);
    expect(g.pel.values().map((n) => n.id.ms)).toEqual([2n]);
    expect(g.consumers().map((c) => c.name)).toEqual(['bob']);
    expect(g.createConsumer('bob', 3)).toBeUndefined();
  });

  it('clone shares nothing with the original', () => {
    const { groups, g } = setup();
    const copy = groups.clone().get('g')!;
    copy.ack(id(1));
    copy.pel.get(id(2))!.deliveryCount = 99;
    expect(g.pel.size).toBe(3);
    expect(g.pel.get(id(2))!.deliveryCount).toBe(1);
    expect(copy.consumer('alice')!.pel.get(id(2))).toBe(copy.pel.get(id(2)));
  });

  it('groups and consumers iterate in byte order of their names', () => {
    const groups = new StreamGroups();
    for (const name of ['b', 'B', 'a', '\xff', '']) groups.create(name, id(0), -1n);
    expect(groups.sorted().map((g) => g.name)).toEqual(['', 'B', 'a', 'b', '\xff']);
    expect(groups.create('a', id(0), 0n)).toBeUndefined();
  });
});

describe('radixTreeNodes', () => {
  const withNodes = (n: number, step: number) => {
    const s = new StreamValue();
    for (let i = 0; i < n * 100; i++) s.append(id(1 + i * step), ['f', 'v']);
    return s;
  };

  it('counts the root alone for an empty stream, 2 for one key', () => {
    expect(radixTreeNodes(new StreamValue())).toBe(1);
    expect(radixTreeNodes(withNodes(1, 1))).toBe(2); // compressed 16-byte run + leaf
  });

  it('two keys differing in the last byte: shared run, branch, two leaves', () => {
    // Node keys 1-0 and 101-0 differ only in byte 7.
    expect(radixTreeNodes(withNodes(2, 1))).toBe(1 + 1 + 2 * 2);
  });
});

describe('PelIndex front deletes', () => {
  it('in-order acks of a large PEL stay ordered across compactions; front inserts reuse the dropped slots', () => {
    const pel = new PelIndex<{ id: { ms: bigint; seq: bigint } }>();
    for (let i = 0; i < 5000; i++) pel.insert({ id: id(i * 2) });
    for (let i = 0; i < 3000; i++) expect(pel.delete(id(i * 2))).toBe(true);
    expect(pel.size).toBe(2000);
    expect(pel.first()?.id.ms).toBe(6000n);
    expect(pel.lowerBound(id(6001))).toBe(1);
    expect(pel.insert({ id: id(5999) })).toBe(true);
    expect(pel.insert({ id: id(7001) })).toBe(true);
    const ms = pel.values().map((x) => Number(x.id.ms));
    expect(ms.slice(0, 3)).toEqual([5999, 6000, 6002]);
    expect(ms.length).toBe(2002);
    expect([...ms].sort((a, b) => a - b)).toEqual(ms);
    for (const x of [...pel.values()]) pel.delete(x.id);
    expect(pel.size).toBe(0);
    expect(pel.first()).toBeUndefined();
  });
});
