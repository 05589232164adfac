// SAVE / BGSAVE engine. JS has no fork, so BGSAVE is a point-in-time snapshot by dump-before-write:
// the keyspace is walked in small time-boxed slices, and any key about to change (or be removed)
// before the walk reached it is serialised first, with its pre-write value. Never speaks RESP.
//
// The walk goes slot by slot through each db's slot index (keyspace/slot-index.ts), so whether it
// has passed a key follows from the key's slot and its position in the slot's list: no mark on the
// entries (8 bytes on every key) and nothing per key beyond the keys written while it runs.
// Positions move only when a removal swaps a slot's last key into the hole (the index's one
// move): beforeWrite() writes that last key first when it would land behind the walk (see there).

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open as openAsync, rename as renameAsync, unlink as unlinkAsync, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CommandSpec } from '../../common/commands/spec.js';
import { keyIndexes } from '../../common/commands/keys.js';
import { SLOT_COUNT, slotOf } from '../../common/slots.js';
import type { Db } from '../keyspace/db.js';
import type { NodeConfig } from '../config.js';
import type { LogLevel } from '../log.js';
import { installLibraries, libraryCodes } from '../scripting/functions.js';
import { VERSION } from '../version.js';
import { RdbFormatError } from './rdb-constants.js';
import { RdbOutput, loadRdbIntoDbs, writeDbSelector, writeKeyValue, writeRdbHeader, type RdbAuxInfo, type RdbLoadResult } from './rdb-file.js';
import { RdbWriter } from './rdb-writer.js';

/** Where snapshot bytes go: a file, or (for replication) a replica's socket. */
export interface RdbSink {
  /** Resolving (or returning) means the bytes were accepted; the engine never overlaps writes. */
  write(chunk: Buffer): void | Promise<void>;
  /** All bytes written: commit (fsync + rename for files). */
  end(): void | Promise<void>;
  /** The snapshot failed or was aborted: discard what was written. */
  abort?(): void;
}

/** Longest a background slice may run before clients get the event loop back. */
const SLICE_MS = 4;
/** Hand bytes to the sink once this much is buffered. */
const CHUNK_BYTES = 256 * 1024;
/** Check the clock every this many keys. */
const CLOCK_EVERY_KEYS = 32;
/** Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save rules wait this long. */
const BGSAVE_RETRY_DELAY_SEC = 5;

interface DbProgress {
  db: Db;
  /** Keys absent at their first write after the start (created later): the walk skips them. */
  created: Set<string>;
  /** Keys written by beforeWrite ahead of the walk (their pre-write value): the walk skips them. */
  dumped: Set<string>;
  /** Dumps of this db's keys taken before its section started (written when it does). */
  early: RdbWriter | null;
  keysAtStart: number;
  expiresAtStart: number;
  state: 'waiting' | 'active' | 'done';
  /**
   * The walk's place: slots below `slot` are done, and so are positions below `pos` in it. Every
   * key at or past it either is still to be written or is in `created`/`dumped`.
   */
  slot: number;
  pos: number;
}

/**
 * One point-in-time snapshot of a set of dbs. Call beforeWrite() before any key changes while it
 * runs, step() to advance the walk, and take the bytes with takeChunk()/finish().
 */
export class Snapshot {
  private readonly out: RdbOutput;
  private readonly progress: DbProgress[] = [];
  private current = 0;
  keysProcessed = 0;
  readonly keysTotal: number;
  private ended = false;

  constructor(dbs: readonly Db[], aux: RdbAuxInfo, private readonly compression: boolean) {
    this.out = new RdbOutput(compression);
    writeRdbHeader(this.out.w, aux);
    let total = 0;
    for (const db of dbs) {
      const size = db.size;
      total += size;
      this.progress.push({
        db,
        created: new Set(),
        dumped: new Set(),
        early: null,
        keysAtStart: size,
        expiresAtStart: db.volatileCount,
        // Empty dbs are not written (as in Redis), and whatever appears in them is new.
        state: size === 0 ? 'done' : 'waiting',
        slot: 0,
        pos: 0,
      });
    }
    this.keysTotal = total;
  }

