// The proxy-wide subscription hub: one subscriber link per backend master, shared by every
// client of this proxy, so client counts never become backend connection counts. Each channel,
// pattern or shard channel is one entry with a reference count: the backend subscribes when the
// first client wants it and unsubscribes when the last one leaves. Channels and shard channels
// live on the master of their slot (where PUBLISH from any proxy meets them), patterns on every
// master.
//
// A subscription is confirmed to a client only once every link that must carry it confirmed it;
// a link that cannot be opened, is refused (max number of clients) or drops before confirming
// fails the request with an error. When a link drops later, its entries are kept and
// re-subscribed once it reconnects (back-off 100 ms doubling to 2 s). Messages published while the
// link was down are lost, exactly as for a Redis Cluster client whose node connection dropped.
import { slotOf } from '../../common/slots.js';
import { type ConfirmCallback, type MessageKind, SubscriberLink } from '../backend/subscriber-link.js';
import type { Topology } from '../topology.js';

export type Kind = 'channel' | 'pattern' | 'shard';
export const KINDS: readonly Kind[] = ['channel', 'pattern', 'shard'];

/** The request verb and its confirmation kind, for subscribe and unsubscribe. */
export const VERBS: Record<Kind, { sub: string; unsub: string; subbed: string; unsubbed: string }> = {
  channel: { sub: 'SUBSCRIBE', unsub: 'UNSUBSCRIBE', subbed: 'subscribe', unsubbed: 'unsubscribe' },
  pattern: { sub: 'PSUBSCRIBE', unsub: 'PUNSUBSCRIBE', subbed: 'psubscribe', unsubbed: 'punsubscribe' },
  shard: { sub: 'SSUBSCRIBE', unsub: 'SUNSUBSCRIBE', subbed: 'ssubscribe', unsubbed: 'sunsubscribe' },
};

const KIND_OF_MESSAGE: Record<MessageKind, Kind> = { message: 'channel', pmessage: 'pattern', smessage: 'shard' };
// Names per re-subscribe command after a reconnect (one request, one confirmation per name).
const RESUBSCRIBE_BATCH = 1000;

/** A client of the hub: receives the frames of what it attached to. */
export interface Subscriber {
  /** `frame` is the RESP2 message; `asPush()` the same as a RESP3 push (built once per message). */
  deliver(frame: Buffer, asPush: () => Buffer): void;
}

/** What the hub needs from the proxy (an interface, so the hub does not import proxy.ts). */
export interface HubHost {
  readonly config: {
    readonly backendPassword: string;
    /** ms a backend reply may take before its link is reset (0 = never). */
    readonly backendTimeout: number;
    /** ms between PINGs on an idle link (0 = never). */
    readonly backendPingInterval: number;
  };
  readonly topology: Topology;
  log(msg: string): void;
}

/** Per backend address: not subscribed yet or lost with its link, sent, or confirmed. */
type AddrState = 'lost' | 'pending' | 'ok';

interface Waiter {
  /** Addresses still to confirm. */
  addrs: Set<string>;
  cb: ConfirmCallback;
}

class Entry {
  /** Clients holding it, including those whose subscription is still being confirmed. */
  refs = 0;
  /** Clients it is delivered to (confirmed). */
  readonly clients = new Set<Subscriber>();
  readonly addrs = new Map<string, AddrState>();
  waiters: Waiter[] = [];
  constructor(
    readonly kind: Kind,
    readonly name: string,
  ) {}
}

export class SubscriptionHub {
  private readonly entries: Record<Kind, Map<string, Entry>> = { channel: new Map(), pattern: new Map(), shard: new Map() };
  private readonly links = new Map<string, SubscriberLink>();
  /** Entries that live on each backend address. */
  private readonly byAddr = new Map<string, Set<Entry>>();
  private closed = false;

  constructor(private readonly host: HubHost) {
    host.topology.on('changed', () => this.onTopologyChanged());
  }

  /**
   * Takes a reference on `name` and calls `cb` once (maybe synchronously): null when every
   * backend that must carry it confirmed (the caller then holds the reference: attach() or
   * release() it), else an error text (the reference is already dropped).
   */
  acquire(kind: Kind, name: string, cb: ConfirmCallback): void {
    if (this.closed) return cb('ERR proxy is shutting down');
    const map = this.entries[kind];
    let entry = map.get(name);
    if (!entry) {
      const targets = this.targets(kind, name);
      if (typeof targets === 'string') return cb(targets);
      entry = new Entry(kind, name);
      map.set(name, entry);
      for (const addr of targets) this.setAddr(entry, addr);
    }
    entry.refs++;
    if (entry.addrs.size === 0) {
      this.release(kind, name);
      return cb(this.noTargetError(kind, name));
    }
    const waitOn = new Set<string>();
    for (const [addr, state] of entry.addrs) {
      if (state === 'ok') continue;
      if (state === 'lost' && !this.send(entry, addr)) {
        const why = this.link(addr).downReason;
        this.release(kind, name);
        return cb(why);
      }
      waitOn.add(addr);
    }
    if (waitOn.size === 0) return cb(null);
    entry.waiters.push({ addrs: waitOn, cb });
  }

