// The Tessera node: owns the databases, the listening sockets and sessions, and the subsystems
// (pub/sub, blocking, WATCH, pause, eviction, replication, stats); runs the periodic jobs.
import { constants } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { acceptWithCopiedReads } from '../common/net/copied-reads.js';
import { Dispatcher } from './dispatcher.js';
import { Db, type Entry, KeyspaceClock, type KeyspaceEnv } from './keyspace/db.js';
import { BlockingManager } from './blocking.js';
import { NodeConfig, parseMemory } from './config.js';
import { Eviction, lruClock } from './eviction.js';
import { NodeLog, type LogLevel } from './log.js';
import { PauseManager } from './pause.js';
import { PubSub } from './pubsub.js';
import { Tracking } from './tracking.js';
import { NOTIFY_EXPIRED, notifyKeyspaceEvent, parseKeyspaceEvents } from './notify.js';
import { Replication } from './replication/replication.js';
import { endAndClose, Session } from './session.js';
import { LatencyMonitor, SlowLog, Stats } from './stats.js';
import { WatchManager } from './watch.js';
import { encodingLimits } from './keyspace/types/encoding-limits.js';
import { SnapshotManager } from './persistence/snapshot.js';
import { ClientEviction } from './client-eviction.js';
import { PROTECTED_MODE_TEXT, protectedModeRefuses } from '../common/protected-mode.js';

export { TESSERA_VERSION, VERSION } from './version.js';

const ACTIVE_EXPIRE_BUDGET_MS = 5;
// File descriptors kept for the process itself (Redis's CONFIG_MIN_RESERVED_FDS): logs, the AOF
// and RDB files, replication links, and Node's own (event loop, pipes, stdio: about 20).
const RESERVED_FDS = 32;

export class NodeServer {
  readonly config: NodeConfig;
  readonly dbs: Db[] = [];
  readonly sessions = new Set<Session>();
  readonly monitors = new Set<Session>();
  /** Per-batch time and counters the keyspace reads on every lookup. */
  readonly clock = new KeyspaceClock();
  readonly stats = new Stats(this.clock);
  readonly slowlog: SlowLog;
  readonly latency: LatencyMonitor;
  readonly watch = new WatchManager();
  readonly pubsub = new PubSub();
  readonly tracking: Tracking;
  readonly blocking: BlockingManager;
  readonly pause: PauseManager;
  readonly eviction: Eviction;
  readonly replication: Replication;
  readonly dispatcher: Dispatcher;
  readonly snapshots: SnapshotManager;
  /** maxmemory-clients: closes the biggest clients when all together hold too much. */
  readonly clientEviction: ClientEviction;
  readonly logger: NodeLog;
  readonly runId = randomHex(40);
  nextClientId = 1;
  /** notify-keyspace-events as flags (node/notify.ts): handlers test it before building an event. */
  notifyFlags = 0;
  /** Changes since the last save (Redis's server.dirty). */
  dirty = 0;
  lastSave = Math.floor(Date.now() / 1000);
  /** Cached time for the running command (ms since the epoch). */
  now = Date.now();
  private listeners: NetServer[] = [];
  private timers: NodeJS.Timeout[] = [];
  private activeExpire = true;
  private shuttingDown = false;

  constructor(config: NodeConfig) {
    this.config = config;
    this.logger = new NodeLog(() => config.get('loglevel'), () => config.get('logfile'));
    const env: KeyspaceEnv = {
      clock: this.clock,
      accessClock: (e: Entry | null) => this.eviction.accessClock(e),
      isReplica: () => this.replication.role === 'slave',
      onExpired: (db, key) => this.keyExpired(db, key),
      beforeRemove: (db, key) => this.snapshots.beforeWrite(db, key),
    };
    const n = config.getInt('databases');
    for (let i = 0; i < n; i++) this.dbs.push(new Db(i, env));
    this.slowlog = new SlowLog(() => config.getInt('slowlog-log-slower-than'), () => config.getInt('slowlog-max-len'));
    this.latency = new LatencyMonitor(() => config.getInt('latency-monitor-threshold'));
    this.blocking = new BlockingManager((i) => this.dbs[i]!);
    this.tracking = new Tracking(
      (id) => {
        for (const s of this.sessions) if (s.id === id) return s;
        return undefined;
      },
      () => config.getInt('tracking-table-max-keys'),
    );
    this.snapshots = new SnapshotManager(this, this.runId);
    this.clientEviction = new ClientEviction(this.config, (level, msg) => this.log(level, msg));
    this.blocking.beforeServe = (db, key, s) => this.snapshots.beforeServe(db, key, s);
    this.eviction = new Eviction(this);
    this.replication = new Replication(config, this);
    this.dispatcher = new Dispatcher(this);
    this.pause = new PauseManager((s, args) => s.runHeld(args));
    applyEncodingLimits(config);
    this.notifyFlags = parseKeyspaceEvents(config.get('notify-keyspace-events')) ?? 0;
    config.onChange((name) => {
      if (name === 'notify-keyspace-events') this.notifyFlags = parseKeyspaceEvents(config.get(name)) ?? 0;
      if (name.includes('listpack') || name.includes('intset')) applyEncodingLimits(config);
      // Past maxclients connections are still accepted, to be answered "max number of clients".
      if (name === 'maxclients') for (const l of this.listeners) l.maxConnections = config.getInt('maxclients') + RESERVED_FDS;
    });
  }

