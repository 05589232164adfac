// The append-only file (Redis 7 multi-part layout): loads it at start, appends every propagated write
// to the current incr file (fsync per appendfsync), runs BGREWRITEAOF / automatic rewrites and swaps
// the manifest atomically. Files and state only; commands reach it through server hooks.
import {
  closeSync, existsSync, fsync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync,
  truncateSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { resolveCommand } from '../../common/commands/table.js';
import type { NodeServer } from '../server.js';
import { libraryCodes } from '../scripting/functions.js';
import { Session } from '../session.js';
import { encodeAofCommand, readAofCommands } from './aof-codec.js';
import {
  baseFileName, emptyManifest, formatManifest, incrFileName, ManifestError, manifestFileName, parseManifest,
  type AofFileInfo, type AofManifest,
} from './aof-manifest.js';
import { AofRewriteJob, rewriteEntry, writeAll, type RewriteOutcome } from './aof-rewrite.js';

type AofState = 'off' | 'on' | 'wait_rewrite';
type InfoField = [string, string | number];

/** A load error Redis answers by refusing to start; already logged when thrown. */
export class AofLoadError extends Error {}

const CRON_INTERVAL_MS = 100;
// After this many failed rewrites in a row, automatic ones wait (Redis's aofRewriteLimited).
const FAILURES_BEFORE_BACKOFF = 3;
const BACKOFF_MS = 60_000;

const instances = new WeakMap<NodeServer, AppendOnlyFile>();

/** The AOF of a server (attached at start by main.ts), if any. */
export function aofOf(server: NodeServer): AppendOnlyFile | undefined {
  return instances.get(server);
}

/** Creates the server's AOF and hooks it into the write stream, reply flushing, config and cron. */
export function attachAof(server: NodeServer): AppendOnlyFile {
  const aof = new AppendOnlyFile(server);
  instances.set(server, aof);
  server.replication.onStream((dbIndex, argv) => aof.feed(dbIndex, argv));
  server.onBeforeReplies(() => aof.beforeReplies());
  server.config.onChange((name, value) => aof.configChanged(name, value));
  server.replication.onDatasetReplaced.push(() => aof.restartAfterSync());
  const cron = setInterval(() => aof.cron(), CRON_INTERVAL_MS);
  cron.unref();
  process.on('exit', () => aof.flushAtExit());
  return aof;
}

export class AppendOnlyFile {
  private state: AofState = 'off';
  private manifest: AofManifest = emptyManifest();
  /** The incr file being appended to, or -1. */
  private fd = -1;
  /** Encoded commands not yet written (written before replies leave: see beforeReplies). */
  private pending = '';
  private selectedDb = -1;
  private fsyncPolicy: string;
  private unsynced = false;
  private lastFsyncMs = Date.now();
  private fsyncInFlight = false;
  /** durable() callers waiting for an fsync that starts after their writes reached the file. */
  private syncWaiters: Array<() => void> = [];
  private closeAfterFsync: number[] = [];
  private currentSize = 0;
  private baseSize = 0;
  private job: AofRewriteJob | null = null;
  private rewriteStartedMs = 0;
  private rewriteScheduled = false;
  private lastRewriteTimeSec = -1;
  private lastBgrewriteOk = true;
  private lastWriteOk = true;
  private rewrites = 0;
  private consecutiveFailures = 0;
  private nextAutoRewriteMs = 0;

  constructor(private readonly server: NodeServer) {
    this.fsyncPolicy = server.config.get('appendfsync');
  }

  get enabled(): boolean {
    return this.state !== 'off';
  }

  get rewriteInProgress(): boolean {
    return this.job !== null;
  }

  private get dir(): string {
    return join(this.server.config.get('dir'), this.server.config.get('appenddirname'));
  }

  private get prefix(): string {
    return this.server.config.get('appendfilename');
  }

  private path(name: string): string {
    return join(this.dir, name);
  }

  // ---- writing ------------------------------------------------------------------------------

  /** Every propagated write, in its deterministic form. */
  feed(dbIndex: number, argv: readonly string[]): void {
    if (this.job !== null) this.job.noteWrite(dbIndex, argv);
    if (this.state !== 'on') return;
    if (dbIndex !== this.selectedDb) {
      this.pending += encodeAofCommand(['SELECT', String(dbIndex)]);
      this.selectedDb = dbIndex;
    }
    this.pending += encodeAofCommand(argv);
  }

  /**
   * Runs before any client's replies are written: the writes they acknowledge reach the file first
   * (and the disk first, with appendfsync always), so a crash never loses an acknowledged write.
   */
  beforeReplies(): void {
    if (this.pending.length !== 0) this.writePending();
  }

  private writePending(): void {
    if (this.fd < 0) {
      this.pending = '';
      return;
    }
    try {
      this.currentSize += writeAll(this.fd, this.pending, null);
      this.pending = '';
      this.lastWriteOk = true;
      if (this.fsyncPolicy === 'always') {
        fsyncSync(this.fd);
        this.lastFsyncMs = Date.now();
      } else this.unsynced = true;
    } catch (err) {
      this.lastWriteOk = false;
      this.server.log('warning', `Error writing to the AOF file: ${(err as Error).message}`);
      if (this.fsyncPolicy === 'always') {
        // Redis cannot keep its promise for later replies either: it exits.
        this.server.log('warning', "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
        process.exit(1);
      }
      // Otherwise the pending text stays and the cron retries.
    }
  }

  /** Every 100 ms: background writes (expiry DELs), everysec fsync, scheduled and automatic rewrites. */
  cron(): void {
    if (this.pending.length !== 0) this.writePending();
    if (this.fsyncPolicy === 'everysec' && this.unsynced && !this.fsyncInFlight && Date.now() - this.lastFsyncMs >= 1000) {
      this.backgroundFsync();
    }
    if (this.job !== null) return;
    if (this.rewriteScheduled) {
      this.rewriteScheduled = false;
      this.startRewrite();
      return;
    }
    this.maybeAutoRewrite();
  }

  /**
   * Resolves once every write propagated so far is on disk, whatever appendfsync says (the slot
   * mover: a moved key's DEL must survive a crash before anyone is told it moved). The pending
   * text is written now; the fsync runs in the thread pool, never blocking the event loop, and
   * callers arriving while one runs share the next one.
   */
  durable(): Promise<void> {
    if (this.state === 'off' && this.fd < 0) return Promise.resolve();
    if (this.pending.length !== 0) this.writePending();
    if (this.fd < 0) return Promise.resolve();
    // appendfsync always: writePending just synced everything, nothing left to wait for.
    if (this.fsyncPolicy === 'always' && !this.unsynced && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.syncWaiters.push(resolve);
      if (!this.fsyncInFlight) this.backgroundFsync();
    });
  }

  private backgroundFsync(): void {
    const fd = this.fd;
    const waiters = this.syncWaiters.splice(0);
    if (fd < 0) {
      for (const w of waiters) w();
      return;
    }
    this.fsyncInFlight = true;
    this.unsynced = false;
    this.lastFsyncMs = Date.now();
    fsync(fd, (err) => {
      this.fsyncInFlight = false;
      if (err) this.server.log('warning', `Fail to fsync the AOF file: ${err.message}.`);
      for (const old of this.closeAfterFsync.splice(0)) closeQuietly(old);
      for (const w of waiters) w();
      // Writes that arrived while this one ran need an fsync of their own.
      if (this.syncWaiters.length !== 0) this.backgroundFsync();
    });
  }

  private closeIncr(): void {
    if (this.fd < 0) return;
    if (this.fsyncInFlight) this.closeAfterFsync.push(this.fd);
    else closeQuietly(this.fd);
    this.fd = -1;
  }

  private maybeAutoRewrite(): void {
    if (this.state !== 'on') return;
    const perc = this.server.config.getInt('auto-aof-rewrite-percentage');
    if (perc === 0 || this.currentSize <= this.server.config.getInt('auto-aof-rewrite-min-size')) return;
    if (this.consecutiveFailures >= FAILURES_BEFORE_BACKOFF && Date.now() < this.nextAutoRewriteMs) return;
    const base = this.baseSize > 0 ? this.baseSize : 1;
    const growth = Math.floor((this.currentSize * 100) / base) - 100;
    if (growth >= perc) {
      this.server.log('notice', `Starting automatic rewriting of AOF on ${growth}% growth`);
      this.startRewrite();
    }
  }

  /** At process exit (SHUTDOWN, SIGTERM): everything appended reaches the disk. */
  flushAtExit(): void {
    this.job?.cancel();
    if (this.fd < 0) return;
    this.writePending();
    try {
      fsyncSync(this.fd);
    } catch {
      /* exiting anyway */
    }
  }

  // ---- configuration ------------------------------------------------------------------------

  configChanged(name: string, value: string): void {
    if (name === 'appendfsync') this.fsyncPolicy = value;
    else if (name === 'appendonly') {
      if (value === 'yes' && this.state === 'off') this.startAppendOnly();
      else if (value === 'no' && this.state !== 'off') this.stopAppendOnly();
    }
  }

  /** CONFIG SET appendonly yes: like Redis, the AOF is on once a rewrite has produced a base. */
  private startAppendOnly(): void {
    this.state = 'wait_rewrite';
    if (this.job !== null) {
      this.server.log('warning', 'AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.');
      this.job.cancel();
      this.job = null;
    }
    if (this.startRewrite() === 'error') {
      this.server.log('warning', 'Redis needs to enable the AOF but can\'t trigger a background AOF rewrite operation. Check the above logs for more info about the error.');
      this.rewriteScheduled = true;
    }
  }

  /**
   * A replica's full sync replaced the dataset: the files hold the old history, so close them and
   * rewrite a base from the new data (Redis's restartAOFAfterSYNC).
   */
  restartAfterSync(): void {
    if (this.state === 'off') return;
    this.stopAppendOnly();
    this.startAppendOnly();
  }

  private stopAppendOnly(): void {
    if (this.fd >= 0) {
      this.writePending();
      this.server.log('notice', 'Calling fsync() on the AOF file.');
      try {
        fsyncSync(this.fd);
      } catch (err) {
        this.server.log('warning', `Fail to fsync the AOF file: ${(err as Error).message}.`);
      }
    }
    this.closeIncr();
    this.pending = '';
    this.state = 'off';
    if (this.job !== null) {
      this.server.log('notice', 'Killing running AOF rewrite');
      this.job.cancel();
      this.job = null;
    }
    this.rewriteScheduled = false;
  }

  // ---- loading at start ---------------------------------------------------------------------

  /**
   * With appendonly yes, loads the AOF (the only source of the dataset at start, as in Redis 7.0)
   * and opens the incr file for appending, creating base/incr/manifest when missing. Throws
   * AofLoadError (already logged) when Redis would refuse to start.
   */
  loadAtStartup(): void {
    if (!this.server.config.getBool('appendonly')) {
      this.readManifestIfPresent();
      return;
    }
    const t0 = performance.now();
    const loaded = this.loadFiles();
    if (loaded) this.server.log('notice', `DB loaded from append only file: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
    this.openForAppendAtStart();
  }

  /** BGREWRITEAOF with appendonly no must still know the existing files to replace them. */
  private readManifestIfPresent(): void {
    const file = this.path(manifestFileName(this.prefix));
    if (!existsSync(file)) return;
    try {
      this.manifest = parseManifest(readFileSync(file, 'latin1'));
    } catch {
      this.manifest = emptyManifest();
    }
  }

  private loadFiles(): boolean {
    const manifestPath = this.path(manifestFileName(this.prefix));
    if (!existsSync(manifestPath)) return false;
    try {
      this.manifest = parseManifest(readFileSync(manifestPath, 'latin1'));
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      this.fatal(err.message);
    }
    const files: Array<[AofFileInfo, 'base' | 'incr']> = [];
    if (this.manifest.base) files.push([this.manifest.base, 'base']);
    for (const f of this.manifest.incrs) files.push([f, 'incr']);
    if (files.length === 0) return false;
    const server = this.server;
    server.suppressPropagation = true;
    // Nothing expires while the file is replayed (as in Redis): a key's later commands in it apply
    // to the key, which expires once loading is done (keyspace/db.ts: KeyspaceClock.keepExpired).
    server.clock.keepExpired = true;
    // A rewritten AOF holds a partial import as ordinary commands on its hidden name (keyspace/slot-index.ts).
    for (const db of server.dbs) db.revealHidden = true;
    const replay = new AofReplay(server);
    try {
      let total = 0;
      for (let i = 0; i < files.length; i++) {
        const [info, kind] = files[i]!;
        const t0 = performance.now();
        const truncated = this.loadOne(info.name, replay, i === files.length - 1);
        if (truncated && i !== files.length - 1) this.fatal('Fatal error: the truncated file is not the last file');
        const size = statSync(this.path(info.name)).size;
        total += size;
        if (kind === 'base') this.baseSize = size;
        server.log('notice', `DB loaded from ${kind} file ${info.name}: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
      }
      this.currentSize = total;
    } finally {
      server.suppressPropagation = false;
      server.clock.keepExpired = false;
      for (const db of server.dbs) db.revealHidden = false;
      replay.close();
    }
    // The data came from disk: nothing is unsaved yet.
    server.dirty = 0;
    return true;
  }

  /** Replays one file; true when a truncated tail was cut off (aof-load-truncated yes). */
  private loadOne(name: string, replay: AofReplay, isLast: boolean): boolean {
    const file = this.path(name);
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (err) {
      this.fatal(`The append log file ${name} doesn't exist: ${(err as Error).message}`);
    }
    if (buf.length === 0) return false;
    if (buf.subarray(0, 5).toString('latin1') === 'REDIS') {
      this.fatal(`The AOF file ${name} starts with an RDB preamble, which this node cannot load: rewrite it with aof-use-rdb-preamble no`);
    }
    let validBeforeMulti = 0;
    let lastValid = 0;
    const end = readAofCommands(buf, (argv, endOffset) => {
      const name0 = argv[0]!.toLowerCase();
      if (name0 === 'multi') validBeforeMulti = lastValid;
      const problem = replay.run(argv);
      if (problem !== null) this.fatal(`${problem} reading the append only file ${name}`);
      lastValid = endOffset;
    });
    if (end.kind === 'corrupt') {
      this.fatal(`Bad file format reading the append only file ${name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`);
    }
    let validBytes = end.kind === 'truncated' ? end.validBytes : buf.length;
    if (replay.inMulti) {
      this.server.log('warning', `Revert incomplete MULTI/EXEC transaction in AOF file ${name}`);
      replay.discardMulti();
      validBytes = validBeforeMulti;
    } else if (end.kind === 'ok') return false;
    // An unexpected end of file: cut the tail off or refuse, as aof-load-truncated says.
    if (this.server.config.getBool('aof-load-truncated') && isLast) {
      this.server.log('warning', `!!! Warning: short read while loading the AOF file ${name}!!!`);
      this.server.log('warning', `!!! Truncating the AOF ${name} at offset ${validBytes} !!!`);
      try {
        truncateSync(file, validBytes);
      } catch (err) {
        this.fatal(`Error truncating the AOF file ${name}: ${(err as Error).message}`);
      }
      this.server.log('warning', `AOF ${name} loaded anyway because aof-load-truncated is enabled`);
      return true;
    }
    if (!isLast) return true;
    this.fatal(
      `Unexpected end of file reading the append only file ${name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`,
    );
  }

  private fatal(message: string): never {
    this.server.log('warning', message);
    throw new AofLoadError(message);
  }

  /** After loading: make sure a base, an incr and a manifest exist, and open the incr file. */
  private openForAppendAtStart(): void {
    mkdirSync(this.dir, { recursive: true });
    removeTempFiles(this.dir);
    let changed = false;
    if (this.manifest.base === null) {
      const seq = 1;
      const name = baseFileName(this.prefix, seq);
      this.baseSize = this.writeBaseSync(name);
      this.currentSize = this.baseSize;
      this.manifest.base = { name, seq, type: 'b' };
      this.server.log('notice', `Creating AOF base file ${name} on server start`);
      changed = true;
    }
    if (this.manifest.incrs.length === 0) {
      const info = this.nextIncrInfo();
      writeFileSync(this.path(info.name), '');
      this.manifest.incrs.push(info);
      this.server.log('notice', `Creating AOF incr file ${info.name} on server start`);
      changed = true;
    }
    if (changed) this.persistManifest(this.manifest);
    const last = this.manifest.incrs[this.manifest.incrs.length - 1]!;
    this.fd = openSync(this.path(last.name), 'a');
    this.selectedDb = -1;
    this.state = 'on';
  }

  private nextIncrInfo(): AofFileInfo {
    let seq = 0;
    for (const f of [...this.manifest.incrs, ...this.manifest.history]) if (f.type === 'i' && f.seq > seq) seq = f.seq;
    seq++;
    return { name: incrFileName(this.prefix, seq), seq, type: 'i' };
  }

  /** A base file from the dataset, written synchronously (start-up only: the dataset is loaded, no clients yet). */
  private writeBaseSync(name: string): number {
    const tmp = this.path(`temp-rewriteaof-${process.pid}.aof`);
    const fd = openSync(tmp, 'w');
    let out = '';
    let written = 0;
    try {
      const now = Date.now();
      for (const db of this.server.dbs) {
        let selected = false;
        for (const [key, e] of db.dict) {
          if (e.expireAt !== 0 && e.expireAt <= now) continue;
          if (!selected) {
            out += encodeAofCommand(['SELECT', String(db.id)]);
            selected = true;
          }
          rewriteEntry(key, e, (argv) => {
            out += encodeAofCommand(argv);
          });
          if (out.length > 256 * 1024) {
            written += writeAll(fd, out, null);
            out = '';
          }
        }
      }
      if (out.length > 0) written += writeAll(fd, out, null);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path(name));
    return written;
  }

  /** Writes the manifest to a temp file, fsyncs it and renames it over the old one (atomic switch). */
  private persistManifest(m: AofManifest): void {
    const tmp = this.path(`temp-${manifestFileName(this.prefix)}`);
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, formatManifest(m), null);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path(manifestFileName(this.prefix)));
    fsyncDir(this.dir);
  }

  // ---- rewriting ----------------------------------------------------------------------------

  /** BGREWRITEAOF and automatic rewrites: starts a background rewrite. */
  startRewrite(): 'started' | 'in_progress' | 'error' {
    if (this.job !== null) return 'in_progress';
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      this.server.log('warning', `Can't open or create append-only dir ${this.dir}: ${(err as Error).message}`);
      this.rewriteFailed();
      return 'error';
    }
    const tmp = this.path(`temp-rewriteaof-bg-${process.pid}.aof`);
    const job = new AofRewriteJob(this.server.dbs, () => Date.now(), tmp, (outcome) => this.rewriteDone(job, outcome), () => libraryCodes(this.server));
    this.job = job;
    this.rewriteStartedMs = Date.now();
    this.server.log('notice', 'Background append only file rewriting started');
    job.start();
    return this.job === null && !this.lastBgrewriteOk ? 'error' : 'started';
  }

  /** Called synchronously when the new base is complete: swap it in with a fresh incr file. */
  private rewriteDone(job: AofRewriteJob, outcome: RewriteOutcome): void {
    if (this.job !== job) return;
    this.job = null;
    if (!outcome.ok) {
      this.server.log('warning', `Background AOF rewrite terminated with error: ${outcome.error}`);
      this.rewriteFailed();
      return;
    }
    this.server.log('notice', 'Background AOF rewrite terminated with success');
    // Writes made before this instant are in the new base; the old incr gets what it is owed.
    if (this.pending.length !== 0) this.writePending();
    const old = this.manifest;
    const baseSeq = (old.base?.seq ?? 0) + 1;
    const base: AofFileInfo = { name: baseFileName(this.prefix, baseSeq), seq: baseSeq, type: 'b' };
    const appending = this.state !== 'off';
    const incr = appending ? this.nextIncrInfo() : null;
    const next: AofManifest = { base, incrs: incr ? [incr] : [], history: [] };
    let newFd = -1;
    try {
      renameSync(job.tempPath, this.path(base.name));
      this.server.log('notice', `Successfully renamed the temporary AOF base file ${job.tempPath.slice(this.dir.length + 1)} into ${base.name}`);
      if (incr) {
        newFd = openSync(this.path(incr.name), 'a');
        this.server.log('notice', `Creating AOF incr file ${incr.name} on background rewrite`);
      }
      this.persistManifest(next);
    } catch (err) {
      if (newFd >= 0) closeQuietly(newFd);
      for (const f of [base, incr]) if (f) unlinkQuietly(this.path(f.name));
      unlinkQuietly(job.tempPath);
      this.server.log('warning', `Background AOF rewrite failed switching files: ${(err as Error).message}`);
      this.rewriteFailed();
      return;
    }
    this.closeIncr();
    this.fd = newFd;
    this.selectedDb = -1;
    this.unsynced = false;
    this.manifest = next;
    for (const f of [old.base, ...old.incrs, ...old.history]) {
      if (!f) continue;
      this.server.log('notice', `Removing the history file ${f.name} in the background`);
      unlinkQuietly(this.path(f.name));
    }
    this.baseSize = outcome.bytes;
    this.currentSize = outcome.bytes;
    this.lastRewriteTimeSec = Math.round((Date.now() - this.rewriteStartedMs) / 1000);
    this.rewrites++;
    this.consecutiveFailures = 0;
    this.lastBgrewriteOk = true;
    if (this.state === 'wait_rewrite') this.state = 'on';
    this.server.log('notice', 'Background AOF rewrite finished successfully');
  }

  private rewriteFailed(): void {
    this.job = null;
    this.lastBgrewriteOk = false;
    this.consecutiveFailures++;
    this.lastRewriteTimeSec = Math.round((Date.now() - this.rewriteStartedMs) / 1000);
    if (this.consecutiveFailures >= FAILURES_BEFORE_BACKOFF) this.nextAutoRewriteMs = Date.now() + BACKOFF_MS;
    // CONFIG SET appendonly yes is still waiting for a base: try again from the cron.
    if (this.state === 'wait_rewrite') this.rewriteScheduled = true;
  }

  // ---- INFO ---------------------------------------------------------------------------------

  /** INFO persistence fields from aof_enabled to aof_last_cow_size. */
  infoFields(): InfoField[] {
    return [
      ['aof_enabled', this.state !== 'off' ? 1 : 0],
      ['aof_rewrite_in_progress', this.job !== null ? 1 : 0],
      ['aof_rewrite_scheduled', this.rewriteScheduled ? 1 : 0],
      ['aof_last_rewrite_time_sec', this.lastRewriteTimeSec],
      ['aof_current_rewrite_time_sec', this.job !== null ? Math.round((Date.now() - this.rewriteStartedMs) / 1000) : -1],
      ['aof_last_bgrewrite_status', this.lastBgrewriteOk ? 'ok' : 'err'],
      ['aof_rewrites', this.rewrites],
      ['aof_rewrites_consecutive_failures', this.consecutiveFailures],
      ['aof_last_write_status', this.lastWriteOk ? 'ok' : 'err'],
      ['aof_last_cow_size', 0],
    ];
  }

  /** The fields Redis adds at the end of INFO persistence while the AOF is enabled. */
  infoSizeFields(): InfoField[] {
    if (this.state === 'off') return [];
    return [
      ['aof_current_size', this.currentSize + this.pending.length],
      ['aof_base_size', this.baseSize],
      ['aof_pending_rewrite', this.rewriteScheduled ? 1 : 0],
      ['aof_buffer_length', this.pending.length],
      ['aof_pending_bio_fsync', this.fsyncInFlight ? 1 : 0],
      ['aof_delayed_fsync', 0],
    ];
  }
}

