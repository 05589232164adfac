// One client connection: reads every pipelined command available, dispatches each in order, and
// flushes the replies with one socket write per read. Holds the per-client state Redis keeps
// (db, protocol, auth, MULTI queue, subscriptions, blocking state, CLIENT fields).
import type { Socket } from 'node:net';
import { ProtocolError, RequestDecoder } from '../common/resp/request-decoder.js';
import { ReplyWriter } from '../common/resp/reply-writer.js';
import type { Db } from './keyspace/db.js';
import type { NodeServer } from './server.js';
import type { TrackingState } from './tracking.js';

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
// Commands with more argument bytes than this restart the chained command timing (dispatcher.ts).
const TIMED_DECODE_BYTES = 16 * 1024;
// A closing client whose last replies are not flushed by then is dropped anyway.
const CLOSE_FLUSH_MS = 10_000;

const SECURITY_ATTACK_TEXT =
  'Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. ' +
  'This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis ' +
  'instance. Connection aborted.';

/**
 * An HTTP request line ("POST / HTTP/1.1") or header ("Host: …") arriving as a command: a web page
 * is driving this port (cross-protocol scripting). Redis aborts the connection, running nothing more.
 */
function isHttpCommand(name: string): boolean {
  // The first letter decides before any lower-casing (INCR, LPUSH, HSET … must not allocate).
  const first = name.charCodeAt(0) | 0x20;
  if (name.length === 4) return first === 0x70 /* p */ && name.toLowerCase() === 'post';
  return name.length === 5 && first === 0x68 /* h */ && name.toLowerCase() === 'host:';
}

/**
 * Writes `text` (if any) and closes the socket fully once it is flushed. A half-closed socket
 * (end() alone) would keep reading whatever a client that never notices goes on sending.
 */
