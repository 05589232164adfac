// DUMP/RESTORE interop with a real redis-server 7.0: our codec parses Redis's payloads, Redis
// accepts ours, and for small values our bytes are identical to Redis's.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createDumpPayload, parseDumpPayload } from '../../node/persistence/dump.js';
import { ListValue } from '../../node/keyspace/types/list-value.js';
import { HashValue } from '../../node/keyspace/types/hash-value.js';
import { SetValue } from '../../node/keyspace/types/set-value.js';
import { ZSetValue } from '../../node/keyspace/types/zset-value.js';
import type { StoredValue } from '../../node/keyspace/types/value.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error('timed out waiting for redis-server');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let server: ChildProcess | undefined;
let redis: Redis;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-dump-'));
  const port = await freePort();
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  redis = new Redis({ port, host: '127.0.0.1', protocol: 2, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  redis.on('error', () => {}); // connection refusals are expected while the server starts
  await waitFor(async () => {
    if (redis.status !== 'ready') await redis.connect();
    return (await redis.ping()) === 'PONG';
  }, 10_000);
});

afterAll(async () => {
  redis?.disconnect();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGKILL');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Comparable plain form of our values. */
function plain(v: StoredValue): unknown {
  if (typeof v === 'string') return v;
  if (v instanceof ListValue) return { list: v.toArray() };
  if (v instanceof HashValue) return { hash: [...v].sort() };
  if (v instanceof SetValue) return { set: v.toArray().sort() };
  return { zset: [...(v as ZSetValue)].map((e) => [e.member, e.score]) };
}

/** Reads a key from redis into the same plain form (latin1 strings). */
async function readFromRedis(key: string): Promise<unknown> {
  const type = await redis.type(key);
  const strs = (bufs: Buffer[]) => bufs.map((b) => b.toString('latin1'));
  if (type === 'string') return ((await redis.getBuffer(key)) as Buffer).toString('latin1');
  if (type === 'list') return { list: strs(await redis.lrangeBuffer(key, 0, -1)) };
  if (type === 'set') return { set: strs(await redis.smembersBuffer(key)).sort() };
  if (type === 'hash') {
    const flat = strs((await redis.callBuffer('HGETALL', key)) as Buffer[]);
    const pairs: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
    return { hash: pairs.sort() };
  }
  if (type === 'zset') {
    const flat = strs((await redis.callBuffer('ZRANGE', key, '0', '-1', 'WITHSCORES')) as Buffer[]);
    const pairs: [string, number][] = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], Number(flat[i + 1].replace('inf', 'Infinity'))]);
    return { zset: pairs };
  }
  throw new Error(`unexpected type ${type}`);
}

const binary = '\x00\x01\xfe\xff\r\n latin1 \xe9';
const many = <T,>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

interface Case {
  key: string;
  commands: (string | Buffer)[][];
  value: () => StoredValue;
  encoding: string;
  /** Small values with a deterministic layout must match Redis byte for byte. */
  sameBytes: boolean;
}

const hashPairs = (n: number, len: number) => many(n, (i) => [`f${i}`, 'v'.repeat(len) + i]).flat();
const zsetPairs = (n: number, len: number) => many(n, (i) => [String(i % 3 ? i * 0.25 : -i - 1), 'm'.repeat(len) + i]).flat();

