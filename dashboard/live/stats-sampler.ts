// Samples what the API's stored state cannot say: per server (role, link, offset lag, keys,
// memory, ops/s, last seen) from INFO, per proxy (sessions, QPS, p99, errors) from its admin
// /stats, per group the sums, and per slot keys/bytes from TESSERA.SLOTS STATS. Every call is
// bounded (1 s) and all of them run in parallel, so one sample costs at most about a second
// whatever is down. The last few minutes of QPS and p99 (each point the p99 of the trailing 10 s
// the proxy or node reports) are kept per proxy and per group in fixed-size rings for the charts.

import { NodeStatsClient, type NodeInfo } from './node-info.js';

const PROXY_TIMEOUT_MS = 1_000;
/** Points per series: 5 minutes at one sample a second. */
export const HISTORY_POINTS = 300;
/** A command counts for a proxy's p99 when it carried at least this share of the interval's requests. */
const P99_SHARE = 0.01;

export interface SampleTargets {
  groups: Array<{ id: number; servers: Array<{ addr: string; role: string }>; master: string | null }>;
  proxies: Array<{ id: string; admin: string; listen: string }>;
  /** Slots online in each group (for the per-slot stats). */
  slotsOf(group: number): number[];
}

export interface ServerStats {
  addr: string;
  group: number;
  /** The role the store gives it. */
  storeRole: string;
  reachable: boolean;
  /** The role it reports (master / slave), null while unreachable. */
  role: string | null;
  linkUp: boolean | null;
  offset: number | null;
  /** Bytes behind its group's master (replicas), null when unknown. */
  lagBytes: number | null;
  keys: number | null;
  memory: number | null;
  opsPerSec: number | null;
  /** ms since the epoch of the last answer, null if it never answered. */
  lastSeen: number | null;
  error: string | null;
}

export interface GroupStats {
  id: number;
  keys: number | null;
  memory: number | null;
  opsPerSec: number;
  /** Mean µs per command over the last interval, over the group's servers (INFO commandstats). */
  usPerCall: number | null;
  /**
   * The highest recent p99 (µs, INFO tessera: the last 10 s) among the group's servers that ran
   * commands in it; percentiles of different servers cannot be merged, so the worst one stands.
   */
  p99Us: number | null;
  serversUp: number;
  servers: number;
}

export interface ProxyStats {
  id: string;
  reachable: boolean;
  sessions: number | null;
  qps: number | null;
  errorsPerSec: number | null;
  errors: number | null;
  /** p99 µs over the proxy's recent window (admin /stats `recent`, the last 10 s); see busiestP99 for older proxies. */
  p99Us: number | null;
  redirects: number | null;
  error: string | null;
}

export interface StatsSnapshot {
  at: number;
  servers: ServerStats[];
  groups: GroupStats[];
  proxies: ProxyStats[];
  totals: { keys: number; memory: number; opsPerSec: number; qps: number };
}

export interface SeriesView {
  t: number[];
  qps: number[];
  latencyUs: Array<number | null>;
}

class Ring {
  readonly t: number[] = [];
  readonly qps: number[] = [];
  readonly lat: Array<number | null> = [];

  push(t: number, qps: number, lat: number | null): void {
    this.t.push(t);
    this.qps.push(qps);
    this.lat.push(lat);
    if (this.t.length > HISTORY_POINTS) {
      this.t.shift();
      this.qps.shift();
      this.lat.shift();
    }
  }

  view(): SeriesView {
    return { t: [...this.t], qps: [...this.qps], latencyUs: [...this.lat] };
  }
}

interface ProxyReply {
  ops?: { total?: number; errors?: number; redirects?: number };
  sessions?: { alive?: number };
  commands?: Record<string, { calls: number; p99_us: number }>;
  /** The proxy's recent window over all commands (proxies from before it lack it). */
  recent?: { samples?: number; p99_us?: number };
}

