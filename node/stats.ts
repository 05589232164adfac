// Counters behind INFO stats/commandstats/errorstats, the slow log and the latency monitor.
// Only counts; rendering lives in info.ts and the handlers.
import type { Session } from './session.js';
import type { NodeConfig } from './config.js';
import { KeyspaceClock } from './keyspace/db.js';
import { LatencyWindow, LogHistogram } from '../common/latency-histogram.js';

// INFO latencystats: Redis's per-command hdr histograms of nanoseconds in [1, 1 s] with 2
// significant digits (256 exact values, then 128 buckets per power of two), as a preallocated
// bucket array (24 KB a command, created on its first call).
const LATENCY_SUB_BITS = 8;
const LATENCY_MAX_NS = 1_000_000_000;
/** Tessera's recent window over all commands (INFO tessera): RECENT_SLOTS seconds. */
export const RECENT_SLOTS = 10;
/**
 * Left out of the recent window: what the dashboard and operators poll to watch the node, so an
 * idle node's recent p99 is not that of the INFO asking for it (latencystats keeps them, as Redis).
 */
const MONITORING = new Set(['info', 'tessera.slots|stats', 'tessera.slots|get', 'tessera.migrate|status', 'slowlog|get', 'latency|latest', 'latency|histogram', 'client|list', 'config|get', 'config|resetstat']);

// Like Redis's STATS_METRIC_SAMPLES: instantaneous rates average the last 16 samples taken
// every 100 ms (so they cover the last 1.6 s).
const RATE_SAMPLES = 16;
const RATE_PERIOD_MS = 100;

/** A per-second rate of a growing counter, sampled on a timer. */
class RateMeter {
  private readonly samples: number[] = new Array<number>(RATE_SAMPLES).fill(0);
  private index = 0;
  private lastTime = Date.now();
  private lastValue = 0;

  sample(value: number, now: number): void {
    const dt = now - this.lastTime;
    if (dt <= 0) return;
    this.samples[this.index] = ((value - this.lastValue) * 1000) / dt;
    this.index = (this.index + 1) % RATE_SAMPLES;
    this.lastTime = now;
    this.lastValue = value;
  }

  reset(value: number): void {
    this.samples.fill(0);
    this.lastValue = value;
    this.lastTime = Date.now();
  }

  perSecond(): number {
    let sum = 0;
    for (const v of this.samples) sum += v;
    return sum / RATE_SAMPLES;
  }
}

export interface CommandStat {
  calls: number;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
  /** Latency since start / CONFIG RESETSTAT (null until a call is timed with latency-tracking yes). */
  latency: LogHistogram | null;
  /** Counted in the recent window (not a MONITORING command). */
  windowed: boolean;
}

export class Stats {

  get keyspaceHits(): number {
    return this.clock.keyspaceHits;
  }
  set keyspaceHits(n: number) {
    this.clock.keyspaceHits = n;
  }
  get keyspaceMisses(): number {
    return this.clock.keyspaceMisses;
  }
  set keyspaceMisses(n: number) {
    this.clock.keyspaceMisses = n;
  }

  readonly startedAt = Date.now();
  totalConnections = 0;
  rejectedConnections = 0;
  totalCommands = 0;
  expiredKeys = 0;
  evictedKeys = 0;
  errorReplies = 0;
  netInputBytes = 0;
  netOutputBytes = 0;
  pubsubMessages = 0;
  readonly commands = new Map<string, CommandStat>();
  readonly errors = new Map<string, number>();
  private readonly opsRate = new RateMeter();
  private readonly inputRate = new RateMeter();
  private readonly outputRate = new RateMeter();
  /** latency-tracking (kept in a field: the config's lookup is too slow per command). */
  latencyTracking = true;
  /** latency-tracking-info-percentiles. */
  latencyPercentiles: number[] = [50, 99, 99.9];
  /** Every command's latency over the last RECENT_SLOTS s (rotated by the rate timer). */
  readonly recent = new LatencyWindow(RECENT_SLOTS, 1000, LATENCY_SUB_BITS, LATENCY_MAX_NS);
  private ticks = 0;

  /** Hits and misses are counted by the keyspace itself, in the shared clock (hot path). */
  constructor(private readonly clock: KeyspaceClock = new KeyspaceClock()) {
    const timer = setInterval(() => this.sampleRates(), RATE_PERIOD_MS);
    timer.unref();
  }

  /** Keeps latencyTracking / latencyPercentiles equal to the config's directives. */
  followConfig(config: NodeConfig): void {
    const sync = () => {
      this.latencyTracking = config.getBool('latency-tracking');
      const list = config.get('latency-tracking-info-percentiles').trim();
      this.latencyPercentiles = list === '' ? [] : list.split(/\s+/).map(Number);
    };
    sync();
    config.onChange((name) => {
      if (name.startsWith('latency-tracking')) sync();
    });
  }

  private sampleRates(): void {
    const now = Date.now();
    this.opsRate.sample(this.totalCommands, now);
    this.inputRate.sample(this.netInputBytes, now);
    this.outputRate.sample(this.netOutputBytes, now);
    if (++this.ticks % (1000 / RATE_PERIOD_MS) === 0) this.recent.rotate(now);
  }

  /** INFO instantaneous_ops_per_sec. */
  get instantaneousOps(): number {
    return Math.round(this.opsRate.perSecond());
  }

  /** INFO instantaneous_input_kbps / output_kbps. */
  get instantaneousInputKbps(): number {
    return this.inputRate.perSecond() / 1024;
  }

  get instantaneousOutputKbps(): number {
    return this.outputRate.perSecond() / 1024;
  }

  /** Bytes read from a client socket (the session calls this per 'data' chunk). */
  addNetInput(bytes: number): void {
    this.netInputBytes += bytes;
  }

