// The slot mover's throttle: keys and bytes per second over every move of the node, across calls
// (TESSERA.MIGRATE SLOT is called many times per slot, and several slots move at once), settable
// at run time. A debt clock per limit: each batch sent pushes its clock forward by what it costs
// at the rate; the next batch waits while a clock is more than BURST_MS ahead of now. 0 = off.
const BURST_MS = 50;
/** Longest single wait (a rate lowered or lifted meanwhile takes effect this soon). */
const MAX_WAIT_SLICE_MS = 100;

export interface ThrottleStatus {
  keysPerSec: number;
  bytesPerSec: number;
  /** Total time moves waited for the throttle, in ms. */
  waitedMs: number;
}

export class Throttle {
  private keysPerSec = 0;
  private bytesPerSec = 0;
  private keysClock = 0;
  private bytesClock = 0;
  private waited = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Sets the limits (0 = no limit); a lower rate applies to what is sent from now on. */
  set(keysPerSec: number, bytesPerSec: number): void {
    this.keysPerSec = keysPerSec;
    this.bytesPerSec = bytesPerSec;
    const t = this.now();
    // Debt run up under an old rate does not carry over.
    this.keysClock = Math.min(this.keysClock, t);
    this.bytesClock = Math.min(this.bytesClock, t);
  }

  status(): ThrottleStatus {
    return { keysPerSec: this.keysPerSec, bytesPerSec: this.bytesPerSec, waitedMs: Math.round(this.waited) };
  }

  /**
   * How many keys the next batch may take (a batch never costs much more than BURST_MS at the
   * rate, so the pace stays smooth), at most `max`.
   */
  batchKeys(max: number): number {
    if (this.keysPerSec <= 0) return max;
    return Math.max(1, Math.min(max, Math.floor((this.keysPerSec * BURST_MS) / 1000)));
  }

  batchBytes(max: number): number {
    if (this.bytesPerSec <= 0) return max;
    return Math.max(1, Math.min(max, Math.floor((this.bytesPerSec * BURST_MS) / 1000)));
  }

  /** Resolves once the limits allow the next batch (at once while they are off). */
  async pace(): Promise<void> {
    for (;;) {
      const ahead = this.ahead();
      if (ahead <= BURST_MS) return;
      const wait = Math.min(ahead - BURST_MS, MAX_WAIT_SLICE_MS);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, wait));
      this.waited += performance.now() - t0;
    }
  }

  /** A batch of `keys` keys and `bytes` bytes went out. */
  charge(keys: number, bytes: number): void {
    const t = this.now();
    if (this.keysPerSec > 0 && keys > 0) this.keysClock = Math.max(this.keysClock, t) + (keys * 1000) / this.keysPerSec;
    if (this.bytesPerSec > 0 && bytes > 0) this.bytesClock = Math.max(this.bytesClock, t) + (bytes * 1000) / this.bytesPerSec;
  }

  private ahead(): number {
    const t = this.now();
    let a = 0;
    if (this.keysPerSec > 0) a = Math.max(a, this.keysClock - t);
    if (this.bytesPerSec > 0) a = Math.max(a, this.bytesClock - t);
    return a;
  }
}