  get done(): boolean {
    return this.current >= this.progress.length;
  }

  /** `key` of `db` is about to change or disappear: dump its current value first if not done yet. */
  beforeWrite(db: Db, key: string): void {
    const p = this.progress[db.id];
    if (p === undefined || p.db !== db || p.state === 'done') return;
    const slot = slotOf(key);
    if (slot < p.slot) return; // walked past: written already, or created after the start
    const e = db.dict.get(key);
    if (e === undefined) {
      p.created.add(key); // created after the snapshot started: not part of it
      return;
    }
    if (slot === p.slot && e.slotPos < p.pos) {
      // Done already; but if this write removes it, the slot's last key moves into its place,
      // behind the walk: write that one now (harmless when the write removes nothing).
      const last = db.slots.rawCount(slot) - 1;
      if (last >= p.pos) this.dumpAhead(p, db.slots.keyAt(slot, last)!);
      return;
    }
    this.dumpAhead(p, key);
  }

  /** Writes a key the walk has not reached (unless done or new), so the walk skips it. */
  private dumpAhead(p: DbProgress, key: string): void {
    if (p.dumped.has(key) || p.created.has(key)) return;
    const e = p.db.dict.get(key)!;
    p.dumped.add(key);
    const w = p.state === 'active' ? this.out.w : (p.early ??= new RdbWriter({ compression: this.compression }));
    writeKeyValue(w, key, e.value, e.expireAt);
    this.keysProcessed++;
  }

  /**
   * Walks on until `deadline` (performance.now() ms) or until `maxBytes` are buffered.
   * Returns true once every db is written.
   */
  step(deadline: number, maxBytes: number): boolean {
    let n = 0;
    while (this.current < this.progress.length) {
      const p = this.progress[this.current]!;
      if (p.state === 'done') {
        this.current++;
        continue;
      }
      if (p.state === 'waiting') this.openSection(p);
      const w = this.out.w;
      const dict = p.db.dict;
      for (; p.slot < SLOT_COUNT; p.slot++, p.pos = 0) {
        const slots = p.db.slots; // read each time: nothing may be cached across slices
        while (p.pos < slots.rawCount(p.slot)) {
          if ((++n & (CLOCK_EVERY_KEYS - 1)) === 0 && (performance.now() >= deadline || this.out.pending >= maxBytes)) return false;
          const key = slots.keyAt(p.slot, p.pos++)!;
          if ((p.dumped.size > 0 && p.dumped.has(key)) || (p.created.size > 0 && p.created.has(key))) continue;
          const e = dict.get(key)!;
          writeKeyValue(w, key, e.value, e.expireAt);
          this.keysProcessed++;
        }
      }
      this.closeSection(p);
    }
    return true;
  }

  /** Runs the whole remaining walk now (before FLUSHDB/SWAPDB, which would pull keys away). */
  finishNow(): void {
    this.step(Infinity, Infinity);
  }

  takeChunk(): Buffer | null {
    return this.out.takeChunk();
  }

  /** EOF + checksum; only once step() returned true. */
  finish(checksum: boolean): Buffer {
    if (!this.done || this.ended) throw new Error('snapshot not complete');
    this.ended = true;
    return this.out.finish(checksum);
  }

  get bytesOut(): number {
    return this.out.bytesOut;
  }

  private openSection(p: DbProgress): void {
    p.state = 'active';
    writeDbSelector(this.out.w, p.db.id, p.keysAtStart, p.expiresAtStart);
    if (p.early !== null) this.out.w.writeBytes(p.early.view());
    p.early = null;
  }

  private closeSection(p: DbProgress): void {
    p.state = 'done';
    // Later writes to this db are not our business.
    p.created = new Set();
    p.dumped = new Set();
    this.current++;
  }
}

/** A file sink: writes to `temp-….rdb` in the target's directory, fsyncs, renames into place. */
export class RdbFileSink implements RdbSink {
  private handle: FileHandle | null = null;

