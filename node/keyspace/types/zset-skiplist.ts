// Redis's zset skiplist (t_zset.c) with spans: ordered by (score, member bytewise), rank and
// by-rank lookup in O(log n). Owns only ordering; member → score lookup lives in ZSetValue.

const MAX_LEVEL = 32;
const LEVEL_UP_PROBABILITY = 0.25;

/** A read-only view of one sorted-set element. */
export interface ZSetEntry {
  readonly member: string;
  readonly score: number;
}

export class ZSkipNode implements ZSetEntry {
  backward: ZSkipNode | null = null;
  readonly next: (ZSkipNode | null)[];
  readonly span: number[];

  constructor(
    public member: string,
    public score: number,
    level: number,
  ) {
    this.next = new Array<ZSkipNode | null>(level).fill(null);
    this.span = new Array<number>(level).fill(0);
  }
}

/** Score interval; `minExclusive`/`maxExclusive` mirror ZRANGEBYSCORE's "(" prefix. */
export interface ScoreRange {
  min: number;
  max: number;
  minExclusive: boolean;
  maxExclusive: boolean;
}

/** Lex bounds: a member string, or the "-" / "+" infinities. */
export const LEX_MIN: unique symbol = Symbol('lex -');
export const LEX_MAX: unique symbol = Symbol('lex +');
export type LexValue = string | typeof LEX_MIN | typeof LEX_MAX;

export interface LexRange {
  min: LexValue;
  max: LexValue;
  minExclusive: boolean;
  maxExclusive: boolean;
}

/** Parses one ZRANGEBYLEX bound ("-", "+", "[x", "(x"); null when malformed. */
export function parseLexBound(text: string): { value: LexValue; exclusive: boolean } | null {
  if (text === '-') return { value: LEX_MIN, exclusive: false };
  if (text === '+') return { value: LEX_MAX, exclusive: false };
  const first = text.charCodeAt(0);
  if (first === 91 /* [ */) return { value: text.slice(1), exclusive: false };
  if (first === 40 /* ( */) return { value: text.slice(1), exclusive: true };
  return null;
}

/** Redis's sdscmplex: infinities sort outside every string. */
export function compareLex(a: LexValue, b: LexValue): number {
  if (a === b) return 0;
  if (a === LEX_MIN || b === LEX_MAX) return -1;
  if (a === LEX_MAX || b === LEX_MIN) return 1;
  return a < b ? -1 : 1;
}

function scoreGteMin(score: number, r: ScoreRange): boolean {
  return r.minExclusive ? score > r.min : score >= r.min;
}
function scoreLteMax(score: number, r: ScoreRange): boolean {
  return r.maxExclusive ? score < r.max : score <= r.max;
}
function lexGteMin(member: string, r: LexRange): boolean {
  const c = compareLex(member, r.min);
  return r.minExclusive ? c > 0 : c >= 0;
}
function lexLteMax(member: string, r: LexRange): boolean {
  const c = compareLex(member, r.max);
  return r.maxExclusive ? c < 0 : c <= 0;
}

/** True when (score, member) sorts strictly before (score2, member2). */
function before(node: ZSkipNode, score: number, member: string): boolean {
  return node.score < score || (node.score === score && node.member < member);
}

export class ZSkipList {
  readonly header = new ZSkipNode('', 0, MAX_LEVEL);
  tail: ZSkipNode | null = null;
  length = 0;
  level = 1;
  /** Scratch array reused by every update walk (no allocation per operation). */
  private readonly update: ZSkipNode[] = new Array(MAX_LEVEL);
  private readonly rankScratch: number[] = new Array(MAX_LEVEL).fill(0);

  get first(): ZSkipNode | null {
    return this.header.next[0];
  }

