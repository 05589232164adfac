// The forwarder: sends one raw request to a backend over the client's pooled link and settles it
// with the final reply, following the nodes' redirects on the way — -MOVED (re-sent to the
// named owner, and the router told so), -ASK (re-sent to the named target right after ASKING, on
// one link as one unit), -TRYAGAIN (re-sent after a short back-off). Timeouts and link failures
// are the backend link's (proxy/backend/connection.ts); they arrive here as an error and end
// the request with it. Never parses commands, never touches the client's socket.
//
// Every wait is this request's alone: a back-off is a timer, not a hold on the link, so the
// client's other requests and other clients go on; replies still leave in request order
// because the session writes them in that order, whatever order they settle in. One exception
// keeps the client's order of effects: a request of this client for a slot with a request in
// -TRYAGAIN back-off waits behind it (see Chain), so a later SET/GET on the same key can never
// run before the retried MSET it followed in the client's pipeline. And on a slot the table
// marks as migrating, a client's requests go one at a time (each heads the slot's chain while in
// flight): otherwise a SET sent behind an MSET could run at once while the MSET is refused
// -TRYAGAIN and retried later, overwriting the acknowledged SET. Other slots stay pipelined.
//
// A -MOVED that points back at the node that just redirected here (or at the node itself), or
// one that comes after the hop budget is spent, is a slot changing hands between the two (the
// nodes are told one after the other): it is waited out like a -TRYAGAIN (same chain, same
// bounded budget) instead of reaching the client, which must never see a redirect from us.
import { encodeCommand } from '../common/resp/encode.js';
import type { ReplyCallback, ReplyStream } from './backend/connection.js';
import { errorFrame } from './merge.js';

/** A backend link requests can be queued on (BackendConnection; fakes in tests). */
export interface Link {
  /** Queues `raw`; `cb` runs exactly once, with the reply frame or a link error text. */
  send(raw: Buffer, cb: ReplyCallback, timeoutMs?: number, stream?: ReplyStream | null): void;
}

/** A redirect a node answered with (parsed from the first bytes of an error frame), or null. */
export const MOVED = 1;
export const ASK = 2;
export const TRYAGAIN = 3;

/**
 * What kind of redirect `reply` is: MOVED, ASK, TRYAGAIN, or 0 (not one: an ordinary reply or
 * error). Looks at a few bytes only; no allocation unless it is an error frame starting with M/A/T.
 */
export function redirectKind(reply: Buffer): number {
  if (reply[0] !== 0x2d) return 0;
  const c = reply[1];
  if (c === 0x4d) return startsWith(reply, 'MOVED ') ? MOVED : 0; // M
  if (c === 0x41) return startsWith(reply, 'ASK ') ? ASK : 0; // A
  if (c === 0x54) return startsWith(reply, 'TRYAGAIN') ? TRYAGAIN : 0; // T
  return 0;
}

function startsWith(reply: Buffer, word: string): boolean {
  if (reply.length < word.length + 1) return false;
  for (let i = 0; i < word.length; i++) if (reply[i + 1] !== word.charCodeAt(i)) return false;
  return true;
}

/** The "host:port" of "-MOVED <slot> <host:port>" / "-ASK <slot> <host:port>", or null. */
export function redirectTarget(reply: Buffer): string | null {
  const text = reply.latin1Slice(1, Math.min(reply.length - 2, 200));
  const target = text.split(' ')[2];
  return target !== undefined && target.length > 0 ? target : null;
}

/** Where the forwarder gets a link to a backend address (the pool's link for this client). */
export interface LinkSource {
  link(addr: string): Link;
}

/** Told when a node answered -MOVED for a slot (the router remembers it until the next table). */
export interface MovedSink {
  moved(slot: number, addr: string): void;
  /** True while the table says `slot` migrates (Router.migrating); absent = never (test fakes). */
  migrating?(slot: number): boolean;
}

/** Receives the final reply frame of a forwarded request (an error frame when it failed). */
export type Done = (reply: Buffer) => void;

/** -MOVED / -ASK hops one request may take before the last redirect is passed on. */
export const MAX_REDIRECTS = 5;
/**
 * -TRYAGAIN back-off: the first wait, the cap of one wait, and the total before giving up. A
 * multi-key request whose keys are not all on one side of a moving slot is refused until the
 * slot is finished (one slot's move plus the coordinator's finishing step), so the budget is
 * that of a slow backend (backend-timeout's default), not a blink.
 */
