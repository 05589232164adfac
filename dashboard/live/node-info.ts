// What the dashboard shows of a node, read from INFO (server, memory, stats, replication,
// keyspace, commandstats, and Tessera's own tessera section: latency over the last 10 s) and TESSERA.SLOTS STATS, over one ioredis connection per node with
// bounded timeouts: a node that hangs makes its row say so, never the sampler wait.
import { Redis } from 'ioredis';
import { compactSlots } from '../coordinator/node-client.js';

const CONNECT_TIMEOUT_MS = 1_000;
const CALL_TIMEOUT_MS = 1_000;

export interface NodeInfo {
  role: string | null;
  linkUp: boolean | null;
  /** master_repl_offset (a replica's: the offset it processed). */
  offset: number | null;
  /** A master's replicas as it sees them: addr → offset. */
  replicaOffsets: Map<string, number>;
  keys: number;
  memory: number;
  opsPerSec: number;
  /** Totals of commandstats, for a per-interval µs/call. */
  calls: number;
  usec: number;
  /** INFO tessera: p99 µs over the node's recent window (null: no calls timed in it, or not a Tessera node). */
  recentP99Us: number | null;
  recentCalls: number;
}

/** INFO text → the fields above. Unknown or missing fields stay null/0. */
export function parseInfo(text: string): NodeInfo {
  const f = new Map<string, string>();
  const out: NodeInfo = { role: null, linkUp: null, offset: null, replicaOffsets: new Map(), keys: 0, memory: 0, opsPerSec: 0, calls: 0, usec: 0, recentP99Us: null, recentCalls: 0 };
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i <= 0 || line.startsWith('#')) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1);
    if (/^db\d+$/.test(k)) out.keys += Number(/keys=(\d+)/.exec(v)?.[1] ?? 0);
    else if (k.startsWith('cmdstat_')) {
      out.calls += Number(/calls=(\d+)/.exec(v)?.[1] ?? 0);
      out.usec += Number(/usec=(\d+)/.exec(v)?.[1] ?? 0);
    } else if (/^slave\d+$/.test(k)) {
      const ip = /ip=([^,]+)/.exec(v)?.[1];
      const port = /port=(\d+)/.exec(v)?.[1];
      const offset = /offset=(\d+)/.exec(v)?.[1];
      if (ip && port && offset) out.replicaOffsets.set(`${ip}:${port}`, Number(offset));
    } else f.set(k, v);
  }
  const num = (k: string) => (f.has(k) ? Number(f.get(k)) : null);
  out.role = f.get('role') ?? null;
  out.linkUp = out.role === 'slave' ? f.get('master_link_status') === 'up' : null;
  out.offset = out.role === 'slave' ? num('slave_repl_offset') ?? num('master_repl_offset') : num('master_repl_offset');
  out.memory = num('used_memory') ?? 0;
  out.opsPerSec = num('instantaneous_ops_per_sec') ?? 0;
  out.recentCalls = num('recent_latency_calls') ?? 0;
  out.recentP99Us = out.recentCalls > 0 ? num('recent_latency_p99_usec') : null;
  return out;
}

export class NodeStatsClient {
  private readonly conns = new Map<string, Redis>();

  constructor(private readonly password: string | null) {}

  private conn(addr: string): Redis {
    let c = this.conns.get(addr);
    if (!c) {
      const i = addr.lastIndexOf(':');
      c = new Redis({
        host: addr.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(addr.slice(i + 1)), password: this.password ?? undefined,
        connectTimeout: CONNECT_TIMEOUT_MS, commandTimeout: CALL_TIMEOUT_MS, enableOfflineQueue: false, maxRetriesPerRequest: 0,
        enableReadyCheck: false, retryStrategy: () => 1000, connectionName: 'tessera-dashboard-stats', protocol: 2,
      });
      c.on('error', () => {}); // shown through the failing calls
      this.conns.set(addr, c);
    }
    return c;
  }

  /** The connection, once ready: a new one gets CONNECT_TIMEOUT_MS (the first sample must not show every server down). */
  private async ready(addr: string): Promise<Redis> {
    const c = this.conn(addr);
    if (c.status === 'ready') return c;
    if (c.status !== 'connecting' && c.status !== 'connect' && c.status !== 'wait') throw new Error(`${addr}: not connected (${c.status})`);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => done(new Error(`${addr}: no connection within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      const onReady = () => done(null);
      const onClose = () => done(new Error(`${addr}: connection refused or closed`));
      function done(err: Error | null) {
        clearTimeout(t);
        c.off('ready', onReady);
        c.off('close', onClose);
        if (err) reject(err);
        else resolve();
      }
      c.once('ready', onReady);
      c.once('close', onClose);
    });
    return c;
  }

  async info(addr: string): Promise<NodeInfo> {
    const c = await this.ready(addr);
    return parseInfo(String(await c.call('INFO', 'server', 'memory', 'stats', 'replication', 'keyspace', 'commandstats', 'tessera')));
  }

  /** Keys and bytes per slot of `slots` on a cluster-mode master. */
  async slotStats(addr: string, slots: readonly number[]): Promise<Array<[number, number, number]>> {
    if (slots.length === 0) return [];
    const c = await this.ready(addr);
    const reply = await c.call('TESSERA.SLOTS', 'STATS', compactSlots(slots));
    if (!Array.isArray(reply)) throw new Error(`${addr}: unexpected TESSERA.SLOTS STATS reply`);
    return reply.map((r) => (r as unknown[]).map(Number) as [number, number, number]);
  }

  /** Drops connections to servers no longer in any group. */
  retain(addrs: ReadonlySet<string>): void {
    for (const [addr, c] of this.conns) {
      if (addrs.has(addr)) continue;
      c.disconnect();
      this.conns.delete(addr);
    }
  }

  close(): void {
    for (const c of this.conns.values()) c.disconnect();
    this.conns.clear();
  }
}
