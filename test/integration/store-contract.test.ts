// One contract for every CoordStore backend, run against a real etcd and the local file store.
// Holder-death cases use a real child process that is SIGKILLed.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareRevisions, type CoordStore, type StoreWatch, type WatchEvent } from '../../common/store/coord-store.js';
import { openStore } from '../../common/store/open-store.js';
import { startEtcd, type EtcdHandle } from '../helpers/etcd.js';

interface Backend {
  name: string;
  setup(): Promise<string>;
  teardown(): Promise<void>;
}

let etcd: EtcdHandle | null = null;
let fileDir: string | null = null;
const backends: Backend[] = [
  {
    name: 'etcd',
    setup: async () => (etcd = await startEtcd()).url,
    teardown: async () => etcd?.stop(),
  },
  {
    name: 'file',
    setup: async () => {
      fileDir = await mkdtemp(join(tmpdir(), 'tessera-filestore-'));
      return pathToFileURL(fileDir).href;
    },
    teardown: async () => {
      if (fileDir) await rm(fileDir, { recursive: true, force: true });
    },
  },
];

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** The first n events of a watch, or a timeout error. */
async function take(watch: StoreWatch, n: number, timeoutMs = 5000): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  const it = watch[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (events.length < n) {
    const left = deadline - Date.now();
    const next = await Promise.race([it.next(), sleep(Math.max(left, 0)).then(() => null)]);
    if (next === null) throw new Error(`got ${events.length} of ${n} events within ${timeoutMs} ms`);
    if (next.done) throw new Error(`watch ended after ${events.length} of ${n} events`);
    events.push(next.value);
  }
  return events;
}

const OPEN_STORE_URL = pathToFileURL(resolve('common/store/open-store.ts')).href;
// Runs in the child: take a lease-bound key or campaign, say "ready", then live until killed.
const CHILD_SCRIPT = `
const { openStore } = await import(process.env.OPEN_STORE);
const store = await openStore(process.env.STORE_URL);
if (process.env.MODE === 'lease') await store.putEphemeral(process.env.KEY, 'child', 1);
else await store.campaign(process.env.KEY, 'child', 1);
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`;

