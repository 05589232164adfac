// The splitter: turns one decoded request into backend work by the command table's proxy policy —
// `single` (every key in one slot: the raw request goes there whole), `perKey:*` (one
// sub-request per backend, merged in key order), `allShards:*` (every group, merged), `scan`
// (group after group). It extracts keys from the command table, asks the router where their slots
// live, and hands raw requests to the forwarder; it never touches sockets or links.
//
// Split requests are one pattern: count the pending pieces, then one small merge per policy
// (proxy/merge.ts). Pieces may settle in any order; a failed piece becomes an error in its own
// place, so the reply keeps the shape the client expects.
import { keyIndexes } from '../common/commands/keys.js';
import { keyGroupsCut } from '../common/commands/table.js';
import type { CommandSpec } from '../common/commands/spec.js';
import { ERR, wrongArity } from '../common/errors.js';
import { encodeCommand } from '../common/resp/encode.js';
import { SLOT_COUNT, slotOf } from '../common/slots.js';
import type { ReplyStream } from './backend/connection.js';
import type { Done } from './forwarder.js';
import type { SlotMode } from './router.js';
import { type Piece, arrayElements, arrayFrame, errorFrame, isError, mergeAllOk, mergeByPosition, mergeConcat, mergeEvery, mergeSum } from './merge.js';

/** Where slots live (Router; fakes in tests). */
export interface SlotRouter {
  master(slot: number): string | null;
  forRead(slot: number): string | null;
  routeError(slot: number): string;
  /** Whether `addr` must get one piece per slot (see Router.perSlot), probing and learning that. */
  perSlot(addr: string): boolean;
  needsProbe(addr: string): boolean;
  learnSlotMode(addr: string, mode: SlotMode | null): void;
  /** Every group's master once, sorted. */
  masters(): string[];
}

/** Sends raw requests (Forwarder; fakes in tests). `done` runs exactly once per call. */
export interface RequestSender {
  forward(addr: string, raw: Buffer, slot: number, done: Done, stream?: ReplyStream | null): void;
}

/** What the splitter needs from its session. */
export interface SplitHost<R extends ReplyStream> {
  readonly router: SlotRouter;
  readonly forwarder: RequestSender;
  /** Sends the requests of write commands, when set (the session notes their masters for WAIT). */
  readonly writeForwarder?: RequestSender;
  /** Settles request `p` with `reply` (exactly once per request: the splitter calls it once). */
  respond(p: R, reply: Buffer): void;
  /** max-keys-reply (0 = no cap), read per request: KEYS with more matches is refused. */
  maxKeysReply(): number;
}

/** The proxy slot of a request's keys (-1 = no key), or CROSS when they span several slots. */
export const CROSS = -2;

/** The slot all of a command's keys share, -1 without keys, CROSS when they differ. */
export function commandSlot(spec: CommandSpec, args: readonly string[]): number {
  if (spec.lastKey === 1 && spec.firstKey === 1 && spec.movableKeys === undefined) {
    // The common case (GET, SET, HSET …): one key at args[1].
    return args.length > 1 ? slotOf(args[1]!) : -1;
  }
  const idx = keyIndexes(spec, args as string[]);
  if (idx === null || idx.length === 0) return -1;
  const slot = slotOf(args[idx[0]!]!);
  for (let i = 1; i < idx.length; i++) if (slotOf(args[idx[i]!]!) !== slot) return CROSS;
  return slot;
}

/** Slots of each of a command's keys (in key order; empty without keys). */
export function keySlots(spec: CommandSpec, args: readonly string[]): number[] {
  const idx = keyIndexes(spec, args as string[]);
  if (idx === null) return [];
  return idx.map((i) => slotOf(args[i]!));
}

export class Splitter<R extends ReplyStream> {
  constructor(private readonly host: SplitHost<R>) {}

  /**
   * Starts `p` when its policy is one the splitter plans (single, perKey:*, allShards:*, scan)
   * and returns true; false for the session's own policies (local, pubsub, blocking,
   * transaction, info, deny).
   */
  start(p: R, spec: CommandSpec, args: string[], raw: Buffer): boolean {
    if (keyGroupsCut(spec, args.length)) {
      this.host.respond(p, errorFrame(wrongArity(spec.name)));
      return true;
    }
    switch (spec.proxy) {
      case 'single':
        this.single(p, spec, args, raw);
        return true;
      case 'perKey:array':
      case 'perKey:allOk':
      case 'perKey:sum':
        this.perKey(p, spec, args, raw);
        return true;
      case 'allShards:sum':
      case 'allShards:concat':
      case 'allShards:allOk':
      case 'allShards:random':
      case 'allShards:every':
        this.allShards(p, spec, raw);
        return true;
      case 'scan':
        this.scan(p, args);
        return true;
      default:
        return false;
    }
  }