  /** Bytes written to a client socket (the session calls this per flush). */
  addNetOutput(bytes: number): void {
    this.netOutputBytes += bytes;
  }

  /**
   * Bumped by reset(), which drops every CommandStat: a caller that keeps one (the dispatcher,
   * per command) fetches it again when this changed.
   */
  generation = 0;

  /** The counters of a command (created on first use); see `generation`. */
  stat(name: string): CommandStat {
    let st = this.commands.get(name);
    if (st === undefined) {
      st = { calls: 0, usec: 0, rejectedCalls: 0, failedCalls: 0, latency: null, windowed: !MONITORING.has(name) };
      this.commands.set(name, st);
    }
    return st;
  }

  recordCall(name: string, micros: number, failed: boolean): void {
    this.recordCallNs(this.stat(name), Math.floor(micros * 1000), failed);
  }

  /**
   * recordCall for a command whose CommandStat the caller holds (of the current generation),
   * timed in whole nanoseconds: a small integer crosses the call unboxed, a fractional double
   * would be allocated as a heap number per command.
   */
  recordCallNs(st: CommandStat, ns: number, failed: boolean): void {
    st.calls++;
    st.usec += ns / 1000;
    this.totalCommands++;
    if (failed) st.failedCalls++;
    if (this.latencyTracking) this.recordLatency(st, ns);
  }

  /** Like Redis's updateCommandLatencyHistogram: nanoseconds clamped to [1, 1 s]; one bucket index for both histograms. */
  private recordLatency(st: CommandStat, elapsedNs: number): void {
    const h = (st.latency ??= new LogHistogram(LATENCY_SUB_BITS, LATENCY_MAX_NS));
    const ns = elapsedNs >= LATENCY_MAX_NS ? LATENCY_MAX_NS : elapsedNs < 1 ? 1 : elapsedNs;
    const i = h.indexOf(ns);
    h.recordAt(i, ns);
    if (!st.windowed) return;
    this.recent.current.recordAt(i, ns);
    this.recent.count(false);
  }

  /** A command refused before running (arity, OOM, NOAUTH …); `name` when the command is known. */
  recordRejected(message: string, name?: string): void {
    if (name !== undefined) this.stat(name).rejectedCalls++;
    this.countError(message);
  }

  countError(message: string): void {
    this.errorReplies++;
    const code = message.split(' ', 1)[0]!;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  reset(): void {
    this.generation++;
    this.commands.clear();
    this.errors.clear();
    this.totalConnections = 0;
    this.rejectedConnections = 0;
    this.totalCommands = 0;
    this.expiredKeys = 0;
    this.evictedKeys = 0;
    this.keyspaceHits = 0;
    this.keyspaceMisses = 0;
    this.errorReplies = 0;
    this.netInputBytes = 0;
    this.netOutputBytes = 0;
    this.pubsubMessages = 0;
    this.opsRate.reset(0);
    this.inputRate.reset(0);
    this.outputRate.reset(0);
    this.recent.reset();
  }
}

export interface SlowLogEntry {
  id: number;
  time: number; // unix seconds
  micros: number;
  args: string[];
  addr: string;
  name: string;
}

const SLOWLOG_MAX_ARGS = 32;
const SLOWLOG_MAX_ARG_LEN = 128;

export class SlowLog {
  entries: SlowLogEntry[] = []; // newest first
  private nextId = 0;

  constructor(
    private thresholdMicros: () => number,
    private maxLen: () => number,
  ) {}

  consider(s: Session, args: string[], micros: number): void {
    const threshold = this.thresholdMicros();
    if (threshold < 0 || micros < threshold) return;
    // Redis trims long argument lists and long arguments so the log stays small.
    const kept = args.slice(0, args.length > SLOWLOG_MAX_ARGS ? SLOWLOG_MAX_ARGS - 1 : SLOWLOG_MAX_ARGS).map((a) =>
      a.length > SLOWLOG_MAX_ARG_LEN ? `${a.slice(0, SLOWLOG_MAX_ARG_LEN)}... (${a.length - SLOWLOG_MAX_ARG_LEN} more bytes)` : a,
    );
    if (args.length > SLOWLOG_MAX_ARGS) kept.push(`... (${args.length - SLOWLOG_MAX_ARGS + 1} more arguments)`);
    this.entries.unshift({ id: this.nextId++, time: Math.floor(Date.now() / 1000), micros: Math.round(micros), args: kept, addr: s.addr, name: s.name });
    const max = this.maxLen();
    if (this.entries.length > max) this.entries.length = max;
  }

  reset(): void {
    this.entries = [];
  }
}

export interface LatencySample {
  time: number; // unix seconds
  ms: number;
}

const LATENCY_HISTORY = 160;

/** LATENCY LATEST/HISTORY: events slower than latency-monitor-threshold, per event name. */
export class LatencyMonitor {
  readonly events = new Map<string, { samples: LatencySample[]; max: number }>();

  constructor(private thresholdMs: () => number) {}

  add(event: string, ms: number): void {
    const threshold = this.thresholdMs();
    if (threshold === 0 || ms < threshold) return;
    let ev = this.events.get(event);
    if (!ev) {
      ev = { samples: [], max: 0 };
      this.events.set(event, ev);
    }
    const time = Math.floor(Date.now() / 1000);
    const last = ev.samples[ev.samples.length - 1];
    if (last && last.time === time) last.ms = Math.max(last.ms, ms);
    else ev.samples.push({ time, ms });
    if (ev.samples.length > LATENCY_HISTORY) ev.samples.shift();
    ev.max = Math.max(ev.max, ms);
  }

  reset(names: string[]): number {
    if (names.length === 0) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    let n = 0;
    for (const name of names) if (this.events.delete(name)) n++;
    return n;
  }
}
