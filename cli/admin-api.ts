// `tessera admin --dashboard URL --token T …`: the admin verbs as a client of the coordinator's
// HTTP API (dashboard/). Errors name what was wrong: the HTTP status and the API's {code, message},
// or why the dashboard could not be reached. A standby's 503 NOT_LEADER is followed once to the
// leader it names.
import type { Command } from 'commander';
import type { FailoverSettings, MigrationBatchView } from '../common/model.js';
import type { ClusterStatus } from './admin.js';

/** How long one API call may take (the store may be slow; a hung dashboard must not hang the CLI). */
const REQUEST_TIMEOUT_MS = 15_000;

/** A bad option value, found before anything was sent: printed as `error: …`, exit code 1. */
export class UsageError extends Error {}

export class ApiCallError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export class DashboardClient {
  private base: string;

  constructor(url: string, private readonly token: string) {
    this.base = url.replace(/\/+$/, '');
    if (!/^https?:\/\/[^/\s]+$/.test(this.base)) throw new ApiCallError(`bad dashboard URL ${JSON.stringify(url)}: expected http://host:port`, null, null);
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let res = await this.send(method, path, body);
    if (res.status === 503 && res.json?.code === 'NOT_LEADER' && typeof res.json.leader === 'string') {
      // A standby answered: the leader it names takes the write.
      this.base = res.json.leader.replace(/\/+$/, '');
      res = await this.send(method, path, body);
    }
    if (res.status >= 200 && res.status < 300) return res.json as T;
    const code = typeof res.json?.code === 'string' ? res.json.code : null;
    const message = typeof res.json?.message === 'string' ? res.json.message : res.text.slice(0, 200);
    throw new ApiCallError(`${method} ${path}: HTTP ${res.status}${code ? ` ${code}` : ''}: ${message}`, res.status, code);
  }

