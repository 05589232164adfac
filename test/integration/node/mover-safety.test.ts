// The slot mover's correctness under crashes and conflicts, with real processes: a source killed
// (SIGKILL) right after a batch and restarted from its AOF never brings back a key a client deleted
// or overwrote on the target; the target keeps a copy a client wrote (KEPT) but replaces one an
// earlier move left untouched; the partial key of a big key in chunks is invisible to clients
// (KEYS, SCAN, RANDOMKEY, DBSIZE, EXISTS/TYPE, INFO keyspace, SLOTSINFO, SLOTSSCAN, SLOTS STATS),
// also on the target's replica, and dropped when the import is cancelled; an interrupted big key
// resumes from the target's progress (no element twice), or starts over when its value changed;
// the throttle is a rate over the whole move, changed at run time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { ReplyErrorValue } from '../../../common/resp/reply-decoder.js';
import { slotOf } from '../../../common/slots.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';
import { callLong, keysInSlot, migrateAll } from '../../helpers/mover.js';

// No 5 s diskless-sync delay: replicas attach (and reattach after a restart) at once.
const CLUSTER = ['--slot-ownership', 'yes', '--repl-diskless-sync-delay', '0'];
const addr = (h: ServerHandle) => `127.0.0.1:${h.port}`;
const OK = { value: 'OK' };

/** Whether `key` is the big key in flight and at least `n` of its elements were sent. */
async function bigSent(c: RawClient, key: string, n: number): Promise<boolean> {
  const st = await status(c);
  return st['big_key'] === key && Number(st['big_key_done']) >= n;
}

/** TESSERA.MIGRATE STATUS as an object. */
async function status(c: RawClient): Promise<Record<string, Reply>> {
  const r = (await c.call('TESSERA.MIGRATE', 'STATUS')) as Reply[];
  const out: Record<string, Reply> = {};
  for (let i = 0; i < r.length; i += 2) out[r[i] as string] = r[i + 1]!;
  return out;
}

async function asking(c: RawClient, ...cmd: Array<string | number>): Promise<Reply> {
  const [, r] = await Promise.all([c.call('ASKING'), c.call(...cmd)]);
  return r!;
}

let epoch = 100;

/** DEBUG DIGEST: covers every key, hidden ones too (how the tests see a partial key at all). */
const EMPTY = '0'.repeat(40);
async function digest(c: RawClient): Promise<string> {
  return ((await c.call('DEBUG', 'DIGEST')) as { value: string }).value;
}

async function rpushMany(c: RawClient, key: string, n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i += 10_000) {
    await c.call('RPUSH', key, ...Array.from({ length: Math.min(10_000, n - i) }, (_, j) => `${prefix}${i + j}`));
  }
}

/** The whole list, read in ranges (the reply of a 200k-element LRANGE is fine, but bounded is kinder). */
async function wholeList(c: RawClient, key: string, viaAsking: boolean): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; ; i += 50_000) {
    const part = (viaAsking ? await asking(c, 'LRANGE', key, i, i + 49_999) : await c.call('LRANGE', key, i, i + 49_999)) as string[];
    out.push(...part);
    if (part.length < 50_000) return out;
  }
}

