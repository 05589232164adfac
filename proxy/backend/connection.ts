// One pipelined connection to a backend node: requests are written as raw bytes (batched into one
// write per tick), replies are framed with the incremental scanner (never decoded) and handed back
// in FIFO order. Never parses commands; never retries.
//
// Bounded by construction: every request has a timeout (a silent backend fails its requests and
// resets the link instead of holding clients forever), a reply is looked at once as it arrives,
// and a big reply is either streamed to its client as it arrives or gathered as a list of chunks
// and joined once.
import { connect, type Socket } from 'node:net';
import { copyBytes } from '../../common/bytes.js';
import { copiedReadsOption } from '../../common/net/copied-reads.js';
import { encodeCommand } from '../../common/resp/encode.js';
import { FrameScanner, INCOMPLETE } from '../../common/resp/frame-scanner.js';

/** Receives the raw reply frame, or an error text (without the leading '-') when the link failed. */
export type ReplyCallback = (reply: Buffer | null, error: string | null) => void;

/**
 * The same as an object: the proxy's fast path passes the request itself (see sendTo), so no
 * closure is made per request.
 */
export interface ReplySink {
  onReply(reply: Buffer | null, error: string | null): void;
  /**
   * Optional: a reply that lies whole in one read, as bytes [start, end) of that read's buffer,
   * so no view is made per reply. The link never reuses or changes a buffer it has read into:
   * the bytes stay valid for as long as the sink keeps `buf`.
   */
  onReplyBytes?(buf: Buffer, start: number, end: number): void;
}

function call(cb: ReplyCallback | ReplySink, reply: Buffer | null, error: string | null): void {
  if (typeof cb === 'function') cb(reply, error);
  else cb.onReply(reply, error);
}

/** What a request's owner wants done with a big reply still arriving (see ReplyStream.offer). */
export const GATHER = 0;
export const STREAM = 1;
export const DISCARD = 2;

/**
 * A request whose reply can go to its client piece by piece. offer() is asked while a big reply is
 * arriving (again on every read until it says STREAM or DISCARD); after STREAM every byte of the
 * reply goes to chunk() in order, and the callback gets STREAMED instead of the frame.
 */
export interface ReplyStream {
  offer(): number;
  chunk(part: Buffer): void;
}

/** The "reply" a callback gets when the reply was streamed (or discarded) instead. */
export const STREAMED = Buffer.alloc(0);

export interface BackendOptions {
  /** AUTH sent first on every (re)connect when set. */
  password?: string;
  /** Speak RESP3 (HELLO 3 first) so replies keep RESP3 shapes for RESP3 clients. */
  resp3?: boolean;
  /** Describes the backend in error texts, e.g. "group 2". */
  label?: string;
  connectTimeoutMs?: number;
  /**
   * After a failure, requests fail fast for this long before a reconnect is tried; the delay
   * doubles with each failure in a row, up to maxRetryDelayMs, and resets once connected.
   */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /**
   * A request that gets no byte of reply for this long fails, and so does every request behind
   * it: the link is reset (0 = never). send() can override it per request (blocking commands).
   */
  timeoutMs?: number;
  /** An idle link sends PING this often, so a dead or wedged backend is noticed (0 = never). */
  pingIntervalMs?: number;
  /** TCP keepalive probe delay on the socket, ms. */
  keepAliveMs?: number;
  /** Called for out-of-band frames when the queue is empty (pub/sub pushes on dedicated links). */
  onPush?: (frame: Buffer) => void;
  /** Called once when the link closes (dedicated links are not reconnected by their owner). */
  onClose?: () => void;
}

const IGNORE: ReplyCallback = () => {};
// sendRange() copies requests up to ARENA_COPY_MAX bytes into arenas of ARENA_BYTES.
const ARENA_BYTES = 64 * 1024;
const ARENA_COPY_MAX = 8 * 1024;
const NO_ARENA = Buffer.alloc(0);
// Requests a link's ring holds before it first grows.
const INITIAL_RING = 64;
const PING = encodeCommand(['PING']);
// A reply this big that is still arriving is offered for streaming to its client.
const STREAM_MIN_BYTES = 256 * 1024;

