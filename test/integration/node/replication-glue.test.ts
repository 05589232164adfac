// Where replication meets persistence and CLIENT: a replica's AOF after a full sync, the master
// link and replicas in CLIENT LIST / CLIENT KILL TYPE, and FLUSHALL's save with save points.
// Every scenario runs on real redis-server 7.0 pairs too, so the expectations are Redis's.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { plain } from '../../helpers/differential.js';
import { RawClient, callOnce, infoFields } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

type Start = (args?: string[], opts?: { port?: number; dir?: string }) => Promise<ServerHandle>;
const KINDS: Array<[string, Start]> = [['redis-server', startRedis], ['tessera', startNode]];

// No diskless-sync delay: a full sync starts at once (the default waits 5 s for more replicas).
const MASTER_ARGS = ['--repl-diskless-sync-delay', '0', '--repl-ping-replica-period', '1'];

const call = callOnce;

const info = infoFields;

/** CLIENT LIST [args] as one field map per client. */
async function clientList(port: number, ...args: string[]): Promise<Array<Record<string, string>>> {
  const text = String(plain(await call(port, 'CLIENT', 'LIST', ...args)));
  return text.split('\n').filter(Boolean).map((line) => {
    const fields: Record<string, string> = {};
    for (const pair of line.split(' ')) {
      const eq = pair.indexOf('=');
      fields[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return fields;
  });
}

async function waitLinkUp(replica: ServerHandle, master: ServerHandle, what: string): Promise<void> {
  await waitFor(async () => {
    const r = await info(replica.port, 'replication');
    const m = await info(master.port, 'replication');
    return r.master_link_status === 'up' && r.master_repl_offset === m.master_repl_offset;
  }, { timeoutMs: 15_000, what });
}

/** Writes `count` strings and a hash in db 0 and a list in db 3 (tagged so later checks are exact). */
async function writeData(port: number, tag: string, count: number): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    for (let i = 0; i < count; i++) await c.call('SET', `${tag}:${i}`, `v${i}`);
    await c.call('HSET', `${tag}:h`, 'f1', 'a', 'f2', 'b');
    await c.call('SELECT', '3');
    await c.call('RPUSH', `${tag}:l`, 'x', 'y', 'z');
  } finally {
    c.close();
  }
}

async function expectData(port: number, tag: string, count: number): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    for (let i = 0; i < count; i++) expect(await c.call('GET', `${tag}:${i}`)).toBe(`v${i}`);
    expect(plain(await c.call('HGETALL', `${tag}:h`))).toEqual(['f1', 'a', 'f2', 'b']);
    await c.call('SELECT', '3');
    expect(plain(await c.call('LRANGE', `${tag}:l`, '0', '-1'))).toEqual(['x', 'y', 'z']);
  } finally {
    c.close();
  }
}

const started: ServerHandle[] = [];
afterEach(async () => {
  await stopAll(...started.splice(0));
});

async function launch(start: Start, args: string[], opts: { dir?: string } = {}): Promise<ServerHandle> {
  const h = await start(args, opts);
  started.push(h);
  return h;
}

/** Starts a new process on an exited one's dir; only the new handle cleans the dir up. */
async function relaunch(old: ServerHandle, start: Start, args: string[]): Promise<ServerHandle> {
  started.splice(started.indexOf(old), 1);
  return launch(start, args, { dir: old.dir });
}

describe.each(KINDS)('AOF of a replica after a full sync (%s)', (_kind, start) => {
  it('rewrites its base from the synced dataset, so a restart keeps the master data', async () => {
    const master = await launch(start, MASTER_ARGS);
    await writeData(master.port, 'before', 50);
    const replica = await launch(start, ['--appendonly', 'yes']);
    const rewritesBefore = Number((await info(replica.port, 'persistence')).aof_rewrites);
    expect(await call(replica.port, 'REPLICAOF', '127.0.0.1', String(master.port))).toEqual(expect.objectContaining({ value: 'OK' }));
    await waitLinkUp(replica, master, 'replica in sync');
    // The full sync must be followed by a completed rewrite of the AOF base.
    await waitFor(async () => {
      const p = await info(replica.port, 'persistence');
      return Number(p.aof_rewrites) > rewritesBefore && p.aof_rewrite_in_progress === '0' && p.aof_last_bgrewrite_status === 'ok';
    }, { timeoutMs: 15_000, what: 'AOF rewrite after the full sync' });
    // Writes streamed after the sync go to the new incr file.
    await writeData(master.port, 'after', 10);
    await waitLinkUp(replica, master, 'replica applied the later writes');

    // Restart the replica alone (no master to resync from): the AOF is all it has.
    await master.stop();
    await replica.stop();
    const restarted = await relaunch(replica, start, ['--appendonly', 'yes']);
    await expectData(restarted.port, 'before', 50);
    await expectData(restarted.port, 'after', 10);
    expect(await call(restarted.port, 'DBSIZE')).toBe(62);
  });
});

