// Client eviction (Redis 7's maxmemory-clients): when the memory held by all clients together
// passes the limit, the clients holding the most are closed until the rest fit. It protects the
// node from many clients that each stay under their own limits (client-query-buffer-limit, the
// output limits) but together would exhaust it. Replicas, the master link, MONITOR clients and
// clients that ran CLIENT NO-EVICT ON are never evicted (as in Redis).
//
// Checked from the server's 100 ms cron, not per read: the sum over clients costs O(clients), and
// each client's own query-buffer limit already bounds what one read can add before the next check.
import type { NodeConfig } from './config.js';
import type { Session } from './session.js';

/** Redis never applies a limit under 128 KB: a tiny value must not lock every client out. */
export const MIN_CLIENT_EVICTION_BYTES = 128 * 1024;

/**
 * The limit in bytes from maxmemory-clients (bytes, or a percentage of maxmemory, stored as a
 * negative number), or 0 when client eviction is off (0, or a percentage with no maxmemory).
 */
export function clientEvictionLimit(config: NodeConfig): number {
  const setting = config.getInt('maxmemory-clients');
  let limit: number;
  if (setting < 0) {
    const maxmemory = config.getInt('maxmemory');
    if (maxmemory <= 0) return 0;
    limit = Math.floor((maxmemory * -setting) / 100);
  } else if (setting > 0) {
    limit = setting;
  } else {
    return 0;
  }
  return Math.max(limit, MIN_CLIENT_EVICTION_BYTES);
}

/**
 * What a client holds (CLIENT LIST's tot-mem): unparsed input, parsed arguments, the MULTI queue,
 * the reply buffer and writes queued on the socket. `argvBytes` overrides the parsed arguments for
 * the client whose command is running (its arguments are no longer in its decoder).
 */
export function clientMemory(c: Session, argvBytes = c.decoder.parsedArgBytes): number {
  return c.decoder.pendingBytes + argvBytes + c.multiBytes + c.w.capacity + (c.socket.writableLength ?? 0);
}

function evictable(c: Session): boolean {
  if (c.noEvict || c.monitor || c.closing) return false;
  const repl = c.server.replication;
  return !repl.isMasterClient(c) && !repl.replicas.isReplica(c);
}

export class ClientEviction {
  /** INFO stats evicted_clients. */
  evicted = 0;

  constructor(
    private readonly config: NodeConfig,
    private readonly log: (level: 'verbose', msg: string) => void,
  ) {}

  /** Closes the biggest evictable clients while all clients together hold more than the limit. */
  check(sessions: Iterable<Session>): void {
    const limit = clientEvictionLimit(this.config);
    if (limit === 0) return;
    let total = 0;
    const candidates: Array<{ s: Session; bytes: number }> = [];
    for (const s of sessions) {
      const bytes = clientMemory(s);
      total += bytes;
      if (evictable(s)) candidates.push({ s, bytes });
    }
    if (total <= limit) return;
    candidates.sort((a, b) => b.bytes - a.bytes);
    for (const { s, bytes } of candidates) {
      if (total <= limit) break;
      this.log('verbose', `Evicting client: id=${s.id} addr=${s.addr} tot-mem=${bytes} (all clients hold ${total} bytes, maxmemory-clients allows ${limit})`);
      s.close();
      total -= bytes;
      this.evicted++;
    }
  }
}