export class BackendConnection {
  private socket: Socket | null = null;
  private connected = false;
  // Requests awaiting replies, oldest at `head`: callbacks and, in step, each one's timeout
  // override (-1 = the link's) and stream (null = gather whole).
  // A ring (capacity a power of two, doubled when full, never shrunk): queuing and settling a
  // request allocate nothing once it is big enough for the link's pipeline.
  private pending: Array<ReplyCallback | ReplySink | null> = new Array(INITIAL_RING).fill(null);
  private limits: number[] = new Array(INITIAL_RING).fill(-1);
  private streams: Array<ReplyStream | null> = new Array(INITIAL_RING).fill(null);
  private head = 0;
  private count = 0;
  private out: Buffer[] = [];
  private outBytes = 0;
  // Small requests queued by sendRange() are copied here; [arenaStart, arenaEnd) is not yet in
  // `out`. Written bytes are never overwritten: a full arena is replaced, not reused.
  private arena: Buffer = NO_ARENA;
  private arenaStart = 0;
  private arenaEnd = 0;
  private readonly flushNow = () => this.flush();
  private flushScheduled = false;
  private readonly scanner = new FrameScanner();
  /** Chunks of a reply begun in an earlier read (gathered), or the mode it is being passed on in. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private mode = GATHER;
  private downUntil = 0;
  private failuresInARow = 0;
  /** Why the current socket is closing (set by a timeout, an error or the backend's FIN). */
  private closeReason = '';
  private closedByOwner = false;
  private watchdog: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Last time the link made progress: a byte read, or a request sent to an idle link. */
  private lastActivity = 0;
  // Health, for /health: the last failure and when, the last reply and when.
  lastError = '';
  lastErrorAt = 0;
  lastReplyAt = 0;
  timeouts = 0;

  constructor(
    readonly addr: string,
    private readonly opts: BackendOptions = {},
  ) {}

