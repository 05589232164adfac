// Streams in Redis 7.0's RDB layout (STREAM_LISTPACKS_2): DUMP payloads and RDB files written by
// our node load in redis-server and the other way round; a replica full-syncs a stream; the mover
// carries one with its slot; consumer groups travel in all of them. `ref` is a redis-server fed the same commands, so its DUMP bytes and
// XINFO STREAM are what ours must reproduce.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { slotOf } from '../../../common/slots.js';
import { plain } from '../../helpers/differential.js';
import { migrateAll } from '../../helpers/mover.js';
import { RawClient } from '../../helpers/raw-client.js';
import { startNode, startRedis, stopAll, type ServerHandle } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Streams covering the layout's cases; explicit ids so both servers hold the same thing. */
const BUILD: string[][] = [
  ['XADD', 'simple', '1-1', 'f', 'v', 'n', '42'],
  ['XADD', 'simple', '1-2', 'f', 'w', 'n', '-7'],
  ['XADD', 'simple', '5-0', 'f', 'x'.repeat(100), 'n', '12345678901'],
  // Different field sets (not SAMEFIELDS), integer-looking and binary values.
  ['XADD', 'mixed', '10-0', 'a', '1'],
  ['XADD', 'mixed', '10-1', 'b', '2', 'c', '3'],
  ['XADD', 'mixed', '11-5', 'a', '\x00\xff\r\n'],
  ['XADD', 'mixed', '12-0', 'a', '-9223372036854775808', 'z', 'y'.repeat(70)],
  // Deletes: the first of a node (stays as a tombstone), a whole middle node (goes), the last.
  ...range(250).map((i) => ['XADD', 'del', `${1000 + i}-${i % 3}`, 'k', String(i)]),
  ['XDEL', 'del', '1000-0', '1051-0', '1249-0'],
  ['XDEL', 'del', ...range(100).map((i) => `${1100 + i}-${(100 + i) % 3}`)],
  // Trims: exact MAXLEN marks entries deleted inside a node, ~ MINID drops whole nodes.
  ...range(300).map((i) => ['XADD', 'trim', `${i + 1}-0`, 'f', `v${i}`]),
  ['XTRIM', 'trim', 'MAXLEN', '150'],
  ['XTRIM', 'trim', 'MINID', '~', '290'],
  // Big: ten nodes, ids past 2^32 and near 2^64 (64-bit RDB lengths).
  ...range(1000).map((i) => ['XADD', 'big', `${18446744073709550000n + BigInt(i)}-${4294967296 + i}`, 'field', `value-${i}`]),
  // Empty stream with counters set.
  ['XADD', 'empty', '7-7', 'f', 'v'],
  ['XDEL', 'empty', '7-7'],
  ['XSETID', 'empty', '9-9', 'ENTRIESADDED', '5', 'MAXDELETEDID', '8-0'],
];
const KEYS = ['simple', 'mixed', 'del', 'trim', 'big', 'empty'];

/** XINFO STREAM fields (from redis-server, which has XINFO) as a flat map without the entries. */
async function xinfo(c: RawClient, key: string): Promise<Record<string, unknown>> {
  const r = plain(await c.call('XINFO', 'STREAM', key)) as unknown[];
  const out: Record<string, unknown> = {};
  for (let i = 0; i < r.length; i += 2) out[String(r[i])] = r[i + 1];
  return out;
}

/** A DUMP reply's bytes (the decoder hands bulk strings over as latin1 text). */
function payload(r: Reply): string {
  if (typeof r !== 'string') throw new Error(`DUMP answered ${JSON.stringify(plain(r))}`);
  return r;
}

async function contents(c: RawClient, key: string): Promise<unknown> {
  return [plain(await c.call('XLEN', key)), plain(await c.call('XRANGE', key, '-', '+'))];
}

