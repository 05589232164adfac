// A minimal RESP client over a raw socket that keeps reply types exact (for byte-level and
// differential comparisons). Replies come back in order.
import { connect, type Socket } from 'node:net';
import { encodeCommand } from '../../common/resp/encode.js';
import { decodeReply, type Reply } from '../../common/resp/reply-decoder.js';

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<(r: Reply) => void> = [];
  private pushes: Reply[] = [];
  private closedFlag = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      for (;;) {
        const r = decodeReply(this.buf, 0);
        if (!r) break;
        this.buf = this.buf.subarray(r[1]);
        const w = this.waiters.shift();
        if (w) w(r[0]);
        else this.pushes.push(r[0]);
      }
    });
    socket.on('close', () => {
      this.closedFlag = true;
    });
    socket.on('error', () => {});
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RawClient(socket);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Sends one command and waits for its reply. */
  call(...args: Array<string | number | Buffer>): Promise<Reply> {
    const p = this.nextReply();
    this.socket.write(encodeCommand(args));
    return p;
  }

  /** Sends raw bytes (for protocol tests). */
  write(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** The next reply not yet consumed (including unsolicited pushes). */
  nextReply(timeoutMs = 5000): Promise<Reply> {
    const queued = this.pushes.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply within timeout')), timeoutMs);
      this.waiters.push((r) => {
        clearTimeout(t);
        resolve(r);
      });
    });
  }

  /** Resolves when the server closes the connection. */
  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connection not closed')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Opens a connection, runs one command, closes it. */
export async function callOnce(port: number, ...args: Array<string | number>): Promise<Reply> {
  const c = await RawClient.connect(port);
  try {
    return await c.call(...args);
  } finally {
    c.close();
  }
}

/** One INFO section as field → value. */
export async function infoFields(port: number, section: string): Promise<Record<string, string>> {
  const text = String(await callOnce(port, 'INFO', section));
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
