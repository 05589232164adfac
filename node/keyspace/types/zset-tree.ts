// Order-statistic B+-tree over (score, member) pairs, the sorted set's order (Redis uses a
// skiplist; the order and ranks are the same): elements sit in leaf arrays, inner nodes keep each
// child's element count and largest element, so rank, by-rank and range bounds cost O(log n)
// with a handful of pointer hops. Owns only ordering; member → score lookup lives in ZSetValue.

/** Most elements per leaf and children per inner node (tests use small ones to reach every shape). */
export const ZTREE_NODE_CAP = 64;
/** A leaf's first arrays: most sorted sets are small, leaves grow by doubling up to the cap. */
const LEAF_INITIAL_CAP = 8;

export class ZLeaf {
  scores: Float64Array;
  members: string[];
  n = 0;
  next: ZLeaf | null = null;
  prev: ZLeaf | null = null;

  constructor(cap: number) {
    this.scores = new Float64Array(cap);
    this.members = new Array<string>(cap).fill('');
  }
}

class ZInner {
  readonly children: (ZInner | ZLeaf)[] = [];
  /** Elements under each child. */
  readonly counts: number[] = [];
  /** Each child's largest element (score, member). */
  readonly maxScores: number[] = [];
  readonly maxMembers: string[] = [];
}

/** True when (s1, m1) sorts strictly before (s2, m2): score, then member bytewise (latin1). */
function lessThan(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
}

/** A monotone test over the order (false … false true … true) for lowerBound. */
export type ZPredicate = (score: number, member: string) => boolean;

/** A position in the tree: leaf + index, walked with next/prev. Valid until the next write. */
export class ZCursor {
  constructor(
    public leaf: ZLeaf | null,
    public idx: number,
  ) {}

  get valid(): boolean {
    return this.leaf !== null;
  }
  get score(): number {
    return this.leaf!.scores[this.idx]!;
  }
  get member(): string {
    return this.leaf!.members[this.idx]!;
  }

  next(): void {
    const leaf = this.leaf!;
    if (++this.idx < leaf.n) return;
    this.leaf = leaf.next;
    this.idx = 0;
  }

  prev(): void {
    if (--this.idx >= 0) return;
    this.leaf = this.leaf!.prev;
    this.idx = this.leaf === null ? 0 : this.leaf.n - 1;
  }
}

export class ZTree {
  private root: ZInner | ZLeaf;
  /** Levels of inner nodes above the leaves (0: the root is a leaf). */
  private depth = 0;
  first: ZLeaf;
  last: ZLeaf;
  size = 0;
  /** The root-to-leaf path of the last descent (inner nodes and child indexes): no allocation per op. */
  private readonly pathNodes: ZInner[] = [];
  private readonly pathIdx: number[] = [];
  /**
   * Where the last insert landed: +1 at the very end, -1 at the very start, 0 elsewhere. A leaf
   * split there leaves the full part full (ascending timestamps, RDB loads highest first), so
   * such sets fill their leaves instead of leaving every one half empty.
   */
  private edge = 0;

  constructor(private readonly cap = ZTREE_NODE_CAP) {
    const leaf = new ZLeaf(Math.min(LEAF_INITIAL_CAP, cap + 1));
    this.root = leaf;
    this.first = leaf;
    this.last = leaf;
  }

  /** Inserts (score, member); the caller guarantees the pair is absent. */
  insert(score: number, member: string): void {
    const leaf = this.descend(score, member);
    const idx = leafLowerBound(leaf, score, member);
    if (leaf.n === leaf.scores.length) growLeaf(leaf, Math.min(leaf.n * 2, this.cap + 1));
    const { scores, members } = leaf;
    scores.copyWithin(idx + 1, idx, leaf.n);
    for (let i = leaf.n; i > idx; i--) members[i] = members[i - 1]!;
    scores[idx] = score;
    members[idx] = member;
    leaf.n++;
    this.edge = idx === leaf.n - 1 && leaf.next === null ? 1 : idx === 0 && leaf.prev === null ? -1 : 0;
    this.size++;
    this.fixPath(leaf, 1);
  }

