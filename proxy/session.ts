// One client of the proxy — the top layer of session → splitter → router → forwarder → backend
// links (../shared/ARCHITECTURE.md "Proxy"). The session owns the socket: decoding pipelined
// requests, reply order (replies are written in request order, batched into one socket write per
// tick, big ones streamed), backpressure and the client's limits. It hands each request to the
// splitter (proxy/splitter.ts) by the command table's policy, or answers it itself (local,
// admin, pub/sub, transactions, blocking commands on their own links). Every request settles
// exactly once: a reply, an error, a backend failure, or the client closing.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks'; // a binding: globalThis.performance is a lazy accessor
import { bytesToHuman } from '../common/bytes-to-human.js';
import type { CommandSpec } from '../common/commands/spec.js';
import { resolveCommand } from '../common/commands/table.js';
import { ERR } from '../common/errors.js';
import { encodeCommand } from '../common/resp/encode.js';
import { ProtocolError, RequestDecoder } from '../common/resp/request-decoder.js';
import { slotOf, slotOfBytes } from '../common/slots.js';
import { BackendConnection, DISCARD, GATHER, type ReplySink, type ReplyStream, STREAM, STREAMED } from './backend/connection.js';
import type { BlockingWaiter } from './backend/pool.js';
import { isAdminCommand, runAdminCommand } from './admin-commands.js';
import { type MultiKeyScan, frameKeysOf, newMultiKeyScan } from './fast-multikey.js';
import { type FastRequest, MULTI, SINGLE, newFastRequest, scanRequest } from './fast-request.js';
import { answerLocally, isCrossProtocol } from './local-commands.js';
import { ASK, Forwarder, MAX_REDIRECTS, MOVED, redirectKind, redirectTarget } from './forwarder.js';
import { OK_FRAME, arrayElements, arrayFrame, errorFrame, integerFrame, integerOf, isError } from './merge.js';
import type { Proxy } from './proxy.js';
import { ProxyPubSub } from './pubsub.js';
import { Ring } from './ring.js';
import { Router } from './router.js';
import { CROSS, Splitter, bulk, commandSlot, keySlots } from './splitter.js';
import type { CommandStats } from './stats.js';
import { ProxyTransaction } from './transaction.js';
import { NO_WRITES, ProxyWait, type WaitHost, type WaitTarget, WriteTracker, parseWaitArgs } from './wait.js';

const NO_BYTES = Buffer.alloc(0);
/** Pending.reply of a reply held as a range of a backend read (Pending.replyIn … replyEnd). */
const IN_READ = Buffer.alloc(0);

/**
 * One request (or pushed frame) in the client's reply order; it can take its reply streamed. A
 * fast-path request (see ProxySession.fastStart) also takes its backend reply itself (ReplySink)
 * and keeps what a redirect needs to follow it (via … seq), so it needs no closure.
 */
class Pending implements ReplyStream, ReplySink {
  reply: Buffer | null = null;
  /** With reply === IN_READ: the reply is bytes [replyStart, replyEnd) of the backend read `replyIn`. */
  replyIn: Buffer = NO_BYTES;
  replyStart = 0;
  replyEnd = 0;
  via: Forwarder | null = null;
  addr = '';
  /** The request's bytes: [rawStart, rawEnd) of the read buffer `rawIn` (a view is made only for a redirect). */
  rawIn: Buffer = NO_BYTES;
  rawStart = 0;
  rawEnd = 0;
  slot = -1;
  seq = 0;
  /** Part of the reply already went to the client as it arrived. */
  streaming = false;
  /** Runs once every earlier request settled (WAIT starts then: see afterEarlier). */
  atHead: (() => void) | null = null;
  /**
   * A fast-path request nothing but its link and this session ever held (no redirect followed):
   * once written it is reused for a later fast-path request (see ProxySession.fastPending).
   */
  reusable = false;
  constructor(
    readonly session: ProxySession,
    public stats: CommandStats,
    /** performance.now() at arrival when this request's latency is sampled, else -1. */
    public startedAt: number,
  ) {}

  offer(): number {
    return this.session.offerStream(this);
  }

  chunk(part: Buffer): void {
    this.session.streamChunk(this, part);
  }

  /**
   * The backend's reply as a range of its read buffer: kept as that range (no view per reply;
   * writeReady makes one view per run of adjacent replies). Errors take onReply (redirects).
   */
  onReplyBytes(buf: Buffer, start: number, end: number): void {
    if (buf[start] === 0x2d /* - */) return this.onReply(buf.subarray(start, end), null);
    try {
      this.session.respondRange(this, buf, start, end);
    } catch (err) {
      this.session.internalError(err);
    }
  }

  /** The backend's reply to a fast-path request (as the forwarder's own callback would take it). */
  onReply(reply: Buffer | null, error: string | null): void {
    const session = this.session;
    try {
      if (reply === null) return session.respond(this, errorFrame(error!));
      const kind = redirectKind(reply);
      if (kind === 0) return session.respond(this, reply);
      this.reusable = false; // the forwarder's closures and chains may hold it from here on
      const raw = this.rawIn.subarray(this.rawStart, this.rawEnd);
      this.via!.redirected(kind, this.addr, raw, this.slot, (r) => session.respond(this, r), this, this.seq, reply);
    } catch (err) {
      session.internalError(err); // this client only: the link goes on with the next reply
    }
  }
}

// Sessions with replies ready, written by one setImmediate for all of them (one Immediate per
// turn, not one per client): it runs in the same event-loop turn as the reads that settled them.
let drainList: ProxySession[] = [];
let drainSpare: ProxySession[] = [];
let drainScheduled = false;

