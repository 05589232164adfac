// Consumer group state outside the master's memory: replicas (ours and a real redis-server) fed
// by our master end with the master's PELs, consumers, last ids and read counters (Redis's
// XCLAIM/XGROUP SETID effects), a real redis-server master's effects build the same state on our
// replica, and an AOF (appended and rewritten) restores it after a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plain } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { startNode, startRedis, stopAll, type ServerHandle } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

/** Masters start a full sync at once instead of waiting 5 s for more replicas. */
const NO_SYNC_DELAY = ['--repl-diskless-sync-delay', '0'];

/**
 * XINFO STREAM FULL with the consumers' seen times masked (each server stamps its own clock).
 * `counters` false also masks the groups' entries-read and lag: Redis 7.0.15 propagates XREADGROUP
 * as XCLAIM … LASTID, which moves a replica's last id but leaves its read counter unknown (a real
 * redis-server replica answers nil there too; 7.2 changed it), so those are compared between
 * replicas, not with the master.
 */
async function groupState(c: RawClient, key: string, counters = true): Promise<unknown> {
  const v = plain(await c.call('XINFO', 'STREAM', key, 'FULL'));
  const masked = counters ? ['seen-time'] : ['seen-time', 'entries-read', 'lag'];
  const mask = (x: unknown): unknown => {
    if (!Array.isArray(x)) return x;
    return x.map((y, i) => (i > 0 && masked.includes(x[i - 1] as string) ? 'M' : mask(y)));
  };
  return mask(v);
}

/**
 * The writes whose effects must reach replicas and the AOF: every group command path, a NOACK
 * read, deleted pending entries, and a blocked reader served by another client's XADD. (A history
 * read is left out: it bumps delivery counts on the master only, in Redis too.)
 */
async function workload(c: RawClient, blocked: RawClient): Promise<void> {
  const run = async (...cmd: string[]) => c.call(...cmd);
  for (let i = 1; i <= 20; i++) await run('XADD', 'q', `${i}-0`, 'f', String(i));
  await run('XGROUP', 'CREATE', 'q', 'g', '0');
  await run('XGROUP', 'CREATE', 'q', 'fast', '$');
  await run('XGROUP', 'CREATE', 'q', 'noack', '0');
  await run('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '6', 'STREAMS', 'q', '>');
  await run('XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '4', 'STREAMS', 'q', '>');
  await run('XREADGROUP', 'GROUP', 'noack', 'nobody', 'NOACK', 'COUNT', '5', 'STREAMS', 'q', '>');
  await run('XACK', 'q', 'g', '1-0', '2-0');
  await run('XCLAIM', 'q', 'g', 'carol', '0', '3-0', '4-0', 'RETRYCOUNT', '9');
  await run('XCLAIM', 'q', 'g', 'dave', '0', '15-0', 'FORCE', 'JUSTID', 'LASTID', '16-0');
  await run('XDEL', 'q', '5-0');
  await run('XAUTOCLAIM', 'q', 'g', 'erin', '0', '0', 'COUNT', '3');
  await run('XGROUP', 'CREATECONSUMER', 'q', 'g', 'idle');
  await run('XGROUP', 'DELCONSUMER', 'q', 'g', 'bob');
  await run('XGROUP', 'SETID', 'q', 'noack', '12-0', 'ENTRIESREAD', '12');
  const served = blocked.call('XREADGROUP', 'GROUP', 'fast', 'sleeper', 'BLOCK', '0', 'STREAMS', 'q', '>');
  await waitFor(async () => String(plain(await c.call('CLIENT', 'LIST'))).includes('cmd=xreadgroup'), { what: 'the reader to block' });
  await run('XADD', 'q', '21-0', 'f', '21');
  expect(plain(await served)).toEqual([['q', [['21-0', ['f', '21']]]]]);
}

describe('consumer group state replicates and survives an AOF restart', () => {
  const handles: ServerHandle[] = [];
  const clients: RawClient[] = [];
  const dirs: string[] = [];
  const client = async (h: ServerHandle) => {
    const c = await RawClient.connect(h.port);
    clients.push(c);
    return c;
  };
  const track = async (p: Promise<ServerHandle>) => {
    const h = await p;
    handles.push(h);
    return h;
  };

  afterAll(async () => {
    for (const c of clients) c.close();
    await stopAll(...handles);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Runs the workload on `master` and waits for every replica to show the master's group state. */
  async function replicate(master: ServerHandle, replicas: ServerHandle[]): Promise<RawClient[]> {
    const m = await client(master);
    const rs = await Promise.all(replicas.map(client));
    for (const r of rs) expect(plain(await r.call('REPLICAOF', '127.0.0.1', String(master.port)))).toBe('+OK');
    for (const r of rs) await waitFor(async () => String(plain(await r.call('INFO', 'replication'))).includes('master_link_status:up'), { timeoutMs: 30_000, what: 'replica link up' });
    await workload(m, await client(master));
    const want = await groupState(m, 'q', false);
    for (const [i, r] of rs.entries()) {
      await waitFor(async () => JSON.stringify(await groupState(r, 'q', false)) === JSON.stringify(want), { timeoutMs: 30_000, what: `replica ${replicas[i]!.kind} to converge` })
        .catch(async (err) => {
          expect(await groupState(r, 'q', false)).toEqual(want);
          throw err;
        });
    }
    return rs;
  }

  it('our master: our replica and a redis-server replica end with its PELs, consumers and counters', async () => {
    const [master, ourReplica, redisReplica] = await Promise.all([track(startNode(NO_SYNC_DELAY)), track(startNode()), track(startRedis())]);
    const [ours, theirs] = await replicate(master, [ourReplica, redisReplica]);
    // Read counters included, our replica shows what the redis-server replica shows.
    expect(await groupState(ours!, 'q')).toEqual(await groupState(theirs!, 'q'));
  }, 90_000);

  it('a redis-server master: our replica builds the same group state from its effects', async () => {
    const [master, ourReplica] = await Promise.all([track(startRedis(NO_SYNC_DELAY)), track(startNode())]);
    await replicate(master, [ourReplica]);
  }, 90_000);

  it('AOF: the appended effects, then a rewrite, restore the group state after restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'groups-aof-'));
    dirs.push(dir);
    const args = ['--appendonly', 'yes', '--appendfsync', 'always'];
    const first = await track(startNode(args, { dir }));
    const c = await client(first);
    await workload(c, await client(first));
    const want = await groupState(c, 'q', false);
    await first.kill();
    const second = await track(startNode(args, { dir }));
    const c2 = await client(second);
    expect(await groupState(c2, 'q', false)).toEqual(want);
    expect(plain(await c2.call('BGREWRITEAOF'))).toMatch(/rewriting started/);
    await waitFor(async () => String(plain(await c2.call('INFO', 'persistence'))).includes('aof_rewrite_in_progress:0'), { what: 'the rewrite to end' });
    await second.kill();
    const third = await track(startNode(args, { dir }));
    expect(await groupState(await client(third), 'q', false)).toEqual(want);
  }, 60_000);
});
