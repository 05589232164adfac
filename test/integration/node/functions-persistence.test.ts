// Function libraries persist and replicate, interoperating with real redis-server: our RDB
// (FUNCTION2 opcodes) passes redis-check-rdb and loads into redis-server, its RDB into ours; a restart with RDB or AOF
// (incl. after BGREWRITEAOF) keeps them, FUNCTION LOAD/DELETE reach replicas as themselves, and a
// full resync hands them over (our replica of ours and of redis-server, redis-server's of ours),
// replacing whatever libraries the replica had.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plain } from '../../helpers/differential.js';
import { RawClient, infoFields } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const LIB_A = `#!lua name=liba\nredis.register_function('fa', function(keys, args) return 'a:' .. (args[1] or '') end)\n` +
  `redis.register_function{function_name='fa_ro', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}`;
const LIB_B = `#!lua name=libb\nredis.register_function('fb', function(keys, args) return redis.call('incr', keys[1]) end)\n-- ${'padding so the payload is long enough to be LZF-compressed '.repeat(3)}`;
const LIB_OLD = `#!lua name=libold\nredis.register_function('fold', function() return 'old' end)`;

async function call(port: number, ...args: string[]): Promise<unknown> {
  const c = await RawClient.connect(port);
  try {
    return plain(await c.call(...args));
  } finally {
    c.close();
  }
}

/** The libraries as a comparable value: names, functions (sorted: Redis orders them by hash), code. */
async function libraries(port: number): Promise<unknown> {
  const list = (await call(port, 'FUNCTION', 'LIST', 'WITHCODE')) as unknown[][];
  return list
    .map((lib) => {
      const fns = (lib[5] as unknown[][]).map((f) => JSON.stringify(f)).sort();
      return JSON.stringify([lib[1], fns, lib[7]]);
    })
    .sort();
}

async function caughtUp(master: number, replica: number): Promise<void> {
  await waitFor(async () => {
    const [m, r] = await Promise.all([infoFields(master, 'replication'), infoFields(replica, 'replication')]);
    return r.master_link_status === 'up' && r.master_repl_offset === m.master_repl_offset;
  }, { what: 'replica caught up' });
}

