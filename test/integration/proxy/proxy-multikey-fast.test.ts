// Per-key commands on the proxy's fast path (proxy/fast-multikey.ts), differential: one pipeline of
// MSET / MGET / DEL / UNLINK / EXISTS / TOUCH mixed with GET / SET (binary, empty and tagged keys,
// wrong argument counts) goes through a proxy in front of two redis-servers (slots 0-511 and
// 512-1023) and straight to a third redis-server; the replies must match one for one, in order —
// sent as one write (frames whole in a read: the fast path; the ones cut at read boundaries: the
// general path), then in small writes (many frames cut: the general path in between), then with
// each backend's keys read back directly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addServer, assignSlots, createGroup } from '../../../cli/admin.js';
import { assignEvenly } from '../../../common/model.js';
import { encodeCommand } from '../../../common/resp/encode.js';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { openStore } from '../../../common/store/open-store.js';
import { slotOf } from '../../../common/slots.js';
import { type ProxyHandle, startProxyProcess } from '../../helpers/cluster.js';
import { plain } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

let backends: ServerHandle[] = [];
let direct: ServerHandle | undefined;
let proxy: ProxyHandle | undefined;
let storeDir = '';
const clients: RawClient[] = [];

beforeAll(async () => {
  storeDir = mkdtempSync(join(tmpdir(), 'tessera-store-'));
  const started = await Promise.allSettled([startRedis(), startRedis(), startRedis()]);
  const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (ok.length < 3) {
    await stopAll(...ok);
    throw (started.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
  }
  backends = ok.slice(0, 2);
  direct = ok[2];
  const storeUrl = `file://${storeDir}`;
  const store = await openStore(storeUrl);
  try {
    for (const [i, b] of backends.entries()) {
      await createGroup(store, 'mk', i + 1);
      await addServer(store, 'mk', i + 1, `127.0.0.1:${b.port}`, 'master');
    }
    for (const r of assignEvenly([1, 2])) await assignSlots(store, 'mk', r.from, r.to, r.group);
  } finally {
    await store.close();
  }
  proxy = await startProxyProcess(storeUrl, 'mk', []);
  const probe = await connect(proxy.port);
  await waitFor(async () => plain(await probe.call('SET', 'ready', '1')) === '+OK', { what: 'the proxy to route' });
  // The first split asks each backend whether it takes several slots per command (one piece per
  // slot until the answer is in); its reply comes after the probe's: later splits are per backend.
  expect(plain(await probe.call('DEL', ...KEYS))).toEqual(expect.any(Number));
  await probe.call('DEL', 'ready');
});

afterAll(async () => {
  for (const c of clients) c.close();
  await proxy?.stop();
  await stopAll(...backends, direct);
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
});

async function connect(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

/** Deterministic pseudo-random numbers (a test failure must replay). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const KEYS = ['a', 'b', 'c', '', 'bin\r\n\x00\xff', '{user:1}:name', '{user:1}:mail', '{}x', 'x{}', '{a}{b}', 'k'.repeat(200), 'key:1', 'key:2', 'key:3', 'key:4', 'key:5'];

/** A pipeline of `n` requests (latin1 strings), mostly per-key commands, some of them wrong. */
function pipeline(seed: number, n: number): string[][] {
  const r = rng(seed);
  const key = () => KEYS[r(KEYS.length)]!;
  const keys = (min: number) => Array.from({ length: min + r(10) }, key);
  const out: string[][] = [];
  for (let i = 0; i < n; i++) {
    switch (r(12)) {
      case 0: case 1: case 2: out.push(['MSET', ...keys(1).flatMap((k) => [k, `v${i}\r\n${r(100)}`])]); break;
      case 3: case 4: out.push(['MGET', ...keys(1)]); break;
      case 5: out.push([r(2) ? 'DEL' : 'unlink', ...keys(1)]); break;
      case 6: out.push([r(2) ? 'EXISTS' : 'touch', ...keys(1)]); break;
      case 7: out.push(['SET', key(), `s${i}`]); break;
      case 8: out.push(['GET', key()]); break;
      case 9: out.push(['MSET', ...keys(1).flatMap((k) => [k, 'v']), 'dangling']); break; // wrong count
      case 10: out.push([r(2) ? 'DEL' : 'MGET']); break; // no key
      default: out.push(['mget', key(), key()]);
    }
  }
  return out;
}

/** Writes `requests` to `c` (as one write, or in writes of 1-40 bytes) and reads their replies. */
async function run(c: RawClient, requests: string[][], smallWrites: boolean): Promise<unknown[]> {
  const replies = requests.map(() => c.nextReply(20_000));
  const bytes = Buffer.concat(requests.map((a) => encodeCommand(a.map((s) => Buffer.from(s, 'latin1')))));
  if (!smallWrites) {
    c.write(bytes);
  } else {
    const r = rng(7);
    for (let pos = 0; pos < bytes.length;) {
      const len = 1 + r(40);
      c.write(bytes.subarray(pos, pos + len));
      pos += len;
      if (r(4) === 0) await new Promise((res) => setImmediate(res)); // lets some writes reach the proxy alone
    }
  }
  return (await Promise.all(replies)).map((x: Reply) => plain(x));
}

describe('per-key commands through the proxy match redis-server', () => {
  it('a pipeline in one write: every reply equal, in order, and keys land on their slot\'s backend', async () => {
    const ours = await connect(proxy!.port);
    const ref = await connect(direct!.port);
    const requests = pipeline(1, 400);
    const [got, want] = await Promise.all([run(ours, requests, false), run(ref, requests, false)]);
    expect(got).toEqual(want);
    expect(want.some((w) => typeof w === 'object' && w !== null && 'error' in w)).toBe(true); // the wrong counts were refused
    // Every key is on the backend its slot says, with the value direct redis-server has.
    for (const key of KEYS) {
      const owner = slotOf(key) < 512 ? 0 : 1;
      const [onOwner, onOther, ref1] = await Promise.all([
        connect(backends[owner]!.port).then((c) => c.call('GET', Buffer.from(key, 'latin1'))),
        connect(backends[1 - owner]!.port).then((c) => c.call('EXISTS', Buffer.from(key, 'latin1'))),
        ref.call('GET', Buffer.from(key, 'latin1')),
      ]);
      expect(plain(onOwner), key).toEqual(plain(ref1));
      expect(onOther).toBe(0);
    }
  });

  it('the same in small writes (frames cut across reads take the general path in between)', async () => {
    const ours = await connect(proxy!.port);
    const ref = await connect(direct!.port);
    const requests = pipeline(2, 300);
    const got = await run(ours, requests, true);
    const want = await run(ref, requests, true);
    expect(got).toEqual(want);
  });
});