const cases: Case[] = [
  { key: 'str:small', commands: [['SET', 'str:small', 'hello']], value: () => 'hello', encoding: 'embstr', sameBytes: true },
  { key: 'str:int', commands: [['SET', 'str:int', '-987654']], value: () => '-987654', encoding: 'int', sameBytes: true },
  { key: 'str:bin', commands: [['SET', 'str:bin', Buffer.from(binary, 'latin1')]], value: () => binary, encoding: 'embstr', sameBytes: true },
  {
    key: 'str:lzf',
    commands: [['SET', 'str:lzf', 'tessera '.repeat(300)]],
    value: () => 'tessera '.repeat(300),
    encoding: 'raw',
    sameBytes: true,
  },
  {
    key: 'list:small',
    commands: [['RPUSH', 'list:small', 'a', '1', '-70000', '9223372036854775807', 'x'.repeat(80), Buffer.from(binary, 'latin1')]],
    value: () => ListValue.from(['a', '1', '-70000', '9223372036854775807', 'x'.repeat(80), binary]),
    encoding: 'quicklist',
    sameBytes: true,
  },
  {
    key: 'list:big',
    commands: [['RPUSH', 'list:big', ...many(4000, (i) => `element-${i}`)]],
    value: () => ListValue.from(many(4000, (i) => `element-${i}`)),
    encoding: 'quicklist',
    sameBytes: true,
  },
  {
    key: 'hash:small',
    commands: [['HSET', 'hash:small', ...hashPairs(20, 5)]],
    value: () => {
      const h = new HashValue();
      const p = hashPairs(20, 5);
      for (let i = 0; i < p.length; i += 2) h.set(p[i], p[i + 1]);
      return h;
    },
    encoding: 'listpack',
    sameBytes: true,
  },
  {
    key: 'hash:big',
    commands: [['HSET', 'hash:big', ...hashPairs(600, 5)]],
    value: () => {
      const h = new HashValue();
      const p = hashPairs(600, 5);
      for (let i = 0; i < p.length; i += 2) h.set(p[i], p[i + 1]);
      return h;
    },
    encoding: 'hashtable',
    sameBytes: false, // dict order is seeded per process
  },
  {
    key: 'set:intset',
    commands: [['SADD', 'set:intset', '5', '-3', '70000', '9223372036854775807', '0']],
    value: () => {
      const s = new SetValue();
      ['5', '-3', '70000', '9223372036854775807', '0'].forEach((m) => s.add(m));
      return s;
    },
    encoding: 'intset',
    sameBytes: true,
  },
  {
    key: 'set:big',
    commands: [['SADD', 'set:big', ...many(600, (i) => `member-${i}`)]],
    value: () => {
      const s = new SetValue();
      many(600, (i) => `member-${i}`).forEach((m) => s.add(m));
      return s;
    },
    encoding: 'hashtable',
    sameBytes: false,
  },
  {
    key: 'zset:small',
    commands: [['ZADD', 'zset:small', ...zsetPairs(30, 4), 'inf', 'top', '-inf', 'bottom', '0.1', 'tenth']],
    value: () => {
      const z = new ZSetValue();
      const p = zsetPairs(30, 4);
      for (let i = 0; i < p.length; i += 2) z.set(p[i + 1], Number(p[i]));
      z.set('top', Infinity);
      z.set('bottom', -Infinity);
      z.set('tenth', 0.1);
      return z;
    },
    encoding: 'listpack',
    sameBytes: true,
  },
  {
    key: 'zset:big',
    commands: [['ZADD', 'zset:big', ...zsetPairs(300, 4)]],
    value: () => {
      const z = new ZSetValue();
      const p = zsetPairs(300, 4);
      for (let i = 0; i < p.length; i += 2) z.set(p[i + 1], Number(p[i]));
      return z;
    },
    encoding: 'skiplist',
    sameBytes: true, // ZSET_2 is written in skiplist order, which is deterministic
  },
];

describe('DUMP interop with redis-server 7.0', () => {
  for (const c of cases) {
    it(`${c.key}: parses Redis's DUMP, matches its bytes, and Redis restores ours`, async () => {
      for (const cmd of c.commands) await redis.call(cmd[0] as string, ...cmd.slice(1));
      expect(await redis.call('OBJECT', 'ENCODING', c.key)).toBe(c.encoding);
      const ours = c.value();
      const theirs = (await redis.callBuffer('DUMP', c.key)) as Buffer;

      const parsed = parseDumpPayload(theirs);
      if (!parsed.ok) throw new Error(parsed.error);
      expect(plain(parsed.value)).toEqual(plain(ours));
      const ourPayload = createDumpPayload(ours);
      if (c.sameBytes) expect(ourPayload.toString('hex')).toBe(theirs.toString('hex'));

      const restoredKey = `${c.key}:restored`;
      await redis.call('RESTORE', restoredKey, '0', ourPayload);
      expect(await readFromRedis(restoredKey)).toEqual(plain(ours));
      expect(await redis.call('OBJECT', 'ENCODING', restoredKey)).toBe(c.encoding);
    });
  }

  it('Redis rejects a payload with a corrupted checksum the same way we do', async () => {
    const payload = createDumpPayload('hello');
    payload[payload.length - 1] ^= 0xff;
    await expect(redis.call('RESTORE', 'corrupt', '0', payload)).rejects.toThrow('ERR DUMP payload version or checksum are wrong');
    expect(parseDumpPayload(payload)).toEqual({ ok: false, error: 'ERR DUMP payload version or checksum are wrong' });
  });
});
