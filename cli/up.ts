// `tessera up`: a whole local cluster in one command — nodes (persistent, one directory each under
// --dir), groups and an even slot assignment in the store, proxies, a coordinator — run by a supervisor in the
// foreground. A child that exits after start is reported and restarted with back-off while the rest
// keeps serving; only a failure during start stops everything. SIGINT/SIGTERM stop every child
// cleanly (nodes save on SIGTERM). Secrets reach children through the environment, never argv.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { assignEvenly, masterOf } from '../common/model.js';
import { openStore } from '../common/store/open-store.js';
import { SLOT_COUNT } from '../common/slots.js';
import { addServer, assignSlots, clusterStatus, createGroup } from './admin.js';

export interface UpOptions {
  dir: string;
  groups: number;
  replicas: number;
  proxies: number;
  store?: string;
  product: string;
  portBase: number;
  proxyPort: number;
  adminPortBase: number;
  /** Port of the coordinator's HTTP API (tessera dashboard). */
  dashboardPort: number;
  json: boolean;
  /** File holding the password of the whole cluster (nodes' requirepass, proxies' too). */
  requirepassFile?: string;
}

const BIN = resolve(import.meta.dirname, '../../bin/tessera');

/** Restart back-off: 100 ms doubling to 5 s; a child that stayed up this long starts over at 100 ms. */
export const RESTART_MIN_MS = 100;
export const RESTART_MAX_MS = 5000;
export const STABLE_AFTER_MS = 10_000;
/** How long start (or a restarted child) may take to listen: loading a big AOF takes a while. */
const START_TIMEOUT_MS = 60_000;
/** How long a child may take to exit after SIGTERM (a node saves its dataset first). */
const STOP_TIMEOUT_MS = 30_000;

/** Delay before the next restart of a child that failed `failuresInARow` times in a row (0 = first). */
export function restartDelayMs(failuresInARow: number): number {
  return Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.min(failuresInARow, 16));
}

/**
 * After a child that had failed `failuresInARow` times in a row exits having run `upMs`: how long
 * to wait, and the new count (a child that stayed up STABLE_AFTER_MS starts over).
 */
export function restartPlan(failuresInARow: number, upMs: number): { delayMs: number; failuresInARow: number } {
  const failures = upMs >= STABLE_AFTER_MS ? 0 : failuresInARow;
  return { delayMs: restartDelayMs(failures), failuresInARow: failures + 1 };
}

interface ChildSpec {
  /** "node 16379 (group 1 master)", "proxy 127.0.0.1:19000": names it in every log line. */
  name: string;
  args: string[];
  env: Record<string, string>;
  logFile: string;
  /** host:port it listens on once ready. */
  addr: string;
}

interface Child {
  spec: ChildSpec;
  proc: ChildProcess | null;
  startedAt: number;
  failuresInARow: number;
  restarts: number;
  restartTimer: NodeJS.Timeout | null;
}