/**
 * Runs AOF commands against the keyspace like Redis's fake AOF client: no socket, replies dropped,
 * MULTI … EXEC applied at EXEC, nothing propagated (the caller sets server.suppressPropagation).
 */
class AofReplay {
  private readonly session: Session;
  private queue: string[][] | null = null;

  constructor(private readonly server: NodeServer) {
    this.session = new Session(server, new Socket());
  }

  get inMulti(): boolean {
    return this.queue !== null;
  }

  discardMulti(): void {
    this.queue = null;
  }

  /** Runs (or queues) one command; returns Redis's complaint when it cannot be run at all. */
  run(argv: string[]): string | null {
    const resolved = resolveCommand(argv);
    if ('error' in resolved) return `Unknown command '${argv[0]}'`;
    const name = resolved.top.name;
    if (name === 'multi') {
      this.queue = [];
      return null;
    }
    if (name === 'exec') {
      const queued = this.queue ?? [];
      this.queue = null;
      for (const q of queued) this.execute(q);
      return null;
    }
    if (this.queue !== null) this.queue.push(argv);
    else this.execute(argv);
    return null;
  }

  private execute(argv: string[]): void {
    const resolved = resolveCommand(argv);
    if ('error' in resolved) return;
    const handler = this.server.dispatcher.handlerFor(resolved.spec);
    if (handler === undefined) return;
    const s = this.session;
    const mark = s.w.mark();
    this.server.updateClock();
    try {
      handler(s, argv);
    } catch (err) {
      this.server.log('warning', `Error replaying ${resolved.spec.name} from the AOF: ${(err as Error).message}`);
    }
    s.w.rewind(mark);
  }

  close(): void {
    this.session.socket.destroy();
  }
}

function removeTempFiles(dir: string): void {
  // A rewrite interrupted by a crash leaves its temp file behind; the manifest never names it.
  try {
    for (const name of readdirSync(dir)) if (name.startsWith('temp-')) unlinkQuietly(join(dir, name));
  } catch {
    /* no dir yet */
  }
}

function fsyncDir(dir: string): void {
  // Makes the rename durable; some file systems refuse fsync on directories, which is harmless.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
