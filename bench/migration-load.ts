// The migration scenario's client load through the proxies: a steady probe (GET and SET in turn on
// random keys, one request at a time, every latency recorded by phase) and a write load (INCR on
// counters through every proxy, counting the acknowledged ones). Both paced to a fixed rate, so
// the load is the same before and during the move and only the move differs.
import { slotOf } from '../common/slots.js';
import type { ProbeRequest } from './migration-attribution.js';
import { keyName, valueOf, type Dataset } from './migration-data.js';
import { RespClient } from './resp-client.js';
import { ReplyError } from './resp-reply.js';

export type Phase = 'idle' | 'during';

export interface LatencyStats {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Requests that waited more than 50 ms (the issue's bound for a probe during a big key's move). */
  over50Ms: number;
}

/** Client errors: error replies, wrong values, failed connections; the first few kept. */
export class ErrorLog {
  count = 0;
  readonly first: string[] = [];

  add(message: string): void {
    this.count++;
    if (this.first.length < 10) this.first.push(message);
  }
}

/** Per-phase latencies; capped so a very long run cannot grow without bound (60 min at 10k/s). */
const MAX_SAMPLES = 36_000_000;
/** After an error (a closed connection rejects at once) a worker waits this long; it stops after STOP_AFTER_ERRORS. */
const ERROR_PAUSE_MS = 10;
const STOP_AFTER_ERRORS = 1000;
/** A pacer that fell behind (a long stall) does not burst more than this to catch up. */
const MAX_CATCH_UP_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentiles of a list of latencies in ms. */
export function latencyStats(latencies: readonly number[]): LatencyStats {
  const sorted = Float64Array.from(latencies).sort();
  const n = sorted.length;
  const at = (q: number): number => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]);
  let over50Ms = 0;
  for (const v of sorted) if (v > 50) over50Ms++;
  return { samples: n, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: n === 0 ? 0 : sorted[n - 1], over50Ms };
}

/** Hands out send times `intervalMs` apart; waits until the next one is due. */
class Pacer {
  private nextAt = performance.now();

  constructor(private readonly intervalMs: number) {}

  async next(): Promise<void> {
    const now = performance.now();
    const due = Math.max(this.nextAt, now - MAX_CATCH_UP_MS);
    this.nextAt = due + this.intervalMs;
    if (due - now > 1) await sleep(due - now);
  }
}

/** A probe request that waited more than 50 ms: when (ms since the phase began), how long, on what. */
export interface SlowRequest {
  phase: Phase;
  atMs: number;
  ms: number;
  command: string;
  slot: number;
}
const MAX_SLOW = 200;
/** Requests of the "during" phase kept for the attribution (10 min at 1000/s). */
const MAX_DURING_KEPT = 600_000;

export class Probe {
  readonly errors = new ErrorLog();
  /** The first MAX_SLOW requests over 50 ms (the JSON report: to line them up with the move's steps). */
  readonly slow: SlowRequest[] = [];
  /** Every request of the "during" phase: when sent (performance.now()), how long, its slot (migration-attribution.ts). */
  readonly during: ProbeRequest[] = [];
  private phaseStarted = 0;
  private readonly latencies: Record<Phase, number[]> = { idle: [], during: [] };
  private phase: Phase | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly port: number, private readonly data: Dataset, private readonly ratePerSecond: number) {}

  /** Which phase the next requests belong to; null records nothing. */
  setPhase(phase: Phase | null): void {
    this.phase = phase;
    this.phaseStarted = performance.now();
  }

  async start(): Promise<void> {
    const client = await RespClient.connect(this.port);
    this.loop = this.run(client).finally(() => client.close());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  stats(phase: Phase): LatencyStats {
    return latencyStats(this.latencies[phase]);
  }

  /** Every latency recorded, per phase (what a probe in a worker thread sends back: migration-probe.ts). */
  recorded(): Record<Phase, number[]> {
    return this.latencies;
  }

  private async run(client: RespClient): Promise<void> {
    const pacer = new Pacer(1000 / this.ratePerSecond);
    const ids = this.data.ids;
    const bytes = this.data.spec.valueBytes;
    for (let i = 0; !this.stopped && this.errors.count < STOP_AFTER_ERRORS; i++) {
      await pacer.next();
      const id = ids[Math.floor(Math.random() * ids.length)];
      const want = valueOf(id, bytes);
      // SET writes the value the key already has: the final check stays exact.
      const args = i % 2 === 0 ? ['GET', keyName(id)] : ['SET', keyName(id), want];
      const phase = this.phase;
      const started = performance.now();
      try {
        const reply = await client.send(args);
        const ms = performance.now() - started;
        if (phase !== null && this.latencies[phase].length < MAX_SAMPLES) this.latencies[phase].push(ms);
        if (phase === 'during' && this.during.length < MAX_DURING_KEPT) this.during.push({ startedAt: started, ms, slot: slotOf(args[1]) });
        if (phase !== null && ms > 50 && this.slow.length < MAX_SLOW) {
          this.slow.push({ phase, atMs: Math.round(started - this.phaseStarted), ms: Math.round(ms), command: args[0], slot: slotOf(args[1]) });
        }
        if (reply instanceof ReplyError) this.errors.add(`probe ${args[0]} ${args[1]}: -${reply.message}`);
        else if (reply !== (i % 2 === 0 ? want : 'OK')) this.errors.add(`probe ${args[0]} ${args[1]}: got ${JSON.stringify(reply)}`);
      } catch (err) {
        this.errors.add(`probe ${args[0]} ${args[1]}: ${(err as Error).message}`);
        await sleep(ERROR_PAUSE_MS);
      }
    }
  }
}

/** INCRs through every proxy, `workers` requests in flight per proxy, paced per proxy. */
export class IncrLoad {
  readonly errors = new ErrorLog();
  /** acked[n]: INCRs of counter n answered with an integer. */
  readonly acked: number[];
  private stopped = false;
  private loops: Array<Promise<void>> = [];
  private clients: RespClient[] = [];
  private next = 0;

  constructor(private readonly ports: readonly number[], private readonly counters: readonly string[], private readonly ratePerProxy: number, private readonly workers = 4) {
    this.acked = new Array<number>(counters.length).fill(0);
  }

  async start(): Promise<void> {
    this.clients = await Promise.all(this.ports.map((p) => RespClient.connect(p)));
    for (const client of this.clients) {
      const pacer = new Pacer(1000 / this.ratePerProxy);
      for (let w = 0; w < this.workers; w++) this.loops.push(this.run(client, pacer));
    }
  }

  /** Acknowledged INCRs so far. */
  total(): number {
    return this.acked.reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    for (const c of this.clients) c.close();
  }

  private async run(client: RespClient, pacer: Pacer): Promise<void> {
    while (!this.stopped && this.errors.count < STOP_AFTER_ERRORS) {
      await pacer.next();
      if (this.stopped) return;
      const n = this.next++ % this.counters.length;
      try {
        const reply = await client.send(['INCR', this.counters[n]]);
        if (typeof reply === 'number') this.acked[n]++;
        else this.errors.add(`INCR ${this.counters[n]}: ${reply instanceof ReplyError ? `-${reply.message}` : JSON.stringify(reply)}`);
      } catch (err) {
        this.errors.add(`INCR ${this.counters[n]}: ${(err as Error).message}`);
        await sleep(ERROR_PAUSE_MS);
      }
    }
  }
}