  /** All keys must share one slot; the raw request goes there whole (reads maybe to a replica). */
  single(p: R, spec: CommandSpec, args: string[], raw: Buffer): void {
    const host = this.host;
    const keySlot = commandSlot(spec, args);
    if (keySlot === CROSS) return host.respond(p, errorFrame(ERR.crossSlot));
    const slot = keySlot < 0 ? 0 : keySlot;
    const addr = spec.flags.has('readonly') ? host.router.forRead(slot) : host.router.master(slot);
    if (addr === null) return host.respond(p, errorFrame(host.router.routeError(slot)));
    this.sender(spec).forward(addr, raw, keySlot, (reply) => host.respond(p, reply), p);
  }

  private sender(spec: CommandSpec): RequestSender {
    return spec.flags.has('write') ? this.host.writeForwarder ?? this.host.forwarder : this.host.forwarder;
  }

  /**
   * MGET/MSET/DEL/EXISTS/UNLINK/TOUCH: one sub-request per backend with that backend's keys in
   * the client's order (per slot for backends that refuse several slots in one command: nodes in
   * cluster mode), merged per policy once every piece settled. Each piece follows its own
   * redirects (a slot moving under one piece does not hold the others).
   */
  perKey(p: R, spec: CommandSpec, args: string[], raw: Buffer): void {
    this.perKeyOf(p, spec, new ArgsKeys(spec, args, raw));
  }

  /**
   * perKey() for keys however they were read: decoded strings (ArgsKeys) or byte ranges of the
   * client's frame (the fast path's FrameKeys, proxy/fast-multikey.ts).
   */
  perKeyOf(p: R, spec: CommandSpec, req: PerKeyRequest): void {
    const host = this.host;
    const router = host.router;
    // One group per piece: by backend address (groupSlot -1), or by slot for a backend split per
    // slot. The router is asked once per distinct slot (slotGroup remembers the slot's group).
    const count = req.keyCount;
    const keyGroup = count <= KEY_SCRATCH ? keyGroupScratch : new Int32Array(count);
    const stamp = nextStamp();
    let groups = 0;
    let firstSlot = -1;
    let oneSlot = true;
    for (let k = 0; k < count; k++) {
      const slot = req.slotOfKey(k);
      if (firstSlot < 0) firstSlot = slot;
      else if (slot !== firstSlot) oneSlot = false;
      let g: number;
      if (slotStamp[slot] === stamp) {
        g = slotGroup[slot]!;
      } else {
        const addr = router.master(slot);
        if (addr === null) return host.respond(p, errorFrame(router.routeError(slot)));
        const perSlot = router.perSlot(addr);
        if (perSlot && router.needsProbe(addr)) this.probe(addr);
        g = perSlot ? -1 : groupOf(groups, addr);
        if (g < 0) {
          g = groups++;
          groupAddr[g] = addr;
          groupSlot[g] = perSlot ? slot : -1;
          groupSize[g] = 0;
        }
        slotStamp[slot] = stamp;
        slotGroup[slot] = g;
      }
      keyGroup[k] = g;
      groupSize[g]!++;
    }
    if (groups === 1 && oneSlot) {
      return this.sender(spec).forward(groupAddr[0]!, req.whole(), firstSlot, (reply) => host.respond(p, reply), p);
    }
    // Each group's keys in the client's order, in arrays of their exact size (the scratch is
    // free again before anything is sent).
    const addrs: string[] = new Array(groups);
    const lists: number[][] = new Array(groups);
    for (let g = 0; g < groups; g++) {
      addrs[g] = groupAddr[g]!;
      lists[g] = new Array(groupSize[g]!);
      groupSize[g] = 0;
    }
    for (let k = 0; k < count; k++) {
      const g = keyGroup[k]!;
      lists[g]![groupSize[g]!++] = k;
    }
    const split: Split<R> = { p, spec, req, pieces: [], waiting: groups };
    // One backend for keys of several slots: the raw request goes whole (unless refused).
    for (let g = 0; g < groups; g++) this.sendPiece(split, addrs[g]!, lists[g]!, groups === 1 ? req.whole() : null);
  }

