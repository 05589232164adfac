// Automatic failover end to end with real processes, on the issue's shape: 2 groups of
// cluster-mode nodes (master + 2 replicas each), 2 proxies, and 2 `tessera dashboard` processes
// (leader + standby) on the file store (down-after 1 s, health every 250 ms: the defaults). One
// cluster is shared by the tests, which run in order:
//  - kill -9 of group 1's master under a write load through the proxy: writes to its slots
//    succeed again within the bound (measured), every write acknowledged by WAIT 1 (through the
//    proxy) is on the new master, the other replica continued with a partial resync (new
//    master's sync_full 0, sync_partial_ok ≥ 1), group 2 saw no error through either proxy; the old master restarted
//    never accepts a write and comes back as a replica of the new master;
//  - SIGSTOP of the (new) master for longer than down-after, then SIGCONT: replaced, fenced and
//    demoted; no write acknowledged through the proxy after the stop is lost;
//  - a planned switchover (`tessera admin promote`) under load: nothing acknowledged is lost;
//  - a per-group down-after (`tessera admin failover-settings --group 2 --down-after 3000`): both
//    masters killed, group 1 (default) switches first, group 2 only past 3 s; then hold-down: the
//    new master of group 1 stopped past down-after right after its failover is not replaced;
//  - group 2 whose replicas have replica-priority 0: never promoted, the group stays down with an
//    error naming it (status, events), and recovers when its master returns;
//  - a coordinator that dies right after writing the failover record: a restarted one finishes it.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterOf, parseGroup } from '../../../common/model.js';
import { slotOf } from '../../../common/slots.js';
import { groupKey } from '../../../common/store/keys.js';
import { Failover, RedisReplicationAdmin } from '../../../dashboard/coordinator/failover.js';
import { EventLog } from '../../../dashboard/coordinator/events.js';
import { RedisProbe } from '../../../dashboard/coordinator/health.js';
import { Leadership } from '../../../dashboard/coordinator/leadership.js';
import { RedisNodeApi } from '../../../dashboard/coordinator/node-client.js';
import { Reconciler, Serial } from '../../../dashboard/coordinator/reconcile.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { type Dashboard, adminVia, coordinatorToken, currentLeader, leaderApi, startDashboard, stopDashboards } from '../../helpers/coordinator.js';
import { type ServerHandle, startNode } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const token = coordinatorToken('fo-it');
const NODE_ARGS = ['--slot-ownership', 'yes'];

let cluster: Cluster;
/** Every dashboard started (the afterAll kills those still running). */
const dashboards: Dashboard[] = [];
/** The leading dashboard (the tests' API and CLI go to it) and the standby. */
let dashboard: Dashboard;
let standby: Dashboard;
const clients: Redis[] = [];
const extraNodes: ServerHandle[] = [];
/** Every server by port (restarted ones replace their handle). */
const byPort = new Map<number, ServerHandle>();

/**
 * Two coordinators: the first leads, the second stands by. The default leader TTL (3 s): no test
 * here waits for a lease to expire, and a 1 s lease moved to the standby under load (load average
 * 30 on this machine), adding seconds to a failover.
 */
async function startDashboards(): Promise<void> {
  const opts = { storeUrl: cluster.storeUrl, product: cluster.product, token, started: dashboards };
  dashboard = await startDashboard({ ...opts, until: 'leading' });
  standby = await startDashboard(opts);
}

// To whichever coordinator leads (on this loaded machine a 1 s lease can move to the standby).
const api = <T>(method: string, path: string, body?: unknown): Promise<T> => leaderApi<T>(dashboards, method, path, body);
const tessera = async (args: string[]) => adminVia((await currentLeader(dashboards)).url, token, args);

const client = (port: number) => {
  const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, enableOfflineQueue: true, retryStrategy: () => 50 });
  c.on('error', () => {});
  clients.push(c);
  return c;
};

const portOf = (addr: string) => Number(addr.slice(addr.lastIndexOf(':') + 1));

async function groupMaster(id: number): Promise<string | null> {
  const e = await cluster.store.get(groupKey(cluster.product, id));
  return e ? masterOf(parseGroup(e.value)) : null;
}

async function groupServers(id: number): Promise<string[]> {
  const e = await cluster.store.get(groupKey(cluster.product, id));
  return e ? parseGroup(e.value).servers.map((s) => `${s.addr}:${s.role}`) : [];
}

