// Per-slot ownership of a node in cluster mode (`slot-ownership yes`): which of the 1024 slots it
// owns, migrates out (to a target) or imports (from a source), under a configuration epoch that
// only grows, so a stale or second coordinator can never undo newer state.
//
// Persistence: a small JSON file in `dir` (`slot-ownership-file`), replaced atomically (temp file,
// fsync, rename, fsync of the dir) before the command that changed it is answered. Not only an RDB
// aux field, because RDB saves are periodic or disabled (`save ""`) and the AOF may be off: an
// acknowledged ownership change must survive a crash the moment the coordinator sees OK, as
// Redis Cluster's nodes.conf does. The same JSON also rides in the full-resync RDB as an aux
// field (see auxValue/adoptFromMaster) so a replica that resyncs gets its master's state.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SLOT_COUNT } from '../../common/slots.js';

export const SlotState = { None: 0, Owned: 1, Migrating: 2, Importing: 3 } as const;
export type SlotState = (typeof SlotState)[keyof typeof SlotState];

const STATE_NAMES = ['none', 'owned', 'migrating', 'importing'] as const;
export type SlotStateName = (typeof STATE_NAMES)[number];

/** One contiguous run of slots in one state: what SET carries, GET shows and the file stores. */
export interface SlotRange {
  start: number;
  end: number;
  state: SlotState;
  /** none: the owner (null = unknown); migrating: the target; importing: the source; owned: null. */
  peer: string | null;
}

/** The error code of every refusal caused by epochs (a client can match on it). */
export const STALE_EPOCH = 'STALEEPOCH';

/** What ownership needs from its node: where the file lives and a logger. */
export interface OwnershipHost {
  /** Absolute path of the ownership file, or null to keep the state in memory only (tests). */
  filePath: string | null;
  log(level: 'warning' | 'notice', message: string): void;
}

export class SlotOwnership {
  private readonly state = new Uint8Array(SLOT_COUNT);
  private readonly peer: Array<string | null> = new Array<string | null>(SLOT_COUNT).fill(null);
  private epochValue = 0;
  /**
   * False after a restart that loaded persisted state, until CONFIRM (same epoch) or a SET with a
   * newer epoch: writes are refused meanwhile, so a master replaced while it was down never takes
   * one. True on a node that starts empty (it owns nothing, so nothing can go wrong).
   */
  private confirmedValue = true;

  /**
   * Asynchronous writes of the file, one at a time in order (setDurably); each writes the state
   * as it is when it starts, so a later epoch's file is never replaced by an earlier one.
   */
  private writing: Promise<unknown> = Promise.resolve();
  private writesInFlight = 0;

  constructor(private readonly host: OwnershipHost) {}

  get epoch(): number {
    return this.epochValue;
  }

  get confirmed(): boolean {
    return this.confirmedValue;
  }

  stateOf(slot: number): SlotState {
    return this.state[slot] as SlotState;
  }

  peerOf(slot: number): string | null {
    return this.peer[slot]!;
  }

  /** Slots in each state (owned counts slots this node serves: owned plus migrating out). */
  counts(): { owned: number; migrating: number; importing: number } {
    let owned = 0;
    let migrating = 0;
    let importing = 0;
    for (let i = 0; i < SLOT_COUNT; i++) {
      const st = this.state[i];
      if (st === SlotState.Owned) owned++;
      else if (st === SlotState.Migrating) migrating++;
      else if (st === SlotState.Importing) importing++;
    }
    return { owned: owned + migrating, migrating, importing };
  }

  /**
   * Applies a SET: `ranges` at `epoch`. Older epoch → refused; same epoch → accepted only if it
   * changes nothing (a retried command), since one epoch names one configuration; newer epoch →
   * applied, persisted and confirmed (`confirm` false while replaying the AOF at start, which is
   * history, not the coordinator speaking). Returns an error text or null.
   */
  set(epoch: number, ranges: readonly SlotRange[], confirm = true): string | null {
    const r = this.apply(epoch, ranges, confirm);
    return r === true ? this.persist() : r;
  }

