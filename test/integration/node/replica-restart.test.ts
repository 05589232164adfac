// A replica restarted from its config file resumes with a partial resync, as the coordinator and
// Sentinel arrange it: REPLICAOF, then CONFIG REWRITE writes `replicaof` into the file; the replica
// is shut down (SHUTDOWN SAVE keeps its data and replication position in the RDB), the master takes
// more writes, and the restarted replica continues from its offset (master: sync_partial_ok + 1,
// sync_full unchanged) with every key. Run the same way against redis-server and our node.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Reply, SimpleString } from '../../../common/resp/reply-decoder.js';
import { callOnce, infoFields } from '../../helpers/raw-client.js';
import { freePort } from '../../helpers/ports.js';
import { type ServerHandle, TESSERA_BIN, type TrackedProcess, spawnTracked, startNode, startRedis, stopAll, waitForPing } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const dirs: string[] = [];
/** A reply as text (simple strings unwrapped). */
const text = (r: Reply): string => (r instanceof SimpleString ? r.value : String(r));
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.each([
  ['redis-server', 'redis', startRedis],
  ['tessera node', 'tessera', startNode],
] as const)('a replica restarted from its rewritten config on %s', (_name, kind, startMaster) => {
  let master: ServerHandle | undefined;
  let replica: TrackedProcess | undefined;
  afterAll(async () => {
    await replica?.kill();
    await stopAll(master);
  });

  it('comes back as a replica and resyncs partially, with every key', async () => {
    master = await startMaster(['--repl-diskless-sync-delay', '0']);
    const dir = mkdtempSync(join(tmpdir(), `replica-restart-${kind}-`));
    dirs.push(dir);
    const port = await freePort();
    const conf = join(dir, 'replica.conf');
    writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsave ""\nappendonly no\n`);
    const launch = async () => {
      const t = kind === 'redis' ? spawnTracked('redis-server', [conf]) : spawnTracked(process.execPath, [TESSERA_BIN, 'node', conf]);
      await waitForPing(t, port, `${kind} replica`);
      return t;
    };
    replica = await launch();
    expect(text(await callOnce(port, 'REPLICAOF', '127.0.0.1', master.port))).toBe('OK');
    expect(text(await callOnce(port, 'CONFIG', 'REWRITE'))).toBe('OK');
    expect(readFileSync(conf, 'latin1')).toMatch(new RegExp(`^replicaof 127\\.0\\.0\\.1 ${master.port}$`, 'm'));
    expect(await callOnce(port, 'CONFIG', 'GET', 'replicaof')).toEqual(['replicaof', `127.0.0.1 ${master.port}`]);
    for (let i = 0; i < 200; i++) await callOnce(master.port, 'SET', `before:${i}`, String(i));
    const synced = async () => (await infoFields(port, 'replication')).master_link_status === 'up' &&
      (await infoFields(port, 'replication')).slave_repl_offset === (await infoFields(master!.port, 'replication')).master_repl_offset;
    await waitFor(synced, { timeoutMs: 15_000, what: 'the replica in sync' });
    const before = await infoFields(master.port, 'stats');

    await callOnce(port, 'SHUTDOWN', 'SAVE').catch(() => null); // the connection closes as it exits
    await waitFor(() => replica!.proc.exitCode !== null || replica!.proc.signalCode !== null, { timeoutMs: 10_000, what: 'the replica to exit' });
    for (let i = 0; i < 100; i++) await callOnce(master.port, 'SET', `during:${i}`, String(i));
    replica = await launch();
    await waitFor(synced, { timeoutMs: 15_000, what: 'the restarted replica in sync' });

    const after = await infoFields(master.port, 'stats');
    expect(Number(after.sync_partial_ok)).toBe(Number(before.sync_partial_ok) + 1);
    expect(after.sync_full).toBe(before.sync_full);
    expect((await infoFields(port, 'replication')).role).toBe('slave');
    expect(Number((await infoFields(port, 'keyspace')).db0?.match(/keys=(\d+)/)?.[1])).toBe(300);
    expect(text(await callOnce(port, 'GET', 'during:99'))).toBe('99');

    // REPLICAOF NO ONE clears it again (a promoted replica restarts as a master).
    expect(text(await callOnce(port, 'REPLICAOF', 'NO', 'ONE'))).toBe('OK');
    expect(text(await callOnce(port, 'CONFIG', 'REWRITE'))).toBe('OK');
    expect(readFileSync(conf, 'latin1')).not.toMatch(/^replicaof /m);
  }, 60_000);
});