  constructor(
    private readonly tempPath: string,
    private readonly finalPath: string,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    this.handle ??= await openAsync(this.tempPath, 'w');
    for (let off = 0; off < chunk.length; ) {
      const { bytesWritten } = await this.handle.write(chunk, off, chunk.length - off);
      off += bytesWritten;
    }
  }

  async end(): Promise<void> {
    this.handle ??= await openAsync(this.tempPath, 'w');
    await this.handle.sync();
    await this.handle.close();
    this.handle = null;
    await renameAsync(this.tempPath, this.finalPath);
  }

  abort(): void {
    const h = this.handle;
    this.handle = null;
    void (async () => {
      await h?.close().catch(() => undefined);
      await unlinkAsync(this.tempPath).catch(() => undefined);
    })();
  }
}

/** What the snapshot manager needs from the server (NodeServer satisfies it). */
export interface SnapshotHost {
  readonly dbs: readonly Db[];
  readonly config: NodeConfig;
  dirty: number;
  lastSave: number;
  log(level: LogLevel, message: string): void;
  readonly eviction: { usedMemory(): number };
}

/** Replication position recorded in the AUX fields; the replication module replaces the default. */
export interface ReplicationPosition {
  replId: string;
  offset: number;
  streamDb: number;
}

export type BgsaveStart = 'started' | 'scheduled' | 'in-progress' | 'other-child';

/** SAVE, BGSAVE, save rules, loading at start, and the INFO persistence numbers. */
export class SnapshotManager {
  /** The running background snapshot, if any. */
  private active: Snapshot | null = null;
  private activeAbort: (() => void) | null = null;
  private bgsaveStartMs = 0;
  private dirtyAtBgsaveStart = 0;
  private lastBgsaveTrySec = 0;
  private bgsaveScheduled = false;
  private tempCounter = 0;
  private readonly blockedWrites = new WeakMap<object, string[]>();
  lastBgsaveOk = true;
  lastBgsaveTimeSec = -1;
  saves = 0;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  /** Set by the replication module: the position to record in the file. */
  replicationPosition: () => ReplicationPosition;
  /** Further AUX fields for every snapshot (cluster mode adds tessera-slots for full resyncs). */
  extraAux: () => ReadonlyArray<readonly [string, string]> = () => [];
  /** Set by the AOF module: true while an AOF rewrite runs (BGSAVE then waits, like Redis). */
  otherJobActive: () => boolean = () => false;
  /** Called when a background snapshot ends (ok or not), e.g. to start a scheduled AOF rewrite. */
  readonly onBackgroundDone: Array<(ok: boolean) => void> = [];

  constructor(private readonly host: SnapshotHost, runId: string) {
    this.replicationPosition = () => ({ replId: runId, offset: 0, streamDb: 0 });
  }

  get inProgress(): boolean {
    return this.active !== null;
  }

  // ---- copy-on-write hooks ----

  /** `key` of `db` is about to be written or removed. Cheap when no snapshot runs. */
  beforeWrite(db: Db, key: string): void {
    if (this.active !== null) this.active.beforeWrite(db, key);
  }

  /** Called by the dispatcher before a write command runs while a snapshot is active. */
  beforeCommand(spec: CommandSpec, args: readonly string[], db: Db): void {
    const snap = this.active;
    if (snap === null) return;
    const name = spec.name;
    if (name === 'flushall' || name === 'flushdb' || name === 'swapdb') {
      // These pull whole dbs away: finish the walk now so the snapshot stays point-in-time.
      snap.finishNow();
      return;
    }
    for (const i of keyIndexes(spec, args) ?? []) snap.beforeWrite(db, args[i]!);
    // MOVE and COPY … DB n also create a key in another db.
    if (name === 'move' && args.length === 3) this.beforeWriteIn(Number(args[2]), args[1]!);
    if (name === 'copy') {
      for (let i = 3; i + 1 < args.length; i++) if (args[i]!.toLowerCase() === 'db') this.beforeWriteIn(Number(args[i + 1]), args[2]!);
    }
  }

