// Master/replica replication between Tessera nodes (real processes): full sync under a write load
// to two replicas and a chained one, partial resync of a restarted replica, promotion with the
// other replica continuing partially, READONLY / NOREPLICAS, WAIT, ROLE and INFO replication.
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { plain } from '../../helpers/differential.js';
import { RawClient, callOnce, infoFields } from '../../helpers/raw-client.js';
import { freePort } from '../../helpers/ports.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

// No diskless-sync delay: a full sync starts at once (Redis's default waits 5 s for more replicas).
const NODE_ARGS = ['--enable-debug-command', 'yes', '--repl-ping-replica-period', '1', '--repl-diskless-sync-delay', '0'];

const call = callOnce;

const info = infoFields;

const digest = async (port: number) => plain(await call(port, 'DEBUG', 'DIGEST'));

/** Waits until every replica applied the master's whole stream and holds the same dataset. */
async function waitInSync(master: ServerHandle, replicas: ServerHandle[], what: string): Promise<void> {
  await waitFor(async () => {
    const m = await info(master.port, 'replication');
    const want = await digest(master.port);
    for (const r of replicas) {
      const ri = await info(r.port, 'replication');
      if (ri.master_link_status !== 'up' || ri.master_repl_offset !== m.master_repl_offset) return false;
      if ((await digest(r.port)) !== want) return false;
    }
    return true;
  }, { timeoutMs: 15_000, what });
}

/** A pipelined mixed write load (every type, TTLs, several dbs, MULTI/EXEC, non-deterministic commands). */
async function writeLoad(port: number, rounds: number, tag: string): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    for (let r = 0; r < rounds; r++) {
      const pending: Array<Promise<Reply>> = [];
      for (let i = 0; i < 50; i++) {
        const n = r * 50 + i;
        const k = `${tag}:${n % 97}`;
        pending.push(
          c.call('SELECT', String(n % 3)),
          c.call('SET', `${k}:s`, `v${n}`),
          c.call('INCRBYFLOAT', `${k}:f`, '1.5'),
          c.call('RPUSH', `${k}:l`, `a${n}`, `b${n}`),
          c.call('HSET', `${k}:h`, `f${n % 7}`, `${n}`),
          c.call('SADD', `${k}:set`, `m${n % 11}`, `m${n % 13}`),
          c.call('ZADD', `${k}:z`, String(n % 17), `z${n % 5}`),
          c.call('EXPIRE', `${k}:s`, '1000'),
          c.call('SPOP', `${k}:set`),
          c.call('MULTI'),
          c.call('LPOP', `${k}:l`),
          c.call('INCR', `${tag}:counter`),
          c.call('EXEC'),
        );
        if (n % 10 === 0) pending.push(c.call('DEL', `${k}:h`));
      }
      const replies = await Promise.all(pending);
      expect(replies.filter((x) => plain(x) instanceof Object && 'error' in (plain(x) as object))).toEqual([]);
    }
  } finally {
    c.close();
  }
}