export async function runUp(opts: UpOptions): Promise<void> {
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const storeUrl = opts.store ?? `file://${resolve(dir, 'store')}`;
  const children: Child[] = [];
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  const say = (msg: string) => {
    if (!opts.json) process.stdout.write(`${msg}\n`);
  };
  // Supervisor events go to stderr: with --json, stdout carries the one JSON line only.
  const event = (msg: string) => process.stderr.write(`${new Date().toISOString()} tessera up: ${msg}\n`);

  const stopAll = async (code: number, why?: string) => {
    if (phase === 'stopping') return;
    phase = 'stopping';
    if (why) event(why);
    await Promise.all(children.map((c) => stopChild(c)));
    process.exit(code);
  };

  const launch = (c: Child) => {
    const { spec } = c;
    const log = openSync(spec.logFile, 'a');
    // Own process group: a terminal's Ctrl-C reaches the supervisor only, which then stops the
    // children in order. The IPC channel is the orphan guard: a child whose supervisor died (even
    // by SIGKILL) sees it disconnect and shuts down (cli/main.ts).
    const proc = spawn(process.execPath, [BIN, ...spec.args], {
      stdio: ['ignore', log, log, 'ipc'],
      detached: true,
      env: spec.env,
    });
    closeSync(log);
    c.proc = proc;
    c.startedAt = Date.now();
    proc.once('exit', (code, signal) => onExit(c, proc, code, signal));
    // A spawn that fails outright (no 'exit' follows) counts as an exit with code 1.
    proc.once('error', (err) => {
      event(`${spec.name} could not be started: ${err.message}`);
      if (proc.pid === undefined) onExit(c, proc, 1, null);
    });
  };

  const onExit = (c: Child, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null) => {
    if (c.proc === proc) c.proc = null;
    const how = signal !== null ? `signal ${signal}` : `exit code ${code}`;
    if (phase === 'stopping') return;
    if (phase === 'starting') return void stopAll(1, `${c.spec.name} exited during start (${how}); stopping the cluster — see ${c.spec.logFile}`);
    const upMs = Date.now() - c.startedAt;
    const plan = restartPlan(c.failuresInARow, upMs);
    const delay = plan.delayMs;
    c.failuresInARow = plan.failuresInARow;
    event(`${c.spec.name} exited (${how}) after ${(upMs / 1000).toFixed(1)} s; restarting in ${delay} ms — see ${c.spec.logFile}`);
    const exitedAt = Date.now();
    c.restartTimer = setTimeout(() => {
      c.restartTimer = null;
      if (phase !== 'running') return;
      c.restarts++;
      launch(c);
      const started = c.proc!;
      void waitForPort(c.spec.addr, START_TIMEOUT_MS, () => started.exitCode === null && started.signalCode === null && phase === 'running').then(
        () => event(`${c.spec.name} is back (pid ${started.pid}, restart ${c.restarts}), serving ${Date.now() - exitedAt} ms after it exited`),
        () => {}, // it exited again (reported by onExit) or we are stopping
      );
    }, delay);
  };

  const start = (spec: ChildSpec) => {
    const c: Child = { spec, proc: null, startedAt: 0, failuresInARow: 0, restarts: 0, restartTimer: null };
    children.push(c);
    launch(c);
    return c;
  };

  process.on('SIGINT', () => void stopAll(0, 'SIGINT: stopping every node, proxy and the dashboard'));
  process.on('SIGTERM', () => void stopAll(0, 'SIGTERM: stopping every node, proxy and the dashboard'));
  // The terminal went away: stop cleanly rather than leave the children to the orphan guard.
  process.on('SIGHUP', () => void stopAll(0, 'SIGHUP: stopping every node, proxy and the dashboard'));

  try {
    const secrets = clusterSecrets(dir, opts.requirepassFile);
    const baseEnv = childEnv();
    const groups: Array<{ id: number; master: string; replicas: string[] }> = [];
    const nodeEnv = { ...baseEnv, ...(secrets.requirepass ? { TESSERA_REQUIREPASS: secrets.requirepass, TESSERA_MASTERAUTH: secrets.requirepass } : {}) };
    const startNode = (port: number, what: string, extra: string[]) => {
      const nodeDir = resolve(dir, `node-${port}`);
      mkdirSync(nodeDir, { recursive: true });
      start({
        name: `node ${port} (${what})`,
        // Persistent like a production Redis: the AOF (everysec) keeps every acknowledged write
        // across a crash of the process, the default save rules keep a snapshot besides.
        // No diskless-sync delay: replicas of a local cluster should attach at once.
        // Cluster mode: the node serves only the slots the coordinator told it (so slots can migrate).
        args: ['node', '--port', String(port), '--bind', '127.0.0.1', '--dir', nodeDir,
          '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '3600 1 300 100 60 10000',
          '--repl-diskless-sync-delay', '0', '--slot-ownership', 'yes', ...extra],
        env: nodeEnv,
        logFile: resolve(dir, `node-${port}.log`),
        addr: `127.0.0.1:${port}`,
      });
      return `127.0.0.1:${port}`;
    };
    let port = opts.portBase;
    for (let g = 1; g <= opts.groups; g++) {
      const masterPort = port++;
      const master = startNode(masterPort, `group ${g} master`, []);
      const replicas: string[] = [];
      for (let r = 0; r < opts.replicas; r++) replicas.push(startNode(port++, `group ${g} replica`, ['--replicaof', '127.0.0.1', String(masterPort)]));
      groups.push({ id: g, master, replicas });
    }
    await Promise.all(children.map((c) => waitForPort(c.spec.addr, START_TIMEOUT_MS, () => phase === 'starting')));

    const store = await openStore(storeUrl);
    try {
      await registerCluster(store, opts.product, groups, event);
    } finally {
      await store.close();
    }

    const proxyEnv = {
      ...baseEnv,
      TESSERA_ADMIN_TOKEN: secrets.adminToken,
      TESSERA_ADMIN_PASSWORD: secrets.adminPassword,
      ...(secrets.requirepass ? { TESSERA_BACKEND_PASSWORD: secrets.requirepass, TESSERA_PROXY_REQUIREPASS: secrets.requirepass } : {}),
    };
    const proxies: Array<{ listen: string; admin: string }> = [];
    const proxyChildren: Child[] = [];
    for (let i = 0; i < opts.proxies; i++) {
      const listen = `127.0.0.1:${opts.proxyPort + i}`;
      const admin = `127.0.0.1:${opts.adminPortBase + i}`;
      proxyChildren.push(start({
        name: `proxy ${listen}`,
        args: ['proxy', '--listen', listen, '--admin', admin, '--store', storeUrl, '--product', opts.product],
        env: proxyEnv,
        logFile: resolve(dir, `proxy-${opts.proxyPort + i}.log`),
        addr: listen,
      }));
      proxies.push({ listen, admin });
    }
    // The coordinator, supervised like the rest: it campaigns for the product's leader lock and
    // serves the admin API (tessera admin --dashboard URL --token T …).
    const dashboardAddr = `127.0.0.1:${opts.dashboardPort}`;
    const dashboardUrl = `http://${dashboardAddr}`;
    const dashboardChild = start({
      name: `dashboard ${dashboardAddr}`,
      args: ['dashboard', '--listen', dashboardAddr, '--store', storeUrl, '--product', opts.product],
      env: { ...baseEnv, TESSERA_TOKEN: secrets.dashboardToken, TESSERA_PROXY_ADMIN_TOKEN: secrets.adminToken, ...(secrets.requirepass ? { TESSERA_NODE_PASSWORD: secrets.requirepass } : {}) },
      logFile: resolve(dir, 'dashboard.log'),
      addr: dashboardAddr,
    });
    await Promise.all([...proxyChildren, dashboardChild].map((c) => waitForPort(c.spec.addr, START_TIMEOUT_MS, () => phase === 'starting')));
    // The nodes refuse every key until the coordinator told them their slots: ready means reconciled.
    await waitForReconciled(groups.map((g) => g.master), secrets.requirepass, START_TIMEOUT_MS, () => phase === 'starting');
    if (phase !== 'starting') return; // a child failed; stopAll is under way
    phase = 'running';

    if (opts.json) {
      process.stdout.write(`${JSON.stringify({
        product: opts.product, store: storeUrl, dir, proxies: proxies.map((p) => p.listen), admin: proxies.map((p) => p.admin), groups,
        adminTokenFile: secrets.adminTokenFile, adminPasswordFile: secrets.adminPasswordFile,
        dashboard: { url: dashboardUrl, token: secrets.dashboardToken }, dashboardTokenFile: secrets.dashboardTokenFile,
      })}\n`);
    } else {
      say(`Tessera cluster "${opts.product}" is up (store ${storeUrl})`);
      for (const g of groups) say(`  group ${g.id}: master ${g.master}${g.replicas.length ? `, replicas ${g.replicas.join(' ')}` : ''}`);
      for (const p of proxies) say(`  proxy ${p.listen}  (admin http://${p.admin})`);
      say(`  dashboard ${dashboardUrl}  (token ${secrets.dashboardToken}, also in ${secrets.dashboardTokenFile})`);
      say(`    tessera admin --dashboard ${dashboardUrl} --token-file ${secrets.dashboardTokenFile} status`);
      say(`Data and logs: ${dir} (one directory per node: AOF + RDB; kept across restarts on the same --dir)`);
      say(`Admin API token: ${secrets.adminTokenFile}; CONFIG through the proxy: AUTH admin <the password in ${secrets.adminPasswordFile}>`);
      say(`Try: redis-cli -p ${opts.proxyPort}${secrets.requirepass ? ' -a <password>' : ''} ping    — Ctrl-C stops everything (nodes save first).`);
    }
  } catch (err) {
    await stopAll(1, `tessera up failed: ${(err as Error).message}`);
  }
}

