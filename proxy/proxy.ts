// The proxy process: accepts clients, owns the backend pool, the topology (store watch) and the
// stats. Holds no cluster state of its own beyond the last table it applied.
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { acceptWithCopiedReads } from '../common/net/copied-reads.js';
import { PROTECTED_MODE_TEXT, isLocalAddress } from '../common/protected-mode.js';
import type { CoordStore } from '../common/store/coord-store.js';
import { BackendPool } from './backend/pool.js';
import type { ProxyConfig } from './config.js';
import { PROXY_VERSION } from './local-commands.js';
import { ProxySession } from './session.js';
import { ProxyStats } from './stats.js';
import { SubscriptionHub } from './pubsub/hub.js';
import { Topology } from './topology.js';
import type { Totals } from './workers-stats.js';

/** A worker of a multi-worker proxy: which one, of how many. */
export interface WorkerRole {
  index: number;
  count: number;
}

/** How long a stopping proxy lets clients' requests already read finish before it closes them. */
export const SHUTDOWN_GRACE_MS = 5000;
/** How long a stopping proxy waits for the store to drop its registration (the lease lapses anyway). */
const STORE_LEAVE_MS = 2000;

export class Proxy {
  readonly pool: BackendPool;
  readonly topology: Topology;
  readonly stats = new ProxyStats();
  /** The shared subscriber links (one per master) behind every client's (P|S)SUBSCRIBE. */
  readonly subscriptions: SubscriptionHub;
  readonly sessions = new Set<ProxySession>();
  nextSessionId = 1;
  private server: Server | null = null;
  /** While stopping: called when the last session has closed. */
  private drained: (() => void) | null = null;
  /** In a worker: the other workers' counters (sent by the primary every second), for INFO. */
  peers: Totals | null = null;

  constructor(
    readonly config: ProxyConfig,
    readonly store: CoordStore,
    readonly log: (msg: string) => void,
    /** Set in a worker of a multi-worker proxy (its primary registers the proxy in the store). */
    readonly worker: WorkerRole | null = null,
  ) {
    this.pool = new BackendPool(config.backendConnections, (addr) => ({
      password: config.backendPassword || undefined,
      label: labelFor(this.topology, addr),
      timeoutMs: config.backendTimeout,
      pingIntervalMs: config.backendPingInterval,
    }), config.backendBlockingLinks);
    this.topology = new Topology(store, config.product, {
      id: config.id,
      listen: config.listen,
      admin: config.admin,
      version: PROXY_VERSION,
      tableRevision: '0',
      pid: process.pid,
      startedAt: new Date().toISOString(),
    }, log, worker === null);
    this.subscriptions = new SubscriptionHub(this);
    this.topology.on('changed', (rev) => {
      const addrs = new Set<string>();
      for (const g of this.topology.groups.values()) for (const s of g.servers) addrs.add(s.addr);
      this.pool.retain(addrs);
      for (const s of this.sessions) s.onTopologyChanged();
      log(`applied slot table revision ${rev}`);
    });
  }

