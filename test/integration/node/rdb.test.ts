// RDB snapshots with real processes: SAVE/restart, interop with redis-server and redis-check-rdb
// in both directions, BGSAVE point-in-time under writes, client stalls during BGSAVE, save rules.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plain } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { startNode, startRedis, stopAll, type ServerHandle } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const many = (n: number, f: (i: number) => string[]) => Array.from({ length: n }, (_, i) => f(i)).flat();

/** Every type in compact and big encodings, in db 0, plus keys with TTLs and a key in db 2. */
const BUILD: string[][] = [
  ['SET', 'str:int', '12345'],
  ['SET', 'str:neg', '-9000000000'],
  ['SET', 'str:short', 'hello'],
  ['SET', 'str:lzf', 'ab'.repeat(5000)],
  ['SET', 'str:bin', '\x00\xff\r\n\x80'],
  ['RPUSH', 'list:small', 'a', '1', '-7', 'x'.repeat(100)],
  ['RPUSH', 'list:big', ...many(5000, (i) => [`item-${i}`])],
  ['HSET', 'hash:small', 'f1', 'v1', 'n', '42'],
  ['HSET', 'hash:big', ...many(600, (i) => [`f${i}`, `v${i}`])],
  ['SADD', 'set:int', '5', '-3', '100000000000'],
  ['SADD', 'set:big', ...many(700, (i) => [`m${i}`])],
  ['ZADD', 'zset:small', '1.5', 'a', '-2', 'b', 'inf', 'c'],
  ['ZADD', 'zset:big', ...many(300, (i) => [String(i / 3), `m${i}`])],
  ['SET', 'ttl:str', 'v', 'PXAT', '4102444800123'],
  ['HSET', 'ttl:hash', 'a', 'b'],
  ['PEXPIREAT', 'ttl:hash', '4102444800456'],
  ['SELECT', '2'],
  ['SET', 'db2:key', 'in db two'],
  ['SELECT', '0'],
];

/** A comparable picture of dbs 0..3: key → type, contents (order-free where Redis's is) and PEXPIRETIME. */
async function datasetOf(c: RawClient): Promise<unknown> {
  const out: unknown[] = [];
  for (let db = 0; db < 4; db++) {
    await c.call('SELECT', String(db));
    const keys = ((await c.call('KEYS', '*')) as string[]).sort();
    for (const key of keys) {
      const type = plain(await c.call('TYPE', key));
      let value: unknown;
      if (type === '+string') value = await c.call('GET', key);
      else if (type === '+list') value = await c.call('LRANGE', key, '0', '-1');
      else if (type === '+hash') value = ((await c.call('HGETALL', key)) as string[]).join('\n').split('\n').sort();
      else if (type === '+set') value = ((await c.call('SMEMBERS', key)) as string[]).sort();
      else value = await c.call('ZRANGE', key, '0', '-1', 'WITHSCORES');
      out.push([db, key, type, value, await c.call('PEXPIRETIME', key)]);
    }
  }
  await c.call('SELECT', '0');
  return out;
}

async function withClient<T>(h: ServerHandle, run: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(h.port);
  try {
    return await run(c);
  } finally {
    c.close();
  }
}

async function infoField(c: RawClient, field: string): Promise<string> {
  const text = (await c.call('INFO', 'persistence')) as string;
  return new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(text)?.[1]?.trim() ?? '';
}

async function waitBgsaveDone(c: RawClient): Promise<void> {
  await waitFor(async () => (await infoField(c, 'rdb_bgsave_in_progress')) === '0', { timeoutMs: 60_000, what: 'BGSAVE to finish' });
}

const handles: ServerHandle[] = [];
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'rdb-test-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await stopAll(...handles);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
async function track(p: Promise<ServerHandle>): Promise<ServerHandle> {
  const h = await p;
  handles.push(h);
  return h;
}

