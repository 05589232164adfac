// The primary of a multi-worker proxy (`tessera proxy --workers N`): forks N workers through
// node:cluster (they share the listen port; the primary hands out connections round-robin), replaces
// a worker that dies (with back-off), keeps the one store registration at the lowest table revision
// every live worker applied, and asks the workers for their figures. Serves no client itself.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { ProxyInfo } from '../common/model.js';
import type { CoordStore } from '../common/store/coord-store.js';
import type { ProxyConfig } from './config.js';
import { PROXY_VERSION } from './local-commands.js';
import { SHUTDOWN_GRACE_MS } from './proxy.js';
import { ProxyRegistration } from './registration.js';
import { type AskWhat, type FromWorker, type ToWorker, type WorkerAnswer, BEAT_MS, WORKER_INDEX_ENV } from './workers-ipc.js';
import { type Totals, addTotals, emptyTotals } from './workers-stats.js';

/** A replacement is forked after this, doubling for each worker that dies young, up to the max. */
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 10_000;
/** A worker that lived this long was healthy: the next restart waits the minimum again. */
const STABLE_MS = 10_000;
/** How long a worker may take to answer the admin API (a stopped or busy worker is left out). */
export const ASK_TIMEOUT_MS = 500; // under the coordinator's 1 s for a proxy's /stats
/** A worker not heard of for this long (stopped, hung) is neither asked nor sent the peers' counters (its IPC queue would only grow). */
const SILENT_MS = 3 * BEAT_MS;
/** How long the stopping primary waits for the store to drop its registration (the lease lapses anyway). */
const STORE_LEAVE_MS = 2000;
/** After the shutdown grace, how long workers get to exit before they are killed. */
const EXIT_MARGIN_MS = 3000;

export interface WorkerSlot {
  readonly index: number;
  worker: Worker | null;
  pid: number;
  /** Listening (it has applied a table). */
  ready: boolean;
  /** Last table revision it reported (null: none yet). */
  revision: string | null;
  /** Its last heartbeat's counters, and when any message of it arrived last. */
  beat: Totals | null;
  heardAt: number;
  forkedAt: number;
  /** Times this slot's worker was replaced. */
  restarts: number;
  /** Consecutive deaths within STABLE_MS (the back-off's exponent). */
  youngDeaths: number;
  restartTimer: NodeJS.Timeout | null;
}

export interface Answer {
  slot: WorkerSlot;
  /** null: no answer within ASK_TIMEOUT_MS. */
  body: WorkerAnswer | null;
}

export class ProxyWorkers {
  readonly slots: WorkerSlot[];
  /** Counters of workers that died (their last heartbeat; sessions and qps left out). */
  readonly retired = emptyTotals();
  readonly startedAt = Date.now();
  readonly registration: ProxyRegistration;
  private stopping = false;
  private beatTimer: NodeJS.Timeout | null = null;
  private nextAsk = 1;
  private readonly asks = new Map<number, (body: WorkerAnswer | null) => void>();
  /** While starting: settles start() (the first failure or every worker ready). */
  private startup: { resolve(): void; reject(err: Error): void } | null = null;

  constructor(
    readonly config: ProxyConfig,
    store: CoordStore,
    private readonly log: (msg: string) => void,
    /** Environment variables that hold secrets: removed from the workers' environment (they get the config by IPC). */
    private readonly secretEnv: readonly string[],
  ) {
    const info: ProxyInfo = {
      id: config.id, listen: config.listen, admin: config.admin, version: PROXY_VERSION,
      tableRevision: '0', pid: process.pid, startedAt: new Date().toISOString(),
    };
    this.registration = new ProxyRegistration(store, config.product, info, log);
    this.slots = Array.from({ length: config.workers }, (_, index) => ({
      index, worker: null, pid: 0, ready: false, revision: null, beat: null, heardAt: 0, forkedAt: 0, restarts: 0, youngDeaths: 0, restartTimer: null,
    }));
  }

