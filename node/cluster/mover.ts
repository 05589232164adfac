// The source side of the slot mover (TESSERA.MIGRATE SLOT): pushes whole hash-tag groups of a
// migrating slot to the target over one connection per target (reused), pipelined, and deletes a
// key here only once the target acknowledged it. Small keys go as TESSERA.IMPORT RESTORE-BATCH
// KEEP|REPLACE key <abs-ms> payload … (Redis's DUMP format, absolute expiry): one command and one
// array reply per sub-batch, and one DEL of its keys here once acknowledged. Big keys (>
// BIG_ELEMENTS elements or > BIG_BYTES) go in element chunks to a hidden temporary key on the
// target (node/cluster/import.ts), renamed into place by a final COMMIT. No ASKING: the target's
// TESSERA.IMPORT commands check the importing state themselves, so a target must know
// RESTORE-BATCH (older targets refuse it; the groups then stay here, in doubt, nothing lost).
//
// No acknowledged move is ever undone, and no newer write overwritten (docs/compatibility.md,
// "Slot ownership"):
// - a batch is deleted here only once the target's replicas hold it too (TESSERA.REPLOFFSET right
//   after the batch on its link, then TESSERA.WAITOFFSET for every replica attached, on a second
//   link): a target master that dies and is replaced by its replica has lost nothing deleted here;
// - the DELs of a batch's keys are on disk (host.durable: an fsync of the AOF, in the background)
//   before the group is released or the batch reported moved, so a source that crashes and
//   restarts never brings back a key clients have since written or deleted on the target;
// - the target keeps a copy it holds that a client wrote (answering KEPT: this copy is deleted as
//   if moved); a group whose earlier send failed here (no reply, refused, cancelled) is sent with
//   REPLACE, since the copy here kept being served while the target's was never visible.
//
// While a group is in flight it is locked (node/keyspace/key-locks.ts): commands on it wait, then
// run against the new state. A big key's group stays locked for its whole move (commands on it
// wait; commands on other keys never do), since the chunks are read from the live value. An
// interrupted big key resumes from the target's progress when the value here is unchanged since
// (db.untouched), else starts over; the target refuses a chunk that does not continue its partial
// key, so no element is ever added twice. Work is sliced: every slice yields to the event loop, so
// other clients never wait for more than a slice (a chunk or a sub-batch: well under a few ms).
// The throttle (keys and bytes per second) is a rate over every move of this node, settable at
// any time (TESSERA.MIGRATE THROTTLE).
import { encodeCommand } from '../../common/resp/encode.js';
import { ReplyErrorValue, SimpleString, type Reply } from '../../common/resp/reply-decoder.js';
import { hashTag, slotOf } from '../../common/slots.js';
import { createDumpPayload } from '../persistence/dump.js';
import type { Db, Entry } from '../keyspace/db.js';
import type { KeyLocks } from '../keyspace/key-locks.js';
import { HashValue } from '../keyspace/types/hash-value.js';
import { ListValue } from '../keyspace/types/list-value.js';
import { SetValue } from '../keyspace/types/set-value.js';
import type { StoredValue } from '../keyspace/types/value.js';
import { ZSetValue } from '../keyspace/types/zset-value.js';
import { KEPT, RESTORE_BATCH_MAX_KEYS, type ChunkType } from './import.js';
import { LinkError as MoveError, TargetLink } from './target-link.js';
import { Throttle } from './throttle.js';

export const BIG_ELEMENTS = 1024;
export const BIG_BYTES = 1024 * 1024;
/** Elements and bytes of one chunk of a big key (one command on the target). */
const CHUNK_ELEMENTS = 1024;
const CHUNK_BYTES = 256 * 1024;
/**
 * One pipelined write of small keys, and how many such writes may await their replies. What is in
 * flight is also what the target may find buffered at once, and libuv reads a busy socket many
 * times per loop turn: keeping it to a few hundred KB keeps the target's other clients served.
 */
const SUB_BATCH_KEYS = 256;
const SUB_BATCH_BYTES = 64 * 1024;
const WINDOW = 8;
/**
 * Keys of small-key batches locked at once, over every slot this node moves (a command on one
 * waits until its batch is acknowledged by the target and its replicas). A batch's lock lasts as
 * long as what is queued ahead of it on the target, so more in flight does not move keys faster
 * once the target is busy; it only locks more of them, for longer. 16 slots of ~100 keys each in
 * flight held 1,568 keys locked for 110 ms (p50) in the Codis-sized bench on a loaded machine:
 * 1.2% of random requests waited for a batch, over the 1% a p99 can afford.
 */
export const MAX_LOCKED_KEYS = 128;
/**
 * The least room a call waits for before taking a batch (unless it wants, or the slot holds, fewer
 * keys): with many slots moving at once, room freed a few keys at a time made batches of a few
 * keys, and each batch costs both sides a round of writes and replica acks however small it is
 * (16 slots of ~100 keys: 1,290 batches for 50,000 keys, 1,000 with this). Locks no more keys.
 */
const MIN_BATCH_KEYS = 32;
/** Keys of one propagated DEL of moved keys (a group bigger than a sub-batch takes several). */
export const DEL_MAX_KEYS = 1024;
/** Chunks of a big key in flight at once. */
const CHUNK_WINDOW = 4;
/** Keys of a slot grouped by tag per slice (the grouping pass yields between slices). */
const GROUP_SLICE = 5000;
/** Slots whose grouping is kept between calls. */
const GROUP_CACHE = 64;

export const DEFAULT_MAX_KEYS = 100;
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 10_000;

/** An error whose message is the reply (without "-"); the target link fails with the same kind. */
export { LinkError as MoveError } from './target-link.js';