  /**
   * A write command left its client blocked (BLPOP, BLMOVE …): remember every key it will write
   * when served, so beforeServe can dump them (BLMOVE's destination is not a key it waits on).
   */
  noteBlocked(s: object, spec: CommandSpec, args: readonly string[]): void {
    if (!spec.flags.has('write')) return;
    this.blockedWrites.set(s, (keyIndexes(spec, args) ?? []).map((i) => args[i]!));
  }

  /** A blocked client is about to be served from `key` of `db`. */
  beforeServe(db: Db, key: string, s: object): void {
    const snap = this.active;
    if (snap === null) return;
    snap.beforeWrite(db, key);
    for (const k of this.blockedWrites.get(s) ?? []) snap.beforeWrite(db, k);
  }

  private beforeWriteIn(dbIndex: number, key: string): void {
    const db = Number.isInteger(dbIndex) ? this.host.dbs[dbIndex] : undefined;
    if (db !== undefined) this.active?.beforeWrite(db, key);
  }

  // ---- SAVE ----

  /** SAVE: writes the whole dataset now. Returns false (and logs why) on failure. */
  saveSync(): boolean {
    const host = this.host;
    const finalPath = this.rdbPath();
    const tempPath = join(this.dir(), `temp-${process.pid}.rdb`);
    const snap = new Snapshot(host.dbs, this.auxInfo(), host.config.getBool('rdbcompression'));
    let fd = -1;
    try {
      fd = openSync(tempPath, 'w');
      for (;;) {
        const done = snap.step(Infinity, CHUNK_BYTES);
        const chunk = done ? snap.finish(host.config.getBool('rdbchecksum')) : snap.takeChunk();
        if (chunk !== null) writeFully(fd, chunk);
        if (done) break;
      }
      fsyncSync(fd);
      closeSync(fd);
      fd = -1;
      renameSync(tempPath, finalPath);
    } catch (err) {
      if (fd >= 0) closeSync(fd);
      try {
        unlinkSync(tempPath);
      } catch {
        // nothing to clean up
      }
      host.log('warning', `Write error saving DB on disk: ${(err as Error).message}`);
      return false;
    }
    host.log('notice', 'DB saved on disk');
    host.dirty = 0;
    host.lastSave = Math.floor(Date.now() / 1000);
    this.lastBgsaveOk = true;
    this.saves++;
    return true;
  }

  /**
   * The save SHUTDOWN makes: always with SAVE, never with NOSAVE, otherwise when save rules exist.
   * A running BGSAVE is stopped first. False when the save failed (the server must not exit).
   */
  saveOnShutdown(save: boolean | null): boolean {
    if (this.active !== null) this.abortBackground('There is a child saving an .rdb. Killing it!');
    if (save === false || (save === null && this.saveRules().length === 0)) return true;
    this.host.log('notice', 'Saving the final RDB snapshot before exiting.');
    if (this.saveSync()) return true;
    this.host.log('warning', "Error trying to save the DB, can't exit.");
    return false;
  }

  // ---- BGSAVE ----

  /** BGSAVE [SCHEDULE]: starts a background snapshot to the RDB file. */
  bgsave(schedule = false): BgsaveStart {
    if (this.active !== null) return 'in-progress';
    if (this.otherJobActive()) {
      if (!schedule) return 'other-child';
      this.bgsaveScheduled = true;
      return 'scheduled';
    }
    const sink = new RdbFileSink(join(this.dir(), `temp-${process.pid}-${++this.tempCounter}.rdb`), this.rdbPath());
    this.startBackground(sink, (ok) => {
      if (ok) {
        this.host.log('notice', 'DB saved on disk');
        this.host.log('notice', 'Background saving terminated with success');
        this.host.dirty -= this.dirtyAtBgsaveStart;
        this.host.lastSave = Math.floor(Date.now() / 1000);
        this.saves++;
      } else {
        this.host.log('warning', 'Background saving error');
      }
    });
    this.host.log('notice', `Background saving started by pid ${process.pid}`);
    return 'started';
  }