export const TRYAGAIN_FIRST_MS = 5;
export const TRYAGAIN_MAX_MS = 100;
export const TRYAGAIN_BUDGET_MS = 5000;

const ASKING = encodeCommand(['ASKING']);
const IGNORE: ReplyCallback = () => {};
const GONE = errorFrame('ERR client closed before the request could be retried');

export interface ForwarderHooks {
  /** Counts -MOVED redirects (INFO stats). */
  onMoved(): void;
  /** An exception while settling a request: it ends this client only (see ProxySession.internalError). */
  onInternalError(err: unknown): void;
  /** True once the client is gone: a request waiting out a back-off is then not re-sent. */
  gone(): boolean;
}

/**
 * A request of this client parked on a slot's chain: the head is in -TRYAGAIN back-off (or being
 * re-sent, or in flight on a migrating slot: see lead()); the others wait behind it in the
 * client's order (`seq`) and go one at a time once the one ahead settled. `since`: when it was parked (its back-off budget runs from then).
 */
interface Parked {
  /** The forwarder it came through (a client may have several: their links differ). */
  via: Forwarder;
  addr: string;
  raw: Buffer;
  done: Done;
  stream: ReplyStream | null;
  hops: number;
  asking: boolean;
  waited: number;
  seq: number;
  since: number;
  /** The last -TRYAGAIN it got (passed on when it gives up or the client leaves); null = not tried yet. */
  reply: Buffer | null;
}

/**
 * One client's order across all its forwarders (a session may send reads and writes through
 * different ones): per slot, its requests held behind one in -TRYAGAIN back-off (or in flight on
 * a migrating slot), head first (bounded by the client's pipeline limit; a slot's entry goes when
 * its chain is empty), and the order of forward() calls, which places a request that was already in flight in a chain.
 * Requests of other slots, and of slot -1 (no key / several slots), never wait.
 */
interface ClientOrder {
  chains: Map<number, Parked[]>;
  seq: number;
}

/** Keyed by the client's hooks object (the session), which all its forwarders share. */
const orders = new WeakMap<ForwarderHooks, ClientOrder>();

function orderOf(hooks: ForwarderHooks): ClientOrder {
  let o = orders.get(hooks);
  if (o === undefined) orders.set(hooks, (o = { chains: new Map(), seq: 0 }));
  return o;
}

export class Forwarder {
  private readonly order: ClientOrder;
  private readonly chains: Map<number, Parked[]>;

  constructor(
    private readonly links: LinkSource,
    private readonly router: MovedSink,
    private readonly hooks: ForwarderHooks,
  ) {
    this.order = orderOf(hooks);
    this.chains = this.order.chains;
  }

  /**
   * Sends `raw` to `addr`; `done` runs exactly once with the final reply. `slot` is the proxy slot
   * of every key in the request, or -1 when there are none or several (a -MOVED is then followed
   * but not remembered). `stream` lets a big reply go to the client as it arrives (the caller
   * then gets STREAMED). `raw` is not copied: the caller must not change it. A request for a slot
   * whose chain is not empty (an earlier one of this client waits out a -TRYAGAIN, or is in
   * flight on a migrating slot) is parked behind it instead of being sent now.
   */
  forward(addr: string, raw: Buffer, slot: number, done: Done, stream: ReplyStream | null = null): void {
    const seq = this.order.seq++;
    if (slot >= 0 && this.chains.size > 0) {
      const chain = this.chains.get(slot);
      if (chain !== undefined) {
        chain.push({ via: this, addr, raw, done, stream, hops: 0, asking: false, waited: 0, seq, since: Date.now(), reply: null });
        return;
      }
    }
    if (slot >= 0 && this.router.migrating?.(slot) === true) return this.lead(addr, raw, slot, done, stream, seq);
    this.send(addr, raw, slot, done, stream, 0, false, 0, seq, false);
  }

  /**
   * A request on a migrating slot with no chain: it heads a new chain while in flight, so the
   * client's next ones on the slot wait for its final reply (its -TRYAGAIN retries, its -ASK hop
   * included) and go one at a time after it, in the client's order.
   */
  private lead(addr: string, raw: Buffer, slot: number, done: Done, stream: ReplyStream | null, seq: number): void {
    this.chains.set(slot, [{ via: this, addr, raw, done, stream, hops: 0, asking: false, waited: 0, seq, since: Date.now(), reply: null }]);
    this.send(addr, raw, slot, done, stream, 0, false, 0, seq, true);
  }