describe('replication between Tessera nodes', () => {
  let master: ServerHandle;
  let r1: ServerHandle;
  let r2: ServerHandle;
  let r3: ServerHandle;

  beforeAll(async () => {
    master = await startNode(NODE_ARGS);
    await writeLoad(master.port, 2, 'pre');
    r1 = await startNode([...NODE_ARGS, '--replicaof', '127.0.0.1', String(master.port)]);
    r2 = await startNode([...NODE_ARGS, '--replicaof', '127.0.0.1', String(master.port)]);
  }, 30_000);

  afterAll(async () => {
    await stopAll(master, r1, r2, r3);
  });

  it('syncs two replicas and a chained replica under a write load to identical datasets', async () => {
    // The chained replica joins while writes flow, so it full-syncs from a replica mid-stream.
    const load = writeLoad(master.port, 6, 'live');
    r3 = await startNode([...NODE_ARGS, '--replicaof', '127.0.0.1', String(r1.port)]);
    await load;
    await waitInSync(master, [r1, r2, r3], 'all replicas in sync');
    expect(await digest(master.port)).not.toBe('+' + '0'.repeat(40));
    expect(await call(r3.port, 'DBSIZE')).toBe(await call(master.port, 'DBSIZE'));
    expect(r1.output()).toContain('MASTER <-> REPLICA sync: Finished with success');
    expect(r3.output()).toContain(`Connecting to MASTER 127.0.0.1:${r1.port}`);
    const m = await info(master.port, 'replication');
    expect(m.role).toBe('master');
    expect(m.connected_slaves).toBe('2');
    expect(m.slave0).toMatch(/^ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+$/);
    expect(m.repl_backlog_active).toBe('1');
    const r = await info(r3.port, 'replication');
    expect(r.role).toBe('slave');
    expect(r.master_port).toBe(String(r1.port));
    expect(r.master_replid).toBe(m.master_replid);
    // The master's periodic PING to its replicas can move the offset between the two reads.
    const r1Role = plain(await call(r1.port, 'ROLE')) as [string, string, number, string, number];
    expect(r1Role.slice(0, 4)).toEqual(['slave', '127.0.0.1', master.port, 'connected']);
    expect(r1Role[4]).toBeGreaterThanOrEqual(Number(m.master_repl_offset));
    const role = plain(await call(master.port, 'ROLE')) as [string, number, string[][]];
    expect(role[0]).toBe('master');
    expect(role[2].map((x) => x[1]).sort()).toEqual([String(r1.port), String(r2.port)].sort());
  }, 30_000);

  it('refuses writes on a read-only replica', async () => {
    expect(plain(await call(r2.port, 'SET', 'x', '1'))).toEqual({ error: "READONLY You can't write against a read only replica." });
    expect(plain(await call(r2.port, 'GET', 'live:1:s'))).toBe(plain(await call(master.port, 'GET', 'live:1:s')));
  });

  it('WAIT counts the replicas that acknowledged', async () => {
    const c = await RawClient.connect(master.port);
    try {
      await c.call('SET', 'waited', '1');
      expect(await c.call('WAIT', '2', '5000')).toBe(2);
      const t0 = Date.now();
      expect(await c.call('WAIT', '3', '300')).toBe(2);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    } finally {
      c.close();
    }
    // A client that wrote nothing waits for nothing: every replica counts (Redis's woff = 0).
    expect(await call(master.port, 'WAIT', '0', '0')).toBe(2);
    expect(plain(await call(r1.port, 'WAIT', '1', '0'))).toEqual({ error: expect.stringMatching(/^ERR WAIT cannot be used with replica instances/) });
  });

  it('refuses writes without enough good replicas (NOREPLICAS)', async () => {
    expect(plain(await call(master.port, 'CONFIG', 'SET', 'min-replicas-to-write', '3'))).toBe('+OK');
    await waitFor(async () => (await info(master.port, 'replication')).min_slaves_good_slaves === '2', { what: 'good replicas counted' });
    expect(plain(await call(master.port, 'SET', 'x', '1'))).toEqual({ error: 'NOREPLICAS Not enough good replicas to write.' });
    expect(plain(await call(master.port, 'CONFIG', 'SET', 'min-replicas-to-write', '2'))).toBe('+OK');
    await waitFor(async () => plain(await call(master.port, 'SET', 'x', '1')) === '+OK', { what: 'write accepted with 2 good replicas' });
    expect(plain(await call(master.port, 'CONFIG', 'SET', 'min-replicas-to-write', '0'))).toBe('+OK');
  });

  it('a killed and restarted replica continues with a partial resync', async () => {
    expect(plain(await call(r2.port, 'SAVE'))).toBe('+OK');
    const before = Number((await info(master.port, 'stats')).sync_partial_ok);
    const { port, dir } = r2;
    await r2.kill();
    await writeLoad(master.port, 2, 'while-down');
    r2 = await startNode([...NODE_ARGS, '--replicaof', '127.0.0.1', String(master.port)], { port, dir });
    await waitInSync(master, [r1, r2, r3], 'restarted replica in sync');
    expect(r2.output()).toContain('MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.');
    expect(Number((await info(master.port, 'stats')).sync_partial_ok)).toBe(before + 1);
  }, 30_000);

  it('after REPLICAOF NO ONE the other replicas continue partially with the promoted one', async () => {
    await writeLoad(master.port, 1, 'before-promotion');
    await waitInSync(master, [r1, r2, r3], 'in sync before promotion');
    const old = await info(r1.port, 'replication');
    const statsBefore = await info(r1.port, 'stats');
    expect(plain(await call(r1.port, 'REPLICAOF', 'NO', 'ONE'))).toBe('+OK');
    const promoted = await info(r1.port, 'replication');
    expect(promoted.role).toBe('master');
    expect(promoted.master_replid2).toBe(old.master_replid);
    expect(promoted.second_repl_offset).toBe(String(Number(old.master_repl_offset) + 1));
    expect(plain(await call(r2.port, 'REPLICAOF', '127.0.0.1', String(r1.port)))).toBe('+OK');
    await waitFor(async () => (await info(r1.port, 'replication')).connected_slaves === '2', { what: 'r2 and r3 attached to the promoted node' });
    const stats = await info(r1.port, 'stats');
    // r2 (re-pointed) and r3 (chained, disconnected by the promotion) both continue partially.
    expect(Number(stats.sync_partial_ok) - Number(statsBefore.sync_partial_ok)).toBe(2);
    expect(stats.sync_full).toBe(statsBefore.sync_full);
    await stopAll(master);
    await writeLoad(r1.port, 2, 'after-promotion');
    await waitInSync(r1, [r2, r3], 'replicas of the promoted node in sync');
    const counter = await call(r1.port, 'GET', 'after-promotion:counter');
    expect(counter).not.toBeNull();
    expect(await call(r2.port, 'GET', 'after-promotion:counter')).toBe(counter);
  }, 30_000);
});