  /**
   * set() for the coordinator's live command: applied now, the file written off the event loop
   * (other clients are not stalled by the fsync). `durable` settles once a file holding this
   * state (or a later one) is on disk: null, or the error text to reply with; null when nothing
   * changed (a retried command) or there is no file.
   */
  setDurably(epoch: number, ranges: readonly SlotRange[]): { error: string | null; durable: Promise<string | null> | null } {
    const r = this.apply(epoch, ranges, true);
    if (r !== true) return { error: r, durable: null };
    const path = this.host.filePath;
    if (path === null) return { error: null, durable: null };
    this.writesInFlight++;
    const durable = this.writing.then(() => writeAtomicallyAsync(path, this.serialize())).then(
      () => null,
      (err: unknown) => {
        this.host.log('warning', `Failed to persist slot ownership to ${path}: ${(err as Error).message}`);
        return `ERR slot ownership applied but not persisted: ${(err as Error).message}`;
      },
    ).finally(() => { this.writesInFlight--; });
    this.writing = durable;
    return { error: null, durable };
  }

  /** Applies a SET in memory: true when it changed the state, null when it changes nothing, or an error text. */
  private apply(epoch: number, ranges: readonly SlotRange[], confirm: boolean): string | null | true {
    if (epoch < this.epochValue) return staleEpoch(epoch, this.epochValue);
    const changes = ranges.some((r) => this.differs(r));
    if (epoch === this.epochValue) {
      if (!changes) return null;
      return `${STALE_EPOCH} configuration epoch ${epoch} is already in force with a different slot state: use a newer epoch`;
    }
    for (const r of ranges) {
      this.state.fill(r.state, r.start, r.end + 1);
      for (let i = r.start; i <= r.end; i++) this.peer[i] = r.peer;
    }
    this.epochValue = epoch;
    // Replayed history (confirm false) is restored state: it needs the coordinator's word too,
    // even on a node whose ownership file was lost.
    this.confirmedValue = confirm;
    return true;
  }

  /** CONFIRM: the coordinator agrees with the state at `epoch`. Returns an error text or null. */
  confirm(epoch: number, apply = true): string | null {
    if (epoch < this.epochValue) return staleEpoch(epoch, this.epochValue);
    if (epoch > this.epochValue) {
      return `ERR cannot confirm epoch ${epoch}: this node is at epoch ${this.epochValue}; send its slots with TESSERA.SLOTS SET`;
    }
    if (apply) this.confirmedValue = true;
    return null;
  }

  /** The state as contiguous runs, in slot order. */
  ranges(): SlotRange[] {
    const out: SlotRange[] = [];
    let start = 0;
    for (let i = 1; i <= SLOT_COUNT; i++) {
      if (i < SLOT_COUNT && this.state[i] === this.state[start] && this.peer[i] === this.peer[start]) continue;
      out.push({ start, end: i - 1, state: this.state[start] as SlotState, peer: this.peer[start]! });
      start = i;
    }
    return out;
  }

  /** The persisted form (file and RDB aux field). */
  serialize(): string {
    const slots = this.ranges().map((r) => [r.start, r.end, STATE_NAMES[r.state], r.peer]);
    return JSON.stringify({ version: 1, epoch: this.epochValue, confirmed: this.confirmedValue, slots });
  }

  /** The full-resync RDB aux field value: the state the replica must mirror. */
  auxValue(): string {
    return this.serialize();
  }

  /**
   * A replica after a full resync takes its master's state wholesale, epoch and confirmation
   * included: like the data, the master's history replaces ours. Absent (a master without slot
   * ownership) leaves ours alone.
   */
  adoptFromMaster(aux: string | undefined): void {
    if (aux === undefined) return;
    try {
      this.replaceWith(parseState(aux));
    } catch (err) {
      this.host.log('warning', `Ignoring the master's slot ownership: ${(err as Error).message}`);
      return;
    }
    const problem = this.persist();
    if (problem) this.host.log('warning', problem);
  }