  /** Runs a BGSAVE from the cron as soon as nothing else runs (BGSAVE inside MULTI/EXEC). */
  scheduleBgsave(): void {
    this.bgsaveScheduled = true;
  }

  /**
   * Streams a point-in-time snapshot to any sink (a file, a replica socket). `done` runs once,
   * with false if the sink failed or the snapshot was aborted. Fails when one already runs.
   */
  startBackground(sink: RdbSink, done: (ok: boolean) => void): boolean {
    if (this.active !== null) return false;
    const host = this.host;
    const snap = new Snapshot(host.dbs, this.auxInfo(), host.config.getBool('rdbcompression'));
    this.active = snap;
    this.bgsaveStartMs = Date.now();
    this.lastBgsaveTrySec = Math.floor(this.bgsaveStartMs / 1000);
    this.dirtyAtBgsaveStart = host.dirty;
    let aborted = false;
    this.activeAbort = () => (aborted = true);
    const checksum = host.config.getBool('rdbchecksum');
    const run = async (): Promise<void> => {
      for (;;) {
        if (aborted) throw new Error('snapshot aborted');
        const finished = snap.step(performance.now() + SLICE_MS, CHUNK_BYTES);
        if (finished) {
          await sink.write(snap.finish(checksum));
          break;
        }
        const chunk = snap.takeChunk();
        if (chunk !== null) await sink.write(chunk);
        // Always yield a full event-loop turn: a sync sink's promise would only yield a microtask.
        await new Promise<void>((r) => setImmediate(r));
      }
      if (aborted) throw new Error('snapshot aborted');
      await sink.end();
    };
    run().then(
      () => this.finishBackground(snap, true, false, done),
      (err: Error) => {
        if (!aborted) host.log('warning', `Background snapshot failed: ${err.message}`);
        sink.abort?.();
        this.finishBackground(snap, false, aborted, done);
      },
    );
    return true;
  }

  private finishBackground(snap: Snapshot, ok: boolean, aborted: boolean, done: (ok: boolean) => void): void {
    if (this.active === snap) {
      this.active = null;
      this.activeAbort = null;
    }
    // Like a child killed on purpose in Redis, an abort does not count as a failed save.
    if (!aborted) this.lastBgsaveOk = ok;
    this.lastBgsaveTimeSec = Math.round((Date.now() - this.bgsaveStartMs) / 1000);
    done(ok);
    for (const listener of this.onBackgroundDone) listener(ok);
  }

  /** Stops a running background snapshot (SHUTDOWN, DEBUG RELOAD, a full resync that flushes). */
  abortBackground(reason: string): void {
    if (this.activeAbort === null) return;
    this.host.log('warning', reason);
    this.activeAbort();
    this.activeAbort = null;
    this.active = null; // stop copy-on-write work at once; the runner notices and cleans up
  }

  // ---- save rules (serverCron) ----

  /** Called by the server cron: starts a BGSAVE when a `save <seconds> <changes>` rule is due. */
  cron(): void {
    if (this.active !== null || this.otherJobActive()) return;
    if (this.bgsaveScheduled) {
      this.bgsaveScheduled = false;
      this.bgsave();
      return;
    }
    const nowSec = Math.floor(Date.now() / 1000);
    for (const [seconds, changes] of this.saveRules()) {
      if (
        this.host.dirty >= changes &&
        nowSec - this.host.lastSave > seconds &&
        (nowSec - this.lastBgsaveTrySec > BGSAVE_RETRY_DELAY_SEC || this.lastBgsaveOk)
      ) {
        this.host.log('notice', `${changes} changes in ${seconds} seconds. Saving...`);
        this.bgsave();
        return;
      }
    }
  }

  saveRules(): Array<[seconds: number, changes: number]> {
    const words = this.host.config.get('save').trim().split(/\s+/).filter(Boolean);
    const rules: Array<[number, number]> = [];
    for (let i = 0; i + 1 < words.length; i += 2) rules.push([Number(words[i]), Number(words[i + 1])]);
    return rules;
  }