  /**
   * Whether a request for `slot` may skip forward()'s bookkeeping (the session's fast path sends
   * it on the link itself, with takeSeq() and, should a redirect come back, redirected()): no
   * chain of this client waits anywhere and the table does not say the slot migrates.
   */
  quiet(slot: number): boolean {
    return this.chains.size === 0 && this.router.migrating?.(slot) !== true;
  }

  /** The next place in the client's order (what forward() takes for each request). */
  takeSeq(): number {
    return this.order.seq++;
  }

  /**
   * A request sent by the fast path (first hop, `seq` from takeSeq()) was answered with a redirect
   * of `kind` by `addr`: followed exactly as forward()'s own requests are.
   */
  redirected(kind: number, addr: string, raw: Buffer, slot: number, done: Done, stream: ReplyStream | null, seq: number, reply: Buffer): void {
    try {
      this.redirect(kind, addr, raw, slot, done, stream, 0, false, 0, seq, false, reply, null);
    } catch (err) {
      this.hooks.onInternalError(err);
    }
  }

  /** Requests parked on chains (INFO, tests). */
  get parked(): number {
    let n = 0;
    for (const c of this.chains.values()) n += c.length;
    return n;
  }

  /**
   * One hop: `hops` redirects followed so far, `asking` = ASKING goes first (an -ASK target),
   * `waited` = ms of TRYAGAIN back-off spent so far (the next wait doubles the last one),
   * `head` = this is the head of its slot's chain (its settling lets the next one go).
   */
  private send(addr: string, raw: Buffer, slot: number, done: Done, stream: ReplyStream | null, hops: number, asking: boolean, waited: number, seq: number, head: boolean, from: string | null = null): void {
    const link = this.links.link(addr);
    // Queued in one synchronous run, so ASKING and the request are adjacent on the link: no other
    // request of this client or another can come between them.
    if (asking) link.send(ASKING, IGNORE);
    link.send(raw, (reply, error) => {
      try {
        if (reply === null) return this.settle(done, errorFrame(error!), slot, head);
        const kind = redirectKind(reply);
        if (kind === 0) return this.settle(done, reply, slot, head);
        this.redirect(kind, addr, raw, slot, done, stream, hops, asking, waited, seq, head, reply, from);
      } catch (err) {
        this.hooks.onInternalError(err); // this client only: the link goes on with the next reply
      }
    }, -1, stream);
  }

  /** The final reply of a request; a chain's head lets the next parked request go. */
  private settle(done: Done, reply: Buffer, slot: number, head: boolean): void {
    try {
      done(reply);
    } finally {
      if (head) this.advance(slot);
    }
  }

  /** `from`: the node whose redirect sent this hop here (null for a first or re-sent request). */
  private redirect(kind: number, addr: string, raw: Buffer, slot: number, done: Done, stream: ReplyStream | null, hops: number, asking: boolean, waited: number, seq: number, head: boolean, reply: Buffer, from: string | null): void {
    if (kind === TRYAGAIN) return this.tryAgain(addr, raw, slot, done, stream, hops, asking, waited, seq, head, reply);
    const target = redirectTarget(reply);
    if (target === null) return this.settle(done, reply, slot, head);
    // In flight when an earlier request of this client on the slot began its -TRYAGAIN back-off:
    // the hop waits behind it, or it would run at the target before the retried one (a DEL of a
    // key the earlier MSET is about to write would find nothing there and the MSET land after it).
    const behind = !head && slot >= 0 && this.chains.size > 0;
    if (kind === MOVED) {
      this.hooks.onMoved();
      if (slot >= 0) this.router.moved(slot, target);
      if (behind && this.parkRedirect(kind, target, raw, slot, done, stream, hops, waited, seq)) return;
      // Bounced back (or the hops are spent): the two nodes are between two states; wait it out.
      if (target === from || target === addr || hops >= MAX_REDIRECTS) return this.tryAgain(target, raw, slot, done, stream, 0, false, waited, seq, head, reply);
      return this.send(target, raw, slot, done, stream, hops + 1, false, waited, seq, head, addr);
    }
    if (behind && this.parkRedirect(kind, target, raw, slot, done, stream, hops, waited, seq)) return;
    if (hops >= MAX_REDIRECTS) return this.tryAgain(target, raw, slot, done, stream, 0, true, waited, seq, head, reply);
    this.send(target, raw, slot, done, stream, hops + 1, true, waited, seq, head, addr);
  }

