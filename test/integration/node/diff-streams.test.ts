// Streams, first slice (XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID): our node vs real
// redis-server, same commands, same replies, error texts included. Ids are explicit (or `ms-*`)
// so both servers agree; `*` is checked for its form and its monotonicity.
import { beforeEach, describe, expect, it } from 'vitest';
import { plain, usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';

describe('stream commands match redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
  });

  const everything = (key: string) => [['XLEN', key], ['XRANGE', key, '-', '+']];

  it('XADD ids: explicit, ms-*, ms alone, errors, NOMKSTREAM, TYPE, OBJECT ENCODING', async () => {
    await p.same(
      ['XADD', 's', '1-1', 'f', 'v'], ['XADD', 's', '1-1', 'f', 'v'], ['XADD', 's', '1-0', 'f', 'v'], ['XADD', 's', '1-*', 'a', '1', 'b', '2'],
      ['XADD', 's', '5', 'f', 'v'], ['XADD', 's', '5-*', 'f', 'v'], ['XADD', 's', '4-*', 'f', 'v'], ['XADD', 's', '0-0', 'f', 'v'],
      ['XADD', 'z', '0-0', 'f', 'v'], ['XADD', 'z', '0-*', 'f', 'v'], ['XADD', 'z', '0', 'f', 'v'],
      ['XADD', 's', 'x-1', 'f', 'v'], ['XADD', 's', '7-x', 'f', 'v'], ['XADD', 's', '-', 'f', 'v'], ['XADD', 's', '+', 'f', 'v'],
      ['XADD', 's', '-5', 'f', 'v'], ['XADD', 's', '7-*-1', 'f', 'v'], ['XADD', 's', '*-1', 'f', 'v'],
      ['XADD', 's', '10', 'f'], ['XADD', 's', '10', 'f', 'v', 'g'], ['XADD', 's', '10'], ['XADD', 's', 'NOMKSTREAM', '10'],
      ['XADD', 'n', 'NOMKSTREAM', '1-1', 'f', 'v'], ['EXISTS', 'n'], ['XADD', 's', 'NOMKSTREAM', '11-1', 'f', 'v'],
      ['XADD', 'big', '18446744073709551615-18446744073709551614', 'f', 'v'], ['XADD', 'big', '18446744073709551615-*', 'f', 'v'],
      ['XADD', 'big', '18446744073709551615-*', 'f', 'v'], ['XADD', 'big', '*', 'f', 'v'], ['XADD', 'big', '18446744073709551616', 'f', 'v'],
      ['TYPE', 's'], ['OBJECT', 'ENCODING', 's'], ['SET', 'str', 'x'], ['XADD', 'str', '1-1', 'f', 'v'], ['XLEN', 'str'],
      ['XRANGE', 'str', '-', '+'], ['XDEL', 'str', '1-1'], ['XTRIM', 'str', 'MAXLEN', '1'], ['XLEN', 'nokey'],
      ...everything('s'), ...everything('z'), ...everything('big'),
    );
    const [a] = await p.both('XADD', 't', '*', 'f', 'v');
    const [b] = await p.both('XADD', 't', '*', 'f', 'v');
    expect(a).toMatch(/^\d+-0$/);
    const [msA, seqA] = String(a).split('-').map(BigInt) as [bigint, bigint];
    const [msB, seqB] = String(b).split('-').map(BigInt) as [bigint, bigint];
    expect(msB > msA || (msB === msA && seqB > seqA)).toBe(true);
  });

  it('XADD / XTRIM trimming: MAXLEN and MINID, = and ~, LIMIT, node boundaries, errors', async () => {
    for (let i = 1; i <= 350; i++) await p.both('XADD', 's', `${i}-1`, 'f', String(i));
    await p.same(
      ['XTRIM', 's', 'MAXLEN', '~', '300'], ['XLEN', 's'], ['XTRIM', 's', 'MAXLEN', '~', '120'], ['XLEN', 's'],
      ['XTRIM', 's', 'MAXLEN', '~', '120', 'LIMIT', '10'], ['XTRIM', 's', 'MAXLEN', '~', '0', 'LIMIT', '200'], ['XLEN', 's'],
      ['XTRIM', 's', 'MAXLEN', '=', '140'], ['XLEN', 's'], ['XTRIM', 's', 'MAXLEN', '130'], ['XRANGE', 's', '-', '+', 'COUNT', '2'],
      ['XTRIM', 's', 'MINID', '~', '290'], ['XLEN', 's'], ['XTRIM', 's', 'MINID', '300-1'], ['XRANGE', 's', '-', '+', 'COUNT', '1'],
      ['XTRIM', 's', 'MINID', '=', '(5'], ['XTRIM', 's', 'MAXLEN', '-1'], ['XTRIM', 's', 'MAXLEN', 'x'], ['XTRIM', 's', 'MAXLEN', '1', 'LIMIT', '5'],
      ['XTRIM', 's', 'MAXLEN', '~', '1', 'LIMIT', '-1'], ['XTRIM', 's', 'LIMIT', '5'], ['XTRIM', 's', 'FOO', '1'], ['XTRIM', 's', 'MAXLEN'],
      ['XTRIM', 's', 'MAXLEN', '1', 'MINID', '1'], ['XTRIM', 's', 'MAXLEN', '~', '1', 'FOO'], ['XTRIM', 'nokey', 'MAXLEN', 'x'],
      ['XADD', 's', 'MAXLEN', '3', '400-1', 'f', 'v'], ['XLEN', 's'], ['XADD', 's', 'MINID', '400', '401-*', 'f', 'v'], ...everything('s'),
      ['XADD', 's', 'MAXLEN', '~', '1', 'LIMIT', '0', '402-1', 'f', 'v'], ['XADD', 's', 'LIMIT', '3', '403-1', 'f', 'v'],
      ['XADD', 's', 'MAXLEN', '1', 'LIMIT', '3', '403-1', 'f', 'v'], ['XADD', 's', 'MAXLEN', '-2', '403-1', 'f', 'v'],
      ['XADD', 's', 'MAXLEN', '1', 'MINID', '3', '403-1', 'f', 'v'], ['XADD', 's', 'MAXLEN', '0', '404-1', 'f', 'v'], ...everything('s'),
    );
  });

  it('XRANGE / XREVRANGE: bounds, exclusive ranges, COUNT, errors', async () => {
    for (let i = 1; i <= 20; i++) await p.both('XADD', 's', `${Math.ceil(i / 3)}-${i % 3}`, 'f', String(i), 'g', 'x');
    const ranges = [
      ['-', '+'], ['2', '4'], ['2-1', '4-0'], ['(2-1', '(4-2'], ['(2', '+'], ['-', '(3'], ['5', '2'], ['(0-0', '+'],
      ['3', '3'], ['(3-1', '(3-2'], ['0', '18446744073709551615'],
    ];
    await p.same(
      ...ranges.map((r) => ['XRANGE', 's', r[0]!, r[1]!]),
      ...ranges.map((r) => ['XREVRANGE', 's', r[1]!, r[0]!]),
      ['XRANGE', 's', '-', '+', 'COUNT', '3'], ['XREVRANGE', 's', '+', '-', 'COUNT', '3'], ['XRANGE', 's', '-', '+', 'COUNT', '0'],
      ['XRANGE', 's', '-', '+', 'COUNT', '-2'], ['XRANGE', 's', '-', '+', 'count', '2', 'COUNT', '1'], ['XRANGE', 's', '-', '+', 'COUNT'],
      ['XRANGE', 's', '-', '+', 'COUNT', 'x'], ['XRANGE', 's', '-', '+', 'FOO', '1'], ['XRANGE', 's', 'x', '+'], ['XRANGE', 's', '-', 'y'],
      ['XRANGE', 's', '(-', '+'], ['XRANGE', 's', '-', '(+'], ['XRANGE', 's', '(18446744073709551615-18446744073709551615', '+'],
      ['XRANGE', 's', '-', '(0-0'], ['XRANGE', 's', '(', '+'], ['XRANGE', 'nokey', '-', '+'], ['XRANGE', 'nokey', '-', '+', 'COUNT', '0'],
      ['XRANGE', 'nokey', 'x', '+'], ['XRANGE', 's', '-'], ['XREVRANGE', 's', '+', '-', 'COUNT', '0'],
    );
  });

  it('XDEL, top id kept after deletes, XSETID, COMMAND GETKEYS', async () => {
    for (let i = 1; i <= 250; i++) await p.both('XADD', 's', `${i}-0`, 'f', String(i));
    await p.same(
      ['XDEL', 's', '1-0', '2', '2-0', '999-0'], ['XDEL', 's', '3-0', 'bad'], ['XLEN', 's'], ['XDEL', 'nokey', '1-0'], ['XDEL', 'nokey', 'bad'],
      ['XDEL', 's', '250-0'], ['XADD', 's', '250-0', 'f', 'v'], ['XADD', 's', '250-*', 'f', 'v'], ['XDEL', 's', '+'],
      ['XTRIM', 's', 'MAXLEN', '~', '100'], ['XLEN', 's'], ['XRANGE', 's', '-', '+', 'COUNT', '1'], ['XREVRANGE', 's', '+', '-', 'COUNT', '1'],
      ['XSETID', 's', '1-0'], ['XSETID', 's', '300-0', 'ENTRIESADDED', '1'], ['XSETID', 's', '300-0', 'ENTRIESADDED', '-1'],
      ['XSETID', 's', '300-0', 'MAXDELETEDID', '400-0'], ['XSETID', 's', '300-0', 'FOO'], ['XSETID', 'nokey', '300-0'], ['XSETID', 's', 'x'],
      ['XSETID', 's', '300-0', 'ENTRIESADDED', '1000', 'MAXDELETEDID', '260-0'], ['XSETID', 's', '250-0'], ['XADD', 's', '300-0', 'f', 'v'],
      ['XADD', 's', '300-*', 'f', 'v'], ['XDEL', 's', '300-1'],
      ['COMMAND', 'GETKEYS', 'XADD', 'k', '*', 'f', 'v'], ['COMMAND', 'GETKEYS', 'XRANGE', 'k', '-', '+'], ['COMMAND', 'GETKEYS', 'XTRIM', 'k', 'MAXLEN', '1'],
      ['COMMAND', 'GETKEYS', 'XDEL', 'k', '1'], ['COMMAND', 'GETKEYS', 'XLEN', 'k'], ['COMMAND', 'GETKEYS', 'XSETID', 'k', '1'],
    );
    // An emptied stream stays a key, and DEL/COPY treat it as a value like any other.
    await p.same(['XTRIM', 's', 'MAXLEN', '0'], ['EXISTS', 's'], ['XLEN', 's'], ['XADD', 's', '1-1', 'f', 'v'], ['COPY', 's', 'c'], ['XDEL', 's', '+']);
  });

  it('XREAD: COUNT, several streams, $, errors, RESP3 map, COMMAND GETKEYS', async () => {
    for (let i = 1; i <= 5; i++) await p.both('XADD', 'a', `${i}-0`, 'f', String(i));
    await p.both('XADD', 'b', '3-0', 'g', 'x');
    await p.same(
      ['XREAD', 'STREAMS', 'a', '0'], ['XREAD', 'COUNT', '2', 'STREAMS', 'a', 'b', '2', '0-0'], ['XREAD', 'STREAMS', 'a', 'b', '$', '$'],
      ['XREAD', 'STREAMS', 'a', 'nokey', '4-0', '0'], ['XREAD', 'COUNT', '-1', 'STREAMS', 'a', '(3'], ['XREAD', 'STREAMS', 'a', '5-0'],
      ['XREAD', 'STREAMS', 'a', 'b', '0'], ['XREAD', 'STREAMS', 'a', '>'], ['XREAD', 'STREAMS', 'a', 'x'], ['XREAD', 'COUNT', 'x', 'STREAMS', 'a', '0'],
      ['XREAD', 'BLOCK', 'x', 'STREAMS', 'a', '0'], ['XREAD', 'BLOCK', '-1', 'STREAMS', 'a', '0'], ['XREAD', 'FOO', 'STREAMS', 'a', '0'],
      ['XREAD', 'COUNT', '1', 'a', '0'], ['XREAD', 'GROUP', 'g', 'c', 'STREAMS', 'a', '0'], ['XREAD', 'NOACK', 'STREAMS', 'a', '0'],
      ['SET', 'str', 'x'], ['XREAD', 'STREAMS', 'a', 'str', '0', '0'], ['XREAD', 'BLOCK', '10', 'STREAMS', 'a', '$'],
      ['MULTI'], ['XREAD', 'BLOCK', '0', 'STREAMS', 'a', '$'], ['EXEC'],
      ['COMMAND', 'GETKEYS', 'XREAD', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', 'a', 'b', '0', '0'], ['COMMAND', 'GETKEYS', 'XREAD', 'STREAMS', 'a', '0'],
    );
    await p.both('HELLO', '3');
    await p.same(['XREAD', 'STREAMS', 'a', 'b', '4', '0'], ['XREAD', 'STREAMS', 'a', '$']);
    await p.both('HELLO', '2');
  });

  it('XREAD BLOCK is woken by an XADD from another client, each reader from its own id', async () => {
    await p.both('XADD', 'w', '1-0', 'f', 'old');
    const extra = await Promise.all([RawClient.connect(p.node.port), RawClient.connect(p.redisServer.port)]);
    const readers = await Promise.all([RawClient.connect(p.node.port), RawClient.connect(p.redisServer.port)]);
    try {
      const dollar = extra.map((c) => c.call('XREAD', 'BLOCK', '0', 'STREAMS', 'w', '$'));
      const fromZero = readers.map((c) => c.call('XREAD', 'COUNT', '5', 'BLOCK', '5000', 'STREAMS', 'other', 'w', '0', '1-0'));
      // Each reader is parked once CLIENT LIST shows it blocked in XREAD.
      for (const c of [p.ours, p.redis]) {
        const deadline = Date.now() + 5000;
        while (((await c.call('CLIENT', 'LIST')) as string).split('cmd=xread').length < 3) {
          if (Date.now() > deadline) throw new Error('readers did not block');
        }
      }
      await p.same(['XADD', 'w', '2-0', 'f', 'new'], ['XADD', 'w', '3-0', 'f', 'newer']);
      const got = await Promise.all([...dollar, ...fromZero]);
      expect(plain(got[0]!)).toEqual(plain(got[1]!));
      expect(plain(got[2]!)).toEqual(plain(got[3]!));
      expect(plain(got[0]!)).toEqual([['w', [['2-0', ['f', 'new']]]]]);
    } finally {
      for (const c of [...extra, ...readers]) c.close();
    }
  });

  it('DUMP of a stream matches redis-server byte for byte (RDB/DUMP interop: stream-rdb.test.ts)', async () => {
    await p.same(['XADD', 'r', '1-1', 'f', 'v'], ['DUMP', 'r']);
    expect(plain(await p.ours.call('SAVE'))).toBe('+OK');
  });
});
