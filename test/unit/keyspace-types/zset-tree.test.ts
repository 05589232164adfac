import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZTree } from '../../../node/keyspace/types/zset-tree.js';

type Pair = [number, string];
const cmp = (a: Pair, b: Pair) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

/** Everything the tree answers, checked against a sorted array. */
function checkAgainst(tree: ZTree, model: Pair[]): void {
  expect(tree.size).toBe(model.length);
  const forward: Pair[] = [];
  for (const c = tree.at(0); c.valid; c.next()) forward.push([c.score, c.member]);
  expect(forward).toEqual(model);
  const backward: Pair[] = [];
  for (const c = tree.at(tree.size - 1); c.valid; c.prev()) backward.push([c.score, c.member]);
  expect(backward).toEqual([...model].reverse());
  model.forEach(([s, m], i) => {
    expect(tree.rankOf(s, m)).toBe(i);
    const c = tree.at(i);
    expect([c.score, c.member]).toEqual([s, m]);
  });
  expect(tree.at(model.length).valid).toBe(false);
  for (const bound of [-1, 0, 2, 3.5, 7, 100]) {
    const expected = model.findIndex(([s]) => s >= bound);
    expect(tree.lowerBound((s) => s >= bound)).toBe(expected < 0 ? model.length : expected);
  }
}

describe('ZTree (order-statistic B+-tree)', () => {
  for (const cap of [3, 4, 8]) {
    it(`matches a sorted array through inserts, deletes and deletes by rank (node cap ${cap})`, () => {
      const op = fc.oneof(
        fc.tuple(fc.constant('add' as const), fc.integer({ min: 0, max: 8 }), fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j')),
        fc.tuple(fc.constant('del' as const), fc.integer({ min: 0, max: 8 }), fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j')),
        fc.tuple(fc.constant('delAt' as const), fc.nat(90), fc.constant('')),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
          const tree = new ZTree(cap);
          let model: Pair[] = [];
          for (const [kind, n, m] of ops) {
            const at = model.findIndex(([s, mm]) => s === n && mm === m);
            if (kind === 'add' && at < 0) {
              tree.insert(n, m);
              model.push([n, m]);
              model.sort(cmp);
            } else if (kind === 'del') {
              expect(tree.delete(n, m)).toBe(at >= 0);
              if (at >= 0) model.splice(at, 1);
            } else if (kind === 'delAt' && model.length > 0) {
              const r = n % model.length;
              tree.deleteAt(r);
              model = model.filter((_, i) => i !== r);
            }
          }
          checkAgainst(tree, model);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('stays consistent through growth to thousands of elements and back to empty', () => {
    const tree = new ZTree(4);
    const model: Pair[] = [];
    for (let i = 0; i < 3000; i++) {
      const p: Pair = [(i * 7919) % 1013, `m${i}`];
      tree.insert(p[0], p[1]);
      model.push(p);
    }
    model.sort(cmp);
    checkAgainst(tree, model);
    // Delete from the front, the back and the middle so every merge direction runs.
    while (model.length > 0) {
      const r = model.length % 3 === 0 ? 0 : model.length % 3 === 1 ? model.length - 1 : model.length >> 1;
      const [s, m] = model[r]!;
      expect(tree.delete(s, m)).toBe(true);
      model.splice(r, 1);
      if (model.length % 500 === 0) checkAgainst(tree, model);
    }
    checkAgainst(tree, model);
    tree.insert(1, 'again');
    checkAgainst(tree, [[1, 'again']]);
  });

  it('ascending and descending insert runs (edge splits) keep every answer right', () => {
    for (const dir of [1, -1]) {
      const tree = new ZTree(4);
      const model: Pair[] = [];
      for (let i = 0; i < 500; i++) {
        const p: Pair = [dir * i, 'x'];
        tree.insert(p[0], p[1]);
        model.push(p);
        if (i === 250) tree.insert(dir * 100.5, 'mid'), model.push([dir * 100.5, 'mid']);
      }
      model.sort(cmp);
      checkAgainst(tree, model);
    }
  });

  it('orders -0 and 0 as equal scores, then by member bytes', () => {
    const tree = new ZTree(3);
    for (const [s, m] of [[0, 'b'], [-0, 'a'], [0, '\xff'], [-Infinity, 'z'], [Infinity, '']] as Pair[]) tree.insert(s, m);
    const order: string[] = [];
    for (const c = tree.at(0); c.valid; c.next()) order.push(c.member);
    expect(order).toEqual(['z', 'a', 'b', '\xff', '']);
    expect(tree.rankOf(0, 'a')).toBe(1);
  });
});