  /** Inserts a node; the caller guarantees (score, member) is not present. */
  insert(score: number, member: string): ZSkipNode {
    const update = this.update;
    const rank = this.rankScratch;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      rank[i] = i === this.level - 1 ? 0 : rank[i + 1];
      let nx = x.next[i];
      while (nx !== null && before(nx, score, member)) {
        rank[i] += x.span[i];
        x = nx;
        nx = x.next[i];
      }
      update[i] = x;
    }
    const level = randomLevel();
    if (level > this.level) {
      for (let i = this.level; i < level; i++) {
        rank[i] = 0;
        update[i] = this.header;
        this.header.span[i] = this.length;
      }
      this.level = level;
    }
    const node = new ZSkipNode(member, score, level);
    for (let i = 0; i < level; i++) {
      node.next[i] = update[i].next[i];
      update[i].next[i] = node;
      node.span[i] = update[i].span[i] - (rank[0] - rank[i]);
      update[i].span[i] = rank[0] - rank[i] + 1;
    }
    for (let i = level; i < this.level; i++) update[i].span[i]++;
    node.backward = update[0] === this.header ? null : update[0];
    if (node.next[0] !== null) node.next[0].backward = node;
    else this.tail = node;
    this.length++;
    return node;
  }

  /** Removes (score, member); returns false when absent. */
  delete(score: number, member: string): boolean {
    const x = this.findUpdate(score, member).next[0];
    if (x === null || x.score !== score || x.member !== member) return false;
    this.unlink(x);
    return true;
  }

  /**
   * Changes a present element's score; keeps the node in place when the order allows (like
   * zslUpdateScore), else re-inserts. Returns the node now holding the element.
   */
  updateScore(curScore: number, member: string, newScore: number): ZSkipNode {
    const x = this.findUpdate(curScore, member).next[0] as ZSkipNode;
    const next = x.next[0];
    if ((x.backward === null || x.backward.score < newScore) && (next === null || next.score > newScore)) {
      x.score = newScore;
      return x;
    }
    this.unlink(x);
    return this.insert(newScore, member);
  }

  /** 1-based rank of (score, member), or 0 when absent. */
  rankOf(score: number, member: string): number {
    let rank = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && (nx.score < score || (nx.score === score && nx.member <= member))) {
        rank += x.span[i];
        x = nx;
        nx = x.next[i];
      }
      if (x !== this.header && x.member === member) return rank;
    }
    return 0;
  }

  /** The node at 1-based `rank`, or null. */
  byRank(rank: number): ZSkipNode | null {
    let traversed = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && traversed + x.span[i] <= rank) {
        traversed += x.span[i];
        x = nx;
        nx = x.next[i];
      }
      if (traversed === rank) return x === this.header ? null : x;
    }
    return null;
  }

  isInScoreRange(r: ScoreRange): boolean {
    if (r.min > r.max || (r.min === r.max && (r.minExclusive || r.maxExclusive))) return false;
    const first = this.header.next[0];
    if (this.tail === null || first === null || !scoreGteMin(this.tail.score, r)) return false;
    return scoreLteMax(first.score, r);
  }

  firstInScoreRange(r: ScoreRange): ZSkipNode | null {
    if (!this.isInScoreRange(r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && !scoreGteMin(nx.score, r)) {
        x = nx;
        nx = x.next[i];
      }
    }
    const found = x.next[0];
    return found !== null && scoreLteMax(found.score, r) ? found : null;
  }

  lastInScoreRange(r: ScoreRange): ZSkipNode | null {
    if (!this.isInScoreRange(r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && scoreLteMax(nx.score, r)) {
        x = nx;
        nx = x.next[i];
      }
    }
    return x !== this.header && scoreGteMin(x.score, r) ? x : null;
  }

  isInLexRange(r: LexRange): boolean {
    const c = compareLex(r.min, r.max);
    if (c > 0 || (c === 0 && (r.minExclusive || r.maxExclusive))) return false;
    const first = this.header.next[0];
    if (this.tail === null || first === null || !lexGteMin(this.tail.member, r)) return false;
    return lexLteMax(first.member, r);
  }

  firstInLexRange(r: LexRange): ZSkipNode | null {
    if (!this.isInLexRange(r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && !lexGteMin(nx.member, r)) {
        x = nx;
        nx = x.next[i];
      }
    }
    const found = x.next[0];
    return found !== null && lexLteMax(found.member, r) ? found : null;
  }

  lastInLexRange(r: LexRange): ZSkipNode | null {
    if (!this.isInLexRange(r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && lexLteMax(nx.member, r)) {
        x = nx;
        nx = x.next[i];
      }
    }
    return x !== this.header && lexGteMin(x.member, r) ? x : null;
  }

  /** Removes every node from `first` onwards while `keep(node)` holds; reports each removal. */
  deleteFrom(first: ZSkipNode | null, inRange: (n: ZSkipNode) => boolean, onRemove: (n: ZSkipNode) => void): number {
    let removed = 0;
    let x = first;
    while (x !== null && inRange(x)) {
      const next = x.next[0];
      this.delete(x.score, x.member);
      onRemove(x);
      removed++;
      x = next;
    }
    return removed;
  }

  /** Walks to the last node before (score, member), filling `update` for unlink/insert. */
  private findUpdate(score: number, member: string): ZSkipNode {
    const update = this.update;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && before(nx, score, member)) {
        x = nx;
        nx = x.next[i];
      }
      update[i] = x;
    }
    return x;
  }

  /** zslDeleteNode: unlinks `x` using the `update` array filled by findUpdate. */
  private unlink(x: ZSkipNode): void {
    const update = this.update;
    for (let i = 0; i < this.level; i++) {
      if (update[i].next[i] === x) {
        update[i].span[i] += x.span[i] - 1;
        update[i].next[i] = x.next[i];
      } else {
        update[i].span[i] -= 1;
      }
    }
    if (x.next[0] !== null) x.next[0].backward = x.backward;
    else this.tail = x.backward;
    while (this.level > 1 && this.header.next[this.level - 1] === null) this.level--;
    this.length--;
  }
}

function randomLevel(): number {
  let level = 1;
  while (level < MAX_LEVEL && Math.random() < LEVEL_UP_PROBABILITY) level++;
  return level;
}