async function info(port: number, section: string): Promise<Map<string, string>> {
  const text = await client(port).info(section);
  return new Map(text.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
}

/** Keys whose slots are online in group 1 (0-511) or 2 (512-1023). */
function keyIn(group: 1 | 2, prefix: string, n: number): string {
  for (let i = 0; ; i++) {
    const k = `${prefix}:${n}:${i}`;
    if ((slotOf(k) < 512) === (group === 1)) return k;
  }
}

/** A SET load through the proxy: unique keys, acknowledged ones kept with their send and reply times. */
function setLoad(port: number, group: 1 | 2, prefix: string, workers = 3) {
  const c = client(port);
  const acked: string[] = [];
  const okAt: number[] = [];
  const sentAt: number[] = [];
  const errors: Array<{ at: number; message: string }> = [];
  let stop = false;
  let n = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (!stop) {
      const k = keyIn(group, prefix, n++);
      const sent = Date.now();
      try {
        await c.set(k, k);
        acked.push(k);
        okAt.push(Date.now());
        sentAt.push(sent);
      } catch (err) {
        errors.push({ at: Date.now(), message: (err as Error).message });
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  });
  return {
    acked, okAt, sentAt, errors,
    /**
     * When the first write SENT after `t` was acknowledged (a reply that arrived before `t` but
     * was handled late by this loaded test process must not count as a recovery).
     */
    firstOkAfter: (t: number) => {
      const i = sentAt.findIndex((x) => x > t);
      return i < 0 ? null : okAt[i]!;
    },
    async end() {
      stop = true;
      await Promise.all(loops);
    },
  };
}

/** Keys missing from the node at `port` (or through the proxy). */
async function missing(port: number, keys: string[]): Promise<string[]> {
  const c = client(port);
  const out: string[] = [];
  for (let i = 0; i < keys.length; i += 200) {
    const batch = keys.slice(i, i + 200);
    const vals = await Promise.all(batch.map((k) => c.get(k)));
    vals.forEach((v, j) => { if (v !== batch[j]) out.push(batch[j]!); });
  }
  return out;
}

/** Waits for an event (they are stored in the background, just after they happen). */
async function expectEvent(type: string, pred: (e: { group?: number; message: string }) => boolean): Promise<void> {
  await waitFor(async () => (await events(type)).some(pred), { timeoutMs: 5000, what: `a ${type} event` });
}

async function events(type?: string): Promise<Array<{ type: string; at: string; group?: number; message: string }>> {
  return (await api<{ events: Array<{ type: string; at: string; group?: number; message: string }> }>('GET', `/events?limit=1000${type ? `&type=${type}` : ''}`)).events;
}

beforeAll(async () => {
  // The issue's shape: 2 groups of master + 2 replicas, 2 proxies, 2 coordinators.
  cluster = await startCluster({ groups: 2, replicas: 2, proxies: 2, store: 'file', nodeArgs: NODE_ARGS });
  for (const s of [...cluster.groups, ...cluster.replicas.flat()]) byPort.set(s.port, s);
  await startDashboards();
  // Short hold-down so the tests can fail a group over again; defaults otherwise.
  await api('PUT', '/failover/settings', { holdDownMs: 1000 });
  const c = client(cluster.proxies[0]!.port);
  await waitFor(async () => (await c.set(keyIn(1, 'warm', 0), 'x')) === 'OK' && (await c.set(keyIn(2, 'warm', 0), 'x')) === 'OK', { timeoutMs: 20_000, what: 'the nodes to be reconciled' });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const s of byPort.values()) if (s.proc.signalCode === null) s.proc.kill('SIGCONT');
  await stopDashboards(dashboards);
  await Promise.all(extraNodes.map((n) => n.kill()));
  await cluster?.stop();
  token.remove();
}, 60_000);

