// The command stream from our master, once synced: decodes it, runs each command through the
// dispatcher as the master client (replies dropped), answers REPLCONF GETACK, and hands back the
// exact bytes applied — only at transaction boundaries, so offsets never split a MULTI … EXEC.
import { RequestDecoder } from '../../common/resp/request-decoder.js';
import type { NodeServer } from '../server.js';
import type { Session } from '../session.js';

export interface MasterStreamHooks {
  /** GETACK: acknowledge `appliedNotForwarded` bytes beyond what was already forwarded. */
  getAck(appliedNotForwarded: number): void;
  /** Bytes applied (complete commands, outside any transaction): forward them verbatim. */
  forward(bytes: Buffer): void;
  /** False once a command tore the link down (e.g. REPLICAOF): stop applying. */
  live(): boolean;
}

export class MasterStream {
  private readonly decoder = new RequestDecoder({ maxBulkBytes: 2 ** 53, maxInlineBytes: 64 * 1024 });
  /** Received chunks not yet forwarded, and bytes of the first one already forwarded. */
  private raw: Buffer[] = [];
  private rawSkip = 0;
  /** Bytes of this connection's stream: received, applied up to the last safe point, forwarded. */
  private pushed = 0;
  private safe = 0;
  private forwarded = 0;

  constructor(
    private readonly server: NodeServer,
    private readonly client: Session,
    private readonly hooks: MasterStreamHooks,
  ) {}

  /** Applies every complete command in the bytes received so far. Throws ProtocolError (request-decoder) on garbage. */
  push(chunk: Buffer): void {
    const client = this.client;
    const server = this.server;
    this.raw.push(chunk);
    this.decoder.push(chunk);
    this.pushed += chunk.length;
    server.updateClock();
    server.clock.keepExpired = true;
    try {
      this.apply(client, server);
    } finally {
      server.clock.keepExpired = false;
    }
  }

  private apply(client: Session, server: NodeServer): void {
    for (;;) {
      const args = this.decoder.next();
      if (args === null) break;
      const consumed = this.pushed - this.decoder.pendingBytes;
      if (args.length >= 2 && args[0]!.toLowerCase() === 'replconf' && args[1]!.toLowerCase() === 'getack') {
        // Answer with the offset before this GETACK, as Redis does.
        this.hooks.getAck(this.safe - this.forwarded);
      } else {
        const errors = client.w.errorCount;
        server.dispatcher.execute(client, args);
        // The master never sees our replies, so a failing command would diverge silently: say it.
        if (client.w.errorCount !== errors) {
          server.log('warning', `== CRITICAL == This replica is sending an error to its master: '${client.w.lastError}' after processing the command '${args[0]}'`);
        }
      }
      if (client.multi === null) this.safe = consumed;
      if (!this.hooks.live()) return;
    }
    if (client.w.length > 0) client.w.take();
    if (this.safe > this.forwarded) {
      const n = this.safe - this.forwarded;
      this.forwarded = this.safe;
      this.hooks.forward(this.takeRaw(n));
    }
  }

  /** Removes the first `n` received bytes from the raw queue (one copy only when they span chunks). */
  private takeRaw(n: number): Buffer {
    const first = this.raw[0]!;
    if (first.length - this.rawSkip >= n) {
      const out = first.subarray(this.rawSkip, this.rawSkip + n);
      this.rawSkip += n;
      if (this.rawSkip === first.length) {
        this.raw.shift();
        this.rawSkip = 0;
      }
      return out;
    }
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const head = this.raw[0]!;
      const avail = head.length - this.rawSkip;
      const take = Math.min(avail, left);
      parts.push(head.subarray(this.rawSkip, this.rawSkip + take));
      left -= take;
      if (take === avail) {
        this.raw.shift();
        this.rawSkip = 0;
      } else {
        this.rawSkip += take;
      }
    }
    return Buffer.concat(parts, n);
  }
}