describe('mover safety', () => {
  let source: ServerHandle;
  let target: ServerHandle;
  let replica: ServerHandle;
  let src: RawClient;
  let dst: RawClient;
  const extra: ServerHandle[] = [];

  beforeAll(async () => {
    // everysec: the mover's own fsync, not the policy, must make a moved key's DEL durable.
    source = await startNode([...CLUSTER, '--appendonly', 'yes', '--appendfsync', 'everysec']);
    target = await startNode([...CLUSTER, '--appendonly', 'yes', '--appendfsync', 'always']);
    replica = await startNode([...CLUSTER, '--replicaof', '127.0.0.1', String(target.port)]);
    src = await RawClient.connect(source.port);
    dst = await RawClient.connect(target.port);
    expect(await src.call('TESSERA.SLOTS', 'SET', epoch, '0-1023', 'OWNED')).toEqual(OK);
    expect(await dst.call('TESSERA.SLOTS', 'SET', epoch, '0-1023', 'NONE', 'OWNER', addr(source))).toEqual(OK);
  }, 60_000);

  afterAll(async () => {
    src?.close();
    dst?.close();
    await stopAll(replica, target, source, ...extra);
  });

  async function open(slot: number, s = src, sH = source, d = dst, dH = target): Promise<void> {
    epoch++;
    expect(await s.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'MIGRATING', addr(dH))).toEqual(OK);
    expect(await d.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'IMPORTING', addr(sH))).toEqual(OK);
  }

  it('source killed right after a batch (appendfsync everysec), restarted from its AOF, resumed: a key deleted or rewritten on the target stays so', async () => {
    const slot = 41;
    const keys = keysInSlot(slot, 300, 'a');
    await Promise.all(keys.map((k) => src.call('SET', k, 'old')));
    await open(slot);
    const r = (await src.call('TESSERA.MIGRATE', 'SLOT', slot, addr(target), 'MAXKEYS', 100)) as number[];
    expect(r[0]).toBe(100);
    expect(r[2]).toBe(200);
    // Right after the reply: clients (through ASK) delete one moved key and rewrite another on
    // the target, and the source dies before anything else happens to it.
    const exists = (await Promise.all(keys.map((k) => src.call('EXISTS', k)))) as Reply[];
    const moved = keys.filter((_, i) => exists[i] instanceof ReplyErrorValue);
    expect(moved).toHaveLength(100);
    const [gone, rewritten] = [moved[0]!, moved[1]!];
    expect(await asking(dst, 'DEL', gone)).toBe(1);
    expect(await asking(dst, 'SET', rewritten, 'new')).toEqual(OK);
    src.close();
    await source.kill();
    source = await startNode([...CLUSTER, '--appendonly', 'yes', '--appendfsync', 'everysec'], { port: source.port, dir: source.dir });
    src = await RawClient.connect(source.port);
    // The restarted source holds none of the moved keys.
    expect(await src.call('DBSIZE')).toBe(200);
    expect(await src.call('TESSERA.SLOTS', 'CONFIRM', epoch)).toEqual(OK);
    await migrateAll(src, slot, addr(target), ['MAXKEYS', 1000]);
    expect(await asking(dst, 'EXISTS', gone)).toBe(0);
    expect(await asking(dst, 'GET', rewritten)).toBe('new');
    const vals = await Promise.all(keys.filter((k) => k !== gone && k !== rewritten).map((k) => asking(dst, 'GET', k)));
    expect(vals.every((v) => v === 'old')).toBe(true);
    expect(((await dst.call('TESSERA.SLOTS', 'STATS', String(slot))) as number[][])[0]![1]).toBe(299);
    expect(await src.call('DBSIZE')).toBe(0);
  }, 120_000);

  it('a copy a client wrote on the target is kept (KEPT); a copy an earlier move left untouched is replaced', async () => {
    const slot = 43;
    const [mine, stale, fresh] = keysInSlot(slot, 3, 'b');
    await src.call('SET', mine!, 'from-source');
    await src.call('SET', stale!, 'current');
    await src.call('SET', fresh!, 'plain');
    // A payload of an older value, as an interrupted earlier move would have left it.
    await src.call('SET', 'scratch', 'outdated');
    const payload = (await src.call('DUMP', 'scratch')) as string;
    await src.call('DEL', 'scratch');
    await open(slot);
    expect(await asking(dst, 'SET', mine!, 'from-client')).toEqual(OK);
    expect(await asking(dst, 'TESSERA.IMPORT', 'RESTORE', stale!, 0, payload)).toEqual(OK);
    // A second mover copy over an untouched one replaces it; over a client's copy it is kept.
    expect(await asking(dst, 'TESSERA.IMPORT', 'RESTORE', mine!, 0, payload)).toEqual({ value: 'KEPT' });
    const keptBefore = Number((await status(src))['keys_kept_on_target']);
    await migrateAll(src, slot, addr(target));
    expect(await asking(dst, 'GET', mine!)).toBe('from-client');
    expect(await asking(dst, 'GET', stale!)).toBe('current');
    expect(await asking(dst, 'GET', fresh!)).toBe('plain');
    expect(Number((await status(src))['keys_kept_on_target']) - keptBefore).toBe(1);
    expect(await src.call('SLOTSINFO', slot, 1)).toEqual([]);
  }, 60_000);

  it('the throttle is a rate over the whole move (every call), changed while a move runs, shown in STATUS', async () => {
    const [slotA, slotB] = [59, 61];
    const a = keysInSlot(slotA, 3000, 'ta');
    const b = keysInSlot(slotB, 3000, 'tb');
    await Promise.all([...a, ...b].map((k) => src.call('SET', k, 'v')));
    await open(slotA);
    await open(slotB);
    expect(await src.call('TESSERA.MIGRATE', 'THROTTLE', 'KEYS', 1500)).toEqual(['keys_per_sec', 1500, 'bytes_per_sec', 0]);
    try {
      await throttledMoves(slotA, slotB);
    } finally {
      await src.call('TESSERA.MIGRATE', 'THROTTLE', 'KEYS', 0, 'BYTES', 0);
    }
    expect(await src.call('SLOTSINFO', slotA, 1)).toEqual([]);
    expect(await src.call('SLOTSINFO', slotB, 1)).toEqual([]);
    expect(await src.call('TESSERA.MIGRATE', 'THROTTLE', 'SPEED', 1)).toEqual(new ReplyErrorValue('ERR syntax error: expected KEYS or BYTES'));
  }, 120_000);

  async function throttledMoves(slotA: number, slotB: number): Promise<void> {
    const waitedBefore = Number((await status(src))['throttle_waited_ms']);
    const t0 = performance.now();
    const calls = await migrateAll(src, slotA, addr(target), ['MAXKEYS', 300]);
    const ms = performance.now() - t0;
    const st = await status(src);
    console.log(`[mover] 3000 keys at 1500 keys/s in ${calls.length} calls: ${ms.toFixed(0)} ms, throttle waited ${Number(st['throttle_waited_ms']) - waitedBefore} ms`);
    // 3000 keys at 1500/s take 2 s whatever the number of calls (a 50 ms burst allowed).
    expect(calls.length).toBeGreaterThanOrEqual(10);
    expect(ms).toBeGreaterThanOrEqual(1800);
    expect(st['throttle_keys_per_sec']).toBe(1500);
    // It waited (how long depends on how fast this machine sends: the sending counts too).
    expect(Number(st['throttle_waited_ms']) - waitedBefore).toBeGreaterThan(0);
    // Lowered, then lifted while a move runs: the move speeds up at once.
    await src.call('TESSERA.MIGRATE', 'THROTTLE', 'KEYS', 200);
    const movedBefore = Number((await status(src))['keys_moved']);
    const mover = await RawClient.connect(source.port);
    try {
      const moving = migrateAll(mover, slotB, addr(target), ['MAXKEYS', 300]);
      await waitFor(async () => Number((await status(src))['keys_moved']) - movedBefore >= 20, { timeoutMs: 20_000, what: 'a few keys moved' });
      const slow = Number((await status(src))['keys_moved']) - movedBefore;
      expect(await src.call('TESSERA.MIGRATE', 'THROTTLE', 'KEYS', 0)).toEqual(['keys_per_sec', 0, 'bytes_per_sec', 0]);
      const t1 = performance.now();
      await moving;
      const rest = performance.now() - t1;
      console.log(`[mover] at 200 keys/s: ${slow} keys moved before lifting the throttle; the other ${3000 - slow} took ${rest.toFixed(0)} ms`);
      // At 200 keys/s the rest would take over 14 s.
      expect(rest).toBeLessThan(8000);
    } finally {
      mover.close();
    }
  }

  it('the partial key of a big key is invisible to clients (also on the replica) and dropped when the import is cancelled', async () => {
    const slot = 47;
    // An empty target with a replica, so every count and walk has nothing else to show.
    const t2 = await startNode([...CLUSTER, '--enable-debug-command', 'yes']);
    extra.push(t2);
    const r2 = await startNode([...CLUSTER, '--enable-debug-command', 'yes', '--replicaof', '127.0.0.1', String(t2.port)]);
    extra.push(r2);
    const d2 = await RawClient.connect(t2.port);
    const rep = await RawClient.connect(r2.port);
    const mover = await RawClient.connect(source.port);
    try {
      expect(await d2.call('TESSERA.SLOTS', 'SET', epoch, '0-1023', 'NONE', 'OWNER', addr(source))).toEqual(OK);
      await waitFor(async () => String(await rep.call('INFO', 'replication')).includes('master_link_status:up'), { timeoutMs: 20_000, what: 'replica linked' });
      const big = keysInSlot(slot, 1, 'hid')[0]!;
      await rpushMany(src, big, 100_000, 'h');
      await open(slot, src, source, d2, t2);
      // Slow enough to look at the partial key while it grows.
      expect(await src.call('TESSERA.MIGRATE', 'THROTTLE', 'BYTES', 100_000)).toBeTruthy();
      const moving = callLong(mover, 'TESSERA.MIGRATE', 'SLOT', slot, addr(t2));
      await waitFor(() => bigSent(src, big, 10_000), { timeoutMs: 30_000, intervalMs: 5, what: 'part of the big key sent' });
      // It exists: a chunk that does not continue it is refused with its size.
      const probe = await asking(d2, 'TESSERA.IMPORT', 'CHUNK', big, 'list', 1, 'x');
      expect(probe).toBeInstanceOf(ReplyErrorValue);
      const held = Number(/holds (\d+) elements/.exec((probe as ReplyErrorValue).message)![1]);
      expect(held).toBeGreaterThanOrEqual(1024);
      await waitFor(async () => (await digest(rep)) !== EMPTY, { timeoutMs: 20_000, what: 'replica holds the partial' });
      for (const c of [d2, rep]) {
        expect(await c.call('KEYS', '*')).toEqual([]);
        expect(await c.call('DBSIZE')).toBe(0);
        expect(await c.call('RANDOMKEY')).toBe(null);
        expect(await c.call('SCAN', 0, 'COUNT', 1000)).toEqual(['0', []]);
        expect(await c.call('SCAN', 0, 'TYPE', 'list', 'COUNT', 1000)).toEqual(['0', []]);
        expect(await c.call('SCAN', 0, 'MATCH', '*tessera*', 'COUNT', 1000)).toEqual(['0', []]);
        expect(await c.call('SLOTSINFO')).toEqual([]);
        expect(await c.call('SLOTSSCAN', slot, 0, 'COUNT', 100)).toEqual(['0', []]);
        expect(await c.call('TESSERA.SLOTS', 'STATS', String(slot))).toEqual([]);
        expect(String(await c.call('INFO', 'keyspace'))).not.toMatch(/db0:/);
      }
      const tmp = `{${big}}\x00tessera-import`;
      expect(slotOf(tmp)).toBe(slot);
      expect(await asking(d2, 'EXISTS', tmp)).toBe(0);
      expect(await asking(d2, 'TYPE', tmp)).toEqual({ value: 'none' });
      expect(await asking(d2, 'DEL', tmp)).toBe(0);
      // Cancel: the source keeps the key, the target drops the partial (and so does its replica).
      epoch++;
      expect(await src.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'OWNED')).toEqual(OK);
      expect(await moving).toEqual(new ReplyErrorValue(`ERR slot ${slot} is not migrating to ${addr(t2)}`));
      expect(await d2.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'NONE', 'OWNER', addr(source))).toEqual(OK);
      expect(await digest(d2)).toBe(EMPTY);
      await waitFor(async () => (await digest(rep)) === EMPTY, { timeoutMs: 20_000, what: 'replica drops the partial' });
      expect(await src.call('LLEN', big)).toBe(100_000);
      expect(await src.call('DEL', big)).toBe(1);
    } finally {
      await src.call('TESSERA.MIGRATE', 'THROTTLE', 'BYTES', 0);
      d2.close();
      rep.close();
      mover.close();
    }
  }, 120_000);

  it('a partial key survives an AOF rewrite and a restart of the target (replayed onto its hidden name), and the move resumes from it', async () => {
    const slot = 67;
    const big = keysInSlot(slot, 1, 'rw')[0]!;
    const n = 60_000;
    await rpushMany(src, big, n, 'w');
    const t4 = await startNode([...CLUSTER, '--appendonly', 'yes', '--appendfsync', 'always']);
    extra.push(t4);
    let d4 = await RawClient.connect(t4.port);
    const mover = await RawClient.connect(source.port);
    try {
      expect(await d4.call('TESSERA.SLOTS', 'SET', epoch, '0-1023', 'NONE', 'OWNER', addr(source))).toEqual(OK);
      await open(slot, src, source, d4, t4);
      await src.call('TESSERA.MIGRATE', 'THROTTLE', 'BYTES', 200_000);
      const moving = callLong(mover, 'TESSERA.MIGRATE', 'SLOT', slot, addr(t4));
      await waitFor(() => bigSent(src, big, 15_000), { timeoutMs: 30_000, intervalMs: 5, what: 'part of the big key sent' });
      // Stop the move, then rewrite the target's AOF with the partial key in it.
      epoch++;
      expect(await src.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'OWNED')).toEqual(OK);
      expect(await moving).toBeInstanceOf(ReplyErrorValue);
      const held = async (): Promise<number> => {
        const r = await asking(d4, 'TESSERA.IMPORT', 'CHUNK', big, 'list', n + 1, 'x');
        return Number(/holds (\d+) elements/.exec((r as ReplyErrorValue).message)![1]);
      };
      const before = await held();
      expect(before).toBeGreaterThanOrEqual(10_000);
      const persistence = async () => String(await d4.call('INFO', 'persistence'));
      expect(await d4.call('BGREWRITEAOF')).toBeTruthy();
      await waitFor(async () => {
        const text = await persistence();
        return text.includes('aof_rewrites:1') && text.includes('aof_rewrite_in_progress:0');
      }, { timeoutMs: 60_000, what: 'the rewrite' });
      d4.close();
      await t4.kill();
      const again = await startNode([...CLUSTER, '--appendonly', 'yes', '--appendfsync', 'always'], { port: t4.port, dir: t4.dir });
      extra.push(again);
      d4 = await RawClient.connect(again.port);
      expect(await d4.call('TESSERA.SLOTS', 'CONFIRM', epoch - 1)).toEqual(OK);
      expect(await held()).toBe(before);
      expect(await d4.call('DBSIZE')).toBe(0);
      epoch++;
      expect(await src.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'MIGRATING', addr(t4))).toEqual(OK);
      await src.call('TESSERA.MIGRATE', 'THROTTLE', 'BYTES', 0);
      await migrateAll(mover, slot, addr(t4));
      // From what the target held (or a chunk further: a chunk of the first window that started
      // exactly there continued it), never from 0, and never an element twice.
      const resumedAt = Number((await status(src))['big_key_resumed_at']);
      console.log(`[mover] 60k list: the target held ${before} elements after its AOF rewrite and restart; resumed at ${resumedAt}`);
      expect(resumedAt).toBeGreaterThanOrEqual(before);
      expect(resumedAt).toBeLessThanOrEqual(before + 4 * 1024);
      expect(await wholeList(d4, big, true)).toEqual(Array.from({ length: n }, (_, i) => `w${i}`));
    } finally {
      await src.call('TESSERA.MIGRATE', 'THROTTLE', 'BYTES', 0);
      d4.close();
      mover.close();
    }
  }, 180_000);

  it('an interrupted big key resumes from the target\'s progress (target killed; cancel and reopen), and starts over once its value changed: no element twice', async () => {
    const slot = 53;
    const big = keysInSlot(slot, 1, 'res')[0]!;
    const n = 120_000;
    await rpushMany(src, big, n, 'y');
    const t3 = await startNode([...CLUSTER, '--appendonly', 'yes', '--appendfsync', 'always']);
    extra.push(t3);
    let d3 = await RawClient.connect(t3.port);
    let restarted: ServerHandle | undefined;
    const mover = await RawClient.connect(source.port);
    try {
      expect(await d3.call('TESSERA.SLOTS', 'SET', epoch, '0-1023', 'NONE', 'OWNER', addr(source))).toEqual(OK);
      await open(slot, src, source, d3, t3);
      await src.call('TESSERA.MIGRATE', 'THROTTLE', 'BYTES', 600_000);
      // 1. The target dies mid-key.
      const first = callLong(mover, 'TESSERA.MIGRATE', 'SLOT', slot, addr(t3), 'TIMEOUT', 2000);
      await waitFor(() => bigSent(src, big, 40_000), { timeoutMs: 30_000, intervalMs: 5, what: 'part of the big key sent' });
      d3.close();
      await t3.kill();
      expect(await first).toBeInstanceOf(ReplyErrorValue);
      restarted = await startNode([...CLUSTER, '--appendonly', 'yes', '--appendfsync', 'always'], { port: t3.port, dir: t3.dir });
      extra.push(restarted);
      d3 = await RawClient.connect(restarted.port);
      expect(await d3.call('TESSERA.SLOTS', 'CONFIRM', epoch)).toEqual(OK);
      // 2. Resumed, then cancelled mid-key (no write in between).
      const second = callLong(mover, 'TESSERA.MIGRATE', 'SLOT', slot, addr(t3));
      await waitFor(async () => (await status(src))['big_key'] === big, { timeoutMs: 30_000, intervalMs: 2, what: 'the big key in flight again' });
      const resumedAt = Number((await status(src))['big_key_resumed_at']);
      expect(resumedAt).toBeGreaterThanOrEqual(30_000);
      expect(resumedAt).toBeLessThan(n);
      await waitFor(() => bigSent(src, big, resumedAt + 20_000), { timeoutMs: 30_000, intervalMs: 5, what: 'more of the big key sent' });
      epoch++;
      expect(await src.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'OWNED')).toEqual(OK);
      expect(await second).toEqual(new ReplyErrorValue(`ERR slot ${slot} is not migrating to ${addr(t3)}`));
      epoch++;
      expect(await src.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'MIGRATING', addr(t3))).toEqual(OK);
      const third = callLong(mover, 'TESSERA.MIGRATE', 'SLOT', slot, addr(t3));
      await waitFor(async () => (await status(src))['big_key'] === big, { timeoutMs: 30_000, intervalMs: 2, what: 'the big key in flight a third time' });
      const resumedAgain = Number((await status(src))['big_key_resumed_at']);
      expect(resumedAgain).toBeGreaterThanOrEqual(resumedAt + 10_000);
      console.log(`[mover] 120k list: resumed at ${resumedAt} after the target's restart, at ${resumedAgain} after a cancel`);
      // 3. Cancelled again, the value changes here: the next attempt starts over.
      await waitFor(() => bigSent(src, big, resumedAgain + 5_000), { timeoutMs: 30_000, intervalMs: 5, what: 'more sent' });
      epoch++;
      expect(await src.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'OWNED')).toEqual(OK);
      expect(await third).toBeInstanceOf(ReplyErrorValue);
      expect(await src.call('RPUSH', big, 'last')).toBe(n + 1);
      epoch++;
      expect(await src.call('TESSERA.SLOTS', 'SET', epoch, String(slot), 'MIGRATING', addr(t3))).toEqual(OK);
      await src.call('TESSERA.MIGRATE', 'THROTTLE', 'BYTES', 0);
      await migrateAll(mover, slot, addr(t3));
      expect((await status(src))['big_key_resumed_at']).toBe(0);
      const got = await wholeList(d3, big, true);
      expect(got.length).toBe(n + 1);
      const want = Array.from({ length: n }, (_, i) => `y${i}`);
      want.push('last');
      expect(got).toEqual(want);
      expect(await src.call('EXISTS', big)).toEqual(new ReplyErrorValue(`ASK ${slot} ${addr(t3)}`));
    } finally {
      await src.call('TESSERA.MIGRATE', 'THROTTLE', 'BYTES', 0);
      d3.close();
      mover.close();
    }
  }, 180_000);
});