  /** Removes (score, member); false when absent. */
  delete(score: number, member: string): boolean {
    const leaf = this.descend(score, member);
    const idx = leafLowerBound(leaf, score, member);
    if (idx >= leaf.n || leaf.scores[idx] !== score || leaf.members[idx] !== member) return false;
    this.removeAt(leaf, idx);
    return true;
  }

  /** 0-based rank of (score, member), or -1 when absent. */
  rankOf(score: number, member: string): number {
    let node = this.root;
    let rank = 0;
    for (let d = 0; d < this.depth; d++) {
      const inner = node as ZInner;
      const i = childFor(inner, score, member);
      for (let j = 0; j < i; j++) rank += inner.counts[j]!;
      node = inner.children[i]!;
    }
    const leaf = node as ZLeaf;
    const idx = leafLowerBound(leaf, score, member);
    if (idx >= leaf.n || leaf.scores[idx] !== score || leaf.members[idx] !== member) return -1;
    return rank + idx;
  }

  /** A cursor at 0-based `rank` (invalid when out of range). */
  at(rank: number): ZCursor {
    if (rank < 0 || rank >= this.size) return new ZCursor(null, 0);
    let node = this.root;
    let left = rank;
    for (let d = 0; d < this.depth; d++) {
      const inner = node as ZInner;
      let i = 0;
      while (left >= inner.counts[i]!) left -= inner.counts[i++]!;
      node = inner.children[i]!;
    }
    return new ZCursor(node as ZLeaf, left);
  }

