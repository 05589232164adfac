// `npm run bench -- --scenario=migration`: starts the cluster (migration-cluster.ts), loads the
// data straight into the masters, runs the probe and the INCR load, migrates slots from group 1
// to group 2 through the coordinator's API, and checks that nothing was lost (migration-verify.ts).
// Measures; judges nothing but the issue's targets (migration-report.ts).
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { ApiCallError, apiMigrate, apiMigrations, type MigrationView } from '../cli/admin-api.js';
import { slotOf } from '../common/slots.js';
import { cpuSeconds } from './cpu-usage.js';
import { type Attribution, type LockCounters, SchedSampler, attribute } from './migration-attribution.js';
import { startMigrationCluster, type ClusterLayout, type MigrationCluster } from './migration-cluster.js';
import { buildDataset, keyName, loadDataset, movedVolume, type Dataset, type DatasetSpec } from './migration-data.js';
import { IncrLoad, type LatencyStats, type SlowRequest } from './migration-load.js';
import { ProbeThread } from './migration-probe.js';
import { QueryConnection } from './migration-query.js';
import { type CorrectnessCheck, verifyPlacement, waitReplicasInSync } from './migration-verify.js';
import { encodeCommand } from './net-util.js';
import { canPinTo } from './processes.js';
import { repoRoot } from './targets.js';

export interface MigrationScenarioSettings {
  /** "codis": the issue's Codis-sized case (its move time is judged against the 5 s target). */
  preset: 'default' | 'codis';
  data: DatasetSpec;
  /** Probe and load before the move: the idle baseline. */
  idleSeconds: number;
  probeRatePerSecond: number;
  incrRatePerProxy: number;
  pin: boolean;
  store: 'file' | 'etcd';
  cpuProfileDir?: string;
  /** Sample every process's scheduler stats to attribute the slow probe requests (costs the harness CPU). */
  attribute: boolean;
}

/** The issue's sizes: N keys and M elements by default; Codis: 50,000 64-byte keys in 512 slots + one 1M list. */
export const CODIS_KEYS = 50_000;
export const CODIS_ELEMENTS = 1_000_000;

export function migrationSettings(opts: { keys?: number; elements?: number; codis: boolean; pin: boolean; store?: 'file' | 'etcd'; cpuProfileDir?: string; attribute?: boolean }): MigrationScenarioSettings {
  const data: DatasetSpec = opts.codis
    ? { keys: opts.keys ?? CODIS_KEYS, valueBytes: 64, elements: opts.elements ?? CODIS_ELEMENTS, bigTypes: ['list'], moved: { from: 0, to: 511 }, keysInMovedSlots: true, counters: 100 }
    : { keys: opts.keys ?? 1_000_000, valueBytes: 64, elements: opts.elements ?? 1_000_000, bigTypes: ['list', 'hash', 'zset'], moved: { from: 0, to: 255 }, keysInMovedSlots: false, counters: 100 };
  return { preset: opts.codis ? 'codis' : 'default', data, idleSeconds: 3, probeRatePerSecond: 1000, incrRatePerProxy: 1000, pin: opts.pin, store: opts.store ?? 'file', cpuProfileDir: opts.cpuProfileDir, attribute: opts.attribute === true };
}

export interface ProcessCpu {
  name: string;
  /** CPU seconds used during the move, and that over the move's wall time. */
  seconds: number;
  percent: number;
}

export interface MigrationResult {
  settings: MigrationScenarioSettings;
  environment: { cpus: number; cpuModel: string; node: string; pinning: string; loadAverageBefore: number; loadAverageAfter: number; commit: string };
  load: { seconds: number; stringKeys: number; bigKeys: number; elements: number; keysInMovedSlots: number };
  move: {
    id: string;
    seconds: number;
    slots: number;
    /** Keys and logical bytes in the moved slots (from the data: movedVolume). */
    keysMoved: number;
    bytesMoved: number;
    /** What the coordinator's migration view counted. */
    coordinator: { keysMoved: number; bytesMoved: number };
    keysPerSecond: number;
    megabytesPerSecond: number;
    /** Configuration epochs raised on the source during the move (each one a batched slot-state step). */
    epochs: number;
    /** Seconds from the request until no slot was pending or preparing any more (the first step). */
    preparedAfterSeconds: number | null;
    /** Seconds from the request until no slot was left moving (then only finishing steps remain). */
    emptiedAfterSeconds: number | null;
    /** Seconds during which the source was moving a big key, as its STATUS showed (polled). */
    bigKeySeconds: number;
    errors: string[];
  };
  probe: { idle: LatencyStats; during: LatencyStats; slow: SlowRequest[] };
  /** The migration's slots by phase whenever they changed (ms since the request), for the JSON report. */
  timeline: Array<{ atMs: number; pending: number; preparing: number; migrating: number; finished: number; done: number }>;
  incr: { acked: number; perSecond: number };
  clientErrors: { count: number; first: string[] };
  cpu: ProcessCpu[];
  /** What the probe's requests over 3 × idle p99 overlapped with (migration-attribution.ts). */
  attribution: Attribution;
  check: CorrectnessCheck;
}