describe('function libraries persist and replicate', () => {
  const dirs: string[] = [];
  const started: ServerHandle[] = [];
  const tempDir = (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  const track = <T extends ServerHandle>(h: T): T => {
    started.push(h);
    return h;
  };
  const stop = async (h: ServerHandle) => {
    started.splice(started.indexOf(h), 1);
    await h.stop();
  };
  afterAll(async () => {
    await stopAll(...started);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('RDB: a restart keeps them; redis-server loads our file and we load its file', async () => {
    const ourDir = tempDir('fn-rdb-ours-');
    const node = track(await startNode([], { dir: ourDir }));
    expect(await call(node.port, 'FUNCTION', 'LOAD', LIB_A)).toBe('liba');
    expect(await call(node.port, 'FUNCTION', 'LOAD', LIB_B)).toBe('libb');
    await call(node.port, 'SET', 'k', 'v');
    const before = await libraries(node.port);
    expect(await call(node.port, 'SAVE')).toBe('+OK');
    await stop(node);

    const restarted = track(await startNode(['--enable-debug-command', 'yes'], { dir: ourDir }));
    expect(await libraries(restarted.port)).toEqual(before);
    expect(await call(restarted.port, 'FCALL', 'fa', '0', 'x')).toBe('a:x');
    expect(await call(restarted.port, 'FCALL_RO', 'fa_ro', '1', 'k')).toBe('v');
    expect(await call(restarted.port, 'DEBUG', 'RELOAD')).toBe('+OK');
    expect(await libraries(restarted.port)).toEqual(before);
    await stop(restarted);

    // Our file into redis-check-rdb and redis-server.
    const check = execFileSync('redis-check-rdb', [join(ourDir, 'dump.rdb')], { encoding: 'utf8' });
    expect(check).toContain('Checksum OK');
    expect(check).toContain('RDB looks OK');
    const redisDir = tempDir('fn-rdb-redis-');
    copyFileSync(join(ourDir, 'dump.rdb'), join(redisDir, 'dump.rdb'));
    const redis = track(await startRedis([], { dir: redisDir }));
    expect(await libraries(redis.port)).toEqual(before);
    expect(await call(redis.port, 'FCALL', 'fb', '1', 'n')).toBe(1);
    expect(await call(redis.port, 'GET', 'k')).toBe('v');

    // redis-server's file into ours (with a library it loaded itself).
    expect(await call(redis.port, 'FUNCTION', 'LOAD', LIB_OLD)).toBe('libold');
    const redisLibs = await libraries(redis.port);
    expect(await call(redis.port, 'SAVE')).toBe('+OK');
    await stop(redis);
    const backDir = tempDir('fn-rdb-back-');
    copyFileSync(join(redisDir, 'dump.rdb'), join(backDir, 'dump.rdb'));
    const ours = track(await startNode([], { dir: backDir }));
    expect(await libraries(ours.port)).toEqual(redisLibs);
    expect(await call(ours.port, 'FCALL', 'fold', '0')).toBe('old');
    expect(await call(ours.port, 'FCALL', 'fb', '1', 'n')).toBe(2);
    await stop(ours);
  });

  it('AOF: LOAD/DELETE are logged as themselves and replayed; BGREWRITEAOF keeps the libraries', async () => {
    const dir = tempDir('fn-aof-');
    const node = track(await startNode(['--appendonly', 'yes'], { dir }));
    await call(node.port, 'FUNCTION', 'LOAD', LIB_A);
    await call(node.port, 'FUNCTION', 'LOAD', LIB_OLD);
    await call(node.port, 'FUNCTION', 'LOAD', 'REPLACE', LIB_OLD);
    await call(node.port, 'FUNCTION', 'DELETE', 'libold');
    await call(node.port, 'FUNCTION', 'LOAD', LIB_B);
    const before = await libraries(node.port);
    await stop(node);

    const again = track(await startNode(['--appendonly', 'yes'], { dir }));
    expect(await libraries(again.port)).toEqual(before);
    expect(await call(again.port, 'FCALL', 'fold', '0')).toEqual({ error: 'ERR Function not found' });
    await call(again.port, 'BGREWRITEAOF');
    await waitFor(async () => (await infoFields(again.port, 'persistence')).aof_rewrite_in_progress === '0' &&
      (await infoFields(again.port, 'persistence')).aof_rewrite_scheduled === '0', { what: 'AOF rewrite done' });
    expect((await infoFields(again.port, 'persistence')).aof_last_bgrewrite_status).toBe('ok');
    await stop(again);

    const rewritten = track(await startNode(['--appendonly', 'yes'], { dir }));
    expect(await libraries(rewritten.port)).toEqual(before);
    expect(await call(rewritten.port, 'FCALL', 'fa', '0', 'y')).toBe('a:y');
    await stop(rewritten);
  });

  it('replicas: full resync carries them (replacing the replica\'s own), then LOAD/DELETE/FLUSH stream', async () => {
    const master = track(await startNode(['--repl-diskless-sync-delay', '0']));
    await call(master.port, 'FUNCTION', 'LOAD', LIB_A);
    // Each replica first holds a library of its own, which the full resync must drop.
    const ourReplica = track(await startNode());
    const disklessReplica = track(await startNode());
    const redisReplica = track(await startRedis());
    for (const r of [ourReplica, disklessReplica, redisReplica]) await call(r.port, 'FUNCTION', 'LOAD', LIB_OLD);
    await call(master.port, 'CONFIG', 'SET', 'repl-diskless-sync', 'no');
    await call(ourReplica.port, 'REPLICAOF', '127.0.0.1', String(master.port));
    await caughtUp(master.port, ourReplica.port);
    await call(master.port, 'CONFIG', 'SET', 'repl-diskless-sync', 'yes');
    for (const r of [disklessReplica, redisReplica]) {
      await call(r.port, 'REPLICAOF', '127.0.0.1', String(master.port));
      await caughtUp(master.port, r.port);
    }
    const replicas = [ourReplica, disklessReplica, redisReplica];
    const expectSame = async () => {
      const want = await libraries(master.port);
      for (const r of replicas) {
        await caughtUp(master.port, r.port);
        expect(await libraries(r.port)).toEqual(want);
      }
    };
    await expectSame();
    expect(await call(ourReplica.port, 'FCALL', 'fold', '0')).toEqual({ error: 'ERR Function not found' });
    expect(await call(ourReplica.port, 'FCALL_RO', 'fa_ro', '1', 'nokey')).toBeNull();
    // A replica refuses FUNCTION LOAD and a writing function; a no-writes one runs.
    expect(await call(ourReplica.port, 'FUNCTION', 'LOAD', LIB_B)).toEqual(await call(redisReplica.port, 'FUNCTION', 'LOAD', LIB_B));
    expect(await call(ourReplica.port, 'FCALL', 'fa', '0')).toEqual(await call(redisReplica.port, 'FCALL', 'fa', '0'));

    await call(master.port, 'FUNCTION', 'LOAD', LIB_B);
    expect(await call(master.port, 'FCALL', 'fb', '1', 'counter')).toBe(1);
    await expectSame();
    for (const r of replicas) expect(await call(r.port, 'GET', 'counter')).toBe('1');
    await call(master.port, 'FUNCTION', 'DELETE', 'liba');
    await expectSame();
    await call(master.port, 'FUNCTION', 'RESTORE', String(await call(master.port, 'FUNCTION', 'DUMP')), 'REPLACE');
    await call(master.port, 'FUNCTION', 'FLUSH');
    await expectSame();
    expect(await libraries(ourReplica.port)).toEqual([]);
  });

  it('our replica of a real redis-server master gets its libraries by full resync and stream', async () => {
    const master = track(await startRedis(['--repl-diskless-sync-delay', '0']));
    await call(master.port, 'FUNCTION', 'LOAD', LIB_A);
    const replica = track(await startNode());
    await call(replica.port, 'FUNCTION', 'LOAD', LIB_OLD);
    await call(replica.port, 'REPLICAOF', '127.0.0.1', String(master.port));
    await caughtUp(master.port, replica.port);
    expect(await libraries(replica.port)).toEqual(await libraries(master.port));
    await call(master.port, 'FUNCTION', 'LOAD', LIB_B);
    await call(master.port, 'FCALL', 'fb', '1', 'c');
    await caughtUp(master.port, replica.port);
    expect(await libraries(replica.port)).toEqual(await libraries(master.port));
    expect(await call(replica.port, 'GET', 'c')).toBe('1');
  });
});