export class StatsSampler {
  private readonly nodes: NodeStatsClient;
  private readonly lastSeen = new Map<string, number>();
  private readonly prevNode = new Map<string, { at: number; calls: number; usec: number }>();
  private readonly prevProxy = new Map<string, { at: number; total: number; errors: number; calls: Map<string, number> }>();
  private readonly rings = new Map<string, Ring>();

  constructor(nodePassword: string | null, private readonly proxyToken: string | null) {
    this.nodes = new NodeStatsClient(nodePassword);
  }

  async sample(targets: SampleTargets, now = Date.now()): Promise<StatsSnapshot> {
    const all = targets.groups.flatMap((g) => g.servers.map((s) => ({ ...s, group: g.id })));
    this.nodes.retain(new Set(all.map((s) => s.addr)));
    const [infos, proxies] = await Promise.all([
      Promise.all(all.map((s) => this.nodes.info(s.addr).then((i) => ({ ok: true as const, i }), (e: Error) => ({ ok: false as const, e })))),
      Promise.all(targets.proxies.map((p) => this.proxy(p, now))),
    ]);
    const byAddr = new Map<string, NodeInfo>();
    const servers: ServerStats[] = all.map((s, k) => {
      const r = infos[k]!;
      if (r.ok) {
        this.lastSeen.set(s.addr, now);
        byAddr.set(s.addr, r.i);
      }
      return {
        addr: s.addr, group: s.group, storeRole: s.role, reachable: r.ok,
        role: r.ok ? r.i.role : null, linkUp: r.ok ? r.i.linkUp : null, offset: r.ok ? r.i.offset : null, lagBytes: null,
        keys: r.ok ? r.i.keys : null, memory: r.ok ? r.i.memory : null, opsPerSec: r.ok ? r.i.opsPerSec : null,
        lastSeen: this.lastSeen.get(s.addr) ?? null, error: r.ok ? null : r.e.message,
      };
    });
    const groups = targets.groups.map((g) => this.groupStats(g, servers, byAddr, now));
    for (const g of groups) this.ring(`group:${g.id}`).push(now, g.opsPerSec, g.p99Us);
    for (const p of proxies) this.ring(`proxy:${p.id}`).push(now, p.qps ?? 0, p.p99Us);
    this.dropRings(new Set([...groups.map((g) => `group:${g.id}`), ...proxies.map((p) => `proxy:${p.id}`)]));
    return {
      at: now, servers, groups, proxies,
      totals: {
        keys: groups.reduce((n, g) => n + (g.keys ?? 0), 0),
        memory: groups.reduce((n, g) => n + (g.memory ?? 0), 0),
        opsPerSec: groups.reduce((n, g) => n + g.opsPerSec, 0),
        qps: proxies.reduce((n, p) => n + (p.qps ?? 0), 0),
      },
    };
  }

  /** Keys and bytes per slot (from each group's master; slots of an unreachable master stay 0). */
  async slotStats(targets: SampleTargets): Promise<{ keys: number[]; bytes: number[] }> {
    const keys = new Array<number>(1024).fill(0);
    const bytes = new Array<number>(1024).fill(0);
    await Promise.all(targets.groups.map(async (g) => {
      if (!g.master) return;
      try {
        for (const [slot, k, b] of await this.nodes.slotStats(g.master, targets.slotsOf(g.id))) {
          if (slot >= 0 && slot < 1024) {
            keys[slot] = k;
            bytes[slot] = b;
          }
        }
      } catch {
        /* a plain node (no slot ownership) or one that is down: no per-slot figures */
      }
    }));
    return { keys, bytes };
  }

  history(): Record<string, SeriesView> {
    return Object.fromEntries([...this.rings].map(([k, r]) => [k, r.view()]));
  }

  close(): void {
    this.nodes.close();
  }