export interface MoveOptions {
  maxKeys: number;
  maxBytes: number;
  /** Longest wait for the target (connect, auth, any reply) before the call fails. */
  timeoutMs: number;
}

export interface MoveResult {
  moved: number;
  bytes: number;
  remaining: number;
}

/** What the mover needs from the node. */
export interface MoverHost {
  readonly db: Db;
  readonly locks: KeyLocks;
  /** AUTH arguments for the target ([] if none): masteruser/masterauth, else requirepass. */
  authArgs(): string[];
  rdbCompression(): boolean;
  now(): number;
  /** Whether the slot is still migrating to that target (a cancel or a switch ends the move). */
  stillMigrating(slot: number, target: string): boolean;
  /**
   * Keys moved (deleted here, of one slot, at most DEL_MAX_KEYS): propagate one DEL of them all to
   * replicas and the AOF, wake WATCH and blocked clients on each.
   */
  deleted(keys: readonly string[]): void;
  /** Resolves once the DELs propagated so far are on disk (an AOF fsync; at once without an AOF). */
  durable(): Promise<void>;
  log(level: 'notice' | 'warning', message: string): void;
}

const yieldTick = (): Promise<void> => new Promise((r) => setImmediate(r));

// ------------------------------------------------------------------------ target link

// ------------------------------------------------------------------------ batches

/** One group sent: its tag (locked), its keys with the entries sent (a result each). */
interface SentGroup {
  tag: string;
  keys: string[];
  entries: Entry[];
}

interface Batch {
  groups: SentGroup[];
  commands: RestoreCommands;
  bytes: number;
  keys: number;
  /** performance.now() when its first group was locked (STATUS: how long commands on it may wait). */
  lockedAt: number;
}

/**
 * How long small-key batches held their groups locked (a command on one of their keys waits that
 * long at most): count, Σ ms × keys (÷ keys × wall ms = the share of keys locked at a random
 * moment), max, and 1 ms buckets up to LOCK_HIST_MS for the percentiles. Fixed size, no allocation.
 */
const LOCK_HIST_MS = 256;
class LockTimes {
  count = 0;
  keyMs = 0;
  maxMs = 0;
  private readonly hist = new Uint32Array(LOCK_HIST_MS + 1);

  add(ms: number, keys: number): void {
    this.count++;
    this.keyMs += ms * keys;
    if (ms > this.maxMs) this.maxMs = ms;
    this.hist[Math.min(LOCK_HIST_MS, Math.floor(ms))]++;
  }

  /** Upper bound (ms, 1 ms resolution) under which a share q of the batches released their lock. */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const want = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i <= LOCK_HIST_MS; i++) {
      seen += this.hist[i]!;
      if (seen >= want) return i + 1;
    }
    return LOCK_HIST_MS + 1;
  }
}

/** The tag groups of one slot, built once per migration (no key is added here while it migrates). */
interface SlotGroups {
  slot: number;
  target: string;
  tags: string[];
  byTag: Map<string, string[]>;
  next: number;
}

/** Where an interrupted big key stood: resumed from there if its value here is unchanged. */
interface BigResume {
  target: string;
  entry: Entry;
  total: number;
  acked: number;
}

/** A batch waiting for the target's replicas to hold position `offset` of history `replId`. */
interface OffsetWait {
  replId: string;
  offset: number;
  n: number;
  timeoutMs: number;
  resolve(acked: number): void;
  reject(err: Error): void;
}

interface OffsetWaits {
  busy: boolean;
  queue: OffsetWait[];
}

/** Groups whose send failed, per target, kept at most this many (beyond, the target's own rule decides). */
const IN_DOUBT_MAX = 100_000;
/** Interrupted big keys remembered for a resume. */
const RESUME_MAX = 64;

export class Mover {
  private readonly links = new Map<string, TargetLink>();
  /**
   * Per target, the link big keys' chunks go over: a batch of small keys never queues behind a
   * window of chunks on the target (their locks, and the commands waiting on them, would).
   */
  private readonly bigLinks = new Map<string, TargetLink>();
  /** Keys locked by small-key batches in flight (MAX_LOCKED_KEYS), and the calls waiting for room. */
  private lockedKeys = 0;
  private readonly roomWaiters: Array<() => void> = [];
  /** Per target, a second link for TESSERA.WAITOFFSET (it blocks its connection, not the batches'). */
  private readonly waitLinks = new Map<string, TargetLink>();
  /** Per target, the replica waits asked for and whether one is under way. */
  private readonly waits = new Map<string, OffsetWaits>();
  private readonly running = new Set<number>();
  /** Grouping passes of slots being moved (several may move at once), oldest dropped first. */
  private readonly groups = new Map<number, SlotGroups>();
  /**
   * Per target, tags of groups sent there whose outcome is unknown or failed while they stayed
   * here (and kept being served): the copy here counts, so they go again with REPLACE.
   */
  private readonly inDoubt = new Map<string, Set<string>>();
  private readonly resumes = new Map<string, BigResume>();
  readonly throttle: Throttle;
  // STATUS
  private currentSlot = -1;
  private currentTarget: string | null = null;
  private keysMoved = 0;
  private bytesMoved = 0;
  private keysKept = 0;
  private bigKey: string | null = null;
  private bigDone = 0;
  private bigTotal = 0;
  private bigResumedAt = 0;
  private readonly lockTimes = new LockTimes();

  constructor(private readonly host: MoverHost) {
    this.throttle = new Throttle(() => Date.now());
  }

  isRunning(slot: number): boolean {
    return this.running.has(slot);
  }

