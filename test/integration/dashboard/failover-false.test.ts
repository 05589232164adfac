// An alive but slow master (DEBUG SLEEP blocks the node's process, like a loaded machine does, and
// it answers everything late) under an INCR load through the proxy. Either no failover happens
// (its late replies count as alive) or, if one does, the fence reaches the old master and the
// promoted replica is drained to its offset first: no acknowledged INCR is ever lost (every counter
// read back is ≥ the INCRs acknowledged on it). One group of master + replica, one proxy, one
// coordinator on the file store, default down-after (1 s) and health interval.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterOf, parseGroup } from '../../../common/model.js';
import { groupKey } from '../../../common/store/keys.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { type Dashboard, coordinatorToken, startDashboard, stopDashboards } from '../../helpers/coordinator.js';
import { waitFor } from '../../helpers/wait-for.js';

const token = coordinatorToken('fo-false');
let cluster: Cluster;
const dashboards: Dashboard[] = [];
const clients: Redis[] = [];
const COUNTERS = 16;

const client = (port: number) => {
  const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, enableOfflineQueue: true, retryStrategy: () => 50 });
  c.on('error', () => {});
  clients.push(c);
  return c;
};

async function groupMaster(): Promise<string | null> {
  const e = await cluster.store.get(groupKey(cluster.product, 1));
  return e ? masterOf(parseGroup(e.value)) : null;
}

beforeAll(async () => {
  cluster = await startCluster({ groups: 1, replicas: 1, proxies: 1, store: 'file', nodeArgs: ['--slot-ownership', 'yes', '--enable-debug-command', 'yes'] });
  await startDashboard({ storeUrl: cluster.storeUrl, product: cluster.product, token, started: dashboards, until: 'leading' });
  const c = client(cluster.proxies[0]!.port);
  await waitFor(async () => (await c.set('warm', 'x')) === 'OK', { timeoutMs: 20_000, what: 'the node to be reconciled' });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await stopDashboards(dashboards);
  await cluster?.stop();
  token.remove();
}, 60_000);

describe('a slow but alive master', () => {
  it('DEBUG SLEEP 1.5 under an INCR load: no failover, or one that loses no acknowledged INCR', async () => {
    const oldMaster = (await groupMaster())!;
    const proxy = client(cluster.proxies[0]!.port);
    const acked = new Array<number>(COUNTERS).fill(0);
    let stop = false;
    let errors = 0;
    let n = 0;
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const i = n++ % COUNTERS;
        try {
          await proxy.incr(`ctr:{${i}}`);
          acked[i]!++;
        } catch {
          errors++;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    });
    try {
      await waitFor(() => acked.reduce((a, b) => a + b, 0) > 200, { timeoutMs: 20_000, what: 'the load to run' });
      // The node's process blocks 1.5 s (past down-after), then answers everything it queued.
      const direct = client(Number(oldMaster.slice(oldMaster.lastIndexOf(':') + 1)));
      const sleptAt = Date.now();
      expect(await direct.call('DEBUG', 'SLEEP', '1.5')).toBe('OK');
      // The load must get through again (either master), then run on for a while.
      const before = acked.reduce((a, b) => a + b, 0);
      await waitFor(() => acked.reduce((a, b) => a + b, 0) > before + 200, { timeoutMs: 20_000, what: 'writes again after the sleep' });
      console.log(`slow master: writes again ${Date.now() - sleptAt} ms after the sleep began`);
      await new Promise((r) => setTimeout(r, 1000)); // keeps the load on past a possible failover's end (not a wait for a state)
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    const newMaster = await groupMaster();
    const d = dashboards[0]!;
    const ev = (await d.api<{ events: Array<{ type: string; message: string; details?: Record<string, unknown> }> }>('GET', '/events?limit=1000')).events;
    const promoted = ev.filter((e) => e.type === 'promoted');
    console.log(`slow master: ${newMaster === oldMaster ? 'no failover' : `failed over to ${newMaster}`}; ${errors} INCR errors; ${acked.reduce((a, b) => a + b, 0)} acknowledged`);
    for (const e of promoted) console.log(`  ${e.message} ${JSON.stringify(e.details)}`);
    if (newMaster !== oldMaster) {
      // The old master was alive: the fence reached it and the replica was drained to its offset.
      expect(promoted.at(-1)?.details).toMatchObject({ oldMasterReachable: true, caughtUp: true });
    }
    // Nothing acknowledged is lost: every counter holds at least its acknowledged INCRs.
    const got = await waitFor(async () => {
      const vals = await Promise.all(acked.map((_, i) => proxy.get(`ctr:{${i}}`)));
      return vals.map(Number);
    }, { timeoutMs: 20_000, what: 'the counters read through the proxy' });
    const lost = got.map((v, i) => ({ i, v, acked: acked[i]! })).filter((x) => x.v < x.acked);
    if (lost.length > 0) console.log(d.t.output().split('\n').filter((l) => /"event"|failover|promot|fenc|drain/.test(l)).slice(-20).join('\n'));
    expect(lost).toEqual([]);
  }, 90_000);
});