  private groupStats(g: SampleTargets['groups'][number], servers: ServerStats[], byAddr: Map<string, NodeInfo>, now: number): GroupStats {
    const mine = servers.filter((s) => s.group === g.id);
    const master = g.master ? byAddr.get(g.master) : undefined;
    // Lag: the master's offset minus what each replica reports processing.
    for (const s of mine) {
      if (s.addr === g.master || s.offset === null || !master || master.offset === null) continue;
      s.lagBytes = Math.max(0, master.offset - s.offset);
    }
    let calls = 0;
    let usec = 0;
    let p99: number | null = null;
    for (const s of mine) {
      const i = byAddr.get(s.addr);
      if (!i) continue;
      if (i.recentP99Us !== null && (p99 === null || i.recentP99Us > p99)) p99 = i.recentP99Us;
      const prev = this.prevNode.get(s.addr);
      this.prevNode.set(s.addr, { at: now, calls: i.calls, usec: i.usec });
      if (prev && i.calls >= prev.calls) {
        calls += i.calls - prev.calls;
        usec += i.usec - prev.usec;
      }
    }
    return {
      id: g.id,
      keys: master ? master.keys : null,
      memory: master ? master.memory : null,
      opsPerSec: mine.reduce((n, s) => n + (s.opsPerSec ?? 0), 0),
      usPerCall: calls > 0 ? Math.round((usec / calls) * 10) / 10 : null,
      p99Us: p99,
      serversUp: mine.filter((s) => s.reachable).length,
      servers: mine.length,
    };
  }

  private async proxy(p: SampleTargets['proxies'][number], now: number): Promise<ProxyStats> {
    const empty = { id: p.id, sessions: null, qps: null, errorsPerSec: null, errors: null, p99Us: null, redirects: null };
    try {
      const res = await fetch(`http://${p.admin}/stats`, {
        headers: this.proxyToken ? { authorization: `Bearer ${this.proxyToken}` } : {},
        signal: AbortSignal.timeout(PROXY_TIMEOUT_MS),
      });
      if (!res.ok) return { ...empty, reachable: false, error: `admin /stats answered ${res.status}` };
      const body = (await res.json()) as ProxyReply;
      const total = body.ops?.total ?? 0;
      const errors = body.ops?.errors ?? 0;
      const calls = new Map(Object.entries(body.commands ?? {}).map(([k, v]) => [k, v.calls]));
      const prev = this.prevProxy.get(p.id);
      this.prevProxy.set(p.id, { at: now, total, errors, calls });
      const dt = prev ? (now - prev.at) / 1000 : 0;
      const fresh = prev && dt > 0 && total >= prev.total;
      return {
        id: p.id, reachable: true, error: null,
        sessions: body.sessions?.alive ?? null,
        qps: fresh ? Math.round((total - prev.total) / dt) : null,
        errorsPerSec: fresh ? Math.round((errors - prev.errors) / dt) : null,
        errors,
        p99Us: body.recent ? ((body.recent.samples ?? 0) > 0 ? body.recent.p99_us ?? null : null) : busiestP99(body.commands ?? {}, prev?.calls),
        redirects: body.ops?.redirects ?? null,
      };
    } catch (err) {
      return { ...empty, reachable: false, error: `admin /stats: ${(err as Error).message}` };
    }
  }

  private ring(key: string): Ring {
    let r = this.rings.get(key);
    if (!r) this.rings.set(key, (r = new Ring()));
    return r;
  }

  private dropRings(keep: Set<string>): void {
    for (const k of this.rings.keys()) if (!keep.has(k)) this.rings.delete(k);
  }
}

/**
 * For a proxy without a recent window (an older version during an upgrade): the highest p99
 * since its start among the commands that carried at least P99_SHARE of the interval's requests.
 */
function busiestP99(commands: Record<string, { calls: number; p99_us: number }>, prev: Map<string, number> | undefined): number | null {
  if (!prev) return null;
  const deltas = Object.entries(commands).map(([k, v]) => [v, v.calls - (prev.get(k) ?? 0)] as const).filter(([, d]) => d > 0);
  const sum = deltas.reduce((n, [, d]) => n + d, 0);
  let best: number | null = null;
  for (const [v, d] of deltas) if (d >= sum * P99_SHARE && (best === null || v.p99_us > best)) best = v.p99_us;
  return best;
}