  /** Starts delivering `name`'s messages to `client` (after a successful acquire). */
  attach(kind: Kind, name: string, client: Subscriber): void {
    this.entries[kind].get(name)?.clients.add(client);
  }

  /** Drops one reference (and the client's delivery); the last one unsubscribes the backends. */
  release(kind: Kind, name: string, client?: Subscriber): void {
    const entry = this.entries[kind].get(name);
    if (!entry) return;
    if (client) entry.clients.delete(client);
    if (--entry.refs > 0) return;
    this.entries[kind].delete(name);
    for (const [addr, state] of [...entry.addrs]) {
      if (state !== 'lost') this.links.get(addr)?.request(VERBS[kind].unsub, VERBS[kind].unsubbed, [name], []);
      this.deleteAddr(entry, addr);
    }
  }

  close(): void {
    this.closed = true;
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  /** Where a name lives: its slot's master (the source while it migrates), or every master. */
  private targets(kind: Kind, name: string): string[] | string {
    if (kind === 'pattern') {
      const out = new Set<string>();
      for (const g of this.host.topology.groups.values()) {
        const m = g.servers.find((s) => s.role === 'master');
        if (m) out.add(m.addr);
      }
      return out.size > 0 ? [...out].sort() : 'ERR no group is serving any slot';
    }
    const slot = slotOf(name);
    const route = this.host.topology.routes[slot]!;
    if (route.kind === 'online') return route.master ? [route.master] : `ERR group ${route.group} has no master`;
    if (route.kind === 'migrating') return route.fromMaster ? [route.fromMaster] : `ERR group ${route.from} has no master`;
    return `ERR slot ${slot} is not assigned to any group`;
  }

  private noTargetError(kind: Kind, name: string): string {
    const t = this.targets(kind, name);
    return typeof t === 'string' ? t : 'ERR no backend holds this subscription yet, retry';
  }

  private link(addr: string): SubscriberLink {
    let link = this.links.get(addr);
    if (!link) {
      const group = this.host.topology.groupOf(addr);
      link = new SubscriberLink(addr, {
        password: this.host.config.backendPassword || undefined,
        label: group === null ? undefined : `group ${group}`,
        replyTimeoutMs: this.host.config.backendTimeout,
        pingIntervalMs: this.host.config.backendPingInterval,
        onMessage: (kind, name, frame) => this.onMessage(kind, name, frame),
        onReady: () => this.onLinkReady(addr),
        onLost: (why) => this.onLinkLost(addr, why),
        stillNeeded: () => this.links.get(addr) === link && (this.byAddr.get(addr)?.size ?? 0) > 0,
        onIdle: () => this.maybeCloseLink(addr),
      });
      this.links.set(addr, link);
    }
    return link;
  }

  /** Sends SUBSCRIBE for one entry on one address; false when that link is down. */
  private send(entry: Entry, addr: string): boolean {
    const ok = this.link(addr).request(VERBS[entry.kind].sub, VERBS[entry.kind].subbed, [entry.name], [(err) => this.onConfirm(entry, addr, err)]);
    if (ok) entry.addrs.set(addr, 'pending');
    return ok;
  }

  private onConfirm(entry: Entry, addr: string, err: string | null): void {
    if (this.entries[entry.kind].get(entry.name) !== entry || entry.addrs.get(addr) !== 'pending') return;
    entry.addrs.set(addr, err === null ? 'ok' : 'lost');
    if (err !== null && entry.clients.size > 0) this.host.log(`re-subscribing ${entry.kind} ${entry.name} on ${addr} failed: ${err}`);
    const waiters = entry.waiters;
    const done: Array<[ConfirmCallback, string | null]> = [];
    entry.waiters = waiters.filter((w) => {
      if (!w.addrs.has(addr)) return true;
      if (err !== null) {
        done.push([w.cb, err]);
        return false;
      }
      w.addrs.delete(addr);
      if (w.addrs.size > 0) return true;
      done.push([w.cb, null]);
      return false;
    });
    // Failed waiters lose their reference first, so the last one unsubscribes where it held.
    for (const [cb, e] of done) {
      if (e !== null) this.release(entry.kind, entry.name);
      cb(e);
    }
  }

  private onMessage(kind: MessageKind, name: string, frame: Buffer): void {
    const entry = this.entries[KIND_OF_MESSAGE[kind]].get(name);
    if (!entry || entry.clients.size === 0) return;
    let push: Buffer | null = null;
    const asPush = () => {
      if (push === null) {
        push = Buffer.from(frame);
        push[0] = 0x3e; // RESP3 clients get pushes: same frame with ">" for "*"
      }
      return push;
    };
    // Bounded by the entry's clients; a slow client is cut off in deliver(), never waited for.
    for (const c of entry.clients) c.deliver(frame, asPush);
  }

  private onLinkLost(addr: string, why: string): void {
    const entries = this.byAddr.get(addr);
    if (!entries || entries.size === 0) return this.maybeCloseLink(addr);
    for (const e of entries) if (e.addrs.get(addr) === 'ok') e.addrs.set(addr, 'lost');
    this.host.log(`subscriber link to ${addr} lost (${why}); ${entries.size} subscriptions will be re-subscribed when it reconnects`);
  }

  /** (Re)connected: re-subscribe everything that lives there and is not confirmed or in flight. */
  private onLinkReady(addr: string): void {
    const entries = this.byAddr.get(addr);
    if (!entries) return;
    const link = this.links.get(addr)!;
    let resent = 0;
    for (const kind of KINDS) {
      let names: string[] = [];
      let cbs: ConfirmCallback[] = [];
      const flush = () => {
        if (names.length === 0) return;
        link.request(VERBS[kind].sub, VERBS[kind].subbed, names, cbs);
        resent += names.length;
        names = [];
        cbs = [];
      };
      for (const e of entries) {
        if (e.kind !== kind || e.addrs.get(addr) !== 'lost') continue;
        e.addrs.set(addr, 'pending');
        names.push(e.name);
        cbs.push((err) => this.onConfirm(e, addr, err));
        if (names.length >= RESUBSCRIBE_BATCH) flush();
      }
      flush();
    }
    if (resent > 0) this.host.log(`subscriber link to ${addr} up: re-subscribed ${resent} channels/patterns`);
  }

  /** The slot table changed: each entry moves to where its name now lives. */
  private onTopologyChanged(): void {
    const touched = new Set<string>();
    for (const kind of KINDS) {
      for (const entry of this.entries[kind].values()) {
        const t = this.targets(kind, entry.name);
        const wanted = new Set(typeof t === 'string' ? [] : t);
        for (const addr of wanted) {
          if (entry.addrs.has(addr)) continue;
          this.setAddr(entry, addr);
          this.send(entry, addr);
        }
        for (const [addr, state] of [...entry.addrs]) {
          if (wanted.has(addr)) continue;
          if (state !== 'lost') this.links.get(addr)?.request(VERBS[kind].unsub, VERBS[kind].unsubbed, [entry.name], []);
          this.deleteAddr(entry, addr);
          touched.add(addr);
          this.forgetWaitsOn(entry, addr);
        }
      }
    }
    for (const addr of touched) this.maybeCloseLink(addr);
  }

  /** An address no longer carries the entry: waiters stop waiting for it. */
  private forgetWaitsOn(entry: Entry, addr: string): void {
    const ready: ConfirmCallback[] = [];
    entry.waiters = entry.waiters.filter((w) => {
      w.addrs.delete(addr);
      if (w.addrs.size > 0) return true;
      ready.push(w.cb);
      return false;
    });
    for (const cb of ready) cb(null);
  }

  private setAddr(entry: Entry, addr: string): void {
    entry.addrs.set(addr, 'lost');
    let set = this.byAddr.get(addr);
    if (!set) this.byAddr.set(addr, (set = new Set()));
    set.add(entry);
  }

  private deleteAddr(entry: Entry, addr: string): void {
    entry.addrs.delete(addr);
    const set = this.byAddr.get(addr);
    if (!set) return;
    set.delete(entry);
    if (set.size === 0) {
      this.byAddr.delete(addr);
      this.maybeCloseLink(addr);
    }
  }

  /**
   * A link nothing lives on, with no reply outstanding, is closed (the next subscriber reopens
   * it). One in its back-off is kept, so subscribers to a refusing node fail fast instead of each
   * opening a connection to it.
   */
  private maybeCloseLink(addr: string): void {
    const link = this.links.get(addr);
    if (!link || (this.byAddr.get(addr)?.size ?? 0) > 0 || link.outstanding > 0 || link.inBackoff) return;
    this.links.delete(addr);
    link.close();
  }
}