describe('automatic failover', () => {
  it('kill -9 of a master under load: writes again within the bound, nothing WAIT-acknowledged lost, the other replica continues, the old master comes back as a replica', async () => {
    const [proxy, proxyB] = cluster.proxies.map((p) => p.port) as [number, number];
    const oldMaster = cluster.groups[0]!;
    const oldAddr = `127.0.0.1:${oldMaster.port}`;
    const load1 = setLoad(proxy, 1, 'k1');
    const load1b = setLoad(proxyB, 1, 'k1b', 1);
    // The other group, through both proxies: it must never see an error.
    const load2 = setLoad(proxy, 2, 'k2');
    const load2b = setLoad(proxyB, 2, 'k2b', 2);
    // SET + WAIT 1 through the proxy (it asks the master the client wrote to): every write whose
    // WAIT answered ≥ 1 must survive the failover.
    const viaProxy = client(proxy);
    const waitAcked: string[] = [];
    let waitStop = false;
    const waitLoop = (async () => {
      for (let n = 0; !waitStop; n++) {
        const k = keyIn(1, 'w', n);
        try {
          await viaProxy.set(k, k);
          if (Number(await viaProxy.call('WAIT', '1', '200')) >= 1) waitAcked.push(k);
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    await waitFor(() => load1.acked.length > 300 && load1b.acked.length > 50 && load2b.acked.length > 50 && waitAcked.length > 50, { timeoutMs: 20_000, what: 'the load to run' });

    const killedAt = Date.now();
    await oldMaster.kill();
    await waitFor(() => load1.firstOkAfter(killedAt + 10) && load1b.firstOkAfter(killedAt + 10), { timeoutMs: 10_000, intervalMs: 10, what: 'a write to group 1 to succeed after the kill through both proxies' });
    const recoveryMs = load1.firstOkAfter(killedAt + 10)! - killedAt;
    const recoveryBMs = load1b.firstOkAfter(killedAt + 10)! - killedAt;
    await waitFor(() => load1.okAt.filter((t) => t > killedAt).length > 200, { timeoutMs: 30_000, what: 'more writes after the failover' });
    waitStop = true;
    await waitLoop;
    await Promise.all([load1.end(), load1b.end(), load2.end(), load2b.end()]);
    const newAddr = (await groupMaster(1))!;
    const failedDuring = load1.errors.filter((e) => e.at >= killedAt).length;
    console.log(`failover after kill -9: first successful write to the group after ${recoveryMs} ms (proxy A), ${recoveryBMs} ms (proxy B); ${failedDuring} writes failed meanwhile; ${waitAcked.length} WAIT-acknowledged writes checked; group 2: ${load2.acked.length + load2b.acked.length} writes through both proxies; new master ${newAddr}`);
    // The issue's bound is 2 s on the quiet CI machine (Sentinel at down-after 1 s: ~2.2 s); on
    // this shared machine we hold the "never over 3 s" target.
    // The steps as the coordinators logged them (ms after the kill; whichever one led).
    for (const d of dashboards) console.log(d.t.output().split('\n').filter((l) => /"event"|failover|promot|elected|lost leadership/.test(l)).map((l) => { try { const j = JSON.parse(l); return `${j.time - killedAt} ${j.msg}`; } catch { return l; } }).join('\n'));
    expect(recoveryMs).toBeLessThan(3000);
    expect(recoveryBMs).toBeLessThan(3000);
    expect(newAddr).not.toBe(oldAddr);
    expect(await missing(portOf(newAddr), waitAcked)).toEqual([]);
    expect(load2.errors).toEqual([]);
    expect(load2b.errors).toEqual([]);
    expect(load2b.acked.length).toBeGreaterThan(50);
    // The other replica followed the new master with a partial resync.
    const otherReplica = cluster.replicas[0]!.map((r) => `127.0.0.1:${r.port}`).find((a) => a !== newAddr)!;
    await waitFor(async () => (await info(portOf(otherReplica), 'replication')).get('master_port') === String(portOf(newAddr)) && (await info(portOf(otherReplica), 'replication')).get('master_link_status') === 'up', { timeoutMs: 10_000, what: 'the other replica to follow the new master' });
    const stats = await info(portOf(newAddr), 'stats');
    console.log(`new master: sync_full ${stats.get('sync_full')}, sync_partial_ok ${stats.get('sync_partial_ok')}`);
    expect(stats.get('sync_full')).toBe('0');
    expect(Number(stats.get('sync_partial_ok'))).toBeGreaterThanOrEqual(1);
    expect((await groupServers(1)).includes(`${oldAddr}:replica`)).toBe(false); // out until fenced
    await expectEvent('failover-done', (e) => e.group === 1);

    // The old master restarts (its dir keeps slots.json: ownership unconfirmed): no write, ever.
    const restarted = await startNode(['--repl-diskless-sync-delay', '0', ...NODE_ARGS], { port: oldMaster.port, dir: oldMaster.dir });
    byPort.set(restarted.port, restarted);
    extraNodes.push(restarted);
    const probe = client(restarted.port);
    const accepted: string[] = [];
    await waitFor(async () => {
      try {
        const r = await probe.set(keyIn(1, 'fence', accepted.length), 'x');
        const rr = await info(restarted.port, 'replication');
        const sl = await info(restarted.port, 'slots');
        accepted.push(`${String(r)} role=${rr.get('role')} link=${rr.get('master_link_status')} epoch=${sl.get('config_epoch')} confirmed=${sl.get('ownership_confirmed')} owned=${sl.get('slots_owned')}`);
      } catch {
        /* refused: TRYAGAIN (unconfirmed), MOVED (fenced) or READONLY (replica) */
      }
      const repl = await info(restarted.port, 'replication');
      return repl.get('role') === 'slave' && repl.get('master_port') === String(portOf(newAddr)) && repl.get('master_link_status') === 'up';
    }, { timeoutMs: 15_000, intervalMs: 5, what: 'the old master to become a replica of the new one' });
    expect(accepted).toEqual([]);
    await expect(probe.set(keyIn(1, 'fence', 999), 'x')).rejects.toThrow(/READONLY|MOVED|TRYAGAIN/);
    await waitFor(async () => (await groupServers(1)).includes(`${oldAddr}:replica`), { timeoutMs: 10_000, what: 'the old master back in the group as a replica' });
    // It resynced: the writes made after the failover are there.
    await waitFor(async () => (await missing(restarted.port, load1.acked.slice(-50))).length === 0, { timeoutMs: 10_000, what: 'the old master to resync' });
    await expectEvent('old-master-demoted', (e) => e.group === 1);
  }, 90_000);

  it('SIGSTOP of a master past down-after, then SIGCONT: replaced, fenced and demoted; nothing acknowledged through the proxy after the stop is lost', async () => {
    const proxy = cluster.proxies[0]!.port;
    await waitFor(async () => (await api<{ holdDownUntil: string | null }>('GET', '/groups/1/status')).holdDownUntil === null, { timeoutMs: 10_000, what: 'the hold-down to end' });
    const stoppedAddr = (await groupMaster(1))!;
    const stopped = byPort.get(portOf(stoppedAddr))!;
    const load = setLoad(proxy, 1, 'k3');
    await waitFor(() => load.acked.length > 200, { timeoutMs: 20_000, what: 'the load to run' });
    const stoppedAt = Date.now();
    stopped.proc.kill('SIGSTOP');
    try {
      await waitFor(async () => (await groupMaster(1)) !== stoppedAddr, { timeoutMs: 10_000, intervalMs: 20, what: 'a failover away from the stopped master' });
      const switched = Date.now();
      await waitFor(() => load.firstOkAfter(switched), { timeoutMs: 5000, what: 'writes to resume' });
      console.log(`SIGSTOP: writes again ${load.firstOkAfter(stoppedAt + 10)! - stoppedAt} ms after the stop`);
    } finally {
      stopped.proc.kill('SIGCONT');
    }
    const newAddr = (await groupMaster(1))!;
    await waitFor(async () => {
      const repl = await info(stopped.port, 'replication');
      return repl.get('role') === 'slave' && repl.get('master_port') === String(portOf(newAddr));
    }, { timeoutMs: 15_000, what: 'the woken old master to become a replica' });
    await waitFor(() => load.okAt.filter((t) => t > Date.now() - 300).length > 20, { timeoutMs: 10_000, what: 'writes after SIGCONT' });
    await load.end();
    // Sent after the stop and acknowledged: must all be on the new master (the stopped one ran none
    // of them, or ran them after SIGCONT on a proxy connection that was closed at the switch, so
    // the client got an error). Sent before the stop: the old master may have answered just before
    // it (a reply this loaded test process reads late); if not yet sent to the replica, lost, as
    // with any asynchronous replication (only WAIT makes a write durable); reported.
    const after = load.acked.filter((_, i) => load.sentAt[i]! > stoppedAt);
    const before = load.acked.filter((_, i) => load.sentAt[i]! <= stoppedAt);
    expect(after.length).toBeGreaterThan(20);
    expect(await missing(portOf(newAddr), after)).toEqual([]);
    console.log(`SIGSTOP: ${(await missing(portOf(newAddr), before)).length} of ${before.length} writes acknowledged before the stop (without WAIT) missing`);
    await expectEvent('fenced', (e) => e.message.includes(stoppedAddr));
    await waitFor(async () => (await missing(stopped.port, load.acked.slice(-20))).length === 0, { timeoutMs: 10_000, what: 'the demoted master to resync' });
  }, 90_000);

  it('planned switchover (tessera admin promote) under load loses nothing', async () => {
    const proxy = cluster.proxies[0]!.port;
    await waitFor(async () => (await api<{ failover: { phase: string; oldMasterDemoted: boolean } | null }>('GET', '/groups/1/status')).failover?.oldMasterDemoted === true, { timeoutMs: 15_000, what: 'the last failover to settle' });
    const st = await tessera(['group', 'status', '1']);
    expect(st.code).toBe(0);
    expect(st.out).toMatch(/group 1: master 127\.0\.0\.1:\d+/);
    const from = (await groupMaster(1))!;
    const target = (await groupServers(1)).filter((s) => s.endsWith(':replica')).map((s) => s.replace(/:replica$/, ''))[0]!;
    await waitFor(async () => (await info(portOf(target), 'replication')).get('master_link_status') === 'up', { timeoutMs: 15_000, what: 'the target to be in sync' });
    const load = setLoad(proxy, 1, 'k4');
    await waitFor(() => load.acked.length > 200, { timeoutMs: 20_000, what: 'the load to run' });
    const res = await tessera(['promote', '1', target]);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toContain(`${target} is the master (was ${from})`);
    await waitFor(() => load.okAt.filter((t) => t > Date.now() - 300).length > 20, { timeoutMs: 10_000, what: 'writes after the switchover' });
    await load.end();
    console.log(`planned switchover: ${res.out.trim()}; ${load.errors.length} client errors (${[...new Set(load.errors.map((e) => e.message))].slice(0, 3).join(' | ')})`);
    expect(await groupMaster(1)).toBe(target);
    const lost = await missing(portOf(target), load.acked);
    if (lost.length > 0) {
      for (const srv of await groupServers(1)) {
        const p = portOf(srv.replace(/:(master|replica)$/, ''));
        console.log(`${srv}: has ${lost.length - (await missing(p, lost)).length} of the ${lost.length} lost keys; ${JSON.stringify(Object.fromEntries(await info(p, 'replication')))}`);
      }
      console.log(dashboard.t.output().split('\n').filter((l) => /switchover|fenced|promoted|failover/.test(l)).slice(-8).join('\n'));
    }
    expect(lost).toEqual([]);
    await waitFor(async () => (await info(portOf(from), 'replication')).get('master_port') === String(portOf(target)), { timeoutMs: 10_000, what: 'the old master to follow' });
    const ev = await tessera(['events', '--group', '1']);
    expect(ev.out).toMatch(/switchover-done group 1/);
  }, 90_000);

  it('per-group down-after: a group with a longer one is not failed over before it, one with the default is; hold-down: a flapping new master is not replaced', async () => {
    const proxy = cluster.proxies[0]!.port;
    const set = await tessera(['failover-settings', '--group', '2', '--down-after', '3000']);
    expect(set).toMatchObject({ code: 0, err: '' });
    expect(set.out).toContain('group 2: down-after 3000 ms');
    await waitFor(async () => (await api<{ downAfterMs: number }>('GET', '/groups/2/status')).downAfterMs === 3000, { timeoutMs: 5000, what: 'the override to be taken up' });
    expect((await api<{ downAfterMs: number }>('GET', '/groups/1/status')).downAfterMs).toBe(1000);
    await waitFor(async () => {
      const st = await api<{ holdDownUntil: string | null; failover: { oldMasterDemoted: boolean } | null }>('GET', '/groups/1/status');
      return st.holdDownUntil === null && st.failover?.oldMasterDemoted === true;
    }, { timeoutMs: 15_000, what: 'group 1 to settle after the switchover' });
    const [old1, old2] = [(await groupMaster(1))!, (await groupMaster(2))!];
    const killedAt = Date.now();
    await Promise.all([byPort.get(portOf(old1))!.kill(), byPort.get(portOf(old2))!.kill()]);
    await waitFor(async () => (await groupMaster(1)) !== old1, { timeoutMs: 10_000, intervalMs: 20, what: 'group 1 (default down-after) to fail over' });
    const group1Ms = Date.now() - killedAt;
    // Group 1 switched (well within 3 s of the kill): group 2, held to 3 s, has not.
    expect(await groupMaster(2)).toBe(old2);
    await waitFor(async () => (await groupMaster(2)) !== old2, { timeoutMs: 15_000, intervalMs: 20, what: 'group 2 (down-after 3 s) to fail over' });
    const group2Ms = Date.now() - killedAt;
    console.log(`per-group down-after: group 1 (1 s) switched ${group1Ms} ms after the kill, group 2 (3 s) ${group2Ms} ms after`);
    const started = (await events('failover-started')).reverse();
    const reason = (g: number, old: string) => started.find((e) => e.group === g && e.message.includes(`master ${old} unreachable`))!.message;
    expect(reason(1, old1)).toMatch(/unreachable for \d+ ms \(down-after 1000 ms\)/);
    expect(reason(2, old2)).toMatch(/unreachable for \d+ ms \(down-after 3000 ms\)/);
    expect(Number(/unreachable for (\d+) ms/.exec(reason(2, old2))![1])).toBeGreaterThan(3000);
    expect(group2Ms).toBeGreaterThan(group1Ms);

    // Hold-down: group 1's new master stops answering past down-after right after its failover:
    // it is reported down, but nobody is promoted until the hold-down ends.
    expect(await tessera(['failover-settings', '--hold-down', '20000'])).toMatchObject({ code: 0 });
    const flapping = (await groupMaster(1))!;
    const failoversBefore = (await events('failover-started')).filter((e) => e.group === 1).length;
    byPort.get(portOf(flapping))!.proc.kill('SIGSTOP');
    try {
      const st = await waitFor(async () => {
        const s = await api<{ masterDown: boolean; masterDownForMs: number; holdDownUntil: string | null }>('GET', '/groups/1/status');
        return s.masterDown && s.masterDownForMs > 2500 ? s : null;
      }, { timeoutMs: 10_000, what: 'group 1 to be down for 2.5 s' });
      expect(st.holdDownUntil).not.toBeNull();
      expect(await groupMaster(1)).toBe(flapping);
    } finally {
      byPort.get(portOf(flapping))!.proc.kill('SIGCONT');
    }
    const c = client(proxy);
    await waitFor(async () => (await c.set(keyIn(1, 'flap', 0), 'x').catch(() => null)) === 'OK', { timeoutMs: 10_000, what: 'group 1 to take writes on the same master again' });
    expect(await groupMaster(1)).toBe(flapping);
    expect((await events('failover-started')).filter((e) => e.group === 1).length).toBe(failoversBefore);

    // Back to the file's settings; both old masters return as replicas (the next tests need them).
    await api('PUT', '/failover/settings', { holdDownMs: 1000, groups: {} });
    for (const old of [old1, old2]) {
      const h = byPort.get(portOf(old))!;
      const back = await startNode(['--repl-diskless-sync-delay', '0', ...NODE_ARGS], { port: h.port, dir: h.dir });
      byPort.set(back.port, back);
      extraNodes.push(back);
    }
    await waitFor(async () => (await groupServers(1)).includes(`${old1}:replica`) && (await groupServers(2)).includes(`${old2}:replica`), { timeoutMs: 20_000, what: 'the old masters back as replicas' });
  }, 90_000);

  it('replica-priority 0 is never promoted: the group stays down with an error naming it and recovers when its master returns', async () => {
    const proxy = cluster.proxies[0]!.port;
    const addr = (await groupMaster(2))!;
    const master = byPort.get(portOf(addr))!;
    const replicas = (await groupServers(2)).filter((s) => s.endsWith(':replica')).map((s) => byPort.get(portOf(s.replace(/:replica$/, '')))!);
    expect(replicas).toHaveLength(2);
    await waitFor(async () => {
      for (const r of replicas) if ((await info(r.port, 'replication')).get('master_link_status') !== 'up') return false;
      return true;
    }, { timeoutMs: 15_000, what: "group 2's replicas to be in sync" });
    for (const r of replicas) await client(r.port).config('SET', 'replica-priority', '0');
    await waitFor(async () => (await api<{ servers: Array<{ priority: number | null; storeRole: string }> }>('GET', '/groups/2/status')).servers.filter((s) => s.storeRole === 'replica').every((s) => s.priority === 0), { timeoutMs: 5000, what: 'the health check to see priority 0' });
    const other = setLoad(proxy, 1, 'k5');
    const killedAt = Date.now();
    await master.kill();
    const status = await waitFor(async () => {
      const s = await api<{ blocked: string | null; masterDown: boolean }>('GET', '/groups/2/status');
      return s.blocked ? s : null;
    }, { timeoutMs: 10_000, what: 'group 2 to be reported blocked' });
    expect(status.blocked).toMatch(/^group 2 is down: its master 127\.0\.0\.1:\d+ has not answered for [\d.]+ s and no replica can be promoted \(.*replica-priority 0/);
    // Well past down-after: still the same master (nobody promoted).
    await new Promise((r) => setTimeout(r, 1500));
    expect(await groupMaster(2)).toBe(addr);
    for (const r of replicas) expect((await info(r.port, 'replication')).get('role')).toBe('slave');
    await expectEvent('failover-blocked', (e) => e.group === 2);
    // One block event for this outage (an earlier test's failover of group 2 may have been blocked
    // for a tick while its replicas' probes timed out under load).
    expect((await events('failover-blocked')).filter((e) => e.group === 2 && Date.parse(e.at) >= killedAt).length).toBe(1);
    const cli = await tessera(['group', 'status', '2']);
    expect(cli.out).toContain('BLOCKED: group 2 is down');

    const back = await startNode(['--repl-diskless-sync-delay', '0', ...NODE_ARGS], { port: master.port, dir: master.dir });
    byPort.set(back.port, back);
    extraNodes.push(back);
    const c = client(proxy);
    await waitFor(async () => (await c.set(keyIn(2, 'back', 0), 'x')) === 'OK', { timeoutMs: 15_000, what: 'group 2 to take writes again' });
    await waitFor(async () => (await api<{ blocked: string | null }>('GET', '/groups/2/status')).blocked === null, { timeoutMs: 5000, what: 'the block to clear' });
    await other.end();
    expect(other.errors).toEqual([]);
    await expectEvent('group-recovered', (e) => e.group === 2);
  }, 90_000);

  it('a coordinator that dies right after writing the failover record is succeeded by one that finishes it', async () => {
    // Stop both dashboards; an in-process coordinator with the crash hook takes the lead.
    await Promise.all([dashboard.t.stop(), standby.t.stop()]);
    const nodes = new RedisNodeApi();
    const repl = new RedisReplicationAdmin();
    const probe = new RedisProbe();
    const leadership = new Leadership(cluster.store, cluster.product, { id: 'crashing', url: 'http://127.0.0.1:1', pid: process.pid, startedAt: new Date().toISOString() }, 1, () => {});
    const events2 = new EventLog(cluster.store, cluster.product, () => {});
    const serial = new Serial();
    const reconciler = new Reconciler(cluster.store, cluster.product, leadership, nodes, () => {});
    const fo = new Failover({ store: cluster.store, product: cluster.product, leader: leadership, nodes, repl, probe, reconciler, serial, events: events2, log: () => {} });
    fo.crashAfter = 'promoting';
    const master = (await groupMaster(1))!;
    try {
      leadership.start();
      await waitFor(() => leadership.role === 'leader', { timeoutMs: 10_000, what: 'the in-process coordinator to lead' });
      fo.start();
      await waitFor(() => fo.health.get(master)?.reachable, { timeoutMs: 5000, what: 'the first health check' });
      await byPort.get(portOf(master))!.kill();
      await waitFor(async () => (await fo.records()).get(1)?.phase === 'promoting' && (await fo.records()).get(1)?.oldMaster === master, { timeoutMs: 10_000, what: 'the failover record' });
      await waitFor(() => fo.crashAfter === null, { timeoutMs: 5000, what: 'the crash hook' });
    } finally {
      await fo.stop();
      await leadership.stop();
      await events2.flush();
      await Promise.all([nodes.close(), repl.close(), probe.close()]);
    }
    // Died before any node was told: the group still names the dead master.
    expect(await groupMaster(1)).toBe(master);
    const rec = (await fo.records()).get(1)!;
    await startDashboards();
    await waitFor(async () => (await fo.records()).get(1)?.phase === 'done', { timeoutMs: 15_000, what: 'the successor to finish the failover' });
    expect(await groupMaster(1)).toBe(rec.newMaster);
    await expectEvent('failover-resumed', (e) => e.group === 1);
    const c = client(cluster.proxies[0]!.port);
    await waitFor(async () => (await c.set(keyIn(1, 'after-crash', 0), 'x')) === 'OK', { timeoutMs: 10_000, what: 'writes to group 1' });
    const repl2 = await info(portOf(rec.newMaster), 'replication');
    expect(repl2.get('role')).toBe('master');
  }, 90_000);

  it('a second failover before the first old master returned keeps it pending; it is demoted when it comes back', async () => {
    const firstOld = (await api<{ failover: { oldMaster: string; oldMasterDemoted: boolean } }>('GET', '/groups/1/status')).failover;
    expect(firstOld.oldMasterDemoted).toBe(false); // killed in the previous test, still away
    await waitFor(async () => (await api<{ holdDownUntil: string | null }>('GET', '/groups/1/status')).holdDownUntil === null, { timeoutMs: 10_000, what: 'the hold-down to end' });
    const master = (await groupMaster(1))!;
    await byPort.get(portOf(master))!.kill();
    let last: unknown = null;
    const rec = await waitFor(async () => {
      const st = await api<{ failover: { oldMaster: string; phase: string; formerMasters?: string[] } }>('GET', '/groups/1/status');
      last = st;
      return st.failover.oldMaster === master && st.failover.phase === 'done' ? st.failover : null;
    }, { timeoutMs: 20_000, what: 'the second failover' }).catch((err: unknown) => {
      console.log(`second failover: last status ${JSON.stringify(last)}`);
      throw err;
    });
    expect(rec.formerMasters).toEqual([firstOld.oldMaster]);
    const dead = byPort.get(portOf(firstOld.oldMaster))!;
    const back = await startNode(['--repl-diskless-sync-delay', '0', ...NODE_ARGS], { port: dead.port, dir: dead.dir });
    byPort.set(back.port, back);
    extraNodes.push(back);
    const now = (await groupMaster(1))!;
    await waitFor(async () => (await groupServers(1)).includes(`${firstOld.oldMaster}:replica`), { timeoutMs: 15_000, what: 'the first old master back as a replica' });
    const repl = await info(back.port, 'replication');
    expect([repl.get('role'), repl.get('master_port')]).toEqual(['slave', String(portOf(now))]);
    // The record is updated after the group (the step order): poll for it, with a deadline.
    await waitFor(async () => ((await api<{ failover: { formerMasters?: string[] } }>('GET', '/groups/1/status')).failover.formerMasters ?? []).length === 0,
      { timeoutMs: 10_000, what: 'the failover record to drop the demoted former master' });
  }, 60_000);

  it('events for operators: a replica down and back; a master down with automatic failover off (reported once, not replaced) and back', async () => {
    const since = Date.now();
    const replicaAddr = (await groupServers(2)).find((x) => x.endsWith(':replica'))!.replace(/:replica$/, '');
    const replica = byPort.get(portOf(replicaAddr))!;
    const upSeries = `tessera_dashboard_server_up{group="2",addr="${replicaAddr}",role="replica"}`;
    const metrics = async () => {
      const res = await fetch(`${(await currentLeader(dashboards)).url}/metrics`, { headers: { authorization: `Bearer ${token.token}` } });
      return res.text();
    };
    expect(await metrics()).toContain(`${upSeries} 1`);
    replica.proc.kill('SIGSTOP');
    try {
      await expectEvent('replica-down', (e) => e.group === 2 && e.message.includes(replicaAddr));
      expect(await metrics()).toContain(`${upSeries} 0`);
    } finally {
      replica.proc.kill('SIGCONT');
    }
    await expectEvent('replica-up', (e) => e.group === 2 && e.message.includes(replicaAddr));
    const text = await waitFor(async () => { const t = await metrics(); return t.includes(`${upSeries} 1`) ? t : null; }, { timeoutMs: 5000, what: 'the replica up in /metrics' });
    expect(text).toMatch(new RegExp(`^tessera_dashboard_replica_link_up\\{group="2",addr="${replicaAddr}"\\} [01]$`, 'm'));
    expect(text).toMatch(new RegExp(`^tessera_dashboard_replica_lag_bytes\\{group="2",addr="${replicaAddr}"\\} \\d+$`, 'm'));

    await api('PUT', '/failover/settings', { auto: false });
    const addr = (await groupMaster(2))!;
    const master = byPort.get(portOf(addr))!;
    master.proc.kill('SIGSTOP');
    try {
      await expectEvent('master-down', (e) => e.group === 2 && e.message.includes(`master ${addr}`) && e.message.includes('automatic failover is off'));
      // Well past down-after: still the same master, and one event for this outage.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await groupMaster(2)).toBe(addr);
      expect((await events('master-down')).filter((e) => e.group === 2 && Date.parse(e.at) >= since)).toHaveLength(1);
    } finally {
      master.proc.kill('SIGCONT');
      await api('PUT', '/failover/settings', { auto: true });
    }
    await waitFor(async () => (await events('group-recovered')).some((e) => e.group === 2 && Date.parse(e.at) >= since), { timeoutMs: 5000, what: 'group 2 recovered' });
  }, 60_000);
});
