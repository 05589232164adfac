// Latency histograms without per-record allocation: a log-linear bucket array (HdrHistogram's
// layout: 2^subBits exact values, then 2^(subBits-1) buckets per power of two) in a preallocated
// Float64Array, and a rolling window of such histograms in fixed time slots. The node records one
// per command (INFO latencystats, Redis's hdr layout with subBits 8 = 2 significant digits) and
// the proxy keeps recent windows; recording is an index computation and an increment.

export class LogHistogram {
  readonly counts: Float64Array;
  total = 0;
  /** Largest value recorded (after clamping), 0 when empty. */
  max = 0;
  private readonly sub: number;
  private readonly half: number;

  constructor(
    readonly subBits: number,
    /** Values above are recorded as this (Redis clamps latencies to its histogram's range too). */
    readonly maxValue: number,
  ) {
    if (subBits < 2 || subBits > 16 || maxValue < 1 || maxValue > 0x7fffffff) throw new RangeError('bad histogram shape');
    this.sub = 1 << subBits;
    this.half = this.sub >>> 1;
    this.counts = new Float64Array(this.indexOf(maxValue) + 1);
  }

  /** The bucket of an integer value in [0, maxValue] (callers clamp with clamp()). */
  indexOf(v: number): number {
    if (v < this.sub) return v;
    const e = 31 - Math.clz32(v) - (this.subBits - 1); // v >>> e lies in [half, sub)
    return this.sub + (e - 1) * this.half + ((v >>> e) - this.half);
  }

  /** A value as an integer in [0, maxValue]. */
  clamp(v: number): number {
    return v >= this.maxValue ? this.maxValue : v <= 0 ? 0 : v | 0;
  }

  record(value: number): void {
    const v = this.clamp(value);
    this.recordAt(this.indexOf(v), v);
  }

  /** Records a value whose bucket the caller computed (one index for several histograms). */
  recordAt(index: number, v: number): void {
    this.counts[index] = this.counts[index]! + 1;
    this.total++;
    if (v > this.max) this.max = v;
  }

  /** The highest value that falls in bucket i (what HdrHistogram reports for a percentile). */
  highestAt(i: number): number {
    if (i < this.sub) return i;
    const k = i - this.sub;
    const e = Math.floor(k / this.half) + 1;
    const m = (k % this.half) + this.half;
    return (m + 1) * 2 ** e - 1;
  }

  lowestAt(i: number): number {
    if (i < this.sub) return i;
    const k = i - this.sub;
    const e = Math.floor(k / this.half) + 1;
    return ((k % this.half) + this.half) * 2 ** e;
  }

  /** HdrHistogram_c's hdr_value_at_percentile: the bucket holding the ceil-rounded rank; 0 when empty. */
  valueAtPercentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.floor((Math.min(p, 100) / 100) * this.total + 0.5));
    let seen = 0;
    const counts = this.counts;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!;
      if (seen >= rank) return p === 0 ? this.lowestAt(i) : this.highestAt(i);
    }
    return this.highestAt(counts.length - 1);
  }

  /**
   * HdrHistogram_c's logarithmic iteration with base 2 (hdr_iter_log_init(h, first, 2)), which
   * Redis's LATENCY HISTOGRAM walks: at each level first·2^k (k = 0, 1, …), the highest value of
   * the bucket holding the level and the count of values up to that bucket's end. It stops after
   * the level that reaches every value, or when a level lies past the array (values there, which
   * only a clamped maximum can reach, are never visited, as in hdr).
   */
  forEachLogLevel(first: number, visit: (highest: number, cumulative: number) => void): void {
    const counts = this.counts;
    let cumulative = 0;
    let i = 0;
    for (let level = first; this.total > cumulative && level <= 0x7fffffff; level *= 2) {
      const top = this.indexOf(level);
      if (top >= counts.length) return;
      for (; i <= top; i++) cumulative += counts[i]!;
      visit(this.highestAt(top), cumulative);
    }
  }

  /** Adds another histogram of the same shape into this one. */
  add(other: LogHistogram): void {
    const a = this.counts;
    const b = other.counts;
    for (let i = 0; i < a.length; i++) a[i] = a[i]! + b[i]!;
    this.total += other.total;
    if (other.max > this.max) this.max = other.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
  }
}

export interface WindowSummary {
  /** Seconds the figures cover (less than the window's length until it has run that long). */
  seconds: number;
  calls: number;
  errors: number;
  /** Calls per second over `seconds`. */
  qps: number;
  /** Latency samples in the window (all calls, or the timed share of them). */
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * The last `slots` × `slotMs` of latencies and calls: a ring of histograms, the newest one filling.
 * rotate() (on the owner's timer, never per record) moves to the next slot and clears it, so old
 * spells age out after one window.
 */
export class LatencyWindow {
  readonly ring: LogHistogram[];
  private readonly calls: Float64Array;
  private readonly errors: Float64Array;
  private head = 0;
  /** Slots that hold live data (the head included). */
  private live = 1;
  private headSince: number;
  private readonly merged: LogHistogram;

  constructor(readonly slots: number, readonly slotMs: number, subBits: number, maxValue: number, now = Date.now()) {
    this.ring = Array.from({ length: slots }, () => new LogHistogram(subBits, maxValue));
    this.merged = new LogHistogram(subBits, maxValue);
    this.calls = new Float64Array(slots);
    this.errors = new Float64Array(slots);
    this.headSince = now;
  }

  /** The filling slot's histogram (record into it; its indexOf/clamp serve every slot). */
  get current(): LogHistogram {
    return this.ring[this.head]!;
  }

  count(error: boolean): void {
    this.calls[this.head] = this.calls[this.head]! + 1;
    if (error) this.errors[this.head] = this.errors[this.head]! + 1;
  }

  record(value: number): void {
    this.ring[this.head]!.record(value);
  }

  rotate(now = Date.now()): void {
    this.head = (this.head + 1) % this.slots;
    this.ring[this.head]!.reset();
    this.calls[this.head] = 0;
    this.errors[this.head] = 0;
    this.headSince = now;
    if (this.live < this.slots) this.live++;
  }

  reset(now = Date.now()): void {
    for (const h of this.ring) h.reset();
    this.calls.fill(0);
    this.errors.fill(0);
    this.live = 1;
    this.headSince = now;
  }

  /** Figures over the window: percentiles of the merged slots. */
  summary(now = Date.now()): WindowSummary {
    const m = this.merged;
    m.reset();
    let calls = 0;
    let errors = 0;
    for (let k = 0; k < this.live; k++) {
      const i = (this.head - k + this.slots) % this.slots;
      m.add(this.ring[i]!);
      calls += this.calls[i]!;
      errors += this.errors[i]!;
    }
    const seconds = ((this.live - 1) * this.slotMs + Math.min(this.slotMs, Math.max(0, now - this.headSince))) / 1000;
    return {
      seconds, calls, errors, qps: seconds > 0 ? calls / seconds : 0,
      samples: m.total, p50: m.valueAtPercentile(50), p99: m.valueAtPercentile(99), max: m.max,
    };
  }

  /** A percentile over the window (for a list of them, like INFO's). */
  percentiles(ps: readonly number[]): number[] {
    const m = this.merged;
    m.reset();
    for (let k = 0; k < this.live; k++) m.add(this.ring[(this.head - k + this.slots) % this.slots]!);
    return ps.map((p) => m.valueAtPercentile(p));
  }
}
