// Issue 12: a group added later gets the cluster's function libraries and cached scripts. Group 1
// (cluster-mode node) holds a library and a script loaded through the proxy; an empty group 2 is
// added (its node started afterwards, so the proxy's fan-out never reached it) and slots 0-15
// migrate to it. Then FCALL and EVALSHA through the proxy on keys that now live on group 2 work,
// and the coordinator recorded "copied 1 libraries and 1 scripts from group 1 to group 2". Then a
// group 3 whose master is not running yet: its migration stays preparing with the copy's error in
// the batch and a scripts-copy-failed event; once the node is up, the retried copy lets it finish.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../../common/slots.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { type Dashboard, coordinatorToken, startDashboard, stopDashboards } from '../../helpers/coordinator.js';
import { freePort } from '../../helpers/ports.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const token = coordinatorToken('mig-scripts');
const LIBRARY = "#!lua name=copied\nredis.register_function('getplus', function(keys, args) return (redis.call('GET', keys[1]) or '') .. args[1] end)";
const SCRIPT = "return redis.call('GET', KEYS[1]) .. '!'";

let cluster: Cluster;
let node2: ServerHandle | undefined;
let node3: ServerHandle | undefined;
const dashboards: Dashboard[] = [];
const clients: Redis[] = [];

const client = (port: number) => {
  const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, enableOfflineQueue: true, retryStrategy: () => 50 });
  c.on('error', () => {});
  clients.push(c);
  return c;
};

/** The n-th key of slots [from, to]. */
function keyIn(n: number, from = 0, to = 15): string {
  for (let i = 0; ; i++) {
    const k = `k:${n}:${i}`;
    if (slotOf(k) >= from && slotOf(k) <= to) return k;
  }
}

beforeAll(async () => {
  cluster = await startCluster({ groups: 1, proxies: 1, store: 'file', nodeArgs: ['--slot-ownership', 'yes'] });
  await startDashboard({ storeUrl: cluster.storeUrl, product: cluster.product, token, until: 'leading', started: dashboards });
  const c = client(cluster.proxies[0]!.port);
  await waitFor(async () => (await c.set('warm', 'x').catch(() => null)) === 'OK', { timeoutMs: 20_000, what: 'the node to be reconciled' });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await stopDashboards(dashboards);
  await stopAll(node2, node3);
  await cluster?.stop();
  token.remove();
}, 60_000);