  get inFlight(): number {
    return this.count;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** The link's default request timeout, ms (0 = none). */
  get timeoutMs(): number {
    return this.opts.timeoutMs ?? 0;
  }

  /**
   * Queues a raw request; `cb` runs exactly once with its reply or an error. `timeoutMs` overrides
   * the link's timeout for this request (0 = wait forever: BLPOP … 0); `stream` lets a big reply
   * go to the client as it arrives.
   */
  send(raw: Buffer, cb: ReplyCallback, timeoutMs = -1, stream: ReplyStream | null = null): void {
    this.sendTo(raw, cb, timeoutMs, stream);
  }

  /** send() with the reply going to `cb`, a callback or a ReplySink (no closure needed). */
  sendTo(raw: Buffer, cb: ReplyCallback | ReplySink, timeoutMs = -1, stream: ReplyStream | null = null): void {
    if (this.accept(cb, timeoutMs, stream)) this.queueBytes(raw);
  }

  /**
   * sendTo() of the request in bytes [start, end) of `buf`, copied into the link's output buffer
   * now (the proxy's fast path: no view of the client's read buffer is made per request).
   */
  sendRange(buf: Buffer, start: number, end: number, cb: ReplyCallback | ReplySink, timeoutMs = -1, stream: ReplyStream | null = null): void {
    if (!this.accept(cb, timeoutMs, stream)) return;
    const n = end - start;
    if (n > ARENA_COPY_MAX) return this.queueBytes(buf.subarray(start, end));
    if (this.arenaEnd + n > this.arena.length) {
      this.sealArena();
      this.arena = Buffer.allocUnsafeSlow(ARENA_BYTES);
      this.arenaStart = 0;
      this.arenaEnd = 0;
    }
    this.arenaEnd = copyBytes(buf, start, end, this.arena, this.arenaEnd);
    this.outBytes += n;
    this.scheduleFlush();
  }

  /** Queues `cb` for the next reply; false (and `cb` told why) when the link cannot take requests now. */
  private accept(cb: ReplyCallback | ReplySink, timeoutMs: number, stream: ReplyStream | null): boolean {
    if (this.closedByOwner) {
      call(cb, null, `ERR backend ${this.describe()} connection closed`);
      return false;
    }
    if (this.socket === null) {
      if (Date.now() < this.downUntil) {
        call(cb, null, `ERR backend ${this.describe()} is down: ${this.lastError}`);
        return false;
      }
      this.open();
    }
    if (this.count === 0) this.lastActivity = Date.now();
    if (this.count === this.pending.length) this.grow();
    const i = (this.head + this.count) & (this.pending.length - 1);
    this.pending[i] = cb;
    this.limits[i] = timeoutMs;
    this.streams[i] = stream;
    this.count++;
    return true;
  }

  /** The bytes copied into the arena since the last seal join the output list (keeps the order). */
  private sealArena(): void {
    if (this.arenaEnd === this.arenaStart) return;
    this.out.push(this.arena.subarray(this.arenaStart, this.arenaEnd));
    this.arenaStart = this.arenaEnd;
  }

  /**
   * Sends a request whose replies arrive as out-of-band frames (a dedicated pub/sub link):
   * everything read goes to `onPush`.
   */
  sendNoReply(raw: Buffer): void {
    if (this.closedByOwner) return;
    if (this.socket === null) this.open();
    this.queueBytes(raw);
  }

  /**
   * A link that is down and waiting out its retry delay connects again now (others are left
   * alone). For a slot table change: the coordinator routes slots only to servers it reached, so
   * a backend this link gave up on for a while may be back, and a client must not be refused
   * with "is down" for up to the whole delay after a migration to it or a failover finished.
   */
  retryNow(): void {
    if (this.socket !== null || this.closedByOwner) return;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.downUntil = 0;
    this.open();
  }

  /** Opens the link now (pool links do, so idle PINGs watch every backend from the start). */
  ensureOpen(): void {
    if (this.socket === null && !this.closedByOwner && Date.now() >= this.downUntil) this.open();
  }

  /** Doubles the ring, oldest request first at index 0. */
  private grow(): void {
    const size = this.pending.length;
    const order = (i: number) => (this.head + i) & (size - 1);
    const pending = new Array<ReplyCallback | ReplySink | null>(size * 2).fill(null);
    const limits = new Array<number>(size * 2).fill(-1);
    const streams = new Array<ReplyStream | null>(size * 2).fill(null);
    for (let i = 0; i < this.count; i++) {
      pending[i] = this.pending[order(i)]!;
      limits[i] = this.limits[order(i)]!;
      streams[i] = this.streams[order(i)]!;
    }
    this.pending = pending;
    this.limits = limits;
    this.streams = streams;
    this.head = 0;
  }

  /** Puts a request in front of every queued one (AUTH and HELLO on connect). */
  private queueFirst(cb: ReplyCallback, limit: number, stream: ReplyStream | null): void {
    if (this.count === this.pending.length) this.grow();
    this.head = (this.head - 1) & (this.pending.length - 1);
    this.pending[this.head] = cb;
    this.limits[this.head] = limit;
    this.streams[this.head] = stream;
    this.count++;
  }

  private queueBytes(raw: Buffer): void {
    this.sealArena();
    this.out.push(raw);
    this.outBytes += raw.length;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // setImmediate, not nextTick: requests from every client read in this event-loop turn go
      // out in one write per link (measured: GET -P 16 through the proxy 0.55× → 0.85× twemproxy).
      setImmediate(this.flushNow);
    }
  }

  private describe(): string {
    return this.opts.label ? `${this.addr} (${this.opts.label})` : this.addr;
  }

