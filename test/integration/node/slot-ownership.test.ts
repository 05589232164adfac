// Node-enforced slot ownership (cluster mode, `slot-ownership yes`) with real processes: the
// redirects (MOVED / ASK / TRYAGAIN / CROSSSLOT, ASKING one-shot, MULTI/EXEC) compared side by side
// with two real redis-servers in cluster mode in the same situation, epoch fencing, persistence
// across a restart with writes refused until CONFIRM, replication to replicas and promotion, the
// INFO section, and a node without the directive behaving like plain Redis.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { SLOT_COUNT, slotOf } from '../../../common/slots.js';
import { plain } from '../../helpers/differential.js';
import { RawClient, callOnce, infoFields } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const CLUSTER = ['--slot-ownership', 'yes'];
const REPL_ARGS = ['--repl-ping-replica-period', '1', '--repl-diskless-sync-delay', '0'];
const addr = (h: ServerHandle) => `127.0.0.1:${h.port}`;

/** A reply in comparable form, with the slot and address of a redirect replaced by placeholders. */
function shape(r: Reply): unknown {
  const p = plain(r);
  if (p !== null && typeof p === 'object' && 'error' in p) {
    return { error: (p as { error: string }).error.replace(/^(MOVED|ASK) \d+ 127\.0\.0\.1:\d+$/, '$1 <slot> <addr>') };
  }
  return p;
}

/** The slots of the other side as SET groups: every slot but `except`, as `0-a,b-1023`. */
function allBut(...except: number[]): string {
  const sorted = [...new Set(except)].sort((a, b) => a - b);
  const parts: string[] = [];
  let start = 0;
  for (const e of sorted) {
    if (e > start) parts.push(`${start}-${e - 1}`);
    start = e + 1;
  }
  if (start < SLOT_COUNT) parts.push(`${start}-${SLOT_COUNT - 1}`);
  return parts.join(',');
}

/** A key whose Tessera slot is not in `avoid`. */
function keyNotIn(avoid: number[], prefix: string): string {
  for (let i = 0; ; i++) if (!avoid.includes(slotOf(`${prefix}${i}`))) return `${prefix}${i}`;
}