  /** Sends one piece of a per-key split: `keys` are its key numbers (positions in the client's key order). */
  private sendPiece(split: Split<R>, addr: string, keys: number[], whole: Buffer | null): void {
    const { spec, req } = split;
    const piece: Piece = { positions: keys, reply: null };
    split.pieces.push(piece);
    let pieceSlot = req.slotOfKey(keys[0]!);
    for (let j = 1; j < keys.length && pieceSlot >= 0; j++) if (req.slotOfKey(keys[j]!) !== pieceSlot) pieceSlot = -1;
    this.sender(spec).forward(addr, whole ?? req.piece(keys), pieceSlot, (reply) => {
      if (pieceSlot < 0 && isCrossSlot(reply)) {
        // The backend takes one slot per command (cluster mode) and ran nothing of this piece:
        // it is sent again as one piece per slot, now and for later requests.
        this.host.router.learnSlotMode(addr, 'one');
        split.pieces.splice(split.pieces.indexOf(piece), 1);
        const bySlot = new Map<number, number[]>();
        for (const k of keys) {
          const slot = req.slotOfKey(k);
          let list = bySlot.get(slot);
          if (!list) bySlot.set(slot, (list = []));
          list.push(k);
        }
        split.waiting += bySlot.size - 1;
        for (const [slot, list] of bySlot) {
          const to = this.host.router.master(slot) ?? addr;
          this.sendPiece(split, to, list, null);
        }
        return;
      }
      piece.reply = reply;
      if (--split.waiting === 0) this.finish(split);
    });
  }

  /**
   * Asks `addr` once whether it is in cluster mode: ASKING answers +OK there (one slot per
   * command), "-ERR This instance has cluster support disabled" on a plain node (any slots). PING
   * right behind it on the same link, queued in the same run, consumes the ASKING flag so no
   * request of any client runs under it.
   */
  private probe(addr: string): void {
    const router = this.host.router;
    this.host.forwarder.forward(addr, ASKING, -1, (reply) => router.learnSlotMode(addr, slotModeOf(reply)));
    this.host.forwarder.forward(addr, PING, -1, IGNORE);
  }

  /** Every piece settled: one merge per policy. */
  private finish(split: Split<R>): void {
    const { p, spec, req, pieces } = split;
    if (spec.proxy === 'perKey:sum') return this.host.respond(p, mergeSum(pieces.map(replyOf)));
    if (spec.proxy === 'perKey:allOk') return this.host.respond(p, mergeAllOk(pieces.map(replyOf)));
    this.host.respond(p, mergeByPosition(req.keyCount, pieces));
  }

  /** DBSIZE, KEYS, FLUSHALL, FLUSHDB, RANDOMKEY: sent to every group master, merged per policy. */
  allShards(p: R, spec: CommandSpec, raw: Buffer): void {
    const host = this.host;
    const masters = host.router.masters();
    if (masters.length === 0) return host.respond(p, errorFrame('ERR no group is serving any slot'));
    const replies: Buffer[] = new Array(masters.length);
    let waiting = masters.length;
    const sender = this.sender(spec);
    masters.forEach((addr, i) => {
      sender.forward(addr, raw, -1, (reply) => {
        replies[i] = reply;
        if (--waiting > 0) return;
        if (spec.proxy === 'allShards:sum') host.respond(p, mergeSum(replies));
        else if (spec.proxy === 'allShards:concat') host.respond(p, this.capKeys(mergeConcat(replies)));
        else if (spec.proxy === 'allShards:allOk') host.respond(p, mergeAllOk(replies));
        else if (spec.proxy === 'allShards:every') host.respond(p, mergeEvery(replies));
        else {
          const hits = replies.filter((r) => r[0] === 0x24 && r[1] !== 0x2d);
          const errors = replies.filter(isError);
          host.respond(p, hits.length > 0 ? hits[Math.floor(Math.random() * hits.length)]! : errors[0] ?? replies[0]!);
        }
      });
    });
  }

  private capKeys(frame: Buffer): Buffer {
    const cap = this.host.maxKeysReply();
    if (cap <= 0 || isError(frame)) return frame;
    const els = arrayElements(frame);
    if (!els || els.length <= cap) return frame;
    return errorFrame(`ERR KEYS matched more than ${cap} keys; use SCAN (max-keys-reply in the proxy config)`);
  }

  /**
   * SCAN across groups: the proxy cursor is nodeCursor * 1024 + group index, so a scan walks
   * group after group, each with its own cursor.
   */
  scan(p: R, args: string[]): void {
    const host = this.host;
    const masters = host.router.masters();
    if (masters.length === 0) return host.respond(p, errorFrame('ERR no group is serving any slot'));
    let cursor: bigint;
    try {
      if (!/^\d+$/.test(args[1]!)) throw new Error();
      cursor = BigInt(args[1]!);
    } catch {
      return host.respond(p, errorFrame('ERR invalid cursor'));
    }
    const groupIndex = Number(cursor % 1024n);
    const nodeCursor = cursor / 1024n;
    if (groupIndex >= masters.length) return host.respond(p, arrayFrame([bulk('0'), Buffer.from('*0\r\n')]));
    const sub = ['SCAN', nodeCursor.toString(), ...args.slice(2)];
    host.forwarder.forward(masters[groupIndex]!, encodeCommand(sub), -1, (reply) => {
      if (isError(reply)) return host.respond(p, reply);
      const els = arrayElements(reply);
      if (!els || els.length !== 2) return host.respond(p, errorFrame('ERR unexpected SCAN reply from backend'));
      const next = BigInt(els[0]!.latin1Slice(els[0]!.indexOf(10) + 1, els[0]!.length - 2));
      let proxyNext: bigint;
      if (next !== 0n) proxyNext = next * 1024n + BigInt(groupIndex);
      else proxyNext = groupIndex + 1 < masters.length ? BigInt(groupIndex + 1) : 0n;
      host.respond(p, arrayFrame([bulk(proxyNext.toString()), els[1]!]));
    });
  }
}

