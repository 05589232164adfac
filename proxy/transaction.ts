// MULTI/EXEC/WATCH through the proxy for one client. A transaction is allowed when every key it
// touches (WATCHed ones included) hashes to one slot: commands are queued here, and EXEC sends
// MULTI … EXEC in one batch over the client's pinned link to that slot's master. Anything else is
// refused with -CROSSSLOT and makes EXEC answer -EXECABORT, as a queue-time error does in Redis.
// While the slot moves, the nodes' redirects make the transaction follow it whole (see run()).
import { encodeCommand } from '../common/resp/encode.js';
import { ERR } from '../common/errors.js';
import { ASK, MAX_REDIRECTS, MOVED, TRYAGAIN, TRYAGAIN_BUDGET_MS, TRYAGAIN_FIRST_MS, TRYAGAIN_MAX_MS, redirectKind, redirectTarget } from './forwarder.js';
import { errorFrame } from './merge.js';
import type { ProxySession } from './session.js';

const MULTI = encodeCommand(['MULTI']);
const EXEC = encodeCommand(['EXEC']);
const UNWATCH = encodeCommand(['UNWATCH']);
const ASKING = encodeCommand(['ASKING']);
const QUEUED = Buffer.from('+QUEUED\r\n');
const IGNORE = () => {};
/** A transaction whose slot is moving and could not follow it: nothing was applied, retry it. */
const TRYAGAIN_TX = errorFrame('TRYAGAIN the transaction\'s slot is being migrated; nothing was applied, retry the transaction');
const TRYAGAIN_WATCH = errorFrame('TRYAGAIN the key\'s slot is being migrated; retry WATCH');
const EXECABORT_PREFIX = '-EXECABORT';

function isExecAbort(reply: Buffer): boolean {
  return reply.length > EXECABORT_PREFIX.length && reply.latin1Slice(0, EXECABORT_PREFIX.length) === EXECABORT_PREFIX;
}
const OK = Buffer.from('+OK\r\n');

export class ProxyTransaction {
  inMulti = false;
  private failed = false;
  private queued: Buffer[] = [];
  /** The slot every key so far hashes to (null = no key yet). */
  private slot: number | null = null;
  /** Master the WATCHes were sent to (null = not watching). */
  private watchAddr: string | null = null;

  constructor(private readonly session: ProxySession) {}

  /** Marks the open transaction as doomed (a command was refused while queueing). */
  flag(): void {
    if (this.inMulti) this.failed = true;
  }

  /** Checks that `slots` agree with the transaction's slot; returns false (after flagging) if not. */
  private claim(slots: readonly number[]): boolean {
    for (const s of slots) {
      if (this.slot === null) this.slot = s;
      else if (this.slot !== s) return false;
    }
    return true;
  }

  multi(): Buffer {
    if (this.inMulti) return errorFrame('ERR MULTI calls can not be nested');
    this.inMulti = true;
    this.failed = false;
    this.queued = [];
    return OK;
  }

  /** A command to queue, with the slots of its keys. */
  queue(raw: Buffer, slots: readonly number[]): Buffer {
    if (!this.claim(slots)) {
      this.failed = true;
      return errorFrame(ERR.crossSlot);
    }
    this.queued.push(raw);
    return QUEUED;
  }

  watch(raw: Buffer, slots: readonly number[], done: (reply: Buffer) => void): void {
    if (this.inMulti) return done(errorFrame('ERR WATCH inside MULTI is not allowed'));
    if (!this.claim(slots)) return done(errorFrame(ERR.crossSlot));
    const addr = this.session.router.master(this.slot!);
    if (addr === null) return done(errorFrame(this.session.router.routeError(this.slot!)));
    if (this.watchAddr !== null && this.watchAddr !== addr) return done(errorFrame(ERR.crossSlot));
    // Only a first WATCH may move to another node: earlier ones stay where they were placed.
    const first = this.watchAddr === null;
    this.watchAddr = addr;
    this.sendWatch(addr, raw, this.slot!, done, first ? 0 : MAX_REDIRECTS);
  }

  /**
   * WATCH on this client's own link to `addr`. A -MOVED (stale table) is followed: the WATCH goes
   * to the new owner, which the transaction then runs on (a first WATCH only: `hops` starts at
   * MAX_REDIRECTS for a later one, so earlier WATCHes are never left behind). While the slot
   * migrates (-ASK, -TRYAGAIN)
   * a WATCH cannot be placed where the key will be: it is refused with a retryable TRYAGAIN, and
   * nothing is watched by this request.
   */
  private sendWatch(addr: string, raw: Buffer, slot: number, done: (reply: Buffer) => void, hops: number): void {
    this.session.dedicated(addr).send(raw, (reply, err) => {
      if (reply === null) return done(errorFrame(err!));
      const kind = redirectKind(reply);
      if (kind === 0) return done(reply);
      const target = kind === MOVED && hops < MAX_REDIRECTS ? redirectTarget(reply) : null;
      if (target !== null && this.watchAddr === addr) {
        this.session.onMoved();
        this.session.router.moved(slot, target);
        this.watchAddr = target;
        return this.sendWatch(target, raw, slot, done, hops + 1);
      }
      done(TRYAGAIN_WATCH);
    });
  }

