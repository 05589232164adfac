// `tessera dashboard` processes for integration tests, and the two ways tests talk to them: the
// HTTP API (/api/v1, bearer token) and the `tessera` CLI. One token file per test file
// (coordinatorToken), any number of dashboards on it (startDashboard), each ended by the test's
// afterAll (stopDashboards) even when a start fails.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { TESSERA_BIN, type TrackedProcess, spawnTracked } from './servers.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

export interface CoordinatorToken {
  token: string;
  /** A temporary directory holding the token file (tests may put more in it). */
  dir: string;
  tokenFile: string;
  /** Removes the directory. */
  remove(): void;
}

export function coordinatorToken(name: string): CoordinatorToken {
  const dir = mkdtempSync(join(tmpdir(), `tessera-${name}-`));
  const tokenFile = join(dir, 'token');
  const token = `${name}-token`;
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  return { token, dir, tokenFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ApiReply<T = any> {
  status: number;
  json: T;
}

/** One API call; the reply whatever its status. */
export async function apiCall<T = any>(url: string, token: string, method: string, path: string, body?: unknown): Promise<ApiReply<T>> {
  const r = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: r.status, json: (await r.json()) as T };
}

export interface Dashboard {
  url: string;
  t: TrackedProcess;
  /** An API call that must succeed (throws with the status and reply otherwise). */
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** 'leader', 'standby' or 'stopped', as the dashboard reports itself. */
  role(): Promise<string>;
}

export interface DashboardOptions {
  storeUrl: string;
  product: string;
  token: CoordinatorToken;
  /** --leader-ttl in seconds (the dashboard's default when absent). */
  leaderTtl?: number;
  logLevel?: string;
  /** Resolve once it listens (default) or once it leads. */
  until?: 'listening' | 'leading';
  /** Extra environment for this process only (e.g. TESSERA_TEST_CRASH_AFTER). */
  env?: Record<string, string>;
  /** Every started dashboard is pushed here (for the afterAll). */
  started?: Dashboard[];
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const port = await freePort();
  const args = [TESSERA_BIN, 'dashboard', '--store', o.storeUrl, '--product', o.product, '--listen', `127.0.0.1:${port}`, '--token-file', o.token.tokenFile, '--log-level', o.logLevel ?? 'info'];
  if (o.leaderTtl !== undefined) args.push('--leader-ttl', String(o.leaderTtl));
  const t = withEnv(o.env ?? {}, () => spawnTracked(process.execPath, args));
  const url = `http://127.0.0.1:${port}`;
  const d: Dashboard = {
    url, t,
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const r = await apiCall<T>(url, o.token.token, method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    },
    role: async () => (await apiCall<{ self: { role: string } }>(url, o.token.token, 'GET', '/overview')).json.self.role,
  };
  o.started?.push(d);
  await waitFor(async () => {
    if (t.proc.exitCode !== null || t.proc.signalCode !== null) throw new Error(`dashboard exited: ${t.output()}`);
    try {
      return o.until === 'leading' ? (await d.role()) === 'leader' : (await fetch(`${url}/api/v1/openapi.json`)).ok;
    } catch {
      return false; // not listening yet
    }
  }, { timeoutMs: 30_000, what: `the dashboard on ${url} to ${o.until === 'leading' ? 'lead' : 'listen'}` });
  return d;
}

/** spawn copies the environment when it is called: set, spawn, restore. */
function withEnv<T>(env: Record<string, string>, fn: () => T): T {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    return fn();
  } finally {
    for (const [k, v] of saved) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `tessera …` to completion with the environment minus TESSERA_* (plus `env`). */
export async function tessera(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_')));
  try {
    const { stdout, stderr } = await run(process.execPath, [TESSERA_BIN, ...args], { env: { ...base, ...opts.env }, timeout: opts.timeoutMs ?? 60_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: err.stdout ?? '', err: err.stderr ?? '' };
  }
}

/** `tessera admin --dashboard URL --token-file F …` */
export function adminVia(url: string, token: CoordinatorToken, args: string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  return tessera(['admin', '--dashboard', url, '--token-file', token.tokenFile, ...args], opts);
}

const alive = (d: Dashboard) => d.t.proc.exitCode === null && d.t.proc.signalCode === null;

/** The running dashboard of `list` that leads now (waits for one: leadership can move under load). */
export function currentLeader(list: readonly Dashboard[], timeoutMs = 20_000): Promise<Dashboard> {
  return waitFor(async () => {
    for (const d of list) if (alive(d) && (await d.role().catch(() => null)) === 'leader') return d;
    return null;
  }, { timeoutMs, what: 'a dashboard to lead' });
}

/** An API call to whichever dashboard of `list` leads, re-sent if leadership moved meanwhile. */
export async function leaderApi<T = any>(list: readonly Dashboard[], method: string, path: string, body?: unknown): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const d = await currentLeader(list);
    try {
      return await d.api<T>(method, path, body);
    } catch (err) {
      if (attempt >= 5 || !/NOT_LEADER/.test((err as Error).message)) throw err;
    }
  }
}

/** Kills every dashboard that is still running (afterAll). */
export async function stopDashboards(list: readonly Dashboard[]): Promise<void> {
  await Promise.all(list.filter(alive).map((d) => d.t.kill()));
}
