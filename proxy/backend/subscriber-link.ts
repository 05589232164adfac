// The proxy's one subscriber link to a backend master, shared by every client of the proxy (as a
// Redis Cluster client keeps one subscriber connection per node). It speaks RESP2 and never
// decodes more than the kind and name of each frame. Every request it sends is answered in order
// by the node (one confirmation per name, or an error), so a FIFO of expectations pairs replies
// with their senders; message/pmessage/smessage frames are out of band and go to onMessage.
// The link reconnects with back-off while its owner still needs it; who re-subscribes what after
// a reconnect is the owner's business (onReady).
import { connect, type Socket } from 'node:net';
import { encodeCommand } from '../../common/resp/encode.js';
import { INCOMPLETE, scanFrame } from '../../common/resp/frame-scanner.js';

/** Called once per expected reply: null when confirmed, else an error text (starting "ERR …"). */
export type ConfirmCallback = (error: string | null) => void;

export type MessageKind = 'message' | 'pmessage' | 'smessage';

export interface SubscriberLinkOptions {
  password?: string;
  /** Describes the backend in error texts, e.g. "group 2". */
  label?: string;
  /** A message frame (RESP2 array, a view of the read buffer) for `name` (channel or pattern). */
  onMessage: (kind: MessageKind, name: string, frame: Buffer) => void;
  /** The link is (again) connected and authenticated. */
  onReady: () => void;
  /** The link dropped; every expectation still pending has already been failed. */
  onLost: (why: string) => void;
  /** Asked after a drop: reconnect (after the back-off) only when the owner still needs the link. */
  stillNeeded: () => boolean;
  /** Every expectation was answered (the owner may close an unused link). */
  onIdle?: () => void;
  connectTimeoutMs?: number;
  /** A reply not received within this time resets the link (a stopped or wedged master); 0 = never. */
  replyTimeoutMs?: number;
  /** An idle ready link sends PING this often, so a dead peer is noticed without traffic; 0 = never. */
  pingIntervalMs?: number;
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

interface Expectation {
  /** Reply kind that confirms it ("subscribe", "unsubscribe", "pong" …), or "" for a plain reply (AUTH). */
  verb: string;
  name: string | null;
  cb: ConfirmCallback;
  sentAt: number;
}

type State = 'idle' | 'connecting' | 'ready' | 'backoff' | 'closed';

const NOOP: ConfirmCallback = () => {};

export class SubscriberLink {
  private socket: Socket | null = null;
  private state: State = 'idle';
  private expects: Expectation[] = [];
  private head = 0;
  /** Requests not yet written: while connecting (sent right after AUTH), or until this turn ends. */
  private out: Buffer[] = [];
  private flushScheduled = false;
  /** A frame split across reads: its chunks, their total, and the least total that can complete it. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  private partNeed = 0;
  private failuresInARow = 0;
  private lastError = '';
  private timer: NodeJS.Timeout | null = null;
  private lastActivity = 0;

  constructor(
    readonly addr: string,
    private readonly opts: SubscriberLinkOptions,
  ) {}

  /** Up or on its way up: requests sent now will be answered (or failed) in order. */
  get usable(): boolean {
    return this.state === 'ready' || this.state === 'connecting' || this.state === 'idle';
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  /** Failed recently: requests fail fast until the back-off ends. */
  get inBackoff(): boolean {
    return this.state === 'backoff';
  }

  /** Why the link is not usable (for error replies). */
  get downReason(): string {
    return `ERR backend ${this.describe()} unavailable: ${this.lastError || 'connection closed'}`;
  }

  get outstanding(): number {
    return this.expects.length - this.head;
  }

  describe(): string {
    return this.opts.label ? `${this.addr} (${this.opts.label})` : this.addr;
  }

  /**
   * Sends VERB name… and expects one confirmation per name (`confirm` is the reply kind, e.g.
   * "subscribe"). Returns false, calling nothing, when the link is down in its back-off.
   */
  request(verb: string, confirm: string, names: readonly string[], cbs: readonly ConfirmCallback[]): boolean {
    if (!this.usable) return false;
    if (this.state === 'idle') this.open();
    const now = Date.now();
    for (let i = 0; i < names.length; i++) this.expects.push({ verb: confirm, name: names[i]!, cb: cbs[i] ?? NOOP, sentAt: now });
    this.write(encodeCommand([verb, ...names]));
    return true;
  }

  /** Requests leave in one write per event-loop turn (a SUBSCRIBE of many names is many requests). */
  private write(raw: Buffer): void {
    this.out.push(raw);
    if (this.state !== 'ready' || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.state !== 'ready' || this.socket === null || this.out.length === 0) return;
    const data = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    this.socket.write(data);
  }

  private open(): void {
    const i = this.addr.lastIndexOf(':');
    const host = this.addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
    const socket = connect({ host, port: Number(this.addr.slice(i + 1)), noDelay: true });
    this.socket = socket;
    this.state = 'connecting';
    this.lastError = '';
    const connectTimer = setTimeout(() => socket.destroy(new Error('connect timeout')), this.opts.connectTimeoutMs ?? 3000);
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      socket.setKeepAlive(true, 10_000);
      if (this.opts.password) {
        // AUTH goes first; its reply is the head of the FIFO.
        this.expects.splice(this.head, 0, {
          verb: '',
          name: null,
          // Refused (lastError holds the node's text): nothing after it may be taken as an answer.
          cb: (err) => err && socket.destroy(),
          sentAt: Date.now(),
        });
        socket.write(encodeCommand(['AUTH', this.opts.password]));
      }
      this.state = 'ready';
      this.flush();
      this.startTimer();
      this.opts.onReady();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.lastError ||= err.message;
    });
    socket.on('close', () => {
      clearTimeout(connectTimer);
      this.onClose(socket);
    });
  }

