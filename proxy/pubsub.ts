// Pub/sub through the proxy for one client: channels and shard channels are subscribed on the
// master that owns the channel's slot (so SUBSCRIBE and PUBLISH meet there from any proxy),
// patterns on every master. The proxy confirms (un)subscriptions itself with the client's own
// counts and forwards messages raw. Follows slot-table changes without dropping subscriptions.
import { encodeCommand } from '../common/resp/encode.js';
import { slotOf } from '../common/slots.js';
import { BackendConnection } from './backend/connection.js';
import { arrayElements } from './merge.js';
import type { ProxySession } from './session.js';

type Kind = 'channel' | 'pattern' | 'shard';

const SUB_VERB: Record<Kind, [string, string]> = {
  channel: ['SUBSCRIBE', 'UNSUBSCRIBE'],
  pattern: ['PSUBSCRIBE', 'PUNSUBSCRIBE'],
  shard: ['SSUBSCRIBE', 'SUNSUBSCRIBE'],
};
const CONFIRM: Record<Kind, [string, string]> = {
  channel: ['subscribe', 'unsubscribe'],
  pattern: ['psubscribe', 'punsubscribe'],
  shard: ['ssubscribe', 'sunsubscribe'],
};

export class ProxyPubSub {
  /** name → addresses it is subscribed on. */
  private readonly subs: Record<Kind, Map<string, Set<string>>> = { channel: new Map(), pattern: new Map(), shard: new Map() };
  private readonly links = new Map<string, BackendConnection>();
  /** Backend confirmations still awaited, by "kind|name|addr" (a client is answered after all of its). */
  private readonly awaiting = new Map<string, Array<() => void>>();

  constructor(private readonly session: ProxySession) {}

  get count(): number {
    return this.subs.channel.size + this.subs.pattern.size;
  }

  get shardCount(): number {
    return this.subs.shard.size;
  }

  get active(): boolean {
    return this.count + this.shardCount > 0;
  }

  private link(addr: string): BackendConnection {
    let conn = this.links.get(addr);
    if (!conn) {
      conn = new BackendConnection(addr, {
        password: this.session.proxy.config.backendPassword || undefined,
        onPush: (frame) => this.onBackendFrame(frame, addr),
        onClose: () => this.onLinkClosed(addr),
      });
      this.links.set(addr, conn);
    }
    return conn;
  }

  /** Where a name is subscribed: its slot's master, or every master for patterns. */
  private targets(kind: Kind, name: string): string[] {
    if (kind === 'pattern') return this.session.allMasters();
    const addr = this.session.masterAddr(slotOf(name));
    return addr ? [addr] : [];
  }

  /**
   * Subscribes and calls `done` with the client's confirmations once every backend confirmed, so
   * a message published after the client saw its confirmation cannot be missed.
   */
  subscribe(kind: Kind, names: string[], done: (frames: Buffer[]) => void): void {
    const frames: Buffer[] = [];
    let outstanding = 1;
    const settle = () => {
      if (--outstanding === 0) done(frames);
    };
    for (const name of names) {
      const map = this.subs[kind];
      if (!map.has(name)) {
        const addrs = new Set(this.targets(kind, name));
        map.set(name, addrs);
        for (const addr of addrs) {
          outstanding++;
          const key = `${CONFIRM[kind][0]}|${name}|${addr}`;
          const list = this.awaiting.get(key) ?? [];
          list.push(settle);
          this.awaiting.set(key, list);
          this.link(addr).sendNoReply(encodeCommand([SUB_VERB[kind][0], name]));
        }
      }
      frames.push(this.confirm(CONFIRM[kind][0], name, kind === 'shard' ? this.shardCount : this.count));
    }
    settle();
  }

