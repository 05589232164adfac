// The migration scenario's probe in a worker thread of its own. In the harness's event loop, the
// probe's replies waited behind everything else the harness does — the INCR load's replies, the
// scheduler sampler's /proc reads every 5 ms, polling the coordinator's migration list and parsing
// it (only during the move) — so its latencies measured the harness as well as the cluster, and
// more so during the move. Here it is a client with its own thread and event loop, like a separate
// client process; the harness tells it the phase and collects what it measured once stopped.
import { readlinkSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { buildDataset, type DatasetSpec } from './migration-data.js';
import { ErrorLog, Probe, latencyStats, type LatencyStats, type Phase, type SlowRequest } from './migration-load.js';
import type { ProbeRequest } from './migration-attribution.js';

interface Init {
  port: number;
  spec: DatasetSpec;
  ratePerSecond: number;
  /** The harness's performance.timeOrigin: request times are sent back on its clock. */
  timeOrigin: number;
}

type ToWorker = { type: 'phase'; phase: Phase | null } | { type: 'stop' };
type FromWorker =
  | { type: 'ready'; tid: number | null }
  | { type: 'failed'; message: string }
  | { type: 'result'; latencies: Record<Phase, number[]>; during: ProbeRequest[]; slow: SlowRequest[]; errors: { count: number; first: string[] } };

/** Same interface as Probe (migration-load.ts); results are complete once stop() resolved. */
export class ProbeThread {
  readonly errors = new ErrorLog();
  readonly slow: SlowRequest[] = [];
  readonly during: ProbeRequest[] = [];
  private latencies: Record<Phase, number[]> = { idle: [], during: [] };
  /** The probe thread's kernel thread id (its /proc/<tid>/schedstat is sampled like a process), if known. */
  tid: number | null = null;
  private worker: Worker | null = null;
  private result: Promise<void> | null = null;

  constructor(private readonly port: number, private readonly spec: DatasetSpec, private readonly ratePerSecond: number) {}

  async start(): Promise<void> {
    const init: Init = { port: this.port, spec: this.spec, ratePerSecond: this.ratePerSecond, timeOrigin: performance.timeOrigin };
    const worker = new Worker(workerScript(), { workerData: init });
    this.worker = worker;
    let ready!: () => void;
    let fail!: (err: Error) => void;
    const started = new Promise<void>((resolve, reject) => { ready = resolve; fail = reject; });
    this.result = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          this.tid = m.tid;
          ready();
        }
        else if (m.type === 'failed') fail(new Error(`probe thread: ${m.message}`));
        else {
          this.latencies = m.latencies;
          this.during.push(...m.during);
          this.slow.push(...m.slow);
          this.errors.count += m.errors.count;
          this.errors.first.push(...m.errors.first);
          resolve();
        }
      });
      worker.on('error', (err) => { fail(err); reject(err); });
      worker.on('exit', (code) => {
        const err = new Error(`probe thread exited (${code}) before its results`);
        fail(err);
        reject(err);
      });
    });
    this.result.catch(() => {});
    await started;
  }

  setPhase(phase: Phase | null): void {
    this.worker?.postMessage({ type: 'phase', phase } satisfies ToWorker);
  }

  async stop(): Promise<void> {
    if (this.worker === null) return;
    this.worker.postMessage({ type: 'stop' } satisfies ToWorker);
    try {
      await this.result;
    } finally {
      await this.worker.terminate();
      this.worker = null;
    }
  }

  stats(phase: Phase): LatencyStats {
    return latencyStats(this.latencies[phase]);
  }
}

/** This thread's kernel id, from /proc/thread-self (→ "<pid>/task/<tid>"); null where there is none. */
function ownThreadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isSafeInteger(tid) ? tid : null;
  } catch {
    return null;
  }
}

/** This module compiled: itself, or dist/'s copy when run from source (vitest), since a worker cannot load .ts. */
function workerScript(): URL {
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts') ? new URL('../dist/bench/migration-probe.js', here) : here;
}

async function runInWorker(init: Init): Promise<void> {
  const port = parentPort!;
  const probe = new Probe(init.port, buildDataset(init.spec), init.ratePerSecond);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'phase') probe.setPhase(m.phase);
    else {
      void probe.stop().then(() => {
        const shift = performance.timeOrigin - init.timeOrigin;
        const during = probe.during.map((r) => ({ ...r, startedAt: r.startedAt + shift }));
        port.postMessage({ type: 'result', latencies: probe.recorded(), during, slow: probe.slow, errors: { count: probe.errors.count, first: probe.errors.first } } satisfies FromWorker);
      });
    }
  });
  try {
    await probe.start();
    port.postMessage({ type: 'ready', tid: ownThreadId() } satisfies FromWorker);
  } catch (err) {
    port.postMessage({ type: 'failed', message: (err as Error).message } satisfies FromWorker);
  }
}

if (!isMainThread && (workerData as Init | null)?.spec !== undefined) void runInWorker(workerData as Init);
