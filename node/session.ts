// One client connection: reads every pipelined command available, dispatches each in order, and
// flushes the replies with one socket write per read. Holds the per-client state Redis keeps
// (db, protocol, auth, MULTI queue, subscriptions, blocking state, CLIENT fields).
import type { Socket } from 'node:net';
import { ProtocolError, RequestDecoder } from '../common/resp/request-decoder.js';
import { ReplyWriter } from '../common/resp/reply-writer.js';
import type { Db } from './keyspace/db.js';
import type { NodeServer } from './server.js';

/** What a blocked client waits for; resolved by the blocking manager (blocking.ts). */
export interface BlockedState {
  dbIndex: number;
  keys: string[];
  /** Deadline in ms since the epoch, 0 = forever. */
  deadline: number;
  /** Tries to serve the client from `key`; true when it replied and is done waiting. */
  tryServe(key: string): boolean;
  /** Replies for a timeout (null array or null). */
  onTimeout(): void;
}

// Stop reading from a client whose unread replies pile up beyond this; resume on 'drain'.
const OUTPUT_HIGH_WATER = 64 * 1024 * 1024;

export class Session {
  readonly id: number;
  readonly decoder: RequestDecoder;
  readonly w = new ReplyWriter();
  db: Db;
  name = '';
  libName = '';
  libVer = '';
  authenticated: boolean;
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  lastCommand = 'NULL';
  /** MULTI queue, or null outside a transaction. */
  multi: string[][] | null = null;
  /** A queued command was rejected: EXEC must answer EXECABORT. */
  multiError = false;
  /** A WATCHed key changed: EXEC must fail. */
  watchDirty = false;
  readonly watched = new Map<number, Set<string>>(); // db index → keys
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  readonly shardChannels = new Set<string>();
  blocked: BlockedState | null = null;
  /** CLIENT REPLY: on, off, or skip (the next command's reply). */
  replyMode: 'on' | 'off' | 'skip' = 'on';
  skipNextReply = false;
  noEvict = false;
  monitor = false;
  /** Set by QUIT or a fatal error: close after flushing. */
  closing = false;
  closed = false;
  /** Commands for which this session is waiting (CLIENT PAUSE). */
  paused = false;
  /** Replaced argv to propagate instead of the command as received (deterministic form). */
  propagateAs: string[][] | null = null;
  /** Replication offset right after this client's last write (Redis's c->woff, for WAIT). */
  woff = 0;
  readonly addr: string;
  readonly laddr: string;

  constructor(
    readonly server: NodeServer,
    readonly socket: Socket,
  ) {
    this.id = server.nextClientId++;
    this.db = server.dbs[0]!;
    this.authenticated = !server.requiresAuth();
    this.decoder = new RequestDecoder({
      maxBulkBytes: server.config.getInt('proto-max-bulk-len'),
      maxInlineBytes: 64 * 1024,
    });
    this.decoder.unauthenticated = !this.authenticated;
    this.addr = `${socket.remoteAddress}:${socket.remotePort}`;
    this.laddr = `${socket.localAddress}:${socket.localPort}`;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      if (!this.closed) socket.resume();
    });
    socket.on('close', () => this.onClose());
    socket.on('error', () => {
      /* 'close' follows and cleans up */
    });
  }

  get subscriptionCount(): number {
    return this.channels.size + this.patterns.size + this.shardChannels.size;
  }

  /** RESP2 clients with subscriptions may only run (un)subscribe, PING, QUIT and RESET. */
  get inPubSubContext(): boolean {
    return this.w.resp === 2 && this.subscriptionCount > 0;
  }

  private onData(chunk: Buffer): void {
    this.lastInteraction = Date.now();
    this.server.stats.addNetInput(chunk.length);
    this.decoder.push(chunk);
    if (this.decoder.pendingBytes > this.server.config.getInt('client-query-buffer-limit')) {
      this.server.log('warning', `Closing client that reached max query buffer length: id=${this.id} addr=${this.addr}`);
      this.close();
      return;
    }
    this.processInput();
  }

  /** Runs every complete command buffered, unless blocked or paused; then flushes. */
  processInput(): void {
    // One clock reading per batch of pipelined commands (Redis caches the time per command;
    // a batch runs within microseconds).
    this.server.updateClock();
    while (!this.blocked && !this.closing && !this.paused && !this.closed) {
      let args: string[] | null;
      try {
        args = this.decoder.next();
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        this.w.error(`ERR ${err.message}`);
        this.closing = true;
        break;
      }
      if (args === null) break;
      this.server.dispatcher.execute(this, args);
    }
    this.flush();
  }

  /** Writes out buffered replies in one write; ends the connection if it is closing. */
  flush(): void {
    if (this.closed) return;
    if (this.w.length > 0) {
      // Writes these replies acknowledge reach the AOF first (appendfsync always: the disk).
      this.server.beforeReplies();
      const out = this.w.take();
      this.server.stats.addNetOutput(out.length);
      const ok = this.socket.write(out);
      if (!ok && this.socket.writableLength > OUTPUT_HIGH_WATER) this.socket.pause();
      if (this.server.outputLimitExceeded(this)) {
        this.close();
        return;
      }
    }
    if (this.closing) {
      this.closed = true;
      this.socket.end();
      this.cleanup();
    }
  }

  /** Closes the connection now, dropping unsent replies. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.cleanup();
  }

  private onClose(): void {
    if (!this.closed) {
      this.closed = true;
      this.cleanup();
    }
  }

  private cleaned = false;
  private cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    this.server.forgetSession(this);
  }

  /** Clears per-connection state (RESET and disconnect). */
  resetState(): void {
    this.multi = null;
    this.multiError = false;
    this.server.watch.unwatchAll(this);
    this.server.pubsub.unsubscribeAll(this);
    this.replyMode = 'on';
    this.skipNextReply = false;
    this.noEvict = false;
    this.monitor = false;
    this.server.monitors.delete(this);
    this.name = '';
    this.db = this.server.dbs[0]!;
    this.w.resp = 2;
    this.authenticated = !this.server.requiresAuth();
    this.decoder.unauthenticated = !this.authenticated;
  }
}