/** SIGTERM (the node saves, the proxy deregisters), SIGKILL after STOP_TIMEOUT_MS; no restart. */
function stopChild(c: Child): Promise<void> {
  if (c.restartTimer) clearTimeout(c.restartTimer);
  const proc = c.proc;
  if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise<void>((r) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    proc.once('exit', () => {
      clearTimeout(t);
      r();
    });
    proc.kill('SIGTERM');
  });
}

/** The supervisor's environment minus any TESSERA_* secret a child would otherwise inherit. */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = { TESSERA_SUPERVISED: '1' };
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TESSERA_')) env[k] = v;
  return env;
}

interface ClusterSecrets {
  requirepass: string;
  adminToken: string;
  adminTokenFile: string;
  adminPassword: string;
  adminPasswordFile: string;
  dashboardToken: string;
  dashboardTokenFile: string;
}

/**
 * The admin token, admin password and dashboard token live in --dir (mode 0600, created on first start, kept
 * after), so a restarted cluster keeps them. The optional cluster password comes from
 * --requirepass-file or TESSERA_REQUIREPASS.
 */
function clusterSecrets(dir: string, requirepassFile: string | undefined): ClusterSecrets {
  const adminTokenFile = resolve(dir, 'admin-token');
  const adminPasswordFile = resolve(dir, 'admin-password');
  const dashboardTokenFile = resolve(dir, 'dashboard-token');
  let requirepass = process.env.TESSERA_REQUIREPASS ?? '';
  if (requirepassFile !== undefined) requirepass = readFileSync(requirepassFile, 'utf8').replace(/\r?\n$/, '');
  return {
    requirepass, adminToken: secretFile(adminTokenFile), adminTokenFile, adminPassword: secretFile(adminPasswordFile), adminPasswordFile,
    dashboardToken: secretFile(dashboardTokenFile), dashboardTokenFile,
  };
}

