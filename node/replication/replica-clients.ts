// Master side of replication: the replicas attached to this node (REPLCONF, PSYNC/SYNC with a full
// or partial resync, ACKs, timeouts), the fan-out of the stream to them, and WAIT's waiters.
// Never applies a stream itself (master-link.ts does that on a replica).
import type { NodeServer } from '../server.js';
import type { Session } from '../session.js';
import { DisklessSyncs, type PendingSync } from './diskless-sync.js';
import { libraryCodes } from '../scripting/functions.js';
import { buildSyncRdb } from './rdb-sync.js';
import type { Replication } from './replication.js';

export interface ReplicaClient {
  session: Session;
  ip: string;
  /** The port the replica listens on (REPLCONF listening-port), for INFO and ROLE. */
  port: number;
  state: 'send_bulk' | 'online';
  ackOffset: number;
  /** ms since the epoch of the last REPLCONF ACK (or of the attach). */
  ackTime: number;
  /**
   * Stream held back after a diskless transfer until the replica's first ACK: the EOF mark must be
   * the last bytes it reads (Redis's repl_start_cmd_stream_on_ack). null = streaming.
   */
  held: Buffer[] | null;
}

interface HandshakeInfo {
  port: number;
  ip: string;
  capaEof: boolean;
  capaPsync2: boolean;
}

interface WaitRequest {
  session: Session;
  offset: number;
  want: number;
  /** Drops it from the waiters if its client disconnects first (detached once it is answered). */
  onClose: () => void;
}

export class ReplicaClients {
  private readonly attached = new Map<Session, ReplicaClient>();
  private readonly handshakes = new WeakMap<Session, HandshakeInfo>();
  private waiters: WaitRequest[] = [];
  private getAckQueued = false;
  private readonly diskless: DisklessSyncs;

  constructor(
    private readonly repl: Replication,
    private readonly server: NodeServer,
  ) {
    this.diskless = new DisklessSyncs(server, {
      begin: (targets) => this.beginDiskless(targets),
      end: (target, ok) => this.endDiskless(target, ok),
    });
  }

  get count(): number {
    return this.attached.size;
  }

  list(): ReplicaClient[] {
    return [...this.attached.values()];
  }

  isReplica(s: Session): boolean {
    return this.attached.has(s);
  }

  private handshakeOf(s: Session): HandshakeInfo {
    let h = this.handshakes.get(s);
    if (!h) this.handshakes.set(s, (h = { port: s.socket.remotePort ?? 0, ip: '', capaEof: false, capaPsync2: false }));
    return h;
  }

  /** REPLCONF <option> <value> …: replies +OK, nothing for ACK/GETACK, or an error. */
  replconf(s: Session, args: string[]): void {
    if (args.length % 2 === 0) return s.w.error('ERR syntax error');
    for (let i = 1; i < args.length; i += 2) {
      const opt = args[i]!.toLowerCase();
      const val = args[i + 1]!;
      if (opt === 'listening-port') {
        const port = Number(val);
        if (!/^-?\d+$/.test(val) || !Number.isSafeInteger(port)) return s.w.error('ERR value is not an integer or out of range');
        this.handshakeOf(s).port = port;
      } else if (opt === 'ip-address') {
        this.handshakeOf(s).ip = val;
      } else if (opt === 'capa') {
        if (val.toLowerCase() === 'eof') this.handshakeOf(s).capaEof = true;
        else if (val.toLowerCase() === 'psync2') this.handshakeOf(s).capaPsync2 = true;
      } else if (opt === 'ack') {
        // Replicas send ACKs from the stream side; they never get a reply.
        const r = this.attached.get(s);
        const offset = Number(val);
        if (r && Number.isSafeInteger(offset)) {
          if (r.held && r.state === 'online') {
            for (const buf of r.held) s.socket.write(buf);
            r.held = null;
          }
          if (offset > r.ackOffset) r.ackOffset = offset;
          r.ackTime = Date.now();
          this.checkWaiters();
        }
        return;
      } else if (opt === 'getack') {
        if (this.repl.isMasterClient(s)) this.repl.link?.sendAck();
        return;
      } else if (opt === 'rdb-only' || opt === 'rdb-filter-only') {
        // Accepted for compatibility: this node always sends the whole dataset.
      } else {
        return s.w.error(`ERR Unrecognized REPLCONF option: ${args[i]}`);
      }
    }
    s.w.ok();
  }

  /** PSYNC replid offset (psync = true) or the old SYNC. */
  sync(s: Session, args: string[], psync: boolean): void {
    if (this.attached.has(s)) return; // a replica repeating itself: ignore, like Redis
    const repl = this.repl;
    if (repl.masterHost !== null && repl.link?.state !== 'connected') {
      return s.w.error("NOMASTERLINK Can't SYNC while not connected with my master");
    }
    const h = this.handshakeOf(s);
    const name = `${clientIp(s)}:${h.port}`;
    this.server.log('notice', `Replica ${name} asks for synchronization`);
    repl.flushStream();
    if (psync) {
      const replId = args[1]!;
      const offset = Number(args[2]);
      if (!/^-?\d+$/.test(args[2]!) || !Number.isSafeInteger(offset)) return s.w.error('ERR value is not an integer or out of range');
      if (this.tryPartial(s, h, name, replId, offset)) return;
      if (replId !== '?') repl.syncPartialErr++;
      else this.server.log('notice', `Full resync requested by replica ${name}`);
    }
    this.fullSync(s, h, name, psync);
  }

