// One pipelined connection to a backend node: requests are written as raw bytes (batched into one
// write per tick), replies are framed with the scanner (never decoded) and handed back in FIFO
// order. Never parses commands; never retries.
import { connect, type Socket } from 'node:net';
import { encodeCommand } from '../../common/resp/encode.js';
import { INCOMPLETE, scanFrame } from '../../common/resp/frame-scanner.js';

/** Receives the raw reply frame, or an error text (without the leading '-') when the link failed. */
export type ReplyCallback = (reply: Buffer | null, error: string | null) => void;

export interface BackendOptions {
  /** AUTH sent first on every (re)connect when set. */
  password?: string;
  /** Speak RESP3 (HELLO 3 first) so replies keep RESP3 shapes for RESP3 clients. */
  resp3?: boolean;
  /** Describes the backend in error texts, e.g. "group 2". */
  label?: string;
  connectTimeoutMs?: number;
  /** After a failure, requests fail fast for this long before a reconnect is tried. */
  retryDelayMs?: number;
  /** Called for out-of-band frames when the queue is empty (pub/sub pushes on dedicated links). */
  onPush?: (frame: Buffer) => void;
  /** Called once when the link closes (dedicated links are not reconnected by their owner). */
  onClose?: () => void;
}

const IGNORE: ReplyCallback = () => {};

export class BackendConnection {
  private socket: Socket | null = null;
  private connected = false;
  private pending: ReplyCallback[] = [];
  private head = 0;
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private inbuf: Buffer | null = null;
  private downUntil = 0;
  private lastError = '';
  private closedByOwner = false;

  constructor(
    readonly addr: string,
    private readonly opts: BackendOptions = {},
  ) {}

  get inFlight(): number {
    return this.pending.length - this.head;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Queues a raw request; `cb` runs exactly once with its reply or an error. */
  send(raw: Buffer, cb: ReplyCallback): void {
    if (this.closedByOwner) {
      cb(null, `ERR backend ${this.describe()} connection closed`);
      return;
    }
    if (this.socket === null) {
      if (Date.now() < this.downUntil) {
        cb(null, `ERR backend ${this.describe()} is down: ${this.lastError}`);
        return;
      }
      this.open();
    }
    this.pending.push(cb);
    this.out.push(raw);
    this.outBytes += raw.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  /**
   * Sends a request whose replies arrive as out-of-band frames (a dedicated pub/sub link):
   * everything read goes to `onPush`.
   */
  sendNoReply(raw: Buffer): void {
    if (this.closedByOwner) return;
    if (this.socket === null) this.open();
    this.out.push(raw);
    this.outBytes += raw.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  private describe(): string {
    return this.opts.label ? `${this.addr} (${this.opts.label})` : this.addr;
  }

  private open(): void {
    const [host, portText] = splitAddr(this.addr);
    const socket = connect({ host, port: Number(portText), noDelay: true });
    this.socket = socket;
    this.inbuf = null;
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), this.opts.connectTimeoutMs ?? 3000);
    socket.once('connect', () => {
      clearTimeout(timer);
      this.connected = true;
      this.flush();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.lastError = err.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      this.onClose(socket);
    });
    // AUTH and HELLO go first; their replies are consumed here, not by a client.
    const hello = this.opts.resp3 ? ['HELLO', '3'] : null;
    const auth = this.opts.password ? ['AUTH', this.opts.password] : null;
    for (const argv of [hello, auth].filter((a): a is string[] => a !== null).reverse()) {
      this.pending.splice(this.head, 0, (r, err) => {
        if (err === null && r !== null && r[0] === 0x2d) socket.destroy(new Error(`${argv[0]} failed: ${r.toString('latin1', 1, r.length - 2)}`));
      });
      const request = encodeCommand(argv);
      this.out.unshift(request);
      this.outBytes += request.length;
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.connected || this.socket === null || this.out.length === 0) return;
    const data = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    this.socket.write(data);
  }

  private onData(chunk: Buffer): void {
    let buf = this.inbuf === null ? chunk : Buffer.concat([this.inbuf, chunk]);
    let pos = 0;
    for (;;) {
      let end: number;
      try {
        end = scanFrame(buf, pos);
      } catch {
        this.socket?.destroy(new Error('protocol error from backend'));
        return;
      }
      if (end === INCOMPLETE) break;
      const frame = buf.subarray(pos, end);
      pos = end;
      if (this.head < this.pending.length) {
        const cb = this.pending[this.head]!;
        this.pending[this.head++] = IGNORE;
        if (this.head > 1024 && this.head * 2 > this.pending.length) {
          this.pending = this.pending.slice(this.head);
          this.head = 0;
        }
        cb(frame, null);
      } else if (this.opts.onPush) {
        this.opts.onPush(frame);
      }
    }
    this.inbuf = pos < buf.length ? buf.subarray(pos) : null;
    buf = null as unknown as Buffer;
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.connected = false;
    this.inbuf = null;
    this.downUntil = Date.now() + (this.opts.retryDelayMs ?? 200);
    const failed = this.pending.slice(this.head);
    this.pending = [];
    this.head = 0;
    this.out = [];
    this.outBytes = 0;
    const why = this.lastError || 'connection closed';
    for (const cb of failed) cb(null, `ERR backend ${this.describe()} unavailable: ${why}`);
    this.opts.onClose?.();
  }

  /** Closes the link; pending requests fail. */
  close(): void {
    this.closedByOwner = true;
    this.socket?.destroy();
  }
}

export function splitAddr(addr: string): [string, string] {
  const i = addr.lastIndexOf(':');
  let host = addr.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return [host, addr.slice(i + 1)];
}
