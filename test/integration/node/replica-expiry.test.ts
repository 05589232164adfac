// A replica applying its master's stream to keys its own clock says are past their deadline
// (the stream late: here the replica is stopped while the master writes). As in Redis the
// master decides what exists: its INCR on a key live there changes the replica's copy, TTL and
// all, and only the master's DEL removes it. Before the fix the replica took the key as absent,
// made a second one (value 1, no TTL) and left the old name in its slot index: its dataset
// differed from the master's and SLOTSINFO counted a key that was gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plain } from '../../helpers/differential.js';
import { callOnce, infoFields } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const NODE_ARGS = ['--enable-debug-command', 'yes', '--repl-ping-replica-period', '1', '--repl-diskless-sync-delay', '0'];

let master: ServerHandle;
let replica: ServerHandle;

beforeAll(async () => {
  master = await startNode(NODE_ARGS);
  replica = await startNode([...NODE_ARGS, '--replicaof', '127.0.0.1', String(master.port)]);
  await waitFor(async () => (await infoFields(replica.port, 'replication')).master_link_status === 'up', { what: 'the replica linked' });
}, 30_000);

afterAll(async () => {
  if (replica?.proc.exitCode === null) replica.proc.kill('SIGCONT');
  await stopAll(master, replica);
});

async function caughtUp(): Promise<void> {
  await waitFor(async () => {
    const [m, r] = await Promise.all([infoFields(master.port, 'replication'), infoFields(replica.port, 'replication')]);
    return r.master_link_status === 'up' && r.master_repl_offset === m.master_repl_offset;
  }, { what: 'the replica caught up' });
}

/** SLOTSINFO as slot → key count. */
async function slotCounts(port: number): Promise<Map<number, number>> {
  const rows = plain(await callOnce(port, 'SLOTSINFO')) as Array<[number, number]>;
  return new Map(rows.map(([slot, n]) => [Number(slot), Number(n)]));
}

describe('a replica applying its master stream to keys past their deadline', () => {
  it("changes the master's key in place and drops it only on the master's DEL", async () => {
    // No active expiry on the master: the key stays until a command there touches it.
    expect(plain(await callOnce(master.port, 'DEBUG', 'SET-ACTIVE-EXPIRE', '0'))).toBe('+OK');
    expect(plain(await callOnce(master.port, 'SET', 'counter', '5', 'PX', '600'))).toBe('+OK');
    await caughtUp();
    const deadline = Date.now() + 600;
    replica.proc.kill('SIGSTOP');
    try {
      expect(plain(await callOnce(master.port, 'INCR', 'counter'))).toBe(6); // live on the master
      // Resume only once the replica's clock is past the deadline, so the INCR reaches it late.
      await waitFor(() => Date.now() > deadline + 50, { what: 'the deadline to pass' });
    } finally {
      replica.proc.kill('SIGCONT');
    }
    await caughtUp();
    // Both hold the one expired key (DBSIZE counts it, as Redis's does). DEBUG DIGEST leaves out
    // keys past their deadline, so a key the replica made anew (value 1, no TTL) would show here.
    expect(plain(await callOnce(replica.port, 'DEBUG', 'DIGEST'))).toBe(plain(await callOnce(master.port, 'DEBUG', 'DIGEST')));
    expect(plain(await callOnce(replica.port, 'DBSIZE'))).toBe(1);
    expect([...(await slotCounts(replica.port)).values()]).toEqual([1]);
    // The replica's own clients see it expired.
    expect(plain(await callOnce(replica.port, 'GET', 'counter'))).toBe(null);

    // A read on the master expires it there and propagates the DEL: gone everywhere, no trace left.
    expect(plain(await callOnce(master.port, 'GET', 'counter'))).toBe(null);
    await caughtUp();
    expect(plain(await callOnce(replica.port, 'DBSIZE'))).toBe(0);
    expect((await slotCounts(replica.port)).size).toBe(0);
    expect(plain(await callOnce(replica.port, 'DEBUG', 'DIGEST'))).toBe(plain(await callOnce(master.port, 'DEBUG', 'DIGEST')));
    expect(replica.output()).not.toContain('CRITICAL');
  });

  it("a writable replica's own write to such a key replaces it, leaving one name in the slot index", async () => {
    expect(plain(await callOnce(replica.port, 'CONFIG', 'SET', 'replica-read-only', 'no'))).toBe('+OK');
    try {
      expect(plain(await callOnce(master.port, 'SET', 'local', '5', 'PX', '300'))).toBe('+OK');
      await caughtUp();
      await waitFor(async () => plain(await callOnce(replica.port, 'EXISTS', 'local')) === 0, { what: 'the key to expire on the replica' });
      // Still held for the master's DEL (the master's active expiry is off), so one key in its slot.
      expect([...(await slotCounts(replica.port)).values()]).toEqual([1]);
      expect(plain(await callOnce(replica.port, 'INCR', 'local'))).toBe(1);
      expect([...(await slotCounts(replica.port)).values()]).toEqual([1]);
      expect(plain(await callOnce(replica.port, 'PTTL', 'local'))).toBe(-1);
    } finally {
      await callOnce(replica.port, 'CONFIG', 'SET', 'replica-read-only', 'yes');
    }
  });
});