const MOVE_DEADLINE_MS = 30 * 60_000;
/** A migration whose moved-key count stays the same this long while it reports errors has failed. */
const STALL_MS = 60_000;
const POLL_MS = 50;
const NOT_LEADER_RETRY_MS = 30_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The commit measured; "-dirty" when node/, proxy/, dashboard/ or common/ had uncommitted changes (dist/ is built from the work tree). */
function commitOf(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot(), encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'node', 'proxy', 'dashboard', 'common'], { cwd: repoRoot(), encoding: 'utf8' }).trim();
    return dirty === '' ? head : `${head}-dirty`;
  } catch {
    return process.env.BENCH_COMMIT ?? 'unknown'; // not a git work tree (a `git archive` snapshot)
  }
}

async function configEpoch(port: number): Promise<number> {
  const c = await QueryConnection.connect(port);
  try {
    const [info] = await c.send(encodeCommand(['INFO', 'slots']), 1);
    return Number(/config_epoch:(\d+)/.exec(String(info))?.[1] ?? NaN);
  } finally {
    c.close();
  }
}

/** The source mover's batch-lock counters (TESSERA.MIGRATE STATUS); null if the node has none. */
async function lockCounters(port: number): Promise<LockCounters | null> {
  const c = await QueryConnection.connect(port);
  try {
    const [reply] = await c.send(encodeCommand(['TESSERA.MIGRATE', 'STATUS']), 1);
    const flat = Array.isArray(reply) ? reply.map(String) : [];
    const field = (name: string): number => Number(flat[flat.indexOf(name) + 1]);
    if (!flat.includes('batch_locks')) return null;
    return { batches: field('batch_locks'), keyMs: field('batch_lock_key_ms'), p50Ms: field('batch_lock_p50_ms'), p99Ms: field('batch_lock_p99_ms'), maxMs: field('batch_lock_max_ms') };
  } finally {
    c.close();
  }
}

/**
 * Polls the source's TESSERA.MIGRATE STATUS: how long a big key was being moved. Judged by
 * big_key_done advancing, not by big_key: another slot's call ending clears big_key while the
 * big key is still moving (several slots move at once).
 */
function watchBigKeys(port: number): { stop(): Promise<number> } {
  let stopped = false;
  let busyMs = 0;
  const loop = (async () => {
    const c = await QueryConnection.connect(port);
    try {
      let last = performance.now();
      let lastDone = 0;
      while (!stopped) {
        const [reply] = await c.send(encodeCommand(['TESSERA.MIGRATE', 'STATUS']), 1);
        const now = performance.now();
        const flat = Array.isArray(reply) ? reply : [];
        const done = Number(flat[flat.indexOf('big_key_done') + 1] ?? 0);
        const total = Number(flat[flat.indexOf('big_key_total') + 1] ?? 0);
        if (done !== lastDone || (done > 0 && done < total)) busyMs += now - last;
        lastDone = done;
        last = now;
        await sleep(POLL_MS);
      }
    } finally {
      c.close();
    }
  })().catch(() => {}); // a measurement aid: a source that went away ends the polling, not the run
  return { stop: async () => { stopped = true; await loop; return busyMs / 1000; } };
}

interface MoveOutcome {
  view: MigrationView;
  timeline: MigrationResult['timeline'];
  seconds: number;
  preparedAfterSeconds: number | null;
  emptiedAfterSeconds: number | null;
}

/**
 * POST /migrations, retried while the coordinator answers NOT_LEADER: on a loaded machine its
 * leader lease can lapse (it then campaigns again and leads within a few seconds).
 */
