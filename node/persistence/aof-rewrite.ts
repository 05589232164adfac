// Builds a compact AOF base file from the live keyspace without stopping clients: the keyspace is
// dumped in time-boxed chunks (setImmediate between them) while writes go on; keys written during
// the dump are re-dumped afterwards, so the file ends equal to the dataset at the moment it finishes.
import { closeSync, fsyncSync, ftruncateSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { keyIndexes } from '../../common/commands/keys.js';
import { lookupCommand } from '../../common/commands/table.js';
import { formatDouble } from '../../common/resp/reply-writer.js';
import type { Db, Entry } from '../keyspace/db.js';
import { HashValue } from '../keyspace/types/hash-value.js';
import { ListValue } from '../keyspace/types/list-value.js';
import { SetValue } from '../keyspace/types/set-value.js';
import { StreamValue, streamRewriteCommands } from '../keyspace/types/stream.js';
import { encodeAofCommand } from './aof-codec.js';

/** Redis's AOF_REWRITE_ITEMS_PER_CMD: big containers are rebuilt 64 items per command. */
export const ITEMS_PER_COMMAND = 64;
// Each chunk of work runs at most this long before clients get the event loop back.
const STEP_BUDGET_MS = 4;
// Output is buffered as a string and written out in pieces of about this size.
const WRITE_CHUNK_CHARS = 256 * 1024;
// Keys written during the dump are re-dumped in rounds until few are left, then all at once.
const FINAL_ROUND_KEYS = 512;
const MAX_CATCHUP_ROUNDS = 8;

/**
 * Emits the commands that recreate `key` (SET / RPUSH / SADD / ZADD / HMSET, then PEXPIREAT for a
 * TTL), in Redis's rewrite forms.
 */
export function rewriteEntry(key: string, e: Entry, emit: (argv: string[]) => void): void {
  const v = e.value;
  if (typeof v === 'string') emit(['SET', key, v]);
  else if (v instanceof ListValue) emitBatched(emit, 'RPUSH', key, v, 1, (item, out) => out.push(item));
  else if (v instanceof StreamValue) streamRewriteCommands(key, v, emit);
  else if (v instanceof SetValue) emitBatched(emit, 'SADD', key, v.members.keys, 1, (m, out) => out.push(m));
  else if (v instanceof HashValue) {
    const { keys, vals } = v.map;
    let argv: string[] = ['HMSET', key];
    for (let i = 0; i < keys.length; i++) {
      argv.push(keys[i]!, vals[i]!);
      if (argv.length === 2 + 2 * ITEMS_PER_COMMAND) {
        emit(argv);
        argv = ['HMSET', key];
      }
    }
    if (argv.length > 2) emit(argv);
  } else emitBatched(emit, 'ZADD', key, v, 2, (entry, out) => out.push(formatDouble(entry.score), entry.member));
  if (e.expireAt !== 0) emit(['PEXPIREAT', key, String(e.expireAt)]);
}

function emitBatched<T>(
  emit: (argv: string[]) => void,
  command: string,
  key: string,
  items: Iterable<T>,
  perItem: number,
  push: (item: T, out: string[]) => void,
): void {
  let argv: string[] = [command, key];
  for (const item of items) {
    push(item, argv);
    if (argv.length === 2 + perItem * ITEMS_PER_COMMAND) {
      emit(argv);
      argv = [command, key];
    }
  }
  if (argv.length > 2) emit(argv);
}

export type RewriteOutcome = { ok: true; bytes: number } | { ok: false; error: string };

/**
 * One background rewrite into `tempPath`. Feed it every propagated write (`noteWrite`) while it
 * runs; `onDone` fires once, after the file is complete and fsynced (or failed). The caller
 * switches files in `onDone`, synchronously, so no write slips between the dump and the switch.
 */
export class AofRewriteJob {
  private fd = -1;
  private written = 0;
  private out = '';
  private selectedDb = -1;
  private dbIndex = 0;
  private iterator: IterableIterator<[string, Entry]> | null = null;
  /** Keys written since the dump started, per db index: re-dumped before finishing. */
  private touched: Array<Set<string> | undefined> = [];
  private touchedCount = 0;
  private phase: 'dump' | 'catchup' | 'done' = 'dump';
  private catchupRounds = 0;
  private catchupQueue: Array<[number, string]> = [];
  private catchupPos = 0;
  private scheduled: NodeJS.Immediate | null = null;
  /** Times the dump started over (FLUSHALL / FLUSHDB / SWAPDB during the rewrite). */
  restarts = 0;

  constructor(
    private readonly dbs: readonly Db[],
    private readonly now: () => number,
    readonly tempPath: string,
    private readonly onDone: (outcome: RewriteOutcome) => void,
    /** Function libraries' payloads now: written as FUNCTION LOADs when the file completes. */
    private readonly functions: () => readonly string[] = () => [],
  ) {}

  get running(): boolean {
    return this.phase !== 'done';
  }

  start(): void {
    try {
      this.fd = openSync(this.tempPath, 'w');
    } catch (err) {
      this.fail(`Opening the temp file for AOF rewrite: ${(err as Error).message}`);
      return;
    }
    this.schedule();
  }

  /** Every write propagated while the rewrite runs: remembers the keys it changed. */
  noteWrite(dbIndex: number, argv: readonly string[]): void {
    if (this.phase === 'done') return;
    const name = argv[0]!.toLowerCase();
    if (name === 'multi' || name === 'exec') return;
    // Whole-db changes invalidate what was dumped: start over (the dataset is small right after).
    if (name === 'flushall' || name === 'flushdb' || name === 'swapdb') return this.restart();
    const spec = lookupCommand(name);
    const indexes = spec ? keyIndexes(spec, argv) : null;
    if (indexes === null) return this.restart();
    for (const i of indexes) this.touch(dbIndex, argv[i]!);
    if (name === 'move') this.touch(Number(argv[2]), argv[1]!);
    else if (name === 'copy') {
      for (let i = 3; i < argv.length - 1; i++) if (argv[i]!.toLowerCase() === 'db') this.touch(Number(argv[i + 1]), argv[2]!);
    }
  }

  /** Stops and deletes the temp file (AOF turned off, shutdown). */
  cancel(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    if (this.scheduled) clearImmediate(this.scheduled);
    this.closeFd();
    try {
      unlinkSync(this.tempPath);
    } catch {
      /* already gone */
    }
  }

  private touch(dbIndex: number, key: string): void {
    if (!(dbIndex >= 0 && dbIndex < this.dbs.length)) return;
    let set = this.touched[dbIndex];
    if (set === undefined) set = this.touched[dbIndex] = new Set();
    if (!set.has(key)) {
      set.add(key);
      this.touchedCount++;
    }
  }

  private restart(): void {
    this.restarts++;
    this.written = 0;
    this.out = '';
    this.selectedDb = -1;
    this.dbIndex = 0;
    this.iterator = null;
    this.touched = [];
    this.touchedCount = 0;
    this.phase = 'dump';
    this.catchupRounds = 0;
    this.catchupQueue = [];
    this.catchupPos = 0;
    // The next write overwrites from offset 0; the stale tail is cut at the end (see finish).
  }

  private schedule(): void {
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      this.step();
    });
  }

  private step(): void {
    if (this.phase === 'done') return;
    try {
      const deadline = performance.now() + STEP_BUDGET_MS;
      if (this.phase === 'dump') this.dumpUntil(deadline);
      if (this.phase === 'catchup') this.catchupUntil(deadline);
    } catch (err) {
      this.fail((err as Error).message);
      return;
    }
    if (this.running) this.schedule();
  }

  private dumpUntil(deadline: number): void {
    const now = this.now();
    let n = 0;
    while (this.dbIndex < this.dbs.length) {
      const db = this.dbs[this.dbIndex]!;
      this.iterator ??= db.dict.entries();
      const skip = this.touched[this.dbIndex];
      for (;;) {
        const next = this.iterator.next();
        if (next.done) break;
        const [key, e] = next.value;
        // Keys written since the start are dumped later in their final state.
        if (skip?.has(key) || (e.expireAt !== 0 && e.expireAt <= now)) continue;
        this.selectDb(db.id);
        rewriteEntry(key, e, this.emit);
        if (++n % 32 === 0 && performance.now() > deadline) return;
      }
      this.iterator = null;
      this.dbIndex++;
    }
    this.phase = 'catchup';
    this.nextCatchupRound();
  }

  /** Takes the keys touched so far as the next batch to re-dump (the set starts afresh). */
  private nextCatchupRound(): void {
    const queue: Array<[number, string]> = [];
    this.touched.forEach((set, dbIndex) => {
      if (set) for (const key of set) queue.push([dbIndex, key]);
    });
    this.touched = [];
    this.touchedCount = 0;
    this.catchupQueue = queue;
    this.catchupPos = 0;
    this.catchupRounds++;
  }

  private catchupUntil(deadline: number): void {
    for (;;) {
      while (this.catchupPos < this.catchupQueue.length) {
        const [dbIndex, key] = this.catchupQueue[this.catchupPos++]!;
        this.redumpKey(dbIndex, key);
        if (this.catchupPos % 32 === 0 && performance.now() > deadline) return;
      }
      if (this.touchedCount <= FINAL_ROUND_KEYS || this.catchupRounds >= MAX_CATCHUP_ROUNDS) {
        this.finish();
        return;
      }
      this.nextCatchupRound();
      if (performance.now() > deadline) return;
    }
  }

  /** DEL + current state: the key may have been dumped in an older state or not at all. */
  private redumpKey(dbIndex: number, key: string): void {
    this.selectDb(dbIndex);
    this.emit(['DEL', key]);
    const e = this.dbs[dbIndex]!.dict.get(key);
    if (e !== undefined && !(e.expireAt !== 0 && e.expireAt <= this.now())) rewriteEntry(key, e, this.emit);
  }

  /** The last keys go in synchronously, so the file matches the dataset at this instant. */
  private finish(): void {
    this.touched.forEach((set, dbIndex) => {
      if (set) for (const key of set) this.redumpKey(dbIndex, key);
    });
    // The libraries as they are at the switch (FUNCTION commands touch no key, so they are
    // taken here rather than tracked): order against keys does not matter on replay.
    for (const code of this.functions()) this.emit(['FUNCTION', 'LOAD', code]);
    this.flushOut();
    // A restart may have left older, longer content after what this run wrote.
    const fd = this.fd;
    this.fd = -1;
    try {
      ftruncateSync(fd, this.written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.phase = 'done';
    this.onDone({ ok: true, bytes: this.written });
  }

  private fail(error: string): void {
    this.phase = 'done';
    this.closeFd();
    try {
      unlinkSync(this.tempPath);
    } catch {
      /* nothing to remove */
    }
    this.onDone({ ok: false, error });
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    this.fd = -1;
  }

  private selectDb(dbIndex: number): void {
    if (this.selectedDb === dbIndex) return;
    this.selectedDb = dbIndex;
    this.emit(['SELECT', String(dbIndex)]);
  }

  private readonly emit = (argv: string[]): void => {
    this.out += encodeAofCommand(argv);
    if (this.out.length >= WRITE_CHUNK_CHARS) this.flushOut();
  };

  private flushOut(): void {
    if (this.out.length === 0) return;
    this.written += writeAll(this.fd, this.out, this.written);
    this.out = '';
  }
}

/** Writes a latin1 string at `position` completely; returns the byte count. */
export function writeAll(fd: number, text: string, position: number | null): number {
  const total = text.length;
  let done = writeSync(fd, text, position, 'latin1');
  if (done < total) {
    // Short writes are rare on regular files; finish with a buffer of the rest.
    const rest = Buffer.from(text.slice(done), 'latin1');
    let off = 0;
    while (off < rest.length) {
      off += writeSync(fd, rest, off, rest.length - off, position === null ? null : position + done + off);
    }
    done = total;
  }
  return done;
}