function scheduleDrain(session: ProxySession): void {
  drainList.push(session);
  if (drainScheduled) return;
  drainScheduled = true;
  setImmediate(drainAll);
}

function drainAll(): void {
  drainScheduled = false;
  const list = drainList;
  drainList = drainSpare;
  for (let i = 0; i < list.length; i++) list[i]!.drain();
  list.length = 0;
  drainSpare = list;
}

// Written fast-path Pendings a session keeps for reuse (a pipeline's worth).
const SPARE_PENDING = 64;

// writeReady()'s list of replies to join, reused (emptied before the write).
const gathered: Buffer[] = [];

// The fast path's scan result, reused: scanning and starting a request never interleave with another's.
const fastRequest: FastRequest = newFastRequest();
const fastMulti: MultiKeyScan = newMultiKeyScan();

// What a held request costs beyond its raw bytes (its parsed argument strings, the arrays and the
// Buffer view holding it), in the estimate counted toward the client's limits.
const HELD_OVERHEAD = 160;
// One request still being received may hold this much (Redis's client-query-buffer-limit default).
const CLIENT_QUERY_LIMIT = 1024 * 1024 * 1024;
// A closing client whose last replies are not read within this long is cut off.
const CLOSE_FLUSH_MS = 10_000;

const ASKING = encodeCommand(['ASKING']);
const IGNORE_REPLY = () => {};
const PUSH_STATS = { calls: 0, errors: 0, sampled: 0 } as CommandStats;
// What a RESP2 subscriber may still send (as in Redis).
const PUBSUB_CONTEXT_OK = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe', 'ping', 'quit', 'reset']);
// Commands that run at once even inside MULTI.
const MULTI_IMMEDIATE = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

export class ProxySession {
  readonly id: number;
  readonly decoder = new RequestDecoder();
  name = '';
  libName = '';
  libVer = '';
  resp: 2 | 3 = 2;
  authenticated: boolean;
  readonly createdAt = Date.now();
  /** Requests (and pushes) in reply order, oldest first; written ones leave at once. */
  private readonly queue = new Ring<Pending>();
  /** Written fast-path requests kept for reuse (bounded by SPARE_PENDING). */
  private readonly spare: Pending[] = [];
  private drainScheduled = false;
  private readPaused = false;
  /** Decoding stopped at a limit: bytes read since wait in the decoder (see processInput). */
  private parseStopped = false;
  closed = false;
  private closing = false;
  /** Requests that arrived while a blocking command was in flight; they run after it, in order. */
  private held: Array<[string[], Buffer]> | null = null;
  /** Estimated bytes of `held`, and bytes of settled replies not written yet (see pendingBytes). */
  private heldBytes = 0;
  private readyBytes = 0;
  /** Since when reply bytes exceed the soft limit (0 = they do not), and the timer re-checking it. */
  private overSoftSince = 0;
  private softTimer: NodeJS.Timeout | null = null;
  /** The blocking command in progress: waiting for a pooled link, or running on one. */
  private blockingWaiter: BlockingWaiter | null = null;
  private blockingLink: BackendConnection | null = null;
  /** Links owned by this client alone (blocking commands, WATCH/MULTI), by backend address. */
  private readonly links = new Map<string, BackendConnection>();
  pubsub: ProxyPubSub | null = null;
  readonly tx = new ProxyTransaction(this);
  /** Slot → backend for this client (its replica pick is by client id). */
  readonly router: Router;
  /** Sends this client's requests over its pooled links, following redirects. */
  readonly forwarder: Forwarder;
  /** The same for writes: every master a write goes to (redirects included) is noted for WAIT. */
  readonly writeForwarder: Forwarder;
  readonly writes = new WriteTracker();
  private waits: ProxyWait | null = null;
  /** Plans single / per-key / all-shards / scan requests. */
  private readonly splitter: Splitter<Pending>;

  constructor(
    readonly proxy: Proxy,
    readonly socket: Socket,
  ) {
    this.id = proxy.nextSessionId++;
    this.router = new Router(proxy.topology, proxy.config, this.id);
    this.forwarder = new Forwarder({ link: (addr) => this.proxy.pool.get(addr, this.id, this.resp === 3) }, this.router, this);
    this.writeForwarder = new Forwarder(this, this.router, this);
    this.splitter = new Splitter<Pending>(this);
    this.decoder.keepRaw = true;
    this.authenticated = proxy.config.requirepass === '';
    this.decoder.unauthenticated = !this.authenticated;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
    if (proxy.config.timeout > 0) {
      socket.setTimeout(proxy.config.timeout * 1000);
      socket.on('timeout', () => this.onIdle());
    }
  }

  /**
   * Past `maxclients` a new client gets Redis's error and is closed (called where clients are
   * accepted, before a session exists). True when the socket was refused.
   */
  static refuseWhenFull(proxy: Proxy, socket: Socket): boolean {
    if (proxy.sessions.size < proxy.config.maxclients) return false;
    socket.on('error', () => {});
    socket.end('-ERR max number of clients reached\r\n');
    setTimeout(() => socket.destroy(), CLOSE_FLUSH_MS).unref();
    socket.once('finish', () => socket.destroy());
    return true;
  }

  /**
   * Bytes this client holds in the proxy toward client-max-pending-bytes: held requests, settled
   * and unsent replies, and, while blocked, the requests read but not decoded behind them. (The
   * one request being received otherwise is bounded by CLIENT_QUERY_LIMIT, as Redis bounds it by
   * client-query-buffer-limit: a 512 MB value must get through.)
   */
  pendingBytes(): number {
    const unparsed = this.held !== null ? this.decoder.heldBytes : 0;
    return unparsed + this.heldBytes + this.readyBytes + this.socket.writableLength;
  }

