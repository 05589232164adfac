// The proxy while slots move, with real nodes in cluster mode (`--slot-ownership yes`): ownership
// set with TESSERA.SLOTS SET, keys moved by the node's mover (TESSERA.MIGRATE SLOT) while
// pipelined GET/SET/MGET/MSET/DEL go through a proxy whose table says migrating(1,2); a proxy
// whose table is stale (the old owner) follows -MOVED and sends later requests to the new owner;
// a request answered -TRYAGAIN (its keys on both sides) is retried until it succeeds; a
// transaction and a blocking command (sent to the old owner, or blocked there while the slot
// switches) follow their slot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSlot, parseProxyInfo } from '../../../common/model.js';
import { ReplyErrorValue } from '../../../common/resp/reply-decoder.js';
import { proxiesPrefix, slotKey } from '../../../common/store/keys.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { RawClient } from '../../helpers/raw-client.js';
import type { ServerHandle } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';
import { keysInSlot } from '../../helpers/mover.js';

let cluster: Cluster;
let a: ServerHandle; // group 1: slots 0-511
let b: ServerHandle; // group 2: slots 512-1023
let na: RawClient;
let nb: RawClient;
let client: RawClient;
let epoch = 1;
const addr = (h: ServerHandle) => `127.0.0.1:${h.port}`;

async function ok(c: RawClient, ...args: Array<string | number>): Promise<void> {
  const r = await c.call(...args);
  if (r instanceof ReplyErrorValue) throw new Error(`${args.join(' ')}: ${r.message}`);
}

/** Writes slot states to the store and waits until the proxy applied that revision. */
async function setTable(states: Array<[number, { kind: 'online'; group: number } | { kind: 'migrating'; from: number; to: number }]>): Promise<void> {
  let rev = '0';
  for (const [id, state] of states) rev = await cluster.store.put(slotKey(cluster.product, id), encodeSlot({ id, state }));
  await waitFor(async () => {
    const snap = await cluster.store.snapshot(proxiesPrefix(cluster.product));
    return snap.entries.length > 0 && snap.entries.every((e) => BigInt(parseProxyInfo(e.value).tableRevision) >= BigInt(rev));
  }, { what: `proxy applied revision ${rev}` });
}

/** Source migrating `slot` to b, b importing it from a. */
async function openSlot(slot: number): Promise<void> {
  epoch++;
  await ok(na, 'TESSERA.SLOTS', 'SET', epoch, slot, 'MIGRATING', addr(b));
  await ok(nb, 'TESSERA.SLOTS', 'SET', epoch, slot, 'IMPORTING', addr(a));
}

/** Ownership of `slot` switched to b on both nodes. */
async function finishSlot(slot: number): Promise<void> {
  epoch++;
  await ok(nb, 'TESSERA.SLOTS', 'SET', epoch, slot, 'OWNED');
  await ok(na, 'TESSERA.SLOTS', 'SET', epoch, slot, 'NONE', 'OWNER', addr(b));
}

/** One TESSERA.MIGRATE SLOT step: [moved, bytes, remaining]. */
async function moveSome(slot: number, maxKeys: number): Promise<number[]> {
  const r = await na.call('TESSERA.MIGRATE', 'SLOT', slot, addr(b), 'MAXKEYS', maxKeys);
  if (r instanceof ReplyErrorValue) throw new Error(r.message);
  return r as number[];
}

/** Calls (GET, SET, INCR …) served by `node` so far for `command`, redirected or not. */
async function served(node: RawClient, command: string): Promise<number> {
  const info = String(await node.call('INFO', 'commandstats'));
  const m = new RegExp(`cmdstat_${command}:calls=(\\d+).*?rejected_calls=(\\d+),failed_calls=(\\d+)`).exec(info);
  return m ? Number(m[1]) + Number(m[2]) + Number(m[3]) : 0;
}

beforeAll(async () => {
  cluster = await startCluster({ groups: 2, replicas: 0, proxies: 1, store: 'file', nodeArgs: ['--slot-ownership', 'yes'] });
  [a, b] = cluster.groups as [ServerHandle, ServerHandle];
  na = await RawClient.connect(a.port);
  nb = await RawClient.connect(b.port);
  await ok(na, 'TESSERA.SLOTS', 'SET', epoch, '0-511', 'OWNED', '512-1023', 'NONE', 'OWNER', addr(b));
  await ok(nb, 'TESSERA.SLOTS', 'SET', epoch, '512-1023', 'OWNED', '0-511', 'NONE', 'OWNER', addr(a));
  client = await RawClient.connect(cluster.proxies[0]!.port);
}, 60_000);

afterAll(async () => {
  na?.close();
  nb?.close();
  client?.close();
  await cluster?.stop();
});

