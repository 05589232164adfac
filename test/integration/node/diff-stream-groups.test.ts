// Stream consumer groups and XINFO: our node vs real redis-server 7.0, the same commands, the same
// replies (error texts included). Clock-dependent fields (delivery and seen times, idle times) are
// masked; everything else is compared exactly.
import { beforeEach, describe, expect, it } from 'vitest';
import { plain, usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';

/** Unix-ms timestamps (delivery / seen times) become 'T'. */
function maskTimes(v: unknown): unknown {
  if (typeof v === 'number' && v > 1_500_000_000_000) return 'T';
  if (Array.isArray(v)) return v.map(maskTimes);
  return v;
}

/** XPENDING's extended rows: [id, consumer, idle ms, count] → idle masked. */
function maskIdle(v: unknown): unknown {
  return (v as unknown[]).map((row) => (Array.isArray(row) ? [row[0], row[1], 'I', row[3]] : row));
}

/** XINFO CONSUMERS: the idle field's value masked. */
function maskConsumerIdle(v: unknown): unknown {
  return (v as unknown[][]).map((c) => c.map((x, i) => (i > 0 && c[i - 1] === 'idle' ? 'I' : x)));
}

describe('stream consumer groups match redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
  });

  /** Runs each command on both and compares after `mask`. */
  async function sameMasked(mask: (v: unknown) => unknown, ...commands: string[][]): Promise<void> {
    for (const cmd of commands) {
      const [a, b] = await p.both(...cmd);
      expect(mask(plain(a)), `reply to ${JSON.stringify(cmd)}`).toEqual(mask(plain(b)));
    }
  }

  it('XGROUP CREATE/SETID/DESTROY/CREATECONSUMER/DELCONSUMER/HELP, errors, XINFO GROUPS', async () => {
    await p.same(
      ['XGROUP', 'CREATE', 's', 'g', '$'], ['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'], ['EXISTS', 's'], ['XLEN', 's'], ['TYPE', 's'],
      ['XGROUP', 'CREATE', 's', 'g', '$'], ['XGROUP', 'CREATE', 's', 'h', '0', 'ENTRIESREAD', '3'], ['XGROUP', 'CREATE', 's', 'i', '0', 'ENTRIESREAD', '-2'],
      ['XGROUP', 'CREATE', 's', 'i', '0', 'ENTRIESREAD', 'x'], ['XGROUP', 'CREATE', 's', 'i', '0', 'FOO'], ['XGROUP', 'CREATE', 's', 'i', 'bad'],
      ['XGROUP', 'CREATE', 's', 'i', '-'], ['XGROUP', 'CREATE', 's', 'i', '5-5', 'MKSTREAM', 'ENTRIESREAD', '2'], ['XGROUP', 'CREATE', 's'],
      ['XGROUP', 'CREATE', 's', 'j', '1', 'MKSTREAM', 'ENTRIESREAD', '1', 'X'], ['XINFO', 'GROUPS', 's'],
      ['XADD', 's', '1-1', 'f', 'v'], ['XADD', 's', '2-1', 'f', 'v'], ['XINFO', 'GROUPS', 's'],
      ['XGROUP', 'SETID', 's', 'g', '1-1'], ['XGROUP', 'SETID', 's', 'g', '+'], ['XGROUP', 'SETID', 's', 'g', '$', 'ENTRIESREAD', '2'],
      ['XGROUP', 'SETID', 's', 'g', '0', 'MKSTREAM'], ['XGROUP', 'SETID', 's', 'nog', '0'], ['XGROUP', 'SETID', 's', 'g', 'x'],
      ['XGROUP', 'SETID', 's', 'g', '0', 'ENTRIESREAD'], ['XGROUP', 'SETID', 'nokey', 'g', '0'], ['XINFO', 'GROUPS', 's'],
      ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c1'], ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c1'], ['XGROUP', 'CREATECONSUMER', 's', 'nog', 'c1'],
      ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c2'], ['XGROUP', 'DELCONSUMER', 's', 'g', 'c2'], ['XGROUP', 'DELCONSUMER', 's', 'g', 'none'],
      ['XGROUP', 'DELCONSUMER', 's', 'nog', 'c1'], ['XGROUP', 'DESTROY', 's', 'h'], ['XGROUP', 'DESTROY', 's', 'h'], ['XGROUP', 'DESTROY', 'nokey', 'h'],
      ['XGROUP', 'DESTROY', 's', 'h', 'x'], ['XGROUP', 'HELP'], ['XGROUP', 'HELP', 'x'], ['XGROUP', 'FOO', 's', 'g'], ['XGROUP', 'FOO'],
      ['XGROUP'], ['XGROUP', 'CREATECONSUMER', 's', 'g'], ['XINFO', 'GROUPS', 's'],
      ['SET', 'str', 'x'], ['XGROUP', 'CREATE', 'str', 'g', '$'], ['XGROUP', 'CREATE', 'str', 'g', '$', 'MKSTREAM'], ['XINFO', 'GROUPS', 'str'],
      ['XINFO', 'GROUPS', 'nokey'],
    );
  });

  it('XREADGROUP: >, COUNT, history, NOACK, several streams, redelivery, deleted entries, errors, RESP3', async () => {
    for (let i = 1; i <= 6; i++) await p.both('XADD', 'a', `${i}-0`, 'f', String(i));
    await p.both('XADD', 'b', '1-0', 'g', 'x');
    await p.same(
      ['XGROUP', 'CREATE', 'a', 'g', '0'], ['XGROUP', 'CREATE', 'b', 'g', '$'],
      ['XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '2', 'STREAMS', 'a', '>'], ['XREADGROUP', 'GROUP', 'g', 'c2', 'COUNT', '1', 'STREAMS', 'a', 'b', '>', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'a', '0'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', 'a', '1-0'],
      ['XREADGROUP', 'GROUP', 'g', 'c2', 'STREAMS', 'a', '0'], ['XREADGROUP', 'GROUP', 'g', 'c3', 'STREAMS', 'a', '0'],
      ['XPENDING', 'a', 'g'], ['XINFO', 'GROUPS', 'a'],
      ['XREADGROUP', 'GROUP', 'g', 'c3', 'NOACK', 'COUNT', '1', 'STREAMS', 'a', '>'], ['XPENDING', 'a', 'g'],
      ['XDEL', 'a', '2-0'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'a', '0'], ['XINFO', 'GROUPS', 'a'],
      ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'a', '>'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'a', '>'], ['XINFO', 'GROUPS', 'a'],
      ['XGROUP', 'SETID', 'a', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'c4', 'COUNT', '2', 'STREAMS', 'a', '>'], ['XPENDING', 'a', 'g'],
      ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'a', '$'], ['XREADGROUP', 'GROUP', 'nog', 'c1', 'STREAMS', 'a', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'nokey', '>'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'a', 'x'],
      ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'a'], ['XREADGROUP', 'COUNT', '1', 'STREAMS', 'a', '>'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'FOO', 'STREAMS', 'a', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', 'x', 'STREAMS', 'a', '>'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '-1', 'STREAMS', 'a', '>'],
      ['SET', 'str', 'x'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'str', '>'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'b', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '10', 'STREAMS', 'b', '>'], ['MULTI'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '0', 'STREAMS', 'b', '>'], ['EXEC'],
      ['XACK', 'a', 'g', '1-0', '3-0', '9-0'], ['XACK', 'a', 'g', '1-0'], ['XACK', 'a', 'g', 'x'], ['XACK', 'a', 'nog', 'x'], ['XACK', 'nokey', 'g', '1-0'],
      ['XACK', 'str', 'g', '1-0'], ['XPENDING', 'a', 'g'], ['XINFO', 'GROUPS', 'a'],
      ['COMMAND', 'GETKEYS', 'XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'NOACK', 'STREAMS', 'a', 'b', '>', '>'],
    );
    await p.both('HELLO', '3');
    await p.same(['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'a', 'b', '0', '0'], ['XADD', 'b', '5-0', 'x', 'y'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'b', '>']);
    await p.both('HELLO', '2');
  });

  it('XPENDING summary and extended form (IDLE, exclusive bounds, consumer filter, errors)', async () => {
    for (let i = 1; i <= 5; i++) await p.both('XADD', 's', `${i}-0`, 'f', String(i));
    await p.both('XGROUP', 'CREATE', 's', 'g', '0');
    await p.both('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '3', 'STREAMS', 's', '>');
    await p.both('XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', 's', '>');
    await sameMasked(
      maskIdle,
      ['XPENDING', 's', 'g', '-', '+', '10'], ['XPENDING', 's', 'g', '-', '+', '2'], ['XPENDING', 's', 'g', '(1-0', '(5', '10'],
      ['XPENDING', 's', 'g', '2', '4', '10', 'bob'], ['XPENDING', 's', 'g', '-', '+', '10', 'nobody'], ['XPENDING', 's', 'g', 'IDLE', '0', '-', '+', '10'],
      ['XPENDING', 's', 'g', 'IDLE', '100000', '-', '+', '10'], ['XPENDING', 's', 'g', '-', '+', '0'], ['XPENDING', 's', 'g', '-', '+', '-3'],
    );
    await p.same(
      ['XPENDING', 's', 'g'], ['XPENDING', 's', 'g', '-'], ['XPENDING', 's', 'g', '-', '+'], ['XPENDING', 's', 'g', 'IDLE', '1', '-', '+'],
      ['XPENDING', 's', 'g', 'IDLE', 'x', '-', '+', '1'], ['XPENDING', 's', 'g', '-', '+', 'x'], ['XPENDING', 's', 'g', 'x', '+', '1'],
      ['XPENDING', 's', 'g', '-', 'y', '1'], ['XPENDING', 's', 'g', '(18446744073709551615-18446744073709551615', '+', '1'],
      ['XPENDING', 's', 'nog'], ['XPENDING', 'nokey', 'g'], ['XPENDING', 's', 'nog', '-', '+', '1'], ['SET', 'str', 'x'], ['XPENDING', 'str', 'g'],
      ['XPENDING', 's', 'g', '-', '+', '1', 'c', 'extra'], ['XGROUP', 'CREATE', 's', 'empty', '$'], ['XPENDING', 's', 'empty'],
    );
  });

  it('XCLAIM (IDLE, TIME, RETRYCOUNT, FORCE, JUSTID, LASTID, deleted entries) and XAUTOCLAIM', async () => {
    for (let i = 1; i <= 8; i++) await p.both('XADD', 's', `${i}-0`, 'f', String(i));
    await p.both('XGROUP', 'CREATE', 's', 'g', '0');
    await p.both('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '5', 'STREAMS', 's', '>');
    const pend = (...extra: string[]) => ['XPENDING', 's', 'g', '-', '+', '20', ...extra];
    await sameMasked(
      (v) => maskTimes(Array.isArray(v) && Array.isArray(v[0]) && v[0].length === 4 ? maskIdle(v) : v),
      ['XCLAIM', 's', 'g', 'bob', '0', '1-0'], ['XCLAIM', 's', 'g', 'bob', '0', '2-0', '3-0', 'JUSTID'], pend(),
      ['XCLAIM', 's', 'g', 'bob', '3600000', '4-0'], ['XCLAIM', 's', 'g', 'carol', '0', '4-0', 'RETRYCOUNT', '7', 'JUSTID'], pend(),
      ['XCLAIM', 's', 'g', 'carol', '0', '5-0', 'IDLE', '5000', 'JUSTID'], ['XCLAIM', 's', 'g', 'carol', '0', '5-0', 'TIME', '12345', 'JUSTID'],
      ['XCLAIM', 's', 'g', 'dave', '0', '7-0'], ['XCLAIM', 's', 'g', 'dave', '0', '7-0', '8-0', 'FORCE'], ['XCLAIM', 's', 'g', 'dave', '0', '99-0', 'FORCE'], pend(),
      ['XDEL', 's', '1-0'], ['XCLAIM', 's', 'g', 'erin', '0', '1-0', '2-0'], pend(), ['XINFO', 'GROUPS', 's'],
      ['XCLAIM', 's', 'g', 'erin', '0', '2-0', 'LASTID', '100-0', 'JUSTID'], ['XINFO', 'GROUPS', 's'],
      ['XCLAIM', 's', 'g', 'erin', 'x', '2-0'], ['XCLAIM', 's', 'g', 'erin', '0', '2-0', 'IDLE', 'x'], ['XCLAIM', 's', 'g', 'erin', '0', '2-0', 'TIME', 'x'],
      ['XCLAIM', 's', 'g', 'erin', '0', '2-0', 'RETRYCOUNT', 'x'], ['XCLAIM', 's', 'g', 'erin', '0', '2-0', 'LASTID', 'x'], ['XCLAIM', 's', 'g', 'erin', '0', '2-0', 'BOGUS'],
      ['XCLAIM', 's', 'g', 'erin', '0', 'notanid', '2-0'], ['XCLAIM', 's', 'nog', 'erin', '0', '2-0'], ['XCLAIM', 'nokey', 'g', 'erin', 'x', '2-0'],
      ['XCLAIM', 's', 'g', 'erin', '0', '2-0', 'IDLE'],
    );
    await p.both('FLUSHALL');
    for (let i = 1; i <= 12; i++) await p.both('XADD', 's', `${i}-0`, 'f', String(i));
    await p.both('XGROUP', 'CREATE', 's', 'g', '0');
    await p.both('XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '>');
    await p.both('XDEL', 's', '3-0', '4-0', '9-0');
    await sameMasked(
      (v) => maskTimes(Array.isArray(v) && Array.isArray(v[0]) && v[0].length === 4 ? maskIdle(v) : v),
      ['XAUTOCLAIM', 's', 'g', 'bob', '0', '0', 'COUNT', '2'], ['XAUTOCLAIM', 's', 'g', 'bob', '0', '(2-0', 'COUNT', '3', 'JUSTID'], pend(),
      ['XAUTOCLAIM', 's', 'g', 'carol', '3600000', '-'], ['XAUTOCLAIM', 's', 'g', 'carol', '0', '-'], ['XAUTOCLAIM', 's', 'g', 'carol', '0', '-', 'COUNT', '1'],
      ['XAUTOCLAIM', 's', 'g', 'carol', '0', '8-0', 'JUSTID', 'COUNT', '100'], pend(), ['XINFO', 'GROUPS', 's'],
      ['XAUTOCLAIM', 's', 'g', 'c', 'x', '-'], ['XAUTOCLAIM', 's', 'g', 'c', '0', 'x'], ['XAUTOCLAIM', 's', 'g', 'c', '0', '-', 'COUNT', '0'],
      ['XAUTOCLAIM', 's', 'g', 'c', '0', '-', 'COUNT', 'x'], ['XAUTOCLAIM', 's', 'g', 'c', '0', '-', 'FOO'], ['XAUTOCLAIM', 's', 'nog', 'c', '0', '-'],
      ['XAUTOCLAIM', 'nokey', 'g', 'c', '0', '-'], ['XAUTOCLAIM', 's', 'g', 'c', '0', '(18446744073709551615-18446744073709551615'],
      ['XAUTOCLAIM', 's', 'g', 'c', '0', '-', 'COUNT', '576460752303423488'],
    );
  });

  it('XINFO STREAM (plain and FULL), CONSUMERS, HELP; radix tree counts over inserts, deletes and trims', async () => {
    await p.same(['XGROUP', 'CREATE', 'e', 'g', '$', 'MKSTREAM'], ['XINFO', 'STREAM', 'e'], ['XINFO', 'STREAM', 'e', 'FULL']);
    for (let i = 1; i <= 450; i++) await p.both('XADD', 's', `${1000 + i * 7}-${i % 3}`, 'f', String(i), ...(i % 5 === 0 ? ['g', 'x'] : []));
    await p.same(['XINFO', 'STREAM', 's']);
    await p.both('XDEL', 's', '1007-1', '1700-0', '1714-2');
    await p.both('XTRIM', 's', 'MAXLEN', '~', '300');
    await p.same(['XINFO', 'STREAM', 's']);
    for (let i = 0; i < 250; i++) await p.both('XADD', 's', '*', 'n', String(i));
    await p.both('XTRIM', 's', 'MAXLEN', '=', '333');
    const [top] = await p.both('XINFO', 'STREAM', 's');
    const mine = plain(top) as unknown[];
    const [theirs] = await Promise.all([p.redis.call('XINFO', 'STREAM', 's')]);
    // Auto ids differ between the servers; the shape and the tree's node count must still agree.
    const field = (v: unknown[], name: string) => v[v.indexOf(name) + 1];
    expect(field(mine, 'radix-tree-keys')).toEqual(field(plain(theirs) as unknown[], 'radix-tree-keys'));
    expect(field(mine, 'length')).toEqual(field(plain(theirs) as unknown[], 'length'));
    await p.both('FLUSHALL');
    for (let i = 1; i <= 30; i++) await p.both('XADD', 's', `${i}-0`, 'f', String(i));
    await p.both('XGROUP', 'CREATE', 's', 'g2', '0');
    await p.both('XGROUP', 'CREATE', 's', 'g1', '0', 'ENTRIESREAD', '0');
    await p.both('XREADGROUP', 'GROUP', 'g1', 'zed', 'COUNT', '12', 'STREAMS', 's', '>');
    await p.both('XREADGROUP', 'GROUP', 'g1', 'amy', 'COUNT', '3', 'STREAMS', 's', '>');
    await p.both('XGROUP', 'CREATECONSUMER', 's', 'g2', 'idle');
    await p.both('XDEL', 's', '20-0');
    await sameMasked(
      maskTimes,
      ['XINFO', 'STREAM', 's'], ['XINFO', 'STREAM', 's', 'FULL'], ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', '2'], ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', '0'],
      ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', '-5'], ['XINFO', 'GROUPS', 's'],
    );
    await sameMasked(maskConsumerIdle, ['XINFO', 'CONSUMERS', 's', 'g1'], ['XINFO', 'CONSUMERS', 's', 'g2']);
    await p.same(
      ['XINFO', 'CONSUMERS', 's', 'nog'], ['XINFO', 'CONSUMERS', 'nokey', 'g'], ['XINFO', 'STREAM', 'nokey'], ['XINFO', 'STREAM', 's', 'FOO'],
      ['XINFO', 'STREAM', 's', 'FULL', 'COUNT'], ['XINFO', 'STREAM', 's', 'FULL', 'FOO', '1'], ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', 'x'],
      ['XINFO', 'HELP'], ['XINFO', 'HELP', 'x'], ['XINFO', 'FOO', 's'], ['XINFO', 'GROUPS', 's', 'x'], ['XINFO', 'CONSUMERS', 's'],
      ['SET', 'str', 'x'], ['XINFO', 'STREAM', 'str'], ['XINFO', 'GROUPS', 'str'], ['XINFO', 'CONSUMERS', 'str', 'g'],
    );
  });

  it('blocking XREADGROUP: woken by XADD (one reader per entry), NOGROUP after XGROUP DESTROY, UNBLOCKED after DEL or SET, timeout', async () => {
    await p.both('XGROUP', 'CREATE', 'w', 'g', '$', 'MKSTREAM');
    const clients = await Promise.all([0, 1, 2, 3].map((i) => RawClient.connect(i % 2 === 0 ? p.node.port : p.redisServer.port)));
    try {
      const [o1, r1, o2, r2] = clients as [RawClient, RawClient, RawClient, RawClient];
      const first = [o1, r1].map((c) => c.call('XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '0', 'STREAMS', 'w', '>'));
      const second = [o2, r2].map((c) => c.call('XREADGROUP', 'GROUP', 'g', 'c2', 'COUNT', '5', 'BLOCK', '5000', 'STREAMS', 'w', '>'));
      await blockedIn(2);
      // One XADD serves the first reader only: the group's last id moves past it for the second.
      await p.same(['XADD', 'w', '1-0', 'f', 'a']);
      const got1 = await Promise.all(first);
      expect(plain(got1[0]!)).toEqual(plain(got1[1]!));
      expect(plain(got1[0]!)).toEqual([['w', [['1-0', ['f', 'a']]]]]);
      await p.same(['XADD', 'w', '2-0', 'f', 'b']);
      const got2 = await Promise.all(second);
      expect(plain(got2[0]!)).toEqual(plain(got2[1]!));
      await sameMasked(maskIdle, ['XPENDING', 'w', 'g', '-', '+', '10']);
      const gone = [o1, r1].map((c) => c.call('XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '0', 'STREAMS', 'w', '>'));
      await blockedIn(1);
      await p.same(['XGROUP', 'DESTROY', 'w', 'g']);
      const errs = await Promise.all(gone);
      expect(plain(errs[0]!)).toEqual(plain(errs[1]!));
      expect(JSON.stringify(plain(errs[0]!))).toMatch(/NOGROUP the consumer group this client was blocked on no longer exists/);
      // A DEL (or an overwrite) ends the wait with -UNBLOCKED: the groups went with the key.
      for (const end of [['DEL', 'w'], ['SET', 'w', 'x']]) {
        await p.both('DEL', 'w');
        await p.both('XGROUP', 'CREATE', 'w', 'g', '$', 'MKSTREAM');
        const orphaned = [o1, r1].map((c) => c.call('XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '0', 'STREAMS', 'w', '>'));
        await blockedIn(1);
        await p.same(end);
        const ended = await Promise.all(orphaned);
        expect(plain(ended[0]!)).toEqual(plain(ended[1]!));
        expect(JSON.stringify(plain(ended[0]!))).toMatch(/UNBLOCKED the stream key no longer exists/);
      }
      await p.both('DEL', 'w');
      await p.both('XADD', 'w', '9-0', 'f', 'z');
      // Entries added and deleted in one EXEC: the readers (XREAD and XREADGROUP) get the key, no entries.
      await p.both('XGROUP', 'CREATE', 'w', 'g', '$');
      const emptied = [o1, r1].map((c) => c.call('XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '0', 'STREAMS', 'w', '>'));
      const plainReaders = [o2, r2].map((c) => c.call('XREAD', 'BLOCK', '0', 'STREAMS', 'w', '$'));
      await blockedIn(2);
      await p.same(['MULTI'], ['XADD', 'w', '10-0', 'f', 'gone'], ['XDEL', 'w', '10-0'], ['EXEC']);
      const e1 = await Promise.all(emptied);
      const e2 = await Promise.all(plainReaders);
      expect(plain(e1[0]!)).toEqual(plain(e1[1]!));
      expect(plain(e2[0]!)).toEqual(plain(e2[1]!));
      expect(plain(e2[0]!)).toEqual([['w', []]]);
      await p.both('XGROUP', 'DESTROY', 'w', 'g');
      await p.both('XGROUP', 'CREATE', 'w', 'g', '$');
      const late = await Promise.all([o2, r2].map((c) => c.call('XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '50', 'STREAMS', 'w', '>')));
      expect(plain(late[0]!)).toEqual(plain(late[1]!));
      expect(plain(late[0]!)).toBeNull();
    } finally {
      for (const c of clients) c.close();
    }
  });

  /** Waits until exactly `n` clients of each server are blocked (INFO clients' blocked_clients). */
  async function blockedIn(n: number): Promise<void> {
    for (const c of [p.ours, p.redis]) {
      await waitFor(async () => String(await c.call('INFO', 'clients')).includes(`blocked_clients:${n}\r\n`), { timeoutMs: 5000, what: `${n} blocked clients` });
    }
  }

  it('DUMP of a stream with groups equals redis-server bytes; each side RESTOREs the other', async () => {
    for (let i = 1; i <= 5; i++) await p.both('XADD', 's', `${i}-0`, 'f', String(i));
    await p.both('XGROUP', 'CREATE', 's', 'grp', '0');
    await p.both('XGROUP', 'CREATE', 's', 'other', '$', 'ENTRIESREAD', '5');
    await p.both('XGROUP', 'CREATE', 's', 'never', '3-0'); // entries-read unknown (-1)
    await p.both('XREADGROUP', 'GROUP', 'grp', 'c1', 'COUNT', '2', 'STREAMS', 's', '>');
    await p.both('XGROUP', 'CREATECONSUMER', 's', 'grp', 'empty');
    // Fixed delivery and seen times, so the payloads can be compared byte for byte.
    await p.both('XCLAIM', 's', 'grp', 'c2', '0', '1-0', 'TIME', '1700000000000', 'RETRYCOUNT', '3', 'JUSTID');
    await p.both('XCLAIM', 's', 'grp', 'c1', '0', '2-0', 'TIME', '1700000000001', 'JUSTID');
    const [ours, redis] = await p.both('DUMP', 's');
    // The consumers' seen times come from each server's clock, so each side loads the other's
    // payload and must then show exactly what the writer shows (times included).
    await p.same(['RESTORE', 'fromRedis', '0', redis as string]);
    expect(plain(await p.redis.call('RESTORE', 'fromOurs', '0', ours as string))).toBe('+OK');
    expect(plain(await p.ours.call('XINFO', 'STREAM', 'fromRedis', 'FULL'))).toEqual(plain(await p.redis.call('XINFO', 'STREAM', 's', 'FULL')));
    expect(plain(await p.redis.call('XINFO', 'STREAM', 'fromOurs', 'FULL'))).toEqual(plain(await p.ours.call('XINFO', 'STREAM', 's', 'FULL')));
    // Same state, same bytes: our DUMP of what we loaded from redis-server is its payload exactly.
    expect(await p.ours.call('DUMP', 'fromRedis')).toEqual(redis);
  });
});