  unsubscribe(kind: Kind, names: string[]): Buffer[] {
    const map = this.subs[kind];
    const list = names.length > 0 ? names : [...map.keys()];
    if (list.length === 0) return [this.confirm(CONFIRM[kind][1], null, kind === 'shard' ? this.shardCount : this.count)];
    const frames: Buffer[] = [];
    for (const name of list) {
      const addrs = map.get(name);
      if (addrs) {
        map.delete(name);
        for (const addr of addrs) this.links.get(addr)?.sendNoReply(encodeCommand([SUB_VERB[kind][1], name]));
      }
      frames.push(this.confirm(CONFIRM[kind][1], name, kind === 'shard' ? this.shardCount : this.count));
    }
    return frames;
  }

  private confirm(kind: string, name: string | null, count: number): Buffer {
    const head = this.session.resp === 3 ? '>3' : '*3';
    const nameFrame = name === null ? (this.session.resp === 3 ? '_\r\n' : '$-1\r\n') : `$${name.length}\r\n${name}\r\n`;
    return Buffer.from(`${head}\r\n$${kind.length}\r\n${kind}\r\n${nameFrame}:${count}\r\n`, 'latin1');
  }

  /**
   * Messages go to the client (only for what it is still subscribed to); the backends' own
   * confirmations release waiting SUBSCRIBE replies (the client gets ours, with its own counts).
   */
  private onBackendFrame(frame: Buffer, addr: string): void {
    const els = arrayElements(frame);
    if (els === null || els.length < 3) return;
    const kind = bulkText(els[0]!);
    if (kind === 'subscribe' || kind === 'psubscribe' || kind === 'ssubscribe') {
      const key = `${kind}|${bulkText(els[1]!)}|${addr}`;
      const list = this.awaiting.get(key);
      const release = list?.shift();
      if (list && list.length === 0) this.awaiting.delete(key);
      release?.();
      return;
    }
    if (kind === 'message' && !this.subs.channel.has(bulkText(els[1]!))) return;
    if (kind === 'pmessage' && !this.subs.pattern.has(bulkText(els[1]!))) return;
    if (kind === 'smessage' && !this.subs.shard.has(bulkText(els[1]!))) return;
    if (kind !== 'message' && kind !== 'pmessage' && kind !== 'smessage') return;
    if (this.session.resp === 3 && frame[0] === 0x2a) {
      const copy = Buffer.from(frame);
      copy[0] = 0x3e; // RESP3 clients get pushes
      this.session.push(copy);
    } else {
      this.session.push(frame);
    }
  }

  private onLinkClosed(addr: string): void {
    this.links.delete(addr);
    // Confirmations that will never come must not hold the client's replies.
    for (const [key, list] of this.awaiting) {
      if (!key.endsWith(`|${addr}`)) continue;
      this.awaiting.delete(key);
      for (const release of list) release();
    }
    if (this.session.closed) return;
    // Re-subscribe what lived on that link once the backend is reachable again.
    setTimeout(() => this.resubscribe(addr), 200).unref();
  }

  private resubscribe(addr: string): void {
    if (this.session.closed) return;
    for (const kind of ['channel', 'pattern', 'shard'] as const) {
      for (const [name, addrs] of this.subs[kind]) {
        if (addrs.has(addr)) this.link(addr).sendNoReply(encodeCommand([SUB_VERB[kind][0], name]));
      }
    }
  }

  /** The slot table changed: move each subscription to the master that now owns it. */
  onTopologyChanged(): void {
    for (const kind of ['channel', 'pattern', 'shard'] as const) {
      for (const [name, addrs] of this.subs[kind]) {
        const wanted = new Set(this.targets(kind, name));
        for (const addr of wanted) if (!addrs.has(addr)) this.link(addr).sendNoReply(encodeCommand([SUB_VERB[kind][0], name]));
        for (const addr of addrs) if (!wanted.has(addr)) this.links.get(addr)?.sendNoReply(encodeCommand([SUB_VERB[kind][1], name]));
        this.subs[kind].set(name, wanted);
      }
    }
  }

  close(): void {
    for (const conn of this.links.values()) conn.close();
    this.links.clear();
  }
}

/** The text of a bulk-string frame ("$n\r\n…\r\n"). */
function bulkText(frame: Buffer): string {
  const start = frame.indexOf(10) + 1;
  return frame.latin1Slice(start, frame.length - 2);
}
