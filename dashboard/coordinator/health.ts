// Health checks: the leader PINGs and reads INFO replication of every server of every group every
// `healthIntervalMs`, on connections of its own (never the admin or mover connections, whose
// calls may legitimately take seconds), each call bounded by a timeout. What it keeps per server:
// reachable or not since when, the role and master the server reports, the link state and offset
// of a replica (and its lag behind its master's offset), its replica-priority, last seen.
// A master unreachable for longer than down-after is "down": failover.ts acts on it.
// Unreachable counts from the last reply RECEIVED: a probe that misses its tick's bound stays in
// flight (up to `lateMs`), and if its reply still arrives the server is alive (busy, not dead): that
// reply resets the clock, so a loaded master is not failed over for answering late. A refused or
// reset connection fails the probe at once, so a killed server is seen as fast as before.
import type { Group } from '../../common/model.js';
import { NodeLinks } from './node-links.js';

/** What one probe found (INFO replication fields, parsed). */
export interface ProbeResult {
  role: 'master' | 'replica';
  /** A replica's master (host:port), null on a master. */
  masterAddr: string | null;
  linkUp: boolean;
  /** master_repl_offset on a master; slave_repl_offset on a replica. */
  offset: number;
  /** replica-priority (slave_priority); 100 when the server does not say. */
  priority: number;
  replid: string;
}

export interface NodeProbe {
  probe(addr: string, timeoutMs: number): Promise<ProbeResult>;
  close(): Promise<void>;
}

export interface ServerHealth {
  addr: string;
  group: number;
  /** The role the store gives it. */
  storeRole: 'master' | 'replica';
  reachable: boolean;
  /** ms since the epoch of the last answer; null = never answered this coordinator. */
  lastSeen: number | null;
  /** Since when it has not answered (null while reachable). */
  downSince: number | null;
  lastError: string | null;
  /** From its last answer. */
  role: 'master' | 'replica' | null;
  masterAddr: string | null;
  linkUp: boolean | null;
  offset: number | null;
  priority: number | null;
  /** A replica: its master's offset minus its own (null if either is unknown). */
  lagBytes: number | null;
}

/** The real probe: PING then INFO replication, on links of its own (never the admin or mover ones). */
export class RedisProbe implements NodeProbe {
  private readonly links: NodeLinks;

  constructor(password: string | null = null) {
    this.links = new NodeLinks({ name: 'tessera-health', password, connectTimeoutMs: 1000, retryMs: 100 });
  }

  async probe(addr: string, timeoutMs: number): Promise<ProbeResult> {
    // A stopped (SIGSTOP) server never answers: the link is dropped on timeout so the next probe
    // does not queue behind this one.
    const o = { timeoutMs, resetOnTimeout: true, failFast: true };
    const [, info] = await Promise.all([this.links.call(addr, ['PING'], o), this.links.call(addr, ['INFO', 'replication'], o)]);
    return parseReplicationInfo(String(info));
  }

  /** Forgets servers no longer in any group. */
  retain(addrs: ReadonlySet<string>): void {
    this.links.retain(addrs);
  }

  close(): Promise<void> {
    return this.links.close();
  }
}

export function parseReplicationInfo(info: string): ProbeResult {
  const f = new Map<string, string>();
  for (const line of info.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) f.set(line.slice(0, i), line.slice(i + 1));
  }
  const role = f.get('role') === 'slave' ? 'replica' : 'master';
  const host = f.get('master_host');
  const port = f.get('master_port');
  return {
    role,
    masterAddr: role === 'replica' && host && port ? `${host.includes(':') ? `[${host}]` : host}:${port}` : null,
    linkUp: role === 'master' || f.get('master_link_status') === 'up',
    offset: Number(role === 'replica' ? f.get('slave_repl_offset') : f.get('master_repl_offset')) || 0,
    priority: f.has('slave_priority') ? Number(f.get('slave_priority')) : 100,
    replid: f.get('master_replid') ?? '',
  };
}

/** Per-server health of the servers in the store's groups, updated by check(). */
export class HealthTable {
  private readonly servers = new Map<string, ServerHealth>();

  constructor(private readonly probe: NodeProbe) {}

