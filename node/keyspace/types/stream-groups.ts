// Consumer groups of a stream (t_stream.c's streamCG, streamConsumer, streamNACK): each group has
// a last delivered id, a read counter, a pending entries list (PEL) of delivered-but-unacked ids,
// and consumers, each with its own PEL sharing the group's NACKs. Pure data: no RESP, no clock.

export interface GroupId {
  ms: bigint;
  seq: bigint;
}

/** SCG_INVALID_ENTRIES_READ: the group's read counter is unknown. */
export const INVALID_ENTRIES_READ = -1n;

function cmp(a: GroupId, b: GroupId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

/** One pending entry: delivered to `consumer`, not yet acknowledged. */
export interface StreamNack {
  readonly id: GroupId;
  deliveryTime: number;
  deliveryCount: number;
  /** Null only for a NACK XCLAIM FORCE just made (or an RDB entry no consumer claimed). */
  consumer: StreamConsumer | null;
}

/**
 * Items ordered by id (the rax of a PEL): a sorted array, binary searched. Deliveries append at the
 * end (new ids are above the group's last id) and acks mostly remove the oldest, so both common
 * cases are O(1): the front is dropped by moving `head`, compacted once half the array is dead.
 * Inserts or deletes in the middle (claims, out-of-order acks) shift the array.
 */
export class PelIndex<T extends { readonly id: GroupId }> {
  private items: T[] = [];
  /** Items before `head` are deleted (not yet compacted away). */
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  /** Position (0 = first live item) of the first item whose id is ≥ id. */
  lowerBound(id: GroupId): number {
    const items = this.items;
    const last = items[items.length - 1];
    if (last === undefined || this.size === 0 || cmp(last.id, id) < 0) return this.size;
    let lo = this.head;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(items[mid]!.id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.head;
  }

  get(id: GroupId): T | undefined {
    const item = this.at(this.lowerBound(id));
    return item !== undefined && cmp(item.id, id) === 0 ? item : undefined;
  }

  /** Inserts `item` unless its id is present; false when it was. */
  insert(item: T): boolean {
    const i = this.lowerBound(item.id);
    const at = this.at(i);
    if (at !== undefined && cmp(at.id, item.id) === 0) return false;
    if (i === this.size) this.items.push(item);
    else if (i === 0 && this.head > 0) this.items[--this.head] = item;
    else this.items.splice(this.head + i, 0, item);
    return true;
  }

  delete(id: GroupId): boolean {
    const i = this.lowerBound(id);
    const at = this.at(i);
    if (at === undefined || cmp(at.id, id) !== 0) return false;
    if (i === 0) {
      (this.items as Array<T | undefined>)[this.head] = undefined;
      this.head++;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
    } else this.items.splice(this.head + i, 1);
    return true;
  }

  /** The item at position i (0 = first), or undefined past the end. */
  at(i: number): T | undefined {
    return i < 0 ? undefined : this.items[this.head + i];
  }

  first(): T | undefined {
    return this.at(0);
  }

  last(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.items.length - 1];
  }

  /** The items in id order (a copy when the front holds deleted slots; do not mutate). */
  values(): readonly T[] {
    return this.head === 0 ? this.items : this.items.slice(this.head);
  }
}

export class StreamConsumer {
  /** The consumer's share of the group PEL (the same NACK objects). */
  readonly pel = new PelIndex<StreamNack>();
  constructor(
    readonly name: string,
    public seenTime: number,
  ) {}
}

export class StreamGroup {
  readonly pel = new PelIndex<StreamNack>();
  private readonly consumerMap = new Map<string, StreamConsumer>();

  constructor(
    readonly name: string,
    public lastId: GroupId,
    /** Entries the group has read (its logical offset), or INVALID_ENTRIES_READ. */
    public entriesRead: bigint,
  ) {}

  get consumerCount(): number {
    return this.consumerMap.size;
  }

  consumer(name: string): StreamConsumer | undefined {
    return this.consumerMap.get(name);
  }

  /** Creates a consumer; undefined when one of that name exists. */
  createConsumer(name: string, now: number): StreamConsumer | undefined {
    if (this.consumerMap.has(name)) return undefined;
    const c = new StreamConsumer(name, now);
    this.consumerMap.set(name, c);
    return c;
  }

  /** Deletes a consumer and its pending entries from the group PEL (streamDelConsumer). */
  deleteConsumer(c: StreamConsumer): void {
    for (const nack of c.pel.values()) this.pel.delete(nack.id);
    this.consumerMap.delete(c.name);
  }

  /** Consumers in name byte order, as Redis's rax iterates them. */
  consumers(): StreamConsumer[] {
    return [...this.consumerMap.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Removes a pending entry from the group and its consumer; false when not pending. */
  ack(id: GroupId): boolean {
    const nack = this.pel.get(id);
    if (nack === undefined) return false;
    this.pel.delete(id);
    nack.consumer?.pel.delete(id);
    return true;
  }

  /** Moves `nack` to `to`'s PEL (XCLAIM, XAUTOCLAIM, a redelivery after SETID). */
  assign(nack: StreamNack, to: StreamConsumer): void {
    if (nack.consumer === to) return;
    nack.consumer?.pel.delete(nack.id);
    to.pel.insert(nack);
    nack.consumer = to;
  }

  clone(): StreamGroup {
    const g = new StreamGroup(this.name, this.lastId, this.entriesRead);
    const byOld = new Map<StreamNack, StreamNack>();
    for (const n of this.pel.values()) {
      const copy: StreamNack = { id: n.id, deliveryTime: n.deliveryTime, deliveryCount: n.deliveryCount, consumer: null };
      byOld.set(n, copy);
      g.pel.insert(copy);
    }
    for (const c of this.consumerMap.values()) {
      const copy = g.createConsumer(c.name, c.seenTime)!;
      for (const n of c.pel.values()) {
        const nack = byOld.get(n)!;
        nack.consumer = copy;
        copy.pel.insert(nack);
      }
    }
    return g;
  }
}

/** Groups of one stream, iterated in name byte order like Redis's rax. */
export class StreamGroups {
  private readonly map = new Map<string, StreamGroup>();

  get size(): number {
    return this.map.size;
  }

  get(name: string): StreamGroup | undefined {
    return this.map.get(name);
  }

  /** Creates a group; undefined when the name is taken (BUSYGROUP). */
  create(name: string, lastId: GroupId, entriesRead: bigint): StreamGroup | undefined {
    if (this.map.has(name)) return undefined;
    const g = new StreamGroup(name, lastId, entriesRead);
    this.map.set(name, g);
    return g;
  }

  delete(name: string): boolean {
    return this.map.delete(name);
  }

  sorted(): StreamGroup[] {
    return [...this.map.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  clone(): StreamGroups {
    const copy = new StreamGroups();
    for (const [name, g] of this.map) copy.map.set(name, g.clone());
    return copy;
  }
}
