// The slot mover and the target's replicas (issue 9: nothing acknowledged is ever lost across a
// failover of the target), and a dead target (issue 8: every request to it has a deadline).
// - The source deletes a batch only once the target's replicas acknowledged it: with the target's
//   replica SIGSTOPped, the call fails and the source keeps every key; after SIGCONT the move ends.
// - A SIGSTOPped target (a silent peer) fails the call within its deadline, keys still on the
//   source; a SIGKILLed one fails it at once.
// - The target master killed right after a batch, its replica promoted (REPLICAOF NO ONE, as the
//   coordinator does): every key of the slot is on the promoted replica or still on the source.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { ReplyErrorValue } from '../../../common/resp/reply-decoder.js';
import { RawClient, infoFields } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';
import { keysInSlot } from '../../helpers/mover.js';

// No 5 s diskless-sync delay: replicas attach (and reattach after a restart) at once.
const CLUSTER = ['--slot-ownership', 'yes', '--repl-diskless-sync-delay', '0'];
const addr = (h: ServerHandle) => `127.0.0.1:${h.port}`;
/** TIMEOUT of the calls: the deadline for every request to the target, and for its replicas' ACKs. */
const TIMEOUT_MS = 1000;
/** The mover's longest wait on a silent target: a WAITOFFSET link waits TIMEOUT + 1 s (mover.ts). */
const DEADLINE_MS = TIMEOUT_MS + 1000;

async function pipeline(c: RawClient, cmds: Array<Array<string | number>>): Promise<Reply[]> {
  return Promise.all(cmds.map((cmd) => c.call(...cmd)));
}

/** One MIGRATE SLOT call (its reply may take long on this loaded machine). */
async function migrate(c: RawClient, slot: number, target: string, maxKeys: number): Promise<Reply> {
  const reply = c.nextReply(30_000);
  c.write(encodeCommand(['TESSERA.MIGRATE', 'SLOT', slot, target, 'MAXKEYS', maxKeys, 'TIMEOUT', TIMEOUT_MS]));
  return reply;
}

async function migrateAll(c: RawClient, slot: number, target: string, maxKeys: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const r = await migrate(c, slot, target, maxKeys);
    if (r instanceof ReplyErrorValue) throw new Error(r.message);
    if ((r as number[])[2] === 0) return;
  }
  throw new Error('slot never emptied');
}

/** How many keys of `slot` the node holds. */
async function countIn(c: RawClient, slot: number): Promise<number> {
  const r = (await c.call('TESSERA.SLOTS', 'STATS', String(slot))) as number[][];
  return r.length === 0 ? 0 : r[0]![1]!; // an empty slot has no row
}

/** Values of `keys` on a node that imports their slot (ASKING before each). */
async function valuesOn(c: RawClient, keys: string[]): Promise<Reply[]> {
  return (await pipeline(c, keys.flatMap((k) => [['ASKING'], ['GET', k]]))).filter((_, i) => i % 2 === 1);
}

let epoch = 10;