  // ---- loading ----

  /**
   * Loads the RDB file into the (empty) dbs at start. A missing file is fine; a corrupt one
   * throws (the caller exits, like Redis). Returns null when there was no file.
   */
  loadFromDisk(opts: { flushFirst?: boolean; allowDuplicates?: boolean } = {}): RdbLoadResult | null {
    const host = this.host;
    let buf: Buffer;
    try {
      buf = readFileSync(this.rdbPath());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const t0 = performance.now();
    if (opts.flushFirst) for (const db of host.dbs) db.flush();
    const result = loadRdbIntoDbs(buf, host.dbs, {
      databases: host.dbs.length,
      verifyChecksum: host.config.getBool('rdbchecksum'),
      now: Date.now(),
      dropExpired: host.config.get('replicaof') === '',
      allowDuplicates: opts.allowDuplicates ?? false,
    });
    // Function libraries: at start and on DEBUG RELOAD the file's replace ours (MERGE: same names swapped).
    const policy = opts.allowDuplicates ? 'replace' : opts.flushFirst === false ? 'append' : 'flush';
    const fnError = installLibraries(host, result.functions, policy);
    if (fnError !== null) throw new RdbFormatError(`Failed loading library, ${fnError}`);
    const ver = result.aux.get('redis-ver');
    if (ver !== undefined) host.log('notice', `Loading RDB produced by version ${ver}`);
    const ctime = Number(result.aux.get('ctime'));
    if (Number.isFinite(ctime)) host.log('notice', `RDB age ${Math.max(0, Math.floor(Date.now() / 1000) - ctime)} seconds`);
    const usedMem = Number(result.aux.get('used-mem'));
    if (Number.isFinite(usedMem)) host.log('notice', `RDB memory usage when created ${(usedMem / 1024 / 1024).toFixed(2)} Mb`);
    host.log('notice', `Done loading RDB, keys loaded: ${result.loaded}, keys expired: ${result.expired}.`);
    host.log('notice', `DB loaded from disk: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
    this.lastLoadKeysLoaded = result.loaded;
    this.lastLoadKeysExpired = result.expired;
    return result;
  }

  // ---- INFO ----

  infoFields(): Array<[string, string | number]> {
    const snap = this.active;
    return [
      ['current_save_keys_processed', snap?.keysProcessed ?? 0],
      ['current_save_keys_total', snap?.keysTotal ?? 0],
      ['rdb_changes_since_last_save', this.host.dirty],
      ['rdb_bgsave_in_progress', snap !== null ? 1 : 0],
      ['rdb_last_save_time', this.host.lastSave],
      ['rdb_last_bgsave_status', this.lastBgsaveOk ? 'ok' : 'err'],
      ['rdb_last_bgsave_time_sec', this.lastBgsaveTimeSec],
      ['rdb_current_bgsave_time_sec', snap !== null ? Math.round((Date.now() - this.bgsaveStartMs) / 1000) : -1],
      ['rdb_saves', this.saves],
      ['rdb_last_cow_size', 0],
      ['rdb_last_load_keys_expired', this.lastLoadKeysExpired],
      ['rdb_last_load_keys_loaded', this.lastLoadKeysLoaded],
    ];
  }

  // ---- helpers ----

  rdbPath(): string {
    return join(this.dir(), this.host.config.get('dbfilename'));
  }

  private dir(): string {
    return resolve(this.host.config.get('dir'));
  }

  private auxInfo(): RdbAuxInfo {
    const pos = this.replicationPosition();
    return {
      redisVersion: VERSION,
      ctimeSec: Math.floor(Date.now() / 1000),
      usedMemBytes: this.host.eviction.usedMemory(),
      replStreamDb: pos.streamDb,
      replId: pos.replId,
      replOffset: pos.offset,
      aofBase: 0,
      extra: this.extraAux(),
      functions: libraryCodes(this.host),
    };
  }
}


function writeFully(fd: number, chunk: Buffer): void {
  for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
}

