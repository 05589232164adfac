// One pipelined RESP connection to another server (the slot mover's link to its target, MIGRATE's
// to wherever it is told): requests answered in order, each within a timeout, every request
// settled whatever happens to the connection, and the replies read into a bounded buffer.
import { connect, type Socket } from 'node:net';
import { encodeCommand } from '../../common/resp/encode.js';
import { ReplyErrorValue, decodeReply, type Reply } from '../../common/resp/reply-decoder.js';

/** An error whose message is the reply to give (without "-"). */
export class LinkError extends Error {}

/** TCP keepalive: first probe after this much idle time (the kernel's defaults take hours). */
const KEEPALIVE_MS = 1000;
/**
 * Unparsed reply bytes a link holds at most: the replies it waits for are short (OK, errors,
 * small arrays), so more means a peer that is not answering what was asked.
 */
export const LINK_MAX_BUFFERED = 16 * 1024 * 1024;

interface Pending {
  want: number;
  got: Reply[];
  /** performance.now() past which the link fails (the request's own deadline). */
  deadline: number;
  resolve(r: Reply[]): void;
  reject(e: Error): void;
}

/**
 * One pipelined RESP connection to a target: requests answered in order, each within the link's
 * timeout of being sent, else the link fails and every request owed is rejected. Whatever ends
 * the connection (RST, FIN, a write error, keepalive giving up, close()) rejects them too: no
 * request is left unsettled.
 */
export class TargetLink {
  private readonly pending: Pending[] = [];
  /** Reply bytes not parsed yet: store[0, held), grown by doubling (no copy of all per read). */
  private store: Buffer = Buffer.alloc(0);
  private held = 0;
  private timer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    private timeoutMs: number,
  ) {
    socket.setNoDelay(true);
    // A peer that vanished without a FIN or RST (host down, cable cut) is found by keepalive
    // probes even while nothing is owed; while replies are owed the stall timer bounds it.
    socket.setKeepAlive(true, KEEPALIVE_MS);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new LinkError(`ERR target ${address} unreachable: ${err.message}`)));
    // The target closed its side: no reply owed will ever come (do not wait for our own close,
    // which waits for the write buffer to drain).
    socket.on('end', () => this.fail(new LinkError(`ERR target ${address} unreachable: connection closed by the target`)));
    socket.on('close', () => this.fail(new LinkError(`ERR target ${address} unreachable: connection closed`)));
  }

  static open(address: string, timeoutMs: number, auth: string[]): Promise<TargetLink> {
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon);
    const port = Number(address.slice(colon + 1));
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const t = setTimeout(() => {
        socket.destroy();
        reject(new LinkError(`ERR target ${address} unreachable: connect timeout after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(t);
        reject(new LinkError(`ERR target ${address} unreachable: ${err.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(t);
        const link = new TargetLink(socket, address, timeoutMs);
        if (auth.length === 0) return resolve(link);
        link.request(encodeCommand(['AUTH', ...auth]), 1).then(([r]) => {
          if (r instanceof ReplyErrorValue) {
            link.close();
            reject(new LinkError(`ERR target refused: ${r.message}`));
          } else resolve(link);
        }, reject);
      });
    });
  }

  get alive(): boolean {
    return this.failure === null;
  }

  setTimeout(ms: number): void {
    this.timeoutMs = ms;
  }

  /** Sends `bytes` (holding `want` commands) and resolves with their replies. */
  request(bytes: Buffer, want: number): Promise<Reply[]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ want, got: [], deadline: performance.now() + this.timeoutMs, resolve, reject });
      if (this.timer === null) this.arm();
      // A write that fails (the socket died between our check and now) fails every reply owed.
      this.socket.write(bytes, (err) => {
        if (err) this.fail(new LinkError(`ERR target ${this.address} unreachable: ${err.message}`));
      });
    });
  }

  /** Runs `send` (several request() calls) with the socket corked: one write for them all. */
  batch<T>(send: () => T): T {
    this.socket.cork();
    try {
      return send();
    } finally {
      this.socket.uncork();
    }
  }

  close(): void {
    this.fail(new LinkError(`ERR target ${this.address} unreachable: link closed`));
  }

  /** One timer, for the oldest request owed (later ones were sent later: their deadlines are too). */
  private arm(): void {
    const head = this.pending[0]!;
    const ms = Math.max(0, head.deadline - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      const h = this.pending[0];
      if (h === undefined) return;
      if (performance.now() >= h.deadline - 1) this.fail(new LinkError(`ERR target ${this.address} timeout: no reply within ${this.timeoutMs} ms`));
      else this.arm();
    }, ms);
  }

  private onData(chunk: Buffer): void {
    if (this.held + chunk.length > LINK_MAX_BUFFERED) {
      this.fail(new LinkError(`ERR target ${this.address} sent more than ${LINK_MAX_BUFFERED} bytes of replies unparsed`));
      return;
    }
    let buf: Buffer;
    if (this.held === 0) buf = chunk;
    else {
      if (this.held + chunk.length > this.store.length) {
        const grown = Buffer.allocUnsafe(Math.max(this.store.length * 2, this.held + chunk.length));
        this.store.copy(grown, 0, 0, this.held);
        this.store = grown;
      }
      chunk.copy(this.store, this.held);
      this.held += chunk.length;
      buf = this.store.subarray(0, this.held);
    }
    let pos = 0;
    for (;;) {
      let r: [Reply, number] | null;
      try {
        r = decodeReply(buf, pos);
      } catch (err) {
        // Not RESP (a peer that is no Redis, or a broken one): this link ends, nothing else.
        this.fail(new LinkError(`ERR target ${this.address} sent a malformed reply: ${(err as Error).message}`));
        return;
      }
      if (r === null) break;
      pos = r[1];
      const head = this.pending[0];
      if (head === undefined) continue;
      head.got.push(r[0]);
      if (head.got.length === head.want) {
        this.pending.shift();
        head.resolve(head.got);
      }
    }
    // Keep what is left of an unfinished reply at the start of the store.
    const left = buf.length - pos;
    if (left > this.store.length) this.store = Buffer.allocUnsafe(Math.max(left, 4096));
    if (left > 0) buf.copy(this.store, 0, pos);
    this.held = left;
    // The timer now watches the new oldest request's deadline.
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length > 0) this.arm();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.socket.destroy();
    for (const p of this.pending.splice(0)) p.reject(err);
  }
}