  /** Forks every worker and waits until all serve (a worker that cannot start fails it); then registers. */
  async start(): Promise<void> {
    // args: none, so nothing of the primary's command line (secrets included) reaches a worker's.
    // Round-robin: the primary accepts and hands each connection to the next worker (NODE_CLUSTER_SCHED_POLICY must not
    // turn it into the kernel's spreading of one shared socket, which piles connections onto few workers).
    cluster.schedulingPolicy = cluster.SCHED_RR;
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)), args: [] });
    const started = new Promise<void>((resolve, reject) => (this.startup = { resolve, reject }));
    for (const slot of this.slots) this.fork(slot);
    try {
      await started;
    } catch (err) {
      await this.stop(0);
      throw err;
    } finally {
      this.startup = null;
    }
    await this.registration.start(this.tableRevision());
    this.beatTimer = setInterval(() => this.sendPeers(), BEAT_MS);
    this.beatTimer.unref();
    this.log(`${this.slots.length} workers serving ${this.config.listen} (pids ${this.slots.map((s) => s.pid).join(', ')})`);
  }

  private fork(slot: WorkerSlot): void {
    const env: Record<string, string | undefined> = { [WORKER_INDEX_ENV]: String(slot.index) };
    for (const name of this.secretEnv) env[name] = undefined; // child_process leaves out undefined values
    const w = cluster.fork(env);
    Object.assign(slot, { worker: w, pid: w.process.pid ?? 0, ready: false, revision: null, beat: null, forkedAt: Date.now() });
    w.on('message', (m: FromWorker) => this.onMessage(slot, w, m));
    w.on('error', (err) => this.log(`worker ${slot.index} (pid ${slot.pid}): ${err.message}`));
    w.on('exit', (code, signal) => this.onExit(slot, w, code, signal));
  }

  private onMessage(slot: WorkerSlot, w: Worker, m: FromWorker): void {
    if (slot.worker !== w) return;
    slot.heardAt = Date.now();
    switch (m.t) {
      case 'hello': {
        const config = { ...this.config, maxclients: Math.ceil(this.config.maxclients / this.slots.length) };
        return this.send(w, { t: 'config', config, index: slot.index, count: this.slots.length });
      }
      case 'ready':
        slot.ready = true;
        slot.revision = m.revision;
        this.revisionChanged();
        if (this.startup !== null && this.slots.every((s) => s.ready)) this.startup.resolve();
        return;
      case 'failed':
        this.log(`worker ${slot.index} (pid ${slot.pid}) could not start: ${m.error}`);
        this.startup?.reject(new Error(m.error));
        return;
      case 'revision':
        slot.revision = m.revision;
        this.revisionChanged();
        return;
      case 'beat':
        slot.beat = m.totals;
        return;
      case 'answer':
        this.asks.get(m.id)?.(m.body);
    }
  }

  private onExit(slot: WorkerSlot, w: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== w) return;
    slot.worker = null;
    slot.ready = false;
    if (slot.beat !== null) addTotals(this.retired, { ...slot.beat, sessions: 0, qps: 0 });
    slot.beat = null;
    this.revisionChanged();
    if (this.stopping) return;
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    if (this.startup !== null) return this.startup.reject(new Error(`worker ${slot.index} exited (${how}) while starting`));
    slot.youngDeaths = Date.now() - slot.forkedAt < STABLE_MS ? slot.youngDeaths + 1 : 0;
    const wait = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.max(0, slot.youngDeaths - 1));
    this.log(`worker ${slot.index} (pid ${slot.pid}) exited (${how}); replacing it in ${wait} ms`);
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (this.stopping) return;
      slot.restarts++;
      this.fork(slot);
      this.log(`worker ${slot.index} replaced (pid ${slot.pid})`);
    }, wait);
  }

  private send(w: Worker, m: ToWorker): void {
    if (!w.isConnected()) return;
    try {
      w.send(m);
    } catch { /* the worker is going; its exit is handled */ }
  }

  /**
   * The revision the whole proxy applied: the lowest of every live worker's (one that has not
   * reported yet counts as 0, so a replacement holds the ack back until it has the table). A
   * worker that is dead and not yet replaced serves no one and is left out.
   */
  tableRevision(): string {
    let min: bigint | null = null;
    for (const s of this.slots) {
      if (s.worker === null) continue;
      const r = BigInt(s.revision ?? '0');
      if (min === null || r < min) min = r;
    }
    return min === null ? this.registration.tableRevision : min.toString();
  }

  private revisionChanged(): void {
    if (this.startup === null && !this.stopping) this.registration.set(this.tableRevision());
  }

  /** Every second: each worker learns the others' counters (for INFO), dead workers' included. */
  private sendPeers(): void {
    for (const s of this.slots) {
      if (s.worker === null || !this.responsive(s)) continue;
      const totals = emptyTotals();
      addTotals(totals, this.retired);
      for (const o of this.slots) if (o !== s && o.beat !== null) addTotals(totals, o.beat);
      this.send(s.worker, { t: 'peers', totals });
    }
  }

  /** Serving and heard of lately. */
  private responsive(s: WorkerSlot): boolean {
    return s.worker !== null && s.ready && Date.now() - s.heardAt < SILENT_MS;
  }

  /** Asks every responsive worker; each answer or null after ASK_TIMEOUT_MS. */
  ask(what: AskWhat): Promise<Answer[]> {
    return Promise.all(this.slots.filter((s) => this.responsive(s)).map((slot) => this.askOne(slot, what)));
  }

  private askOne(slot: WorkerSlot, what: AskWhat): Promise<Answer> {
    const id = this.nextAsk++;
    return new Promise<Answer>((resolve) => {
      const done = (body: WorkerAnswer | null) => {
        clearTimeout(timer);
        this.asks.delete(id);
        resolve({ slot, body });
      };
      const timer = setTimeout(() => done(null), ASK_TIMEOUT_MS);
      this.asks.set(id, done);
      this.send(slot.worker!, { t: 'ask', id, what });
    });
  }

  /** The first serving worker's answer (tried in order, each bounded). */
  async askAny(what: AskWhat): Promise<WorkerAnswer | null> {
    for (const slot of this.slots) {
      if (!this.responsive(slot)) continue;
      const a = await this.askOne(slot, what);
      if (a.body !== null) return a.body;
    }
    return null;
  }

  /**
   * Graceful stop: leave the store, tell every worker to stop (each lets its clients' requests
   * finish for at most `graceMs`), kill the ones still there after the grace and a margin.
   */
  async stop(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    this.stopping = true;
    if (this.beatTimer !== null) clearInterval(this.beatTimer);
    for (const s of this.slots) if (s.restartTimer !== null) clearTimeout(s.restartTimer);
    await bounded(this.registration.stop(), STORE_LEAVE_MS);
    const live = this.slots.flatMap((s) => (s.worker !== null ? [s.worker] : []));
    const exits = live.map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
    for (const w of live) this.send(w, { t: 'stop', graceMs });
    await bounded(Promise.all(exits), graceMs + EXIT_MARGIN_MS);
    for (const w of live) if (!w.isDead()) w.process.kill('SIGKILL'); // stopped (SIGSTOP) or hung
    await bounded(Promise.all(exits), EXIT_MARGIN_MS);
    for (const done of [...this.asks.values()]) done(null);
  }
}

/** Resolves when `p` settles or after `ms`, whichever comes first (never rejects). */
function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => {}, () => {}),
    new Promise<void>((r) => (timer = setTimeout(r, ms))),
  ]).finally(() => clearTimeout(timer));
}