  private open(): void {
    const [host, portText] = splitAddr(this.addr);
    const socket = connect({ host, port: Number(portText), noDelay: true, onread: copiedReadsOption() });
    this.socket = socket;
    this.closeReason = '';
    this.scanner.reset();
    this.lastActivity = Date.now();
    socket.setKeepAlive(true, this.opts.keepAliveMs ?? 10_000);
    const timer = setTimeout(() => this.reset(socket, 'unavailable: connect timeout'), this.opts.connectTimeoutMs ?? 3000);
    socket.once('connect', () => {
      clearTimeout(timer);
      this.connected = true;
      this.failuresInARow = 0;
      this.flush();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      if (this.closeReason === '') this.closeReason = `unavailable: ${err.message}`;
    });
    socket.on('end', () => {
      if (this.closeReason === '') this.closeReason = 'closed the connection';
    });
    socket.on('close', () => {
      clearTimeout(timer);
      this.onClose(socket);
    });
    this.startWatchdog();
    // AUTH and HELLO go first (AUTH before HELLO: a node with a password refuses HELLO 3 until
    // then); their replies are consumed here, not by a client.
    const hello = this.opts.resp3 ? ['HELLO', '3'] : null;
    const auth = this.opts.password ? ['AUTH', this.opts.password] : null;
    for (const argv of [auth, hello].filter((a): a is string[] => a !== null).reverse()) {
      this.queueFirst((r, err) => {
        if (err === null && r !== null && r[0] === 0x2d) this.reset(socket, `${argv[0]} failed: ${r.toString('latin1', 1, r.length - 2)}`);
      }, -1, null);
      const request = encodeCommand(argv);
      this.out.unshift(request);
      this.outBytes += request.length;
    }
  }

  /**
   * One timer per link checks the oldest request's deadline and pings an idle link. Ticks at a
   * tenth of the shortest interval (bounded to 25–250 ms), so a timeout fires within 10 % late.
   */
  private startWatchdog(): void {
    const timeout = this.opts.timeoutMs ?? 0;
    const ping = this.opts.pingIntervalMs ?? 0;
    if (this.watchdog !== null || (timeout <= 0 && ping <= 0)) return;
    const shortest = Math.min(timeout > 0 ? timeout : Infinity, ping > 0 ? ping : Infinity);
    const tick = Math.max(25, Math.min(250, Math.floor(shortest / 10)));
    this.watchdog = setInterval(() => this.check(), tick);
    this.watchdog.unref();
  }

  private check(): void {
    const socket = this.socket;
    if (socket === null) return;
    const now = Date.now();
    if (this.count > 0) {
      const own = this.limits[this.head]!;
      const limit = own >= 0 ? own : this.opts.timeoutMs ?? 0;
      if (limit > 0 && now - this.lastActivity > limit) {
        this.timeouts++;
        this.reset(socket, `timed out after ${limit} ms`);
      }
      return;
    }
    const ping = this.opts.pingIntervalMs ?? 0;
    if (ping > 0 && this.connected && now - this.lastActivity >= ping) this.send(PING, IGNORE);
  }