  status(): Array<[string, string | number | null]> {
    const t = this.throttle.status();
    return [
      ['slot', this.currentSlot],
      ['target', this.currentTarget],
      ['keys_moved', this.keysMoved],
      ['bytes_moved', this.bytesMoved],
      ['big_key', this.bigKey],
      ['big_key_done', this.bigDone],
      ['big_key_total', this.bigTotal],
      ['big_key_resumed_at', this.bigResumedAt],
      ['keys_kept_on_target', this.keysKept],
      ['throttle_keys_per_sec', t.keysPerSec],
      ['throttle_bytes_per_sec', t.bytesPerSec],
      ['throttle_waited_ms', t.waitedMs],
      ['batch_locks', this.lockTimes.count],
      ['batch_lock_p50_ms', this.lockTimes.percentile(0.5)],
      ['batch_lock_p99_ms', this.lockTimes.percentile(0.99)],
      ['batch_lock_max_ms', Math.round(this.lockTimes.maxMs)],
      ['batch_lock_key_ms', Math.round(this.lockTimes.keyMs)],
    ];
  }

  /** Moves about opts.maxKeys keys / opts.maxBytes bytes of `slot` to `target`. */
  async migrateSlot(slot: number, target: string, opts: MoveOptions): Promise<MoveResult> {
    if (this.running.has(slot)) throw new MoveError(`BUSY slot ${slot} migration in progress`);
    this.running.add(slot);
    this.currentSlot = slot;
    this.currentTarget = target;
    try {
      return await this.run(slot, target, opts);
    } finally {
      this.running.delete(slot);
      // Several slots may move at once: only the last call to end clears the big key (another
      // slot's may still be moving; moveBigKey clears its own).
      if (this.running.size === 0) {
        this.currentSlot = -1;
        this.bigKey = null;
      }
    }
  }

  private async run(slot: number, target: string, opts: MoveOptions): Promise<MoveResult> {
    const db = this.host.db;
    const result: MoveResult = { moved: 0, bytes: 0, remaining: 0 };
    if (db.slots.count(slot) > 0) {
      const link = await this.linkTo(this.links, target, opts.timeoutMs);
      let groups = await this.groupsOf(slot, target, false);
      let rebuilt = false;
      const inflight: Array<Promise<void>> = [];
      let firstError: unknown = null;
      const track = (p: Promise<void>): void => {
        inflight.push(p.catch((err) => {
          firstError ??= err;
        }));
      };
      // The limits count what was taken (batches in flight are not acknowledged yet).
      let takenKeys = 0;
      let takenBytes = 0;
      while (firstError === null && takenKeys < opts.maxKeys && takenBytes < opts.maxBytes) {
        // The throttle's wait comes before any group is locked: nothing is held meanwhile.
        await this.throttle.pace();
        if (firstError !== null) break;
        // (The slot's count still includes the keys in flight: it only lowers the wait for a small slot.)
        const room = await this.reserveRoom(Math.min(MIN_BATCH_KEYS, opts.maxKeys - takenKeys, db.slots.count(slot)));
        // The room is ours until the batch is taken: what it did not lock goes back at once.
        const batch = firstError !== null ? null : this.takeBatch(groups, Math.min(room, opts.maxKeys - takenKeys), opts.maxBytes - takenBytes);
        this.releaseRoom(room - (batch === null || batch === 'big' ? 0 : batch.keys));
        if (firstError !== null) break;
        if (batch === 'big') {
          await Promise.all(inflight.splice(0));
          if (firstError !== null) break;
          const group = this.takeGroup(groups)!;
          const before = result.bytes;
          await this.moveBigGroup(await this.linkTo(this.bigLinks, target, opts.timeoutMs), group, result, opts.timeoutMs);
          takenKeys += group.keys.length;
          takenBytes += result.bytes - before;
          continue;
        }
        if (batch === null) {
          // Keys the grouping pass did not see (rare: created by a script): group again once,
          // after the batches in flight are done (their keys are still here until acknowledged).
          await Promise.all(inflight.splice(0));
          if (firstError !== null || rebuilt || db.slots.count(slot) === 0) break;
          rebuilt = true;
          groups = await this.groupsOf(slot, target, true);
          continue;
        }
        this.throttle.charge(batch.keys, batch.bytes);
        takenKeys += batch.keys;
        takenBytes += batch.bytes;
        track(this.send(link, batch, result, opts.timeoutMs));
        if (inflight.length >= WINDOW) await inflight.shift();
        await yieldTick();
      }
      await Promise.all(inflight);
      if (firstError !== null) throw firstError;
    }
    result.remaining = db.slots.count(slot);
    if (result.remaining === 0) this.groups.delete(slot);
    return result;
  }

  private async linkTo(links: Map<string, TargetLink>, target: string, timeoutMs: number): Promise<TargetLink> {
    const cached = links.get(target);
    if (cached?.alive) {
      cached.setTimeout(timeoutMs);
      return cached;
    }
    links.delete(target);
    const link = await TargetLink.open(target, timeoutMs, this.host.authArgs());
    links.set(target, link);
    return link;
  }

  /**
   * Waits until at least `min` more keys may be locked by batches in flight (of MAX_LOCKED_KEYS),
   * then reserves all the room left (the caller takes a batch at once and gives back what it did
   * not lock: several calls woken together cannot each take the same room). A batch of one big
   * tag group may take more than the room: one group is always taken whole.
   */
  private async reserveRoom(min: number): Promise<number> {
    while (MAX_LOCKED_KEYS - this.lockedKeys < Math.max(1, min)) await new Promise<void>((r) => this.roomWaiters.push(r));
    const room = MAX_LOCKED_KEYS - this.lockedKeys;
    this.lockedKeys = MAX_LOCKED_KEYS;
    return room;
  }

