// Redis's pqsort (pqsort.c, Bentley & McIlroy's quicksort that only recurses into partitions
// touching [lrange, rrange]): GEORADIUS … COUNT sorts partially with it, and because it is not
// stable, equal distances come out in its order, which we must reproduce element for element.

type Cmp<T> = (a: T, b: T) => number;

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/** Swaps the n elements starting at i with the n starting at j. */
function vecswap<T>(a: T[], i: number, j: number, n: number): void {
  for (let k = 0; k < n; k++) swap(a, i + k, j + k);
}

function med3<T>(a: T[], i: number, j: number, k: number, cmp: Cmp<T>): number {
  return cmp(a[i]!, a[j]!) < 0
    ? cmp(a[j]!, a[k]!) < 0 ? j : cmp(a[i]!, a[k]!) < 0 ? k : i
    : cmp(a[j]!, a[k]!) > 0 ? j : cmp(a[i]!, a[k]!) < 0 ? i : k;
}

/**
 * Sorts a[lo … lo+n-1] far enough that positions lrange…rrange hold what a full sort would put
 * there (the same algorithm as Redis, pointer arithmetic turned into indexes).
 */
function pqsortRange<T>(a: T[], lo: number, n: number, cmp: Cmp<T>, lrange: number, rrange: number): void {
  for (;;) {
    if (n < 7) {
      for (let pm = lo + 1; pm < lo + n; pm++) for (let pl = pm; pl > lo && cmp(a[pl - 1]!, a[pl]!) > 0; pl--) swap(a, pl, pl - 1);
      return;
    }
    let pm = lo + Math.floor(n / 2);
    if (n > 7) {
      let pl = lo;
      let pn = lo + n - 1;
      if (n > 40) {
        const d = Math.floor(n / 8);
        pl = med3(a, pl, pl + d, pl + 2 * d, cmp);
        pm = med3(a, pm - d, pm, pm + d, cmp);
        pn = med3(a, pn - 2 * d, pn - d, pn, cmp);
      }
      pm = med3(a, pl, pm, pn, cmp);
    }
    swap(a, lo, pm);
    let pa = lo + 1;
    let pb = pa;
    let pc = lo + n - 1;
    let pd = pc;
    for (;;) {
      let r: number;
      while (pb <= pc && (r = cmp(a[pb]!, a[lo]!)) <= 0) {
        if (r === 0) swap(a, pa++, pb);
        pb++;
      }
      while (pb <= pc && (r = cmp(a[pc]!, a[lo]!)) >= 0) {
        if (r === 0) swap(a, pc, pd--);
        pc--;
      }
      if (pb > pc) break;
      swap(a, pb++, pc--);
    }
    const pn = lo + n;
    let r = Math.min(pa - lo, pb - pa);
    vecswap(a, lo, pb - r, r);
    r = Math.min(pd - pc, pn - pd - 1);
    vecswap(a, pb, pn - r, r);
    // Recurse (or loop) only into partitions overlapping the wanted range.
    const outside = (first: number, last: number) => (lrange < first && rrange < first) || (lrange > last && rrange > last);
    const left = pb - pa;
    if (left > 1 && !outside(lo, lo + left - 1)) pqsortRange(a, lo, left, cmp, lrange, rrange);
    const right = pd - pc;
    if (right <= 1) return;
    lo = pn - right;
    n = right;
    if (outside(lo, lo + n - 1)) return;
  }
}

/** pqsort(a, n, cmp, lrange, rrange) over the whole array. */
export function partialQuickSort<T>(a: T[], cmp: Cmp<T>, lrange: number, rrange: number): void {
  pqsortRange(a, 0, a.length, cmp, lrange, rrange);
}