describe.each(KINDS)('CLIENT LIST / CLIENT KILL TYPE master|replica|slave (%s)', (_kind, start) => {
  it('shows replicas as S and the master link as M, and kills them for a partial resync', async () => {
    const master = await launch(start, MASTER_ARGS);
    await writeData(master.port, 'k', 5);
    const replica = await launch(start, ['--replicaof', '127.0.0.1', String(master.port)]);
    await waitLinkUp(replica, master, 'initial sync');

    // Master side: the replica is type replica (alias slave), flags S, not a normal client.
    const replicas = await clientList(master.port, 'TYPE', 'replica');
    expect(replicas).toHaveLength(1);
    expect(replicas[0]!.flags).toBe('S');
    expect((await clientList(master.port, 'TYPE', 'slave')).map((c) => c.id)).toEqual([replicas[0]!.id]);
    expect((await clientList(master.port, 'TYPE', 'normal')).map((c) => c.id)).not.toContain(replicas[0]!.id);
    expect((await clientList(master.port)).find((c) => c.id === replicas[0]!.id)?.flags).toBe('S');

    // Replica side: the master link is type master, flags M, running as the internal superuser.
    const masters = await clientList(replica.port, 'TYPE', 'master');
    expect(masters).toHaveLength(1);
    expect(masters[0]).toMatchObject({ flags: 'M', addr: `127.0.0.1:${master.port}`, user: '(superuser)', db: '0' });
    expect((await clientList(replica.port)).filter((c) => c.flags === 'M').map((c) => c.id)).toEqual([masters[0]!.id]);
    expect(await clientList(replica.port, 'TYPE', 'replica')).toEqual([]);

    // Killing the master link: it reconnects and continues partially.
    const before = await info(master.port, 'stats');
    expect(await call(replica.port, 'CLIENT', 'KILL', 'TYPE', 'master')).toBe(1);
    await waitFor(async () => {
      const s = await info(master.port, 'stats');
      return Number(s.sync_partial_ok) === Number(before.sync_partial_ok) + 1;
    }, { timeoutMs: 15_000, what: 'partial resync after CLIENT KILL TYPE master' });
    await call(master.port, 'SET', 'k:after-master-kill', '1');
    await waitLinkUp(replica, master, 'link up after the master-link kill');
    expect(await call(replica.port, 'GET', 'k:after-master-kill')).toBe('1');

    // Killing the replica from the master (slave alias): it reconnects partially too.
    expect(await call(master.port, 'CLIENT', 'KILL', 'TYPE', 'slave')).toBe(1);
    await waitFor(async () => {
      const s = await info(master.port, 'stats');
      return Number(s.sync_partial_ok) === Number(before.sync_partial_ok) + 2;
    }, { timeoutMs: 15_000, what: 'partial resync after CLIENT KILL TYPE slave' });
    await waitLinkUp(replica, master, 'link up after the replica kill');
    const after = await info(master.port, 'stats');
    expect(after.sync_full).toBe(before.sync_full);
    expect(after.sync_partial_err).toBe(before.sync_partial_err);
    await expectData(replica.port, 'k', 5);
  });
});

describe.each(KINDS)('FLUSHALL with save points (%s)', (_kind, start) => {
  it('saves the emptied dataset at once, keeping the changes counted', async () => {
    const node = await launch(start, ['--save', '3600 1']);
    await writeData(node.port, 'old', 20);
    expect(await call(node.port, 'SAVE')).toEqual(expect.objectContaining({ value: 'OK' }));
    await call(node.port, 'SET', 'unsaved', '1');
    const before = await info(node.port, 'persistence');
    expect(before.rdb_changes_since_last_save).toBe('1');
    expect(await call(node.port, 'FLUSHALL')).toEqual(expect.objectContaining({ value: 'OK' }));
    // The save resets the change counter; only SAVE/BGSAVE count in rdb_saves.
    const after = await info(node.port, 'persistence');
    expect(after.rdb_changes_since_last_save).toBe('0');
    expect(after.rdb_saves).toBe(before.rdb_saves);
    expect(after.rdb_last_bgsave_status).toBe('ok');

    // A crash right after: the file on disk is the empty dataset, not the keys saved before.
    await node.kill();
    const restarted = await relaunch(node, start, ['--save', '3600 1']);
    expect(await call(restarted.port, 'DBSIZE')).toBe(0);
    const c = await RawClient.connect(restarted.port);
    try {
      await c.call('SELECT', '3');
      expect(await c.call('DBSIZE')).toBe(0);
    } finally {
      c.close();
    }
  });

  it('reaches replicas even when nothing was left to save (right after SAVE)', async () => {
    const master = await launch(start, [...MASTER_ARGS, '--save', '3600 1']);
    const replica = await launch(start, ['--replicaof', '127.0.0.1', String(master.port)]);
    await writeData(master.port, 'old', 5);
    await waitLinkUp(replica, master, 'replica has the data');
    expect(await call(replica.port, 'DBSIZE')).toBe(6);
    await call(master.port, 'SAVE');
    expect(await call(master.port, 'FLUSHALL')).toEqual(expect.objectContaining({ value: 'OK' }));
    await waitLinkUp(replica, master, 'replica applied FLUSHALL');
    expect(await call(replica.port, 'DBSIZE')).toBe(0);
    const c = await RawClient.connect(replica.port);
    try {
      await c.call('SELECT', '3');
      expect(await c.call('DBSIZE')).toBe(0);
    } finally {
      c.close();
    }
  });

  it('writes no file without save points', async () => {
    const node = await launch(start, []);
    await writeData(node.port, 'old', 3);
    const before = Number((await info(node.port, 'persistence')).rdb_changes_since_last_save);
    expect(await call(node.port, 'FLUSHALL')).toEqual(expect.objectContaining({ value: 'OK' }));
    expect(existsSync(join(node.dir, 'dump.rdb'))).toBe(false);
    // 3 strings + hash + list removed: each key counts as a change still to save.
    expect(Number((await info(node.port, 'persistence')).rdb_changes_since_last_save)).toBe(before + 5);
  });
});