/**
 * A TCP relay to `port` that cuts its first connection after `cutAfter` bytes from the upstream
 * side (mid-RDB) and relays later connections whole. `onCut` runs right after the cut.
 */
async function cuttingRelay(port: number, cutAfter: number, onCut: () => void): Promise<{ port: number; server: Server }> {
  const listenPort = await freePort();
  let connections = 0;
  const server = createServer((down: Socket) => {
    const first = connections++ === 0;
    const up = connect(port, '127.0.0.1');
    let relayed = 0;
    up.on('data', (chunk: Buffer) => {
      if (!first) return void down.write(chunk);
      if (relayed + chunk.length < cutAfter) {
        relayed += chunk.length;
        return void down.write(chunk);
      }
      down.end(chunk.subarray(0, cutAfter - relayed));
      relayed = cutAfter;
      up.destroy();
      onCut();
    });
    down.on('data', (chunk: Buffer) => up.write(chunk));
    const close = () => {
      up.destroy();
      down.destroy();
    };
    up.on('close', close);
    down.on('close', close);
    up.on('error', close);
    down.on('error', close);
  });
  await new Promise<void>((r) => server.listen(listenPort, '127.0.0.1', r));
  return { port: listenPort, server };
}

describe('replication faults', () => {
  const started: ServerHandle[] = [];
  afterAll(async () => {
    await stopAll(...started);
  });

  it('answers MASTERDOWN while the link is down with replica-serve-stale-data no', async () => {
    const deadPort = await freePort();
    const replica = await startNode(['--replicaof', '127.0.0.1', String(deadPort), '--replica-serve-stale-data', 'no']);
    started.push(replica);
    const c = await RawClient.connect(replica.port);
    try {
      expect(plain(await c.call('GET', 'a'))).toEqual({ error: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'." });
      // Commands flagged "stale" (INFO, ROLE, REPLICAOF …) still run.
      expect(plain(await c.call('ROLE'))).toEqual(['slave', '127.0.0.1', deadPort, expect.stringMatching(/^connect/), -1]);
      const fields = await info(replica.port, 'replication');
      expect(fields.master_link_status).toBe('down');
      expect(fields.master_link_down_since_seconds).toBe('-1');
    } finally {
      c.close();
    }
  });

  it('a master restarted from its RDB keeps its history: the replica continues partially', async () => {
    const master = await startNode([...NODE_ARGS, '--save', '3600 1']);
    started.push(master);
    const replica = await startNode([...NODE_ARGS, '--replicaof', '127.0.0.1', String(master.port)]);
    started.push(replica);
    await writeLoad(master.port, 1, 'before-restart');
    await waitInSync(master, [replica], 'replica in sync before the restart');
    const { port, dir } = master;
    await master.stop(); // SIGTERM: saves the RDB with repl-id / repl-offset, like Redis's shutdown
    const restarted = await startNode([...NODE_ARGS, '--save', '3600 1'], { port, dir });
    started.push(restarted);
    await writeLoad(restarted.port, 1, 'after-restart');
    await waitInSync(restarted, [replica], 'replica in sync after the restart');
    expect(replica.output()).toContain('MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.');
    expect((await info(restarted.port, 'stats')).sync_full).toBe('0');
  }, 30_000);

  it('retries a transfer cut mid-RDB and never serves a half-loaded dataset', async () => {
    const master = await startNode(NODE_ARGS);
    started.push(master);
    const c = await RawClient.connect(master.port);
    try {
      for (let b = 0; b < 10; b++) {
        const args: string[] = ['MSET'];
        // Random values: the image must stay large after LZF compression.
        for (let i = 0; i < 500; i++) args.push(`big:${b * 500 + i}`, randomBytes(100).toString('hex'));
        expect(plain(await c.call(...args))).toBe('+OK');
      }
    } finally {
      c.close();
    }
    // The replica starts as a master with a dataset of its own, which must survive the failed try.
    const replica = await startNode(NODE_ARGS);
    started.push(replica);
    expect(plain(await call(replica.port, 'SET', 'mine', '1'))).toBe('+OK');
    const seenAfterCut: Array<Promise<unknown>> = [];
    const relay = await cuttingRelay(master.port, 300_000, () => {
      seenAfterCut.push(Promise.all([call(replica.port, 'DBSIZE'), call(replica.port, 'GET', 'mine')]));
    });
    try {
      expect(plain(await call(replica.port, 'REPLICAOF', '127.0.0.1', String(relay.port)))).toBe('+OK');
      await waitFor(async () => (await info(replica.port, 'replication')).master_link_status === 'up', { timeoutMs: 15_000, what: 'second transfer' });
      expect(seenAfterCut.length).toBe(1);
      expect(await seenAfterCut[0]).toEqual([1, '1']);
      expect(await digest(replica.port)).toBe(await digest(master.port));
      expect(await call(replica.port, 'GET', 'mine')).toBeNull();
      expect(await call(replica.port, 'DBSIZE')).toBe(5000);
    } finally {
      relay.server.close();
    }
  }, 30_000);
});
