// A minimal persistent RESP connection for the harness: one command at a time or a few in
// flight, replies matched in order. For polling INFO and timing PINGs; not a client library.
import net from 'node:net';
import { encodeCommand } from './net-util.js';
import { decodeReply, ReplyError, type Reply } from './resp-reply.js';

interface Pending {
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

export class RespClient {
  private readonly pending: Pending[] = [];
  /** Bytes of a reply not yet complete (usually empty: replies arrive whole). */
  private partial: Buffer = Buffer.alloc(0);
  private closedError: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.failAll(err));
    socket.on('close', () => this.failAll(new Error('connection closed')));
  }

  static connect(port: number): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RespClient(socket));
      });
    });
  }

  /** Sends one command; resolves with its reply, error replies included (as ReplyError). */
  send(args: readonly string[]): Promise<Reply> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  /** Like send, but an error reply rejects and the reply must be a string. */
  async sendForString(args: readonly string[]): Promise<string> {
    const reply = await this.send(args);
    if (reply instanceof ReplyError) throw new Error(`${args[0]}: ${reply.message}`);
    if (typeof reply !== 'string') throw new Error(`${args[0]}: expected a string reply, got ${String(reply)}`);
    return reply;
  }

  /** Like send, but the reply must be an integer. */
  async sendForInteger(args: readonly string[]): Promise<number> {
    const reply = await this.send(args);
    if (typeof reply !== 'number') throw new Error(`${args[0]}: expected an integer reply, got ${String(reply)}`);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const buf = this.partial.length === 0 ? chunk : Buffer.concat([this.partial, chunk]);
    let offset = 0;
    while (offset < buf.length) {
      const decoded = decodeReply(buf, offset);
      if (decoded === null) break;
      offset = decoded.next;
      const waiter = this.pending.shift();
      if (waiter === undefined) return this.failAll(new Error('reply without a request'));
      waiter.resolve(decoded.reply);
    }
    this.partial = offset === buf.length ? Buffer.alloc(0) : buf.subarray(offset);
  }

  private failAll(err: Error): void {
    this.closedError ??= err;
    for (const waiter of this.pending.splice(0)) waiter.reject(err);
    this.socket.destroy();
  }
}
