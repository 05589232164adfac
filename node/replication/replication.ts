// The node's replication role and stream (Redis's PSYNC protocol): replication ids and offsets,
// the backlog, the write stream fed to replicas/AOF, REPLICAOF transitions, the refusals
// (READONLY, NOREPLICAS, MASTERDOWN) and the once-a-second replication cron.
// Master-side replica handling is in replica-clients.ts; the link to our master in master-link.ts.
import type { CommandSpec } from '../../common/commands/spec.js';
import type { NodeConfig } from '../config.js';
import type { NodeServer } from '../server.js';
import type { Session } from '../session.js';
import { Backlog } from './backlog.js';
import { MasterLink } from './master-link.js';
import { ReplicaClients } from './replica-clients.js';

export type StreamListener = (dbIndex: number, argv: readonly string[]) => void;

export const NULL_REPL_ID = '0'.repeat(40);
const READONLY_ERR = "READONLY You can't write against a read only replica.";
const NOREPLICAS_ERR = 'NOREPLICAS Not enough good replicas to write.';
const MASTERDOWN_ERR = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";

export class Replication {
  role: 'master' | 'slave' = 'master';
  /** Current replication id and the previous one (valid up to secondReplOffset - 1) after a promotion. */
  replId = randomReplId();
  replId2 = NULL_REPL_ID;
  secondReplOffset = -1;
  /** Bytes of replication stream produced (master) or applied (replica): master_repl_offset. */
  masterReplOffset = 0;
  backlog: Backlog | null = null;
  masterHost: string | null = null;
  masterPort = 0;
  link: MasterLink | null = null;
  /**
   * True when our replId/offset describe a history a master may continue (we were a master, or
   * were synced before); false right after start: the first PSYNC then asks "? -1".
   */
  hasHistory = false;
  readonly replicas: ReplicaClients;
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;
  goodReplicas = 0;
  noReplicasSince = Date.now();
  /** Db the stream last SELECTed; -1 forces a SELECT before the next write (after a full sync). */
  selectedDb = -1;
  /**
   * Called after a full resync replaced the whole dataset (the AOF must rewrite its base then,
   * as Redis restarts AOF after a full sync).
   */
  readonly onDatasetReplaced: Array<() => void> = [];
  /** Consumers of the deterministic write stream (AOF). */
  private readonly listeners: StreamListener[] = [];
  private pending = '';
  private flushQueued = false;
  private cronTimer: NodeJS.Timeout | null = null;
  private lastPing = 0;

  constructor(
    private readonly config: NodeConfig,
    readonly server: NodeServer,
  ) {
    this.replicas = new ReplicaClients(this, server);
    // Snapshots record where in the stream their data stands, for a partial resync after a restart.
    server.snapshots.replicationPosition = () => ({ replId: this.replId, offset: this.masterReplOffset, streamDb: this.streamDb() });
    config.onChange((name) => {
      if (name === 'repl-backlog-size' && this.backlog) this.backlog.resize(config.getInt('repl-backlog-size'));
    });
  }

  get connectedReplicas(): number {
    return this.replicas.count;
  }

  /** The db the stream is in at this point (what a snapshot's repl-stream-db records). */
  streamDb(): number {
    if (this.masterHost !== null) return this.link?.masterSession?.db.id ?? this.cachedStreamDb;
    return this.selectedDb === -1 ? 0 : this.selectedDb;
  }

  /** Db of the stream when the master client is (re)created for a +CONTINUE (from an RDB at start, or our last stream). */
  cachedStreamDb = 0;

  /**
   * The RDB loaded at start carried a replication position (repl-id, repl-offset aux fields):
   * a replica resumes that history with PSYNC; a master keeps it as replid2 so its old replicas
   * can continue (Redis 7.0's loadDataFromDisk).
   */
  restoreFromRdb(aux: ReadonlyMap<string, string> | undefined): void {
    const id = aux?.get('repl-id');
    const offset = Number(aux?.get('repl-offset'));
    if (id === undefined || id.length !== 40 || !Number.isSafeInteger(offset) || offset < 0) return;
    const streamDb = Number(aux!.get('repl-stream-db') ?? 0);
    if (this.config.get('replicaof').trim() !== '') {
      this.replId = id;
      this.masterReplOffset = offset;
      this.cachedStreamDb = Number.isSafeInteger(streamDb) && streamDb >= 0 ? streamDb : 0;
      this.hasHistory = true;
    } else {
      this.replId2 = id;
      this.secondReplOffset = offset + 1;
      this.masterReplOffset = offset;
      this.ensureBacklog();
      this.hasHistory = true;
    }
  }