describe('redirect wording: Tessera cluster mode vs redis-server cluster mode', () => {
  // Redis: A owns 0-8191 and migrates the tag's slot to B, which imports it. Tessera: X owns
  // everything but the foreign key's slot (owned by Y) and migrates the tag's slot to Y.
  let a: ServerHandle;
  let b: ServerHandle;
  let x: ServerHandle;
  let y: ServerHandle;
  let tag = '';
  let foreignRedis = '';
  let foreignOurs = '';
  // Two keys served by the source, in different slots of it (a transaction across slots).
  let crossRedis: string[] = [];
  let crossOurs: string[] = [];

  beforeAll(async () => {
    const clusterArgs = ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'];
    [a, b, x, y] = await Promise.all([startRedis(clusterArgs), startRedis(clusterArgs), startNode(CLUSTER), startNode(CLUSTER)]);
    await callOnce(a.port, 'CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
    await callOnce(b.port, 'CLUSTER', 'ADDSLOTSRANGE', '8192', '16383');
    await callOnce(a.port, 'CLUSTER', 'MEET', '127.0.0.1', String(b.port));
    await waitFor(async () => String(await callOnce(a.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')
      && String(await callOnce(b.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'), { timeoutMs: 20_000, what: 'redis cluster ok' });
    // A tag in A's half and a key in B's half (Redis Cluster's CRC16 slots).
    for (let i = 0; !tag; i++) if (Number(await callOnce(a.port, 'CLUSTER', 'KEYSLOT', `t${i}`)) < 8192) tag = `t${i}`;
    for (let i = 0; !foreignRedis; i++) if (Number(await callOnce(a.port, 'CLUSTER', 'KEYSLOT', `f${i}`)) >= 8192) foreignRedis = `f${i}`;
    const redisSlot = String(await callOnce(a.port, 'CLUSTER', 'KEYSLOT', tag));
    // One key of the tag stays on the source, its sibling is "already moved".
    expect(plain(await callOnce(a.port, 'SET', `{${tag}}1`, 'here'))).toBe('+OK');
    const idA = String(await callOnce(a.port, 'CLUSTER', 'MYID'));
    const idB = String(await callOnce(b.port, 'CLUSTER', 'MYID'));
    expect(plain(await callOnce(b.port, 'CLUSTER', 'SETSLOT', redisSlot, 'IMPORTING', idA))).toBe('+OK');
    expect(plain(await callOnce(a.port, 'CLUSTER', 'SETSLOT', redisSlot, 'MIGRATING', idB))).toBe('+OK');

    const tagSlot = slotOf(`{${tag}}`);
    foreignOurs = keyNotIn([tagSlot], 'f');
    const foreignSlot = slotOf(foreignOurs);
    const seen = new Set<string>([redisSlot]);
    for (let i = 0; crossRedis.length < 2; i++) {
      const s = String(await callOnce(a.port, 'CLUSTER', 'KEYSLOT', `c${i}`));
      if (Number(s) < 8192 && !seen.has(s)) {
        seen.add(s);
        crossRedis.push(`c${i}`);
      }
    }
    crossOurs = [keyNotIn([tagSlot, foreignSlot], 'c')];
    crossOurs.push(keyNotIn([tagSlot, foreignSlot, slotOf(crossOurs[0]!)], 'c'));
    expect(plain(await callOnce(x.port, 'TESSERA.SLOTS', 'SET', '1', allBut(foreignSlot), 'OWNED', String(foreignSlot), 'NONE', 'OWNER', addr(y)))).toBe('+OK');
    expect(plain(await callOnce(x.port, 'SET', `{${tag}}1`, 'here'))).toBe('+OK');
    expect(plain(await callOnce(x.port, 'TESSERA.SLOTS', 'SET', '2', String(tagSlot), 'MIGRATING', addr(y)))).toBe('+OK');
    expect(plain(await callOnce(y.port, 'TESSERA.SLOTS', 'SET', '2', allBut(tagSlot, foreignSlot), 'NONE', 'OWNER', addr(x),
      String(tagSlot), 'IMPORTING', addr(x), String(foreignSlot), 'OWNED'))).toBe('+OK');
  }, 60_000);

  afterAll(async () => {
    await stopAll(a, b, x, y);
  });

  /** Runs the same script on a Redis and a Tessera connection and compares reply shapes. */
  async function sameScript(redisPort: number, oursPort: number, script: Array<Array<string>>): Promise<unknown[]> {
    const run = async (port: number, keys: Record<string, string>) => {
      const c = await RawClient.connect(port);
      try {
        const out: unknown[] = [];
        for (const cmd of script) out.push(shape(await c.call(...cmd.map((w) => keys[w] ?? w.replace('<tag>', tag)))));
        return out;
      } finally {
        c.close();
      }
    };
    const [redis, ours] = await Promise.all([
      run(redisPort, { '<foreign>': foreignRedis, '<c1>': crossRedis[0]!, '<c2>': crossRedis[1]! }),
      run(oursPort, { '<foreign>': foreignOurs, '<c1>': crossOurs[0]!, '<c2>': crossOurs[1]! }),
    ]);
    expect(ours).toEqual(redis);
    return ours;
  }

  it('source of a migrating slot: present keys run, absent ones ASK, a mix TRYAGAIN; foreign slots MOVED; CROSSSLOT', async () => {
    const replies = await sameScript(a.port, x.port, [
      ['GET', '{<tag>}1'],
      ['GET', '{<tag>}2'],
      ['SET', '{<tag>}2', 'v'],
      ['MGET', '{<tag>}1', '{<tag>}2'],
      ['EXISTS', '{<tag>}1'],
      ['GET', '<foreign>'],
      ['SET', '<foreign>', 'v'],
      ['MSET', 'a', '1', 'b', '2'],
      ['DEL', 'a', 'b'],
      ['PING'],
      ['DBSIZE'],
    ]);
    expect(replies).toEqual([
      'here',
      { error: 'ASK <slot> <addr>' },
      { error: 'ASK <slot> <addr>' },
      { error: 'TRYAGAIN Multiple keys request during rehashing of slot' },
      1,
      { error: 'MOVED <slot> <addr>' },
      { error: 'MOVED <slot> <addr>' },
      { error: "CROSSSLOT Keys in request don't hash to the same slot" },
      { error: "CROSSSLOT Keys in request don't hash to the same slot" },
      '+PONG',
      1,
    ]);
  });

  it('the redirects name the right slot and node', async () => {
    const tagSlot = slotOf(`{${tag}}`);
    expect(plain(await callOnce(x.port, 'GET', `{${tag}}2`))).toEqual({ error: `ASK ${tagSlot} ${addr(y)}` });
    expect(plain(await callOnce(x.port, 'GET', foreignOurs))).toEqual({ error: `MOVED ${slotOf(foreignOurs)} ${addr(y)}` });
    expect(plain(await callOnce(y.port, 'GET', `{${tag}}1`))).toEqual({ error: `MOVED ${tagSlot} ${addr(x)}` });
  });

  it('target of an importing slot: only right after ASKING (one-shot), multi-key with missing keys TRYAGAIN', async () => {
    const replies = await sameScript(b.port, y.port, [
      ['GET', '{<tag>}1'],
      ['ASKING'],
      ['GET', '{<tag>}1'],
      ['GET', '{<tag>}1'],
      ['ASKING'],
      ['SET', '{<tag>}3', 'new'],
      ['ASKING'],
      ['PING'],
      ['GET', '{<tag>}3'],
      ['ASKING'],
      ['GET', '{<tag>}3'],
      ['ASKING'],
      ['MGET', '{<tag>}3', '{<tag>}9'],
      ['ASKING'],
      ['DEL', '{<tag>}3'],
    ]);
    expect(replies).toEqual([
      { error: 'MOVED <slot> <addr>' },
      '+OK', null,
      { error: 'MOVED <slot> <addr>' },
      '+OK', '+OK',
      '+OK', '+PONG', { error: 'MOVED <slot> <addr>' },
      '+OK', 'new',
      '+OK', { error: 'TRYAGAIN Multiple keys request during rehashing of slot' },
      '+OK', 1,
    ]);
  });

  it('MULTI/EXEC: a redirect at queue time dooms the transaction (EXECABORT); ASKING lasts through the transaction', async () => {
    const onSource = await sameScript(a.port, x.port, [
      ['MULTI'],
      ['GET', '{<tag>}1'],
      ['GET', '<foreign>'],
      ['EXEC'],
      ['MULTI'],
      ['SET', '{<tag>}2', 'v'],
      ['EXEC'],
      ['MULTI'],
      ['GET', '<c1>'],
      ['GET', '<c2>'],
      ['EXEC'],
      ['GET', '<c1>'],
    ]);
    expect(onSource).toEqual([
      '+OK', '+QUEUED', { error: 'MOVED <slot> <addr>' }, { error: 'EXECABORT Transaction discarded because of previous errors.' },
      '+OK', { error: 'ASK <slot> <addr>' }, { error: 'EXECABORT Transaction discarded because of previous errors.' },
      // Queued commands of different slots: EXEC itself is refused and the transaction discarded.
      '+OK', '+QUEUED', '+QUEUED', { error: "CROSSSLOT Keys in request don't hash to the same slot" }, null,
    ]);
    const replies = await sameScript(b.port, y.port, [
      ['ASKING'],
      ['MULTI'],
      ['SET', '{<tag>}4', 'in-tx'],
      ['GET', '{<tag>}4'],
      ['EXEC'],
      ['GET', '{<tag>}4'],
      ['ASKING'],
      ['DEL', '{<tag>}4'],
      ['ASKING'],
      ['MULTI'],
      ['RESET'],
      ['GET', '{<tag>}4'],
    ]);
    expect(replies).toEqual([
      '+OK', '+OK', '+QUEUED', '+QUEUED', ['+OK', 'in-tx'], { error: 'MOVED <slot> <addr>' }, '+OK', 1,
      '+OK', '+OK', '+RESET', { error: 'MOVED <slot> <addr>' },
    ]);
  });
});

describe('epochs, INFO, and a node without the directive', () => {
  let n: ServerHandle;
  let plainNode: ServerHandle;
  let plainRedis: ServerHandle;

  beforeAll(async () => {
    [n, plainNode, plainRedis] = await Promise.all([startNode(CLUSTER), startNode(), startRedis()]);
  });

  afterAll(async () => {
    await stopAll(n, plainNode, plainRedis);
  });

  it('a fresh cluster-mode node owns nothing: keyed commands CLUSTERDOWN, keyless ones run', async () => {
    expect(plain(await callOnce(n.port, 'GET', 'k'))).toEqual({ error: 'CLUSTERDOWN Hash slot not served' });
    expect(plain(await callOnce(n.port, 'PING'))).toBe('+PONG');
    expect(plain(await callOnce(n.port, 'DBSIZE'))).toBe(0);
    expect(await infoFields(n.port, 'slots')).toEqual({
      slot_ownership: 'yes', config_epoch: '0', slots_owned: '0', slots_migrating: '0', slots_importing: '0', ownership_confirmed: '1',
    });
  });

  it('an older epoch is refused, the same one only when it changes nothing, a newer one applies', async () => {
    const k = 'epoch-key';
    const s = String(slotOf(k));
    expect(plain(await callOnce(n.port, 'TESSERA.SLOTS', 'SET', '10', '0-1023', 'OWNED'))).toBe('+OK');
    expect(plain(await callOnce(n.port, 'SET', k, 'v'))).toBe('+OK');
    expect(plain(await callOnce(n.port, 'TESSERA.SLOTS', 'SET', '9', s, 'NONE', 'OWNER', '127.0.0.1:1'))).toEqual({
      error: "STALEEPOCH configuration epoch 9 is older than this node's 10",
    });
    expect(plain(await callOnce(n.port, 'TESSERA.SLOTS', 'SET', '10', '0-1023', 'OWNED'))).toBe('+OK');
    expect(plain(await callOnce(n.port, 'TESSERA.SLOTS', 'SET', '10', s, 'NONE'))).toEqual({
      error: 'STALEEPOCH configuration epoch 10 is already in force with a different slot state: use a newer epoch',
    });
    expect(plain(await callOnce(n.port, 'GET', k))).toBe('v');
    expect(plain(await callOnce(n.port, 'TESSERA.SLOTS', 'SET', '11', s, 'MIGRATING', '127.0.0.1:2', '0', 'IMPORTING', '127.0.0.1:3'))).toBe('+OK');
    expect(plain(await callOnce(n.port, 'TESSERA.SLOTS', 'CONFIRM', '10'))).toEqual({ error: "STALEEPOCH configuration epoch 10 is older than this node's 11" });
    expect(await infoFields(n.port, 'slots')).toMatchObject({ config_epoch: '11', slots_owned: '1023', slots_migrating: '1', slots_importing: '1' });
    const got = plain(await callOnce(n.port, 'TESSERA.SLOTS', 'GET')) as unknown[];
    expect(got.slice(0, 5)).toEqual(['epoch', 11, 'confirmed', 1, 'slots']);
    expect((got[5] as unknown[])).toContainEqual([0, 0, 'importing', '127.0.0.1:3']);
    expect((got[5] as unknown[])).toContainEqual([Number(s), Number(s), 'migrating', '127.0.0.1:2']);
    expect(plain(await callOnce(n.port, 'TESSERA.SLOTS', 'SET', '12', 'x', 'OWNED'))).toEqual({
      error: "ERR invalid slot range 'x': expected slots 0-1023 as a-b,c,...",
    });
  });

  it('a client blocked on a slot the node stops serving is unblocked with -MOVED; one on a migrating slot keeps waiting', async () => {
    const moving = 'blocked-list';
    const staying = keyNotIn([slotOf(moving)], 'blocked-stay');
    const b1 = await RawClient.connect(n.port);
    const b2 = await RawClient.connect(n.port);
    try {
      expect(plain(await callOnce(n.port, 'TESSERA.SLOTS', 'SET', '20', '0-1023', 'OWNED'))).toBe('+OK');
      const first = b1.nextReply(10_000);
      b1.write(`BLPOP ${moving} 0\r\n`);
      const second = b2.nextReply(10_000);
      b2.write(`BLPOP ${staying} 0\r\n`);
      await waitFor(async () => (await infoFields(n.port, 'clients')).blocked_clients === '2', { what: 'two blocked clients' });
      expect(plain(await callOnce(n.port, 'TESSERA.SLOTS', 'SET', '21', String(slotOf(moving)), 'NONE', 'OWNER', '127.0.0.1:5',
        String(slotOf(staying)), 'MIGRATING', '127.0.0.1:5'))).toBe('+OK');
      expect(plain(await first)).toEqual({ error: `MOVED ${slotOf(moving)} 127.0.0.1:5` });
      expect((await infoFields(n.port, 'clients')).blocked_clients).toBe('1');
      // A push into the migrating slot would be asked to the target (the list is absent here).
      expect(plain(await callOnce(n.port, 'RPUSH', staying, 'x'))).toEqual({ error: `ASK ${slotOf(staying)} 127.0.0.1:5` });
      expect(plain(await callOnce(n.port, 'TESSERA.SLOTS', 'SET', '22', String(slotOf(staying)), 'OWNED'))).toBe('+OK');
      expect(await callOnce(n.port, 'RPUSH', staying, 'x')).toBe(1);
      expect(plain(await second)).toEqual([staying, 'x']);
    } finally {
      b1.close();
      b2.close();
    }
  });

  it('snapshots carry the tessera-slots AUX field; redis-check-rdb and redis-server accept the file', async () => {
    expect(plain(await callOnce(n.port, 'TESSERA.SLOTS', 'SET', '30', '0-1023', 'OWNED'))).toBe('+OK');
    expect(plain(await callOnce(n.port, 'SET', 'snap-key', 'v'))).toBe('+OK');
    expect(plain(await callOnce(n.port, 'SAVE'))).toBe('+OK');
    const check = execFileSync('redis-check-rdb', [join(n.dir, 'dump.rdb')], { encoding: 'utf8' });
    expect(check).toContain("AUX FIELD tessera-slots = '{\"version\":1,\"epoch\":30,");
    expect(check).toContain('Checksum OK');
    const redis = await startRedis(['--dbfilename', 'dump.rdb'], { dir: n.dir });
    try {
      expect(await callOnce(redis.port, 'GET', 'snap-key')).toBe('v');
    } finally {
      await redis.stop();
    }
  });

  it('without slot-ownership: every key is served, INFO has no Slots section, ASKING refuses like plain Redis', async () => {
    expect(plain(await callOnce(plainNode.port, 'MSET', 'a', '1', 'b', '2'))).toBe('+OK');
    expect(plain(await callOnce(plainNode.port, 'MGET', 'a', 'b'))).toEqual(['1', '2']);
    const info = String(await callOnce(plainNode.port, 'INFO', 'everything'));
    expect(info).not.toContain('# Slots');
    expect(info).toContain('# Keyspace');
    const [ours, redis] = await Promise.all([callOnce(plainNode.port, 'ASKING'), callOnce(plainRedis.port, 'ASKING')]);
    expect(plain(ours)).toEqual(plain(redis));
    expect(plain(await callOnce(plainNode.port, 'TESSERA.SLOTS', 'GET'))).toEqual({
      error: 'ERR slot ownership is disabled on this node: start it with slot-ownership yes',
    });
  });
});

describe('persistence across a restart: writes refused until CONFIRM', () => {
  let n: ServerHandle | undefined;

  afterAll(async () => {
    await stopAll(n);
  });

  it('keeps its slots and epoch, serves reads, refuses writes until the coordinator confirms or sets a newer epoch', async () => {
    // The AOF keeps the data (and replays the TESSERA.SLOTS commands, which must not lift the fence).
    const args = [...CLUSTER, '--appendonly', 'yes', '--appendfsync', 'always'];
    n = await startNode(args);
    const { port, dir } = n;
    const mine = 'restart-key';
    const theirs = keyNotIn([slotOf(mine)], 'other');
    expect(plain(await callOnce(port, 'TESSERA.SLOTS', 'SET', '3', allBut(slotOf(theirs)), 'OWNED', String(slotOf(theirs)), 'NONE', 'OWNER', '127.0.0.1:9'))).toBe('+OK');
    expect(plain(await callOnce(port, 'TESSERA.SLOTS', 'CONFIRM', '3'))).toBe('+OK');
    expect(plain(await callOnce(port, 'SET', mine, 'before'))).toBe('+OK');
    await n.stop();

    n = await startNode(args, { port, dir });
    expect(await infoFields(port, 'slots')).toMatchObject({ config_epoch: '3', slots_owned: '1023', ownership_confirmed: '0' });
    expect(plain(await callOnce(port, 'GET', mine))).toBe('before');
    expect(plain(await callOnce(port, 'SET', mine, 'during'))).toEqual({ error: 'TRYAGAIN slot ownership not confirmed since restart' });
    expect(plain(await callOnce(port, 'FLUSHALL'))).toEqual({ error: 'TRYAGAIN slot ownership not confirmed since restart' });
    expect(plain(await callOnce(port, 'GET', theirs))).toEqual({ error: `MOVED ${slotOf(theirs)} 127.0.0.1:9` });
    const c = await RawClient.connect(port);
    try {
      expect(plain(await c.call('MULTI'))).toBe('+OK');
      expect(plain(await c.call('INCR', 'restart-key-2'))).toEqual({ error: 'TRYAGAIN slot ownership not confirmed since restart' });
      expect(plain(await c.call('EXEC'))).toEqual({ error: 'EXECABORT Transaction discarded because of previous errors.' });
    } finally {
      c.close();
    }
    expect(plain(await callOnce(port, 'TESSERA.SLOTS', 'CONFIRM', '2'))).toEqual({ error: "STALEEPOCH configuration epoch 2 is older than this node's 3" });
    expect(plain(await callOnce(port, 'TESSERA.SLOTS', 'CONFIRM', '3'))).toBe('+OK');
    expect(plain(await callOnce(port, 'SET', mine, 'after'))).toBe('+OK');
    expect(await infoFields(port, 'slots')).toMatchObject({ ownership_confirmed: '1' });
    await n.stop();

    // Again: this time a newer state from the coordinator lifts the fence.
    n = await startNode(args, { port, dir });
    expect(plain(await callOnce(port, 'GET', mine))).toBe('after');
    expect(plain(await callOnce(port, 'SET', mine, 'x'))).toEqual({ error: 'TRYAGAIN slot ownership not confirmed since restart' });
    expect(plain(await callOnce(port, 'TESSERA.SLOTS', 'SET', '4', String(slotOf(theirs)), 'OWNED'))).toBe('+OK');
    expect(plain(await callOnce(port, 'SET', theirs, 'now-mine'))).toBe('+OK');
    expect(await infoFields(port, 'slots')).toMatchObject({ config_epoch: '4', slots_owned: '1024', ownership_confirmed: '1' });
    await n.stop();

    // The ownership file lost: the AOF's history restores the state, still fenced until confirmed.
    rmSync(join(dir, 'slots.json'));
    n = await startNode(args, { port, dir });
    expect(await infoFields(port, 'slots')).toMatchObject({ config_epoch: '4', slots_owned: '1024', ownership_confirmed: '0' });
    expect(plain(await callOnce(port, 'SET', mine, 'y'))).toEqual({ error: 'TRYAGAIN slot ownership not confirmed since restart' });
    expect(existsSync(join(dir, 'slots.json'))).toBe(true);
  }, 60_000);
});

describe('replication: replicas mirror ownership, a promoted replica owns what its master owned', () => {
  let m: ServerHandle;
  let r1: ServerHandle;
  let r2: ServerHandle | undefined;
  let r3: ServerHandle | undefined;

  beforeAll(async () => {
    m = await startNode([...CLUSTER, ...REPL_ARGS]);
    r1 = await startNode([...CLUSTER, ...REPL_ARGS, '--replicaof', '127.0.0.1', String(m.port)]);
    await waitFor(async () => (await infoFields(r1.port, 'replication')).master_link_status === 'up', { what: 'r1 link up' });
  });

  afterAll(async () => {
    await stopAll(m, r1, r2, r3);
  });

  it('through the stream (r1, already attached) and the full-resync image (r2, attached later); promotion keeps it', async () => {
    const mine = 'repl-key';
    const theirs = keyNotIn([slotOf(mine)], 'repl-other');
    expect(plain(await callOnce(m.port, 'TESSERA.SLOTS', 'SET', '5', allBut(slotOf(theirs)), 'OWNED', String(slotOf(theirs)), 'NONE', 'OWNER', '127.0.0.1:9'))).toBe('+OK');
    expect(plain(await callOnce(m.port, 'SET', mine, 'v'))).toBe('+OK');
    await waitFor(async () => (await infoFields(r1.port, 'slots')).config_epoch === '5', { what: 'r1 at epoch 5' });
    r2 = await startNode([...CLUSTER, ...REPL_ARGS, '--replicaof', '127.0.0.1', String(m.port)]);
    await waitFor(async () => (await infoFields(r2!.port, 'slots')).config_epoch === '5', { what: 'r2 at epoch 5 after its full resync' });
    // The disk-based full resync builds its image elsewhere (rdb-sync.ts): it carries the state too.
    expect(plain(await callOnce(m.port, 'CONFIG', 'SET', 'repl-diskless-sync', 'no'))).toBe('+OK');
    r3 = await startNode([...CLUSTER, ...REPL_ARGS, '--replicaof', '127.0.0.1', String(m.port)]);
    await waitFor(async () => (await infoFields(r3!.port, 'slots')).config_epoch === '5', { what: 'r3 at epoch 5 after a disk-based resync' });
    for (const r of [r1, r2, r3]) {
      expect(await infoFields(r.port, 'slots')).toMatchObject({ slots_owned: '1023', ownership_confirmed: '1' });
      await waitFor(async () => (await callOnce(r.port, 'GET', mine)) === 'v', { what: 'replica has the key' });
      // Replicas answer reads the same way as their master.
      expect(plain(await callOnce(r.port, 'GET', theirs))).toEqual({ error: `MOVED ${slotOf(theirs)} 127.0.0.1:9` });
      expect(plain(await callOnce(r.port, 'SET', mine, 'w'))).toEqual({ error: "READONLY You can't write against a read only replica." });
    }
    // A later change reaches both through the stream.
    expect(plain(await callOnce(m.port, 'TESSERA.SLOTS', 'SET', '6', String(slotOf(mine)), 'MIGRATING', '127.0.0.1:8'))).toBe('+OK');
    for (const r of [r1, r2]) await waitFor(async () => (await infoFields(r.port, 'slots')).slots_migrating === '1', { what: 'replica sees the migration' });

    expect(plain(await callOnce(r2.port, 'REPLICAOF', 'NO', 'ONE'))).toBe('+OK');
    expect(await infoFields(r2.port, 'slots')).toMatchObject({ config_epoch: '6', slots_owned: '1023', slots_migrating: '1', ownership_confirmed: '1' });
    expect(plain(await callOnce(r2.port, 'SET', mine, 'promoted'))).toBe('+OK');
    expect(plain(await callOnce(r2.port, 'GET', theirs))).toEqual({ error: `MOVED ${slotOf(theirs)} 127.0.0.1:9` });
    expect(plain(await callOnce(r2.port, 'GET', `{${mine}}absent`))).toEqual({ error: `ASK ${slotOf(mine)} 127.0.0.1:8` });
    // Its own epoch rules hold: the old master's older epoch cannot undo what it was told.
    expect(plain(await callOnce(r2.port, 'TESSERA.SLOTS', 'SET', '5', '0-1023', 'OWNED'))).toEqual({ error: "STALEEPOCH configuration epoch 5 is older than this node's 6" });
  }, 60_000);
});
