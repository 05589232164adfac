// Replica side of replication: the connection to our master. Handshake (PING, AUTH, REPLCONF,
// PSYNC), the full resync (RDB by $len or diskless $EOF:, loaded into fresh Dbs and swapped in
// whole), the partial resync (+CONTINUE), then the command stream applied through the dispatcher
// as the master client and forwarded verbatim to our own replicas. Retries from the cron.
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { encodeCommand } from '../../common/resp/encode.js';
import { ProtocolError } from '../../common/resp/request-decoder.js';
import type { KeyspaceEnv } from '../keyspace/db.js';
import type { NodeServer } from '../server.js';
import { Session } from '../session.js';
import { MasterStream } from './master-stream.js';
import { installLibraries } from '../scripting/functions.js';
import { loadSyncRdb } from './rdb-sync.js';
import type { Replication } from './replication.js';

export type LinkState = 'connect' | 'connecting' | 'handshake' | 'transfer' | 'connected';

const EOF_MARK_LENGTH = 40;
const EMPTY = Buffer.alloc(0);

class LinkError extends Error {}

export class MasterLink {
  state: LinkState = 'connect';
  /** The client that applies the master's stream; kept across reconnects (Redis's cached master). */
  masterSession: Session | null = null;
  lastIo = Date.now();
  /** When the link went down (ms since the epoch); 0 = never connected yet. */
  downSince = 0;
  /** Full-transfer progress for INFO: total (-1 for diskless), read so far. */
  transferSize = -1;
  transferRead = 0;
  private socket: Socket | null = null;
  private closed = false;
  private phase: 'lines' | 'payload' | 'stream' = 'lines';
  private inbuf: Buffer = EMPTY;
  private lineWaiter: ((line: string) => void) | null = null;
  private failWaiter: ((err: Error) => void) | null = null;
  private payload: { chunks: Buffer[]; eofMark: string | null; replId: string; offset: number } | null = null;
  private stream: MasterStream | null = null;

  constructor(
    private readonly repl: Replication,
    private readonly server: NodeServer,
    readonly host: string,
    readonly port: number,
  ) {}

  start(): void {
    void this.run();
  }

  /** Drops the link for good (REPLICAOF elsewhere or NO ONE). */
  close(): void {
    this.closed = true;
    this.drop();
  }

  /** CLIENT KILL TYPE master: drops a live link; it reconnects (partially) from the cron. True if one was up. */
  kill(): boolean {
    if (this.state !== 'connected') return false;
    this.linkDown();
    return true;
  }

