// Issue 12: a group added later gets the cluster's function libraries and cached scripts. Group 1
// (cluster-mode node) holds a library and a script loaded through the proxy; an empty group 2 is
// added (its node started afterwards, so the proxy's fan-out never reached it) and slots 0-15
// migrate to it. Then FCALL and EVALSHA through the proxy on keys that now live on group 2 work,
// and the coordinator recorded "copied 1 libraries and 1 scripts from group 1 to group 2".
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../../common/slots.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { type Dashboard, coordinatorToken, startDashboard, stopDashboards } from '../../helpers/coordinator.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const token = coordinatorToken('mig-scripts');
const LIBRARY = "#!lua name=copied\nredis.register_function('getplus', function(keys, args) return (redis.call('GET', keys[1]) or '') .. args[1] end)";
const SCRIPT = "return redis.call('GET', KEYS[1]) .. '!'";

let cluster: Cluster;
let node2: ServerHandle | undefined;
const dashboards: Dashboard[] = [];
const clients: Redis[] = [];

const client = (port: number) => {
  const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, enableOfflineQueue: true, retryStrategy: () => 50 });
  c.on('error', () => {});
  clients.push(c);
  return c;
};

/** The n-th key of the moved slots 0-15. */
function movedKey(n: number): string {
  for (let i = 0; ; i++) {
    const k = `k:${n}:${i}`;
    if (slotOf(k) < 16) return k;
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
  await stopAll(node2);
  await cluster?.stop();
  token.remove();
}, 60_000);

describe('libraries and scripts follow slots to a new group', () => {
  it('FCALL and EVALSHA work on keys migrated to an empty group added later; the copy is an event', async () => {
    const proxy = client(cluster.proxies[0]!.port);
    expect(await proxy.call('FUNCTION', 'LOAD', LIBRARY)).toBe('copied');
    const sha = String(await proxy.call('SCRIPT', 'LOAD', SCRIPT));
    const keys = Array.from({ length: 20 }, (_, i) => movedKey(i));
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

    const events = await d.api<{ events: Array<{ type: string; message: string; group?: number }> }>('GET', '/events?group=2&limit=100');
    const copied = events.events.filter((e) => e.type === 'scripts-copied');
    expect(copied.map((e) => e.message)).toEqual(['copied 1 libraries and 1 scripts from group 1 to group 2']);
  }, 90_000);
});