  /** Keys no longer locked (a batch settled, or room not taken): the calls waiting for room go on, in the order they came. */
  private releaseRoom(keys: number): void {
    if (keys === 0) return;
    this.lockedKeys -= keys;
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  closeLinks(): void {
    for (const l of this.links.values()) l.close();
    this.links.clear();
    for (const l of this.bigLinks.values()) l.close();
    this.bigLinks.clear();
    for (const l of this.waitLinks.values()) l.close();
    this.waitLinks.clear();
  }

  /**
   * Resolves once the target's replicas hold what the link carried up to `probe` (the replies of
   * REPL_PROBE, sent on the batch link right after the batch): [replid, offset] and how many
   * replicas are attached. None attached: nothing to wait for. Otherwise TESSERA.WAITOFFSET on
   * the wait link, for all of them; fewer in time throws, and the caller deletes nothing (a
   * replica promoted after a target master's death must hold every key deleted here).
   */
  private async replicated(target: string, probe: readonly Reply[], timeoutMs: number): Promise<void> {
    const [pos, count] = probe;
    if (pos instanceof ReplyErrorValue) throw new MoveError(`ERR target refused: ${pos.message}`);
    if (count instanceof ReplyErrorValue) throw new MoveError(`ERR target refused: ${count.message}`);
    const n = typeof count === 'number' ? count : 0;
    if (n === 0) return;
    if (!Array.isArray(pos) || pos.length !== 2) throw new MoveError('ERR target sent an unexpected TESSERA.REPLOFFSET reply');
    const replId = String(pos[0]);
    const offset = Number(pos[1]);
    const acked = await this.waitOffset(target, { replId, offset, n, timeoutMs });
    if (acked < n) {
      throw new MoveError(`ERR target ${target} replicas did not acknowledge the batch within ${timeoutMs} ms (${String(acked)} of ${n}): nothing deleted`);
    }
  }

  /**
   * One TESSERA.WAITOFFSET at a time per target (it blocks its connection until answered), for
   * the highest position asked meanwhile: the batches of a window share one wait, and each wait
   * starts when it is sent, so its own deadline holds. Resolves with the replicas that acked.
   */
  private waitOffset(target: string, w: Omit<OffsetWait, 'resolve' | 'reject'>): Promise<number> {
    let q = this.waits.get(target);
    if (q === undefined) this.waits.set(target, (q = { busy: false, queue: [] }));
    const queue = q;
    const p = new Promise<number>((resolve, reject) => queue.queue.push({ ...w, resolve, reject }));
    if (!queue.busy) void this.pumpWaits(target, queue);
    return p;
  }

  private async pumpWaits(target: string, q: OffsetWaits): Promise<void> {
    q.busy = true;
    try {
      while (q.queue.length > 0) {
        // Positions of one history only (the replid changes with a failover of the target).
        const replId = q.queue[0]!.replId;
        const group = q.queue.filter((w) => w.replId === replId);
        q.queue = q.queue.filter((w) => w.replId !== replId);
        let offset = 0;
        let n = 0;
        let timeoutMs = 0;
        for (const w of group) {
          offset = Math.max(offset, w.offset);
          n = Math.max(n, w.n);
          timeoutMs = Math.max(timeoutMs, w.timeoutMs);
        }
        try {
          const link = await this.waitLinkTo(target, timeoutMs);
          const [acked] = await link.request(encodeCommand(['TESSERA.WAITOFFSET', replId, String(offset), String(n), String(timeoutMs)]), 1);
          if (acked instanceof ReplyErrorValue) throw new MoveError(`ERR target refused: ${acked.message}`);
          if (typeof acked !== 'number') throw new MoveError('ERR target sent an unexpected TESSERA.WAITOFFSET reply');
          for (const w of group) w.resolve(acked);
        } catch (err) {
          // The wait link failed (target dead or silent): the waits asked meanwhile would only
          // queue for the same fate, one deadline after another; they fail now.
          for (const w of group.concat(q.queue.splice(0))) w.reject(err as Error);
        }
      }
    } finally {
      q.busy = false;
    }
  }

  private async waitLinkTo(target: string, timeoutMs: number): Promise<TargetLink> {
    // WAITOFFSET answers by its own timeout: the link's deadline leaves it room to.
    const linkTimeout = timeoutMs + WAIT_MARGIN_MS;
    const cached = this.waitLinks.get(target);
    if (cached?.alive) {
      cached.setTimeout(linkTimeout);
      return cached;
    }
    this.waitLinks.delete(target);
    const link = await TargetLink.open(target, linkTimeout, this.host.authArgs());
    this.waitLinks.set(target, link);
    return link;
  }

  /** Groups the slot's keys by hash tag, in slices so a big slot never stalls the loop. */
  private async groupsOf(slot: number, target: string, fresh: boolean): Promise<SlotGroups> {
    const g = this.groups.get(slot);
    if (!fresh && g !== undefined && g.target === target) return g;
    const db = this.host.db;
    const keys = db.slots.keysOf(slot).slice();
    const byTag = new Map<string, string[]>();
    const tags: string[] = [];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      // A partial import left from when this node imported the slot is not data to move.
      if (db.isHidden(key)) continue;
      const tag = hashTag(key);
      const list = byTag.get(tag);
      if (list === undefined) {
        byTag.set(tag, [key]);
        tags.push(tag);
      } else list.push(key);
      if (i % GROUP_SLICE === GROUP_SLICE - 1) await yieldTick();
    }
    const built: SlotGroups = { slot, target, tags, byTag, next: 0 };
    this.groups.delete(slot);
    this.groups.set(slot, built);
    if (this.groups.size > GROUP_CACHE) this.groups.delete(this.groups.keys().next().value!);
    return built;
  }