  /** masterTryPartialResynchronization: +CONTINUE and the backlog from `offset`, or false. */
  private tryPartial(s: Session, h: HandshakeInfo, name: string, replId: string, offset: number): boolean {
    const repl = this.repl;
    if (replId !== repl.replId && (replId !== repl.replId2 || offset > repl.secondReplOffset)) {
      if (replId !== '?') {
        if (replId !== repl.replId && replId !== repl.replId2) {
          this.server.log('notice', `Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '${replId}', my replication IDs are '${repl.replId}' and '${repl.replId2}')`);
        } else {
          this.server.log('notice', `Partial resynchronization not accepted: Requested offset for second ID was ${offset}, but I can reply up to ${repl.secondReplOffset}`);
        }
      }
      return false;
    }
    if (!repl.backlog || !repl.backlog.covers(offset)) {
      this.server.log('notice', `Unable to partial resync with replica ${name} for lack of backlog (Replica request was: ${offset}).`);
      return false;
    }
    const tail = repl.backlog.copyFrom(offset);
    s.w.simple(h.capaPsync2 ? `CONTINUE ${repl.replId}` : 'CONTINUE');
    s.flush();
    this.attach(s, h, 'online');
    if (tail.length > 0) s.socket.write(tail);
    repl.syncPartialOk++;
    this.server.log('notice', `Partial resynchronization request from ${name} accepted. Sending ${tail.length} bytes of backlog starting from offset ${offset}.`);
    return true;
  }

  /**
   * +FULLRESYNC and the dataset as an RDB image. Diskless replicas (capa eof) queue for a shared
   * background snapshot (diskless-sync.ts); the others get an image built now, sent as $<len>.
   */
  private fullSync(s: Session, h: HandshakeInfo, name: string, psync: boolean): void {
    const repl = this.repl;
    const server = this.server;
    repl.syncFull++;
    if (psync && h.capaEof && server.config.getBool('repl-diskless-sync')) {
      return this.diskless.enqueue({ session: s, name, since: Date.now() });
    }
    repl.startHistoryIfNeeded();
    if (psync) s.w.simple(`FULLRESYNC ${repl.replId} ${repl.masterReplOffset}`);
    s.flush();
    server.log('notice', 'Starting BGSAVE for SYNC with target: disk');
    const pos = { replId: repl.replId, offset: repl.masterReplOffset, streamDb: repl.streamDb() };
    const rdb = buildSyncRdb(server.dbs, pos, server.config.getBool('rdbcompression'), server.snapshots.extraAux(), libraryCodes(server));
    s.socket.write(`$${rdb.length}\r\n`, 'latin1');
    s.socket.write(rdb);
    this.attach(s, h, 'online');
    this.afterImage();
    server.log('notice', `Synchronization with replica ${name} succeeded`);
  }

  /** A diskless transfer starts: every target gets +FULLRESYNC at this offset, then its stream is held. */
  private beginDiskless(targets: readonly PendingSync[]): void {
    const repl = this.repl;
    repl.flushStream();
    repl.startHistoryIfNeeded();
    for (const t of targets) {
      t.session.w.simple(`FULLRESYNC ${repl.replId} ${repl.masterReplOffset}`);
      t.session.flush();
      this.attach(t.session, this.handshakeOf(t.session), 'transfer');
    }
    this.afterImage();
  }

  private endDiskless(t: PendingSync, ok: boolean): void {
    const r = this.attached.get(t.session);
    if (!ok || !r) {
      this.server.log('warning', `Diskless transfer to replica ${t.name} failed`);
      this.detach(t.session);
      t.session.close();
      return;
    }
    // Online, but its stream stays held until its first ACK (sent once it loaded the image).
    r.state = 'online';
    r.ackTime = Date.now();
    this.server.log('notice', `Synchronization with replica ${t.name} succeeded`);
  }

  /**
   * On a master the next write re-SELECTs so a replica that just got an image knows the db; a
   * replica's stream is proxied as received and the image carries the db (repl-stream-db) instead.
   */
  private afterImage(): void {
    if (this.repl.masterHost === null) this.repl.selectedDb = -1;
  }

  /**
   * Adds a replica. 'transfer': its image is being streamed, and the stream is held until its
   * first ACK so the EOF mark is the last thing it reads before loading.
   */
  private attach(s: Session, h: HandshakeInfo, mode: 'online' | 'transfer'): void {
    const r: ReplicaClient = {
      session: s,
      ip: h.ip || clientIp(s),
      port: h.port,
      state: mode === 'transfer' ? 'send_bulk' : 'online',
      ackOffset: 0,
      ackTime: Date.now(),
      held: mode === 'online' ? null : [],
    };
    this.attached.set(s, r);
    s.socket.once('close', () => this.detach(s));
    this.repl.refreshGoodReplicas();
  }