describe('RDB snapshots', () => {
  it('SAVE, then a restart on the same dir, restores every type and TTL; redis-check-rdb and redis-server accept the file', async () => {
    const dir = tempDir();
    const node = await track(startNode([], { dir }));
    const before = await withClient(node, async (c) => {
      for (const cmd of BUILD) await c.call(...cmd);
      expect(plain(await c.call('SAVE'))).toBe('+OK');
      expect(await c.call('LASTSAVE')).toBeGreaterThan(Date.now() / 1000 - 60);
      expect(await infoField(c, 'rdb_changes_since_last_save')).toBe('0');
      return datasetOf(c);
    });
    await node.stop();
    // Real redis-check-rdb validates structure and checksum.
    const check = execFileSync('redis-check-rdb', [join(dir, 'dump.rdb')], { encoding: 'utf8' });
    expect(check).toContain('RDB looks OK');
    expect(check).toContain('Checksum OK');

    const again = await track(startNode([], { dir }));
    expect(again.output()).toMatch(/DB loaded from disk: [\d.]+ seconds/);
    expect(await withClient(again, datasetOf)).toEqual(before);
    await again.stop();

    const redis = await track(startRedis(['--dbfilename', 'dump.rdb'], { dir }));
    await waitFor(() => redis.output().includes('Done loading RDB, keys loaded: 16'), { what: 'redis-server to load our file' });
    expect(await withClient(redis, datasetOf)).toEqual(before);
    await redis.stop();
  });

  it('loads an RDB written by redis-server 7.0 with every type in compact and big encodings', async () => {
    const redis = await track(startRedis());
    const theirs = await withClient(redis, async (c) => {
      for (const cmd of BUILD) await c.call(...cmd);
      expect(await c.call('OBJECT', 'ENCODING', 'hash:small')).toBe('listpack');
      expect(await c.call('OBJECT', 'ENCODING', 'zset:big')).toBe('skiplist');
      expect(plain(await c.call('SAVE'))).toBe('+OK');
      return datasetOf(c);
    });
    const dir = tempDir();
    copyFileSync(join(redis.dir, 'dump.rdb'), join(dir, 'dump.rdb'));
    const node = await track(startNode([], { dir }));
    expect(node.output()).toContain('Loading RDB produced by version 7.0.15');
    await withClient(node, async (c) => {
      expect(await datasetOf(c)).toEqual(theirs);
      expect(await c.call('OBJECT', 'ENCODING', 'set:int')).toBe('intset');
      expect(await c.call('OBJECT', 'ENCODING', 'hash:big')).toBe('hashtable');
      expect(await infoField(c, 'rdb_last_load_keys_loaded')).toBe('16');
    });
    await node.stop();
  });

  it('BGSAVE under a concurrent write load writes the dataset as it was when BGSAVE started, without stalling clients', async () => {
    const KEYS = 200_000;
    const dir = tempDir();
    const node = await track(startNode([], { dir }));
    const c = await RawClient.connect(node.port);
    const pinger = await RawClient.connect(node.port);
    try {
      for (let i = 0; i < KEYS; i += 1000) await c.call('MSET', ...many(1000, (j) => [`k:${i + j}`, `v0:${i + j}`]));
      for (let i = 0; i < 100; i++) await c.call('RPUSH', `list:${i}`, 'a', 'b', 'c');

      // BGSAVE and a first burst of writes in one pipeline: they run before the walk's first slice.
      const burst = ['BGSAVE', ...many(500, (i) => [`SET k:${i * 7} v1`, `DEL k:${i * 7 + 1}`, `SET new:${i} x`, `RPUSH list:${i % 100} d`, `EXPIRE k:${i * 7 + 2} 1000`])];
      const replies = Array.from({ length: burst.length }, () => c.nextReply(30_000));
      c.write(burst.map((cmd) => cmd + '\r\n').join(''));
      expect(plain((await replies[0])!)).toBe('+Background saving started');
      await Promise.all(replies);

      // Keep writing while the snapshot runs; measure PING round trips meanwhile.
      let writesDuringSave = 0;
      let maxPingMs = 0;
      let pings = 0;
      let saving = true;
      const pingLoop = (async () => {
        while (saving) {
          const t0 = performance.now();
          await pinger.call('PING');
          maxPingMs = Math.max(maxPingMs, performance.now() - t0);
          pings++;
        }
      })();
      for (let round = 0; (await infoField(c, 'rdb_bgsave_in_progress')) === '1'; round++) {
        const base = 10_000 + (round % 20) * 500;
        await c.call('MSET', ...many(200, (j) => [`k:${base + j}`, `v2:${round}`]));
        await c.call('DEL', ...many(50, (j) => [`k:${base + 300 + j}`]));
        await c.call('SET', `new:round:${round}`, 'x');
        writesDuringSave++;
      }
      saving = false;
      await pingLoop;
      await waitBgsaveDone(c);
      expect(await infoField(c, 'rdb_last_bgsave_status')).toBe('ok');
      console.log(`BGSAVE of ${KEYS} keys: ${pings} PINGs, longest ${maxPingMs.toFixed(1)} ms; ${writesDuringSave} write rounds during the save`);
      expect(writesDuringSave).toBeGreaterThan(0);
      // Typically 10-60 ms on a busy 2-core box (one slice + GC); the bound leaves room for CI noise.
      expect(maxPingMs).toBeLessThan(250);
    } finally {
      c.close();
      pinger.close();
    }
    // The file holds exactly the pre-BGSAVE dataset: load it into a real redis-server.
    const loadDir = tempDir();
    copyFileSync(join(dir, 'dump.rdb'), join(loadDir, 'dump.rdb'));
    const redis = await track(startRedis([], { dir: loadDir }));
    await withClient(redis, async (r) => {
      // redis-server answers -LOADING until the file is in.
      await waitFor(async () => typeof (await r.call('DBSIZE')) === 'number', { what: 'redis-server to load' });
      expect(await r.call('DBSIZE')).toBe(KEYS + 100);
      expect(await r.call('EXISTS', 'new:0', 'new:round:0')).toBe(0);
      for (let i = 0; i < KEYS; i += 5000) {
        const got = (await r.call('MGET', ...many(5000, (j) => [`k:${i + j}`]))) as string[];
        expect(got).toEqual(many(5000, (j) => [`v0:${i + j}`]));
      }
      expect(await r.call('LRANGE', 'list:0', '0', '-1')).toEqual(['a', 'b', 'c']);
      expect(await r.call('TTL', 'k:2')).toBe(-1);
    });
    await redis.stop();
  }, 120_000);

  it('save rules trigger a BGSAVE; SHUTDOWN saves when rules exist, SHUTDOWN NOSAVE does not', async () => {
    const dir = tempDir();
    const node = await track(startNode([], { dir }));
    await withClient(node, async (c) => {
      expect(plain(await c.call('CONFIG', 'SET', 'save', '1 2'))).toBe('+OK');
      await c.call('SET', 'a', '1');
      await c.call('SET', 'b', '2');
      await waitFor(async () => (await infoField(c, 'rdb_saves')) === '1', { timeoutMs: 10_000, what: 'save rule BGSAVE' });
      expect(await infoField(c, 'rdb_changes_since_last_save')).toBe('0');
    });
    expect(node.output()).toContain('2 changes in 1 seconds. Saving...');
    expect(node.output()).toContain('Background saving terminated with success');
    // NOSAVE: the change made now is lost.
    await withClient(node, async (c) => {
      await c.call('SET', 'lost', 'x');
      c.write('SHUTDOWN NOSAVE\r\n');
      await c.waitClosed();
    });
    await waitFor(() => node.proc.exitCode !== null, { what: 'node exit' });
    const second = await track(startNode(['--save', '3600 1'], { dir }));
    await withClient(second, async (c) => {
      expect(await c.call('EXISTS', 'a', 'b', 'lost')).toBe(2);
      await c.call('SET', 'kept', 'y');
      c.write('SHUTDOWN\r\n');
      await c.waitClosed();
    });
    await waitFor(() => second.proc.exitCode !== null, { what: 'node exit' });
    expect(second.output()).toContain('Saving the final RDB snapshot before exiting.');
    const third = await track(startNode([], { dir }));
    expect(await withClient(third, (c) => c.call('EXISTS', 'a', 'b', 'kept'))).toBe(3);
  });

  it('replies like redis-server to BGSAVE arguments, SAVE during BGSAVE, and DEBUG RELOAD', async () => {
    const node = await track(startNode(['--enable-debug-command', 'yes']));
    const redis = await track(startRedis(['--enable-debug-command', 'yes']));
    const both = async (...cmd: string[]): Promise<[unknown, unknown]> => [
      plain(await withClient(node, (c) => c.call(...cmd))),
      plain(await withClient(redis, (c) => c.call(...cmd))),
    ];
    for (const cmd of [['BGSAVE', 'foo'], ['BGSAVE', 'SCHEDULE', 'x'], ['SAVE', 'x'], ['LASTSAVE', 'x'], ['DEBUG', 'RELOAD', 'BOGUS']]) {
      const [ours, theirs] = await both(...cmd);
      expect(ours).toEqual(theirs);
    }
    await withClient(node, async (c) => {
      await c.call('RPUSH', 'l', 'a', 'b');
      await c.call('SET', 't', 'v', 'PXAT', '4102444800000');
      expect(plain(await c.call('DEBUG', 'RELOAD'))).toBe('+OK');
      expect(await c.call('LRANGE', 'l', '0', '-1')).toEqual(['a', 'b']);
      expect(await c.call('PEXPIRETIME', 't')).toBe(4102444800000);
      // SAVE while a BGSAVE runs: pipelined so the BGSAVE is surely still in progress.
      const r1 = c.nextReply();
      const r2 = c.nextReply();
      c.write('BGSAVE\r\nSAVE\r\n');
      expect(plain(await r1)).toBe('+Background saving started');
      expect(plain(await r2)).toEqual({ error: 'ERR Background save already in progress' });
      await waitBgsaveDone(c);
    });
    expect(existsSync(join(node.dir, 'dump.rdb'))).toBe(true);
  });
});