  unwatch(done: (reply: Buffer) => void): void {
    if (this.watchAddr === null) {
      if (!this.inMulti) this.slot = null;
      return done(OK);
    }
    const addr = this.watchAddr;
    this.watchAddr = null;
    if (!this.inMulti) this.slot = null;
    this.session.dedicated(addr).send(UNWATCH, (reply, err) => done(reply ?? errorFrame(err!)));
  }

  discard(done: (reply: Buffer) => void): void {
    if (!this.inMulti) return done(errorFrame('ERR DISCARD without MULTI'));
    this.reset();
    this.unwatch(() => done(OK));
  }

  exec(done: (reply: Buffer) => void): void {
    if (!this.inMulti) return done(errorFrame('ERR EXEC without MULTI'));
    const queued = this.queued;
    const failed = this.failed;
    const slot = this.slot;
    const watchAddr = this.watchAddr;
    this.reset();
    this.watchAddr = null;
    if (failed) {
      if (watchAddr) this.session.dedicated(watchAddr).send(UNWATCH, () => {});
      return done(errorFrame(ERR.execAbort));
    }
    const addr = watchAddr ?? (slot === null ? this.session.router.masters()[0] ?? null : this.session.router.master(slot));
    if (addr === null) return done(errorFrame('ERR no group serves the transaction\'s slot'));
    this.run(addr, queued, slot ?? -1, watchAddr !== null, done, false, 0, 0);
  }

  /**
   * Sends MULTI … EXEC to `addr` in one synchronous run (after ASKING when `asking`). With WATCH
   * it runs on the link that watched; otherwise on the client's shared link: no other client's
   * request can fall between the parts, and a transaction costs no connection of its own.
   *
   * Its slot may be moving: the node then refuses the queued commands with a redirect and
   * discards the whole transaction (EXECABORT, nothing applied), or redirects EXEC itself. The
   * transaction is then re-sent whole where the redirect points (-ASK: after ASKING, which covers
   * a whole transaction; -MOVED: and the router told), or after a back-off (-TRYAGAIN), bounded
   * like single requests. A WATCHed transaction cannot move (its WATCH is on the old node): it
   * gets TRYAGAIN_TX, retryable, with nothing applied.
   */
  private run(addr: string, queued: Buffer[], slot: number, watched: boolean, done: (reply: Buffer) => void, asking: boolean, hops: number, waited: number): void {
    const session = this.session;
    const conn = watched ? session.dedicated(addr) : session.link(addr);
    let redirect: Buffer | null = null;
    const note = (reply: Buffer | null) => {
      if (redirect === null && reply !== null && redirectKind(reply) !== 0) redirect = reply;
    };
    // Only EXEC's reply goes to the client; MULTI's +OK and the +QUEUEDs were answered here.
    if (asking) conn.send(ASKING, IGNORE);
    conn.send(MULTI, IGNORE);
    for (const raw of queued) conn.send(raw, note);
    conn.send(EXEC, (reply, err) => {
      if (reply === null) return done(errorFrame(err!));
      const why = redirectKind(reply) !== 0 ? reply : isExecAbort(reply) ? redirect : null;
      if (why === null) return done(reply);
      if (watched) return done(TRYAGAIN_TX);
      const kind = redirectKind(why);
      if (kind === TRYAGAIN) {
        const wait = waited === 0 ? TRYAGAIN_FIRST_MS : Math.min(TRYAGAIN_MAX_MS, waited);
        if (waited + wait > TRYAGAIN_BUDGET_MS) return done(TRYAGAIN_TX);
        setTimeout(() => {
          if (session.gone()) return done(TRYAGAIN_TX);
          this.run(addr, queued, slot, false, done, asking, hops, waited + wait);
        }, wait);
        return;
      }
      const target = hops < MAX_REDIRECTS ? redirectTarget(why) : null;
      if (target === null) return done(TRYAGAIN_TX);
      if (kind === MOVED) {
        session.onMoved();
        if (slot >= 0) session.router.moved(slot, target);
      }
      this.run(target, queued, slot, false, done, kind === ASK, hops + 1, waited);
    });
  }

  /** RESET: forget the transaction and any WATCH (the caller closes the pinned link). */
  abandon(): void {
    this.reset();
    this.watchAddr = null;
  }

  private reset(): void {
    this.inMulti = false;
    this.failed = false;
    this.queued = [];
    this.slot = null;
  }
}
