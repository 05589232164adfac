// `tessera admin --dashboard URL --token T …` end to end against running `tessera dashboard`
// processes (file store): every verb, errors that name what was wrong with a non-zero exit, the
// TESSERA_DASHBOARD / TESSERA_TOKEN environment, a standby's NOT_LEADER followed to the leader,
// the direct --store verbs unchanged; and `tessera up --json` starting a coordinator whose API answers.
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dashboard, adminVia, coordinatorToken, startDashboard as start, stopDashboards, tessera as cli } from '../../helpers/coordinator.js';
import { freePort } from '../../helpers/ports.js';
import { callOnce } from '../../helpers/raw-client.js';
import { TESSERA_BIN, type TrackedProcess, spawnTracked, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const PRODUCT = 'clitest';
const token = coordinatorToken('dash-cli');
const TOKEN = token.token;
const tokenFile = token.tokenFile;
const dir = token.dir;
const storeUrl = `file://${join(dir, 'store')}`;
const started: Dashboard[] = [];
const procs: TrackedProcess[] = [];
let leaderUrl = '';
let standbyUrl = '';

const startDashboard = async (): Promise<string> => (await start({ storeUrl, product: PRODUCT, token, logLevel: 'warn', started })).url;

const overview = async (url: string) =>
  (await (await fetch(`${url}/api/v1/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { self: { role: string }; standbys: unknown[] };

const tessera = (args: string[], env: Record<string, string> = {}) => cli(args, { env, timeoutMs: 30_000 });
const viaLeader = (...args: string[]) => adminVia(leaderUrl, token, args, { timeoutMs: 30_000 });

beforeAll(async () => {
  leaderUrl = await startDashboard();
  await waitFor(async () => (await overview(leaderUrl)).self.role === 'leader', { what: 'the first dashboard to lead' });
  standbyUrl = await startDashboard();
  await waitFor(async () => (await overview(leaderUrl)).standbys.length === 1, { what: 'the second dashboard to stand by' });
});

afterAll(async () => {
  await Promise.all(started.map((d) => d.t.stop()));
  await stopDashboards(started);
  await Promise.all(procs.map((p) => p.stop()));
  token.remove();
});

describe('tessera admin --dashboard', () => {
  it('group create/add/remove/delete and slots assign go through the API; status shows them', async () => {
    expect(await viaLeader('group', 'create', '1')).toMatchObject({ code: 0, out: 'group 1 created\n' });
    expect((await viaLeader('group', 'create', '2')).code).toBe(0);
    expect(await viaLeader('group', 'add', '1', '127.0.0.1:7001')).toMatchObject({ code: 0, out: 'group 1: 127.0.0.1:7001 (master)\n' });
    expect((await viaLeader('group', 'add', '1', '127.0.0.1:7002', '--replica')).out).toBe('group 1: 127.0.0.1:7001 (master), 127.0.0.1:7002 (replica)\n');
    expect((await viaLeader('group', 'add', '2', '127.0.0.1:7003')).code).toBe(0);
    expect(await viaLeader('slots', 'assign', '0-511', '1')).toMatchObject({ code: 0, out: 'slots 0-511 → group 1: 512 assigned, 0 already there\n' });
    expect((await viaLeader('slots', 'assign', '512-1023', '2')).code).toBe(0);
    expect((await viaLeader('group', 'remove', '1', '127.0.0.1:7002')).out).toBe('group 1: 127.0.0.1:7001 (master)\n');
    expect((await viaLeader('group', 'create', '3')).code).toBe(0);
    expect(await viaLeader('group', 'delete', '3')).toMatchObject({ code: 0, out: 'group 3 deleted\n' });

    const status = await viaLeader('status', '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({
      product: PRODUCT,
      groups: [{ id: 1, servers: [{ addr: '127.0.0.1:7001', role: 'master' }] }, { id: 2, servers: [{ addr: '127.0.0.1:7003', role: 'master' }] }],
      slots: [{ from: 0, to: 511, group: 1 }, { from: 512, to: 1023, group: 2 }],
      unassigned: 0,
      leader: { url: leaderUrl },
      standbys: [{ url: standbyUrl }],
    });
    const text = await viaLeader('status');
    expect(text.out).toContain('slots 0-511 → group 1\n');
    expect(text.out).toContain(`coordinator leader: ${leaderUrl}`);
    expect(text.out).toContain(`coordinator standby: ${standbyUrl}`);
    // The direct store verbs keep working and see the same cluster.
    const direct = await tessera(['admin', '--store', storeUrl, '--product', PRODUCT, 'status', '--json']);
    expect(direct.code).toBe(0);
    expect(JSON.parse(direct.out).slots).toEqual([{ from: 0, to: 511, group: 1 }, { from: 512, to: 1023, group: 2 }]);
  });

  it('errors name the HTTP status and the API message, with exit code 1', async () => {
    const owned = await viaLeader('slots', 'assign', '500-520', '2');
    expect(owned.code).toBe(1);
    expect(owned.err).toBe('error: POST /slots/assign: HTTP 409 SLOT_OWNED: slots 500-511 belong to group 1: only unassigned slots can be assigned; move owned slots with a migration (tessera admin migrate 500-511 --to 2)\n');
    const wrongToken = await tessera(['admin', '--dashboard', leaderUrl, '--token', 'nope', 'group', 'create', '9']);
    expect(wrongToken).toMatchObject({ code: 1, err: 'error: POST /groups: HTTP 401 TOKEN_INVALID: the token is wrong\n' });
    const missing = await viaLeader('group', 'add', '9', '127.0.0.1:7009');
    expect(missing).toMatchObject({ code: 1, err: 'error: POST /groups/9/servers: HTTP 404 NOT_FOUND: group 9 does not exist\n' });
    const badAddr = await viaLeader('group', 'add', '1', 'localhost');
    expect(badAddr.code).toBe(1);
    expect(badAddr.err).toMatch(/HTTP 400 BAD_REQUEST: body\/addr must match pattern/);
    const deadPort = await freePort();
    const unreachable = await tessera(['admin', '--dashboard', `http://127.0.0.1:${deadPort}`, '--token', 'x', 'status']);
    expect(unreachable).toMatchObject({ code: 1, err: `error: cannot reach the dashboard at http://127.0.0.1:${deadPort}: ECONNREFUSED\n` });
    const noToken = await tessera(['admin', '--dashboard', leaderUrl, 'status']);
    expect(noToken).toMatchObject({ code: 1, err: expect.stringMatching(/needs its token/) });
    const neither = await tessera(['admin', 'status']);
    expect(neither).toMatchObject({ code: 1, err: expect.stringMatching(/--dashboard URL --token T .* or --store URL --product NAME/) });
    const storeOnly = await tessera(['admin', '--store', storeUrl, '--product', PRODUCT, 'group', 'remove', '1', '127.0.0.1:7001']);
    expect(storeOnly).toMatchObject({ code: 1, err: expect.stringMatching(/'group remove' goes through the coordinator/) });
  });

  it('refuses a new master that holds keys unless --force; an empty one is added', async () => {
    const [full, empty] = await Promise.all([startNode(), startNode()]);
    try {
      await callOnce(full.port, 'SET', 'left-over', 'x');
      expect((await viaLeader('group', 'create', '20')).code).toBe(0);
      expect((await viaLeader('group', 'create', '21')).code).toBe(0);
      const refused = await viaLeader('group', 'add', '20', `127.0.0.1:${full.port}`);
      expect(refused).toMatchObject({ code: 1 });
      expect(refused.err).toBe(`error: POST /groups/20/servers: HTTP 409 NODE_NOT_EMPTY: 127.0.0.1:${full.port} holds 1 keys: a group's new master must be empty, or its keys would be served as the cluster's once the group owns their slots; empty it (FLUSHALL) or add it with force\n`);
      // A replica's data is replaced by its master's at the first sync: no check.
      expect((await viaLeader('group', 'add', '21', `127.0.0.1:${empty.port}`)).out).toBe(`group 21: 127.0.0.1:${empty.port} (master)\n`);
      expect((await viaLeader('group', 'add', '20', `127.0.0.1:${full.port}`, '--force')).out).toBe(`group 20: 127.0.0.1:${full.port} (master)\n`);
    } finally {
      for (const g of ['20', '21']) {
        const shown = JSON.parse((await viaLeader('status', '--json')).out) as { groups: Array<{ id: number; servers: Array<{ addr: string }> }> };
        for (const s of shown.groups.find((x) => String(x.id) === g)?.servers ?? []) await viaLeader('group', 'remove', g, s.addr);
        await viaLeader('group', 'delete', g);
      }
      await stopAll(full, empty);
    }
  });

  it('migration settings shows and changes the throttle and batch sizes, refusing bad numbers', async () => {
    const before = JSON.parse((await viaLeader('migration', 'settings', '--json')).out) as Record<string, number>;
    expect(before).toMatchObject({ concurrency: expect.any(Number), keysPerSecond: expect.any(Number), batchKeys: expect.any(Number) });
    try {
      const set = await viaLeader('migration', 'settings', '--keys-per-second', '500', '--batch-keys', '200');
      expect(set.code).toBe(0);
      expect(set.out).toMatch(/^throttle 500 keys\/s, \d+ slots at once, \d+ slots per step, 200 keys \/ \d+ bytes per mover call, proxy ack wait \d+ ms\n$/);
      expect(JSON.parse((await viaLeader('migration', 'settings', '--json')).out)).toMatchObject({ keysPerSecond: 500, batchKeys: 200 });
      expect(await viaLeader('migration', 'settings', '--concurrency', 'lots')).toMatchObject({ code: 1, err: "error: --concurrency takes a whole number, not 'lots'\n" });
      const tooMany = await viaLeader('migration', 'settings', '--concurrency', '999');
      expect(tooMany.code).toBe(1);
      expect(tooMany.err).toMatch(/HTTP 400 BAD_REQUEST: body\/concurrency must be <= 64/);
    } finally {
      await viaLeader('migration', 'settings', '--keys-per-second', String(before.keysPerSecond), '--batch-keys', String(before.batchKeys));
    }
  });

  it('reads TESSERA_DASHBOARD / TESSERA_TOKEN, and a write sent to the standby reaches the leader', async () => {
    const env = { TESSERA_DASHBOARD: standbyUrl, TESSERA_TOKEN: TOKEN };
    expect(await tessera(['admin', 'group', 'create', '4'], env)).toMatchObject({ code: 0, out: 'group 4 created\n' });
    const st = JSON.parse((await tessera(['admin', 'status', '--json'], env)).out);
    expect(st.groups.map((g: { id: number }) => g.id)).toEqual([1, 2, 4]);
    expect(st.leader.url).toBe(leaderUrl);
  });
});

