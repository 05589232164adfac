// Replication scenario: for our node and redis-server alike, full-resync time of a loaded master,
// replication lag under a pipelined SET load, and the longest PING stall during BGSAVE. Repeats
// alternate kind by kind; every server it starts is stopped, also on failure.
import { infoInt, infoString, parseInfo } from './info-fields.js';
import { loadStringKeys } from './memory.js';
import { spawnManaged } from './processes.js';
import { RespClient } from './resp-client.js';
import { lagSamples, percentile, type OffsetSample } from './replication-stats.js';
import { startServer, type RunningServer, type ServerKind } from './replication-servers.js';
import { median } from './stats.js';

export interface ReplicationSettings {
  /** Keys loaded into each master before the full-sync and BGSAVE measurements. */
  keys: number;
  repeats: number;
  /** How long redis-benchmark writes during one lag run. */
  loadSeconds: number;
  serverCpu?: number;
  clientCpu?: number;
}

export interface FullSyncRun {
  seconds: number;
  dbsize: number;
}

export interface LagRun {
  polls: number;
  maxBytes: number;
  medianBytes: number;
  /** Time lag (see lagSamples); null when no poll could be placed in time. */
  maxMs: number | null;
  medianMs: number | null;
  /** Growth of master_repl_offset per second during the load: the replication stream's rate. */
  streamBytesPerSecond: number;
  /** From stopping the load until the replica's offset reached the master's. */
  catchUpMs: number;
}

export interface BgsaveRun {
  /** From sending BGSAVE until INFO showed it finished (polled every 10 ms). */
  saveMs: number;
  /** Round trip of the BGSAVE command itself (redis-server forks before answering). */
  bgsaveReplyMs: number;
  pings: number;
  pingMaxMs: number;
  pingP99Ms: number;
  pingMedianMs: number;
}

export interface KindResult {
  name: string;
  description: string;
  loadSeconds: number;
  fullSync: FullSyncRun[];
  lag: LagRun[];
  bgsave: BgsaveRun[];
}

type Log = (line: string) => void;

const SYNC_DEADLINE_MS = 600_000;
const SYNC_POLL_MS = 20;
const LAG_POLL_MS = 50;
const BGSAVE_POLL_MS = 10;
const BGSAVE_DEADLINE_MS = 300_000;
const CATCH_UP_DEADLINE_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

async function info(client: RespClient, section: string): Promise<Map<string, string>> {
  return parseInfo(await client.sendForString(['INFO', section]));
}