  log(level: LogLevel, message: string): void {
    this.logger.write(level, message);
  }

  requiresAuth(): boolean {
    return this.config.get('requirepass') !== '';
  }

  updateClock(): void {
    const now = Date.now();
    this.now = now;
    this.clock.now = now;
    this.clock.lruStamp = lruClock(now);
  }

  /**
   * A write changed `key`: counts it for saves, invalidates WATCHes, and lets blocked clients
   * waiting on the key try again. Handlers call this once per changed key.
   */
  changed(db: Db, key: string, dirty = 1): void {
    this.dirty += dirty;
    this.watch.touch(db.id, key);
    if (this.tracking.active) this.tracking.invalidate(key);
    this.blocking.signal(db, key);
    db.noteChanged(key);
  }

  /**
   * While EXEC runs, the writes it propagates collect here so EXEC can send them as one
   * MULTI … EXEC block (see handlers/transactions.ts); null otherwise.
   */
  transactionStream: Array<[dbIndex: number, argv: readonly string[]]> | null = null;

  /** True while the AOF is replayed at start: those writes are already on disk, nothing to send. */
  suppressPropagation = false;

  private readonly beforeRepliesHooks: Array<() => void> = [];

  /** Registers work that must finish before any reply leaves (the AOF write + fsync). */
  onBeforeReplies(hook: () => void): void {
    this.beforeRepliesHooks.push(hook);
  }