  /** The next group with keys still here (expired ones drop out), or null. */
  private peekGroup(g: SlotGroups): { tag: string; keys: string[]; entries: Entry[] } | null {
    const db = this.host.db;
    while (g.next < g.tags.length) {
      const tag = g.tags[g.next]!;
      const keys: string[] = [];
      const entries: Entry[] = [];
      for (const key of g.byTag.get(tag)!) {
        const e = db.peek(key);
        if (e !== undefined) {
          keys.push(key);
          entries.push(e);
        }
      }
      if (keys.length > 0) return { tag, keys, entries };
      g.next++;
    }
    return null;
  }

  private takeGroup(g: SlotGroups): { tag: string; keys: string[]; entries: Entry[] } | null {
    const group = this.peekGroup(g);
    if (group !== null) g.next++;
    return group;
  }

  private replaceFor(target: string, tag: string): boolean {
    const set = this.inDoubt.get(target);
    return set !== undefined && set.has(tag);
  }

  private markInDoubt(target: string, tag: string): void {
    let set = this.inDoubt.get(target);
    if (set === undefined) this.inDoubt.set(target, (set = new Set()));
    if (set.size < IN_DOUBT_MAX) set.add(tag);
  }

  private clearInDoubt(target: string, tag: string): void {
    const set = this.inDoubt.get(target);
    if (set !== undefined && set.size !== 0) set.delete(tag);
  }

  /** Adds one small key to the batch's RESTORE-BATCH commands (REPLACE when its group is in doubt); returns its bytes. */
  private addRestore(key: string, e: Entry, replace: boolean, out: RestoreCommands): number {
    const payload = dumpOf(e.value, this.host.rdbCompression());
    out.add(key, e.expireAt, payload, replace);
    return payload.length + key.length;
  }

  /**
   * Builds one pipelined write of whole small groups (locking each), 'big' when the next group
   * holds a big key (moved on its own), or null when the slot has no group left.
   */
  private takeBatch(g: SlotGroups, keysLeft: number, bytesLeft: number): Batch | 'big' | null {
    const batch: Batch = { groups: [], commands: new RestoreCommands(), bytes: 0, keys: 0, lockedAt: performance.now() };
    const maxKeys = this.throttle.batchKeys(Math.min(SUB_BATCH_KEYS, keysLeft));
    const maxBytes = this.throttle.batchBytes(Math.min(SUB_BATCH_BYTES, bytesLeft));
    while (batch.keys < maxKeys && batch.bytes < maxBytes) {
      const group = this.peekGroup(g);
      if (group === null) break;
      if (group.entries.some((e) => isBig(e.value))) {
        if (batch.groups.length === 0) return 'big';
        break;
      }
      g.next++;
      const replace = this.replaceFor(g.target, group.tag);
      for (let i = 0; i < group.keys.length; i++) batch.bytes += this.addRestore(group.keys[i]!, group.entries[i]!, replace, batch.commands);
      this.host.locks.lockTag(group.tag);
      batch.groups.push(group);
      batch.keys += group.keys.length;
    }
    batch.commands.close();
    return batch.groups.length === 0 ? null : batch;
  }

  /**
   * Sends a batch; on the replies deletes here every group the target took whole (one DEL
   * propagated for them all), makes those DELs durable, then unlocks. A group without a clean
   * answer stays here, in doubt.
   */
  private async send(link: TargetLink, batch: Batch, result: MoveResult, timeoutMs: number): Promise<void> {
    let results: Reply[] | null = null;
    let refused: Error | null = null;
    const commands = batch.commands.counts.length;
    try {
      const replies = await link.request(Buffer.concat([...batch.commands.parts, REPL_PROBE]), commands + REPL_PROBE_REPLIES);
      // Nothing is deleted here before the target's replicas hold the batch too.
      await this.replicated(link.address, replies.slice(commands), timeoutMs);
      results = batch.commands.perKey(replies);
    } catch (err) {
      refused = err as Error;
      results = null;
    }
    let finished = 0;
    try {
      const deleted: string[] = [];
      try {
        let at = 0;
        for (const group of batch.groups) {
          const mine = results === null ? null : results.slice(at, at + group.keys.length);
          at += group.keys.length;
          const err = mine === null ? 'no reply' : firstErrorOf(mine);
          if (err !== null) {
            refused ??= new MoveError(`ERR target refused: ${err}`);
            this.markInDoubt(link.address, group.tag);
            continue;
          }
          try {
            this.finishGroup(group, result, 0, link.address, keptIn(mine!), deleted);
            finished++;
          } catch (e) {
            refused ??= e as Error;
            this.markInDoubt(link.address, group.tag);
          }
        }
      } finally {
        // Whatever happened above, what was deleted here reaches replicas and the AOF now.
        this.propagateDeletes(deleted);
      }
      if (finished !== 0) await this.host.durable();
    } finally {
      for (const group of batch.groups) this.host.locks.unlockTag(group.tag);
      this.lockTimes.add(performance.now() - batch.lockedAt, batch.keys);
      this.releaseRoom(batch.keys);
    }
    if (results !== null) {
      result.bytes += batch.bytes;
      this.bytesMoved += batch.bytes;
    }
    if (refused !== null) throw refused;
  }