function secretFile(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = randomBytes(24).toString('base64url');
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}

/**
 * Groups, servers and the slot table in the store. On a restart over the same --dir they are
 * already there and kept as they are (slots are assigned only while none is).
 */
async function registerCluster(
  store: Awaited<ReturnType<typeof openStore>>,
  product: string,
  groups: Array<{ id: number; master: string; replicas: string[] }>,
  event: (msg: string) => void,
): Promise<void> {
  const before = await clusterStatus(store, product);
  for (const g of groups) {
    const known = before.groups.find((x) => x.id === g.id);
    if (!known) await createGroup(store, product, g.id);
    const have = new Set(known?.servers.map((s) => s.addr) ?? []);
    if (known && masterOf(known) !== null && masterOf(known) !== g.master) {
      event(`warning: the store says group ${g.id}'s master is ${masterOf(known)}, not ${g.master} (was --port-base changed?); keeping the store's`);
      continue;
    }
    if (!have.has(g.master)) await addServer(store, product, g.id, g.master, 'master');
    for (const r of g.replicas) if (!have.has(r)) await addServer(store, product, g.id, r, 'replica');
  }
  if (before.unassigned === SLOT_COUNT) {
    for (const r of assignEvenly(groups.map((g) => g.id))) await assignSlots(store, product, r.from, r.to, r.group);
  }
}

/** Polls each master's INFO slots until the coordinator confirmed its ownership (epoch > 0). */
async function waitForReconciled(masters: string[], password: string | null | undefined, timeoutMs: number, keepTrying: () => boolean): Promise<void> {
  const { Redis } = await import('ioredis');
  const deadline = Date.now() + timeoutMs;
  for (const addr of masters) {
    const i = addr.lastIndexOf(':');
    const c = new Redis({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)), password: password || undefined, maxRetriesPerRequest: 0, lazyConnect: true });
    c.on('error', () => {});
    try {
      for (;;) {
        const info = await c.info('slots').catch(() => '');
        if (/ownership_confirmed:1/.test(info) && !/config_epoch:0\r?\n/.test(info)) break;
        if (!keepTrying()) throw new Error(`gave up waiting for ${addr} to be told its slots`);
        if (Date.now() > deadline) throw new Error(`the coordinator did not tell ${addr} its slots within ${timeoutMs} ms (see dashboard.log)`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      c.disconnect();
    }
  }
}

/**
 * Resolves when host:port accepts TCP connections; rejects after timeoutMs, or as soon as
 * `keepTrying()` says false (the child exited, the cluster is stopping).
 */
export async function waitForPort(addr: string, timeoutMs: number, keepTrying: () => boolean = () => true): Promise<void> {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i);
  const port = Number(addr.slice(i + 1));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host, port }, () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (!keepTrying()) throw new Error(`gave up waiting for ${addr}`);
    if (Date.now() > deadline) throw new Error(`${addr} did not start listening within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