  /** Whether decoding more requests must wait: too many in flight, or too many bytes held already. */
  private atLimit(): boolean {
    const cfg = this.proxy.config;
    return this.inFlight + (this.held?.length ?? 0) >= cfg.maxPipeline ||
      this.heldBytes + this.readyBytes + this.socket.writableLength > cfg.clientPendingSoftBytes;
  }

  /** Idle past `timeout`: closed, unless blocked, subscribed or waiting for replies (as in Redis). */
  private onIdle(): void {
    if (this.closed) return;
    if (this.held !== null || this.pubsub?.active || this.inFlight > 0) {
      this.socket.setTimeout(this.proxy.config.timeout * 1000); // re-arm: not idle
      return;
    }
    this.socket.destroy();
  }

  /**
   * An exception inside this session (a bug, or a value JavaScript cannot hold) ends this client
   * only, never the process or other clients.
   */
  internalError(err: unknown): void {
    this.proxy.log(`closing client ${this.addr} after an internal error: ${(err as Error)?.stack ?? String(err)}`);
    if (!this.closed) this.socket.destroy();
  }

  get addr(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  get inFlight(): number {
    return this.queue.size;
  }

  private onData(chunk: Buffer): void {
    let pos = 0;
    if (this.fastReady()) {
      try {
        pos = this.fastInput(chunk);
      } catch (err) {
        return this.internalError(err);
      }
      if (pos === chunk.length) return this.applyBackpressure();
    }
    this.decoder.push(pos === 0 ? chunk : chunk.subarray(pos));
    this.input();
  }

  /**
   * Whether requests read now may take the fast path: nothing half-decoded, and no state that
   * changes how a plain command is handled (see handle(): auth, pub/sub context, MULTI, held).
   */
  private fastReady(): boolean {
    return !this.closing && !this.closed && this.authenticated && this.held === null && !this.tx.inMulti &&
      (this.pubsub === null || !this.pubsub.active) && this.decoder.idle;
  }

  /**
   * Starts the fast-path requests at the front of `chunk` (see proxy/fast-request.ts), in order,
   * while the limits allow; returns where the first other one begins (the general path's).
   */
  private fastInput(chunk: Buffer): number {
    const req = fastRequest;
    const maxBulk = this.decoder.limits.maxBulkBytes;
    const end = chunk.length;
    let pos = 0;
    while (pos < end && !this.closed && !this.atLimit()) {
      const kind = scanRequest(chunk, pos, end, maxBulk, req, fastMulti);
      if (kind === SINGLE && this.fastStart(chunk, req)) pos = req.end;
      else if (kind === MULTI) pos = this.fastMultiKey(chunk, fastMulti);
      else break;
    }
    return pos;
  }

  /**
   * A per-key request (MSET, MGET, DEL …) read from bytes: planned by splitter.perKeyOf() exactly
   * as the general path's perKey(), its pieces copied from `chunk`. Returns where it ends.
   */
  private fastMultiKey(chunk: Buffer, m: MultiKeyScan): number {
    const spec = m.spec!;
    this.splitter.perKeyOf(this.enqueue(spec.name), spec, frameKeysOf(chunk, m));
    return m.end;
  }

  /**
   * What splitter.single() does for a one-key command, from bytes: slot, route, and the raw
   * request sent on the client's pooled link with the Pending as its reply sink. False (nothing
   * started) when the general path must decide: no route, or a redirect chain / migrating slot
   * (the forwarder's ordering rules apply there).
   */
  private fastStart(chunk: Buffer, req: FastRequest): boolean {
    const slot = slotOfBytes(chunk, req.keyStart, req.keyEnd);
    const via = req.write ? this.writeForwarder : this.forwarder;
    if (!via.quiet(slot)) return false;
    const router = this.router;
    const addr = req.readonly ? router.forRead(slot) : router.master(slot);
    if (addr === null) return false;
    const p = this.fastPending(req.spec!.name);
    p.via = via;
    p.addr = addr;
    p.rawIn = chunk;
    p.rawStart = req.start;
    p.rawEnd = req.end;
    p.slot = slot;
    p.seq = via.takeSeq();
    if (req.write) this.writes.wrote(addr);
    this.proxy.pool.get(addr, this.id, this.resp === 3).sendRange(chunk, req.start, req.end, p, -1, p);
    return true;
  }

  private input(): void {
    try {
      this.processInput();
    } catch (err) {
      this.internalError(err);
    }
  }

  /**
   * Decodes and starts complete requests until the client's limits say stop; what is left stays
   * in the decoder (raw bytes, counted) until replies drain (then maybeResume() comes back here).
   */
  private processInput(): void {
    for (;;) {
      if (this.closing || this.closed) return;
      if (this.atLimit()) {
        this.parseStopped = true;
        break;
      }
      let args: string[] | null;
      try {
        args = this.decoder.next();
      } catch (err) {
        if (!(err instanceof ProtocolError)) {
          // Not malformed but not representable here (a value past V8's string limit): refused.
          this.respond(this.enqueue('protocol'), errorFrame(`ERR request refused by the proxy: ${(err as Error).message}`));
          return this.startClosing();
        }
        this.respond(this.enqueue('protocol'), errorFrame(`ERR ${err.message}`));
        // A request the decoder skipped whole (an argument too long to hold) leaves the stream
        // in sync: answered, and decoding goes on. Any other protocol error closes.
        if ((err as { fatal?: boolean }).fatal === false) continue;
        return this.startClosing();
      }
      if (args === null) break;
      if (isCrossProtocol(args)) return this.proxy.securityAttack(this); // nothing after it is read
      this.handle(args, this.decoder.lastRaw ?? encodeCommand(args));
    }
    this.applyBackpressure();
  }

  /**
   * Backpressure: a client that pipelines more than max-pipeline requests, or whose replies
   * hold more than client-pending-soft-bytes, is not read until replies drain; one holding more
   * than client-max-pending-bytes in all is disconnected (like Redis's client-output-buffer-limit
   * and client-query-buffer-limit).
   *
   * A blocked client (requests held behind BLPOP …) is not paused: a paused socket never notices
   * its peer leaving, which would keep its memory and blocking link forever. Its requests stop
   * being decoded past the soft limit instead, and its raw bytes count toward the hard limit, as
   * in Redis's query buffer.
   */
  private applyBackpressure(): void {
    const cfg = this.proxy.config;
    const bytes = this.pendingBytes();
    if (bytes > cfg.clientMaxPendingBytes) return this.overLimit(bytes);
    if (this.decoder.heldBytes > CLIENT_QUERY_LIMIT) return this.overLimit(this.decoder.heldBytes, `query buffer over ${CLIENT_QUERY_LIMIT} bytes`);
    if (this.readPaused || this.closed || this.held !== null) return;
    if (this.inFlight >= cfg.maxPipeline || this.readyBytes + this.socket.writableLength > cfg.clientPendingSoftBytes) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  private overLimit(bytes: number, why = `client-max-pending-bytes ${this.proxy.config.clientMaxPendingBytes}`): void {
    if (this.closed || this.socket.destroyed) return;
    this.proxy.log(`closing client ${this.addr}: ${bytes} bytes pending in the proxy (${why})`);
    this.socket.destroy();
  }

  /**
   * The output side of the limits, as Redis's client-output-buffer-limit: reply bytes held for
   * this client (settled but not written, or written but unsent) past the hard limit, or past the
   * soft limit for client-pending-soft-seconds, disconnect it.
   */
  private checkOutput(): void {
    if (this.closed) return;
    const cfg = this.proxy.config;
    const bytes = this.readyBytes + this.socket.writableLength;
    if (bytes > cfg.clientMaxPendingBytes) return this.overLimit(bytes);
    if (bytes <= cfg.clientPendingSoftBytes || cfg.clientPendingSoftSeconds <= 0) {
      this.overSoftSince = 0;
      return;
    }
    const now = Date.now();
    if (this.overSoftSince === 0) this.overSoftSince = now;
    const left = this.overSoftSince + cfg.clientPendingSoftSeconds * 1000 - now;
    if (left <= 0) return this.overLimit(bytes, `over client-pending-soft-bytes ${cfg.clientPendingSoftBytes} for ${cfg.clientPendingSoftSeconds} s`);
    if (this.softTimer === null) {
      this.softTimer = setTimeout(() => {
        this.softTimer = null;
        this.checkOutput();
      }, left + 10);
      this.softTimer.unref();
    }
  }

  /** The proxy is stopping: as QUIT, read nothing more and close once every earlier reply is written. */
  shutdown(): void {
    if (!this.closed && !this.closing) this.startClosing();
  }

  /** QUIT or a protocol error: read nothing more, and close once every earlier reply is written. */
  private startClosing(): void {
    this.closing = true;
    this.socket.pause();
    if (this.inFlight === 0) this.finishClosing();
  }

  /** Closes the socket fully once the replies are flushed (a half-close lets a client write on). */
  private finishClosing(): void {
    const socket = this.socket;
    socket.end();
    socket.once('finish', () => socket.destroy());
    setTimeout(() => socket.destroy(), CLOSE_FLUSH_MS).unref();
  }

  /**
   * enqueue() for the fast path: a written fast-path Pending is reused when there is one (its
   * reply was written and no one else holds it), else a new one.
   */
  private fastPending(command: string): Pending {
    const st = this.proxy.stats.entry(command);
    const startedAt = this.proxy.stats.shouldTime(st) ? performance.now() : -1;
    let p = this.spare.pop();
    if (p === undefined) {
      p = new Pending(this, st, startedAt);
    } else {
      p.stats = st;
      p.startedAt = startedAt;
      p.reply = null;
      p.streaming = false;
    }
    p.reusable = true;
    this.queue.push(p);
    return p;
  }

  private enqueue(command: string): Pending {
    const st = this.proxy.stats.entry(command);
    const p = new Pending(this, st, this.proxy.stats.shouldTime(st) ? performance.now() : -1);
    this.queue.push(p);
    return p;
  }

  /** Settles a request; replies leave in request order. */
  respond(p: Pending, reply: Buffer): void {
    if (p.reply !== null) return;
    if (p.streaming && reply !== STREAMED) {
      // The backend failed after part of this reply was written: no whole frame can follow.
      p.reply = STREAMED;
      this.proxy.log(`closing client ${this.addr}: backend failed in the middle of a streamed reply: ${reply.latin1Slice(1, Math.min(reply.length - 2, 200))}`);
      if (!this.closed) this.socket.destroy();
      return;
    }
    p.reply = reply;
    this.settled(p, reply.length, isError(reply));
  }

  /** respond() with a reply that is bytes [start, end) of a backend read (not an error: see Pending.onReplyBytes). */
  respondRange(p: Pending, buf: Buffer, start: number, end: number): void {
    if (p.reply !== null) return;
    if (p.streaming) return this.respond(p, buf.subarray(start, end));
    p.reply = IN_READ;
    p.replyIn = buf;
    p.replyStart = start;
    p.replyEnd = end;
    this.settled(p, end - start, false);
  }

  /** A reply of `bytes` for `p` is ready: counted, recorded, and written when its turn comes. */
  private settled(p: Pending, bytes: number, failed: boolean): void {
    this.readyBytes += bytes;
    this.proxy.stats.record(p.stats, p.startedAt < 0 ? -1 : performance.now() - p.startedAt, failed);
    if (this.queue.first() === p) {
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        scheduleDrain(this);
      }
    } else if (this.readyBytes > this.proxy.config.clientPendingSoftBytes) {
      this.checkOutput();
      this.applyBackpressure();
    }
  }

  /**
   * A big reply for `p` is arriving: it streams straight to the client when it is next in the
   * reply order (every earlier reply written), else it is gathered (and counted once settled).
   */
  offerStream(p: Pending): number {
    if (this.closed) return DISCARD;
    if (this.queue.first() !== p || p.reply !== null) return GATHER;
    p.streaming = true;
    return STREAM;
  }

  streamChunk(_p: Pending, part: Buffer): void {
    if (this.closed) return;
    this.socket.write(part);
    this.checkOutput();
  }

  /** Runs from setImmediate (drainAll): an exception here must end this client, not the process. */
  drain(): void {
    try {
      this.writeReady();
    } catch (err) {
      this.internalError(err);
    }
  }

  private writeReady(): void {
    this.drainScheduled = false;
    if (this.closed) return;
    let startNext: Pending | null = null;
    const queue = this.queue;
    const out = gathered;
    let bytes = 0;
    // Replies held as ranges of backend reads: adjacent ones (a backend's replies to this client's
    // pipelined requests, read together) join into one run, one view per run.
    let runIn: Buffer | null = null;
    let runStart = 0;
    let runEnd = 0;
    for (let p = queue.first(); p !== undefined; p = queue.first()) {
      const reply = p.reply;
      if (reply === null) {
        if (p.atHead !== null) startNext = p;
        break;
      }
      if (reply === IN_READ) {
        if (p.replyIn !== runIn || p.replyStart !== runEnd) {
          if (runIn !== null) out.push(runIn.subarray(runStart, runEnd));
          runIn = p.replyIn;
          runStart = p.replyStart;
        }
        runEnd = p.replyEnd;
        bytes += p.replyEnd - p.replyStart;
        p.replyIn = NO_BYTES;
      } else {
        if (runIn !== null) out.push(runIn.subarray(runStart, runEnd));
        runIn = null;
        if (reply.length > 0) out.push(reply); // a streamed reply is already written
        bytes += reply.length;
      }
      queue.shift();
      if (p.reusable && this.spare.length < SPARE_PENDING) {
        // A kept Pending must not keep read buffers alive; a non-null reply keeps respond() away.
        p.rawIn = NO_BYTES;
        p.reply = NO_BYTES;
        this.spare.push(p);
      }
    }
    if (runIn !== null) out.push(runIn.subarray(runStart, runEnd));
    this.readyBytes -= bytes;
    if (out.length > 0) {
      const data = out.length === 1 ? out[0]! : Buffer.concat(out, bytes);
      out.length = 0;
      this.socket.write(data);
      // A client that does not read its replies must not hold the proxy's memory: like Redis's
      // client-output-buffer-limit, it is disconnected past the limit.
      this.checkOutput();
      if (this.closed || this.socket.destroyed) return;
    }
    if (this.closing && this.inFlight === 0) return this.finishClosing();
    if (startNext !== null) runAtHead(startNext);
    this.maybeResume();
  }

  private maybeResume(): void {
    if (this.overSoftSince !== 0) this.checkOutput();
    if ((!this.readPaused && !this.parseStopped) || this.closed || this.closing) return;
    const cfg = this.proxy.config;
    // Hysteresis: resume at half the limits, so a client at the limit is not toggled per reply.
    if (this.inFlight + (this.held?.length ?? 0) < cfg.maxPipeline / 2 &&
      this.heldBytes + this.readyBytes + this.socket.writableLength < cfg.clientPendingSoftBytes / 2) {
      const paused = this.readPaused;
      this.readPaused = false;
      this.parseStopped = false;
      // Requests already read but not started go first (they may stop reading again).
      this.input();
      if (paused && !this.readPaused && !this.closing && !this.closed) this.socket.resume();
    }
  }

  private onClose(): void {
    this.closed = true;
    // Whatever this client held is released now: held requests, unsent replies, its place in
    // the queue for a blocking link, and the blocking link itself (closing it unblocks the node).
    this.held = null;
    this.heldBytes = 0;
    this.queue.clear();
    this.readyBytes = 0;
    if (this.blockingWaiter !== null) this.blockingWaiter.cancelled = true;
    this.blockingWaiter = null;
    this.blockingLink?.close();
    this.blockingLink = null;
    this.waits?.close();
    if (this.softTimer !== null) clearTimeout(this.softTimer);
    this.softTimer = null;
    // Closing the dedicated links is what releases blocked commands and WATCHes on the nodes.
    for (const conn of this.links.values()) conn.close();
    this.links.clear();
    this.pubsub?.close();
    this.proxy.forgetSession(this);
  }

  /** RESET: back to a fresh connection's state (no transaction, WATCH, subscriptions). */
  resetState(): void {
    this.tx.abandon();
    for (const conn of this.links.values()) conn.close();
    this.links.clear();
    this.pubsub?.close();
    this.pubsub = null;
    this.resp = 2;
    this.name = '';
    this.authenticated = this.proxy.config.requirepass === '';
    this.decoder.unauthenticated = !this.authenticated;
  }

  /**
   * A link to `addr` used by this client only (kept until it disconnects): WATCH and a watched
   * EXEC, which counts as a write to `addr` for WAIT.
   */
  dedicated(addr: string): BackendConnection {
    this.writes.wrote(addr);
    let conn = this.links.get(addr);
    if (!conn) {
      conn = new BackendConnection(addr, {
        ...this.proxy.pool.linkOptions(addr),
        resp3: this.resp === 3,
        pingIntervalMs: 0,
        onClose: () => this.links.delete(addr),
      });
      this.links.set(addr, conn);
    }
    return conn;
  }

  /** An out-of-band frame (a pub/sub message) for the client, kept in order with replies. */
  push(frame: Buffer): void {
    if (this.closed) return;
    const p = new Pending(this, PUSH_STATS, -1); // pushes are not requests: never recorded
    this.queue.push(p);
    p.reply = frame;
    this.readyBytes += frame.length;
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      scheduleDrain(this);
    }
  }

