// Shared pipelined connections per backend address. A client session always uses the same
// connection to a given backend so its requests there keep their order.
import { BackendConnection, type BackendOptions } from './connection.js';

export class BackendPool {
  private readonly conns = new Map<string, BackendConnection[]>();

  constructor(
    private readonly perBackend: number,
    private readonly options: (addr: string) => BackendOptions,
  ) {}

  /** The connection to `addr` for the session numbered `sessionId`. */
  get(addr: string, sessionId: number): BackendConnection {
    let list = this.conns.get(addr);
    if (!list) {
      list = Array.from({ length: this.perBackend }, () => new BackendConnection(addr, this.options(addr)));
      this.conns.set(addr, list);
    }
    return list[sessionId % list.length]!;
  }

  /** Every backend address with at least one open connection (for /stats). */
  addresses(): string[] {
    return [...this.conns.keys()];
  }

  stats(): Array<{ addr: string; connected: number; inFlight: number }> {
    return [...this.conns].map(([addr, list]) => ({
      addr,
      connected: list.filter((c) => c.isConnected).length,
      inFlight: list.reduce((n, c) => n + c.inFlight, 0),
    }));
  }

  /** Drops connections to addresses no longer in use. */
  retain(addrs: ReadonlySet<string>): void {
    for (const [addr, list] of this.conns) {
      if (addrs.has(addr)) continue;
      for (const c of list) c.close();
      this.conns.delete(addr);
    }
  }

  closeAll(): void {
    for (const list of this.conns.values()) for (const c of list) c.close();
    this.conns.clear();
  }
}
