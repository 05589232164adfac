// The append-only file with real processes: restart recovery of every type, kill -9 under load with
// appendfsync always, truncated tails, BGREWRITEAOF under writes, runtime enabling, automatic
// rewrites, and a real redis-server 7.0 loading our AOF directory.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../../helpers/raw-client.js';
import { plain } from '../../helpers/differential.js';
import { type ServerHandle, startNode, startRedis, TESSERA_BIN } from '../../helpers/servers.js';
import { freePort } from '../../helpers/ports.js';
import { waitFor } from '../../helpers/wait-for.js';

const handles: ServerHandle[] = [];
const clients: RawClient[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(handles.splice(0).map((h) => h.kill()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aof-'));
  dirs.push(d);
  return d;
}

async function node(dir: string, args: string[] = []): Promise<ServerHandle> {
  const h = await startNode(['--appendonly', 'yes', ...args], { dir });
  handles.push(h);
  return h;
}

async function client(h: ServerHandle): Promise<RawClient> {
  const c = await RawClient.connect(h.port);
  clients.push(c);
  return c;
}

const aofDir = (dir: string) => join(dir, 'appendonlydir');

function incrFile(dir: string): string {
  const manifest = readFileSync(join(aofDir(dir), 'appendonly.aof.manifest'), 'latin1');
  const incr = /file (\S+) seq \d+ type i/.exec(manifest);
  if (!incr) throw new Error(`no incr file in manifest: ${manifest}`);
  return join(aofDir(dir), incr[1]!);
}

function baseFile(dir: string): string {
  const manifest = readFileSync(join(aofDir(dir), 'appendonly.aof.manifest'), 'latin1');
  return join(aofDir(dir), /file (\S+) seq \d+ type b/.exec(manifest)![1]!);
}

async function info(c: RawClient, field: string): Promise<string> {
  const text = (await c.call('INFO', 'persistence')) as string;
  return new RegExp(`^${field}:(.*)\r$`, 'm').exec(text)?.[1] ?? '';
}

/** Every key of dbs 0..3 with its type, value and absolute expiry (for restart comparisons). */
async function snapshot(c: RawClient): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (let db = 0; db < 4; db++) {
    await c.call('SELECT', db);
    const keys = ((await c.call('KEYS', '*')) as string[]).sort();
    for (const k of keys) {
      const type = String(await c.call('TYPE', k));
      const value =
        type === 'string' ? await c.call('GET', k)
        : type === 'list' ? await c.call('LRANGE', k, 0, -1)
        : type === 'hash' ? pairs((await c.call('HGETALL', k)) as string[]).sort()
        : type === 'set' ? ((await c.call('SMEMBERS', k)) as string[]).sort()
        : await c.call('ZRANGE', k, 0, -1, 'WITHSCORES');
      out[`${db}:${k}`] = { type, value, expireAt: await c.call('PEXPIRETIME', k) };
    }
  }
  await c.call('SELECT', 0);
  return out;
}

function pairs(flat: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push(`${flat[i]}=${flat[i + 1]}`);
  return out;
}

/** Starts a node that must refuse to start; resolves with its exit code and output. */
async function failedStart(dir: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const port = await freePort();
  const p = spawn(process.execPath, [TESSERA_BIN, 'node', '--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--dir', dir, '--appendonly', 'yes', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  return { code, out };
}

async function fillAllTypes(c: RawClient): Promise<void> {
  await c.call('SET', 'str', 'hello');
  await c.call('SET', 'bin', 'a\r\nb\x00c\xff');
  await c.call('SET', 'ttl', 'v', 'EX', 1000);
  await c.call('INCR', 'counter');
  await c.call('INCRBYFLOAT', 'float', '1.5');
  await c.call('RPUSH', 'list', 'a', 'b', 'c');
  await c.call('LPOP', 'list');
  await c.call('HSET', 'hash', 'f1', 'v1', 'f2', 'v2');
  await c.call('SADD', 'set', 'x', 'y', 'z', '1');
  await c.call('SPOP', 'set');
  await c.call('ZADD', 'zset', '1.5', 'a', '-inf', 'b', '3', 'c');
  await c.call('EXPIRE', 'hash', 500);
  await c.call('MULTI');
  await c.call('SET', 'tx1', '1');
  await c.call('SET', 'tx2', '2');
  await c.call('EXEC');
  await c.call('SELECT', 2);
  await c.call('SET', 'other-db', 'x');
  await c.call('SELECT', 0);
  await c.call('SET', 'gone', 'x');
  await c.call('DEL', 'gone');
}

describe('AOF persistence', () => {
  it('writes the Redis 7 multi-part layout and restores every type, with absolute TTLs, after a restart', async () => {
    const dir = tempDir();
    const a = await node(dir);
    const c = await client(a);
    await fillAllTypes(c);
    const before = await snapshot(c);
    expect(Object.keys(before).length).toBeGreaterThan(10);
    expect(readFileSync(join(aofDir(dir), 'appendonly.aof.manifest'), 'latin1')).toBe(
      'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    );
    const incr = readFileSync(incrFile(dir), 'latin1');
    expect(incr.startsWith('*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nstr\r\n$5\r\nhello\r\n')).toBe(true);
    expect(incr).toContain('PXAT'); // relative TTLs are logged as absolute ones
    expect(incr).toContain('PEXPIREAT');
    expect(await info(c, 'aof_enabled')).toBe('1');
    await a.stop();

    const b = await node(dir);
    expect(await snapshot(await client(b))).toEqual(before);
    expect(b.output()).toContain('DB loaded from append only file');
  });

  // PEXPIREAT k 9223372036854775807 is Redis's longest deadline. As a double it rounded up to 2^63,
  // which SAVE could not write ("can't exit" on SIGTERM, as redis-server says when its save
  // fails), nor an AOF rewrite replay. It is kept at the largest double below 2^63.
  it('keeps the longest deadline through SAVE, an AOF rewrite, a stop and a restart', async () => {
    const dir = tempDir();
    const a = await node(dir);
    const c = await client(a);
    await c.call('SET', 'k', 'v');
    expect(await c.call('PEXPIREAT', 'k', '9223372036854775807')).toBe(1);
    expect(await c.call('PEXPIRETIME', 'k')).toBe(9223372036854774784n);
    expect(plain(await c.call('SAVE'))).toBe('+OK');
    expect(plain(await c.call('BGREWRITEAOF'))).toBe('+Background append only file rewriting started');
    await waitFor(async () => (await info(c, 'aof_rewrite_in_progress')) === '0' && (await info(c, 'aof_last_bgrewrite_status')) === 'ok', { what: 'the rewrite' });
    await a.stop();
    expect(a.proc.exitCode).toBe(0);
    const b = await node(dir);
    const cb = await client(b);
    expect(await cb.call('PEXPIRETIME', 'k')).toBe(9223372036854774784n);
    expect(await cb.call('GET', 'k')).toBe('v');
  });

  it('loses no acknowledged write when killed with -9 under load (appendfsync always)', async () => {
    const dir = tempDir();
    const a = await node(dir, ['--appendfsync', 'always']);
    const acked: string[] = [];
    let stop = false;
    const writers = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(a.port)));
    clients.push(...writers);
    const loops = writers.map(async (w, i) => {
      for (let n = 0; !stop; n++) {
        const key = `k:${i}:${n}`;
        try {
          const r = await w.call('SET', key, `v${n}`);
          if (r !== null && typeof r === 'object' && 'value' in r && r.value === 'OK') acked.push(key);
        } catch {
          return; // the server died mid-request: that write was never acknowledged
        }
      }
    });
    await waitFor(() => acked.length >= 2000, { timeoutMs: 30_000, what: '2000 acknowledged writes' });
    await a.kill();
    stop = true;
    await Promise.allSettled(loops);

    const b = await node(dir);
    const c = await client(b);
    const missing: string[] = [];
    for (let i = 0; i < acked.length; i += 500) {
      const batch = acked.slice(i, i + 500);
      const got = (await c.call('MGET', ...batch)) as Array<string | null>;
      got.forEach((v, j) => {
        if (v === null) missing.push(batch[j]!);
      });
    }
    expect(missing).toEqual([]);
  });

  it('a key that expired while the node was down stays gone: its later commands in the AOF do not make it again (as redis-server)', async () => {
    // Replayed in order, INCR after SET … PXAT and RPUSH after PEXPIREAT must apply to the key
    // (nothing expires while loading, as in Redis); expiring it mid-replay made a new key, with
    // no TTL: the first INCR's key came back as 1 forever, the list as [b].
    const results: Record<string, unknown> = {};
    for (const kind of ['tessera', 'redis'] as const) {
      const dir = tempDir();
      const start = async () => {
        const h = kind === 'tessera' ? await node(dir, ['--appendfsync', 'always']) : await startRedis(['--appendonly', 'yes', '--appendfsync', 'always'], { dir });
        if (kind === 'redis') handles.push(h);
        return h;
      };
      const a = await start();
      const c = await client(a);
      const deadline = Date.now() + 400;
      await c.call('SET', 'counter', '5', 'PX', '400');
      await c.call('INCR', 'counter');
      await c.call('RPUSH', 'list', 'a');
      await c.call('PEXPIREAT', 'list', String(deadline));
      await c.call('RPUSH', 'list', 'b');
      await c.call('SET', 'kept', 'v');
      await a.kill();
      handles.splice(handles.indexOf(a), 1);
      await waitFor(() => Date.now() > deadline + 50, { what: 'the deadlines to pass' });
      const b = await start();
      const d = await client(b);
      results[kind] = [await d.call('GET', 'counter'), await d.call('LRANGE', 'list', '0', '-1'), await d.call('PTTL', 'counter'), await d.call('GET', 'kept'), await d.call('DBSIZE')];
    }
    expect(results.tessera).toEqual([null, [], -2, 'v', 1]);
    expect(results.tessera).toEqual(results.redis);
  });

  it('cuts a truncated tail off with aof-load-truncated yes and refuses to start with no', async () => {
    const dir = tempDir();
    const a = await node(dir);
    const c = await client(a);
    for (let i = 0; i < 20; i++) await c.call('SET', `key${i}`, `value${i}`);
    await a.stop();
    const incr = incrFile(dir);
    truncateSync(incr, statSync(incr).size - 7); // cuts into the last SET
    const copy = tempDir();
    cpSync(dir, copy, { recursive: true });

    // aof-load-truncated no: Redis's refusal, and the process exits.
    const refused = await failedStart(copy, ['--aof-load-truncated', 'no']);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('Unexpected end of file reading the append only file appendonly.aof.1.incr.aof');

    const b = await node(dir, ['--aof-load-truncated', 'yes']);
    expect(b.output()).toContain('!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!');
    expect(b.output()).toContain('AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled');
    const c2 = await client(b);
    expect(await c2.call('GET', 'key18')).toBe('value18');
    expect(await c2.call('GET', 'key19')).toBe(null);
    // Appends continue after the cut: a later restart reads a clean file.
    await c2.call('SET', 'after', 'cut');
    await b.stop();
    const d = await node(dir, ['--aof-load-truncated', 'no']);
    const c3 = await client(d);
    expect(await c3.call('GET', 'after')).toBe('cut');
    expect(await c3.call('DBSIZE')).toBe(20);
  });

  it('refuses to start on a corrupt (not truncated) file', async () => {
    const dir = tempDir();
    const a = await node(dir);
    const c = await client(a);
    await c.call('SET', 'a', '1');
    await a.stop();
    const incr = incrFile(dir);
    const bytes = readFileSync(incr);
    bytes[0] = 0x21; // '!' where a '*' must be
    writeFileSync(incr, bytes);
    const refused = await failedStart(dir, []);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('Bad file format reading the append only file appendonly.aof.1.incr.aof');
  });

  it('BGREWRITEAOF during writes keeps every write and leaves a compact base', async () => {
    const dir = tempDir();
    const a = await node(dir);
    const c = await client(a);
    const writer = await client(a);
    // 20k keys plus one hot counter incremented throughout.
    for (let i = 0; i < 20_000; i += 1000) {
      const args: string[] = [];
      for (let j = i; j < i + 1000; j++) args.push(`key:${j}`, `value:${j}`);
      await c.call('MSET', ...args);
    }
    for (let i = 0; i < 2000; i++) await c.call('INCR', 'hot');
    let stop = false;
    let writes = 0;
    const load = (async () => {
      while (!stop) {
        await writer.call('INCR', 'hot');
        await writer.call('RPUSH', 'log', `entry${writes}`);
        await writer.call('SET', `key:${writes % 20_000}`, `new:${writes}`);
        writes++;
      }
    })();
    expect(await c.call('BGREWRITEAOF')).toMatchObject({ value: 'Background append only file rewriting started' });
    expect(await c.call('BGREWRITEAOF')).toMatchObject({ message: 'ERR Background append only file rewriting already in progress' });
    await waitFor(async () => (await info(c, 'aof_rewrite_in_progress')) === '0' && (await info(c, 'aof_rewrites')) === '1', {
      timeoutMs: 75_000, what: 'the rewrite to finish',
    });
    const writesAtFinish = writes;
    await waitFor(() => writes > writesAtFinish + 50, { what: 'writes after the rewrite' });
    stop = true;
    await load;
    expect(await info(c, 'aof_last_bgrewrite_status')).toBe('ok');
    const before = await snapshot(c);
    await a.stop();

    const files = readdirSync(aofDir(dir)).sort();
    expect(files).toEqual(['appendonly.aof.2.base.aof', 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
    // Compact: one SET per key (+ a DEL/re-dump for keys written during the rewrite), not one per write.
    const base = readFileSync(baseFile(dir), 'latin1');
    const incrs = (base.match(/\r\nINCR\r\n/g) ?? []).length;
    expect(incrs).toBe(0);
    expect((base.match(/\$3\r\nSET\r\n\$\d+\r\nhot\r\n/g) ?? []).length).toBeLessThanOrEqual(10);

    const b = await node(dir);
    expect(await snapshot(await client(b))).toEqual(before);
  }, 90_000); // the rewrite under a tight write loop takes 16-25 s here (catch-up rounds of the growing list)

  it('CONFIG SET appendonly yes starts the AOF with a rewrite; appendonly no stops it', async () => {
    const dir = tempDir();
    const h = await startNode([], { dir });
    handles.push(h);
    const c = await client(h);
    await c.call('SET', 'before', '1');
    expect(await info(c, 'aof_enabled')).toBe('0');
    await c.call('CONFIG', 'SET', 'appendonly', 'yes');
    await waitFor(async () => (await info(c, 'aof_rewrites')) === '1', { what: 'the initial rewrite' });
    await c.call('SET', 'after', '2');
    expect(readFileSync(baseFile(dir), 'latin1')).toContain('before');
    await waitFor(() => readFileSync(incrFile(dir), 'latin1').includes('after'), { what: 'the write in the incr file' });
    await c.call('CONFIG', 'SET', 'appendonly', 'no');
    expect(await info(c, 'aof_enabled')).toBe('0');
    await c.call('SET', 'ignored', '3');
    await h.stop();
    expect(readFileSync(incrFile(dir), 'latin1')).not.toContain('ignored');

    const b = await node(dir);
    const c2 = await client(b);
    expect(await c2.call('MGET', 'before', 'after', 'ignored')).toEqual(['1', '2', null]);
  });

  it('rewrites automatically on auto-aof-rewrite-percentage growth', async () => {
    const dir = tempDir();
    const a = await node(dir, ['--auto-aof-rewrite-min-size', '4096', '--auto-aof-rewrite-percentage', '100']);
    const c = await client(a);
    for (let i = 0; i < 300; i++) await c.call('SET', 'same-key', `value-${i}`);
    await waitFor(async () => Number(await info(c, 'aof_rewrites')) >= 1, { what: 'an automatic rewrite' });
    expect(a.output()).toMatch(/Starting automatic rewriting of AOF on \d+% growth/);
    expect(Number(await info(c, 'aof_base_size'))).toBeLessThan(200);
    expect(await c.call('GET', 'same-key')).toBe('value-299');
  });

  it('a real redis-server 7.0 loads our AOF directory and returns the same data', async () => {
    const dir = tempDir();
    const a = await node(dir);
    const c = await client(a);
    await fillAllTypes(c);
    await c.call('BGREWRITEAOF');
    await waitFor(async () => (await info(c, 'aof_rewrites')) === '1', { what: 'the rewrite' });
    await c.call('SET', 'in-incr', 'yes');
    await c.call('ZINCRBY', 'zset', '2.25', 'a');
    const ours = await snapshot(c);
    await a.stop();

    const copy = tempDir();
    cpSync(dir, copy, { recursive: true });
    const r = await startRedis(['--appendonly', 'yes', '--appenddirname', 'appendonlydir'], { dir: copy });
    handles.push(r);
    const theirs = await snapshot(await client(r));
    expect(theirs).toEqual(ours);
    expect(r.output()).toContain('DB loaded from append only file');
  });
});