/** Starts a child that holds `key` (lease) or leads `key` (campaign); resolves once it is ready. */
async function startHolder(url: string, mode: 'lease' | 'campaign', key: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD_SCRIPT], {
    env: { ...process.env, OPEN_STORE: OPEN_STORE_URL, STORE_URL: url, MODE: mode, KEY: key },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  try {
    await waitFor(`child ${mode} ready`, async () => output.includes('ready') || child.exitCode !== null);
    if (child.exitCode !== null) throw new Error(`child exited ${child.exitCode}: ${output}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return child;
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}

describe.each(backends)('CoordStore contract: $name', (backend) => {
  let url = '';
  let store: CoordStore;
  const opened: CoordStore[] = [];
  let testNo = 0;
  const freshPrefix = () => `/contract/${backend.name}/${++testNo}/`;
  const open = async () => {
    const s = await openStore(url);
    opened.push(s);
    return s;
  };

  beforeAll(async () => {
    url = await backend.setup();
    store = await open();
  });

  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    await backend.teardown();
  });

  it('gets, puts, lists sorted by key and deletes', async () => {
    const p = freshPrefix();
    expect(await store.get(`${p}a`)).toBeNull();
    const r1 = await store.put(`${p}b`, 'one');
    const r2 = await store.put(`${p}a`, 'two');
    const r3 = await store.put(`${p}b`, 'three');
    expect(compareRevisions(r1, r2)).toBe(-1);
    expect(compareRevisions(r2, r3)).toBe(-1);
    await store.put(`${p.slice(0, -1)}-other/x`, 'not under the prefix');

    expect(await store.get(`${p}b`)).toEqual({ key: `${p}b`, value: 'three', revision: r3, createRevision: r1 });
    const listed = await store.list(p);
    expect(listed.map((e) => [e.key, e.value])).toEqual([[`${p}a`, 'two'], [`${p}b`, 'three']]);
    const snap = await store.snapshot(p);
    expect(snap.entries).toEqual(listed);
    expect(compareRevisions(snap.revision, r3)).toBeGreaterThanOrEqual(0);

    expect(await store.delete(`${p}a`)).toBe(true);
    expect(await store.delete(`${p}a`)).toBe(false);
    expect(await store.get(`${p}a`)).toBeNull();
    expect((await store.list(p)).map((e) => e.key)).toEqual([`${p}b`]);
  });

  it('compare-and-swap succeeds only on the expected revision', async () => {
    const key = `${freshPrefix()}k`;
    const created = await store.compareAndSwap(key, null, 'v1');
    expect(created.ok).toBe(true);
    const again = await store.compareAndSwap(key, null, 'other');
    expect(again).toMatchObject({ ok: false, current: { key, value: 'v1' } });

    const rev1 = created.ok ? created.revision : '';
    const updated = await store.compareAndSwap(key, rev1, 'v2');
    expect(updated.ok).toBe(true);
    const stale = await store.compareAndSwap(key, rev1, 'v3');
    expect(stale).toMatchObject({ ok: false, current: { value: 'v2', revision: updated.ok ? updated.revision : '' } });
    expect((await store.get(key))?.value).toBe('v2');

    await store.delete(key);
    expect(await store.compareAndSwap(key, rev1, 'v4')).toEqual({ ok: false, current: null });
  });

  it('applies a txn all-or-nothing under its compares', async () => {
    const p = freshPrefix();
    const revA = await store.put(`${p}a`, '1');
    await store.put(`${p}c`, 'to delete');
    const ops = [
      { op: 'put' as const, key: `${p}a`, value: '2' },
      { op: 'put' as const, key: `${p}b`, value: 'new' },
      { op: 'delete' as const, key: `${p}c` },
    ];

    const failed = await store.txn([{ key: `${p}a`, revision: revA }, { key: `${p}b`, revision: revA }], ops);
    expect(failed.ok).toBe(false);
    expect((await store.list(p)).map((e) => [e.key, e.value])).toEqual([[`${p}a`, '1'], [`${p}c`, 'to delete']]);

    const done = await store.txn([{ key: `${p}a`, revision: revA }, { key: `${p}b`, revision: null }], ops);
    expect(done.ok).toBe(true);
    const after = await store.list(p);
    expect(after.map((e) => [e.key, e.value])).toEqual([[`${p}a`, '2'], [`${p}b`, 'new']]);
    // One txn, one revision.
    expect(after.map((e) => e.revision)).toEqual([done.revision, done.revision]);
  });

  it('loses no update when several clients increment one counter with CAS', async () => {
    const key = `${freshPrefix()}counter`;
    const clients = [store, await open(), await open()];
    const increment = async (client: CoordStore) => {
      for (;;) {
        const cur = await client.get(key);
        if ((await client.compareAndSwap(key, cur?.revision ?? null, String(Number(cur?.value ?? '0') + 1))).ok) return;
      }
    };
    await Promise.all(clients.flatMap((c) => Array.from({ length: 5 }, () => increment(c))));
    expect((await store.get(key))?.value).toBe('15');
  });

  it('watches every change in order, across store instances, and replays from a revision', async () => {
    const p = freshPrefix();
    const writer = await open();
    const watch = await store.watch(p);
    const revisions: string[] = [];
    for (let i = 0; i < 40; i++) revisions.push(await writer.put(`${p}k${i % 7}`, `v${i}`));
    await store.put(`${p.slice(0, -1)}-sibling/x`, 'ignored');
    const deleted = await writer.delete(`${p}k0`);
    expect(deleted).toBe(true);

    const events = await take(watch, 41);
    expect(events.slice(0, 40).map((e) => e.value)).toEqual(revisions.map((_, i) => `v${i}`));
    expect(events.slice(0, 40).map((e) => e.revision)).toEqual(revisions);
    expect(events[40]).toMatchObject({ type: 'delete', key: `${p}k0`, value: '' });
    for (let i = 1; i < events.length; i++) expect(compareRevisions(events[i - 1].revision, events[i].revision)).toBe(-1);
    watch.cancel();

    const replay = await store.watch(p, revisions[30]);
    const replayed = await take(replay, 11);
    expect(replayed.map((e) => e.revision).slice(0, 10)).toEqual(revisions.slice(30));
    expect(replayed[10].type).toBe('delete');
    replay.cancel();
  });

  it('ends a watch loop on cancel', async () => {
    const watch = await store.watch(freshPrefix());
    const loop = (async () => {
      let n = 0;
      for await (const _ of watch) n++;
      return n;
    })();
    watch.cancel();
    expect(await loop).toBe(0);
  });

  it('keeps an ephemeral key while its holder lives and deletes it on revoke', async () => {
    const key = `${freshPrefix()}proxy`;
    const eph = await store.putEphemeral(key, 'v1', 1);
    expect((await store.get(key))?.revision).toBe(eph.revision);
    const rev = await eph.update('v2');
    expect(await store.get(key)).toMatchObject({ value: 'v2', revision: rev });
    // Kept alive past its TTL by the holder's refreshes.
    await sleep(1500);
    expect((await store.get(key))?.value).toBe('v2');
    await eph.revoke();
    expect(await store.get(key)).toBeNull();
  });

  it('drops an ephemeral key when its holder process is killed', async () => {
    const key = `${freshPrefix()}proxy`;
    const child = await startHolder(url, 'lease', key);
    try {
      expect((await store.get(key))?.value).toBe('child');
      await killAndWait(child);
      await waitFor('key to vanish', async () => (await store.get(key)) === null);
    } finally {
      await killAndWait(child);
    }
  });

  it('hands the leader lock to the next campaigner when the leader resigns', async () => {
    const name = `${freshPrefix()}leader`;
    const other = await open();
    expect(await store.leader(name)).toBeNull();
    const first = await store.campaign(name, 'node-1', 2);
    expect(first.id).toBe('node-1');
    let secondWon = false;
    const second = other.campaign(name, 'node-2', 2).then((l) => ((secondWon = true), l));
    // node-2 is in line (its key exists) but not leading.
    await waitFor('node-2 in line', async () => (await store.list(`${name}/`)).length === 2);
    expect(secondWon).toBe(false);
    expect(await other.leader(name)).toBe('node-1');

    await first.resign();
    const lease = await second;
    expect(lease.id).toBe('node-2');
    expect(await store.leader(name)).toBe('node-2');
    await lease.resign();
    expect(await store.leader(name)).toBeNull();
  });

  it('hands the leader lock over when the leader process dies', async () => {
    const name = `${freshPrefix()}leader`;
    const child = await startHolder(url, 'campaign', name);
    try {
      expect(await store.leader(name)).toBe('child');
      const mine = store.campaign(name, 'parent', 1);
      await killAndWait(child);
      const lease = await mine;
      expect(await store.leader(name)).toBe('parent');
      await lease.resign();
    } finally {
      await killAndWait(child);
    }
  });

  it('rejects a waiting campaign when its store is closed', async () => {
    const name = `${freshPrefix()}leader`;
    const leader = await store.campaign(name, 'node-1', 2);
    const closing = await open();
    const outcome = closing.campaign(name, 'node-2', 2).then(() => 'won', (err: Error) => err.message);
    await waitFor('node-2 in line', async () => (await store.list(`${name}/`)).length === 2);
    await closing.close();
    expect(await outcome).toMatch(/store closed/);
    // close() revoked node-2's lease, so only the leader's key is left.
    expect((await store.list(`${name}/`)).map((e) => e.value)).toEqual(['node-1']);
    await leader.resign();
  });

  it('tells the leader when its lock key is deleted behind its back', async () => {
    const name = `${freshPrefix()}leader`;
    const lease = await store.campaign(name, 'node-1', 2);
    const lost = new Promise<Error>((done) => lease.onLost(done));
    await store.delete(lease.key);
    expect((await lost).message).toMatch(/disappeared/);
  });
});

describe('EtcdStore across an etcd crash and restart', () => {
  let server: EtcdHandle;
  const opened: CoordStore[] = [];

  beforeAll(async () => {
    server = await startEtcd();
  });

  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    await server.stop();
  });

  it('resumes a watch without losing events and keeps serving after the restart', async () => {
    const watcher = await openStore(server.url);
    opened.push(watcher);
    const watch = await watcher.watch('/restart/');
    const writer = await openStore(server.url);
    opened.push(writer);
    const before = await writer.put('/restart/a', '1');
    expect((await take(watch, 1))[0].revision).toBe(before);

    await server.restart(); // SIGKILL, then start on the same data dir and ports
    const after = await waitFor('a put after the restart', async () => writer.put('/restart/b', '2').catch(() => null));
    const [ev] = await take(watch, 1, 10_000);
    expect(ev).toMatchObject({ key: '/restart/b', value: '2', revision: after });
    expect((await watcher.get('/restart/a'))?.value).toBe('1');
  });
});