  private detach(s: Session): void {
    const r = this.attached.get(s);
    if (!r) return;
    this.attached.delete(s);
    this.server.log('notice', `Connection with replica ${r.ip}:${r.port} lost.`);
    if (this.attached.size === 0) this.repl.noReplicasSince = Date.now();
    this.repl.refreshGoodReplicas();
  }

  /** Sends stream bytes to every attached replica. */
  broadcast(buf: Buffer): void {
    for (const [s, r] of this.attached) {
      if (r.held) r.held.push(buf);
      else if (!s.closed) s.socket.write(buf);
    }
  }

  /** Closes every replica connection (their replid changed: they must reconnect and PSYNC). */
  disconnectAll(): void {
    this.diskless.dropAll();
    for (const s of [...this.attached.keys()]) {
      this.detach(s);
      s.close();
    }
  }

  /** Replicas whose last ACK is at most `maxLagSec` old. */
  goodCount(maxLagSec: number): number {
    const now = Date.now();
    let n = 0;
    for (const r of this.attached.values()) if (r.state === 'online' && Math.floor((now - r.ackTime) / 1000) <= maxLagSec) n++;
    return n;
  }

  /** Replicas that acknowledged at least `offset`. */
  ackedAtLeast(offset: number): number {
    let n = 0;
    for (const r of this.attached.values()) if (r.ackOffset >= offset) n++;
    return n;
  }

  cron(now: number): void {
    this.diskless.tick(now);
    const timeoutMs = this.server.config.getInt('repl-timeout') * 1000;
    for (const r of [...this.attached.values()]) {
      // A replica receiving (or loading) its image sends no ACKs yet.
      if (now - r.ackTime > timeoutMs && r.state === 'online' && r.held === null) {
        this.server.log('warning', `Disconnecting timedout replica (streaming sync): ${r.ip}:${r.port}`);
        this.detach(r.session);
        r.session.close();
      }
    }
  }

  /** WAIT numreplicas timeout: replies now when enough replicas acked, else blocks. */
  wait(s: Session, want: number, timeoutMs: number): void {
    // What this client wrote must have reached the replicas (Redis's c->woff).
    this.waitForOffset(s, s.woff, want, timeoutMs);
  }

  /**
   * Replies with how many replicas acknowledged `offset` once `want` did, or when `timeoutMs`
   * passes (0 = never): WAIT for this client's own offset, TESSERA.WAITOFFSET for one a proxy
   * read earlier with TESSERA.REPLOFFSET on the link its client's writes went over.
   */
  waitForOffset(s: Session, offset: number, want: number, timeoutMs: number): void {
    this.repl.flushStream();
    const acked = this.ackedAtLeast(offset);
    if (acked >= want || s.multi !== null) return s.w.integer(acked);
    const request: WaitRequest = { session: s, offset, want, onClose: () => (this.waiters = this.waiters.filter((w) => w !== request)) };
    this.waiters.push(request);
    this.server.blocking.block(s, {
      dbIndex: s.db.id,
      keys: [],
      deadline: timeoutMs === 0 ? 0 : Date.now() + timeoutMs,
      tryServe: () => false,
      onTimeout: () => {
        this.waiters = this.waiters.filter((w) => w !== request);
        s.socket.off('close', request.onClose);
        s.w.integer(this.ackedAtLeast(offset));
      },
    });
    // One listener per wait in progress, never more: a link that waits after every batch (the
    // mover's) would otherwise pile them up for as long as it stays connected.
    s.socket.once('close', request.onClose);
    this.requestAcks();
  }

  /** Asks every replica for an ACK, once per event-loop turn however many WAITs ask. */
  private requestAcks(): void {
    if (this.getAckQueued) return;
    this.getAckQueued = true;
    setImmediate(() => {
      this.getAckQueued = false;
      if (this.repl.masterHost === null && this.attached.size > 0) this.repl.appendCommand(['REPLCONF', 'GETACK', '*']);
    });
  }

  /** Serves WAITs that now have enough ACKs. */
  private checkWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: WaitRequest[] = [];
    for (const w of this.waiters) {
      const acked = this.ackedAtLeast(w.offset);
      if (acked < w.want || w.session.blocked === null) {
        if (w.session.blocked !== null) still.push(w);
        else w.session.socket.off('close', w.onClose);
        continue;
      }
      w.session.socket.off('close', w.onClose);
      this.server.blocking.unblock(w.session);
      w.session.w.integer(acked);
      w.session.flush();
      setImmediate(() => w.session.processInput());
    }
    this.waiters = still;
  }

  /** This node became a replica: pending WAITs answer with what they have. */
  failWaiters(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      w.session.socket.off('close', w.onClose);
      if (w.session.blocked === null) continue;
      this.server.blocking.unblock(w.session);
      w.session.w.integer(this.ackedAtLeast(w.offset));
      w.session.flush();
    }
  }
}

function clientIp(s: Session): string {
  const ip = s.socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
