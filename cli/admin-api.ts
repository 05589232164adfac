// `tessera admin --dashboard URL --token T …`: the admin verbs as a client of the coordinator's
// HTTP API (dashboard/). Errors name what was wrong: the HTTP status and the API's {code, message},
// or why the dashboard could not be reached. A standby's 503 NOT_LEADER is followed once to the
// leader it names.
import type { ClusterStatus } from './admin.js';

/** How long one API call may take (the store may be slow; a hung dashboard must not hang the CLI). */
const REQUEST_TIMEOUT_MS = 15_000;

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

  async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
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
export const apiAddServer = (c: DashboardClient, id: number, addr: string, role: 'master' | 'replica') =>
  c.call<GroupReply>('POST', `/groups/${id}/servers`, { addr, role });
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