async function createMigration(cluster: MigrationCluster, slots: string): Promise<MigrationView> {
  const deadline = Date.now() + NOT_LEADER_RETRY_MS;
  for (;;) {
    try {
      return await apiMigrate(cluster.dashboard.client, slots, 2);
    } catch (err) {
      if (!(err instanceof ApiCallError && err.code === 'NOT_LEADER') || Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

/** Asks the coordinator to move the slots and polls the migration until it is done. */
async function migrate(cluster: MigrationCluster, data: Dataset): Promise<MoveOutcome> {
  const { from, to } = data.spec.moved;
  const started = performance.now();
  const created = await createMigration(cluster, `${from}-${to}`);
  let preparedAfterSeconds: number | null = null;
  let emptiedAfterSeconds: number | null = null;
  let progress = { moved: -1, at: performance.now() };
  const timeline: MigrationResult['timeline'] = [];
  let lastPhases = '';
  for (;;) {
    // The list, not GET /migrations/:id: that one adds every slot's record (the harness's polling
    // would cost the coordinator more CPU than it needs).
    const view = (await apiMigrations(cluster.dashboard.client)).migrations.find((m) => m.id === created.id);
    if (view === undefined) throw new Error(`migration ${created.id} is not listed`);
    const elapsed = (performance.now() - started) / 1000;
    const { pending, preparing, migrating, finished, done } = view.slots;
    const phases = `${pending} ${preparing} ${migrating} ${finished} ${done}`;
    if (phases !== lastPhases && timeline.length < 1000) timeline.push({ atMs: Math.round(elapsed * 1000), pending, preparing, migrating, finished, done });
    lastPhases = phases;
    if (view.keys.moved !== progress.moved) progress = { moved: view.keys.moved, at: performance.now() };
    else if (view.errors.length > 0 && performance.now() - progress.at > STALL_MS) {
      throw new Error(`migration ${created.id} stalled for ${STALL_MS / 1000} s: ${view.errors.map((e) => `slot ${e.slot}: ${e.error}`).join('; ')}`);
    }
    if (preparedAfterSeconds === null && view.slots.pending + view.slots.preparing === 0) preparedAfterSeconds = elapsed;
    if (emptiedAfterSeconds === null && view.slots.pending + view.slots.preparing + view.slots.migrating === 0) emptiedAfterSeconds = elapsed;
    if (view.state === 'done') return { view, timeline, seconds: elapsed, preparedAfterSeconds, emptiedAfterSeconds };
    if (view.state === 'cancelled' || view.state === 'cancelling') throw new Error(`migration ${created.id} was ${view.state}`);
    if (elapsed * 1000 > MOVE_DEADLINE_MS) throw new Error(`migration ${created.id} not done after ${MOVE_DEADLINE_MS / 1000} s: ${JSON.stringify(view)}`);
    await sleep(POLL_MS);
  }
}

function cpuTargets(cluster: MigrationCluster, probeThread: number | null): Array<{ name: string; pid: number }> {
  return [
    { name: 'group 1 master (source)', pid: cluster.masters[0].pid },
    { name: 'group 1 replica', pid: cluster.replicas[0].pid },
    { name: 'group 2 master (target)', pid: cluster.masters[1].pid },
    { name: 'group 2 replica', pid: cluster.replicas[1].pid },
    ...cluster.proxies.map((p, i) => ({ name: `proxy ${i + 1}`, pid: p.pids[0] })),
    { name: 'coordinator', pid: cluster.dashboard.pid },
    { name: 'harness (this process)', pid: process.pid },
    // The probe's own thread (its schedstat and stat files are per thread under /proc/<tid>).
    ...(probeThread === null ? [] : [{ name: 'probe thread (harness)', pid: probeThread }]),
  ];
}

export async function runMigrationScenario(settings: MigrationScenarioSettings, log: (line: string) => void): Promise<MigrationResult> {
  const cpus = os.availableParallelism();
  const pinned = settings.pin && canPinTo(0, cpus) && canPinTo(1, cpus);
  const layout: ClusterLayout = { sourceCpu: pinned ? 1 : undefined, targetCpu: pinned ? 0 : undefined, store: settings.store, cpuProfileDir: settings.cpuProfileDir };
  const loadAverageBefore = os.loadavg()[0];
  const data = buildDataset(settings.data);
  const cluster = await startMigrationCluster(layout, log);
  try {
    const masterPorts = cluster.masters.map((m) => m.port);
    const replicaPorts = cluster.replicas.map((r) => r.port);
    log(`loading ${data.ids.length} keys and ${data.bigKeys.length} big key(s) of ${settings.data.elements} elements into the masters`);
    const loadStarted = performance.now();
    await loadDataset(data, masterPorts);
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    if (!(await waitReplicasInSync(masterPorts, replicaPorts))) throw new Error('the replicas did not catch up with the loaded masters');
    log(`loaded in ${loadSeconds.toFixed(1)} s; replicas in sync`);

    const probe = new ProbeThread(cluster.proxies[0].port, settings.data, settings.probeRatePerSecond);
    const incr = new IncrLoad(cluster.proxies.map((p) => p.port), data.counters, settings.incrRatePerProxy);
    await Promise.all([probe.start(), incr.start()]);
    let outcome: MoveOutcome;
    let epochs: number;
    let bigKeySeconds: number;
    let cpu: ProcessCpu[];
    let incrDuring: number;
    let moveStartedAt = 0;
    let locksBefore: LockCounters | null = null;
    let locksAfter: LockCounters | null = null;
    const procs = cpuTargets(cluster, probe.tid);
    // CPU seconds per process from /proc/<pid>/stat (the probe thread's is the whole harness's there: left out).
    const cpuProcs = procs.filter((p) => p.pid !== probe.tid);
    const sampler = settings.attribute ? new SchedSampler(procs) : null;
    sampler?.start();
    try {
      await sleep(500); // connections warm, JIT settled
      probe.setPhase('idle');
      await sleep(settings.idleSeconds * 1000);
      const cpuBefore = await Promise.all(cpuProcs.map((p) => cpuSeconds([p.pid])));
      const epochBefore = await configEpoch(masterPorts[0]);
      const ackedBefore = incr.total();
      const bigKeys = watchBigKeys(masterPorts[0]);
      locksBefore = await lockCounters(masterPorts[0]);
      moveStartedAt = performance.now();
      probe.setPhase('during');
      log(`migrating slots ${settings.data.moved.from}-${settings.data.moved.to} to group 2`);
      try {
        outcome = await migrate(cluster, data);
      } finally {
        probe.setPhase(null);
        bigKeySeconds = await bigKeys.stop();
      }
      incrDuring = incr.total() - ackedBefore;
      const cpuAfter = await Promise.all(cpuProcs.map((p) => cpuSeconds([p.pid])));
      cpu = cpuProcs.map((p, i) => ({ name: p.name, seconds: cpuAfter[i] - cpuBefore[i], percent: (100 * (cpuAfter[i] - cpuBefore[i])) / outcome.seconds }));
      epochs = (await configEpoch(masterPorts[0])) - epochBefore;
      locksAfter = await lockCounters(masterPorts[0]);
      await sleep(200); // a little load after the switch: requests still on their way see the new owner
    } finally {
      sampler?.stop();
      await Promise.all([probe.stop(), incr.stop()]);
    }
    log(`moved in ${outcome.seconds.toFixed(2)} s; checking every key`);
    const check = await verifyPlacement(data, incr.acked, masterPorts, replicaPorts);
    const view = outcome.view;
    const volume = movedVolume(data);
    const idleStats = probe.stats('idle');
    const locks = locksBefore === null || locksAfter === null ? null : {
      ...locksAfter, batches: locksAfter.batches - locksBefore.batches, keyMs: locksAfter.keyMs - locksBefore.keyMs,
    };
    // A probe request may pass proxy 1, the source and the target (an ASK hop), and the harness itself.
    const path = ['group 1 master (source)', 'group 2 master (target)', 'proxy 1', 'probe thread (harness)'].map((n) => procs.findIndex((p) => p.name === n)).filter((i) => i >= 0);
    const keysInMoved = data.ids.filter((id) => data.isMoved(slotOf(keyName(id)))).length;
    const attribution = attribute(sampler, probe.during, 3 * idleStats.p99Ms, () => path, moveStartedAt, locks, keysInMoved, outcome.seconds * 1000);
    const clientErrors = { count: probe.errors.count + incr.errors.count, first: [...probe.errors.first, ...incr.errors.first].slice(0, 10) };
    return {
      settings,
      environment: {
        cpus, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAverageBefore, loadAverageAfter: os.loadavg()[0], commit: commitOf(),
        pinning: pinned ? 'source master and target replica on CPU 1, target master and source replica on CPU 0; proxies, coordinator and harness unpinned' : 'unpinned',
      },
      load: {
        seconds: loadSeconds, stringKeys: data.ids.length, bigKeys: data.bigKeys.length, elements: settings.data.elements,
        keysInMovedSlots: data.ids.filter((id) => data.isMoved(slotOf(keyName(id)))).length,
      },
      move: {
        id: view.id, seconds: outcome.seconds, slots: view.slots.total, keysMoved: volume.keys, bytesMoved: volume.bytes,
        coordinator: { keysMoved: view.keys.moved, bytesMoved: view.bytes.moved },
        keysPerSecond: volume.keys / outcome.seconds, megabytesPerSecond: volume.bytes / 1e6 / outcome.seconds,
        epochs, preparedAfterSeconds: outcome.preparedAfterSeconds, emptiedAfterSeconds: outcome.emptiedAfterSeconds, bigKeySeconds,
        errors: view.errors.map((e) => `slot ${e.slot}: ${e.error}`),
      },
      probe: { idle: idleStats, during: probe.stats('during'), slow: probe.slow },
      timeline: outcome.timeline,
      incr: { acked: incr.total(), perSecond: incrDuring / outcome.seconds },
      clientErrors,
      cpu,
      attribution,
      check,
    };
  } catch (err) {
    throw new Error(`${(err as Error).message}\ncoordinator output: ${cluster.dashboard.outputTail()}`);
  } finally {
    await cluster.stop();
  }
}