/** Runs `fn` with a connection to `port`, closing it afterwards. */
async function withClient<T>(port: number, fn: (client: RespClient) => Promise<T>): Promise<T> {
  const client = await RespClient.connect(port);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/**
 * REPLICAOF the master, then polls until the replica reports the link up, no sync in progress and
 * the master's DBSIZE. Returns the time from sending REPLICAOF to that poll.
 */
async function syncReplica(replica: RunningServer, masterPort: number, masterDbsize: number): Promise<FullSyncRun> {
  return withClient(replica.port, async (client) => {
    const started = nowMs();
    await client.sendForString(['REPLICAOF', '127.0.0.1', String(masterPort)]);
    const deadline = started + SYNC_DEADLINE_MS;
    while (nowMs() < deadline) {
      const repl = await info(client, 'replication');
      if (infoString(repl, 'master_link_status') === 'up' && infoInt(repl, 'master_sync_in_progress') === 0) {
        const dbsize = await client.sendForInteger(['DBSIZE']);
        if (dbsize === masterDbsize) return { seconds: (nowMs() - started) / 1000, dbsize };
      }
      await sleep(SYNC_POLL_MS);
    }
    throw new Error(`replica on port ${replica.port} not in sync after ${SYNC_DEADLINE_MS} ms`);
  });
}

/** Starts a fresh replica, times its full sync from `master`, and stops it. */
async function measureFullSync(kind: ServerKind, master: RunningServer, settings: ReplicationSettings): Promise<FullSyncRun> {
  const masterDbsize = await withClient(master.port, (c) => c.sendForInteger(['DBSIZE']));
  const replica = await startServer(kind, settings.serverCpu);
  try {
    return await syncReplica(replica, master.port, masterDbsize);
  } finally {
    await replica.stop();
  }
}

/** Both offsets, read concurrently on the two connections. */
async function readOffsets(master: RespClient, replica: RespClient, started: number): Promise<OffsetSample> {
  const [m, r] = await Promise.all([info(master, 'replication'), info(replica, 'replication')]);
  return { atMs: nowMs() - started, masterOffset: infoInt(m, 'master_repl_offset'), replicaOffset: infoInt(r, 'slave_repl_offset') };
}

/** redis-benchmark -t set -P 16 against the master for `loadSeconds`, polling both offsets every 50 ms. */
async function measureLag(master: RunningServer, replica: RunningServer, settings: ReplicationSettings): Promise<LagRun> {
  const masterClient = await RespClient.connect(master.port);
  const replicaClient = await RespClient.connect(replica.port);
  const load = spawnManaged('redis-benchmark', [
    '-h', '127.0.0.1', '-p', String(master.port), '-t', 'set', '-P', '16', '-c', '50', '-r', '100000', '-n', '2000000000', '-q',
  ], { cpu: settings.clientCpu });
  try {
    const started = nowMs();
    const samples: OffsetSample[] = [];
    while (nowMs() - started < settings.loadSeconds * 1000) {
      if (load.hasExited()) throw new Error(`redis-benchmark exited during the load: ${load.outputTail()}`);
      const tickStart = nowMs();
      samples.push(await readOffsets(masterClient, replicaClient, started));
      await sleep(Math.max(0, LAG_POLL_MS - (nowMs() - tickStart)));
    }
    await load.stop();
    const stopped = nowMs();
    const target = infoInt(await info(masterClient, 'replication'), 'master_repl_offset');
    let catchUpMs = -1;
    while (nowMs() - stopped < CATCH_UP_DEADLINE_MS) {
      if (infoInt(await info(replicaClient, 'replication'), 'slave_repl_offset') >= target) {
        catchUpMs = nowMs() - stopped;
        break;
      }
      await sleep(SYNC_POLL_MS);
    }
    if (catchUpMs < 0) throw new Error(`replica did not catch up within ${CATCH_UP_DEADLINE_MS} ms of the load stopping`);
    const lags = lagSamples(samples);
    const bytes = lags.map((l) => l.bytes);
    const ms = lags.flatMap((l) => (l.ms === null ? [] : [l.ms]));
    const first = samples[0];
    const last = samples[samples.length - 1];
    return {
      polls: samples.length,
      maxBytes: Math.max(...bytes),
      medianBytes: median(bytes),
      maxMs: ms.length === 0 ? null : Math.max(...ms),
      medianMs: ms.length === 0 ? null : median(ms),
      streamBytesPerSecond: last.atMs === first.atMs ? 0 : ((last.masterOffset - first.masterOffset) * 1000) / (last.atMs - first.atMs),
      catchUpMs,
    };
  } finally {
    await load.stop();
    masterClient.close();
    replicaClient.close();
  }
}

/** PINGs one at a time until `done()`; returns each round trip in ms. */
async function pingLoop(client: RespClient, done: () => boolean): Promise<number[]> {
  const rtts: number[] = [];
  while (!done()) {
    const sent = nowMs();
    const reply = await client.send(['PING']);
    if (reply !== 'PONG') throw new Error(`PING answered ${String(reply)}`);
    rtts.push(nowMs() - sent);
  }
  return rtts;
}

/** BGSAVE while another connection PINGs in a loop; waits for the save to finish and checks it succeeded. */
async function measureBgsave(master: RunningServer): Promise<BgsaveRun> {
  const control = await RespClient.connect(master.port);
  const pinger = await RespClient.connect(master.port);
  let saving = true;
  let pings: Promise<number[]> = Promise.resolve([]);
  try {
    const savesBefore = infoInt(await info(control, 'persistence'), 'rdb_saves');
    pings = pingLoop(pinger, () => !saving);
    const started = nowMs();
    const reply = await control.sendForString(['BGSAVE']);
    const bgsaveReplyMs = nowMs() - started;
    if (reply !== 'Background saving started') throw new Error(`BGSAVE answered ${reply}`);
    let saveMs = -1;
    while (nowMs() - started < BGSAVE_DEADLINE_MS) {
      const persistence = await info(control, 'persistence');
      if (infoInt(persistence, 'rdb_bgsave_in_progress') === 0 && infoInt(persistence, 'rdb_saves') > savesBefore) {
        saveMs = nowMs() - started;
        const status = infoString(persistence, 'rdb_last_bgsave_status');
        if (status !== 'ok') throw new Error(`BGSAVE finished with status ${status}`);
        break;
      }
      await sleep(BGSAVE_POLL_MS);
    }
    if (saveMs < 0) throw new Error(`BGSAVE not finished within ${BGSAVE_DEADLINE_MS} ms`);
    saving = false;
    const rtts = await pings;
    return {
      saveMs,
      bgsaveReplyMs,
      pings: rtts.length,
      pingMaxMs: Math.max(...rtts),
      pingP99Ms: percentile(rtts, 99),
      pingMedianMs: median(rtts),
    };
  } finally {
    saving = false;
    await pings.catch(() => []);
    control.close();
    pinger.close();
  }
}

/** Starts a master of `kind` and loads `keys` string keys into it (DBSIZE checked). */
async function startLoadedMaster(kind: ServerKind, settings: ReplicationSettings): Promise<{ master: RunningServer; loadSeconds: number }> {
  const master = await startServer(kind, settings.serverCpu);
  try {
    const started = nowMs();
    await loadStringKeys(master.port, settings.keys);
    const loadSeconds = (nowMs() - started) / 1000;
    const dbsize = await withClient(master.port, (c) => c.sendForInteger(['DBSIZE']));
    if (dbsize !== settings.keys) throw new Error(`${kind.name}: DBSIZE ${dbsize} after loading ${settings.keys} keys`);
    return { master, loadSeconds };
  } catch (err) {
    await master.stop();
    throw err;
  }
}

/**
 * Measures both kinds: BGSAVE stalls and full syncs on the freshly loaded masters (datasets still
 * identical), then lag with one long-lived replica per master. Alternates kinds within each repeat.
 */
export async function runReplicationScenario(kinds: readonly ServerKind[], settings: ReplicationSettings, log: Log): Promise<KindResult[]> {
  const masters: RunningServer[] = [];
  const replicas: RunningServer[] = [];
  try {
    const results: KindResult[] = [];
    for (const kind of kinds) {
      log(`replication: loading ${settings.keys} keys into a ${kind.name} master`);
      const { master, loadSeconds } = await startLoadedMaster(kind, settings);
      masters.push(master);
      results.push({ name: kind.name, description: kind.description, loadSeconds, fullSync: [], lag: [], bgsave: [] });
    }
    for (let r = 0; r < settings.repeats; r++) {
      for (let k = 0; k < kinds.length; k++) {
        const run = await measureBgsave(masters[k]);
        log(`bgsave ${r + 1}/${settings.repeats} ${kinds[k].name}: ${run.saveMs.toFixed(0)} ms, ${run.pings} PINGs, max ${run.pingMaxMs.toFixed(2)} ms`);
        results[k].bgsave.push(run);
      }
    }
    for (let r = 0; r < settings.repeats; r++) {
      for (let k = 0; k < kinds.length; k++) {
        const run = await measureFullSync(kinds[k], masters[k], settings);
        log(`full sync ${r + 1}/${settings.repeats} ${kinds[k].name}: ${run.seconds.toFixed(2)} s`);
        results[k].fullSync.push(run);
      }
    }
    for (let k = 0; k < kinds.length; k++) {
      const replica = await startServer(kinds[k], settings.serverCpu);
      replicas.push(replica);
      const masterDbsize = await withClient(masters[k].port, (c) => c.sendForInteger(['DBSIZE']));
      await syncReplica(replica, masters[k].port, masterDbsize);
    }
    for (let r = 0; r < settings.repeats; r++) {
      for (let k = 0; k < kinds.length; k++) {
        const run = await measureLag(masters[k], replicas[k], settings);
        log(`lag ${r + 1}/${settings.repeats} ${kinds[k].name}: max ${run.maxBytes} B, median ${run.medianBytes} B, catch-up ${run.catchUpMs.toFixed(0)} ms`);
        results[k].lag.push(run);
      }
    }
    return results;
  } finally {
    await Promise.all([...replicas, ...masters].map((s) => s.stop()));
  }
}