  /** Starts the cron and, with `replicaof` in the config, the link to the master. */
  start(): void {
    if (this.cronTimer) return;
    this.cronTimer = setInterval(() => this.cron(), 1000);
    this.cronTimer.unref();
    const target = this.config.get('replicaof').trim().split(/\s+/);
    if (target.length === 2 && target[0] !== '') this.setMaster(target[0]!, Number(target[1]), 'config');
  }

  stop(): void {
    if (this.cronTimer) clearInterval(this.cronTimer);
    this.cronTimer = null;
    this.link?.close();
    this.link = null;
  }

  onStream(listener: StreamListener): void {
    this.listeners.push(listener);
  }

  /** A write to propagate: AOF listeners always; the stream to replicas only on a master. */
  feed(dbIndex: number, argv: readonly string[]): void {
    for (const l of this.listeners) l(dbIndex, argv);
    // A replica's replicas get the exact stream it receives (appendRaw), never its own rewrites.
    if (this.role === 'slave') return;
    if (this.backlog === null && this.replicas.count === 0) return;
    if (this.selectedDb !== dbIndex) {
      this.appendCommand(['SELECT', String(dbIndex)]);
      this.selectedDb = dbIndex;
    }
    this.appendCommand(argv);
  }

  /** Appends one command to the stream (no SELECT logic: PING and REPLCONF GETACK use it directly). */
  appendCommand(argv: readonly string[]): void {
    let text = `*${argv.length}\r\n`;
    for (const a of argv) text += `$${a.length}\r\n${a}\r\n`;
    this.pending += text;
    this.masterReplOffset += text.length;
    if (!this.flushQueued) {
      this.flushQueued = true;
      // One backlog append and one socket write per replica for a whole batch of pipelined writes.
      queueMicrotask(() => this.flushStream());
    }
  }