  private async send(method: string, path: string, body: unknown): Promise<{ status: number; json: Record<string, any> | null; text: string }> {
    const url = `${this.base}/api/v1${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new ApiCallError(`cannot reach the dashboard at ${this.base}: ${why}`, null, null);
    }
    const text = await res.text();
    let json: Record<string, any> | null = null;
    try {
      json = JSON.parse(text) as Record<string, any>;
    } catch {
      /* not JSON: reported through `text` */
    }
    return { status: res.status, json, text };
  }
}

interface GroupReply { id: number; servers: Array<{ addr: string; role: 'master' | 'replica' }> }

export const apiCreateGroup = (c: DashboardClient, id: number) => c.call('POST', '/groups', { id });
export const apiDeleteGroup = (c: DashboardClient, id: number) => c.call('DELETE', `/groups/${id}`);
/** GET/PUT /migrations/settings. */
export interface MigrationSettingsReply {
  concurrency: number;
  batch: number;
  batchKeys: number;
  batchBytes: number;
  keysPerSecond: number;
  proxyAckTimeoutMs: number;
}

export const apiAddServer = (c: DashboardClient, id: number, addr: string, role: 'master' | 'replica', force = false) =>
  c.call<GroupReply>('POST', `/groups/${id}/servers`, force ? { addr, role, force } : { addr, role });
export const apiRemoveServer = (c: DashboardClient, id: number, addr: string) =>
  c.call<GroupReply>('DELETE', `/groups/${id}/servers/${encodeURIComponent(addr)}`);
export const apiAssignSlots = (c: DashboardClient, from: number, to: number, group: number) =>
  c.call<{ assigned: number; already: number }>('POST', '/slots/assign', { from, to, group });

export interface CoordinatorStatus extends ClusterStatus {
  leader: { id: string; url: string } | null;
  standbys: Array<{ id: string; url: string }>;
}

/** The same status as `admin --store … status`, from the API, plus the coordinators. */
export async function apiStatus(c: DashboardClient): Promise<CoordinatorStatus> {
  const [overview, groups, slots, proxies] = await Promise.all([
    c.call<{ product: string; leader: { id: string; url: string } | null; standbys: Array<{ id: string; url: string }> }>('GET', '/overview'),
    c.call<{ groups: GroupReply[] }>('GET', '/groups'),
    c.call<{ ranges: ClusterStatus['slots']; unassigned: number; migrating: number }>('GET', '/slots'),
    c.call<{ proxies: ClusterStatus['proxies'] }>('GET', '/proxies'),
  ]);
  return {
    product: overview.product,
    groups: groups.groups.map((g) => ({ id: g.id, servers: g.servers })),
    slots: slots.ranges,
    unassigned: slots.unassigned,
    migrating: slots.migrating,
    proxies: proxies.proxies.map((p) => ({ id: p.id, listen: p.listen, admin: p.admin, tableRevision: p.tableRevision })),
    leader: overview.leader ? { id: overview.leader.id, url: overview.leader.url } : null,
    standbys: overview.standbys.map((s) => ({ id: s.id, url: s.url })),
  };
}

export function formatCoordinators(st: CoordinatorStatus): string {
  const lines = [`coordinator leader: ${st.leader ? `${st.leader.url} (${st.leader.id})` : 'none elected'}`];
  for (const s of st.standbys) lines.push(`coordinator standby: ${s.url} (${s.id})`);
  return lines.join('\n');
}

// ---- migrations and rebalance (through the coordinator only) ----

/** GET /migrations/:id and the list. */
export type MigrationView = MigrationBatchView;

interface RebalancePlanReply {
  by: 'keys' | 'slots';
  groups: Array<{ id: number; slots: number; keys: number | null; slotsAfter: number; keysAfter: number | null }>;
  moves: Array<{ from: number; to: number; slots: string; count: number; keys: number | null }>;
  skipped?: string;
}

/** How often --wait and --watch ask the coordinator. */
const POLL_MS = 500;

export const apiMigrate = (c: DashboardClient, slots: string, to: number) => c.call<MigrationView>('POST', '/migrations', { slots, to });
export const apiMigration = (c: DashboardClient, id: string) => c.call<MigrationView>('GET', `/migrations/${encodeURIComponent(id)}`);
export const apiMigrations = (c: DashboardClient) => c.call<{ migrations: MigrationView[] }>('GET', '/migrations');
export const apiMigrationAction = (c: DashboardClient, id: string, action: 'pause' | 'resume' | 'cancel') =>
  c.call<{ changed: number }>('POST', `/migrations/${encodeURIComponent(id)}/${action}`);

export function formatBytes(n: number | null): string {
  if (n === null) return '?';
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}

export function formatMigration(m: MigrationView): string {
  const s = m.slots;
  const eta = m.etaSeconds === null ? '?' : `${m.etaSeconds}s`;
  const err = m.errors.length ? ` | retrying: slot ${m.errors[0]!.slot}: ${m.errors[0]!.error}` : '';
  return `${m.id} slots ${m.slotList} → group ${m.to}: ${m.state}, ${s.done}/${s.total} done` +
    `${s.cancelled ? `, ${s.cancelled} cancelled` : ''}${s.paused ? `, ${s.paused} paused` : ''}` +
    ` | keys ${m.keys.moved}${m.keys.remaining === null ? '' : ` (${m.keys.remaining} left)`} | ${formatBytes(m.bytes.moved)}` +
    ` | ${m.rate.keysPerSecond} keys/s | ETA ${eta}${err}`;
}

const finished = (m: MigrationView) => m.state === 'done' || m.state === 'cancelled';

/** Polls a migration until it is done or cancelled, with a progress bar on stderr; true if every slot is done. */
async function waitForMigration(c: DashboardClient, id: string, json: boolean): Promise<MigrationView> {
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = json ? null : new SingleBar({
    format: 'slots {bar} {value}/{total} | keys {keys} | {bytes} | {rate} keys/s | ETA {etaText} | {state}',
    noTTYOutput: true, notTTYSchedule: 2000, hideCursor: true, stream: process.stderr,
  }, Presets.shades_classic);
  let m = await apiMigration(c, id);
  const payload = (v: MigrationView) => ({
    keys: v.keys.moved, bytes: formatBytes(v.bytes.moved), rate: v.rate.keysPerSecond,
    etaText: v.etaSeconds === null ? '?' : `${v.etaSeconds}s`, state: v.state,
  });
  bar?.start(m.slots.total, m.slots.done + m.slots.cancelled, payload(m));
  try {
    while (!finished(m)) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      m = await apiMigration(c, id);
      bar?.update(m.slots.done + m.slots.cancelled, payload(m));
    }
  } finally {
    bar?.stop();
  }
  return m;
}

/**
 * The verbs: migrate, migrations, migration pause|resume|cancel, rebalance. `run` is cli/main.ts's
 * runAdmin for a coordinator-only verb (it finds the URL and token and reports ApiCallError).
 */
export function registerMigrationVerbs(admin: Command, run: (verb: string, api: (c: DashboardClient) => Promise<void>) => Promise<void>): void {
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  admin
    .command('migrate <slots>')
    .description('move slots (a-b,c,…) to a group online, through the coordinator')
    .requiredOption('--to <gid>', 'the group the slots move to')
    .option('--wait', 'wait with a progress bar; exit 0 only when every slot is done')
    .option('--json', 'JSON output')
    .action((slots: string, o: { to: string; wait?: boolean; json?: boolean }) => run('migrate', async (c) => {
      if (!/^\d+$/.test(o.to)) throw new ApiCallError(`--to must be a group id, got '${o.to}'`, null, null);
      const created = await apiMigrate(c, slots, Number(o.to));
      if (!o.wait) return say(o.json ? JSON.stringify(created) : `migration ${created.id}: ${formatMigration(created)}`);
      if (!o.json) process.stderr.write(`migration ${created.id}: slots ${created.slotList} → group ${created.to}\n`);
      const end = await waitForMigration(c, created.id, o.json === true);
      say(o.json ? JSON.stringify(end) : formatMigration(end));
      if (end.state !== 'done' || end.slots.done !== end.slots.total) process.exitCode = 1;
    }));

  admin
    .command('migrations')
    .description('migrations with progress')
    .option('--watch', 'refresh every 0.5 s until none is running')
    .option('--json', 'JSON output')
    .action((o: { watch?: boolean; json?: boolean }) => run('migrations', async (c) => {
      for (;;) {
        const { migrations } = await apiMigrations(c);
        if (o.json) say(JSON.stringify({ migrations }));
        else if (migrations.length === 0) say('no migrations');
        else for (const m of migrations) say(formatMigration(m));
        if (!o.watch || migrations.every(finished)) return;
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (!o.json) say('');
      }
    }));

  const migration = admin.command('migration').description('pause, resume or cancel a migration (by id m-…, or by slots)');
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    migration.command(`${action} <idOrSlots>`).action((id: string) => run(`migration ${action}`, async (c) => {
      const res = await apiMigrationAction(c, id, action);
      say(`${action}: ${res.changed} slot(s) changed`);
    }));
  }
  migration
    .command('settings')
    .description('show or change how migrations move data (taken up by running migrations at their next step)')
    .option('--keys-per-second <n>', 'throttle over all moving slots (0 = none)')
    .option('--concurrency <n>', 'slots moved at the same time')
    .option('--batch <n>', 'slots prepared per step (one epoch each)')
    .option('--batch-keys <n>', 'keys per mover call')
    .option('--batch-bytes <n>', 'bytes per mover call')
    .option('--json', 'JSON output')
    .action((o: Record<string, string | boolean | undefined>) => run('migration settings', async (c) => {
      const body: Record<string, number> = {};
      for (const [flag, field] of [['keysPerSecond', 'keysPerSecond'], ['concurrency', 'concurrency'], ['batch', 'batch'], ['batchKeys', 'batchKeys'], ['batchBytes', 'batchBytes']] as const) {
        const v = o[flag];
        if (v === undefined) continue;
        if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new UsageError(`--${flag.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)} takes a whole number, not '${String(v)}'`);
        body[field] = Number(v);
      }
      const s = Object.keys(body).length > 0
        ? await c.call<MigrationSettingsReply>('PUT', '/migrations/settings', body)
        : await c.call<MigrationSettingsReply>('GET', '/migrations/settings');
      say(o.json ? JSON.stringify(s) : `throttle ${s.keysPerSecond === 0 ? 'none' : `${s.keysPerSecond} keys/s`}, ${s.concurrency} slots at once, ${s.batch} slots per step, ${s.batchKeys} keys / ${s.batchBytes} bytes per mover call, proxy ack wait ${s.proxyAckTimeoutMs} ms`);
    }));

  admin
    .command('rebalance')
    .description('show the plan that evens out the groups (by keys when the nodes report slot stats); --apply starts it')
    .option('--apply', 'start the migrations of the plan')
    .option('--json', 'JSON output')
    .action((o: { apply?: boolean; json?: boolean }) => run('rebalance', async (c) => {
      if (o.apply) {
        const res = await c.call<{ plan: RebalancePlanReply; migrations: MigrationView[] }>('POST', '/rebalance');
        if (o.json) return say(JSON.stringify(res));
        say(formatPlan(res.plan));
        for (const m of res.migrations) say(`started ${formatMigration(m)}`);
        return;
      }
      const plan = await c.call<RebalancePlanReply>('GET', '/rebalance/plan');
      say(o.json ? JSON.stringify(plan) : formatPlan(plan));
    }));
}

function formatPlan(p: RebalancePlanReply): string {
  const lines = [`rebalance by ${p.by === 'keys' ? 'keys (slot stats)' : 'slot count'}`];
  for (const g of p.groups) lines.push(`group ${g.id}: ${g.slots} slots${g.keys === null ? '' : `, ${g.keys} keys`} → ${g.slotsAfter} slots${g.keysAfter === null ? '' : `, ${g.keysAfter} keys`}`);
  if (p.skipped) lines.push(`nothing planned: ${p.skipped}`);
  else if (p.moves.length === 0) lines.push('already balanced: nothing to move');
  for (const m of p.moves) lines.push(`move slots ${m.slots} (${m.count}${m.keys === null ? '' : `, ${m.keys} keys`}) from group ${m.from} to group ${m.to}`);
  return lines.join('\n');
}

// ---- failover (issue 9): promote, group status, events ----

interface ServerHealthReply {
  addr: string; storeRole: string; reachable: boolean; lastSeen: number | null; role: string | null;
  linkUp: boolean | null; offset: number | null; lagBytes: number | null; priority: number | null; lastError: string | null;
}
interface GroupStatusReply {
  group: number; master: string | null; masterDown: boolean; masterDownForMs: number; downAfterMs: number;
  servers: ServerHealthReply[]; failover: Record<string, unknown> | null; blocked: string | null; holdDownUntil: string | null;
}

export const apiPromote = (c: DashboardClient, gid: number, addr: string) => c.call<Record<string, unknown>>('POST', `/groups/${gid}/promote`, { addr });
export const apiGroupStatus = (c: DashboardClient, gid: number) => c.call<GroupStatusReply>('GET', `/groups/${gid}/status`);
export const apiEvents = (c: DashboardClient, q: { limit?: number; group?: number }) =>
  c.call<{ events: Array<{ at: string; type: string; group?: number; message: string }> }>('GET', `/events?limit=${q.limit ?? 50}${q.group ? `&group=${q.group}` : ''}`);

export function formatGroupStatus(s: GroupStatusReply): string {
  const now = Date.now();
  const lines = [`group ${s.group}: master ${s.master ?? '(none)'}${s.masterDown ? ` DOWN for ${(s.masterDownForMs / 1000).toFixed(1)} s` : ''} (down-after ${s.downAfterMs} ms)`];
  for (const h of s.servers) {
    const seen = h.lastSeen === null ? 'never seen' : `seen ${((now - h.lastSeen) / 1000).toFixed(1)} s ago`;
    const repl = h.role === 'replica' ? `, link ${h.linkUp ? 'up' : 'down'}, offset ${h.offset}, lag ${h.lagBytes ?? '?'} B, priority ${h.priority}` : h.role === 'master' ? `, offset ${h.offset}` : '';
    lines.push(`  ${h.addr} (${h.storeRole}): ${h.reachable ? `up, reports ${h.role}${repl}` : `unreachable: ${h.lastError ?? '?'}`}; ${seen}`);
  }
  if (s.blocked) lines.push(`  BLOCKED: ${s.blocked}`);
  if (s.failover) lines.push(`  last failover: ${String(s.failover.id)} ${String(s.failover.phase)} ${String(s.failover.oldMaster)} → ${String(s.failover.newMaster)} at epoch ${String(s.failover.epoch)}`);
  if (s.holdDownUntil) lines.push(`  held down (no automatic failover) until ${s.holdDownUntil}`);
  return lines.join('\n');
}

/** promote, group status, events. `group` is the `admin group` command. */
export function registerFailoverVerbs(admin: Command, group: Command, run: (verb: string, api: (c: DashboardClient) => Promise<void>) => Promise<void>): void {
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const gidOf = (gid: string) => {
    if (!/^\d+$/.test(gid)) throw new ApiCallError(`group id must be a number, got '${gid}'`, null, null);
    return Number(gid);
  };
  admin
    .command('promote <gid> <addr>')
    .description('planned switchover: make a replica the master of its group (writes paused until it caught up; nothing lost)')
    .option('--json', 'JSON output')
    .action((gid: string, addr: string, o: { json?: boolean }) => run('promote', async (c) => {
      const r = await apiPromote(c, gidOf(gid), addr);
      say(o.json ? JSON.stringify(r) : `group ${gid}: ${String(r.newMaster)} is the master (was ${String(r.oldMaster)}), epoch ${String(r.epoch)}, switched in ${String(r.switchMs)} ms`);
    }));
  group
    .command('status <gid>')
    .description("a group's health: per server reachable, role, link, offset, lag; failover state")
    .option('--json', 'JSON output')
    .action((gid: string, o: { json?: boolean }) => run('group status', async (c) => {
      const s = await apiGroupStatus(c, gidOf(gid));
      say(o.json ? JSON.stringify(s) : formatGroupStatus(s));
    }));
  admin
    .command('failover-settings')
    .description('show or change the health-check and failover settings; with --group GID, --down-after overrides that group only (--down-after default drops the override)')
    .option('--down-after <ms>', 'a master unreachable this long is failed over')
    .option('--hold-down <ms>', 'no automatic failover of a group this long after one')
    .option('--group <gid>', 'with --down-after: that group only')
    .option('--auto <on|off>', 'automatic failover on or off (off: masters found down are reported, never replaced)')
    .option('--json', 'JSON output')
    .action((o: { downAfter?: string; holdDown?: string; group?: string; auto?: string; json?: boolean }) => run('failover-settings', async (c) => {
      const cur = await c.call<FailoverSettings>('GET', '/failover/settings');
      const body: Partial<FailoverSettings> = {};
      if (o.group !== undefined && o.downAfter !== undefined) {
        const groups = { ...cur.groups };
        if (o.downAfter === 'default') delete groups[String(gidOf(o.group))];
        else groups[String(gidOf(o.group))] = { downAfterMs: Number(o.downAfter) };
        body.groups = groups;
      } else if (o.downAfter !== undefined) body.downAfterMs = Number(o.downAfter);
      if (o.holdDown !== undefined) body.holdDownMs = Number(o.holdDown);
      if (o.auto !== undefined) {
        if (o.auto !== 'on' && o.auto !== 'off') throw new UsageError(`--auto takes on or off, not '${o.auto}'`);
        body.auto = o.auto === 'on';
      }
      const s = Object.keys(body).length > 0 ? await c.call<FailoverSettings>('PUT', '/failover/settings', body) : cur;
      const per = Object.entries(s.groups).map(([g, v]) => `; group ${g}: down-after ${v.downAfterMs} ms`).join('');
      say(o.json ? JSON.stringify(s) : `down-after ${s.downAfterMs} ms, hold-down ${s.holdDownMs} ms, health every ${s.healthIntervalMs} ms, automatic ${s.auto ? 'on' : 'off'}${per}`);
    }));
  admin
    .command('events')
    .description('the coordinator event log (failovers, promotions, fencing, repairs), newest last')
    .option('--limit <n>', 'how many', '50')
    .option('--group <gid>', 'only this group')
    .option('--json', 'JSON output')
    .action((o: { limit: string; group?: string; json?: boolean }) => run('events', async (c) => {
      const { events } = await apiEvents(c, { limit: Number(o.limit), group: o.group ? gidOf(o.group) : undefined });
      if (o.json) return say(JSON.stringify({ events }));
      if (events.length === 0) say('no events');
      for (const e of events) say(`${e.at} ${e.type}${e.group ? ` group ${e.group}` : ''}: ${e.message}`);
    }));
}
