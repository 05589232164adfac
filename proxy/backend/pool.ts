// Shared pipelined connections per backend address. A client session always uses the same
// connection to a given backend so its requests there keep their order. Blocking commands
// (BLPOP …) cannot share a pipelined link, so they borrow one from a bounded per-backend pool of
// blocking links: client counts never become backend connection counts.
import { BackendConnection, type BackendOptions } from './connection.js';

export type HealthState = 'up' | 'degraded' | 'down';

/** One backend as /health shows it. */
export interface BackendHealth {
  addr: string;
  state: HealthState;
  /** Pipelined links and how many are connected now. */
  links: number;
  connected: number;
  inFlight: number;
  /** Blocking links open (idle or busy), and blocking commands waiting for one. */
  blockingLinks: number;
  blockingWaiting: number;
  timeouts: number;
  lastError: string;
  /** ISO time of lastError, or null. */
  lastErrorAt: string | null;
}

// A backend that failed this recently (but answers now) is reported degraded.
const DEGRADED_FOR_MS = 30_000;
// Blocking commands that may wait for a free blocking link, per link of the pool.
const WAITERS_PER_LINK = 16;

/** A blocking command waiting for a link; `cancelled` when its client went away first. */
export interface BlockingWaiter {
  cancelled: boolean;
  grant(conn: BackendConnection | null, error: string | null): void;
}

interface BlockingLinks {
  addr: string;
  resp3: boolean;
  idle: BackendConnection[];
  /** Links open, idle or lent out. */
  open: number;
  waiters: BlockingWaiter[];
}

export class BackendPool {
  private readonly conns = new Map<string, BackendConnection[]>();
  private readonly blocking = new Map<string, BlockingLinks>();

  constructor(
    private readonly perBackend: number,
    private readonly options: (addr: string) => BackendOptions,
    /** Blocking links per backend (backend-blocking-links). */
    private readonly blockingPerBackend = 64,
  ) {}

  /** The options links to `addr` are made with (password, label, timeouts). */
  linkOptions(addr: string): BackendOptions {
    return this.options(addr);
  }

  /**
   * The connection to `addr` for the session numbered `sessionId`; RESP3 clients get links that
   * speak RESP3 so reply shapes (maps, doubles, nulls) pass through unchanged.
   */
  get(addr: string, sessionId: number, resp3 = false): BackendConnection {
    const key = resp3 ? `3|${addr}` : addr;
    let list = this.conns.get(key);
    if (!list) {
      list = Array.from({ length: this.perBackend }, () => new BackendConnection(addr, { ...this.options(addr), resp3 }));
      this.conns.set(key, list);
      // Every link connects now, so its idle PINGs watch the backend from the start.
      for (const c of list) c.ensureOpen();
    }
    return list[sessionId % list.length]!;
  }

  /**
   * Lends a blocking link to `addr` to `waiter` (at once when one is idle or may be opened), or
   * queues it (bounded; it gets an error when the queue is full or no link frees up within the
   * backend timeout). The borrower gives it back with releaseBlocking().
   */
  acquireBlocking(addr: string, resp3: boolean, waiter: BlockingWaiter): void {
    const pool = this.blockingFor(addr, resp3);
    const conn = this.takeBlocking(pool);
    if (conn !== null) return waiter.grant(conn, null);
    if (pool.waiters.length >= this.blockingPerBackend * WAITERS_PER_LINK) {
      return waiter.grant(null, `ERR too many blocked clients waiting for backend ${addr} (backend-blocking-links ${this.blockingPerBackend} in use)`);
    }
    pool.waiters.push(waiter);
    const timeout = this.options(addr).timeoutMs ?? 0;
    if (timeout <= 0) return;
    setTimeout(() => {
      const i = pool.waiters.indexOf(waiter);
      if (i < 0) return;
      pool.waiters.splice(i, 1);
      if (!waiter.cancelled) waiter.grant(null, `ERR no free blocking link to backend ${addr} within ${timeout} ms (backend-blocking-links ${this.blockingPerBackend} in use)`);
    }, timeout).unref();
  }

  /**
   * Gives a blocking link back: kept for the next blocking command when `reusable` (its command
   * returned normally), else closed (its client left while the node still blocks on it).
   */
  releaseBlocking(conn: BackendConnection, resp3: boolean, reusable: boolean): void {
    const pool = this.blocking.get(blockingKey(conn.addr, resp3));
    if (!reusable || pool === undefined || !conn.isConnected || conn.inFlight > 0) {
      conn.close();
      return;
    }
    pool.idle.push(conn);
    this.pump(pool);
  }