  /**
   * LinkSource of the write forwarder and of EXEC: this client's pooled link to `addr`, in its
   * protocol, noting `addr` as written to for WAIT (reads use the forwarder's own, which does not).
   */
  link(addr: string): BackendConnection {
    this.writes.wrote(addr);
    return this.proxy.pool.get(addr, this.id, this.resp === 3);
  }

  /** ForwarderHooks: a followed -MOVED counts in INFO stats. */
  onMoved(): void {
    this.proxy.stats.redirects++;
  }

  onInternalError(err: unknown): void {
    this.internalError(err);
  }

  gone(): boolean {
    return this.closed;
  }

  /** SplitHost: max-keys-reply, read per request (CONFIG SET may change it). */
  maxKeysReply(): number {
    return this.proxy.config.maxKeysReply;
  }

  /** The slot table changed: move pub/sub subscriptions along. */
  onTopologyChanged(): void {
    this.pubsub?.onTopologyChanged();
  }

  /** Plans and starts one request. */
  private handle(args: string[], raw: Buffer): void {
    if (this.held) {
      this.held.push([args, raw]);
      this.heldBytes += raw.length + HELD_OVERHEAD;
      return;
    }
    const resolved = resolveCommand(args);
    const p = this.enqueue('spec' in resolved ? resolved.spec.name : 'unknown');
    const refuse = (message: string) => {
      this.tx.flag();
      this.respond(p, errorFrame(message));
    };
    if ('error' in resolved) return refuse(resolved.error);
    const { spec, top } = resolved;
    if (top.name === 'quit') {
      // +OK after every earlier reply, then the socket closes (local-commands' QUIT would end
      // the socket at once and lose replies still in flight).
      this.respond(p, OK_FRAME);
      return this.startClosing();
    }
    if (!this.authenticated && !spec.flags.has('no_auth')) return refuse(ERR.noAuth);
    if (this.resp === 2 && this.pubsub?.active && !PUBSUB_CONTEXT_OK.has(top.name)) {
      return refuse(`ERR Can't execute '${spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
    }
    if (this.tx.inMulti && !MULTI_IMMEDIATE.has(top.name)) return this.queueInTransaction(p, spec, args, raw);
    if (this.splitter.start(p, spec, args, raw)) return;
    switch (spec.proxy) {
      case 'local':
        if (top.name === 'wait') return this.waitCommand(p, args);
        return this.respond(p, answerLocally(this, spec, args));
      case 'info':
        return this.info(p, args);
      case 'pubsub':
        return this.pubsubCommand(p, spec, args, raw);
      case 'blocking':
        return this.blocking(p, spec, args, raw);
      case 'transaction':
        return this.transaction(p, spec, args, raw);
      case 'deny':
        if (isAdminCommand(spec)) return runAdminCommand(this, spec, args, (reply) => this.respond(p, reply));
        return this.respond(p, errorFrame(`ERR '${spec.name}' ${spec.denyReason ?? 'is not supported through the proxy'}`));
    }
  }

  private queueInTransaction(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    // WAIT inside MULTI would run on the node for the link's writes, not this client's: refused.
    const local = spec.proxy === 'local' && spec.name !== 'wait';
    const keyed = spec.proxy === 'single' || spec.proxy.startsWith('perKey') || spec.proxy === 'blocking' || local || spec.name === 'unwatch';
    if (!keyed) {
      this.tx.flag();
      return this.respond(p, errorFrame(`ERR '${spec.name}' is not allowed inside a transaction through the proxy`));
    }
    this.respond(p, this.tx.queue(raw, keySlots(spec, args)));
  }

  private transaction(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    const done = (reply: Buffer) => this.respond(p, reply);
    switch (spec.name) {
      case 'multi':
        return this.respond(p, this.tx.multi());
      case 'exec':
        return this.tx.exec(done);
      case 'discard':
        return this.tx.discard(done);
      case 'watch': {
        return this.tx.watch(raw, keySlots(spec, args), done);
      }
      case 'unwatch':
        return this.tx.unwatch(done);
    }
  }

  /**
   * Blocking commands run on this client's own link to the slot's master, and the client's
   * later requests wait until it returns (as they would on a real Redis connection).
   */
  private blocking(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    const slot = commandSlot(spec, args);
    if (slot === CROSS) return this.respond(p, errorFrame(ERR.crossSlot));
    const routeSlot = slot < 0 ? 0 : slot;
    const addr = this.router.master(routeSlot);
    if (addr === null) return this.respond(p, errorFrame(this.router.routeError(routeSlot)));
    const limit = blockingLimit(spec.name, args, this.proxy.config.backendTimeout);
    if (limit === -1 && (spec.name === 'xread' || spec.name === 'xreadgroup')) {
      // XREAD / XREADGROUP without BLOCK answer at once: an ordinary request on the pooled links
      // (redirects followed), not a blocking link held by this client. XREADGROUP writes (its PEL).
      const via = spec.flags.has('write') ? this.writeForwarder : this.forwarder;
      return via.forward(addr, raw, routeSlot, (reply) => this.respond(p, reply), p);
    }
    this.held = [];
    this.runBlocking(p, raw, limit, addr, slot, 0, false, spec.flags.has('write'));
  }

  /**
   * One try of a blocking command on a pooled blocking link to `addr` (after ASKING when `asking`).
   * A -MOVED or -ASK answer (its slot moved while it waited, or before) is followed on a link to
   * the named node, at most MAX_REDIRECTS times; the client's held requests keep waiting meanwhile.
   */
  private runBlocking(p: Pending, raw: Buffer, limit: number, addr: string, slot: number, hops: number, asking: boolean, write: boolean): void {
    const resp3 = this.resp === 3;
    const pool = this.proxy.pool;
    const waiter: BlockingWaiter = {
      cancelled: false,
      // Granted from the pool, maybe while another client's reply is being handled: failures
      // here are this client's alone.
      grant: (conn, error) => {
        this.blockingWaiter = null;
        if (conn === null) return this.blockingDone(p, errorFrame(error!));
        this.blockingLink = conn;
        if (write) this.writes.wrote(addr); // BLPOP … pops: a write WAIT must cover
        try {
          if (asking) conn.send(ASKING, IGNORE_REPLY);
          conn.send(raw, (reply, err) => {
            if (this.blockingLink === conn) this.blockingLink = null;
            pool.releaseBlocking(conn, resp3, reply !== null && !this.closed);
            if (reply !== null && !this.closed && hops < MAX_REDIRECTS) {
              const kind = redirectKind(reply);
              const target = kind === MOVED || kind === ASK ? redirectTarget(reply) : null;
              if (target !== null) {
                if (kind === MOVED) {
                  this.proxy.stats.redirects++;
                  if (slot >= 0) this.router.moved(slot, target);
                }
                return this.runBlocking(p, raw, limit, target, slot, hops + 1, kind === ASK, write);
              }
            }
            this.blockingDone(p, reply ?? errorFrame(err!));
          }, limit, p);
        } catch (err) {
          this.internalError(err);
        }
      },
    };
    this.blockingWaiter = waiter;
    pool.acquireBlocking(addr, resp3, waiter);
  }

  /**
   * WAIT (proxy/wait.ts): like a blocking command, the client's later requests wait for it. It
   * starts once every earlier request of the client settled, so the positions it reads on the
   * masters cover the client's writes, wherever redirects or retries took them.
   */
  private waitCommand(p: Pending, args: string[]): void {
    const parsed = parseWaitArgs(args);
    if ('error' in parsed) return this.respond(p, errorFrame(parsed.error));
    const startedAt = Date.now();
    const written = this.writes.take();
    let targets: WaitTarget[];
    if (written.length > 0) {
      targets = written.map((addr) => ({ addr, position: null }));
    } else {
      // Nothing written since the last WAIT: the count of slot 0's master (where keyless commands go).
      const addr = this.router.master(0);
      if (addr === null) return this.respond(p, errorFrame(this.router.routeError(0)));
      targets = [{ addr, position: NO_WRITES }];
    }
    this.held = [];
    const waits = (this.waits ??= new ProxyWait(this.waitHost()));
    const start = () => waits.start(targets, parsed.want, parsed.timeoutMs, startedAt, (reply) => this.blockingDone(p, reply));
    if (this.queue.first() === p) return start();
    p.atHead = start;
  }

  private waitHost(): WaitHost {
    const pool = this.proxy.pool;
    return {
      sharedLink: (addr) => pool.get(addr, this.id, this.resp === 3),
      acquireBlocking: (addr, waiter) => pool.acquireBlocking(addr, this.resp === 3, waiter),
      releaseBlocking: (conn, reusable) => pool.releaseBlocking(conn, this.resp === 3, reusable && !this.closed),
      backendTimeoutMs: () => this.proxy.config.backendTimeout,
      inTable: (addr) => this.proxy.topology.groupOf(addr) !== null,
    };
  }

  /** The blocking command settled: the requests held behind it run now, in order. */
  private blockingDone(p: Pending, reply: Buffer): void {
    if (this.closed) return;
    try {
      this.respond(p, reply);
      const held = this.held ?? [];
      this.held = null;
      this.heldBytes = 0;
      // A later blocking command among them holds the rest again (handle() checks `held`).
      for (const [a, r] of held) this.handle(a, r);
    } catch (err) {
      return this.internalError(err);
    }
    this.maybeResume();
  }

  private pubsubCommand(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    const names = args.slice(1);
    const ps = (this.pubsub ??= new ProxyPubSub(this));
    const frames = (list: Buffer[]) => this.respond(p, list.length === 1 ? list[0]! : Buffer.concat(list));
    switch (spec.name) {
      case 'subscribe':
        return ps.subscribe('channel', names, frames);
      case 'psubscribe':
        return ps.subscribe('pattern', names, frames);
      case 'ssubscribe': {
        const slots = names.map(slotOf);
        if (slots.some((s) => s !== slots[0])) return this.respond(p, errorFrame(ERR.crossSlot));
        return ps.subscribe('shard', names, frames);
      }
      case 'unsubscribe':
        return ps.unsubscribe('channel', names, frames);
      case 'punsubscribe':
        return ps.unsubscribe('pattern', names, frames);
      case 'sunsubscribe':
        return ps.unsubscribe('shard', names, frames);
      case 'publish':
      case 'spublish': {
        const slot = slotOf(args[1]!);
        const addr = this.router.master(slot);
        if (addr === null) return this.respond(p, errorFrame(this.router.routeError(slot)));
        return this.forwarder.forward(addr, raw, slot, (reply) => this.respond(p, reply));
      }
      default:
        return this.pubsubIntrospection(p, spec, args, raw);
    }
  }

  /** PUBSUB CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/SHARDNUMSUB over every group. */
  private pubsubIntrospection(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    const masters = this.router.masters();
    if (masters.length === 0) return this.respond(p, errorFrame('ERR no group is serving any slot'));
    const replies: Buffer[] = new Array(masters.length);
    let waiting = masters.length;
    masters.forEach((addr, i) => this.forwarder.forward(addr, raw, -1, (reply) => {
      replies[i] = reply;
      if (--waiting > 0) return;
      const bad = replies.find(isError);
      if (bad) return this.respond(p, bad);
      if (spec.name === 'pubsub|numpat') {
        // Patterns are subscribed on every group: any one group's count is the cluster's.
        return this.respond(p, integerFrame(Math.max(...replies.map((r) => integerOf(r) ?? 0))));
      }
      if (spec.name === 'pubsub|numsub' || spec.name === 'pubsub|shardnumsub') {
        const names = args.slice(2);
        const counts = new Array<number>(names.length).fill(0);
        for (const r of replies) {
          const els = arrayElements(r) ?? [];
          for (let j = 0; j < names.length; j++) counts[j]! += integerOf(els[2 * j + 1] ?? Buffer.alloc(0)) ?? 0;
        }
        return this.respond(p, arrayFrame(names.flatMap((n, j) => [bulk(n), integerFrame(counts[j]!)])));
      }
      // CHANNELS / SHARDCHANNELS: the union.
      const seen = new Map<string, Buffer>();
      for (const r of replies) for (const el of arrayElements(r) ?? []) seen.set(el.latin1Slice(0, el.length), el);
      this.respond(p, arrayFrame([...seen.values()]));
    }));
  }

  /**
   * INFO: the proxy's own sections, plus the keyspace and the memory summed over the groups'
   * masters (what the cluster holds: `used_memory` is what redis-cli --stat and exporters read),
   * with the proxy process's own RSS beside it.
   */
  info(p: Pending, args: string[]): void {
    const masters = this.router.masters();
    const sections = args.slice(1).map((a) => a.toLowerCase());
    const wants = (name: string) => sections.length === 0 || sections.some((s) => s === name || s === 'all' || s === 'everything' || s === 'default');
    const wantKeyspace = wants('keyspace');
    const wantMemory = wants('memory');
    let keys = 0;
    let expires = 0;
    let memory = 0;
    const finish = () => {
      const memoryText = wantMemory
        ? `# Memory\r\nused_memory:${memory}\r\nused_memory_human:${bytesToHuman(memory)}\r\nproxy_used_memory_rss:${process.memoryUsage.rss()}\r\n\r\n`
        : '';
      let text = this.proxy.infoText(sections, memoryText);
      if (wantKeyspace) text += `# Keyspace\r\n${keys > 0 ? `db0:keys=${keys},expires=${expires},avg_ttl=0\r\n` : ''}`;
      this.respond(p, bulk(text));
    };
    if ((!wantKeyspace && !wantMemory) || masters.length === 0) return finish();
    let waiting = masters.length;
    const raw = encodeCommand(['INFO', ...(wantKeyspace ? ['keyspace'] : []), ...(wantMemory ? ['memory'] : [])]);
    for (const addr of masters) {
      this.forwarder.forward(addr, raw, -1, (reply) => {
        const text = reply.latin1Slice(0, reply.length);
        const m = /db0:keys=(\d+),expires=(\d+)/.exec(text);
        if (m) {
          keys += Number(m[1]);
          expires += Number(m[2]);
        }
        const used = /\r\nused_memory:(\d+)/.exec(text);
        if (used) memory += Number(used[1]);
        if (--waiting === 0) finish();
      });
    }
  }

  /** In a blocking command or WAIT (INFO's blocked_clients). */
  get blocked(): boolean {
    return this.held !== null;
  }
}

/**
 * How long a blocking command may go without a reply: its own timeout plus `margin` (the backend
 * timeout), 0 = forever (timeout 0, or no backend timeout), -1 = the link's default (not parsable:
 * the node refuses it at once).
 */
export function blockingLimit(name: string, args: readonly string[], margin: number): number {
  if (name === 'xread' || name === 'xreadgroup') return xreadLimit(args, margin);
  let text: string | undefined;
  switch (name) {
    case 'blpop':
    case 'brpop':
    case 'brpoplpush':
    case 'blmove':
    case 'bzpopmin':
    case 'bzpopmax':
      text = args[args.length - 1];
      break;
    case 'blmpop':
    case 'bzmpop':
      text = args[1];
      break;
    default:
      return -1;
  }
  const seconds = Number(text);
  if (text === undefined || text === '' || !Number.isFinite(seconds) || seconds < 0) return -1;
  if (seconds === 0 || margin <= 0) return 0;
  return Math.ceil(seconds * 1000) + margin;
}

/** XREAD/XREADGROUP BLOCK is in milliseconds, among options before STREAMS; without it, it never waits. */
function xreadLimit(args: readonly string[], margin: number): number {
  for (let i = 1; i < args.length - 1; i++) {
    const word = args[i]!.toLowerCase();
    if (word === 'streams') break;
    if (word !== 'block') continue;
    const ms = Number(args[i + 1]);
    if (!Number.isInteger(ms) || ms < 0) return -1;
    return ms === 0 || margin <= 0 ? 0 : ms + margin;
  }
  return -1;
}

/** Starts what waited for `p` to be next in the reply order (its `atHead`), once. */
function runAtHead(p: Pending): void {
  const start = p.atHead;
  p.atHead = null;
  start?.();
}