  /**
   * The target holds the group (or kept a newer copy of some keys): delete it here, only entries
   * unchanged since they were sent (the group is locked, so only expiry or eviction differs),
   * adding the keys deleted to `deleted`; the caller propagates them (propagateDeletes) before
   * anything else runs.
   */
  private finishGroup(group: SentGroup, result: MoveResult, extraBytes: number, target: string, kept: number, deleted: string[]): void {
    const db = this.host.db;
    // Cancelled or switched meanwhile: the copy here stays the one that counts (the target's is
    // in a slot it will not serve; a move back keeps this one).
    const slot = slotOf(group.keys[0]!);
    if (!this.host.stillMigrating(slot, target)) throw new MoveError(`ERR slot ${slot} is not migrating to ${target}`);
    for (let i = 0; i < group.keys.length; i++) {
      const key = group.keys[i]!;
      if (db.dict.get(key) !== group.entries[i]) continue;
      db.delete(key);
      deleted.push(key);
    }
    this.clearInDoubt(target, group.tag);
    result.moved += group.keys.length;
    this.keysMoved += group.keys.length;
    this.keysKept += kept;
    result.bytes += extraBytes;
    this.bytesMoved += extraBytes;
  }

  /** One DEL per DEL_MAX_KEYS keys deleted here, to replicas and the AOF (and the wake-ups per key). */
  private propagateDeletes(keys: string[]): void {
    if (keys.length <= DEL_MAX_KEYS) {
      if (keys.length !== 0) this.host.deleted(keys);
      return;
    }
    for (let i = 0; i < keys.length; i += DEL_MAX_KEYS) this.host.deleted(keys.slice(i, i + DEL_MAX_KEYS));
  }

  /**
   * A group with a big key: locked for the whole move. Small members go as RESTOREs, big ones in
   * chunks, then COMMIT; the group is deleted here once every part was acknowledged, and the
   * lock released once those DELs are durable.
   */
  private async moveBigGroup(
    link: TargetLink, group: { tag: string; keys: string[]; entries: Entry[] }, result: MoveResult, timeoutMs: number,
  ): Promise<void> {
    const locks = this.host.locks;
    locks.lockTag(group.tag);
    let bytes = 0;
    let kept = 0;
    const replace = this.replaceFor(link.address, group.tag);
    try {
      try {
        for (let i = 0; i < group.keys.length; i++) {
          const key = group.keys[i]!;
          const e = group.entries[i]!;
          if (this.host.db.dict.get(key) !== e) continue;
          if (isBig(e.value)) {
            const r = await this.moveBigKey(link, key, e, replace);
            bytes += r.bytes;
            if (r.kept) kept++;
          } else {
            const cmd = new RestoreCommands();
            bytes += this.addRestore(key, e, replace, cmd);
            cmd.close();
            const results = cmd.perKey(await link.request(Buffer.concat(cmd.parts), cmd.counts.length));
            const err = firstErrorOf(results);
            if (err !== null) throw new MoveError(`ERR target refused: ${err}`);
            kept += keptIn(results);
          }
        }
        await this.replicated(link.address, await link.request(REPL_PROBE, REPL_PROBE_REPLIES), timeoutMs);
        const deleted: string[] = [];
        try {
          this.finishGroup(group, result, bytes, link.address, kept, deleted);
        } finally {
          this.propagateDeletes(deleted);
        }
      } catch (err) {
        this.markInDoubt(link.address, group.tag);
        throw err;
      }
      await this.host.durable();
    } finally {
      locks.unlockTag(group.tag);
    }
  }

  /**
   * Streams one big key in chunks with a window of chunks in flight, from where an interrupted
   * attempt left it when that is safe; returns the bytes sent and whether the target kept its copy.
   */
  private async moveBigKey(link: TargetLink, key: string, e: Entry, replace: boolean): Promise<{ bytes: number; kept: boolean }> {
    const value = e.value;
    const type = typeOf(value);
    const total = elementCount(value);
    const db = this.host.db;
    this.bigKey = key;
    this.bigTotal = total;
    let pos = this.resumePoint(key, e, link.address, total);
    this.bigResumedAt = pos;
    this.bigDone = pos;
    const out = { bytes: 0, kept: false };
    let acked = pos;
    let restarted = false;
    let committing = false;
    try {
      for (;;) {
        const r = await this.streamChunks(link, key, e, type, total, pos, out, (n) => {
          acked = n;
        });
        if (r === 'gone') return out;
        if (r === 'done') break;
        // The target's partial key is not where we thought: resume from it if our value is
        // unchanged since it was sent (a list must never get an element twice), else start over.
        if (restarted) throw new MoveError(`ERR target refused: ${r.message}`);
        restarted = true;
        pos = r.have > 0 && r.have <= total && this.resumable(key, e, link.address) ? r.have : 0;
        this.bigResumedAt = pos;
        acked = pos;
      }
      if (db.dict.get(key) !== e) return out;
      if (!this.host.stillMigrating(slotOf(key), link.address)) throw new MoveError(`ERR slot ${slotOf(key)} is not migrating to ${link.address}`);
      const commit = ['TESSERA.IMPORT', 'COMMIT', key, String(e.expireAt), String(total)];
      if (replace) commit.push('REPLACE');
      committing = true;
      const replies = await link.request(encodeCommand(commit), 1);
      const err = firstErrorOf(replies);
      if (err !== null) throw new MoveError(`ERR target refused: ${err}`);
      out.kept = keptIn(replies) > 0;
      this.resumes.delete(key);
      return out;
    } catch (err) {
      // A failed COMMIT starts over next time (the partial may not be what we think).
      if (committing) this.resumes.delete(key);
      else this.noteResume(key, e, link.address, total, acked);
      throw err;
    } finally {
      this.bigKey = null;
    }
  }