  private onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    let buf = chunk;
    if (this.parts.length > 0) {
      // Join a split frame only once enough bytes arrived to possibly complete it, so a big
      // message is copied a bounded number of times, not once per read.
      this.parts.push(chunk);
      this.partBytes += chunk.length;
      if (this.partBytes < this.partNeed) return;
      buf = Buffer.concat(this.parts, this.partBytes);
      this.parts = [];
      this.partBytes = 0;
    }
    let pos = 0;
    // Bounded by the chunk: each turn consumes one whole frame.
    while (pos < buf.length) {
      let end: number;
      try {
        end = scanFrame(buf, pos);
      } catch {
        this.lastError = 'protocol error from backend';
        this.socket?.destroy();
        return;
      }
      if (end === INCOMPLETE) break;
      this.onFrame(buf.subarray(pos, end));
      if (this.socket === null || this.socket.destroyed) return;
      pos = end;
    }
    if (pos < buf.length) {
      const rest = buf.subarray(pos);
      this.parts = [rest];
      this.partBytes = rest.length;
      this.partNeed = leastFrameBytes(rest);
    }
  }

  private onFrame(frame: Buffer): void {
    if (frame[0] === 0x2a /* * */) {
      const [kind, name] = headOf(frame);
      if (kind === 'message' || kind === 'pmessage' || kind === 'smessage') {
        this.opts.onMessage(kind, name ?? '', frame);
        return;
      }
      const e = this.expects[this.head];
      if (e !== undefined && e.verb === kind && (e.name === null || e.name === name)) this.settleHead(null);
      // Anything else is a frame nobody asked for (a server-side sunsubscribe when a slot moves).
      return;
    }
    if (this.head >= this.expects.length) return;
    if (frame[0] === 0x2d /* - */) {
      const text = frame.latin1Slice(1, frame.length - 2);
      this.lastError = text;
      this.settleHead(`ERR backend ${this.describe()} refused: ${text}`);
    } else {
      this.settleHead(null);
    }
  }

  private settleHead(error: string | null): void {
    // The back-off resets on a real answer, not on connect: a node that accepts and then
    // refuses (max number of clients) keeps doubling it.
    if (error === null) this.failuresInARow = 0;
    const e = this.expects[this.head]!;
    this.expects[this.head++] = undefined as unknown as Expectation;
    if (this.head === this.expects.length) {
      this.expects = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.expects.length) {
      this.expects = this.expects.slice(this.head);
      this.head = 0;
    }
    e.cb(error);
    if (this.outstanding === 0) this.opts.onIdle?.();
  }

  /** One timer per link: resets a link whose oldest reply is overdue, pings an idle one. */
  private startTimer(): void {
    if (this.timer) return;
    const replyTimeout = this.opts.replyTimeoutMs ?? 5000;
    const pingEvery = this.opts.pingIntervalMs ?? 15_000;
    this.lastActivity = Date.now();
    this.timer = setInterval(() => {
      if (this.state !== 'ready') return;
      const now = Date.now();
      const oldest = this.expects[this.head];
      if (oldest && replyTimeout > 0 && now - oldest.sentAt > replyTimeout) {
        this.lastError = `no reply within ${replyTimeout} ms`;
        this.socket?.destroy();
        return;
      }
      if (!oldest && pingEvery > 0 && now - this.lastActivity > pingEvery) {
        this.lastActivity = now;
        this.expects.push({ verb: 'pong', name: null, cb: NOOP, sentAt: now });
        this.socket!.write(encodeCommand(['PING']));
      }
    }, Math.max(10, Math.min(1000, (replyTimeout || 4000) / 4, (pingEvery || 4000) / 4)));
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.stopTimer();
    this.parts = [];
    this.partBytes = 0;
    this.out = [];
    const why = this.downReason;
    const failed = this.expects.slice(this.head);
    this.expects = [];
    this.head = 0;
    if (this.state === 'closed') {
      for (const e of failed) e.cb(why);
      return;
    }
    const base = this.opts.retryDelayMs ?? 100;
    const delay = Math.min(this.opts.maxRetryDelayMs ?? 2000, base * 2 ** this.failuresInARow);
    this.failuresInARow = Math.min(this.failuresInARow + 1, 16);
    this.state = 'backoff';
    for (const e of failed) e.cb(why);
    this.opts.onLost(why);
    setTimeout(() => {
      if (this.state !== 'backoff') return;
      this.state = 'idle';
      if (this.opts.stillNeeded()) this.open();
    }, delay).unref();
  }

  /** Closes the link for good; expectations still pending fail. */
  close(): void {
    this.state = 'closed';
    this.stopTimer();
    if (this.socket) this.socket.destroy();
    else {
      const failed = this.expects.slice(this.head);
      this.expects = [];
      this.head = 0;
      for (const e of failed) e.cb(`ERR backend ${this.describe()} link closed`);
    }
  }

  /** Drops the connection as if the peer had (tests and operators); the link reconnects. */
  reset(why: string): void {
    this.lastError = why;
    this.socket?.destroy();
  }
}