  /**
   * At start: loads the file if there is one. Loaded state is unconfirmed (see confirmedValue).
   * A missing file means a fresh node; a corrupt one is fatal (thrown), because serving with a
   * guessed ownership could accept writes for slots this node lost.
   */
  load(): boolean {
    const path = this.host.filePath;
    if (path === null) return false;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    const parsed = parseState(text);
    this.replaceWith(parsed);
    this.confirmedValue = parsed.epoch === 0;
    this.host.log('notice', `Slot ownership loaded from ${path}: epoch ${parsed.epoch}, ${this.confirmedValue ? 'nothing to confirm' : 'writes refused until the coordinator confirms'}`);
    return true;
  }

  private replaceWith(parsed: ParsedState): void {
    this.state.fill(SlotState.None);
    this.peer.fill(null);
    for (const r of parsed.ranges) {
      this.state.fill(r.state, r.start, r.end + 1);
      for (let i = r.start; i <= r.end; i++) this.peer[i] = r.peer;
    }
    this.epochValue = parsed.epoch;
    this.confirmedValue = parsed.confirmed;
  }

  private differs(r: SlotRange): boolean {
    for (let i = r.start; i <= r.end; i++) if (this.state[i] !== r.state || this.peer[i] !== r.peer) return true;
    return false;
  }

  /** Writes the file atomically; an error text when that failed (the change stays in memory). */
  private persist(): string | null {
    const path = this.host.filePath;
    if (path === null) return null;
    if (this.writesInFlight > 0) {
      // Behind the asynchronous writes, in order (a synchronous one now could be overwritten by
      // an older state still being written). Errors are logged there.
      const later = this.writing.then(() => writeAtomicallyAsync(path, this.serialize())).catch((err: unknown) => {
        this.host.log('warning', `Failed to persist slot ownership to ${path}: ${(err as Error).message}`);
      });
      this.writesInFlight++;
      this.writing = later.finally(() => { this.writesInFlight--; });
      return null;
    }
    try {
      writeAtomically(path, this.serialize());
      return null;
    } catch (err) {
      this.host.log('warning', `Failed to persist slot ownership to ${path}: ${(err as Error).message}`);
      return `ERR slot ownership applied but not persisted: ${(err as Error).message}`;
    }
  }
}

function staleEpoch(epoch: number, current: number): string {
  return `${STALE_EPOCH} configuration epoch ${epoch} is older than this node's ${current}`;
}

function writeAtomically(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w');
  try {
    const buf = Buffer.from(text, 'utf8');
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  // The rename is durable only once the directory is synced; some file systems refuse, harmlessly.
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* fsync on a directory is not supported everywhere */
  }
}

/** writeAtomically off the event loop (one at a time: the temp name is per process). */
async function writeAtomicallyAsync(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  const fh = await open(temp, 'w');
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, path);
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    /* fsync on a directory is not supported everywhere */
  }
}

interface ParsedState {
  epoch: number;
  confirmed: boolean;
  ranges: SlotRange[];
}

/** Parses the persisted JSON, checking every field (throws on anything malformed). */
export function parseState(text: string): ParsedState {
  const doc = JSON.parse(text) as { version?: unknown; epoch?: unknown; confirmed?: unknown; slots?: unknown };
  if (doc.version !== 1) throw new Error(`unknown slot ownership format version ${String(doc.version)}`);
  if (!Number.isSafeInteger(doc.epoch) || (doc.epoch as number) < 0) throw new Error('bad epoch');
  if (!Array.isArray(doc.slots)) throw new Error('bad slots');
  const ranges: SlotRange[] = [];
  for (const item of doc.slots as unknown[]) {
    if (!Array.isArray(item) || item.length !== 4) throw new Error('bad slot range');
    const [start, end, name, peer] = item as [unknown, unknown, unknown, unknown];
    const state = STATE_NAMES.indexOf(name as SlotStateName);
    if (!isSlot(start) || !isSlot(end) || (start as number) > (end as number) || state < 0) throw new Error('bad slot range');
    if (peer !== null && typeof peer !== 'string') throw new Error('bad peer address');
    ranges.push({ start: start as number, end: end as number, state: state as SlotState, peer: peer as string | null });
  }
  return { epoch: doc.epoch as number, confirmed: doc.confirmed === true, ranges };
}