  /**
   * Probes every server of `groups` at once (each bounded by timeoutMs). `keep`: servers outside
   * the groups whose probe connections must stay open (old masters waiting to be demoted).
   */
  async check(groups: Iterable<Group>, timeoutMs: number, keep: Iterable<string> = [], now = Date.now, lateMs = timeoutMs): Promise<void> {
    const seen = new Set<string>();
    const jobs: Array<Promise<void>> = [];
    for (const g of groups) {
      for (const s of g.servers) {
        seen.add(s.addr);
        let h = this.servers.get(s.addr);
        if (!h) {
          h = {
            addr: s.addr, group: g.id, storeRole: s.role, reachable: false, lastSeen: null, downSince: now(), lastError: 'not checked yet',
            role: null, masterAddr: null, linkUp: null, offset: null, priority: null, lagBytes: null,
          };
          this.servers.set(s.addr, h);
        }
        h.group = g.id;
        h.storeRole = s.role;
        jobs.push(this.checkOne(h, timeoutMs, Math.max(timeoutMs, lateMs), now));
      }
    }
    await Promise.all(jobs);
    for (const addr of [...this.servers.keys()]) if (!seen.has(addr)) this.servers.delete(addr);
    this.computeLag();
    for (const addr of keep) seen.add(addr);
    if (this.probe instanceof RedisProbe) this.probe.retain(seen);
  }

  /** Probes still waiting for their reply past their tick (one per server at most). */
  private readonly inflight = new Map<string, Promise<unknown>>();

  /**
   * Waits for the server's probe at most timeoutMs. A probe still in flight from an earlier tick is
   * waited for again rather than doubled (a busy server gets one probe at a time); whenever it
   * settles, even after this tick, its outcome is recorded (a late reply = alive, now).
   */
  private async checkOne(h: ServerHealth, timeoutMs: number, lateMs: number, now: () => number): Promise<void> {
    const addr = h.addr;
    let p = this.inflight.get(addr);
    if (!p) {
      const started: Promise<unknown> = this.probe.probe(addr, lateMs).then(
        (r) => this.answered(addr, r, now),
        (err: unknown) => this.failed(addr, (err as Error).message, now),
      ).finally(() => {
        if (this.inflight.get(addr) === started) this.inflight.delete(addr);
      });
      this.inflight.set(addr, (p = started));
    }
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([p.then(() => false), new Promise<boolean>((res) => (timer = setTimeout(res, timeoutMs, true)))]);
    clearTimeout(timer);
    if (late) this.failed(addr, `${addr} did not answer within ${timeoutMs} ms (still waiting for its reply)`, now);
  }

  private answered(addr: string, r: ProbeResult, now: () => number): void {
    const h = this.servers.get(addr);
    if (h) Object.assign(h, { reachable: true, lastSeen: now(), downSince: null, lastError: null, ...pick(r) });
  }

  private failed(addr: string, why: string, now: () => number): void {
    const h = this.servers.get(addr);
    if (!h) return;
    // Down since its last answer (as Sentinel counts), not since the first probe that failed.
    if (h.reachable || h.downSince === null) h.downSince = h.lastSeen ?? now();
    h.reachable = false;
    h.lastError = why;
  }

  private computeLag(): void {
    for (const h of this.servers.values()) {
      const master = h.masterAddr ? this.servers.get(h.masterAddr) : undefined;
      h.lagBytes = h.role === 'replica' && master?.offset != null && h.offset != null ? Math.max(0, master.offset - h.offset) : null;
    }
  }

  get(addr: string): ServerHealth | undefined {
    return this.servers.get(addr);
  }

  ofGroup(id: number): ServerHealth[] {
    return [...this.servers.values()].filter((h) => h.group === id);
  }

  all(): ServerHealth[] {
    return [...this.servers.values()];
  }

  /** How long the server has not answered (0 while it answers or before it was ever checked). */
  downFor(addr: string, now = Date.now()): number {
    const h = this.servers.get(addr);
    return h && !h.reachable && h.downSince !== null ? now - h.downSince : 0;
  }
}

function pick(r: ProbeResult): Partial<ServerHealth> {
  return { role: r.role, masterAddr: r.masterAddr, linkUp: r.linkUp, offset: r.offset, priority: r.priority };
}

/**
 * The replica to promote: reachable, replica-priority not 0, highest offset; ties go to the lower
 * (preferred) priority, then the address (so two coordinators pick the same). null with the
 * reasons when none can be promoted.
 */
export function chooseReplica(candidates: readonly ServerHealth[]): { addr: string } | { addr: null; reasons: string[] } {
  const reasons: string[] = [];
  const ok: ServerHealth[] = [];
  for (const h of candidates) {
    if (h.storeRole !== 'replica') continue;
    if (!h.reachable) reasons.push(`${h.addr} is unreachable (${h.lastError ?? 'no answer'})`);
    else if (h.priority === 0) reasons.push(`${h.addr} has replica-priority 0 (never promoted)`);
    else if (h.role !== 'replica' || h.offset === null) reasons.push(`${h.addr} is not replicating`);
    else ok.push(h);
  }
  if (ok.length === 0) return { addr: null, reasons: reasons.length > 0 ? reasons : ['the group has no replica'] };
  ok.sort((a, b) => (b.offset! - a.offset!) || (a.priority! - b.priority!) || a.addr.localeCompare(b.addr));
  return { addr: ok[0]!.addr };
}