  /** Called by sessions right before they write replies to their socket. */
  beforeReplies(): void {
    const hooks = this.beforeRepliesHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i]!();
  }

  /** Sends a write to the replication stream (replicas, AOF) in the form it was (re)written to. */
  propagate(dbIndex: number, argv: readonly string[]): void {
    if (this.suppressPropagation) return;
    if (this.transactionStream !== null) this.transactionStream.push([dbIndex, argv]);
    else this.replication.feed(dbIndex, argv);
  }

  private keyExpired(db: Db, key: string): void {
    this.stats.expiredKeys++;
    if (this.tracking.active) this.tracking.invalidate(key);
    if ((this.notifyFlags & NOTIFY_EXPIRED) !== 0) notifyKeyspaceEvent(this, NOTIFY_EXPIRED, 'expired', key, db.id);
    this.watch.touch(db.id, key);
    this.blocking.signal(db, key); // a blocked XREADGROUP on an expired stream answers -UNBLOCKED
    // Expiry is decided by the master and sent as DEL so replicas and the AOF agree.
    this.propagate(db.id, ['DEL', key]);
  }

  setActiveExpire(on: boolean): void {
    this.activeExpire = on;
  }

  feedMonitors(s: Session, args: string[]): void {
    const t = this.now / 1000;
    const head = `${Math.floor(t)}.${String(Math.round((t % 1) * 1e6)).padStart(6, '0')} [${s.db.id} ${s.addr}]`;
    let shown = args.map(quoteMonitorArg);
    // Several huge arguments could still make a line longer than a string: cut them all then.
    if (shown.reduce((n, q) => n + q.length + 1, head.length) > MONITOR_MAX_CHARS) shown = args.map(cutMonitorArg);
    const line = `${head} ${shown.join(' ')}`;
    for (const m of this.monitors) {
      m.w.simple(line);
      m.flush();
    }
  }

  /** True when a session's pending output passed its class's hard limit. */
  outputLimitExceeded(s: Session): boolean {
    // Most writes complete at once: nothing is buffered, nothing to check.
    const pending = s.socket.writableLength;
    if (pending === 0) return false;
    const cls = s.subscriptionCount > 0 ? 'pubsub' : 'normal';
    const parts = this.config.get('client-output-buffer-limit').split(/\s+/);
    for (let i = 0; i < parts.length; i += 4) {
      if (parts[i] !== cls) continue;
      const hard = parseMemory(parts[i + 1]!) ?? 0;
      if (hard > 0 && pending > hard) {
        this.log('warning', `Client id=${s.id} addr=${s.addr} scheduled to be closed ASAP for overcoming of output buffer limits.`);
        return true;
      }
    }
    return false;
  }

  forgetSession(s: Session): void {
    if (!this.sessions.delete(s)) return;
    this.blocking.unblock(s);
    this.pause.forget(s);
    s.resetState();
  }

  /**
   * Redis's adjustOpenFilesLimit: when the open-file limit cannot hold maxclients plus the
   * reserved descriptors, lowers maxclients to fit, so clients past it get "max number of clients
   * reached" instead of connections the process cannot accept. Node has already raised its soft
   * limit to the hard one at start, as Redis tries to. Throws when not even one client fits.
   */
  fitMaxclientsToFileLimit(limit: number | null = openFilesLimit()): void {
    if (limit === null) return;
    const maxclients = this.config.getInt('maxclients');
    const needed = maxclients + RESERVED_FDS;
    if (limit >= needed) return;
    this.log('warning', `You requested maxclients of ${maxclients} requiring at least ${needed} max file descriptors.`);
    this.log('warning', `Server can't set maximum open files to ${needed} because of OS error: Operation not permitted.`);
    const reduced = limit - RESERVED_FDS;
    if (reduced < 1) {
      throw new Error(`Your current 'ulimit -n' of ${limit} is not enough for the server to start. Please increase your open file limit to at least ${needed}. Exiting.`);
    }
    this.config.set('maxclients', String(reduced), true);
    this.log('warning', `Current maximum open files is ${limit}. maxclients has been reduced to ${reduced} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.`);
  }

  /** Opens the listening sockets; resolves when all listen. */
  async listen(): Promise<void> {
    this.fitMaxclientsToFileLimit();
    const port = this.config.getInt('port');
    const binds = this.config.get('bind').split(/\s+/).filter(Boolean);
    const hosts = binds.map((b) => (b.startsWith('-') ? b.slice(1) : b)).map((b) => (b === '*' ? '0.0.0.0' : b === '::*' ? '::' : b));
    for (const host of hosts) {
      const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
      server.maxConnections = this.config.getInt('maxclients') + RESERVED_FDS;
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => {
          // "-::*" style binds are optional: skip an address family the host lacks.
          if (binds.some((b) => b.startsWith('-')) && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT')) resolve();
          else reject(err);
        });
        server.listen({ port, host, backlog: this.config.getInt('tcp-backlog'), ipv6Only: host.includes(':') }, () => {
          this.listeners.push(server);
          acceptWithCopiedReads(server);
          // An accept that fails (EMFILE …) is logged, as Redis does, never fatal.
          server.on('error', (err) => this.log('warning', `Accepting client connection: ${err.message}`));
          resolve();
        });
      });
    }
    this.startTimers();
    this.replication.start();
    this.log('notice', `Ready to accept connections tcp`);
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    // Refused connections are answered and closed at once, so they never hold a descriptor.
    if (this.sessions.size >= this.config.getInt('maxclients')) {
      this.stats.rejectedConnections++;
      endAndClose(socket, '-ERR max number of clients reached\r\n');
      return;
    }
    if (this.protectedModeRefuses(socket)) {
      this.stats.rejectedConnections++;
      endAndClose(socket, `-DENIED ${PROTECTED_MODE_TEXT}\r\n`);
      return;
    }
    const keepalive = this.config.getInt('tcp-keepalive');
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    this.stats.totalConnections++;
    const s = new Session(this, socket);
    this.sessions.add(s);
  }

  /** Redis 7: without a password only loopback clients are served, whatever `bind` says. */
  private protectedModeRefuses(socket: Socket): boolean {
    return protectedModeRefuses(this.config.getBool('protected-mode'), this.requiresAuth(), socket.remoteAddress);
  }

  private startTimers(): void {
    const hz = () => this.config.getInt('hz');
    // Active expiry runs at least 20 times a second so keys go within ~50 ms of their deadline.
    const expireEvery = Math.min(50, 1000 / hz());
    const expire = setInterval(() => this.runActiveExpire(), expireEvery);
    const cron = setInterval(() => this.cron(), 100);
    expire.unref();
    cron.unref();
    this.timers.push(expire, cron);
  }

  private runActiveExpire(): void {
    if (!this.activeExpire || this.pause.paused) return;
    this.updateClock();
    let more = false;
    for (const db of this.dbs) if (db.volatileCount > 0 && db.expireCycle(ACTIVE_EXPIRE_BUDGET_MS)) more = true;
    this.blocking.serveReadyKeys();
    if (more) setImmediate(() => this.runActiveExpire());
  }

  /** Once every 100 ms: idle client timeouts and the other periodic duties. */
  private cron(): void {
    this.snapshots.cron();
    this.clientEviction.check(this.sessions);
    const timeout = this.config.getInt('timeout');
    if (timeout > 0) {
      const limit = Date.now() - timeout * 1000;
      for (const s of this.sessions) {
        // Like Redis: blocked clients, subscribers and replicas are not idle-closed.
        if (s.lastInteraction < limit && !s.blocked && s.subscriptionCount === 0 && !s.monitor) {
          this.log('verbose', `Closing idle client id=${s.id}`);
          s.close();
        }
      }
    }
  }

  /** Stops listening, closes clients and timers. */
  async close(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const t of this.timers) clearInterval(t);
    this.replication.stop();
    for (const s of [...this.sessions]) s.close();
    await Promise.all(this.listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
  }

  /**
   * SHUTDOWN: saves when asked to or when save rules exist (unless NOSAVE), closes everything and
   * exits. Returns false, without exiting, when that final save fails (as Redis refuses to exit).
   */
  async shutdown(opts: { save?: boolean | null } = {}): Promise<boolean> {
    this.log('warning', 'User requested shutdown...');
    if (!this.snapshots.saveOnShutdown(opts.save ?? null)) return false;
    await this.close();
    this.log('warning', 'Redis is now ready to exit, bye bye...');
    process.exit(0);
  }
}


