// The sorted-set type: skiplist for order and rank plus IndexedMap member → score for O(1)
// lookup and random picks. Encoding follows Redis's listpack/skiplist rules (sticky skiplist).

import { encodingLimits } from './encoding-limits.js';
import { IndexedMap } from './indexed-map.js';
import { ZSkipList, type LexRange, type ScoreRange, type ZSetEntry, type ZSkipNode } from './zset-skiplist.js';

export { LEX_MAX, LEX_MIN, compareLex, parseLexBound } from './zset-skiplist.js';
export type { LexRange, LexValue, ScoreRange, ZSetEntry } from './zset-skiplist.js';

export type ZSetEncoding = 'listpack' | 'skiplist';

/** What `set` did to the element. */
export type ZSetChange = 'added' | 'updated' | 'unchanged';

export interface RangeOptions {
  /** Elements to skip from the start of the range (in iteration direction). */
  offset?: number;
  /** Maximum elements to return; negative = no limit. */
  limit?: number;
  /** Iterate from the high end of the range. */
  reverse?: boolean;
}

export interface ZSetScanResult {
  cursor: number;
  entries: ZSetEntry[];
}

export class ZSetValue {
  readonly list = new ZSkipList();
  readonly scores = new IndexedMap<number>();
  private small = true;

  constructor() {
    this.scores.makeUnordered();
  }

  get size(): number {
    return this.scores.size;
  }

  encoding(): ZSetEncoding {
    return this.small ? 'listpack' : 'skiplist';
  }

  /** Forces the skiplist encoding (RDB/RESTORE of a ZSET type). */
  convertToSkiplist(): void {
    this.small = false;
  }

  score(member: string): number | undefined {
    return this.scores.get(member);
  }

  /** Adds or re-scores `member`. `score` must not be NaN. */
  set(member: string, score: number): ZSetChange {
    const slot = this.scores.slotOf(member);
    if (slot !== undefined) {
      const current = this.scores.vals[slot];
      if (current === score) return 'unchanged';
      this.list.updateScore(current, member, score);
      this.scores.setAt(slot, score);
      return 'updated';
    }
    this.scores.set(member, score);
    this.list.insert(score, member);
    if (
      this.small &&
      (this.scores.size > encodingLimits.zsetMaxListpackEntries || member.length > encodingLimits.zsetMaxListpackValue)
    ) {
      this.small = false;
    }
    return 'added';
  }

  remove(member: string): boolean {
    const score = this.scores.get(member);
    if (score === undefined) return false;
    this.scores.delete(member);
    this.list.delete(score, member);
    return true;
  }

  /** 0-based rank (from the high end when `reverse`), or undefined when absent. */
  rank(member: string, reverse = false): number | undefined {
    const score = this.scores.get(member);
    if (score === undefined) return undefined;
    const rank = this.list.rankOf(score, member) - 1;
    return reverse ? this.list.length - 1 - rank : rank;
  }

  /** Elements with 0-based ranks start..stop inclusive (already clamped), low→high or high→low. */
  rangeByRank(start: number, stop: number, reverse = false): ZSetEntry[] {
    const out: ZSetEntry[] = [];
    const len = this.list.length;
    if (start > stop || start >= len) return out;
    const count = Math.min(stop, len - 1) - start + 1;
    let node = this.list.byRank(reverse ? len - start : start + 1);
    while (node !== null && out.length < count) {
      out.push(node);
      node = reverse ? node.backward : node.next[0];
    }
    return out;
  }

  rangeByScore(range: ScoreRange, options: RangeOptions = {}): ZSetEntry[] {
    const reverse = options.reverse ?? false;
    const start = reverse ? this.list.lastInScoreRange(range) : this.list.firstInScoreRange(range);
    const inRange = reverse
      ? (n: ZSkipNode) => (range.minExclusive ? n.score > range.min : n.score >= range.min)
      : (n: ZSkipNode) => (range.maxExclusive ? n.score < range.max : n.score <= range.max);
    return this.collect(start, inRange, options);
  }

  rangeByLex(range: LexRange, options: RangeOptions = {}): ZSetEntry[] {
    const reverse = options.reverse ?? false;
    const start = reverse ? this.list.lastInLexRange(range) : this.list.firstInLexRange(range);
    // From the start node on, only the far bound can end the walk.
    const far = reverse ? this.list.firstInLexRange(range) : this.list.lastInLexRange(range);
    return this.collectUntil(start, far, options);
  }

  /** ZCOUNT in O(log n) via ranks. */
  countInScoreRange(range: ScoreRange): number {
    const first = this.list.firstInScoreRange(range);
    if (first === null) return 0;
    const last = this.list.lastInScoreRange(range) as ZSkipNode;
    return this.list.rankOf(last.score, last.member) - this.list.rankOf(first.score, first.member) + 1;
  }

  /** ZLEXCOUNT in O(log n) via ranks. */
  countInLexRange(range: LexRange): number {
    const first = this.list.firstInLexRange(range);
    if (first === null) return 0;
    const last = this.list.lastInLexRange(range) as ZSkipNode;
    return this.list.rankOf(last.score, last.member) - this.list.rankOf(first.score, first.member) + 1;
  }

