// MULTI/EXEC/WATCH through the proxy for one client. A transaction is allowed when every key it
// touches (WATCHed ones included) hashes to one slot: commands are queued here, and EXEC sends
// MULTI … EXEC in one batch over the client's pinned link to that slot's master. Anything else is
// refused with -CROSSSLOT and makes EXEC answer -EXECABORT, as a queue-time error does in Redis.
import { encodeCommand } from '../common/resp/encode.js';
import { ERR } from '../common/errors.js';
import { errorFrame } from './merge.js';
import type { ProxySession } from './session.js';

const MULTI = encodeCommand(['MULTI']);
const EXEC = encodeCommand(['EXEC']);
const UNWATCH = encodeCommand(['UNWATCH']);
const QUEUED = Buffer.from('+QUEUED\r\n');
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
    const addr = this.session.masterAddr(this.slot!);
    if (addr === null) return done(errorFrame(this.session.routeError(this.slot!)));
    if (this.watchAddr !== null && this.watchAddr !== addr) return done(errorFrame(ERR.crossSlot));
    this.watchAddr = addr;
    this.session.dedicated(addr).send(raw, (reply, err) => done(reply ?? errorFrame(err!)));
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
    const addr = watchAddr ?? (slot === null ? this.session.allMasters()[0] ?? null : this.session.masterAddr(slot));
    if (addr === null) return done(errorFrame('ERR no group serves the transaction\'s slot'));
    // With WATCH the transaction must run on the link that watched; otherwise on the client's
    // shared link: MULTI … EXEC are queued there in one synchronous run, so no other client's
    // request can fall between them, and a transaction costs no connection of its own.
    const conn = watchAddr !== null ? this.session.dedicated(addr) : this.session.proxy.pool.get(addr, this.session.id, this.session.resp === 3);
    // Only EXEC's reply goes to the client; MULTI's +OK and the +QUEUEDs were answered here.
    conn.send(MULTI, () => {});
    for (const raw of queued) conn.send(raw, () => {});
    conn.send(EXEC, (reply, err) => done(reply ?? errorFrame(err!)));
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