// perKeyOf()'s scratch, used only while one request is planned (synchronously, before anything
// is sent): slot → its group, valid where slotStamp[slot] is that request's stamp (so nothing is
// cleared per request); each group's backend, slot (-1: any slots of that backend) and key
// count (groups ≤ distinct slots); each key's group (a bigger request gets its own array).
const slotGroup = new Int32Array(SLOT_COUNT);
const slotStamp = new Uint32Array(SLOT_COUNT);
let stampNow = 0;
const groupAddr: string[] = new Array<string>(SLOT_COUNT).fill('');
const groupSlot = new Int32Array(SLOT_COUNT);
const groupSize = new Int32Array(SLOT_COUNT);
const KEY_SCRATCH = 4096;
const keyGroupScratch = new Int32Array(KEY_SCRATCH);

function nextStamp(): number {
  stampNow = (stampNow + 1) >>> 0;
  if (stampNow === 0) {
    slotStamp.fill(0);
    stampNow = 1;
  }
  return stampNow;
}

/** The group taking `addr`'s keys of any slot, or -1: backends are few, so a scan. */
function groupOf(groups: number, addr: string): number {
  for (let g = 0; g < groups; g++) if (groupSlot[g] === -1 && groupAddr[g] === addr) return g;
  return -1;
}

/** A per-key split in progress: its pieces (in any order) and how many have not settled. */
interface Split<R> {
  p: R;
  spec: CommandSpec;
  req: PerKeyRequest;
  pieces: Piece[];
  waiting: number;
}

/**
 * The keys of one per-key request (MGET, MSET, DEL …) and how to build the request for a subset
 * of them. Key k is argument firstKey + k * keyStep; a piece carries each of its keys with the
 * keyStep - 1 arguments after it (MSET's value), in the order given.
 */
export interface PerKeyRequest {
  readonly keyCount: number;
  slotOfKey(k: number): number;
  piece(keys: readonly number[]): Buffer;
  /** The client's whole request (made only when it goes to one backend as it is). */
  whole(): Buffer;
}

/** A per-key request the general decoder turned into strings; pieces re-encoded. */
export class ArgsKeys implements PerKeyRequest {
  readonly keyCount: number;
  private readonly first: number;
  private readonly step: number;

  constructor(spec: CommandSpec, private readonly args: readonly string[], private readonly raw: Buffer) {
    this.first = spec.firstKey;
    this.step = spec.keyStep;
    this.keyCount = Math.ceil((args.length - this.first) / this.step);
  }

  slotOfKey(k: number): number {
    return slotOf(this.args[this.first + k * this.step]!);
  }

  piece(keys: readonly number[]): Buffer {
    const args = this.args;
    const sub: string[] = [args[0]!];
    for (const key of keys) {
      const i = this.first + key * this.step;
      for (let s = 0; s < this.step; s++) sub.push(args[i + s]!);
    }
    return encodeCommand(sub);
  }

  whole(): Buffer {
    return this.raw;
  }
}

const CROSSSLOT_PREFIX = '-CROSSSLOT';
const ASKING = encodeCommand(['ASKING']);
const PING = encodeCommand(['PING']);
const IGNORE: Done = () => {};

/** What a probe's ASKING reply says about the backend (null: nothing, e.g. the link failed). */
export function slotModeOf(reply: Buffer): SlotMode | null {
  if (reply.length >= 3 && reply[0] === 0x2b && reply[1] === 0x4f && reply[2] === 0x4b) return 'one'; // +OK
  if (isError(reply) && reply.latin1Slice(0, Math.min(reply.length, 200)).includes('cluster support disabled')) return 'any';
  return null;
}

function isCrossSlot(reply: Buffer): boolean {
  return reply.length > CROSSSLOT_PREFIX.length && reply[1] === 0x43 && reply.latin1Slice(0, CROSSSLOT_PREFIX.length) === CROSSSLOT_PREFIX;
}

function replyOf(piece: Piece): Buffer {
  return piece.reply!;
}

export function bulk(s: string): Buffer {
  return Buffer.from(`$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`, 'latin1');
}