  /**
   * Sends the chunks from `pos` on; 'done' when all were acknowledged, 'gone' when the key went
   * away meanwhile (expiry, eviction, flush: the partial is dropped on the target), or where the
   * target's partial key really stands when a chunk did not continue it.
   */
  private async streamChunks(
    link: TargetLink, key: string, e: Entry, type: ChunkType, total: number, start: number,
    out: { bytes: number }, onAck: (n: number) => void,
  ): Promise<'done' | 'gone' | { have: number; message: string }> {
    const value = e.value;
    const inflight: Array<{ end: number; reply: Promise<Reply[]> }> = [];
    let mismatch: { have: number; message: string } | null = null;
    const settle = async (): Promise<void> => {
      const head = inflight.shift()!;
      const replies = await head.reply;
      const err = firstErrorOf(replies);
      if (err === null) {
        if (mismatch === null) onAck(head.end);
        // A later chunk of the window may continue the partial key after all (it held exactly
        // that chunk's start): the partial then stands where this reply says.
        else if (typeof replies[0] === 'number') mismatch.have = replies[0];
        return;
      }
      const m = /^ERR partial import holds (\d+) elements/.exec(err);
      if (m === null) throw new MoveError(`ERR target refused: ${err}`);
      if (mismatch === null) mismatch = { have: Number(m[1]), message: err };
      else mismatch.have = Number(m[1]);
    };
    let pos = start;
    // Replies still owed when this throws belong to this attempt only (each has its handler).
    while (pos < total || pos === 0) {
      if (this.host.db.dict.get(key) !== e) {
        // Expired or removed meanwhile (the group is locked, so only expiry, eviction or a
        // flush): nothing to move; drop what the target holds of it.
        while (inflight.length > 0) await settle().catch(() => {});
        const r = await link.request(encodeCommand(['TESSERA.IMPORT', 'ABORT', key]), 1);
        const err = firstErrorOf(r);
        if (err !== null) throw new MoveError(`ERR target refused: ${err}`);
        this.resumes.delete(key);
        return 'gone';
      }
      // A cancel or switch stops a big key at once (the partial is dropped by the target when
      // its slot stops importing, or resumed if the slot migrates there again).
      if (!this.host.stillMigrating(slotOf(key), link.address)) throw new MoveError(`ERR slot ${slotOf(key)} is not migrating to ${link.address}`);
      await this.throttle.pace();
      const args = ['TESSERA.IMPORT', 'CHUNK', key, type, String(pos)];
      const before = pos;
      pos = appendChunk(value, pos, args);
      let bytes = 0;
      for (let i = 5; i < args.length; i++) bytes += args[i]!.length;
      out.bytes += bytes;
      this.throttle.charge(0, bytes);
      const reply = link.request(encodeStrings(args), 1);
      // Awaited in its turn by settle(): a link failure rejects every chunk of the window at
      // once, while the loop may be waiting for the throttle or a tick. Unhandled meanwhile,
      // that rejection ended the whole process (Node's default), and the call never answered.
      reply.catch(() => {});
      inflight.push({ end: pos, reply });
      if (inflight.length >= CHUNK_WINDOW) await settle();
      if (mismatch !== null) break;
      this.bigDone = pos;
      if (pos === before) break;
      await yieldTick();
    }
    while (inflight.length > 0) await settle();
    return mismatch ?? 'done';
  }

  /** Where to start a big key: an interrupted attempt's acknowledged position, if still safe. */
  private resumePoint(key: string, e: Entry, target: string, total: number): number {
    const r = this.resumes.get(key);
    if (r === undefined) return 0;
    if (r.target !== target || r.entry !== e || r.total !== total || !this.host.db.isUntouched(key, e)) {
      this.resumes.delete(key);
      return 0;
    }
    return r.acked;
  }

  private resumable(key: string, e: Entry, target: string): boolean {
    const r = this.resumes.get(key);
    return r !== undefined && r.target === target && r.entry === e && this.host.db.isUntouched(key, e);
  }

  /** An interrupted big key: remembered with the entry, which a write here makes "touched". */
  private noteResume(key: string, e: Entry, target: string, total: number, acked: number): void {
    if (this.host.db.dict.get(key) !== e) return;
    const known = this.resumes.get(key);
    // The mark is taken at the first interruption: a write since then must not be missed.
    if (known === undefined || known.entry !== e || !this.host.db.isUntouched(key, e)) this.host.db.noteUntouched(key, e);
    this.resumes.delete(key);
    this.resumes.set(key, { target, entry: e, total, acked });
    if (this.resumes.size > RESUME_MAX) this.resumes.delete(this.resumes.keys().next().value!);
  }
}

/**
 * Sent on the batch link after a batch: the replication position covering it, and how many
 * replicas are attached (WAITOFFSET for offset 0 and 0 replicas answers at once with that count).
 */
const REPL_PROBE = Buffer.concat([encodeCommand(['TESSERA.REPLOFFSET']), encodeCommand(['TESSERA.WAITOFFSET', '*', '0', '0', '0'])]);
const REPL_PROBE_REPLIES = 2;
/** How much longer than a WAITOFFSET's own timeout its link waits for the answer. */
const WAIT_MARGIN_MS = 1000;

/**
 * The TESSERA.IMPORT RESTORE-BATCH commands of a batch: a new one when the REPLACE flag changes
 * (groups in doubt are rare: usually one command) or one holds RESTORE_BATCH_MAX_KEYS keys.
 */
class RestoreCommands {
  readonly parts: Buffer[] = [];
  /** Keys of each command, which is also the length of its array reply. */
  readonly counts: number[] = [];
  private args: Array<string | Buffer> = [];
  private replace = false;