describe('libraries and scripts follow slots to a new group', () => {
  it('FCALL and EVALSHA work on keys migrated to an empty group added later; the copy is an event', async () => {
    const proxy = client(cluster.proxies[0]!.port);
    expect(await proxy.call('FUNCTION', 'LOAD', LIBRARY)).toBe('copied');
    const sha = String(await proxy.call('SCRIPT', 'LOAD', SCRIPT));
    const keys = Array.from({ length: 20 }, (_, i) => keyIn(i));
    for (const k of keys) await proxy.set(k, `v-${k}`);

    // The new group: a fresh node (no libraries, no scripts), added with no slots.
    node2 = await startNode(['--slot-ownership', 'yes']);
    const direct = client(node2.port);
    expect(await direct.call('FUNCTION', 'LIST')).toEqual([]);
    const d = dashboards[0]!;
    await d.api('POST', '/groups', { id: 2 });
    await d.api('POST', '/groups/2/servers', { addr: `127.0.0.1:${node2.port}`, role: 'master' });

    const batch = await d.api<{ id: string }>('POST', '/migrations', { slots: '0-15', to: 2 });
    await waitFor(async () => {
      const v = await d.api<{ state: string; errors: unknown[] }>('GET', `/migrations/${batch.id}`);
      if (v.state === 'cancelled') throw new Error(`migration cancelled: ${JSON.stringify(v.errors)}`);
      return v.state === 'done';
    }, { timeoutMs: 60_000, what: 'slots 0-15 to move to group 2' });

    // The keys are on group 2 now, and so are the library and the script.
    expect(Number(await direct.dbsize())).toBe(keys.length);
    expect(await direct.call('SCRIPT', 'EXISTS', sha)).toEqual([1]);
    for (const k of keys) {
      expect(await proxy.call('FCALL', 'getplus', 1, k, '+')).toBe(`v-${k}+`);
      expect(await proxy.evalsha(sha, 1, k)).toBe(`v-${k}!`);
    }

    // The node command the copy reads is the coordinator's only.
    await expect(proxy.call('TESSERA.SCRIPTS', 'DUMP')).rejects.toThrow("ERR 'tessera.scripts|dump' TESSERA.SCRIPTS is the coordinator's, sent to the nodes directly, never through the proxy");
    const copied = await waitFor(async () => {
      const r = await d.api<{ events: Array<{ message: string }> }>('GET', '/events?group=2&type=scripts-copied&limit=100');
      return r.events.length > 0 ? r.events : null;
    }, { what: 'the scripts-copied event' });
    expect(copied.map((e) => e.message)).toEqual(['copied 1 libraries and 1 scripts from group 1 to group 2']);
  }, 90_000);

  it('a target that cannot be reached blocks the prepare with the copy error; the retry copies once it is up', async () => {
    const d = dashboards[0]!;
    const port = await freePort();
    await d.api('POST', '/groups', { id: 3 });
    await d.api('POST', '/groups/3/servers', { addr: `127.0.0.1:${port}`, role: 'master' });
    const proxy = client(cluster.proxies[0]!.port);
    const keys = Array.from({ length: 5 }, (_, i) => keyIn(i, 16, 17));
    for (const k of keys) await proxy.set(k, `v-${k}`);
    const batch = await d.api<{ id: string }>('POST', '/migrations', { slots: '16-17', to: 3 });
    type View = { state: string; slots: { preparing: number; done: number }; errors: Array<{ slot: number; error: string }> };
    const blocked = await waitFor(async () => {
      const v = await d.api<View>('GET', `/migrations/${batch.id}`);
      return v.errors.length === 2 ? v : null;
    }, { timeoutMs: 30_000, what: 'the copy to the unreachable group 3 to fail' });
    expect(blocked.slots.preparing).toBe(2);
    for (const e of blocked.errors) expect(e.error).toContain(`copying libraries and scripts from group 1 (127.0.0.1:${cluster.groups[0]!.port}) to group 3 (127.0.0.1:${port}) failed`);
    // Events are stored in the background: poll.
    const failed = await waitFor(async () => {
      const r = await d.api<{ events: Array<{ message: string }> }>('GET', '/events?group=3&type=scripts-copy-failed&limit=10');
      return r.events.length > 0 ? r.events : null;
    }, { what: 'the scripts-copy-failed event' });
    expect(failed[0]!.message).toContain(`to group 3 (127.0.0.1:${port}) failed`);

    node3 = await startNode(['--slot-ownership', 'yes'], { port });
    await waitFor(async () => (await d.api<View>('GET', `/migrations/${batch.id}`)).state === 'done', { timeoutMs: 60_000, what: 'slots 16-17 to move to group 3' });
    const sha = createHash('sha1').update(SCRIPT).digest('hex');
    expect(await client(port).call('SCRIPT', 'EXISTS', sha)).toEqual([1]);
    for (const k of keys) {
      expect(await proxy.call('FCALL', 'getplus', 1, k, '+')).toBe(`v-${k}+`);
      expect(await proxy.evalsha(sha, 1, k)).toBe(`v-${k}!`);
    }
    expect(Number(await client(port).dbsize())).toBe(keys.length);
    const copied = await waitFor(async () => {
      const r = await d.api<{ events: Array<{ message: string }> }>('GET', '/events?group=3&type=scripts-copied&limit=10');
      return r.events.length > 0 ? r.events : null;
    }, { what: 'the scripts-copied event' });
    expect(copied.map((e) => e.message)).toEqual(['copied 1 libraries and 1 scripts from group 1 to group 3']);
  }, 90_000);
});