  /** ZREMRANGEBYRANK with 0-based, already clamped ranks. Returns the number removed. */
  removeRangeByRank(start: number, stop: number): number {
    if (start > stop || start >= this.list.length) return 0;
    const first = this.list.byRank(start + 1);
    let left = Math.min(stop, this.list.length - 1) - start + 1;
    return this.list.deleteFrom(first, () => left-- > 0, (n) => this.scores.delete(n.member));
  }

  removeRangeByScore(range: ScoreRange): number {
    const first = this.list.firstInScoreRange(range);
    const inRange = (n: ZSkipNode) => (range.maxExclusive ? n.score < range.max : n.score <= range.max);
    return this.list.deleteFrom(first, inRange, (n) => this.scores.delete(n.member));
  }

  removeRangeByLex(range: LexRange): number {
    const first = this.list.firstInLexRange(range);
    if (first === null) return 0;
    const last = this.list.lastInLexRange(range) as ZSkipNode;
    let done = false;
    const inRange = (n: ZSkipNode) => {
      if (done) return false;
      if (n === last) done = true;
      return true;
    };
    return this.list.deleteFrom(first, inRange, (n) => this.scores.delete(n.member));
  }

  /** Removes and returns up to `count` lowest elements, lowest first. */
  popMin(count = 1): ZSetEntry[] {
    const out: ZSetEntry[] = [];
    while (out.length < count) {
      const node = this.list.first;
      if (node === null) break;
      out.push({ member: node.member, score: node.score });
      this.remove(node.member);
    }
    return out;
  }

  /** Removes and returns up to `count` highest elements, highest first. */
  popMax(count = 1): ZSetEntry[] {
    const out: ZSetEntry[] = [];
    while (out.length < count) {
      const node = this.list.tail;
      if (node === null) break;
      out.push({ member: node.member, score: node.score });
      this.remove(node.member);
    }
    return out;
  }

  /** A uniformly random slot for memberAt/scoreAt; the set must not be empty. */
  randomSlot(): number {
    return this.scores.randomSlot();
  }

  memberAt(slot: number): string {
    return this.scores.keys[slot];
  }

  scoreAt(slot: number): number {
    return this.scores.vals[slot];
  }

  randomEntry(): ZSetEntry {
    const slot = this.scores.randomSlot();
    return { member: this.scores.keys[slot], score: this.scores.vals[slot] };
  }

  /** ZSCAN: a listpack zset returns everything in order at once; a skiplist walks slots high → low. */
  scan(cursor: number, count: number): ZSetScanResult {
    if (this.small) return { cursor: 0, entries: this.rangeByRank(0, this.size - 1) };
    const { keys, vals } = this.scores;
    const step = this.scores.scanSlots(cursor, count);
    const entries = step.slots.map((slot) => ({ member: keys[slot], score: vals[slot] }));
    return { cursor: step.cursor, entries };
  }

  /** Ascending (score, member) order. */
  *[Symbol.iterator](): IterableIterator<ZSetEntry> {
    for (let node = this.list.first; node !== null; node = node.next[0]) yield node;
  }

  /** Walks from `start` while `inRange` holds, honouring offset/limit. */
  private collect(start: ZSkipNode | null, inRange: (n: ZSkipNode) => boolean, options: RangeOptions): ZSetEntry[] {
    const out: ZSetEntry[] = [];
    const reverse = options.reverse ?? false;
    const limit = options.limit === undefined || options.limit < 0 ? Infinity : options.limit;
    let node = this.skip(start, options.offset ?? 0, reverse);
    while (node !== null && out.length < limit && inRange(node)) {
      out.push(node);
      node = reverse ? node.backward : node.next[0];
    }
    return out;
  }

  /** Walks from `start` up to and including `end`, honouring offset/limit. */
  private collectUntil(start: ZSkipNode | null, end: ZSkipNode | null, options: RangeOptions): ZSetEntry[] {
    if (start === null || end === null) return [];
    const reverse = options.reverse ?? false;
    const startRank = this.list.rankOf(start.score, start.member);
    const endRank = this.list.rankOf(end.score, end.member);
    const available = Math.abs(endRank - startRank) + 1 - (options.offset ?? 0);
    const limit = options.limit === undefined || options.limit < 0 ? available : Math.min(options.limit, available);
    const out: ZSetEntry[] = [];
    let node = this.skip(start, options.offset ?? 0, reverse);
    while (node !== null && out.length < limit) {
      out.push(node);
      node = reverse ? node.backward : node.next[0];
    }
    return out;
  }

  /** Moves `offset` elements from `node` in O(log n) via ranks. */
  private skip(node: ZSkipNode | null, offset: number, reverse: boolean): ZSkipNode | null {
    if (node === null || offset <= 0) return node;
    const rank = this.list.rankOf(node.score, node.member);
    const target = reverse ? rank - offset : rank + offset;
    return target < 1 ? null : this.list.byRank(target);
  }
}