  private blockingFor(addr: string, resp3: boolean): BlockingLinks {
    const key = blockingKey(addr, resp3);
    let pool = this.blocking.get(key);
    if (!pool) {
      pool = { addr, resp3, idle: [], open: 0, waiters: [] };
      this.blocking.set(key, pool);
    }
    return pool;
  }

  private takeBlocking(pool: BlockingLinks): BackendConnection | null {
    const idle = pool.idle.pop();
    if (idle) return idle;
    if (pool.open >= this.blockingPerBackend) return null;
    pool.open++;
    const conn: BackendConnection = new BackendConnection(pool.addr, {
      ...this.options(pool.addr),
      resp3: pool.resp3,
      pingIntervalMs: 0,
      onClose: () => {
        pool.open--;
        const i = pool.idle.indexOf(conn);
        if (i >= 0) pool.idle.splice(i, 1);
        this.pump(pool);
      },
    });
    conn.ensureOpen();
    return conn;
  }

  /** Hands freed links to waiting blocking commands, oldest first. */
  private pump(pool: BlockingLinks): void {
    while (pool.waiters.length > 0) {
      const waiter = pool.waiters[0]!;
      if (waiter.cancelled) {
        pool.waiters.shift();
        continue;
      }
      const conn = this.takeBlocking(pool);
      if (conn === null) return;
      pool.waiters.shift();
      waiter.grant(conn, null);
    }
  }

  /** Every backend address with at least one open connection (for /stats). */
  addresses(): string[] {
    return [...new Set([...this.conns.values()].map((list) => list[0]!.addr))];
  }

  stats(): Array<{ addr: string; connected: number; inFlight: number }> {
    return [...this.conns].map(([key, list]) => ({
      addr: key,
      connected: list.filter((c) => c.isConnected).length,
      inFlight: list.reduce((n, c) => n + c.inFlight, 0),
    }));
  }

  /**
   * Health of every backend the proxy talks to, for /health: down when its most recent event on
   * every link is a failure (timeout, refused, closed), degraded when some link is down or one
   * failed in the last 30 s, up otherwise. RESP2 and RESP3 links of an address count together.
   */
  health(now = Date.now()): BackendHealth[] {
    const byAddr = new Map<string, BackendConnection[]>();
    for (const list of this.conns.values()) {
      const all = byAddr.get(list[0]!.addr) ?? [];
      all.push(...list);
      byAddr.set(list[0]!.addr, all);
    }
    const out: BackendHealth[] = [];
    for (const [addr, links] of byAddr) {
      const failing = links.filter((c) => c.lastErrorAt > c.lastReplyAt).length;
      const last = links.reduce((a, c) => (c.lastErrorAt > a.lastErrorAt ? c : a));
      let state: HealthState = 'up';
      if (failing === links.length) state = 'down';
      else if (failing > 0 || (last.lastErrorAt > 0 && now - last.lastErrorAt < DEGRADED_FOR_MS)) state = 'degraded';
      const blockingPools = [false, true].map((r) => this.blocking.get(blockingKey(addr, r)));
      out.push({
        addr,
        state,
        links: links.length,
        connected: links.filter((c) => c.isConnected).length,
        inFlight: links.reduce((n, c) => n + c.inFlight, 0),
        blockingLinks: blockingPools.reduce((n, p) => n + (p?.open ?? 0), 0),
        blockingWaiting: blockingPools.reduce((n, p) => n + (p?.waiters.length ?? 0), 0),
        timeouts: links.reduce((n, c) => n + c.timeouts, 0),
        lastError: last.lastError,
        lastErrorAt: last.lastErrorAt > 0 ? new Date(last.lastErrorAt).toISOString() : null,
      });
    }
    return out.sort((a, b) => a.addr.localeCompare(b.addr));
  }

  /**
   * After a slot table change: drops connections to addresses no longer in use, and has links to
   * the others that are down try again now (see BackendConnection.retryNow).
   */
  retain(addrs: ReadonlySet<string>): void {
    for (const [key, list] of this.conns) {
      if (addrs.has(list[0]!.addr)) {
        for (const c of list) c.retryNow();
        continue;
      }
      for (const c of list) c.close();
      this.conns.delete(key);
    }
    for (const [key, pool] of this.blocking) {
      if (addrs.has(pool.addr)) continue;
      for (const c of pool.idle.splice(0)) c.close();
      if (pool.open === 0) this.blocking.delete(key);
    }
  }

  closeAll(): void {
    for (const list of this.conns.values()) for (const c of list) c.close();
    this.conns.clear();
    for (const pool of this.blocking.values()) for (const c of pool.idle.splice(0)) c.close();
  }
}

function blockingKey(addr: string, resp3: boolean): string {
  return resp3 ? `3|${addr}` : addr;
}