  /** The rank of the first element for which the monotone `pred` holds (size when none does). */
  lowerBound(pred: ZPredicate): number {
    let node = this.root;
    let rank = 0;
    for (let d = 0; d < this.depth; d++) {
      const inner = node as ZInner;
      const n = inner.children.length;
      let i = 0;
      while (i < n - 1 && !pred(inner.maxScores[i]!, inner.maxMembers[i]!)) rank += inner.counts[i++]!;
      node = inner.children[i]!;
    }
    const leaf = node as ZLeaf;
    let lo = 0;
    let hi = leaf.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pred(leaf.scores[mid]!, leaf.members[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    return rank + lo;
  }

  /** Removes the element at 0-based `rank` (which must exist). */
  deleteAt(rank: number): void {
    let node = this.root;
    let left = rank;
    for (let d = 0; d < this.depth; d++) {
      const inner = node as ZInner;
      let i = 0;
      while (left >= inner.counts[i]!) left -= inner.counts[i++]!;
      this.pathNodes[d] = inner;
      this.pathIdx[d] = i;
      node = inner.children[i]!;
    }
    this.removeAt(node as ZLeaf, left);
  }

  clear(): void {
    const leaf = new ZLeaf(Math.min(LEAF_INITIAL_CAP, this.cap + 1));
    this.root = leaf;
    this.first = leaf;
    this.last = leaf;
    this.depth = 0;
    this.size = 0;
  }

  /** Walks from the root to the leaf where (score, member) belongs, recording the path. */
  private descend(score: number, member: string): ZLeaf {
    let node = this.root;
    for (let d = 0; d < this.depth; d++) {
      const inner = node as ZInner;
      const i = childFor(inner, score, member);
      this.pathNodes[d] = inner;
      this.pathIdx[d] = i;
      node = inner.children[i]!;
    }
    return node as ZLeaf;
  }

  /** Removes leaf[idx]; the path to `leaf` must be the last one recorded. */
  private removeAt(leaf: ZLeaf, idx: number): void {
    const { scores, members } = leaf;
    scores.copyWithin(idx, idx + 1, leaf.n);
    for (let i = idx; i < leaf.n - 1; i++) members[i] = members[i + 1]!;
    leaf.n--;
    members[leaf.n] = ''; // drop the reference
    this.size--;
    this.edge = 0;
    this.fixPath(leaf, -1);
  }

  /**
   * After a leaf gained or lost one element: counts and maxima up the recorded path, splitting
   * nodes over the cap, merging a node that fell under a quarter into a sibling, collapsing the root.
   */
  private fixPath(leaf: ZLeaf, delta: number): void {
    let child: ZInner | ZLeaf = leaf;
    for (let d = this.depth - 1; d >= 0; d--) {
      const p = this.pathNodes[d]!;
      let i = this.pathIdx[d]!;
      p.counts[i]! += delta;
      if (sizeOf(child) > this.cap) {
        const right = child instanceof ZLeaf ? this.splitLeaf(child) : splitInner(child);
        p.children.splice(i + 1, 0, right);
        p.counts.splice(i + 1, 0, countOf(right));
        p.maxScores.splice(i + 1, 0, 0);
        p.maxMembers.splice(i + 1, 0, '');
        setMax(p, i + 1, right);
        p.counts[i] = countOf(child);
      } else if (sizeOf(child) === 0 || sizeOf(child) < this.cap >> 2) {
        i = this.mergeChild(p, i);
        if (p.children.length === 0) {
          child = p; // emptied: its own parent drops it
          continue;
        }
        child = p.children[i]!;
      }
      if (sizeOf(child) > 0) setMax(p, i, child);
      child = p;
    }
    this.fixRoot();
  }

  /** Merges child i of `p` into a neighbour when both fit in half a node; returns the survivor's index. */
  private mergeChild(p: ZInner, i: number): number {
    const child = p.children[i]!;
    if (sizeOf(child) === 0) {
      this.dropChild(p, i);
      return Math.max(0, i - 1);
    }
    const half = this.cap >> 1;
    const j = i + 1 < p.children.length && sizeOf(p.children[i + 1]!) + sizeOf(child) <= half ? i + 1 : i > 0 && sizeOf(p.children[i - 1]!) + sizeOf(child) <= half ? i - 1 : -1;
    if (j < 0) return i;
    const lo = Math.min(i, j);
    const left = p.children[lo]!;
    const right = p.children[lo + 1]!;
    if (left instanceof ZLeaf) appendLeaf(left, right as ZLeaf, this);
    else appendInner(left, right as ZInner);
    p.counts[lo]! += p.counts[lo + 1]!;
    this.removeEntry(p, lo + 1);
    setMax(p, lo, left);
    return lo;
  }

  /** Drops an empty child (unlinking an empty leaf from the leaf chain). */
  private dropChild(p: ZInner, i: number): void {
    const child = p.children[i]!;
    if (child instanceof ZLeaf) this.unlinkLeaf(child);
    this.removeEntry(p, i);
  }

  private removeEntry(p: ZInner, i: number): void {
    p.children.splice(i, 1);
    p.counts.splice(i, 1);
    p.maxScores.splice(i, 1);
    p.maxMembers.splice(i, 1);
  }

  /** Grows the tree by a level when the root overflowed; drops levels of one-child roots. */
  private fixRoot(): void {
    const root = this.root;
    if (sizeOf(root) > this.cap) {
      const right = root instanceof ZLeaf ? this.splitLeaf(root) : splitInner(root);
      const top = new ZInner();
      for (const c of [root, right]) {
        top.children.push(c);
        top.counts.push(countOf(c));
        top.maxScores.push(0);
        top.maxMembers.push('');
        setMax(top, top.children.length - 1, c);
      }
      this.root = top;
      this.depth++;
      return;
    }
    while (this.depth > 0 && (this.root as ZInner).children.length === 1) {
      this.root = (this.root as ZInner).children[0]!;
      this.depth--;
    }
    if (this.depth > 0 && (this.root as ZInner).children.length === 0) this.clear();
  }

  /** Moves the upper half of a full leaf into a new leaf linked after it. */
  private splitLeaf(leaf: ZLeaf): ZLeaf {
    const keep = this.edge > 0 ? leaf.n - 1 : this.edge < 0 ? 1 : leaf.n >> 1;
    const moved = leaf.n - keep;
    const right = new ZLeaf(this.cap + 1);
    right.scores.set(leaf.scores.subarray(keep, leaf.n));
    for (let i = 0; i < moved; i++) {
      right.members[i] = leaf.members[keep + i]!;
      leaf.members[keep + i] = '';
    }
    right.n = moved;
    leaf.n = keep;
    right.next = leaf.next;
    right.prev = leaf;
    if (leaf.next !== null) leaf.next.prev = right;
    else this.last = right;
    leaf.next = right;
    return right;
  }

  /** Unlinks a leaf from the chain (it was emptied or merged away). */
  unlinkLeaf(leaf: ZLeaf): void {
    if (leaf.prev !== null) leaf.prev.next = leaf.next;
    else if (leaf.next !== null) this.first = leaf.next;
    if (leaf.next !== null) leaf.next.prev = leaf.prev;
    else if (leaf.prev !== null) this.last = leaf.prev;
  }
}

function sizeOf(node: ZInner | ZLeaf): number {
  return node instanceof ZLeaf ? node.n : node.children.length;
}

function countOf(node: ZInner | ZLeaf): number {
  if (node instanceof ZLeaf) return node.n;
  let n = 0;
  for (const c of node.counts) n += c;
  return n;
}

/** p's entry i takes child's largest element (child must not be empty). */
function setMax(p: ZInner, i: number, child: ZInner | ZLeaf): void {
  if (child instanceof ZLeaf) {
    p.maxScores[i] = child.scores[child.n - 1]!;
    p.maxMembers[i] = child.members[child.n - 1]!;
  } else {
    const last = child.children.length - 1;
    p.maxScores[i] = child.maxScores[last]!;
    p.maxMembers[i] = child.maxMembers[last]!;
  }
}

/** The first child whose largest element is ≥ (score, member), else the last child. */
function childFor(inner: ZInner, score: number, member: string): number {
  const { maxScores, maxMembers } = inner;
  const last = inner.children.length - 1;
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lessThan(maxScores[mid]!, maxMembers[mid]!, score, member)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index in the leaf whose element is ≥ (score, member). */
function leafLowerBound(leaf: ZLeaf, score: number, member: string): number {
  const { scores, members } = leaf;
  let lo = 0;
  let hi = leaf.n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lessThan(scores[mid]!, members[mid]!, score, member)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function growLeaf(leaf: ZLeaf, cap: number): void {
  const scores = new Float64Array(cap);
  scores.set(leaf.scores.subarray(0, leaf.n));
  leaf.scores = scores;
  const members = new Array<string>(cap).fill('');
  for (let i = 0; i < leaf.n; i++) members[i] = leaf.members[i]!;
  leaf.members = members;
}

/** Moves every element of `right` (the next leaf) into `left` and unlinks `right`. */
function appendLeaf(left: ZLeaf, right: ZLeaf, tree: ZTree): void {
  const n = left.n + right.n;
  if (n > left.scores.length) growLeaf(left, n);
  left.scores.set(right.scores.subarray(0, right.n), left.n);
  for (let i = 0; i < right.n; i++) left.members[left.n + i] = right.members[i]!;
  left.n = n;
  tree.unlinkLeaf(right);
}

function appendInner(left: ZInner, right: ZInner): void {
  left.children.push(...right.children);
  left.counts.push(...right.counts);
  left.maxScores.push(...right.maxScores);
  left.maxMembers.push(...right.maxMembers);
}

function splitInner(node: ZInner): ZInner {
  const keep = node.children.length >> 1;
  const right = new ZInner();
  right.children.push(...node.children.splice(keep));
  right.counts.push(...node.counts.splice(keep));
  right.maxScores.push(...node.maxScores.splice(keep));
  right.maxMembers.push(...node.maxMembers.splice(keep));
  return right;
}
