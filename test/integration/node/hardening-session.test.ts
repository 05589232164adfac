// Issue 7, session behaviours compared side by side with redis-server: clients that used to wait
// forever (CLIENT REPLY OFF/SKIP with subscriptions, REPLY ON after SKIP, a read-only MULTI under
// CLIENT PAUSE WRITE), CLIENT LIST/INFO fields and their real values, and MOVE / SORT … STORE.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Pair, usePair } from '../../helpers/differential.js';
import { FrameClient, FrameDuo } from '../../helpers/frame-client.js';
import { callOnce, RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

let node: ServerHandle;
let redis: ServerHandle;
beforeAll(async () => {
  [node, redis] = await Promise.all([startNode(), startRedis()]);
});
afterAll(() => stopAll(node, redis));

const servers = () => [node, redis];

/** Expects no further frame on `c` within `ms` (what a client waiting forever would see). */
async function expectNoFrame(c: FrameClient, ms: number, what: string): Promise<void> {
  await expect(c.frames(1, ms), what).rejects.toThrow(/expected 1 frames/);
}

describe('CLIENT REPLY and pushes (they used to leave clients waiting)', () => {
  let duo: FrameDuo;
  beforeEach(async () => {
    duo = await FrameDuo.open(node.port, redis.port);
  });

  /** HELLO 3 on both (the replies differ by client id only). */
  async function hello3(d: FrameDuo): Promise<void> {
    for (const c of [d.ours, d.redis]) expect((await c.call(1, 'HELLO', '3')).startsWith('%7\r\n')).toBe(true);
  }

  async function publishBoth(channel: string, message: string): Promise<void> {
    for (const s of servers()) expect(await callOnce(s.port, 'PUBLISH', channel, message), s.kind).toBe(1);
  }

  it('RESP3 with CLIENT REPLY OFF still gets subscribe confirmations and messages, not replies', async () => {
    await hello3(duo);
    for (const c of [duo.ours, duo.redis]) {
      c.send('CLIENT', 'REPLY', 'OFF');
      c.send('SUBSCRIBE', 'ch3');
      c.send('PING');
    }
    expect(await duo.sameFrames(1, 'subscribe confirmation')).toBe('>3\r\n$9\r\nsubscribe\r\n$3\r\nch3\r\n:1\r\n');
    await publishBoth('ch3', 'hello');
    expect(await duo.sameFrames(1, 'message')).toBe('>3\r\n$7\r\nmessage\r\n$3\r\nch3\r\n$5\r\nhello\r\n');
    // The PING's reply was dropped: the next frame is REPLY ON's +OK.
    expect(await duo.same(1, 'CLIENT', 'REPLY', 'ON')).toBe('+OK\r\n');
    duo.ours.close();
    duo.redis.close();
  });

  it('RESP2 with CLIENT REPLY OFF: confirmations of SUBSCRIBE and UNSUBSCRIBE, and messages, arrive', async () => {
    for (const c of [duo.ours, duo.redis]) {
      c.send('CLIENT', 'REPLY', 'OFF');
      c.send('SUBSCRIBE', 'ch2');
    }
    expect(await duo.sameFrames(1, 'subscribe confirmation')).toBe('*3\r\n$9\r\nsubscribe\r\n$3\r\nch2\r\n:1\r\n');
    await publishBoth('ch2', 'm');
    await duo.sameFrames(1, 'message');
    await duo.same(1, 'UNSUBSCRIBE', 'ch2');
    expect(await duo.same(1, 'CLIENT', 'REPLY', 'ON')).toBe('+OK\r\n');
    duo.ours.close();
    duo.redis.close();
  });

  it('CLIENT REPLY SKIP: the skipped SUBSCRIBE is still confirmed, the next reply is sent', async () => {
    await hello3(duo);
    for (const c of [duo.ours, duo.redis]) {
      c.send('CLIENT', 'REPLY', 'SKIP');
      c.send('SUBSCRIBE', 'chs');
      c.send('PING');
    }
    await duo.sameFrames(2, 'confirmation, then PONG');
    duo.ours.close();
    duo.redis.close();
  });

  it('CLIENT REPLY ON right after SKIP answers +OK; a bad REPLY argument after SKIP stays skipped', async () => {
    for (const c of [duo.ours, duo.redis]) {
      c.send('CLIENT', 'REPLY', 'SKIP');
      c.send('CLIENT', 'REPLY', 'ON');
      c.send('PING');
    }
    expect(await duo.sameFrames(2)).toBe('+OK\r\n+PONG\r\n');
    for (const c of [duo.ours, duo.redis]) {
      c.send('CLIENT', 'REPLY', 'SKIP');
      c.send('CLIENT', 'REPLY', 'BAD');
      c.send('ECHO', 'after');
    }
    expect(await duo.sameFrames(1)).toBe('$5\r\nafter\r\n');
    for (const c of [duo.ours, duo.redis]) {
      c.send('CLIENT', 'REPLY', 'OFF');
      c.send('CLIENT', 'REPLY', 'SKIP');
      c.send('PING');
      c.send('CLIENT', 'REPLY', 'ON');
      c.send('PING');
    }
    expect(await duo.sameFrames(2)).toBe('+OK\r\n+PONG\r\n');
    await expectNoFrame(duo.ours, 200, 'ours: nothing else');
    duo.ours.close();
    duo.redis.close();
  });
});

describe('MULTI under CLIENT PAUSE WRITE (Redis holds EXEC only when the transaction writes)', () => {
  afterAll(async () => {
    for (const s of servers()) await callOnce(s.port, 'CLIENT', 'UNPAUSE');
  });

  it('a MULTI of reads is answered at once; one with a write queued before the pause waits for it', async () => {
    const duo = await FrameDuo.open(node.port, redis.port);
    const early = await FrameDuo.open(node.port, redis.port);
    try {
      await duo.same(1, 'SET', 'pk', 'v');
      // Queued before the pause: a write, so its EXEC is held.
      await early.same(1, 'MULTI');
      await early.same(1, 'INCR', 'pcount');
      for (const s of servers()) expect(await callOnce(s.port, 'CLIENT', 'PAUSE', '10000', 'WRITE'), s.kind).toMatchObject({ value: 'OK' });
      const t0 = Date.now();
      await duo.same(1, 'MULTI');
      await duo.same(1, 'GET', 'pk');
      await duo.same(1, 'TTL', 'pk');
      expect(await duo.same(1, 'EXEC')).toBe('*2\r\n$1\r\nv\r\n:-1\r\n');
      expect(Date.now() - t0).toBeLessThan(2000);
      for (const c of [early.ours, early.redis]) c.send('EXEC');
      await expectNoFrame(early.ours, 300, 'ours: EXEC with a write is held');
      await expectNoFrame(early.redis, 300, 'redis: EXEC with a write is held');
      for (const s of servers()) await callOnce(s.port, 'CLIENT', 'UNPAUSE');
      expect(await early.sameFrames(1, 'EXEC after the pause')).toBe('*1\r\n:1\r\n');
    } finally {
      duo.ours.close();
      duo.redis.close();
      early.ours.close();
      early.redis.close();
    }
  });
});

/** Parses one CLIENT LIST/INFO line into its fields, in order. */
function fields(line: string): Array<[string, string]> {
  return line.trim().split(' ').map((kv) => {
    const i = kv.indexOf('=');
    return [kv.slice(0, i), kv.slice(i + 1)];
  });
}

describe('CLIENT LIST / CLIENT INFO', () => {
  it("carry Redis 7's fields in redis-server's order", async () => {
    const ours = fields(String(await callOnce(node.port, 'CLIENT', 'INFO'))).map(([k]) => k);
    const theirs = fields(String(await callOnce(redis.port, 'CLIENT', 'INFO'))).map(([k]) => k);
    // lib-name and lib-ver came with Redis 7.2; Debian's 7.0 lacks them.
    const libFields = theirs.includes('lib-name') ? [] : ['lib-name', 'lib-ver'];
    expect(ours).toEqual([...theirs, ...libFields]);
    expect(ours).toEqual(expect.arrayContaining(['qbuf', 'qbuf-free', 'argv-mem', 'multi-mem', 'rbs', 'rbp', 'obl', 'oll', 'omem', 'tot-mem', 'events']));
  });

  it('report what each client really holds: unparsed input, parsed arguments, the MULTI queue, reply buffers', async () => {
    const partial = await RawClient.connect(node.port);
    const inMulti = await RawClient.connect(node.port);
    const reader = await RawClient.connect(node.port);
    try {
      expect(await partial.call('CLIENT', 'SETNAME', 'partial')).toMatchObject({ value: 'OK' });
      expect(await inMulti.call('CLIENT', 'SETNAME', 'inmulti')).toMatchObject({ value: 'OK' });
      expect(await reader.call('CLIENT', 'SETNAME', 'reader')).toMatchObject({ value: 'OK' });
      // A SET whose value is only partly here: "SET" and "k" parsed, 40 000 of 100 000 bytes held.
      partial.write(Buffer.concat([Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n'), Buffer.alloc(40_000, 0x61)]));
      expect(await inMulti.call('MULTI')).toMatchObject({ value: 'OK' });
      expect(await inMulti.call('SET', 'k', 'v'.repeat(1000))).toMatchObject({ value: 'QUEUED' });
      expect(await inMulti.call('SET', 'k2', 'w'.repeat(500))).toMatchObject({ value: 'QUEUED' });
      expect(await reader.call('SET', 'big', 'b'.repeat(200_000))).toMatchObject({ value: 'OK' });
      expect(await reader.call('GET', 'big')).toHaveLength(200_000);
      const byName = new Map<string, Map<string, string>>();
      await waitFor(async () => {
        byName.clear();
        for (const line of String(await callOnce(node.port, 'CLIENT', 'LIST')).trim().split('\n')) {
          const f = new Map(fields(line));
          byName.set(f.get('name')!, f);
        }
        return byName.get('partial')?.get('qbuf') === '40000';
      }, { what: 'the partial SET to be read' });
      const p = byName.get('partial')!;
      expect(p.get('argv-mem')).toBe('4');
      expect(Number(p.get('tot-mem'))).toBeGreaterThanOrEqual(40_004);
      const m = byName.get('inmulti')!;
      expect(m.get('multi')).toBe('2');
      expect(m.get('flags')).toBe('x');
      expect(Number(m.get('multi-mem'))).toBe('SET'.length * 2 + 'k'.length + 'k2'.length + 1000 + 500);
      const r = byName.get('reader')!;
      expect(Number(r.get('rbs'))).toBeGreaterThanOrEqual(200_000);
      expect(Number(r.get('rbp'))).toBeGreaterThanOrEqual(200_000);
      expect(r.get('events')).toBe('r');
      // CLIENT INFO counts the running command's arguments like Redis (argv-mem=10 for "client info").
      expect(new Map(fields(String(await reader.call('CLIENT', 'INFO')))).get('argv-mem')).toBe('10');
    } finally {
      partial.close();
      inMulti.close();
      reader.close();
    }
  });
});

describe('MOVE and SORT … STORE match redis-server', () => {
  const p: Pair = usePair();
  beforeEach(async () => {
    await p.both('SELECT', '0');
    await p.both('FLUSHALL');
    await p.both('CONFIG', 'RESETSTAT');
  });

  /** INFO stats keyspace_hits/misses on both, which must agree. */
  async function sameHits(what: string): Promise<void> {
    const hits = async (c: RawClient) => String(await c.call('INFO', 'stats')).split('\r\n').filter((l) => /^keyspace_(hits|misses):/.test(l));
    expect(await hits(p.ours), what).toEqual(await hits(p.redis));
  }

  it('MOVE of every type, with TTLs, errors, and the destination or source holding the key', async () => {
    // MOVE looks keys up for writing: no keyspace hits or misses, as in Redis.
    await p.same(['SET', 'm1', '1'], ['MOVE', 'm1', '1'], ['MOVE', 'm1', '1'], ['MOVE', 'nokey', '1']);
    await sameHits('after MOVEs');
    await p.same(
      ['SET', 'a', '1', 'EX', '100'], ['HSET', 'hh', 'f', 'v'], ['RPUSH', 'll', 'x', 'y'], ['ZADD', 'zz', '1', 'm'], ['SADD', 'ss', 'm'],
      ['MOVE', 'a', '3'], ['MOVE', 'hh', '3'], ['MOVE', 'll', '3'], ['MOVE', 'zz', '3'], ['MOVE', 'ss', '3'], ['MOVE', 'a', '3'],
      ['DBSIZE'], ['EXISTS', 'a', 'hh', 'll', 'zz', 'ss'], ['SELECT', '3'], ['DBSIZE'], ['TYPE', 'hh'], ['HGETALL', 'hh'],
      ['LRANGE', 'll', '0', '-1'], ['ZRANGE', 'zz', '0', '-1', 'WITHSCORES'], ['SMEMBERS', 'ss'], ['OBJECT', 'ENCODING', 'll'],
      ['TTL', 'a'], ['PERSIST', 'a'], ['SET', 'b', 'in3'], ['SELECT', '0'], ['SET', 'b', 'in0'], ['MOVE', 'b', '3'], ['GET', 'b'],
      ['MOVE', 'nokey', '1'], ['MOVE', 'b', '0'], ['MOVE', 'b', '16'], ['MOVE', 'b', '-1'], ['MOVE', 'b', 'x'], ['MOVE', 'b', '01'],
      ['MOVE', 'b', '2147483648'], ['MOVE', 'b', '99999999999999999999'], ['MOVE', 'b'], ['MOVE', 'b', '1', 'x'],
      ['MULTI'], ['MOVE', 'b', '5'], ['MOVE', 'b', '5'], ['EXEC'], ['SELECT', '5'], ['GET', 'b'],
    );
  });

  it('MOVE wakes a client blocked on the key in the destination db and dirties WATCHes in both dbs', async () => {
    for (const port of [p.node.port, p.redisServer.port]) {
      const waiter = await RawClient.connect(port);
      const watcher = await RawClient.connect(port);
      const mover = await RawClient.connect(port);
      try {
        await waiter.call('SELECT', '1');
        const served = waiter.call('BLPOP', 'wl', '0');
        await waitFor(async () => String(await mover.call('CLIENT', 'LIST')).includes('cmd=blpop'), { what: 'BLPOP to block' });
        await mover.call('RPUSH', 'wl', 'a', 'b');
        expect(await mover.call('MOVE', 'wl', '1')).toBe(1);
        expect(await served).toEqual(['wl', 'a']);
        await watcher.call('SELECT', '1');
        await watcher.call('WATCH', 'wk');
        await mover.call('SET', 'wk', 'v');
        await mover.call('MOVE', 'wk', '1');
        await watcher.call('MULTI');
        await watcher.call('PING');
        expect(await watcher.call('EXEC')).toBeNull();
      } finally {
        waiter.close();
        watcher.close();
        mover.close();
      }
    }
  });

  it('SORT … STORE with several GET patterns stores the same list, dirties and counts lookups as Redis', async () => {
    await p.same(['RPUSH', 'n', '3', '1', '2'], ['MSET', 'w_1', 'one', 'w_2', 'two', 'x_1', '9', 'x_2', '8', 'x_3', '7'], ['HSET', 'h_1', 'f', 'hf1']);
    await sameHits('setup');
    await p.same(['SORT', 'n', 'GET', '#', 'GET', 'w_*']);
    await sameHits('SORT with GET patterns');
    await p.same(['SORT', 'n', 'GET', '#', 'GET', 'w_*', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1']);
    await sameHits('SORT … STORE');
    await p.same(
      ['SORT', 'n', 'GET', 'h_*->f', 'GET', 'w_*', 'GET', 'nothere_*', 'GET', '#', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
      ['SORT', 'n', 'BY', 'x_*', 'GET', '#', 'GET', 'w_*', 'STORE', 'dst', 'LIMIT', '0', '2'], ['LRANGE', 'dst', '0', '-1'],
      ['SORT', 'n', 'BY', 'nosort', 'GET', 'w_*', 'GET', '#', 'DESC', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
      ['SORT', 'n', 'BY', 'w_*', 'ALPHA', 'GET', '#', 'GET', 'w_*', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
      ['SORT', 'n', 'GET', '#', 'GET', '#', 'GET', 'nostar', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
      ['SORT', 'n', 'GET', '#', 'STORE', 'dst1', 'GET', 'w_*', 'STORE', 'dst2'], ['LRANGE', 'dst1', '0', '-1'], ['LRANGE', 'dst2', '0', '-1'],
      ['SORT', 'missing', 'GET', '#', 'GET', 'w_*', 'STORE', 'dst2'], ['LRANGE', 'dst2', '0', '-1'],
      ['SORT', 'n', 'GET', '#', 'GET', 'w_*', 'STORE', 'n'], ['LRANGE', 'n', '0', '-1'],
      ['SORT', 'n', 'GET', '#', 'GET'], ['SORT', 'n', 'STORE'], ['SORT_RO', 'n', 'GET', '#', 'STORE', 'x'],
    );
    await sameHits('after every SORT');
    const dirty = async (c: RawClient) => Number(/rdb_changes_since_last_save:(\d+)/.exec(String(await c.call('INFO', 'persistence')))![1]);
    const [before0, before1] = [await dirty(p.ours), await dirty(p.redis)];
    await p.same(['SORT', 'w_1', 'STORE', 'x'], ['SADD', 's', '3', '1', '2'], ['SORT', 's', 'BY', 'nosort', 'GET', '#', 'GET', 'w_*', 'STORE', 'ds'], ['LRANGE', 'ds', '0', '-1']);
    expect((await dirty(p.ours)) - before0).toBe((await dirty(p.redis)) - before1);
  });

  it('COMMAND GETKEYS names the sorted key and the last STORE destination only, as Redis', async () => {
    await p.same(
      ['COMMAND', 'GETKEYS', 'SORT', 'n', 'GET', '#', 'GET', 'w_*', 'STORE', 'dst'],
      ['COMMAND', 'GETKEYS', 'SORT', 'n', 'STORE', 'dst1', 'GET', '#', 'STORE', 'dst2'],
      ['COMMAND', 'GETKEYS', 'SORT', 'n', 'GET', 'store', 'x'],
      ['COMMAND', 'GETKEYS', 'SORT', 'n', 'LIMIT', '0', '1', 'STORE', 'd'],
      ['COMMAND', 'GETKEYS', 'MOVE', 'a', '1'],
    );
  });
});