/** Copies the *-max-listpack-* / intset thresholds from the config into the live limits. */
function applyEncodingLimits(config: NodeConfig): void {
  encodingLimits.hashMaxListpackEntries = config.getInt('hash-max-listpack-entries');
  encodingLimits.hashMaxListpackValue = config.getInt('hash-max-listpack-value');
  encodingLimits.setMaxIntsetEntries = config.getInt('set-max-intset-entries');
  encodingLimits.zsetMaxListpackEntries = config.getInt('zset-max-listpack-entries');
  encodingLimits.zsetMaxListpackValue = config.getInt('zset-max-listpack-value');
  encodingLimits.listMaxListpackSize = config.getInt('list-max-listpack-size');
}

/** The soft open-file limit (RLIMIT_NOFILE) from /proc, or null when unknown or unlimited. */
function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function randomHex(n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

// Bytes sdscatrepr writes as themselves (printable ASCII but the backslash and the double quote).
const MONITOR_PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
// A MONITOR line longer than this cannot be built as a string; such an argument is shown cut.
const MONITOR_MAX_CHARS = constants.MAX_STRING_LENGTH >> 1;

/**
 * MONITOR quotes arguments like Redis's sdscatrepr, in time linear in the argument: plain text is
 * wrapped at once, anything else is escaped into a Buffer (a string grown char by char costs a
 * rope node per char: 135 MB of NULs took 30 s and 3.6 GB). An argument whose escaped form could
 * not be a string is shown as its first bytes and the count of the rest.
 */
export function quoteMonitorArg(a: string): string {
  if (MONITOR_PLAIN.test(a)) return a.length + 2 <= MONITOR_MAX_CHARS ? `"${a}"` : cutMonitorArg(a);
  if (a.length * 4 + 2 > MONITOR_MAX_CHARS) return cutMonitorArg(a);
  const out = Buffer.allocUnsafe(a.length * 4 + 2);
  let p = 0;
  out[p++] = 0x22;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    const esc = c === 0x5c || c === 0x22 ? c : c === 10 ? 0x6e : c === 13 ? 0x72 : c === 9 ? 0x74 : c === 7 ? 0x61 : c === 8 ? 0x62 : 0;
    if (esc !== 0) {
      out[p++] = 0x5c;
      out[p++] = esc;
    } else if (c < 32 || c > 126) {
      out[p++] = 0x5c;
      out[p++] = 0x78;
      out[p++] = HEX_DIGITS.charCodeAt(c >> 4);
      out[p++] = HEX_DIGITS.charCodeAt(c & 15);
    } else {
      out[p++] = c;
    }
  }
  out[p++] = 0x22;
  return out.latin1Slice(0, p);
}

const HEX_DIGITS = '0123456789abcdef';
const MONITOR_CUT_CHARS = 1024;

function cutMonitorArg(a: string): string {
  if (a.length <= MONITOR_CUT_CHARS) return quoteMonitorArg(a);
  return `${quoteMonitorArg(a.slice(0, MONITOR_CUT_CHARS))}... (${a.length - MONITOR_CUT_CHARS} more bytes)`;
}
