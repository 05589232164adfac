// Pub/sub state of one proxy client. The subscriptions themselves live in the proxy-wide hub
// (proxy/pubsub/hub.ts: one subscriber link per master, shared by every client); this object
// keeps the client's own names, answers (un)subscriptions with the client's own counts, and
// delivers the hub's messages in the client's protocol (RESP2 arrays, RESP3 pushes).
//
// A client's (un)subscribe requests run one after another, so its confirmations carry counts in
// the order it sees them, and a SUBSCRIBE is confirmed only after every backend confirmed it: a
// message published after the client saw its confirmation cannot be missed. If a backend link
// cannot be opened or refuses, the request fails with an error and the client's state is
// unchanged.
import { errorFrame } from './merge.js';
import { type Kind, type Subscriber, type SubscriptionHub, VERBS } from './pubsub/hub.js';
import type { ProxySession } from './session.js';

type Op = (finish: () => void) => void;

/**
 * Most bytes a subscriber may leave undelivered before it is disconnected: Redis's default
 * `client-output-buffer-limit pubsub 32mb`, or the proxy's per-client hard limit if lower.
 */
export const PUBSUB_MAX_PENDING_BYTES = 32 * 1024 * 1024;

export class ProxyPubSub implements Subscriber {
  private readonly names: Record<Kind, Set<string>> = { channel: new Set(), pattern: new Set(), shard: new Set() };
  /** Queued (un)subscribe requests, run in order; at most the client's pipeline limit. */
  private ops: Op[] = [];
  private opsHead = 0;
  private running = false;
  /** Subscribe requests queued or running (the client counts as subscribed meanwhile, as in Redis). */
  private subscribing = 0;
  /** RESET or disconnect: no more deliveries; references are dropped once the queue is done. */
  private closing = false;
  private released = false;
  private readonly hub: SubscriptionHub;

  constructor(private readonly session: ProxySession) {
    this.hub = session.proxy.subscriptions;
  }

  get count(): number {
    return this.names.channel.size + this.names.pattern.size;
  }

  get shardCount(): number {
    return this.names.shard.size;
  }

  get active(): boolean {
    return this.count + this.shardCount > 0 || this.subscribing > 0;
  }

  /** Calls `done` with the client's confirmations once every backend confirmed, or with one error. */
  subscribe(kind: Kind, names: string[], done: (frames: Buffer[]) => void): void {
    this.subscribing++;
    // Replies take the protocol of their moment (a RESET queued behind may switch it back to 2).
    const resp = this.session.resp;
    this.enqueue((finish) => this.runSubscribe(kind, names, resp, (frames) => {
      this.subscribing--;
      done(frames);
      finish();
    }));
  }

  /** Calls `done` with the confirmations (after any earlier subscribe of this client settled). */
  unsubscribe(kind: Kind, names: string[], done: (frames: Buffer[]) => void): void {
    const resp = this.session.resp;
    this.enqueue((finish) => {
      done(this.runUnsubscribe(kind, names, resp));
      finish();
    });
  }

  /** Subscriptions follow the slot table in the hub; nothing is per client. */
  onTopologyChanged(): void {}

  /** RESET or disconnect: stop delivering, and drop every subscription once queued requests settled. */
  close(): void {
    this.closing = true;
    if (!this.running) this.releaseAll();
  }

  /** One message from the hub. A client that does not read is disconnected, never waited for. */
  deliver(frame: Buffer, asPush: () => Buffer): void {
    const s = this.session;
    if (this.closing || s.closed) return;
    const out = s.resp === 3 ? asPush() : frame;
    // Everything this client already holds in the proxy (queued replies and pushes, unsent
    // socket bytes), counted by the session, plus this message.
    const held = s.pendingBytes() + out.length;
    const limit = Math.min(PUBSUB_MAX_PENDING_BYTES, s.proxy.config.clientMaxPendingBytes);
    if (held > limit) {
      s.proxy.log(`closing subscriber ${s.addr}: ${held} undelivered message bytes (limit ${limit})`);
      this.closing = true;
      s.socket.destroy();
      return;
    }
    s.push(out);
  }

