// MEMORY STATS, PURGE and MALLOC-STATS, our node vs redis-server: the same fields in the same order
// with the same reply types (values differ: ours are the node's estimate and V8's heap figures).
import { describe, expect, it } from 'vitest';
import { plain, usePair } from '../../helpers/differential.js';

describe('MEMORY STATS matches redis-server', () => {
  const p = usePair();

  it('has the same fields, nested db entries and reply types; keys counted as Redis counts them', async () => {
    await p.both('FLUSHALL');
    for (const args of [['SET', 'a', '1'], ['RPUSH', 'l', 'x'], ['SET', 't', 'v', 'EX', '100'], ['SELECT', '2'], ['SET', 'b', '2'], ['SELECT', '0']]) await p.both(...args);
    // Field names in order, each with its value's type (a nested map's own shape); RESP3 maps
    // come as {map: [[k, v] …]}, RESP2 ones as flat arrays.
    const shape = (v: unknown): unknown => {
      const pairs: Array<[unknown, unknown]> = Array.isArray(v)
        ? v.flatMap((x, i, a) => (i % 2 === 0 ? [[x, a[i + 1]] as [unknown, unknown]] : []))
        : (v as { map: Array<[unknown, unknown]> }).map;
      return pairs.map(([k, x]) => [k, typeof x === 'object' && x !== null ? shape(x) : typeof x]);
    };
    const [ours, redis] = await p.both('MEMORY', 'STATS');
    expect(shape(plain(ours))).toEqual(shape(plain(redis)));
    const fields = Object.fromEntries((plain(ours) as unknown[]).flatMap((v, i, a) => (i % 2 === 0 ? [[v, a[i + 1]]] : [])));
    expect(fields['keys.count']).toBe(4);
    expect(fields['db.2']).toBeDefined();
    expect(fields['total.allocated']).toBeGreaterThanOrEqual(fields['startup.allocated'] as number);
    expect(fields['peak.allocated']).toBeGreaterThanOrEqual(fields['total.allocated'] as number);
    // RESP3: maps, the ratios doubles (the decoder gives both as text), on both.
    await p.both('HELLO', '3');
    const [o3, r3] = await p.both('MEMORY', 'STATS');
    expect(shape(plain(o3))).toEqual(shape(plain(r3)));
    expect(plain(o3)).toHaveProperty('map');
    await p.both('HELLO', '2');
  });

  it('PURGE answers OK; MALLOC-STATS a text report; wrong arity as Redis', async () => {
    await p.same(['MEMORY', 'PURGE'], ['MEMORY', 'PURGE', 'x'], ['MEMORY', 'STATS', 'x'], ['MEMORY', 'MALLOC-STATS', 'x']);
    const [o, r] = await p.both('MEMORY', 'MALLOC-STATS');
    expect(typeof o).toBe('string');
    expect(typeof r).toBe('string');
    expect(String(o)).toContain('V8 heap statistics');
  });
});
