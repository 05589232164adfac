// The coordinator's connections to nodes: one small cache of ioredis links per purpose (health
// probes, replication admin, slot admin and mover lanes), so that a slow call of one purpose never
// queues behind another's. Every call is bounded: the wait for a connection and the command share
// one deadline, and a node that does not answer in time fails that call, never hangs the caller.
//
//   const links = new NodeLinks({ name: 'tessera-health', connectTimeoutMs: 1000, retryMs: 100 });
//   await links.call('127.0.0.1:7001', ['PING'], { timeoutMs: 500 });
//   links.retain(new Set(addrsStillKnown)); await links.close();
//
// Links fail fast while a node is down (no offline queue, no retries of a sent command: the
// callers retry at their own pace) and reconnect in the background every `retryMs`.
import { Redis } from 'ioredis';

export interface NodeLinkOptions {
  /** CLIENT SETNAME of every link (shows up in the node's CLIENT LIST). */
  name: string;
  /** The nodes' requirepass, if any. */
  password?: string | null;
  connectTimeoutMs: number;
  /** Pause between reconnect attempts of a broken link. */
  retryMs: number;
}

export interface CallOptions {
  /** Bound of the whole call: waiting for the link and the reply. */
  timeoutMs: number;
  /** Several links to one node: a deferred reply holds its link (the mover's lanes). */
  lane?: string;
  /**
   * Drop the link when the call times out, so the next call does not queue behind a reply that
   * may never come (a SIGSTOPped node). Off for calls whose reply is legitimately slow.
   */
  resetOnTimeout?: boolean;
  /**
   * Fail as soon as the link is known to be down (between reconnect attempts, or when a connect
   * attempt fails) instead of waiting for it within the bound: a health probe must not hold its
   * tick for a dead node.
   */
  failFast?: boolean;
  /** Bulk replies as Buffers (binary payloads such as FUNCTION DUMP's). */
  buffers?: boolean;
}

/**
 * A connection refused for its credentials: waiting out the call's bound for the link would not
 * change the answer, so a call waiting for its link fails on the first one (the link keeps
 * retrying in the background: a password fixed on the node is picked up).
 */
const AUTH_REFUSAL = /^(NOAUTH|WRONGPASS|NOPERM)\b|invalid (username-)?password/i;

/** A call that got no reply within its bound (the node may still run it). */
export class NodeTimeoutError extends Error {
  override name = 'NodeTimeoutError';
}

/** host:port → ioredis host and port ([v6]:port keeps its address without brackets). */
export function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(addr.slice(i + 1)) };
}

export class NodeLinks {
  /** Per link, the last connection error (ECONNREFUSED, ETIMEDOUT, WRONGPASS…) until it is ready again. */
  private readonly links = new Map<string, { addr: string; redis: Redis; lastError: string | null }>();

  constructor(private readonly opts: NodeLinkOptions) {}

  private link(addr: string, lane: string): { redis: Redis; lastError: string | null } {
    const key = lane === '' ? addr : `${addr}#${lane}`;
    let l = this.links.get(key);
    if (!l) {
      const redis = new Redis({
        ...splitAddr(addr),
        password: this.opts.password ?? undefined,
        connectTimeout: this.opts.connectTimeoutMs,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => this.opts.retryMs,
        enableReadyCheck: false,
        connectionName: this.opts.name,
      });
      const entry: { addr: string; redis: Redis; lastError: string | null } = { addr, redis, lastError: null };
      // Reported through the failing calls: "is not connected" names the cause.
      redis.on('error', (err: Error) => (entry.lastError = err.message));
      redis.on('ready', () => (entry.lastError = null));
      l = entry;
      this.links.set(key, l);
    }
    return l;
  }

  /** Sends one command to `addr`; rejects with NodeTimeoutError past `timeoutMs`, or with the node's error. */
  async call(addr: string, args: ReadonlyArray<string | number | Buffer>, o: CallOptions): Promise<unknown> {
    const l = this.link(addr, o.lane ?? '');
    const c = l.redis;
    const cause = () => (l.lastError === null ? '' : `: ${l.lastError}`);
    if (o.failFast && c.status === 'reconnecting') throw new Error(`${addr} is not connected (reconnecting)${cause()}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (o.resetOnTimeout) c.disconnect(true);
        reject(new NodeTimeoutError(`${addr} did not answer ${String(args[0])}${args.length > 1 ? ` ${String(args[1])}` : ''} within ${o.timeoutMs} ms${c.status === 'ready' ? '' : cause()}`));
      }, o.timeoutMs);
    });
    let onReady: (() => void) | undefined;
    let onDown: (() => void) | undefined;
    let onError: ((err: Error) => void) | undefined;
    const send = async () => {
      if (c.status !== 'ready') {
        if (c.status === 'end' || c.status === 'close') void c.connect().catch(() => {});
        await new Promise<void>((resolve, reject) => {
          c.once('ready', (onReady = resolve));
          if (o.failFast) c.once('close', (onDown = () => reject(new Error(`${addr} is not reachable (connection closed)${cause()}`))));
          c.on('error', (onError = (err: Error) => {
            if (AUTH_REFUSAL.test(err.message)) reject(new Error(`${addr} refused the connection: ${err.message}`));
          }));
        });
      }
      const rest = args.slice(1).map((a) => (Buffer.isBuffer(a) ? a : String(a)));
      return o.buffers ? c.callBuffer(String(args[0]), ...rest) : c.call(String(args[0]), ...rest);
    };
    try {
      return await Promise.race([send(), timeout]);
    } finally {
      clearTimeout(timer);
      // A finished wait leaves no listener behind.
      if (onReady) c.off('ready', onReady);
      if (onDown) c.off('close', onDown);
      if (onError) c.off('error', onError);
    }
  }

  /** Closes the links of nodes not in `addrs` (servers that left every group). */
  retain(addrs: ReadonlySet<string>): void {
    for (const [key, l] of this.links) {
      if (addrs.has(l.addr)) continue;
      l.redis.disconnect();
      this.links.delete(key);
    }
  }

  async close(): Promise<void> {
    for (const l of this.links.values()) l.redis.disconnect();
    this.links.clear();
  }
}
