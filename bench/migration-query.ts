// A pipelined RESP connection that decodes any reply (arrays included), for the migration
// scenario's checks: SCAN, GETs of every key, LRANGE/HMGET/ZRANGE of big keys. Not a client library.
import net from 'node:net';
import { decodeReply, type Reply } from '../common/resp/reply-decoder.js';

export type { Reply };
export { ReplyErrorValue } from '../common/resp/reply-decoder.js';

interface Waiter {
  want: number;
  got: Reply[];
  resolve(replies: Reply[]): void;
  reject(err: Error): void;
}

const TIMEOUT_MS = 30_000;

export class QueryConnection {
  private readonly waiters: Waiter[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket, private readonly port: number) {
    socket.setNoDelay(true);
    socket.setTimeout(TIMEOUT_MS, () => this.fail(new Error(`port ${port}: no reply within ${TIMEOUT_MS} ms`)));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error(`port ${port}: connection closed`)));
  }

  static connect(port: number): Promise<QueryConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new QueryConnection(socket, port));
      });
    });
  }

  /** Sends `text` holding `count` commands; resolves with their replies (error replies as values). */
  send(text: string, count: number): Promise<Reply[]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ want: count, got: [], resolve, reject });
      this.socket.write(text);
    });
  }

  /**
   * Runs `count` commands (`command(i)` is the RESP text of command i) in writes of `batch`, at
   * most `window` writes unanswered, handing each reply to `onReply(i, reply)` in order.
   */
  async many(count: number, command: (i: number) => string, onReply: (i: number, reply: Reply) => void, batch = 500, window = 4): Promise<void> {
    const inflight: Array<Promise<void>> = [];
    for (let from = 0; from < count; from += batch) {
      const to = Math.min(count, from + batch);
      let text = '';
      for (let i = from; i < to; i++) text += command(i);
      inflight.push(this.send(text, to - from).then((replies) => replies.forEach((r, k) => onReply(from + k, r))));
      if (inflight.length >= window) await inflight.shift();
    }
    await Promise.all(inflight);
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    for (;;) {
      const decoded = decodeReply(this.buf, pos);
      if (decoded === null) break;
      pos = decoded[1];
      const head = this.waiters[0];
      if (head === undefined) return this.fail(new Error(`port ${this.port}: a reply without a request`));
      head.got.push(decoded[0]);
      if (head.got.length === head.want) {
        this.waiters.shift();
        head.resolve(head.got);
      }
    }
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.socket.destroy();
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}
