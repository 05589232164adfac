// The forwarder: sends one raw request to a backend over the client's pooled link and settles it
// with the final reply, following the nodes' redirects on the way — -MOVED (re-sent to the
// named owner, and the router told so), -ASK (re-sent to the named target right after ASKING, on
// one link as one unit), -TRYAGAIN (re-sent after a short back-off). Timeouts and link failures
// are the backend link's (proxy/backend/connection.ts); they arrive here as an error and end
// the request with it. Never parses commands, never touches the client's socket.
//
// Every wait is this request's alone: a back-off is a timer, not a hold on the link, so the
// client's other requests and other clients go on; replies still leave in request order
// because the session writes them in that order, whatever order they settle in.
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
}

/** Receives the final reply frame of a forwarded request (an error frame when it failed). */
export type Done = (reply: Buffer) => void;

/** -MOVED / -ASK hops one request may take before the last redirect is passed on. */
export const MAX_REDIRECTS = 5;
/** -TRYAGAIN back-off: the first wait, the cap of one wait, and the total before giving up. */
export const TRYAGAIN_FIRST_MS = 5;
export const TRYAGAIN_MAX_MS = 100;
export const TRYAGAIN_BUDGET_MS = 2000;

const ASKING = encodeCommand(['ASKING']);
const IGNORE: ReplyCallback = () => {};

export interface ForwarderHooks {
  /** Counts -MOVED redirects (INFO stats). */
  onMoved(): void;
  /** An exception while settling a request: it ends this client only (see ProxySession.internalError). */
  onInternalError(err: unknown): void;
  /** True once the client is gone: a request waiting out a back-off is then not re-sent. */
  gone(): boolean;
}

export class Forwarder {
  constructor(
    private readonly links: LinkSource,
    private readonly router: MovedSink,
    private readonly hooks: ForwarderHooks,
  ) {}

  /**
   * Sends `raw` to `addr`; `done` runs exactly once with the final reply. `slot` is the proxy slot
   * of every key in the request, or -1 when there are none or several (a -MOVED is then followed
   * but not remembered). `stream` lets a big reply go to the client as it arrives (the caller
   * then gets STREAMED). `raw` is not copied: the caller must not change it.
   */
  forward(addr: string, raw: Buffer, slot: number, done: Done, stream: ReplyStream | null = null): void {
    this.send(addr, raw, slot, done, stream, 0, false, 0);
  }

  /**
   * One hop: `hops` redirects followed so far, `asking` = ASKING goes first (an -ASK target),
   * `waited` = ms of TRYAGAIN back-off spent so far (the next wait doubles the last one).
   */
  private send(addr: string, raw: Buffer, slot: number, done: Done, stream: ReplyStream | null, hops: number, asking: boolean, waited: number): void {
    const link = this.links.link(addr);
    // Queued in one synchronous run, so ASKING and the request are adjacent on the link: no other
    // request of this client or another can come between them.
    if (asking) link.send(ASKING, IGNORE);
    link.send(raw, (reply, error) => {
      try {
        if (reply === null) return done(errorFrame(error!));
        const kind = redirectKind(reply);
        if (kind === 0) return done(reply);
        this.redirect(kind, addr, raw, slot, done, stream, hops, asking, waited, reply);
      } catch (err) {
        this.hooks.onInternalError(err); // this client only: the link goes on with the next reply
      }
    }, -1, stream);
  }

  private redirect(kind: number, addr: string, raw: Buffer, slot: number, done: Done, stream: ReplyStream | null, hops: number, asking: boolean, waited: number, reply: Buffer): void {
    if (kind === TRYAGAIN) {
      // The slot is mid-move and this request's keys are on both sides: wait for the mover.
      const wait = waited === 0 ? TRYAGAIN_FIRST_MS : Math.min(TRYAGAIN_MAX_MS, waited);
      if (waited + wait > TRYAGAIN_BUDGET_MS) return done(reply);
      setTimeout(() => {
        if (this.hooks.gone()) return done(reply);
        this.send(addr, raw, slot, done, stream, hops, asking, waited + wait);
      }, wait);
      return;
    }
    const target = hops < MAX_REDIRECTS ? redirectTarget(reply) : null;
    if (target === null) return done(reply);
    if (kind === MOVED) {
      this.hooks.onMoved();
      if (slot >= 0) this.router.moved(slot, target);
      return this.send(target, raw, slot, done, stream, hops + 1, false, waited);
    }
    if (kind === ASK) this.send(target, raw, slot, done, stream, hops + 1, true, waited);
  }
}