describe('tessera up with a coordinator', () => {
  it('--json prints the dashboard URL and token, and its API answers', async () => {
    const upDir = join(dir, 'up');
    const ports = await Promise.all(Array.from({ length: 4 }, () => freePort()));
    const [nodePort, proxyPort, adminPort, dashboardPort] = ports as [number, number, number, number];
    const up = spawnTracked(process.execPath, [TESSERA_BIN, 'up', '--dir', upDir, '--groups', '1', '--replicas', '0', '--proxies', '1',
      '--port-base', String(nodePort), '--proxy-port', String(proxyPort), '--admin-port', String(adminPort), '--dashboard-port', String(dashboardPort), '--json']);
    procs.push(up);
    const line = await waitFor(() => {
      if (up.proc.exitCode !== null) throw new Error(`tessera up exited: ${up.output()}`);
      return up.output().split('\n').find((l) => l.startsWith('{'));
    }, { timeoutMs: 60_000, what: 'tessera up to print its JSON line' });
    const info = JSON.parse(line) as { dashboard: { url: string; token: string } };
    expect(info.dashboard.url).toBe(`http://127.0.0.1:${dashboardPort}`);
    expect(info.dashboard.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const headers = { authorization: `Bearer ${info.dashboard.token}` };
    const ov = await waitFor(async () => {
      const o = (await (await fetch(`${info.dashboard.url}/api/v1/overview`, { headers })).json()) as { self: { role: string }; counts: { proxies: number } };
      return o.self.role === 'leader' && o.counts.proxies === 1 ? o : null;
    }, { timeoutMs: 20_000, what: 'the coordinator under tessera up to lead and see the proxy' });
    expect(ov).toMatchObject({ product: 'tessera', counts: { groups: 1, servers: 1, slots: { online: 1024, unassigned: 0 } } });
    expect((await fetch(`${info.dashboard.url}/api/v1/groups`)).status).toBe(401);
    const proxies = (await (await fetch(`${info.dashboard.url}/api/v1/proxies`, { headers })).json()) as { proxies: Array<{ listen: string; upToDate: boolean }> };
    expect(proxies.proxies).toEqual([expect.objectContaining({ listen: `127.0.0.1:${proxyPort}`, upToDate: true })]);
    // The CLI reaches it with what tessera up printed.
    const st = await tessera(['admin', 'status', '--json'], { TESSERA_DASHBOARD: info.dashboard.url, TESSERA_TOKEN: info.dashboard.token });
    expect(JSON.parse(st.out).slots).toEqual([{ from: 0, to: 1023, group: 1 }]);
    // A supervised child like the others: SIGKILLed, it is restarted and leads again once the
    // old lease has expired.
    const oldPid = (ov as unknown as { self: { pid: number } }).self.pid;
    process.kill(oldPid, 'SIGKILL');
    await waitFor(async () => {
      const o = (await (await fetch(`${info.dashboard.url}/api/v1/overview`, { headers })).json()) as { self: { role: string; pid: number } };
      return o.self.pid !== oldPid && o.self.role === 'leader';
    }, { timeoutMs: 30_000, intervalMs: 100, what: 'the restarted coordinator to lead' });
    expect(up.output()).toMatch(/dashboard 127\.0\.0\.1:\d+ exited \(signal SIGKILL\)/);
    // SIGTERM: the supervisor stops the node, proxy and coordinator in turn (each within its own
    // grace) and exits 0; bounded at 20 s, not spawnTracked's 5 s before SIGKILL, which a loaded
    // 2-core machine exceeded once (CI, 2026-12-02).
    const exited = once(up.proc, 'exit');
    up.proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`tessera up did not exit within 20 s of SIGTERM:\n${up.output().slice(-2000)}`)), 20_000))]);
    expect(up.proc.exitCode).toBe(0);
  }, 120_000);
});