  async start(): Promise<void> {
    await this.topology.start();
    const [host, port] = splitHostPort(this.config.listen);
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen({ host, port }, () => resolve());
    });
    acceptWithCopiedReads(this.server);
    // An accept that fails is logged, as the node (and Redis) does, never fatal.
    this.server.on('error', (err) => this.log(`accepting a client connection: ${err.message}`));
    this.log(`proxy ${this.config.id} listening on ${this.config.listen} (product ${this.config.product}, store ${this.config.store})`);
  }

  private accept(socket: Socket): void {
    if (this.protectedModeRefuses(socket)) {
      socket.on('error', () => {});
      socket.end(`-DENIED ${PROTECTED_MODE_TEXT}\r\n`);
      return;
    }
    this.stats.totalConnections++;
    if (ProxySession.refuseWhenFull(this, socket)) return;
    this.sessions.add(new ProxySession(this, socket));
  }

  /**
   * Redis 7's protected mode, whatever `listen` says: with no requirepass, only clients from
   * 127.0.0.1 or ::1 are served (a proxy bound to a public address by mistake is not an open door).
   */
  private protectedModeRefuses(socket: Socket): boolean {
    return this.config.protectedMode && this.config.requirepass === '' && !isLocalAddress(socket.remoteAddress);
  }

  /**
   * A request starting with POST or Host: is an HTTP request smuggled at the proxy (a web page in a
   * local browser): like Redis, log it and close the connection before anything is forwarded.
   */
  securityAttack(s: ProxySession): void {
    this.log(`Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to the proxy. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your proxy. Connection from ${s.addr} aborted.`);
    s.socket.destroy();
  }

  forgetSession(s: ProxySession): void {
    this.sessions.delete(s);
    if (this.sessions.size === 0) this.drained?.();
  }

  sessionList(): ProxySession[] {
    return [...this.sessions];
  }

  /**
   * INFO sections about the proxy itself (CRLF lines); `memory`, the Memory section's text, goes
   * where Redis puts it (after Clients).
   */
  infoText(sections: string[], memory = ''): string {
    const all = sections.length === 0 || sections.some((s) => s === 'all' || s === 'everything' || s === 'default');
    const want = (name: string) => all || sections.includes(name);
    // In a worker, the whole proxy's counters: this worker's now plus the others' of the last second.
    const peers = this.peers;
    let text = '';
    if (want('server')) {
      text += `# Server\r\nredis_version:7.0.15\r\ntessera_version:${PROXY_VERSION}\r\nredis_mode:proxy\r\nos:${process.platform}\r\nprocess_id:${process.pid}\r\n`;
      if (this.worker !== null) text += `proxy_workers:${this.worker.count}\r\nproxy_worker:${this.worker.index}\r\n`;
      text += `tcp_port:${splitHostPort(this.config.listen)[1]}\r\nuptime_in_seconds:${Math.floor((Date.now() - this.stats.startedAt) / 1000)}\r\nproxy_id:${this.config.id}\r\nproduct:${this.config.product}\r\nhost:${hostname()}\r\n\r\n`;
    }
    if (want('clients')) {
      // Blocked: in a blocking command or WAIT (as Redis counts them); this process's clients.
      let blocked = 0;
      for (const s of this.sessions) if (s.blocked) blocked++;
      text += `# Clients\r\nconnected_clients:${this.sessions.size + (peers?.sessions ?? 0)}\r\nblocked_clients:${blocked}\r\n\r\n`;
    }
    text += memory;
    if (want('stats')) {
      text += `# Stats\r\ntotal_connections_received:${this.stats.totalConnections + (peers?.totalConnections ?? 0)}\r\ntotal_commands_processed:${this.stats.totalCommands + (peers?.totalCommands ?? 0)}\r\n`;
      text += `instantaneous_ops_per_sec:${this.stats.qps + (peers?.qps ?? 0)}\r\ntotal_error_replies:${this.stats.totalErrors + (peers?.totalErrors ?? 0)}\r\nslot_table_revision:${this.topology.revision}\r\n\r\n`;
    }
    return text;
  }

  /**
   * Graceful stop: stop accepting, leave the store (the coordinator stops waiting for this proxy's
   * acks), let every client's requests already read finish for at most `graceMs`, then close every
   * session and the backends. The listener's close is not awaited before the sessions go: it only
   * completes once every accepted socket has closed, so waiting for it first waited for the clients.
   */
  async close(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    const listenerClosed = new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    await bounded(this.topology.stop(), STORE_LEAVE_MS);
    if (this.sessions.size > 0) this.log(`stopping: ${this.sessions.size} client(s), waiting up to ${graceMs} ms for replies in flight`);
    for (const s of [...this.sessions]) s.shutdown();
    await bounded(new Promise<void>((r) => (this.sessions.size === 0 ? r() : (this.drained = r))), graceMs);
    this.drained = null;
    for (const s of [...this.sessions]) s.socket.destroy();
    await listenerClosed;
    this.pool.closeAll();
    this.subscriptions.close();
    this.stats.stop();
  }
}

/** Resolves when `p` settles or after `ms`, whichever comes first (never rejects). */
function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => {}, () => {}),
    new Promise<void>((r) => (timer = setTimeout(r, ms))),
  ]).finally(() => clearTimeout(timer));
}

function labelFor(topology: Topology | undefined, addr: string): string | undefined {
  const g = topology?.groupOf(addr);
  return g === null || g === undefined ? undefined : `group ${g}`;
}

export function splitHostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  let host = addr.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return [host, Number(addr.slice(i + 1))];
}