  /** Fails every request on the link with `reason` and closes it (it reconnects on next use). */
  private reset(socket: Socket, reason: string): void {
    if (this.socket !== socket) return;
    this.closeReason = reason;
    socket.destroy();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.connected || this.socket === null) return;
    this.sealArena();
    const out = this.out;
    if (out.length === 0) return;
    const data = out.length === 1 ? out[0]! : Buffer.concat(out, this.outBytes);
    out.length = 0;
    this.outBytes = 0;
    this.socket.write(data);
  }

  private onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    let pos = 0;
    while (pos < chunk.length) {
      let end: number;
      try {
        end = this.scanner.feed(chunk, pos, chunk.length);
      } catch {
        this.reset(this.socket!, 'sent a reply that is not RESP');
        return;
      }
      if (end === INCOMPLETE) {
        this.partial(pos === 0 ? chunk : chunk.subarray(pos));
        return;
      }
      this.complete(chunk, pos, end);
      pos = end;
    }
  }

  /** The frame goes on in the next read: keep (or pass on) the part received. */
  private partial(part: Buffer): void {
    if (this.mode === STREAM) return this.streams[this.head]!.chunk(part);
    if (this.mode === DISCARD) return;
    this.parts.push(part);
    this.partsBytes += part.length;
    if (this.partsBytes < STREAM_MIN_BYTES) return;
    const stream = this.count > 0 ? this.streams[this.head]! : null;
    if (stream === null) return;
    this.mode = stream.offer();
    if (this.mode === GATHER) return;
    if (this.mode === STREAM) for (const p of this.parts) stream.chunk(p);
    this.parts = [];
    this.partsBytes = 0;
  }

  /** A frame ended at `end` in this chunk (it began at `from`, or in an earlier read). */
  private complete(chunk: Buffer, from: number, end: number): void {
    if (this.mode !== GATHER) {
      if (this.mode === STREAM) this.streams[this.head]!.chunk(chunk.subarray(0, end));
      this.mode = GATHER;
      return this.deliver(STREAMED);
    }
    if (this.parts.length === 0) return this.deliverRange(chunk, from, end);
    this.parts.push(chunk.subarray(0, end));
    const frame = Buffer.concat(this.parts, this.partsBytes + end);
    this.parts = [];
    this.partsBytes = 0;
    this.deliver(frame);
  }

  /** deliver() of bytes [from, end) of `chunk`: as a range to a sink that takes one, else as a view. */
  private deliverRange(chunk: Buffer, from: number, end: number): void {
    const cb = this.count > 0 ? this.pending[this.head]! : null;
    if (cb === null || typeof cb === 'function' || cb.onReplyBytes === undefined) return this.deliver(chunk.subarray(from, end));
    this.lastReplyAt = this.lastActivity;
    this.takeHead();
    try {
      cb.onReplyBytes(chunk, from, end);
    } catch (err) {
      this.callbackThrew(err);
    }
  }

  /** Takes the oldest waiting request off the ring; returns its callback. */
  private takeHead(): ReplyCallback | ReplySink {
    const cb = this.pending[this.head]!;
    this.pending[this.head] = null;
    this.streams[this.head] = null;
    this.head = (this.head + 1) & (this.pending.length - 1);
    this.count--;
    return cb;
  }

  /** Owners guard their callbacks; should one still throw, the link must go on framing the replies of everyone else. */
  private callbackThrew(err: unknown): void {
    process.stderr.write(`backend ${this.addr}: reply callback threw: ${(err as Error)?.stack ?? String(err)}\n`);
  }

  /** Hands a reply frame to the oldest waiting request (or to onPush for out-of-band frames). */
  private deliver(frame: Buffer): void {
    this.lastReplyAt = this.lastActivity;
    if (this.count > 0) {
      const cb = this.takeHead();
      try {
        call(cb, frame, null);
      } catch (err) {
        this.callbackThrew(err);
      }
    } else if (this.opts.onPush) {
      this.opts.onPush(frame);
    }
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.connected = false;
    this.scanner.reset();
    this.parts = [];
    this.partsBytes = 0;
    this.mode = GATHER;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
    const base = this.opts.retryDelayMs ?? 100;
    const delay = Math.min(this.opts.maxRetryDelayMs ?? 2000, base * 2 ** this.failuresInARow);
    this.failuresInARow = Math.min(this.failuresInARow + 1, 16);
    this.downUntil = Date.now() + delay;
    const why = this.closedByOwner ? 'connection closed' : this.closeReason || 'closed the connection';
    if (!this.closedByOwner) {
      this.lastError = why;
      this.lastErrorAt = Date.now();
    }
    const failed: Array<ReplyCallback | ReplySink> = [];
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i) & (this.pending.length - 1);
      failed.push(this.pending[at]!);
      this.pending[at] = null;
      this.streams[at] = null;
    }
    this.head = 0;
    this.count = 0;
    this.out = [];
    this.outBytes = 0;
    this.arenaStart = this.arenaEnd; // unsent bytes of failed requests are dropped
    const text = `ERR backend ${this.describe()} ${why}`;
    // A reply cut off after part of it was streamed fails like any other: its owner knows it
    // streamed, and closes its client (the frame it started cannot be finished).
    for (const cb of failed) call(cb, null, text);
    // Pool links come back by themselves (the idle PING then tells whether the backend is back).
    if (!this.closedByOwner && (this.opts.pingIntervalMs ?? 0) > 0) {
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        this.ensureOpen();
      }, delay);
      this.reconnectTimer.unref();
    }
    this.opts.onClose?.();
  }

  /** Closes the link; pending requests fail. */
  close(): void {
    this.closedByOwner = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
    this.socket?.destroy();
  }
}

export function splitAddr(addr: string): [string, string] {
  const i = addr.lastIndexOf(':');
  let host = addr.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return [host, addr.slice(i + 1)];
}