  /** Once a second: ACK to the master, timeouts, reconnects. */
  cron(now: number): void {
    if (this.closed) return;
    const timeoutMs = this.server.config.getInt('repl-timeout') * 1000;
    if (this.state === 'connect') return void this.run();
    if (now - this.lastIo > timeoutMs) {
      if (this.state === 'connected') {
        this.server.log('warning', 'MASTER timeout: no data nor PING received...');
      } else if (this.state === 'transfer') {
        this.server.log('warning', "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
      } else {
        this.server.log('warning', 'Timeout connecting to the MASTER...');
      }
      return this.linkDown();
    }
    if (this.state === 'connected') this.sendAck();
  }

  /** REPLCONF ACK <offset>: what we applied, so the master can count us for WAIT and min-replicas. */
  sendAck(offset = this.repl.masterReplOffset): void {
    if (this.state !== 'connected' || !this.socket) return;
    this.socket.write(encodeCommand(['REPLCONF', 'ACK', String(offset)]));
  }

  private async run(): Promise<void> {
    if (this.closed || this.state !== 'connect') return;
    this.state = 'connecting';
    this.lastIo = Date.now();
    const server = this.server;
    const repl = this.repl;
    server.log('notice', `Connecting to MASTER ${this.host}:${this.port}`);
    server.log('notice', 'MASTER <-> REPLICA sync started');
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    try {
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', (err) => {
        if (this.socket === socket) server.log('warning', `Error condition on socket for SYNC: ${err.message}`);
      });
      socket.on('close', () => {
        if (this.socket === socket) this.linkDown();
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        this.failWaiter = reject;
      });
      server.log('notice', 'Non blocking connect for SYNC fired the event.');
      this.state = 'handshake';
      const pong = await this.call(['PING']);
      if (pong.startsWith('-') && !/^-(NOAUTH|NOPERM|ERR operation not permitted)/.test(pong)) {
        throw new LinkError(`Error reply to PING from master: '${pong}'`);
      }
      server.log('notice', 'Master replied to PING, replication can continue...');
      const pass = server.config.get('masterauth');
      if (pass !== '') {
        const user = server.config.get('masteruser');
        const reply = await this.call(user !== '' ? ['AUTH', user, pass] : ['AUTH', pass]);
        if (reply.startsWith('-')) throw new LinkError(`Unable to AUTH to MASTER: ${reply}`);
      }
      const portReply = await this.call(['REPLCONF', 'listening-port', String(server.config.getInt('port'))]);
      if (portReply.startsWith('-')) server.log('notice', `(Non critical) Master does not understand REPLCONF listening-port: ${portReply}`);
      const capaReply = await this.call(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
      if (capaReply.startsWith('-')) server.log('notice', `(Non critical) Master does not understand REPLCONF capa: ${capaReply}`);
      let psync: string[];
      if (repl.hasHistory) {
        psync = ['PSYNC', repl.replId, String(repl.masterReplOffset + 1)];
        server.log('notice', `Trying a partial resynchronization (request ${repl.replId}:${repl.masterReplOffset + 1}).`);
      } else {
        psync = ['PSYNC', '?', '-1'];
        server.log('notice', 'Partial resynchronization not possible (no cached master)');
      }
      const reply = await this.call(psync);
      if (reply.startsWith('+FULLRESYNC')) {
        const [, replId, offset] = reply.split(' ');
        server.log('notice', `Full resync from master: ${replId}:${offset}`);
        await this.receiveFullSync(replId!, Number(offset));
      } else if (reply.startsWith('+CONTINUE')) {
        this.continuePartial(reply.split(' ')[1]);
      } else if (/^-(NOMASTERLINK|LOADING)/.test(reply)) {
        throw new LinkError(`Master is currently unable to PSYNC but should be in the future: ${reply}`);
      } else {
        throw new LinkError(`Unexpected reply to PSYNC from master: ${reply}`);
      }
    } catch (err) {
      // A newer attempt may own the link by now; only this attempt's socket is ours to drop.
      if (this.closed || this.socket !== socket) return;
      server.log('warning', (err as Error).message || 'Error condition on socket for SYNC: Connection refused');
      this.linkDown();
    }
  }

  /** Sends a handshake command and waits for its one-line reply. */
  private async call(argv: string[]): Promise<string> {
    this.socket!.write(encodeCommand(argv));
    return this.readLine(true);
  }

