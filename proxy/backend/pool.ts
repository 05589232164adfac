// Shared pipelined connections per backend address. A client session always uses the same
// connection to a given backend so its requests there keep their order.
import { BackendConnection, type BackendOptions } from './connection.js';

export class BackendPool {
  private readonly conns = new Map<string, BackendConnection[]>();

  constructor(
    private readonly perBackend: number,
    private readonly options: (addr: string) => BackendOptions,
  ) {}

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
    }
    return list[sessionId % list.length]!;
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

  /** Drops connections to addresses no longer in use. */
  retain(addrs: ReadonlySet<string>): void {
    for (const [key, list] of this.conns) {
      if (addrs.has(list[0]!.addr)) continue;
      for (const c of list) c.close();
      this.conns.delete(key);
    }
  }

  closeAll(): void {
    for (const list of this.conns.values()) for (const c of list) c.close();
    this.conns.clear();
  }
}
