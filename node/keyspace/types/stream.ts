// The stream value: entries ordered by id (ms-seq, two unsigned 64-bit halves, kept as bigints),
// held in nodes of up to NODE_MAX_ENTRIES entries like Redis's rax of listpacks. Node boundaries
// matter to clients: approximate trimming (`~`) removes whole nodes only, so the replies follow
// Redis's node layout. Deleted entries stay in their node as tombstones (they still count toward
// the node's fullness, as in Redis); a node whose live entries all go is removed.
// Not modelled: the stream-node-max-bytes (4096) cut, which only matters for big entries.

import { INVALID_ENTRIES_READ, type StreamGroup, StreamGroups } from './stream-groups.js';

export const U64_MAX = (1n << 64n) - 1n;

/** stream-node-max-entries' default. */
export const NODE_MAX_ENTRIES = 100;

export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export interface StreamEntry {
  ms: bigint;
  seq: bigint;
  /** field, value, field, value … */
  fields: string[];
  deleted: boolean;
}

interface StreamNode {
  entries: StreamEntry[];
  live: number;
}

export function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export function idString(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** The id right after `id`, or null past the last possible one (streamIncrID). */
export function incrId(id: StreamId): StreamId | null {
  if (id.seq < U64_MAX) return { ms: id.ms, seq: id.seq + 1n };
  if (id.ms < U64_MAX) return { ms: id.ms + 1n, seq: 0n };
  return null;
}

/** The id right before `id`, or null before 0-0 (streamDecrID). */
export function decrId(id: StreamId): StreamId | null {
  if (id.seq > 0n) return { ms: id.ms, seq: id.seq - 1n };
  if (id.ms > 0n) return { ms: id.ms - 1n, seq: U64_MAX };
  return null;
}

export type TrimStrategy = 'maxlen' | 'minid';

export interface TrimArgs {
  strategy: TrimStrategy;
  maxlen: number;
  minid: StreamId;
  approx: boolean;
  /** Most entries removed (0 = no limit). */
  limit: number;
}

export class StreamValue {
  private nodes: StreamNode[] = [];
  /** Live entries. */
  length = 0;
  lastId: StreamId = { ms: 0n, seq: 0n };
  entriesAdded = 0n;
  maxDeletedId: StreamId = { ms: 0n, seq: 0n };
  /** Consumer groups; null until the first XGROUP CREATE (most streams have none). */
  groups: StreamGroups | null = null;

  encoding(): string {
    return 'stream';
  }

  /** Appends an entry whose id is known to be greater than lastId. */
  append(id: StreamId, fields: string[]): void {
    let tail = this.nodes[this.nodes.length - 1];
    if (tail === undefined || tail.entries.length >= NODE_MAX_ENTRIES) {
      tail = { entries: [], live: 0 };
      this.nodes.push(tail);
    }
    tail.entries.push({ ms: id.ms, seq: id.seq, fields, deleted: false });
    tail.live++;
    this.length++;
    this.lastId = id;
    this.entriesAdded++;
  }

  /** The first live entry's id, or 0-0 when empty. */
  firstId(): StreamId {
    for (const node of this.nodes) {
      if (node.live === 0) continue;
      for (const e of node.entries) if (!e.deleted) return { ms: e.ms, seq: e.seq };
    }
    return { ms: 0n, seq: 0n };
  }

  /** Index of the first node whose last entry is ≥ id (binary search). */
  private nodeFrom(id: StreamId): number {
    let lo = 0;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const entries = this.nodes[mid]!.entries;
      if (compareIds(entries[entries.length - 1]!, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Live entries in [start, end], ascending, at most `count` (0 = all). */
  range(start: StreamId, end: StreamId, count: number): StreamEntry[] {
    const out: StreamEntry[] = [];
    if (compareIds(start, end) > 0) return out;
    for (let n = this.nodeFrom(start); n < this.nodes.length; n++) {
      const entries = this.nodes[n]!.entries;
      let i = lowerBound(entries, start);
      for (; i < entries.length; i++) {
        const e = entries[i]!;
        if (compareIds(e, end) > 0) return out;
        if (e.deleted) continue;
        out.push(e);
        if (count !== 0 && out.length >= count) return out;
      }
    }
    return out;
  }

  /** Live entries in [start, end], descending, at most `count` (0 = all). */
  revRange(start: StreamId, end: StreamId, count: number): StreamEntry[] {
    const out: StreamEntry[] = [];
    if (compareIds(start, end) > 0) return out;
    for (let n = Math.min(this.nodeFrom(end), this.nodes.length - 1); n >= 0; n--) {
      const entries = this.nodes[n]!.entries;
      for (let i = upperBound(entries, end) - 1; i >= 0; i--) {
        const e = entries[i]!;
        if (compareIds(e, start) < 0) return out;
        if (e.deleted) continue;
        out.push(e);
        if (count !== 0 && out.length >= count) return out;
      }
    }
    return out;
  }

  /** True when a live entry has this id (streamEntryExists). */
  has(id: StreamId): boolean {
    const node = this.nodes[this.nodeFrom(id)];
    if (node === undefined) return false;
    const e = node.entries[lowerBound(node.entries, id)];
    return e !== undefined && !e.deleted && compareIds(e, id) === 0;
  }

  /** The live entry with this id, or undefined. */
  entry(id: StreamId): StreamEntry | undefined {
    const node = this.nodes[this.nodeFrom(id)];
    if (node === undefined) return undefined;
    const e = node.entries[lowerBound(node.entries, id)];
    return e !== undefined && !e.deleted && compareIds(e, id) === 0 ? e : undefined;
  }

  /** The last live entry's id, or 0-0 when empty (streamLastValidID). */
  lastValidId(): StreamId {
    const e = this.revRange({ ms: 0n, seq: 0n }, { ms: U64_MAX, seq: U64_MAX }, 1)[0];
    return e === undefined ? { ms: 0n, seq: 0n } : { ms: e.ms, seq: e.seq };
  }

  /** The master ids of the nodes (the rax keys), oldest first. */
  nodeKeys(): StreamId[] {
    return this.nodes.map((n) => ({ ms: n.entries[0]!.ms, seq: n.entries[0]!.seq }));
  }

  /** Deletes one live entry by id; false when absent. */
  delete(id: StreamId): boolean {
    const n = this.nodeFrom(id);
    const node = this.nodes[n];
    if (node === undefined) return false;
    const i = lowerBound(node.entries, id);
    const e = node.entries[i];
    if (e === undefined || e.deleted || compareIds(e, id) !== 0) return false;
    e.deleted = true;
    node.live--;
    this.length--;
    if (compareIds(id, this.maxDeletedId) > 0) this.maxDeletedId = id;
    if (node.live === 0) this.nodes.splice(n, 1);
    return true;
  }

  /** Trims like Redis's streamTrim; returns how many entries went. */
  trim(args: TrimArgs): number {
    let deleted = 0;
    while (this.nodes.length > 0) {
      if (args.strategy === 'maxlen' && this.length <= args.maxlen) break;
      const node = this.nodes[0]!;
      if (args.limit !== 0 && deleted + node.live > args.limit) break;
      const removeNode = args.strategy === 'maxlen'
        ? this.length - node.live >= args.maxlen
        : compareIds(node.entries[node.entries.length - 1]!, args.minid) < 0;
      if (removeNode) {
        this.nodes.shift();
        this.length -= node.live;
        deleted += node.live;
        continue;
      }
      if (args.approx) break;
      for (const e of node.entries) {
        if (e.deleted) continue;
        const stop = args.strategy === 'maxlen' ? this.length <= args.maxlen : compareIds(e, args.minid) >= 0;
        if (stop) break;
        e.deleted = true;
        node.live--;
        this.length--;
        deleted++;
      }
      break;
    }
    return deleted;
  }

  /** How many nodes the stream holds (the RDB rax size). */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** Each node's entries, tombstones included, oldest node first (the RDB writer's view; do not mutate). */
  *nodeEntries(): IterableIterator<readonly StreamEntry[]> {
    for (const node of this.nodes) yield node.entries;
  }

  /**
   * Appends a node read from an RDB/DUMP payload (entries ascending, after every existing one).
   * Adds its live entries to `length`; lastId and the counters are the loader's to set. A node
   * with no live entry is dropped, as Redis never keeps one.
   */
  loadNode(entries: StreamEntry[]): void {
    let live = 0;
    for (const e of entries) if (!e.deleted) live++;
    if (live === 0) return;
    this.nodes.push({ entries, live });
    this.length += live;
  }

  /** A deep copy (COPY). */
  clone(): StreamValue {
    const copy = new StreamValue();
    copy.nodes = this.nodes.map((n) => ({ live: n.live, entries: n.entries.map((e) => ({ ...e, fields: e.fields.slice() })) }));
    copy.length = this.length;
    copy.lastId = this.lastId;
    copy.entriesAdded = this.entriesAdded;
    copy.maxDeletedId = this.maxDeletedId;
    copy.groups = this.groups === null ? null : this.groups.clone();
    return copy;
  }
}

function lowerBound(entries: StreamEntry[], id: StreamId): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareIds(entries[mid]!, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(entries: StreamEntry[], id: StreamId): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareIds(entries[mid]!, id) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The commands that rebuild a stream (rewriteStreamObject): an XADD per live entry (an empty
 * stream is made by an XADD 0-1 trimmed to nothing, as Redis does: its top may be 0-0), then
 * XSETID for the top id and counters, then per group an XGROUP CREATE, an XCLAIM … FORCE per
 * pending entry and an XGROUP CREATECONSUMER per consumer without any.
 */
export function streamRewriteCommands(key: string, v: StreamValue, emit: (argv: string[]) => void): void {
  const last = idString(v.lastId);
  if (v.length === 0) emit(['XADD', key, 'MAXLEN', '0', '0-1', 'x', 'y']);
  else for (const e of v.range({ ms: 0n, seq: 0n }, { ms: U64_MAX, seq: U64_MAX }, 0)) emit(['XADD', key, idString(e), ...e.fields]);
  emit(['XSETID', key, last, 'ENTRIESADDED', String(v.entriesAdded), 'MAXDELETEDID', idString(v.maxDeletedId)]);
  if (v.groups === null) return;
  for (const g of v.groups.sorted()) {
    emit(['XGROUP', 'CREATE', key, g.name, idString(g.lastId), 'ENTRIESREAD', String(g.entriesRead)]);
    for (const c of g.consumers()) {
      if (c.pel.size === 0) {
        emit(['XGROUP', 'CREATECONSUMER', key, g.name, c.name]);
        continue;
      }
      for (const n of c.pel.values()) {
        emit(['XCLAIM', key, g.name, c.name, '0', idString(n.id), 'TIME', String(n.deliveryTime), 'RETRYCOUNT', String(n.deliveryCount), 'JUSTID', 'FORCE']);
      }
    }
  }
}

// ---- Group read counters and lag (t_stream.c: streamRangeHasTombstones and friends) ----

/** True when [start, end] (end: the stream's end when null) may hold a deleted entry. */
export function rangeHasTombstones(s: StreamValue, start: StreamId | null, end: StreamId | null): boolean {
  const maxDel = s.maxDeletedId;
  if (s.length === 0 || (maxDel.ms === 0n && maxDel.seq === 0n)) return false;
  if (compareIds(s.firstId(), maxDel) > 0) return false;
  const from = start ?? { ms: 0n, seq: 0n };
  const to = end ?? { ms: U64_MAX, seq: U64_MAX };
  return compareIds(from, maxDel) <= 0 && compareIds(maxDel, to) <= 0;
}

/** The id's logical read counter when it can be known, else INVALID_ENTRIES_READ. */
export function estimateDistanceFromFirstEverEntry(s: StreamValue, id: StreamId): bigint {
  if (s.entriesAdded === 0n) return 0n;
  const cmpLast = compareIds(id, s.lastId);
  if (s.length === 0 && cmpLast < 1) return s.entriesAdded;
  if (cmpLast === 0) return s.entriesAdded;
  if (cmpLast > 0) return INVALID_ENTRIES_READ;
  const first = s.firstId();
  const maxDel = s.maxDeletedId;
  if ((maxDel.ms === 0n && maxDel.seq === 0n) || compareIds(maxDel, first) < 0) {
    const cmpFirst = compareIds(id, first);
    if (cmpFirst < 0) return s.entriesAdded - BigInt(s.length);
    if (cmpFirst === 0) return s.entriesAdded - BigInt(s.length) + 1n;
  }
  return INVALID_ENTRIES_READ;
}

/** A group's lag (entries not yet delivered), or null when it cannot be known. */
export function groupLag(s: StreamValue, g: StreamGroup): bigint | null {
  if (s.entriesAdded === 0n) return 0n;
  if (g.entriesRead !== INVALID_ENTRIES_READ && !rangeHasTombstones(s, g.lastId, null)) return s.entriesAdded - g.entriesRead;
  const read = estimateDistanceFromFirstEverEntry(s, g.lastId);
  return read === INVALID_ENTRIES_READ ? null : s.entriesAdded - read;
}

/** Advances the group's read counter for a delivery of `id` (above its last id), as streamReplyWithRange. */
export function noteGroupRead(s: StreamValue, g: StreamGroup, id: StreamId): void {
  if (g.entriesRead !== INVALID_ENTRIES_READ && !rangeHasTombstones(s, id, null)) g.entriesRead++;
  else if (s.entriesAdded !== 0n) g.entriesRead = estimateDistanceFromFirstEverEntry(s, id);
  g.lastId = { ms: id.ms, seq: id.seq };
}

/**
 * How many nodes Redis's rax holds for the stream's node keys (XINFO radix-tree-nodes): a
 * compressed radix tree of 16-byte big-endian ids, one node per shared run, branch point and
 * leaf, an empty tree being its root alone. O(keys × 16).
 */
export function radixTreeNodes(s: StreamValue): number {
  const keys = s.nodeKeys().map((id) => {
    const b = Buffer.allocUnsafe(16);
    b.writeBigUInt64BE(id.ms, 0);
    b.writeBigUInt64BE(id.seq, 8);
    return b;
  });
  if (keys.length === 0) return 1;
  return countRaxNodes(keys, 0, keys.length, 0);
}

function countRaxNodes(keys: Buffer[], lo: number, hi: number, depth: number): number {
  if (depth === 16) return 1;
  const a = keys[lo]!;
  const b = keys[hi - 1]!;
  let p = depth;
  while (p < 16 && a[p] === b[p]) p++;
  if (p > depth) return 1 + countRaxNodes(keys, lo, hi, p);
  let n = 1;
  for (let i = lo; i < hi; ) {
    let j = i + 1;
    while (j < hi && keys[j]![depth] === keys[i]![depth]) j++;
    n += countRaxNodes(keys, i, j, depth + 1);
    i = j;
  }
  return n;
}