export function endAndClose(socket: Socket, text?: string): void {
  if (text !== undefined) socket.write(text, 'latin1');
  if (socket.writableLength === 0) {
    socket.destroy();
    return;
  }
  socket.end();
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), CLOSE_FLUSH_MS).unref();
}

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
  /** CLIENT TRACKING state (node/tracking.ts); null while off. */
  tracking: TrackingState | null = null;
  /** Replication offset right after this client's last write (Redis's c->woff, for WAIT). */
  woff = 0;
  /** Largest batch of replies written at once (CLIENT LIST rbp). */
  replyPeak = 0;
  /** Socket writes not yet handed to the kernel (CLIENT LIST oll). */
  pendingWrites = 0;
  private readonly onWritten = (): void => {
    this.pendingWrites--;
  };
  // Bytes of the MULTI queue, counted incrementally (see multiBytes).
  private multiCounted: string[][] | null = null;
  private multiCountedLen = 0;
  private multiCountedBytes = 0;
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

  /**
   * Input this client holds: unparsed bytes, arguments parsed of an incomplete command, and the
   * MULTI queue (Redis 7 counts the queue too), checked against client-query-buffer-limit.
   */
  get heldInputBytes(): number {
    return this.decoder.heldBytes + this.multiBytes;
  }

  /** Bytes of the queued MULTI commands' arguments; each queued command is counted once. */
  get multiBytes(): number {
    const queue = this.multi;
    if (queue === null) return 0;
    if (queue !== this.multiCounted || queue.length < this.multiCountedLen) {
      this.multiCounted = queue;
      this.multiCountedLen = 0;
      this.multiCountedBytes = 0;
    }
    let bytes = this.multiCountedBytes;
    for (let i = this.multiCountedLen; i < queue.length; i++) {
      const args = queue[i]!;
      for (let j = 0; j < args.length; j++) bytes += args[j]!.length;
    }
    this.multiCountedLen = queue.length;
    this.multiCountedBytes = bytes;
    return bytes;
  }

  private onData(chunk: Buffer): void {
    // Like Redis, nothing more is read from a client that is being closed.
    if (this.closing || this.closed) return;
    try {
      // One clock reading per read: it stamps the interaction and times the batch below.
      this.server.updateClock();
      this.lastInteraction = this.server.now;
      this.server.stats.addNetInput(chunk.length);
      this.decoder.push(chunk);
      if (this.heldInputBytes > this.server.config.getInt('client-query-buffer-limit')) {
        this.server.log('warning', `Closing client that reached max query buffer length: ${this.describeInput()}`);
        this.close();
        return;
      }
      this.processInput(true);
    } catch (err) {
      this.fail(err);
    }
  }

  private describeInput(): string {
    return `id=${this.id} addr=${this.addr} qbuf=${this.decoder.pendingBytes} argv-mem=${this.decoder.parsedArgBytes} multi-mem=${this.multiBytes}`;
  }

  /**
   * Runs every complete command buffered, unless blocked or paused; then flushes. `clockFresh`:
   * the caller has just updated the server's clock.
   */
  processInput(clockFresh = false): void {
    try {
      this.runCommands(clockFresh);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.flush();
  }

  private runCommands(clockFresh: boolean): void {
    // One clock reading per batch of pipelined commands (Redis caches the time per command;
    // a batch runs within microseconds).
    if (!clockFresh) this.server.updateClock();
    const dispatcher = this.server.dispatcher;
    dispatcher.restartTiming();
    try {
      this.runBatch(dispatcher);
    } finally {
      // Whatever runs next (another client, a timer, the master link) times itself afresh.
      dispatcher.restartTiming();
    }
  }

  private runBatch(dispatcher: NodeServer['dispatcher']): void {
    while (!this.blocked && !this.closing && !this.paused && !this.closed) {
      let args: string[] | null;
      try {
        args = this.decoder.next();
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        this.w.error(`ERR ${err.message}`);
        if (!err.fatal) {
          // The request was skipped whole, so the stream is still in sync; like any refused
          // command it dooms an open transaction.
          if (this.multi !== null) this.multiError = true;
          continue;
        }
        this.closing = true;
        break;
      }
      if (args === null) break;
      if (isHttpCommand(args[0]!)) {
        this.server.log('warning', SECURITY_ATTACK_TEXT);
        this.close();
        return;
      }
      // Copying big arguments into strings is decoding, not the command's run time.
      if (this.decoder.lastCommandBytes >= TIMED_DECODE_BYTES) dispatcher.restartTiming();
      dispatcher.execute(this, args);
    }
  }

  /** Runs one command held for this client (CLIENT PAUSE); an exception closes this client only. */
  runHeld(args: string[]): void {
    try {
      this.server.updateClock();
      this.server.dispatcher.execute(this, args);
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * Something threw while serving this client (a bug, or a reply too large to build): it costs
   * this connection only, never the process and every other client.
   */
  private fail(err: unknown): void {
    this.server.log('warning', `Closing client id=${this.id} addr=${this.addr} after an internal error: ${(err as Error)?.stack ?? String(err)}`);
    this.close();
  }

  /** Writes out buffered replies in one write; closes the connection if it is closing. */
  flush(): void {
    if (this.closed) return;
    try {
      if (this.w.length > 0) this.writeReplies();
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.closed) return;
    if (this.closing) {
      this.closed = true;
      endAndClose(this.socket);
      this.cleanup();
    }
  }

  private writeReplies(): void {
    // Writes these replies acknowledge reach the AOF first (appendfsync always: the disk).
    this.server.beforeReplies();
    if (this.w.length > this.replyPeak) this.replyPeak = this.w.length;
    const socket = this.socket;
    // Nothing queued on the socket: the kernel usually takes the whole batch during write(), so
    // the writer's buffer is handed over as is and reused. Behind a queued write it is copied.
    const direct = socket.writableLength === 0;
    const out = direct ? this.w.takeView() : this.w.take();
    this.server.stats.addNetOutput(out.length);
    this.pendingWrites++;
    const ok = socket.write(out, this.onWritten);
    if (direct) this.w.released(socket.writableLength !== 0);
    if (!ok && socket.writableLength > OUTPUT_HIGH_WATER) socket.pause();
    if (this.server.outputLimitExceeded(this)) this.close();
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
    this.server.tracking.disable(this);
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
