import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ListValue } from '../../../node/keyspace/types/list-value.js';

type Op =
  | { op: 'pushBack' | 'pushFront'; v: string }
  | { op: 'popBack' | 'popFront' }
  | { op: 'insert'; i: number; v: string }
  | { op: 'removeAt'; i: number }
  | { op: 'set'; i: number; v: string }
  | { op: 'remove'; count: number; v: string }
  | { op: 'trim'; start: number; stop: number };

const value = fc.constantFrom('a', 'b', 'c', '');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('pushBack' as const, 'pushFront' as const), v: value }),
  fc.record({ op: fc.constantFrom('popBack' as const, 'popFront' as const) }),
  fc.record({ op: fc.constant('insert' as const), i: fc.nat(), v: value }),
  fc.record({ op: fc.constant('removeAt' as const), i: fc.nat() }),
  fc.record({ op: fc.constant('set' as const), i: fc.nat(), v: value }),
  fc.record({ op: fc.constant('remove' as const), count: fc.integer({ min: -3, max: 3 }), v: value }),
  fc.record({ op: fc.constant('trim' as const), start: fc.nat(40), stop: fc.nat(60) }),
);

/** LREM on a plain array, straight from the Redis docs. */
function modelRemove(arr: string[], count: number, v: string): number {
  let removed = 0;
  const limit = count === 0 ? Infinity : Math.abs(count);
  if (count >= 0) {
    for (let i = 0; i < arr.length && removed < limit; ) {
      if (arr[i] === v) {
        arr.splice(i, 1);
        removed++;
      } else i++;
    }
  } else {
    for (let i = arr.length - 1; i >= 0 && removed < limit; i--) {
      if (arr[i] === v) {
        arr.splice(i, 1);
        removed++;
      }
    }
  }
  return removed;
}

describe('ListValue', () => {
  it('behaves like an array under random operations', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const list = new ListValue();
        const model: string[] = [];
        for (const o of ops) {
          switch (o.op) {
            case 'pushBack':
              list.pushBack(o.v);
              model.push(o.v);
              break;
            case 'pushFront':
              list.pushFront(o.v);
              model.unshift(o.v);
              break;
            case 'popBack':
              expect(list.popBack()).toBe(model.pop());
              break;
            case 'popFront':
              expect(list.popFront()).toBe(model.shift());
              break;
            case 'insert': {
              const i = o.i % (model.length + 1);
              list.insertAt(i, o.v);
              model.splice(i, 0, o.v);
              break;
            }
            case 'removeAt':
              if (model.length > 0) {
                const i = o.i % model.length;
                expect(list.removeAt(i)).toBe(model.splice(i, 1)[0]);
              }
              break;
            case 'set':
              if (model.length > 0) {
                const i = o.i % model.length;
                list.set(i, o.v);
                model[i] = o.v;
              }
              break;
            case 'remove':
              expect(list.remove(o.count, o.v)).toBe(modelRemove(model, o.count, o.v));
              break;
            case 'trim': {
              const stop = Math.min(o.stop, model.length - 1);
              list.trim(o.start, stop);
              const kept = o.start > stop ? [] : model.slice(o.start, stop + 1);
              model.length = 0;
              model.push(...kept);
              break;
            }
          }
          expect(list.length).toBe(model.length);
        }
        expect(list.toArray()).toEqual(model);
        expect([...list]).toEqual(model);
        for (let i = 0; i < model.length; i++) expect(list.at(i)).toBe(model[i]);
      }),
      { numRuns: 300 },
    );
  });

  it('returns inclusive ranges and handles empty ranges', () => {
    const list = ListValue.from(['a', 'b', 'c', 'd']);
    expect(list.range(1, 2)).toEqual(['b', 'c']);
    expect(list.range(2, 1)).toEqual([]);
    expect(list.insertAfter(0, 'x')).toBeUndefined();
    expect(list.toArray()).toEqual(['a', 'x', 'b', 'c', 'd']);
    list.insertBefore(0, 'y');
    expect(list.toArray()).toEqual(['y', 'a', 'x', 'b', 'c', 'd']);
    expect(list.indexOf('b')).toBe(3);
    expect(list.encoding()).toBe('quicklist');
  });

  it('grows and shrinks across many pushes and pops at both ends', () => {
    const list = new ListValue();
    for (let i = 0; i < 10_000; i++) {
      if (i % 2) list.pushBack(String(i));
      else list.pushFront(String(i));
    }
    expect(list.length).toBe(10_000);
    expect(list.at(0)).toBe('9998');
    expect(list.at(9999)).toBe('9999');
    for (let i = 0; i < 9_990; i++) list.popFront();
    expect(list.length).toBe(10);
    expect(list.at(9)).toBe('9999');
  });
});