describe('proxy during a slot migration', () => {
  it('pipelined GET/SET/MGET/MSET/DEL on keys on both sides all succeed with correct values while the keys move', async () => {
    const slot = 100;
    // 75 hash-tag groups of 4 keys (k, k2 read together by MGET: a group moves atomically, so
    // no request here waits for the mover; keys of one slot split by the mover are the TRYAGAIN
    // test's business).
    const keys = keysInSlot(slot, 75, 'g').flatMap((tag) => [1, 2, 3, 4].map((n) => `{${tag}}${n}`));
    const onA = keysInSlot(10, 20, 'a'); // group 1, not moving
    const onB = keysInSlot(700, 20, 'b'); // group 2
    const values = new Map<string, string>();
    await Promise.all(keys.map((k) => client.call('SET', k, `v0-${k}`)));
    for (const k of keys) values.set(k, `v0-${k}`);
    await Promise.all([...onA, ...onB].map((k) => client.call('SET', k, `x-${k}`)));
    // Nodes in cluster mode refuse a command of several slots (-CROSSSLOT): the proxy splits per
    // slot for a node until a probe (ASKING) says it is a plain node, so multi-slot splits work.
    expect(await client.call('MGET', keys[0]!, onA[0]!, onB[0]!, onB[1]!)).toEqual([`v0-${keys[0]}`, `x-${onA[0]}`, `x-${onB[0]}`, `x-${onB[1]}`]);
    expect(await client.call('DEL', 'none-1', 'none-2', 'none-3', 'none-4', 'none-5')).toBe(0);
    await openSlot(slot);
    await setTable([[slot, { kind: 'migrating', from: 1, to: 2 }]]);

    let remaining = keys.length;
    let round = 0;
    let stopped = false; // a round failed: the mover stops too
    // The mover moves a few groups per call; after about 40 keys it waits for the next round of
    // requests to start, so the move spans several rounds whatever the machine's speed.
    const mover = (async () => {
      let since = keys.length;
      while (remaining > 0 && !stopped) {
        remaining = (await moveSome(slot, 4))[2]!;
        if (remaining > 0 && since - remaining >= 40) {
          const r = round;
          await waitFor(() => round > r || stopped, { timeoutMs: 60_000, what: 'the next round of requests' });
          since = remaining;
        }
      }
    })();
    const errors: string[] = [];
    const sawBoth = { moving: 0 };
    // Rounds while the mover runs, then one after it finished.
    for (let after = 0; after < 2 && round < 200; round++) {
      if (remaining === 0) after++;
      const calls: Array<Promise<unknown>> = [];
      const checks: Array<(r: unknown) => void> = [];
      const expectReply = (p: Promise<unknown>, want: unknown, what: string) => {
        calls.push(p);
        checks.push((r) => {
          if (JSON.stringify(r) !== JSON.stringify(want)) errors.push(`round ${round} (${remaining} left) ${what}: got ${JSON.stringify(r)}, want ${JSON.stringify(want)}`);
        });
      };
      // Per group of four keys: k read and written, k2 read with k (a retried MGET may run after
      // later requests of the pipeline, so nothing later in the round writes what it reads),
      // k3 written by MSET, k4 deleted and set again.
      for (let i = 0; i + 3 < keys.length; i += 4) {
        const [k, k2, k3, k4] = [keys[i]!, keys[i + 1]!, keys[i + 2]!, keys[i + 3]!];
        const other = onB[i % onB.length]!;
        const otherA = onA[i % onA.length]!;
        expectReply(client.call('GET', k), values.get(k), `GET ${k}`);
        const v = `v${round + 1}-${k}`;
        expectReply(client.call('SET', k, v), { value: 'OK' }, `SET ${k}`);
        values.set(k, v);
        // Two keys of the moving slot (maybe on both sides: TRYAGAIN, retried) and one of each group.
        expectReply(client.call('MGET', k, k2, other, otherA), [v, values.get(k2), `x-${other}`, `x-${otherA}`], `MGET ${k} ${k2}`);
        const v3 = `w${round + 1}-${k3}`;
        expectReply(client.call('MSET', k3, v3, other, `x-${other}`), { value: 'OK' }, `MSET ${k3}`);
        values.set(k3, v3);
        expectReply(client.call('DEL', k4, `${otherA}-none`), 1, `DEL ${k4}`);
        expectReply(client.call('SET', k4, `s${round + 1}-${k4}`), { value: 'OK' }, `SET ${k4}`);
        values.set(k4, `s${round + 1}-${k4}`);
      }
      const startedLeft = remaining;
      const replies = await Promise.all(calls);
      // This round started with keys on both sides.
      if (startedLeft > 0 && startedLeft < keys.length) sawBoth.moving++;
      replies.forEach((r, i) => checks[i]!(r));
      if (errors.length > 0) {
        stopped = true;
        break;
      }
    }
    await mover;
    expect(errors.slice(0, 10)).toEqual([]);
    expect(sawBoth.moving).toBeGreaterThan(1); // several rounds ran with keys on both sides
    await finishSlot(slot);
    // Every key is now on b, with its last value, and none is left on a (it redirects them all).
    const onTarget = await Promise.all(keys.map((k) => nb.call('GET', k)));
    expect(onTarget).toEqual(keys.map((k) => values.get(k)));
    expect(await na.call('GET', keys[0]!)).toEqual(new ReplyErrorValue(`MOVED ${slot} ${addr(b)}`));
    await setTable([[slot, { kind: 'online', group: 2 }]]);
    const after = await Promise.all(keys.map((k) => client.call('GET', k)));
    expect(after).toEqual(keys.map((k) => values.get(k)));
  }, 120_000);

  it('a stale table (the old owner) gets -MOVED, follows it, and sends later requests to the new owner', async () => {
    const slot = 200;
    const keys = keysInSlot(slot, 50, 's');
    await Promise.all(keys.map((k) => client.call('SET', k, `old-${k}`)));
    await openSlot(slot);
    while ((await moveSome(slot, 100))[2] !== 0) { /* until the slot is empty on a */ }
    await finishSlot(slot); // the nodes know; the proxy's table still says group 1
    expect(await na.call('GET', keys[0]!)).toEqual(new ReplyErrorValue(`MOVED ${slot} ${addr(b)}`));
    expect(await client.call('GET', keys[0]!)).toBe(`old-${keys[0]}`);
    const before = await served(na, 'get');
    const got = await Promise.all(keys.map((k) => client.call('GET', k)));
    expect(got).toEqual(keys.map((k) => `old-${k}`));
    expect(await served(na, 'get')).toBe(before); // none went to the old owner again
    // Writes too, and a pipelined mix, all on b.
    const sets = await Promise.all(keys.map((k) => client.call('SET', k, `new-${k}`)));
    expect(sets.every((r) => JSON.stringify(r) === JSON.stringify({ value: 'OK' }))).toBe(true);
    expect(await nb.call('GET', keys[1]!)).toBe(`new-${keys[1]}`);
    // A transaction on the stale slot: refused on a at queue time (nothing applied), re-sent whole to b.
    expect(await client.call('MULTI')).toEqual({ value: 'OK' });
    expect(await client.call('SET', keys[2]!, 'tx')).toEqual({ value: 'QUEUED' });
    expect(await client.call('GET', keys[3]!)).toEqual({ value: 'QUEUED' });
    expect(await client.call('EXEC')).toEqual([{ value: 'OK' }, `new-${keys[3]}`]);
    expect(await nb.call('GET', keys[2]!)).toBe('tx');
    await setTable([[slot, { kind: 'online', group: 2 }]]);
  }, 60_000);

  it('a request whose keys are on both sides (-TRYAGAIN) is retried until the move completes', async () => {
    const slot = 300;
    const [p, q] = keysInSlot(slot, 2, 't');
    await ok(client, 'MSET', p!, 'P', q!, 'Q');
    await openSlot(slot);
    await setTable([[slot, { kind: 'migrating', from: 1, to: 2 }]]);
    // p moved by hand (DUMP on the source, RESTORE on the target after ASKING, DEL on the source):
    // the slot now has keys on both sides.
    const dump = await na.call('DUMP', p!);
    await ok(nb, 'ASKING');
    await ok(nb, 'RESTORE', p!, 0, dump as string);
    await ok(na, 'DEL', p!);
    expect(await na.call('MGET', p!, q!)).toEqual(new ReplyErrorValue('TRYAGAIN Multiple keys request during rehashing of slot'));
    const before = await served(na, 'mget');
    const started = Date.now();
    const pending = client.call('MGET', p!, q!);
    // The proxy keeps trying a (each try answered TRYAGAIN) …
    await waitFor(async () => (await served(na, 'mget')) >= before + 3, { what: 'the proxy retrying MGET on the source' });
    // … and succeeds once the last key moved (a answers ASK, b runs it after ASKING).
    expect((await moveSome(slot, 10))[2]).toBe(0);
    expect(await pending).toEqual(['P', 'Q']);
    expect(Date.now() - started).toBeLessThan(2000);
    await finishSlot(slot);
    await setTable([[slot, { kind: 'online', group: 2 }]]);
  }, 60_000);

  it('a transaction on a migrating slot follows -ASK whole (nothing applied on the source); a WATCHed one gets a retryable TRYAGAIN', async () => {
    const slot = 500;
    const [moved, stays] = keysInSlot(slot, 2, 'x');
    await ok(client, 'SET', moved!, 'before');
    await ok(client, 'SET', stays!, 'here');
    await openSlot(slot);
    await setTable([[slot, { kind: 'migrating', from: 1, to: 2 }]]);
    // `moved` goes to b by hand; `stays` is still on a.
    const dump = await na.call('DUMP', moved!);
    await ok(nb, 'ASKING');
    await ok(nb, 'RESTORE', moved!, 0, dump as string);
    await ok(na, 'DEL', moved!);
    expect(await client.call('MULTI')).toEqual({ value: 'OK' });
    expect(await client.call('APPEND', moved!, '+tx')).toEqual({ value: 'QUEUED' });
    expect(await client.call('GET', moved!)).toEqual({ value: 'QUEUED' });
    expect(await client.call('EXEC')).toEqual([9, 'before+tx']);
    expect(await na.call('EXISTS', moved!)).toEqual(new ReplyErrorValue(`ASK ${slot} ${addr(b)}`)); // not recreated on a
    // A transaction on a key still on the source runs there.
    expect(await client.call('MULTI')).toEqual({ value: 'OK' });
    expect(await client.call('APPEND', stays!, '!')).toEqual({ value: 'QUEUED' });
    expect(await client.call('EXEC')).toEqual([5]);
    // WATCH pins the transaction to one node's link: a WATCH of a key already moved cannot be
    // placed, one of a key still here can but its transaction cannot follow the key once moved.
    const w = await client.call('WATCH', moved!);
    expect(w).toBeInstanceOf(ReplyErrorValue);
    expect((w as ReplyErrorValue).message).toMatch(/^TRYAGAIN .*retry WATCH/);
    expect(await client.call('UNWATCH')).toEqual({ value: 'OK' });
    expect(await client.call('WATCH', stays!)).toEqual({ value: 'OK' });
    expect(await client.call('MULTI')).toEqual({ value: 'OK' });
    expect(await client.call('SET', moved!, 'watched')).toEqual({ value: 'QUEUED' });
    const r = await client.call('EXEC');
    expect(r).toBeInstanceOf(ReplyErrorValue);
    expect((r as ReplyErrorValue).message).toMatch(/^TRYAGAIN .*nothing was applied/);
    expect(await nb.call('ASKING').then(() => nb.call('GET', moved!))).toBe('before+tx');
    while ((await moveSome(slot, 100))[2] !== 0) { /* the rest */ }
    await finishSlot(slot);
    await setTable([[slot, { kind: 'online', group: 2 }]]);
  }, 60_000);

  it('a blocking command waiting on the source while its slot switches owner is redirected by the node and follows', async () => {
    const slot = 450;
    const [k] = keysInSlot(slot, 1, 'bw');
    const blocked = await RawClient.connect(cluster.proxies[0]!.port);
    try {
      const pop = blocked.call('BLPOP', k!, 20);
      await waitFor(async () => /blocked_clients:1/.test(String(await na.call('INFO', 'clients'))), { what: 'BLPOP blocked on a' });
      await openSlot(slot);
      await setTable([[slot, { kind: 'migrating', from: 1, to: 2 }]]);
      await finishSlot(slot); // a answers its blocked client -MOVED; the proxy re-sends BLPOP to b
      await waitFor(async () => /blocked_clients:1/.test(String(await nb.call('INFO', 'clients'))), { what: 'BLPOP blocked on b' });
      await ok(nb, 'RPUSH', k!, 'moved-item');
      expect(await pop).toEqual([k, 'moved-item']);
    } finally {
      blocked.close();
    }
    await setTable([[slot, { kind: 'online', group: 2 }]]);
  }, 60_000);

  it('a blocking command sent to the old owner follows -MOVED and blocks on the new one', async () => {
    const slot = 400;
    const [k] = keysInSlot(slot, 1, 'bl');
    await openSlot(slot);
    while ((await moveSome(slot, 100))[2] !== 0) { /* empty */ }
    await finishSlot(slot); // the proxy's table still says group 1
    const blocked = await RawClient.connect(cluster.proxies[0]!.port);
    try {
      const pop = blocked.call('BLPOP', k!, 10);
      const ping = blocked.call('PING'); // held behind the blocking command, answered after it
      await waitFor(async () => /blocked_clients:1/.test(String(await nb.call('INFO', 'clients'))), { what: 'BLPOP blocked on b' });
      await ok(nb, 'RPUSH', k!, 'item');
      expect(await pop).toEqual([k, 'item']);
      expect(await ping).toEqual({ value: 'PONG' });
    } finally {
      blocked.close();
    }
    await setTable([[slot, { kind: 'online', group: 2 }]]);
  }, 60_000);
});
