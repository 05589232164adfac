// TESSERA.REPLOFFSET / TESSERA.WAITOFFSET on real nodes (a master and one replica): the position
// covers earlier writes of any connection, the wait answers once the replica acknowledged it and
// times out with the count it has when the replica is stopped; arity, argument and history errors;
// both refused on a replica and through COMMAND INFO declared from the one table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyErrorValue, SimpleString } from '../../../common/resp/reply-decoder.js';
import { RawClient, callOnce, infoFields } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const NODE_ARGS = ['--repl-diskless-sync-delay', '0'];
let master: ServerHandle;
let replica: ServerHandle;
let c: RawClient;

const errorOf = (r: unknown) => (r instanceof ReplyErrorValue ? r.message : `not an error: ${JSON.stringify(r)}`);

beforeAll(async () => {
  master = await startNode(NODE_ARGS);
  replica = await startNode([...NODE_ARGS, '--replicaof', '127.0.0.1', String(master.port)]);
  await waitFor(async () => (await infoFields(replica.port, 'replication')).master_link_status === 'up', { what: 'the replica to sync' });
  c = await RawClient.connect(master.port);
}, 30_000);

afterAll(async () => {
  c?.socket.destroy();
  await stopAll(...[replica, master].filter(Boolean));
});

describe('TESSERA.REPLOFFSET and TESSERA.WAITOFFSET', () => {
  it('REPLOFFSET answers the replication id and an offset covering the writes before it', async () => {
    await c.call('SET', 'k', 'v');
    const [replId, offset] = (await c.call('TESSERA.REPLOFFSET')) as [string, number];
    const info = await infoFields(master.port, 'replication');
    expect(replId).toBe(info.master_replid);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(Number(info.master_repl_offset));
    // Another write moves it on.
    await c.call('SET', 'k2', 'v2');
    const [, later] = (await c.call('TESSERA.REPLOFFSET')) as [string, number];
    expect(later).toBeGreaterThan(offset);
  });

  it('WAITOFFSET answers once the replica acknowledged the position', async () => {
    await c.call('SET', 'w', '1');
    const [replId, offset] = (await c.call('TESSERA.REPLOFFSET')) as [string, number];
    const t0 = Date.now();
    expect(await c.call('TESSERA.WAITOFFSET', replId, offset, 1, 5000)).toBe(1);
    expect(Date.now() - t0).toBeLessThan(2000);
    // Offset 0 with any history: the replicas attached, at once.
    expect(await c.call('TESSERA.WAITOFFSET', '*', 0, 1, 0)).toBe(1);
    // More replicas than there are: the count after the timeout.
    const t1 = Date.now();
    expect(await c.call('TESSERA.WAITOFFSET', replId, offset, 2, 200)).toBe(1);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(190);
  });

  it('many waits on one connection leave no listener behind (no MaxListenersExceededWarning)', async () => {
    // The mover waits after every batch on one link: each wait used to add a 'close' listener
    // to that socket and keep it, until Node warned at 11.
    for (let i = 0; i < 30; i++) {
      await c.call('SET', 'many', String(i));
      const [replId, offset] = (await c.call('TESSERA.REPLOFFSET')) as [string, number];
      expect(await c.call('TESSERA.WAITOFFSET', replId, offset, 1, 5000)).toBe(1);
    }
    // Timed-out waits detach theirs too.
    const [replId, offset] = (await c.call('TESSERA.REPLOFFSET')) as [string, number];
    for (let i = 0; i < 12; i++) expect(await c.call('TESSERA.WAITOFFSET', replId, offset, 2, 20)).toBe(1);
    expect(await c.call('PING')).toEqual(new SimpleString('PONG'));
    expect(master.output()).not.toMatch(/MaxListenersExceeded/);
  });

  it('WAITOFFSET times out with what it has when the replica is stopped', async () => {
    replica.proc.kill('SIGSTOP');
    try {
      await c.call('SET', 'stopped', '1');
      const [replId, offset] = (await c.call('TESSERA.REPLOFFSET')) as [string, number];
      const t0 = Date.now();
      expect(await c.call('TESSERA.WAITOFFSET', replId, offset, 1, 300)).toBe(0);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    } finally {
      replica.proc.kill('SIGCONT');
    }
  });

  it('refuses wrong arity, bad numbers, offsets beyond the master, and another history', async () => {
    const [replId, offset] = (await c.call('TESSERA.REPLOFFSET')) as [string, number];
    expect(errorOf(await c.call('TESSERA.REPLOFFSET', 'x'))).toBe("ERR wrong number of arguments for 'tessera.reploffset' command");
    expect(errorOf(await c.call('TESSERA.WAITOFFSET', replId, offset, 1))).toBe("ERR wrong number of arguments for 'tessera.waitoffset' command");
    expect(errorOf(await c.call('TESSERA.WAITOFFSET', replId, 'abc', 1, 0))).toBe('ERR value is not an integer or out of range');
    expect(errorOf(await c.call('TESSERA.WAITOFFSET', replId, offset, 'x', 0))).toBe('ERR value is not an integer or out of range');
    expect(errorOf(await c.call('TESSERA.WAITOFFSET', replId, offset, 1, 'soon'))).toBe('ERR timeout is not an integer or out of range');
    expect(errorOf(await c.call('TESSERA.WAITOFFSET', replId, -1, 1, 0))).toBe('ERR offset is negative');
    expect(errorOf(await c.call('TESSERA.WAITOFFSET', replId, offset, 1, -5))).toBe('ERR timeout is negative');
    expect(errorOf(await c.call('TESSERA.WAITOFFSET', replId, offset + 1_000_000, 1, 0))).toMatch(/^ERR offset \d+ is beyond this master's replication offset \d+$/);
    expect(errorOf(await c.call('TESSERA.WAITOFFSET', 'f'.repeat(40), offset, 1, 0))).toMatch(/^ERR replication id f{40} is not this master's history/);
  });

  it('both are refused on a replica; COMMAND INFO knows them', async () => {
    expect(errorOf(await callOnce(replica.port, 'TESSERA.REPLOFFSET'))).toBe('ERR TESSERA.REPLOFFSET cannot be used with replica instances');
    expect(errorOf(await callOnce(replica.port, 'TESSERA.WAITOFFSET', '*', 0, 1, 0))).toBe('ERR TESSERA.WAITOFFSET cannot be used with replica instances');
    const [info] = (await c.call('COMMAND', 'INFO', 'tessera.waitoffset')) as Array<[string, number]>;
    expect(info![0]).toBe('tessera.waitoffset');
    expect(info![1]).toBe(5);
  });
});