  /** Resolves with the next line (CRLF stripped); `skipEmpty` skips the master's newline keepalives. */
  private readLine(skipEmpty: boolean): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.failWaiter = reject;
      const want = (line: string) => {
        if (skipEmpty && line === '') {
          this.lineWaiter = want;
          return;
        }
        resolve(line);
      };
      this.lineWaiter = want;
      this.deliverLines();
    });
  }

  private deliverLines(): void {
    while (this.lineWaiter && this.phase === 'lines') {
      const nl = this.inbuf.indexOf(10);
      if (nl < 0) return;
      let end = nl;
      if (end > 0 && this.inbuf[end - 1] === 13) end--;
      const line = this.inbuf.latin1Slice(0, end);
      this.inbuf = this.inbuf.subarray(nl + 1);
      const waiter = this.lineWaiter;
      this.lineWaiter = null;
      waiter(line);
    }
  }

  private onData(chunk: Buffer): void {
    this.lastIo = Date.now();
    if (this.phase === 'stream') return this.applyStream(chunk);
    if (this.phase === 'payload') return this.payloadData(chunk);
    this.inbuf = this.inbuf.length === 0 ? chunk : Buffer.concat([this.inbuf, chunk]);
    this.deliverLines();
  }

  private async receiveFullSync(replId: string, offset: number): Promise<void> {
    const header = await this.readLine(true);
    if (header.startsWith('-')) throw new LinkError(`MASTER aborted replication with an error: ${header.slice(1)}`);
    if (!header.startsWith('$')) throw new LinkError(`Bad protocol from MASTER, the first byte is not '$' (we received '${header}'), are you sure the host and port are right?`);
    this.state = 'transfer';
    this.transferRead = 0;
    let eofMark: string | null = null;
    if (header.startsWith('$EOF:')) {
      eofMark = header.slice(5);
      this.transferSize = -1;
      this.server.log('notice', 'MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk');
    } else {
      this.transferSize = Number(header.slice(1));
      this.server.log('notice', `MASTER <-> REPLICA sync: receiving ${this.transferSize} bytes from master to disk`);
    }
    this.payload = { chunks: [], eofMark, replId, offset };
    this.phase = 'payload';
    const rest = this.inbuf;
    this.inbuf = EMPTY;
    if (rest.length > 0) this.payloadData(rest);
  }

  private payloadData(chunk: Buffer): void {
    const p = this.payload!;
    p.chunks.push(chunk);
    this.transferRead += chunk.length;
    if (p.eofMark === null) {
      if (this.transferRead < this.transferSize) return;
      const all = Buffer.concat(p.chunks, this.transferRead);
      return this.finishFullSync(all.subarray(0, this.transferSize), all.subarray(this.transferSize));
    }
    // Diskless: the payload ends with the 40-byte mark (the master sends nothing after it until our first ACK).
    if (this.transferRead < EOF_MARK_LENGTH) return;
    let tail = chunk;
    if (tail.length < EOF_MARK_LENGTH) tail = Buffer.concat(p.chunks, this.transferRead);
    if (tail.latin1Slice(tail.length - EOF_MARK_LENGTH, tail.length) !== p.eofMark) return;
    const all = Buffer.concat(p.chunks, this.transferRead);
    this.finishFullSync(all.subarray(0, all.length - EOF_MARK_LENGTH), EMPTY);
  }

  /** Loads the image into new Dbs, swaps them in whole, and starts applying the stream. */
  private finishFullSync(rdb: Buffer, rest: Buffer): void {
    const server = this.server;
    const repl = this.repl;
    const p = this.payload!;
    this.payload = null;
    server.log('notice', `MASTER <-> REPLICA sync: Loading DB in memory`);
    const env: KeyspaceEnv = {
      clock: server.clock,
      accessClock: (e) => server.eviction.accessClock(e),
      isReplica: () => true,
      onExpired: () => {},
    };
    let loaded;
    try {
      loaded = loadSyncRdb(rdb, server.dbs.length, env);
    } catch (err) {
      server.log('warning', `Failed trying to load the MASTER synchronization DB from socket: ${(err as Error).message}`);
      return this.linkDown();
    }
    // The master's function libraries replace ours (all or none), just before its dataset does.
    const fnError = installLibraries(server, loaded.functions, 'flush');
    if (fnError !== null) {
      server.log('warning', `Failed trying to load the MASTER synchronization DB from socket: Failed loading library, ${fnError}`);
      return this.linkDown();
    }
    server.log('notice', 'MASTER <-> REPLICA sync: Flushing old data');
    // A snapshot walking the old dataset would mix two histories: stop it before the swap.
    server.snapshots.abortBackground('Killing the background save: a full resync replaces the dataset');
    for (let i = 0; i < server.dbs.length; i++) {
      server.dbs[i]!.swapWith(loaded.dbs[i]!);
      server.watch.touchDb(i);
    }
    server.tracking.flushed();
    server.dirty++;
    // Our history is now the master's: new id and offset, replicas of ours must resync.
    repl.replId = p.replId;
    repl.masterReplOffset = p.offset;
    repl.clearReplId2();
    repl.resetBacklog(p.offset);
    repl.hasHistory = true;
    repl.replicas.disconnectAll();
    for (const listener of repl.onDatasetReplaced) listener();
    // Cluster mode: the master's slot ownership comes with its data (node/cluster/ownership.ts).
    server.dispatcher.routing?.ownership.adoptFromMaster(loaded.aux.get('tessera-slots'));
    this.masterSession = this.newMasterSession();
    const streamDb = Number(loaded.aux.get('repl-stream-db') ?? 0);
    if (streamDb >= 0 && streamDb < server.dbs.length) this.masterSession.db = server.dbs[streamDb]!;
    server.log('notice', `MASTER <-> REPLICA sync: Finished with success`);
    this.startStream(rest);
  }

  /** +CONTINUE [replid]: the master continues our history (under a new id after its promotion). */
  private continuePartial(newId: string | undefined): void {
    const repl = this.repl;
    this.server.log('notice', 'Successful partial resynchronization with master.');
    if (newId && newId.length === 40 && newId !== repl.replId) {
      repl.replId2 = repl.replId;
      repl.secondReplOffset = repl.masterReplOffset + 1;
      repl.replId = newId;
      this.server.log('notice', `Master replication ID changed to ${newId}`);
      repl.replicas.disconnectAll();
    }
    repl.ensureBacklog();
    let ms = this.masterSession;
    if (!ms) {
      ms = this.masterSession = this.newMasterSession();
      ms.db = this.server.dbs[this.repl.cachedStreamDb] ?? this.server.dbs[0]!;
    }
    // A transaction cut by the disconnect is re-sent whole from the offset before its MULTI.
    ms.multi = null;
    ms.multiError = false;
    this.server.log('notice', 'MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.');
    const rest = this.inbuf;
    this.inbuf = EMPTY;
    this.startStream(rest);
  }

  private startStream(rest: Buffer): void {
    this.state = 'connected';
    this.phase = 'stream';
    this.stream = new MasterStream(this.server, this.masterSession!, {
      getAck: (pending) => this.sendAck(this.repl.masterReplOffset + pending),
      forward: (bytes) => this.repl.appendRaw(bytes),
      live: () => this.state === 'connected',
    });
    // The first ACK tells a diskless master we loaded the image and it may start the stream.
    this.sendAck();
    if (rest.length > 0) this.applyStream(rest);
  }

  private applyStream(chunk: Buffer): void {
    try {
      this.stream!.push(chunk);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.server.log('warning', `Protocol error from MASTER: ${err.message}`);
      this.linkDown();
    }
  }

  private newMasterSession(): Session {
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    Object.assign(sink, { remoteAddress: this.host, remotePort: this.port, setNoDelay: () => sink, setKeepAlive: () => sink });
    const s = new Session(this.server, sink as unknown as Socket);
    s.authenticated = true;
    s.decoder.unauthenticated = false;
    s.replyMode = 'off';
    s.name = '';
    return s;
  }

  /** The connection failed or was lost: keep the cached state, retry from the cron. */
  private linkDown(): void {
    const wasConnected = this.state === 'connected';
    this.drop();
    if (wasConnected) {
      this.server.log('warning', 'Connection with master lost.');
      this.server.log('notice', 'Caching the disconnected master state.');
      this.downSince = Date.now();
    }
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    const fail = this.failWaiter;
    this.failWaiter = null;
    this.lineWaiter = null;
    this.state = 'connect';
    this.phase = 'lines';
    this.inbuf = EMPTY;
    this.payload = null;
    this.stream = null;
    fail?.(new LinkError(''));
  }
}