  add(key: string, expireAt: number, payload: Buffer, replace: boolean): void {
    if (this.args.length !== 0 && (replace !== this.replace || this.args.length - 3 >= 3 * RESTORE_BATCH_MAX_KEYS)) this.close();
    if (this.args.length === 0) {
      this.args.push('TESSERA.IMPORT', 'RESTORE-BATCH', replace ? 'REPLACE' : 'KEEP');
      this.replace = replace;
    }
    this.args.push(key, String(expireAt), payload);
  }

  /**
   * The per-key results of the commands' replies, in the order the keys were added: a command
   * refused whole (an error, or an answer that is not one result per key) fails each of its keys.
   */
  perKey(replies: readonly Reply[]): Reply[] {
    const out: Reply[] = [];
    for (let i = 0; i < this.counts.length; i++) {
      const r = replies[i];
      const n = this.counts[i]!;
      if (Array.isArray(r) && r.length === n) {
        for (const x of r) out.push(x);
        continue;
      }
      const err = r instanceof ReplyErrorValue ? r : new ReplyErrorValue('ERR unexpected TESSERA.IMPORT RESTORE-BATCH reply');
      for (let j = 0; j < n; j++) out.push(err);
    }
    return out;
  }

  /** Encodes the command being built: `parts` and `counts` are then what is to be sent. */
  close(): void {
    if (this.args.length === 0) return;
    this.parts.push(encodeCommand(this.args));
    this.counts.push((this.args.length - 3) / 3);
    this.args = [];
  }
}

/** How many of a group's replies say the target kept its own (newer) copy. */
function keptIn(replies: readonly Reply[]): number {
  let n = 0;
  for (const r of replies) if (r instanceof SimpleString && r.value === KEPT) n++;
  return n;
}

/**
 * A command of latin1 strings as one buffer. Built as one string and converted once: several
 * times faster than a buffer write per argument for thousands of small elements.
 */
function encodeStrings(args: readonly string[]): Buffer {
  let out = `*${args.length}\r\n`;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    out += `$${a.length}\r\n${a}\r\n`;
  }
  return Buffer.from(out, 'latin1');
}

/** Values under COMPRESS_MIN bytes go uncompressed: LZF costs both sides more than it saves on them. */
const COMPRESS_MIN = 4096;

function dumpOf(v: StoredValue, rdbCompression: boolean): Buffer {
  return createDumpPayload(v, { compression: rdbCompression && approxBytes(v) >= COMPRESS_MIN });
}

function firstErrorOf(replies: readonly Reply[]): string | null {
  for (const r of replies) if (r instanceof ReplyErrorValue) return r.message;
  return null;
}

/** Whether a value is one of the collections the importer takes in chunks (others go whole). */
function chunkable(v: StoredValue): boolean {
  return v instanceof ListValue || v instanceof HashValue || v instanceof SetValue || v instanceof ZSetValue;
}

function elementCount(v: StoredValue): number {
  if (v instanceof ListValue) return v.length;
  if (v instanceof HashValue || v instanceof SetValue || v instanceof ZSetValue) return v.size;
  return 1;
}

/**
 * A collection worth moving in chunks: many elements, or many bytes (sampled). Strings (and so
 * bitmaps and HyperLogLogs) and any type the importer has no chunk form for go whole, by DUMP.
 */
export function isBig(v: StoredValue): boolean {
  if (!chunkable(v)) return false;
  const n = elementCount(v);
  if (n > BIG_ELEMENTS) return true;
  return n > 16 && n * sampleElementBytes(v) > BIG_BYTES;
}

/** Average size of a few elements (cheap: up to 8 reads). */
function sampleElementBytes(v: StoredValue): number {
  const n = elementCount(v);
  const k = Math.min(8, n);
  if (k === 0) return 0;
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const at = Math.floor((i * n) / k);
    if (v instanceof ListValue) sum += v.at(at).length;
    else if (v instanceof HashValue) sum += v.fieldAt(at).length + v.valueAt(at).length;
    else if (v instanceof SetValue) sum += v.memberAt(at).length;
    else if (v instanceof ZSetValue) sum += v.memberAt(at).length + 8;
  }
  return sum / k;
}

/** Approximate bytes of a value (string length, or elements × sampled element size). */
export function approxBytes(v: StoredValue): number {
  if (typeof v === 'string') return v.length;
  if (!chunkable(v)) return createDumpPayload(v, { compression: false }).length;
  return Math.round(elementCount(v) * sampleElementBytes(v));
}

function typeOf(v: StoredValue): ChunkType {
  if (v instanceof ListValue) return 'list';
  if (v instanceof HashValue) return 'hash';
  if (v instanceof SetValue) return 'set';
  if (v instanceof ZSetValue) return 'zset';
  throw new MoveError('ERR no chunk form for this type');
}

/** Adds the elements from `pos` up to one chunk to args; returns the next position. */
function appendChunk(v: StoredValue, pos: number, args: string[]): number {
  const n = elementCount(v);
  let bytes = 0;
  let i = pos;
  for (; i < n && i - pos < CHUNK_ELEMENTS && bytes < CHUNK_BYTES; i++) {
    if (v instanceof ListValue) {
      const x = v.at(i);
      args.push(x);
      bytes += x.length;
    } else if (v instanceof HashValue) {
      const f = v.fieldAt(i);
      const val = v.valueAt(i);
      args.push(f, val);
      bytes += f.length + val.length;
    } else if (v instanceof SetValue) {
      const m = v.memberAt(i);
      args.push(m);
      bytes += m.length;
    } else {
      const z = v as ZSetValue;
      const m = z.memberAt(i);
      args.push(m, String(z.scoreAt(i)));
      bytes += m.length + 8;
    }
  }
  return i;
}