  /** Moves the buffered stream into the backlog and to every online replica. */
  flushStream(): void {
    this.flushQueued = false;
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending, 'latin1');
    this.pending = '';
    this.backlog?.append(buf);
    this.replicas.broadcast(buf);
  }

  /** Bytes received from our master and applied: forwarded verbatim to the backlog and our replicas. */
  appendRaw(buf: Buffer): void {
    this.flushStream();
    this.masterReplOffset += buf.length;
    this.backlog?.append(buf);
    this.replicas.broadcast(buf);
  }

  /** Creates the backlog if missing, starting after the current offset. */
  ensureBacklog(): Backlog {
    this.backlog ??= new Backlog(this.config.getInt('repl-backlog-size'), this.masterReplOffset + 1);
    return this.backlog;
  }

  /**
   * Before serving the first replica of a master without a backlog: no past history can be
   * continued, so start a fresh id (Redis's syncCommand does the same).
   */
  startHistoryIfNeeded(): void {
    if (this.backlog || this.masterHost !== null) return;
    this.changeReplId();
    this.ensureBacklog();
  }

  /** Replaces the backlog with an empty one starting after `offset` (after a full sync). */
  resetBacklog(offset: number): void {
    this.backlog = new Backlog(this.config.getInt('repl-backlog-size'), offset + 1);
  }

  clearReplId2(): void {
    this.replId2 = NULL_REPL_ID;
    this.secondReplOffset = -1;
  }

  /** Starts a new history (promotion): the old id stays valid as replid2 up to the current offset. */
  shiftReplId(): void {
    this.replId2 = this.replId;
    this.secondReplOffset = this.masterReplOffset + 1;
    this.replId = randomReplId();
    this.server.log('notice', `Setting secondary replication ID to ${this.replId2}, valid up to offset: ${this.secondReplOffset}. New replication ID is ${this.replId}`);
  }

  /** DEBUG CHANGE-REPL-ID. */
  changeReplId(): void {
    this.replId = randomReplId();
    this.clearReplId2();
  }

  /** REPLICAOF host port (or the replicaof directive at start). */
  setMaster(host: string, port: number, source: string): void {
    const wasMaster = this.masterHost === null;
    this.flushStream();
    // The new master may continue our history: its stream goes on in the db ours was in.
    this.cachedStreamDb = this.streamDb();
    const cachedClient = this.link?.masterSession ?? null;
    this.link?.close();
    this.link = null;
    this.masterHost = host;
    this.masterPort = port;
    this.role = 'slave';
    this.server.logger.role = 'S';
    this.replicas.failWaiters();
    // Our replicas must learn of the change; they will hopefully continue partially with us.
    this.replicas.disconnectAll();
    if (wasMaster && source !== 'config') this.hasHistory = true;
    // The directive follows the role (Redis's CONFIG GET replicaof and CONFIG REWRITE do), so a
    // rewritten config restarts this node as a replica that can resume with PSYNC.
    this.config.set('replicaof', `${host} ${port}`, true);
    this.server.log('notice', `REPLICAOF ${host}:${port} enabled (${source})`);
    this.link = new MasterLink(this, this.server, host, port);
    this.link.masterSession = cachedClient;
    this.link.start();
  }

  /** REPLICAOF NO ONE: become a master, keeping the history so replicas continue with +CONTINUE. */
  unsetMaster(source: string): void {
    if (this.masterHost === null) return;
    this.link?.close();
    this.link = null;
    this.masterHost = null;
    this.role = 'master';
    this.config.set('replicaof', '', true);
    this.server.logger.role = 'M';
    this.ensureBacklog();
    this.shiftReplId();
    this.hasHistory = true;
    this.replicas.disconnectAll();
    this.selectedDb = -1;
    this.noReplicasSince = Date.now();
    this.server.log('notice', `MASTER MODE enabled (${source})`);
  }

  /** The session applying our master's stream (its writes bypass READONLY and it gets no replies). */
  isMasterClient(s: Session): boolean {
    return this.link !== null && this.link.masterSession === s;
  }

  /** Why a write must be refused now (READONLY, NOREPLICAS), or null. */
  writeRefusal(s: Session): string | null {
    if (this.masterHost === null) {
      const minReplicas = this.config.getInt('min-replicas-to-write');
      if (minReplicas > 0 && this.config.getInt('min-replicas-max-lag') > 0 && this.goodReplicas < minReplicas) return NOREPLICAS_ERR;
      return null;
    }
    if (this.config.getBool('replica-read-only') && !this.isMasterClient(s)) return READONLY_ERR;
    return null;
  }

  /** Why a command must be refused while the master link is down (MASTERDOWN), or null. */
  staleRefusal(spec: CommandSpec): string | null {
    if (this.masterHost === null || this.link?.state === 'connected') return null;
    if (this.config.getBool('replica-serve-stale-data') || spec.flags.has('stale')) return null;
    return MASTERDOWN_ERR;
  }

  /** Recomputes how many replicas acked within min-replicas-max-lag (Redis: refreshGoodSlavesCount). */
  refreshGoodReplicas(): void {
    const maxLag = this.config.getInt('min-replicas-max-lag');
    this.goodReplicas = this.config.getInt('min-replicas-to-write') > 0 && maxLag > 0 ? this.replicas.goodCount(maxLag) : 0;
  }

  /** Once a second: pings and timeouts of replicas, our ACK to the master, backlog TTL. */
  private cron(): void {
    const now = Date.now();
    this.link?.cron(now);
    this.replicas.cron(now);
    // Masters ping their replicas through the stream so they can detect a dead master.
    const period = this.config.getInt('repl-ping-replica-period') * 1000;
    if (this.masterHost === null && this.replicas.count > 0 && now - this.lastPing >= period) {
      this.lastPing = now;
      this.appendCommand(['PING']);
    }
    const ttl = this.config.getInt('repl-backlog-ttl');
    if (this.masterHost === null && this.replicas.count === 0 && this.backlog && ttl > 0 && now - this.noReplicasSince > ttl * 1000) {
      // Changing the id means replicas that come back can't continue a history we no longer hold.
      this.changeReplId();
      this.backlog = null;
      this.server.log('notice', `Replication backlog freed after ${ttl} seconds without connected replicas.`);
    }
    this.refreshGoodReplicas();
  }
}

export function randomReplId(): string {
  let s = '';
  while (s.length < 40) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}