/** The first two elements of an array frame as latin1 text (kind and name; null when not bulks). */
function headOf(frame: Buffer): [string | null, string | null] {
  let pos = frame.indexOf(10) + 1;
  const out: Array<string | null> = [null, null];
  for (let i = 0; i < 2 && pos > 0 && pos < frame.length; i++) {
    if (frame[pos] !== 0x24) break;
    const lineEnd = frame.indexOf(13, pos);
    const n = Number(frame.latin1Slice(pos + 1, lineEnd));
    if (!(n >= 0)) break;
    out[i] = frame.latin1Slice(lineEnd + 2, lineEnd + 2 + n);
    pos = lineEnd + 2 + n + 2;
  }
  return [out[0]!, out[1]!];
}

/**
 * A lower bound of the size of the (incomplete) frame starting `buf`: the end of the first bulk
 * that runs past the buffer, else one byte more than we have. Walks only headers already read.
 */
export function leastFrameBytes(buf: Buffer): number {
  let pos = 0;
  let owed = 1;
  // Bounded by the buffer: every turn moves pos forward past a header.
  while (owed > 0 && pos < buf.length) {
    const lineEnd = buf.indexOf(13, pos);
    if (lineEnd < 0 || lineEnd + 1 >= buf.length) return buf.length + 1;
    const n = Number(buf.latin1Slice(pos + 1, lineEnd));
    const type = buf[pos];
    owed--;
    if (type === 0x2a || type === 0x3e) {
      if (n > 0) owed += n;
      pos = lineEnd + 2;
    } else if (type === 0x24 && n >= 0) {
      pos = lineEnd + 2 + n + 2;
      if (pos > buf.length) return pos;
    } else {
      pos = lineEnd + 2;
    }
  }
  return buf.length + 1;
}