describe('slot mover and the target replicas', () => {
  let source: ServerHandle;
  let target: ServerHandle;
  let replica: ServerHandle;
  let src: RawClient;
  let dst: RawClient;
  let rep: RawClient;

  async function openSlot(slot: number): Promise<void> {
    epoch++;
    expect(await src.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'MIGRATING', addr(target))).toEqual({ value: 'OK' });
    expect(await dst.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'IMPORTING', addr(source))).toEqual({ value: 'OK' });
  }

  async function fill(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 2000) await pipeline(src, keys.slice(i, i + 2000).map((k) => ['SET', k, k]));
  }

  beforeAll(async () => {
    source = await startNode(CLUSTER);
    target = await startNode(CLUSTER);
    replica = await startNode([...CLUSTER, '--replicaof', '127.0.0.1', String(target.port)]);
    src = await RawClient.connect(source.port);
    dst = await RawClient.connect(target.port);
    rep = await RawClient.connect(replica.port);
    expect(await src.call('TESSERA.SLOTS', 'SET', epoch, '0-1023', 'OWNED')).toEqual({ value: 'OK' });
    expect(await dst.call('TESSERA.SLOTS', 'SET', epoch, '0-1023', 'NONE', 'OWNER', addr(source))).toEqual({ value: 'OK' });
    await waitFor(async () => (await infoFields(replica.port, 'replication')).master_link_status === 'up', { timeoutMs: 20_000, what: 'replica in sync' });
  }, 60_000);

  afterAll(async () => {
    for (const c of [src, dst, rep]) c?.close();
    // A stopped process must be continued to end.
    for (const h of [target, replica]) h?.proc.kill('SIGCONT');
    await stopAll(replica, target, source);
  });

  it('deletes nothing on the source while the target replica lags; finishes after SIGCONT', async () => {
    const slot = 41;
    const keys = keysInSlot(slot, 600, 'a');
    await fill(keys);
    await openSlot(slot);
    replica.proc.kill('SIGSTOP');
    try {
      const r = await migrate(src, slot, addr(target), 200);
      expect(r).toBeInstanceOf(ReplyErrorValue);
      expect((r as ReplyErrorValue).message).toMatch(/replicas did not acknowledge/);
      // The target master has them, its replica not: the source keeps every key.
      expect(await countIn(src, slot)).toBe(keys.length);
    } finally {
      replica.proc.kill('SIGCONT');
    }
    await migrateAll(src, slot, addr(target), 200);
    expect(await countIn(src, slot)).toBe(0);
    expect(await valuesOn(dst, keys)).toEqual(keys);
    await waitFor(async () => (await countIn(rep, slot)) === keys.length, { what: 'replica holds the slot' });
    expect(await valuesOn(rep, keys)).toEqual(keys);
  }, 60_000);

  it('a SIGSTOPped target fails the call within its deadline; the keys stay on the source', async () => {
    const slot = 43;
    const keys = keysInSlot(slot, 10_000, 'b');
    await fill(keys);
    await openSlot(slot);
    // Calls in a loop; the target stopped while they run.
    const run = { stop: false };
    const moving = (async (): Promise<{ err: string; at: number }> => {
      while (!run.stop) {
        const r = await migrate(src, slot, addr(target), 500);
        if (r instanceof ReplyErrorValue) return { err: r.message, at: performance.now() };
        if ((r as number[])[2] === 0) break;
      }
      return { err: 'no error', at: performance.now() };
    })();
    await waitFor(async () => (await countIn(dst, slot)) > 1000, { timeoutMs: 30_000, what: 'some keys moved' });
    target.proc.kill('SIGSTOP');
    const stoppedAt = performance.now();
    let failed: { err: string; at: number };
    try {
      failed = await moving;
      run.stop = true;
      // Every key is still somewhere: on the source, or (acknowledged) on the target.
      const here = await countIn(src, slot);
      expect(here).toBeGreaterThan(0);
    } finally {
      run.stop = true;
      target.proc.kill('SIGCONT');
    }
    console.log(`[mover-replicas] SIGSTOPped target: '${failed.err}' after ${(failed.at - stoppedAt).toFixed(0)} ms`);
    expect(failed.err).toMatch(/timeout|unreachable|did not acknowledge/);
    expect(failed.at - stoppedAt).toBeLessThan(DEADLINE_MS + 2000);
    expect((await countIn(src, slot)) + (await countIn(dst, slot))).toBeGreaterThanOrEqual(keys.length);
    await migrateAll(src, slot, addr(target), 5000);
    expect(await countIn(src, slot)).toBe(0);
    expect(await valuesOn(dst, keys)).toEqual(keys);
  }, 120_000);

  it('a target SIGKILLed mid big key (throttled: chunks await their turn) fails the call at once; the source lives on', async () => {
    const slot = 45;
    const big = keysInSlot(slot, 1, 'big')[0]!;
    for (let i = 0; i < 60_000; i += 10_000) await src.call('RPUSH', big, ...Array.from({ length: 10_000 }, (_, j) => `y${i + j}`));
    const t2 = await startNode(CLUSTER);
    const d2 = await RawClient.connect(t2.port);
    try {
      expect(await d2.call('TESSERA.SLOTS', 'SET', epoch, '0-1023', 'NONE', 'OWNER', addr(source))).toEqual({ value: 'OK' });
      epoch++;
      expect(await src.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'MIGRATING', addr(t2))).toEqual({ value: 'OK' });
      expect(await d2.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'IMPORTING', addr(source))).toEqual({ value: 'OK' });
      // Slow enough that the kill lands mid-key, while the chunks of the window wait their turn.
      await src.call('TESSERA.MIGRATE', 'THROTTLE', 'BYTES', 200_000);
      const m = await RawClient.connect(source.port);
      try {
        const moving = migrate(m, slot, addr(t2), 100);
        await waitFor(async () => {
          const st = (await src.call('TESSERA.MIGRATE', 'STATUS')) as Reply[];
          return st[st.indexOf('big_key_done') + 1]! as number >= 10_000;
        }, { timeoutMs: 30_000, intervalMs: 5, what: 'part of the big key sent' });
        await t2.kill();
        const killedAt = performance.now();
        const r = await moving;
        const ms = performance.now() - killedAt;
        console.log(`[mover-replicas] SIGKILLed target mid big key: '${r instanceof ReplyErrorValue ? r.message : JSON.stringify(r)}' after ${ms.toFixed(0)} ms`);
        expect(r).toBeInstanceOf(ReplyErrorValue);
        expect((r as ReplyErrorValue).message).toMatch(/unreachable/);
        expect(ms).toBeLessThan(DEADLINE_MS + 2000);
        // The source survived the failed chunks (a rejection of a chunk awaiting its turn once
        // went unhandled and ended the process), and still holds the whole key.
        expect(await src.call('PING')).toEqual({ value: 'PONG' });
        expect(await src.call('LLEN', big)).toBe(60_000);
      } finally {
        m.close();
        await src.call('TESSERA.MIGRATE', 'THROTTLE', 'BYTES', 0);
      }
    } finally {
      d2.close();
      await stopAll(t2);
    }
  }, 60_000);

  it('target master SIGKILLed after a batch its replica lacks, replica promoted: every key on it or on the source', async () => {
    const slot = 47;
    const keys = keysInSlot(slot, 5000, 'c');
    await fill(keys);
    await openSlot(slot);
    // A batch the replica acknowledged: deleted on the source.
    const first = await migrate(src, slot, addr(target), 1000);
    expect((first as number[])[0]).toBe(1000);
    // The next batch reaches the target master but not its (stopped) replica; the master dies.
    replica.proc.kill('SIGSTOP');
    let ms: number;
    let r: Reply;
    try {
      const next = migrate(src, slot, addr(target), 1000);
      await waitFor(async () => (await countIn(dst, slot)) > 1000, { what: 'the batch on the target master' });
      await target.kill();
      const killedAt = performance.now();
      r = await next;
      ms = performance.now() - killedAt;
    } finally {
      replica.proc.kill('SIGCONT');
    }
    console.log(`[mover-replicas] SIGKILLed target: '${r instanceof ReplyErrorValue ? r.message : JSON.stringify(r)}' after ${ms.toFixed(0)} ms`);
    expect(r).toBeInstanceOf(ReplyErrorValue);
    expect((r as ReplyErrorValue).message).toMatch(/unreachable|timeout|did not acknowledge/);
    expect(ms).toBeLessThan(DEADLINE_MS + 2000);
    // The coordinator's promotion.
    expect(await rep.call('REPLICAOF', 'NO', 'ONE')).toEqual({ value: 'OK' });
    const promoted = await valuesOn(rep, keys);
    const onSource = await pipeline(src, keys.map((k) => ['GET', k]));
    const lost = keys.filter((k, i) => promoted[i] !== k && onSource[i] !== k);
    expect(lost).toEqual([]);
    // Only the acknowledged batch left the source, and the promoted replica has it.
    expect(await countIn(src, slot)).toBe(keys.length - 1000);
    expect(promoted.filter((v, i) => v === keys[i]).length).toBeGreaterThanOrEqual(1000);
  }, 60_000);
});