  /**
   * -TRYAGAIN: the slot is mid-move and this request's keys are on both sides (or the node waits
   * for the coordinator): re-sent after a back-off. With a slot, the request heads (or joins, in
   * the client's order) the slot's chain, so nothing later of this client on the slot overtakes it.
   */
  private tryAgain(addr: string, raw: Buffer, slot: number, done: Done, stream: ReplyStream | null, hops: number, asking: boolean, waited: number, seq: number, head: boolean, reply: Buffer): void {
    const wait = waited === 0 ? TRYAGAIN_FIRST_MS : Math.min(TRYAGAIN_MAX_MS, waited);
    if (slot < 0) {
      if (waited + wait > TRYAGAIN_BUDGET_MS) return done(reply);
      setTimeout(() => {
        if (this.hooks.gone()) return done(reply);
        this.send(addr, raw, slot, done, stream, hops, asking, waited + wait, seq, false);
      }, wait);
      return;
    }
    let chain = this.chains.get(slot);
    if (head && chain !== undefined) {
      const h = chain[0]!;
      // The budget counts from when it was parked: a request that waited behind others gets
      // one more try, not a whole budget of its own (a long chain drains in bounded time).
      if (Date.now() - h.since + wait > TRYAGAIN_BUDGET_MS) return this.settle(done, reply, slot, true);
      h.addr = addr;
      h.hops = hops;
      h.asking = asking;
      h.waited = waited + wait;
      h.reply = reply;
      this.retryHead(slot, chain, wait);
      return;
    }
    const entry: Parked = { via: this, addr, raw, done, stream, hops, asking, waited: waited + wait, seq, since: Date.now(), reply };
    if (chain === undefined) {
      if (waited + wait > TRYAGAIN_BUDGET_MS) return done(reply);
      chain = [entry];
      this.chains.set(slot, chain);
      this.retryHead(slot, chain, wait);
      return;
    }
    // Sent before the chain began and answered -TRYAGAIN too: behind the head, in client order.
    let i = chain.length;
    while (i > 1 && chain[i - 1]!.seq > seq) i--;
    chain.splice(i, 0, entry);
  }

  /**
   * Parks a redirected hop (-ASK: with ASKING; -MOVED) behind the slot's chain when the chain's
   * head came earlier in the client's order; false (follow it now) when there is no chain or the
   * hop is older than its head.
   */
  private parkRedirect(kind: number, target: string, raw: Buffer, slot: number, done: Done, stream: ReplyStream | null, hops: number, waited: number, seq: number): boolean {
    const chain = this.chains.get(slot);
    if (chain === undefined || chain[0]!.seq > seq) return false;
    const entry: Parked = { via: this, addr: target, raw, done, stream, hops: hops + 1, asking: kind === ASK, waited, seq, since: Date.now(), reply: null };
    let i = chain.length;
    while (i > 1 && chain[i - 1]!.seq > seq) i--;
    chain.splice(i, 0, entry);
    return true;
  }

  /** Re-sends the chain's head after `wait` ms (unless the client left: then the chain settles). */
  private retryHead(slot: number, chain: Parked[], wait: number): void {
    setTimeout(() => {
      if (this.chains.get(slot) !== chain) return;
      if (this.hooks.gone()) return this.abandon(slot, chain);
      const h = chain[0]!;
      h.via.send(h.addr, h.raw, slot, h.done, h.stream, h.hops, h.asking, h.waited, h.seq, true);
    }, wait);
  }

  /** The head settled: the next parked request goes now (it was held, not backed off). */
  private advance(slot: number): void {
    const chain = this.chains.get(slot);
    if (chain === undefined) return;
    chain.shift();
    if (chain.length === 0) return void this.chains.delete(slot);
    if (this.hooks.gone()) return this.abandon(slot, chain);
    const h = chain[0]!;
    h.via.send(h.addr, h.raw, slot, h.done, h.stream, h.hops, h.asking, h.waited, h.seq, true);
  }

  /** The client left: every parked request of the chain settles (nothing is sent for it). */
  private abandon(slot: number, chain: Parked[]): void {
    this.chains.delete(slot);
    const last = chain.find((p) => p.reply !== null)?.reply ?? GONE;
    for (const p of chain) {
      try {
        p.done(p.reply ?? last);
      } catch (err) {
        this.hooks.onInternalError(err);
      }
    }
  }
}
