// The sorted-set type: an order-statistic B+-tree (zset-tree.ts) for order and rank plus an
// IndexedMap member → score for O(1) lookup and random picks. Encoding follows Redis's
// listpack/skiplist rules (sticky skiplist); the name is all that differs between the two here.

import { encodingLimits } from './encoding-limits.js';
import { IndexedMap } from './indexed-map.js';
import { compareLex, type LexRange, type ScoreRange, type ZSetEntry } from './zset-range.js';
import { ZCursor, ZTree } from './zset-tree.js';

export { LEX_MAX, LEX_MIN, compareLex, parseLexBound } from './zset-range.js';
export type { LexRange, LexValue, ScoreRange, ZSetEntry } from './zset-range.js';
export type { ZCursor } from './zset-tree.js';

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
  readonly tree: ZTree;
  readonly scores = new IndexedMap<number>();
  private small = true;

  /** `nodeCap`: the tree's node size (tests pass small ones to reach deep trees with few elements). */
  constructor(nodeCap?: number) {
    this.tree = new ZTree(nodeCap);
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
    if (slot === undefined) {
      this.addAbsent(member, score);
      return 'added';
    }
    return this.updateAt(slot, score) ? 'updated' : 'unchanged';
  }

  /** The member's slot for scoreAt/updateAt (one hash lookup for a read-then-write), or undefined. */
  slotOf(member: string): number | undefined {
    return this.scores.slotOf(member);
  }

  /** Re-scores the member at `slot` (from slotOf, nothing written since); false when unchanged. */
  updateAt(slot: number, score: number): boolean {
    const current = this.scores.vals[slot]!;
    if (current === score) return false;
    const member = this.scores.keys[slot]!;
    this.tree.delete(current, member);
    this.tree.insert(score, member);
    this.scores.setAt(slot, score);
    return true;
  }

  /** Adds a member the caller knows is absent. `score` must not be NaN. */
  addAbsent(member: string, score: number): void {
    this.scores.appendAbsent(member, score);
    this.tree.insert(score, member);
    if (
      this.small &&
      (this.scores.size > encodingLimits.zsetMaxListpackEntries || member.length > encodingLimits.zsetMaxListpackValue)
    ) {
      this.small = false;
    }
  }

  remove(member: string): boolean {
    const score = this.scores.get(member);
    if (score === undefined) return false;
    this.scores.delete(member);
    this.tree.delete(score, member);
    return true;
  }

  /** 0-based rank (from the high end when `reverse`), or undefined when absent. */
  rank(member: string, reverse = false): number | undefined {
    const score = this.scores.get(member);
    if (score === undefined) return undefined;
    const rank = this.tree.rankOf(score, member);
    return reverse ? this.tree.size - 1 - rank : rank;
  }

  /** A cursor at 0-based ascending `rank` (invalid when out of range): walk it with next/prev. */
  cursorAt(rank: number): ZCursor {
    return this.tree.at(rank);
  }

  /** A cursor at the first element whose score is ≥ `min` (geo box searches). */
  cursorAtScore(min: number): ZCursor {
    return this.tree.at(this.tree.lowerBound((score) => score >= min));
  }

  /** Elements with 0-based ranks start..stop inclusive (already clamped), low→high or high→low. */
  rangeByRank(start: number, stop: number, reverse = false): ZSetEntry[] {
    const len = this.tree.size;
    if (start > stop || start >= len) return [];
    const count = Math.min(stop, len - 1) - start + 1;
    return reverse ? this.collect(len - 1 - start, count, true) : this.collect(start, count, false);
  }

  rangeByScore(range: ScoreRange, options: RangeOptions = {}): ZSetEntry[] {
    const [lo, hi] = this.scoreBounds(range);
    return this.collectRange(lo, hi, options);
  }

  rangeByLex(range: LexRange, options: RangeOptions = {}): ZSetEntry[] {
    const [lo, hi] = this.lexBounds(range);
    return this.collectRange(lo, hi, options);
  }

  /** ZCOUNT in O(log n) via ranks. */
  countInScoreRange(range: ScoreRange): number {
    const [lo, hi] = this.scoreBounds(range);
    return hi - lo;
  }

  /** ZLEXCOUNT in O(log n) via ranks. */
  countInLexRange(range: LexRange): number {
    const [lo, hi] = this.lexBounds(range);
    return hi - lo;
  }

  /** ZREMRANGEBYRANK with 0-based, already clamped ranks. Returns the number removed. */
  removeRangeByRank(start: number, stop: number): number {
    if (start > stop || start >= this.tree.size) return 0;
    return this.removeRanks(start, Math.min(stop, this.tree.size - 1) + 1);
  }

  removeRangeByScore(range: ScoreRange): number {
    const [lo, hi] = this.scoreBounds(range);
    return this.removeRanks(lo, hi);
  }

  removeRangeByLex(range: LexRange): number {
    const [lo, hi] = this.lexBounds(range);
    return this.removeRanks(lo, hi);
  }

  /** Removes and returns up to `count` lowest elements, lowest first. */
  popMin(count = 1): ZSetEntry[] {
    const out = this.collect(0, Math.min(count, this.tree.size), false);
    for (const e of out) this.remove(e.member);
    return out;
  }

  /** Removes and returns up to `count` highest elements, highest first. */
  popMax(count = 1): ZSetEntry[] {
    const out = this.collect(this.tree.size - 1, Math.min(count, this.tree.size), true);
    for (const e of out) this.remove(e.member);
    return out;
  }

  /** A uniformly random slot for memberAt/scoreAt; the set must not be empty. */
  randomSlot(): number {
    return this.scores.randomSlot();
  }

  memberAt(slot: number): string {
    return this.scores.keys[slot]!;
  }

  scoreAt(slot: number): number {
    return this.scores.vals[slot]!;
  }

  randomEntry(): ZSetEntry {
    const slot = this.scores.randomSlot();
    return { member: this.scores.keys[slot]!, score: this.scores.vals[slot]! };
  }

  /** ZSCAN: a listpack zset returns everything in order at once; a skiplist walks slots high → low. */
  scan(cursor: number, count: number): ZSetScanResult {
    if (this.small) return { cursor: 0, entries: this.rangeByRank(0, this.size - 1) };
    const { keys, vals } = this.scores;
    const step = this.scores.scanSlots(cursor, count);
    const entries = step.slots.map((slot) => ({ member: keys[slot]!, score: vals[slot]! }));
    return { cursor: step.cursor, entries };
  }

  /** Ascending (score, member) order. */
  *[Symbol.iterator](): IterableIterator<ZSetEntry> {
    for (const c = this.tree.at(0); c.valid; c.next()) yield { member: c.member, score: c.score };
  }

  /** [first rank in range, first rank past it) for a score range (empty: lo ≥ hi). */
  private scoreBounds(r: ScoreRange): [number, number] {
    if (r.min > r.max || (r.min === r.max && (r.minExclusive || r.maxExclusive))) return [0, 0];
    const { min, max } = r;
    const lo = this.tree.lowerBound(r.minExclusive ? (s) => s > min : (s) => s >= min);
    const hi = this.tree.lowerBound(r.maxExclusive ? (s) => s >= max : (s) => s > max);
    return [lo, Math.max(lo, hi)];
  }

  /** As scoreBounds, over members (defined when all scores are equal, as in Redis). */
  private lexBounds(r: LexRange): [number, number] {
    const c = compareLex(r.min, r.max);
    if (c > 0 || (c === 0 && (r.minExclusive || r.maxExclusive))) return [0, 0];
    const { min, max } = r;
    const lo = this.tree.lowerBound(r.minExclusive ? (_s, m) => compareLex(m, min) > 0 : (_s, m) => compareLex(m, min) >= 0);
    const hi = this.tree.lowerBound(r.maxExclusive ? (_s, m) => compareLex(m, max) >= 0 : (_s, m) => compareLex(m, max) > 0);
    return [lo, Math.max(lo, hi)];
  }

  /** Ranks [lo, hi) honouring offset/limit, from the high end when reverse. */
  private collectRange(lo: number, hi: number, options: RangeOptions): ZSetEntry[] {
    const offset = options.offset ?? 0;
    const available = hi - lo - offset;
    if (available <= 0) return [];
    const limit = options.limit === undefined || options.limit < 0 ? available : Math.min(options.limit, available);
    return options.reverse ? this.collect(hi - 1 - offset, limit, true) : this.collect(lo + offset, limit, false);
  }

  /** `count` elements from ascending rank `from`, walking down when reverse. */
  private collect(from: number, count: number, reverse: boolean): ZSetEntry[] {
    const out: ZSetEntry[] = [];
    const c = this.tree.at(from);
    for (; c.valid && out.length < count; reverse ? c.prev() : c.next()) out.push({ member: c.member, score: c.score });
    return out;
  }

  /** Removes ranks [lo, hi), keeping the member map in step. */
  private removeRanks(lo: number, hi: number): number {
    const n = hi - lo;
    for (let i = 0; i < n; i++) {
      const c = this.tree.at(lo);
      this.scores.delete(c.member);
      this.tree.deleteAt(lo);
    }
    return Math.max(0, n);
  }
}