  private enqueue(op: Op): void {
    this.ops.push(op);
    if (!this.running) this.runQueue();
  }

  /**
   * Runs queued requests in order. Bounded by the queue: synchronous requests finish inside the
   * loop; one waiting for backends returns, and its finish() resumes the loop.
   */
  private runQueue(): void {
    while (this.opsHead < this.ops.length) {
      const op = this.ops[this.opsHead]!;
      this.ops[this.opsHead++] = undefined as unknown as Op;
      let inside = true;
      let finished = false;
      this.running = true;
      op(() => {
        finished = true;
        if (inside) return;
        this.running = false;
        this.runQueue();
      });
      inside = false;
      if (!finished) return;
      this.running = false;
    }
    this.ops = [];
    this.opsHead = 0;
    if (this.closing) this.releaseAll();
  }

  private runSubscribe(kind: Kind, names: string[], resp: 2 | 3, done: (frames: Buffer[]) => void): void {
    const held = this.names[kind];
    const fresh = [...new Set(names.filter((n) => !held.has(n)))];
    // Queued before a RESET or a disconnect: answered in order, but no backend is asked.
    if (this.closing) return done(this.confirmations(kind, names, new Set(fresh), resp));
    const got: string[] = [];
    let failure: string | null = null;
    let waiting = fresh.length;
    const complete = () => {
      if (failure !== null) {
        // All or nothing: what was confirmed for this request is given back.
        for (const n of got) this.hub.release(kind, n);
        return done([errorFrame(failure)]);
      }
      const frames = this.confirmations(kind, names, new Set(fresh), resp);
      if (this.closing) {
        // RESET or disconnect came after this request: it is answered, but holds nothing.
        for (const n of got) this.hub.release(kind, n);
      } else {
        for (const n of fresh) {
          held.add(n);
          this.hub.attach(kind, n, this);
        }
      }
      done(frames);
    };
    if (waiting === 0) return complete();
    for (const n of fresh) {
      this.hub.acquire(kind, n, (err) => {
        if (err === null) got.push(n);
        else failure ??= err;
        if (--waiting === 0) complete();
      });
    }
  }

  /** Subscribe confirmations with the count after each name, as Redis sends them (`added` are new). */
  private confirmations(kind: Kind, names: string[], added: Set<string>, resp: 2 | 3): Buffer[] {
    const frames: Buffer[] = [];
    let count = kind === 'shard' ? this.shardCount : this.count;
    const counted = new Set<string>();
    for (const n of names) {
      if (added.has(n) && !counted.has(n)) {
        counted.add(n);
        count++;
      }
      frames.push(this.confirm(VERBS[kind].subbed, n, count, resp));
    }
    return frames;
  }

  private runUnsubscribe(kind: Kind, names: string[], resp: 2 | 3): Buffer[] {
    const held = this.names[kind];
    const list = names.length > 0 ? names : [...held];
    const verb = VERBS[kind].unsubbed;
    if (list.length === 0) return [this.confirm(verb, null, kind === 'shard' ? this.shardCount : this.count, resp)];
    const frames: Buffer[] = [];
    for (const n of list) {
      if (held.delete(n)) this.hub.release(kind, n, this);
      frames.push(this.confirm(verb, n, kind === 'shard' ? this.shardCount : this.count, resp));
    }
    return frames;
  }

  private releaseAll(): void {
    if (this.released) return;
    this.released = true;
    for (const kind of ['channel', 'pattern', 'shard'] as const) {
      for (const n of this.names[kind]) this.hub.release(kind, n, this);
      this.names[kind].clear();
    }
  }

  private confirm(kind: string, name: string | null, count: number, resp: 2 | 3): Buffer {
    const head = resp === 3 ? '>3' : '*3';
    const nameFrame = name === null ? (resp === 3 ? '_\r\n' : '$-1\r\n') : `$${name.length}\r\n${name}\r\n`;
    return Buffer.from(`${head}\r\n$${kind.length}\r\n${kind}\r\n${nameFrame}:${count}\r\n`, 'latin1');
  }
}