describe('stream RDB and DUMP/RESTORE interoperate with redis-server', () => {
  const handles: ServerHandle[] = [];
  const dirs: string[] = [];
  const clients: RawClient[] = [];
  let ours: RawClient;
  let ref: RawClient;
  let node: ServerHandle;
  let refServer: ServerHandle;

  const track = async (p: Promise<ServerHandle>) => {
    const h = await p;
    handles.push(h);
    return h;
  };
  const client = async (h: ServerHandle) => {
    const c = await RawClient.connect(h.port);
    clients.push(c);
    return c;
  };
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'stream-rdb-'));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    [node, refServer] = await Promise.all([track(startNode()), track(startRedis())]);
    [ours, ref] = await Promise.all([client(node), client(refServer)]);
    for (const cmd of BUILD) {
      const [a, b] = await Promise.all([ours.call(...cmd), ref.call(...cmd)]);
      expect(plain(a), cmd.join(' ')).toEqual(plain(b));
    }
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await stopAll(...handles);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('DUMP bytes equal redis-server\'s; RESTORE works both ways with identical contents and XINFO', async () => {
    for (const key of KEYS) {
      const [mine, theirs] = (await Promise.all([ours.call('DUMP', key), ref.call('DUMP', key)])).map(payload);
      expect(mine, key).toEqual(theirs);
      expect(plain(await ours.call('RESTORE', `from-ref:${key}`, '0', theirs))).toBe('+OK');
      expect(plain(await ref.call('RESTORE', `from-ours:${key}`, '0', mine))).toBe('+OK');
      expect(await contents(ours, `from-ref:${key}`), key).toEqual(await contents(ref, key));
      expect(await ours.call('DUMP', `from-ref:${key}`), key).toEqual(theirs);
      expect(await xinfo(ref, `from-ours:${key}`), key).toEqual(await xinfo(ref, key));
    }
    expect((await xinfo(ref, 'big'))['radix-tree-keys']).toBe(10);
    expect((await xinfo(ref, 'empty'))['entries-added']).toBe(5);
  });

  it('entries past Redis\'s 4096-byte node cut: our (differently laid out) payload loads in redis-server', async () => {
    for (let i = 1; i <= 5; i++) await ours.call('XADD', 'large', `${i}-0`, 'f', `${i}`.repeat(3000));
    expect(plain(await ref.call('RESTORE', 'large', '0', payload(await ours.call('DUMP', 'large'))))).toBe('+OK');
    expect(await contents(ref, 'large')).toEqual(await contents(ours, 'large'));
    expect(plain(await ref.call('XADD', 'large', '6-0', 'f', 'v'))).toBe('6-0');
    expect((await xinfo(ref, 'large'))['length']).toBe(6);
    await Promise.all([ours.call('DEL', 'large'), ref.call('DEL', 'large')]);
  });

  it('consumer groups: DUMP/RESTORE both ways, and each side loads the other\'s SAVE, groups intact', async () => {
    const build = [
      ['XADD', 'grouped', '1-1', 'f', 'v'], ['XADD', 'grouped', '2-1', 'f', 'w'], ['XADD', 'grouped', '3-1', 'f', 'x'],
      ['XGROUP', 'CREATE', 'grouped', 'g', '0'], ['XGROUP', 'CREATE', 'grouped', 'unread', '$', 'ENTRIESREAD', '3'],
      ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 'grouped', '>'], ['XGROUP', 'CREATECONSUMER', 'grouped', 'g', 'bob'],
      ['XDEL', 'grouped', '3-1'], ['XGROUP', 'SETID', 'grouped', 'g', '3-1'],
    ];
    for (const cmd of build) await Promise.all([ours.call(...cmd), ref.call(...cmd)]);
    const full = async (c: RawClient, key: string) => plain(await c.call('XINFO', 'STREAM', key, 'FULL'));
    const theirs = payload(await ref.call('DUMP', 'grouped'));
    expect(plain(await ours.call('RESTORE', 'grouped-ref', '0', theirs))).toBe('+OK');
    expect(await full(ours, 'grouped-ref')).toEqual(await full(ref, 'grouped'));
    expect(await ours.call('DUMP', 'grouped-ref')).toEqual(theirs);
    expect(plain(await ref.call('RESTORE', 'grouped-ours', '0', payload(await ours.call('DUMP', 'grouped'))))).toBe('+OK');
    expect(await full(ref, 'grouped-ours')).toEqual(await full(ours, 'grouped'));
    // RDB files: ours loads redis-server's, redis-server loads ours.
    expect(plain(await ref.call('SAVE'))).toBe('+OK');
    const d1 = tempDir();
    copyFileSync(join(refServer.dir, 'dump.rdb'), join(d1, 'dump.rdb'));
    const ourLoad = await client(await track(startNode([], { dir: d1 })));
    expect(await full(ourLoad, 'grouped')).toEqual(await full(ref, 'grouped'));
    expect(plain(await ours.call('SAVE'))).toBe('+OK');
    const d2 = tempDir();
    copyFileSync(join(node.dir, 'dump.rdb'), join(d2, 'dump.rdb'));
    const refLoad = await client(await track(startRedis([], { dir: d2 })));
    expect(await full(refLoad, 'grouped')).toEqual(await full(ours, 'grouped'));
    await Promise.all([ours.call('DEL', 'grouped', 'grouped-ref'), ref.call('DEL', 'grouped', 'grouped-ours')]);
  });

  it('RDB files: redis-server loads our SAVE, our node loads redis-server\'s SAVE', async () => {
    expect(plain(await ours.call('SAVE'))).toBe('+OK');
    const d1 = tempDir();
    copyFileSync(join(node.dir, 'dump.rdb'), join(d1, 'dump.rdb'));
    const loadedByRedis = await track(startRedis([], { dir: d1 }));
    const r = await client(loadedByRedis);
    for (const key of KEYS) {
      expect(await contents(r, key), key).toEqual(await contents(ref, key));
      expect(await xinfo(r, key), key).toEqual(await xinfo(ref, key));
    }

    expect(plain(await ref.call('SAVE'))).toBe('+OK');
    const d2 = tempDir();
    copyFileSync(join(refServer.dir, 'dump.rdb'), join(d2, 'dump.rdb'));
    const loadedByUs = await track(startNode([], { dir: d2 }));
    expect(loadedByUs.output()).toContain('Loading RDB produced by version 7.0.15');
    const o = await client(loadedByUs);
    for (const key of KEYS) {
      expect(await contents(o, key), key).toEqual(await contents(ref, key));
      expect(await o.call('DUMP', key), key).toEqual(await ref.call('DUMP', key));
    }
  });

  it('replicas of our master full-sync the streams: our node (diskless and from a disk RDB) and redis-server', async () => {
    expect(plain(await ours.call('CONFIG', 'SET', 'repl-diskless-sync-delay', '0'))).toBe('+OK');
    const variants = [['yes', startNode], ['no', startNode], ['yes', startRedis]] as const;
    for (const [diskless, start] of variants) {
      expect(plain(await ours.call('CONFIG', 'SET', 'repl-diskless-sync', diskless))).toBe('+OK');
      const replica = await track(start());
      const c = await client(replica);
      expect(plain(await c.call('REPLICAOF', '127.0.0.1', String(node.port)))).toBe('+OK');
      await waitFor(async () => (await c.call('XLEN', 'big')) === 1000, { what: `a replica (diskless ${diskless}) to hold the big stream` });
      for (const key of KEYS) expect(await c.call('DUMP', key), `${key}, diskless ${diskless}`).toEqual(await ours.call('DUMP', key));
    }
  });

  it('the mover moves a stream with its slot, consumer groups included (identical DUMP on the target)', async () => {
    const CLUSTER = ['--slot-ownership', 'yes'];
    const [source, target] = await Promise.all([track(startNode(CLUSTER)), track(startNode(CLUSTER))]);
    const [src, dst] = await Promise.all([client(source), client(target)]);
    const addr = (h: ServerHandle) => `127.0.0.1:${h.port}`;
    expect(plain(await src.call('TESSERA.SLOTS', 'SET', 1, '0-1023', 'OWNED'))).toBe('+OK');
    expect(plain(await dst.call('TESSERA.SLOTS', 'SET', 1, '0-1023', 'NONE', 'OWNER', addr(source)))).toBe('+OK');
    const key = '{st}moved';
    const slot = slotOf(key);
    await src.call('RESTORE', key, '0', payload(await ours.call('DUMP', 'del')));
    await src.call('XGROUP', 'CREATE', key, 'g', '0');
    await src.call('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '3', 'STREAMS', key, '>');
    const dump: Reply = await src.call('DUMP', key);
    expect(plain(await src.call('TESSERA.SLOTS', 'SET', 2, String(slot), 'MIGRATING', addr(target)))).toBe('+OK');
    expect(plain(await dst.call('TESSERA.SLOTS', 'SET', 2, String(slot), 'IMPORTING', addr(source)))).toBe('+OK');
    await migrateAll(src, slot, addr(target));
    await dst.call('ASKING');
    expect(await dst.call('DUMP', key)).toEqual(dump);
    await dst.call('ASKING');
    expect(plain(await dst.call('XRANGE', key, '-', '+'))).toEqual(plain(await ours.call('XRANGE', 'del', '-', '+')));
    await dst.call('ASKING');
    expect((plain(await dst.call('XPENDING', key, 'g')) as unknown[])[0]).toBe(3);
    expect(await src.call('SLOTSINFO', slot, 1)).toEqual([]);
  });
});