function isSlot(n: unknown): boolean {
  return Number.isInteger(n) && (n as number) >= 0 && (n as number) < SLOT_COUNT;
}

export function stateName(st: SlotState): SlotStateName {
  return STATE_NAMES[st];
}

// ---- TESSERA.SLOTS SET argument parsing ---------------------------------------------------------

/**
 * Parses `<epoch> <ranges> <STATE> [<ranges> <STATE> …]` (args after SET): STATE is OWNED,
 * NONE [OWNER <host:port>], MIGRATING <host:port> or IMPORTING <host:port>; ranges are
 * `a-b,c,…`. A slot named twice is an error. Returns the epoch and ranges, or an error text.
 */
export function parseSetArgs(args: readonly string[]): { epoch: number; ranges: SlotRange[] } | { error: string } {
  const epoch = parseEpoch(args[0]);
  if (epoch === null) return { error: 'ERR invalid configuration epoch: a positive integer is expected' };
  const ranges: SlotRange[] = [];
  const seen = new Uint8Array(SLOT_COUNT);
  let i = 1;
  while (i < args.length) {
    const spans = parseSlotList(args[i]!);
    if (spans === null) return { error: `ERR invalid slot range '${args[i]!.slice(0, 64)}': expected slots 0-${SLOT_COUNT - 1} as a-b,c,...` };
    const word = args[i + 1]?.toLowerCase();
    let state: SlotState;
    let peer: string | null = null;
    let used = 2;
    if (word === 'owned') state = SlotState.Owned;
    else if (word === 'none') {
      state = SlotState.None;
      if (args[i + 2]?.toLowerCase() === 'owner') {
        peer = parseAddr(args[i + 3]);
        if (peer === null) return { error: 'ERR invalid OWNER address: host:port expected' };
        used = 4;
      }
    } else if (word === 'migrating' || word === 'importing') {
      state = word === 'migrating' ? SlotState.Migrating : SlotState.Importing;
      peer = parseAddr(args[i + 2]);
      if (peer === null) return { error: `ERR ${word.toUpperCase()} needs a host:port address` };
      used = 3;
    } else {
      return { error: 'ERR syntax error: expected OWNED, NONE [OWNER host:port], MIGRATING host:port or IMPORTING host:port after the slots' };
    }
    for (const [start, end] of spans) {
      for (let s = start; s <= end; s++) {
        if (seen[s]) return { error: `ERR slot ${s} is named more than once` };
        seen[s] = 1;
      }
      ranges.push({ start, end, state, peer });
    }
    i += used;
  }
  if (ranges.length === 0) return { error: 'ERR syntax error: no slots given' };
  return { epoch, ranges };
}

/** A positive safe integer epoch, or null. */
export function parseEpoch(text: string | undefined): number | null {
  if (text === undefined || !/^[1-9][0-9]{0,15}$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** `a-b,c,…` → [[a,b],[c,c],…], or null when malformed or out of 0..1023. */
export function parseSlotList(text: string): Array<[number, number]> | null {
  const parts = text.split(',');
  if (parts.length > SLOT_COUNT) return null;
  const out: Array<[number, number]> = [];
  for (const part of parts) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part);
    if (m === null) return null;
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (start > end || end >= SLOT_COUNT) return null;
    out.push([start, end]);
  }
  return out;
}

/** host:port with a port in 1..65535 and no spaces (the text MOVED/ASK will carry), or null. */
function parseAddr(text: string | undefined): string | null {
  if (text === undefined || text.length > 300 || /\s/.test(text)) return null;
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  const port = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return null;
  return text;
}
