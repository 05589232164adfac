// Entry point of `npm run bench`: parses options, starts the scenario's servers pinned to one CPU,
// runs the throughput and memory scenarios (or the proxy or replication scenario), prints tables,
// writes JSON, and always stops every process.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { resolve } from 'node:path';
import { measureMemory, type MemoryResult } from './memory.js';
import { migrationTargets, renderMigrationConsole, renderMigrationMarkdown, type MigrationBenchReport } from './migration-report.js';
import { migrationSettings, runMigrationScenario } from './migration-scenario.js';
import { parseBenchOptions, USAGE, type BenchOptions } from './options.js';
import { canPinTo, installCleanupHandlers, stopAll } from './processes.js';
import { PROXY_PATH_DESCRIPTIONS, PROXY_PATH_LABELS, PROXY_PATHS, startProxyScenario } from './proxy-scenario.js';
import { renderProxyConsole, renderProxyMarkdown, type ProxyBenchReport } from './proxy-report.js';
import { proxyCells, runProxyThroughput, type Keyspace } from './proxy-throughput.js';
import { proxyTargetChecks } from './proxy-targets.js';
import { renderProfileTops } from './profile-top.js';
import { nodeTargetChecks } from './node-targets.js';
import { measureZaddBuild, type ZaddBuildResult } from './zadd-build.js';
import { renderConsole, renderMarkdown, writeJson, type BenchReport } from './report.js';
import { runReplicationScenario, type KindResult } from './replication.js';
import { renderReplicationConsole, renderReplicationMarkdown, type ReplicationBenchReport } from './replication-report.js';
import { redisReplicationKind, redisStandInReplicationKind, tesseraReplicationKind } from './replication-servers.js';
import { nodeVsRedisScenario, type Scenario } from './scenarios.js';
import { assertTesseraCliExists, redisStandInTarget, repoRoot, tesseraNodeTarget, type RunningTarget } from './targets.js';
import { runThroughput, type CellFailure, type TestResult } from './throughput.js';
import { mainFailover } from './failover-main.js';
import { mainScripting } from './scripting-scenario.js';

/** Server on CPU 1, client on CPU 0, so they never compete for a core (needs ≥ 2 CPUs). */
const SERVER_CPU = 1;
const CLIENT_CPU = 0;

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

function redisServerVersion(): string {
  const out = execFileSync('redis-server', ['--version'], { encoding: 'utf8' });
  const match = /v=(\S+)/.exec(out);
  return `redis-server ${match?.[1] ?? 'unknown version'}`;
}

function nutcrackerVersion(): string {
  // nutcracker prints its version on stderr ("This is nutcracker-0.5.0").
  const out = execFileSync('sh', ['-c', 'nutcracker --version 2>&1'], { encoding: 'utf8' });
  return /nutcracker-(\S+)/.exec(out)?.[0] ?? 'nutcracker (unknown version)';
}

/**
 * Proxy scenario: proxies under test on CPU 1; backends and redis-benchmark share CPU 0, so each
 * proxy gets a core of its own and the backends are the same processes on the same core for
 * ours and twemproxy.
 */
async function mainProxy(options: BenchOptions): Promise<void> {
  assertTesseraCliExists();
  const cpus = os.availableParallelism();
  const pinned = options.pin && canPinTo(SERVER_CPU, cpus) && canPinTo(CLIENT_CPU, cpus);
  if (!pinned) log(options.pin ? 'fewer than 2 CPUs or no taskset: running unpinned, numbers will be noisier' : '--no-pin: running unpinned');
  // Several workers on one pinned core would measure nothing but contention: with --proxy-workers
  // N > 1 the proxies may use every CPU (the backends and redis-benchmark stay on CPU 0).
  const multiWorker = options.proxyWorkers !== null && options.proxyWorkers > 1;
  const profileDir = options.proxyCpuProfileDir === null ? undefined : resolve(options.proxyCpuProfileDir);
  const scenario = await startProxyScenario({
    proxyCpu: pinned && !multiWorker ? SERVER_CPU : undefined,
    backendCpu: pinned ? CLIENT_CPU : undefined,
    cpuProfileDir: profileDir,
    workers: options.proxyWorkers ?? undefined,
  });
  const profiled = new Map(PROXY_PATHS.filter((p) => p !== 'direct' && p !== 'twemproxy').flatMap((p) => scenario.targets[p].pids.map((pid) => [pid, PROXY_PATH_LABELS[p]] as const)));
  let outcome;
  try {
    log(PROXY_PATHS.map((p) => `${PROXY_PATH_LABELS[p]} on port ${scenario.targets[p].port} (pids ${scenario.targets[p].pids.join(',')})`).join(', '));
    const settings = { ...options, clientCpu: pinned ? CLIENT_CPU : undefined };
    const cells = proxyCells(options.tests, options.pipelines, options.clients, options.manyClients);
    const prepare = async (keyspace: Keyspace): Promise<void> => {
      log(keyspace === 'empty' ? 'keyspace: FLUSHALL on every backend' : `keyspace: filling every backend with ${options.randomKeys} keys`);
      await scenario.prepareKeyspace(keyspace, options.randomKeys);
    };
    outcome = await runProxyThroughput(scenario.targets, cells, settings, prepare, log);
  } finally {
    await scenario.stop();
  }
  const pinning = !pinned ? 'unpinned'
    : multiWorker ? `our proxies (primary + ${options.proxyWorkers} workers) and twemproxy unpinned (any CPU); backends and redis-benchmark pinned to CPU ${CLIENT_CPU}`
      : `proxies pinned to CPU ${SERVER_CPU}; backends and redis-benchmark to CPU ${CLIENT_CPU}`;
  const report: ProxyBenchReport = {
    startedAt: new Date().toISOString(),
    scenario: 'proxy',
    paths: Object.fromEntries(PROXY_PATHS.map((p) => [p, { label: PROXY_PATH_LABELS[p], description: PROXY_PATH_DESCRIPTIONS[p] }])) as ProxyBenchReport['paths'],
    environment: {
      cpus,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      redisServer: redisServerVersion(),
      nutcracker: nutcrackerVersion(),
      pinning,
      loadAverage: os.loadavg(),
    },
    settings: {
      clients: options.clients,
      randomKeys: options.randomKeys,
      repeats: options.repeats,
      targetRunSeconds: options.fixedRequests === null ? options.targetRunSeconds : null,
      fixedRequests: options.fixedRequests,
      manyClients: options.manyClients,
      proxyWorkers: options.proxyWorkers,
      keyspaceKeys: options.randomKeys,
    },
    tests: outcome.results,
    failures: outcome.failures,
    targets: proxyTargetChecks(outcome.results, options.clients),
  };
  const jsonPath = resolve(repoRoot(), options.resultsPath);
  await writeJson(jsonPath, report);
  process.stdout.write(renderProxyConsole(report));
  process.stdout.write(`\n--- markdown for docs/performance.md ---\n\n${renderProxyMarkdown(report)}\n`);
  if (profileDir !== undefined) process.stdout.write(await renderProfileTops(profileDir, profiled));
  log(`results written to ${jsonPath}`);
  if (report.failures.length > 0) process.exitCode = 1;
}

/**
 * Replication scenario: masters and replicas of one kind on CPU 1; the key loader, INFO pollers
 * and PING loop run in this process, redis-benchmark on CPU 0.
 */
async function mainReplication(options: BenchOptions): Promise<void> {
  if (options.ours === 'tessera') assertTesseraCliExists();
  const cpus = os.availableParallelism();
  const pinned = options.pin && canPinTo(SERVER_CPU, cpus) && canPinTo(CLIENT_CPU, cpus);
  if (!pinned) log(options.pin ? 'fewer than 2 CPUs or no taskset: running unpinned, numbers will be noisier' : '--no-pin: running unpinned');
  const candidate = options.ours === 'tessera' ? tesseraReplicationKind : redisStandInReplicationKind;
  const settings = { keys: options.replicationKeys, repeats: options.repeats, loadSeconds: options.replicationLoadSeconds };
  let kinds: KindResult[] = [];
  const failures: string[] = [];
  try {
    kinds = await runReplicationScenario([candidate, redisReplicationKind], {
      ...settings, serverCpu: pinned ? SERVER_CPU : undefined, clientCpu: pinned ? CLIENT_CPU : undefined,
    }, log);
  } catch (err) {
    failures.push((err as Error).message);
    log(`replication FAILED: ${(err as Error).message}`);
  }
  const report: ReplicationBenchReport = {
    startedAt: new Date().toISOString(),
    scenario: 'replication',
    environment: {
      cpus,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      redisServer: redisServerVersion(),
      pinning: pinned
        ? `masters and replicas pinned to CPU ${SERVER_CPU}, redis-benchmark to CPU ${CLIENT_CPU}, the harness's own clients unpinned`
        : 'unpinned',
    },
    settings,
    kinds,
    failures,
  };
  const jsonPath = resolve(repoRoot(), options.resultsPath);
  await writeJson(jsonPath, report);
  process.stdout.write(renderReplicationConsole(report));
  process.stdout.write(`\n--- markdown for docs/performance.md ---\n\n${renderReplicationMarkdown(report)}\n`);
  log(`results written to ${jsonPath}`);
  if (failures.length > 0) process.exitCode = 1;
}

/** Migration scenario: the cluster of migration-cluster.ts (source group on CPU 1, target on CPU 0). */
async function mainMigration(options: BenchOptions): Promise<void> {
  assertTesseraCliExists();
  const m = options.migration;
  const settings = migrationSettings({
    keys: m.keys ?? undefined, elements: m.elements ?? undefined, codis: m.codis, store: m.store, pin: options.pin, attribute: m.attribute,
    cpuProfileDir: m.cpuProfileDir === null ? undefined : resolve(m.cpuProfileDir),
  });
  const startedAt = new Date().toISOString();
  const result = await runMigrationScenario(settings, log);
  const report: MigrationBenchReport = { startedAt, scenario: 'migration', result, targets: migrationTargets(result) };
  const jsonPath = resolve(repoRoot(), options.resultsPath);
  await writeJson(jsonPath, report);
  process.stdout.write(renderMigrationConsole(report));
  process.stdout.write(`\n--- markdown for docs/performance.md ---\n\n${renderMigrationMarkdown(report)}\n`);
  log(`results written to ${jsonPath}`);
  if (report.targets.some((t) => t.pass === false)) process.exitCode = 1;
}

/** The candidate (our node) runs GC-traced, and CPU-profiled when asked; the baseline plainly. */
async function startBoth(scenario: Scenario, cpu: number | undefined, cpuProfileDir: string | undefined): Promise<[RunningTarget, RunningTarget]> {
  const candidate = await scenario.candidate.start({ cpu, gcTrace: true, cpuProfileDir });
  try {
    return [candidate, await scenario.baseline.start({ cpu })];
  } catch (err) {
    await candidate.stop();
    throw err;
  }
}

async function main(options: BenchOptions): Promise<void> {
  if (options.ours === 'tessera') assertTesseraCliExists();
  const candidateTarget = options.ours === 'tessera' ? tesseraNodeTarget : redisStandInTarget;
  const scenario = nodeVsRedisScenario(candidateTarget);
  const cpus = os.availableParallelism();
  const pinned = options.pin && canPinTo(SERVER_CPU, cpus) && canPinTo(CLIENT_CPU, cpus);
  const serverCpu = pinned ? SERVER_CPU : undefined;
  const clientCpu = pinned ? CLIENT_CPU : undefined;
  if (!pinned) log(options.pin ? 'fewer than 2 CPUs or no taskset: running unpinned, numbers will be noisier' : '--no-pin: running unpinned');

  let tests: TestResult[] = [];
  let failures: CellFailure[] = [];
  let zaddBuild: ZaddBuildResult[] = [];
  const profileDir = options.nodeCpuProfileDir === null ? undefined : resolve(options.nodeCpuProfileDir);
  const profiled = new Map<number, string>();
  if (!options.skipThroughput) {
    const [candidate, baseline] = await startBoth(scenario, serverCpu, profileDir);
    profiled.set(candidate.pids[0], scenario.candidate.name);
    try {
      log(`${scenario.candidate.name} on port ${candidate.port}, ${scenario.baseline.name} on port ${baseline.port}`);
      ({ results: tests, failures } = await runThroughput(candidate, baseline, { ...options, clientCpu }, log));
      if (options.zaddMembers > 0) {
        log(`sorted-set build: ${options.zaddMembers} members, ${options.repeats} builds per target`);
        try {
          zaddBuild = await measureZaddBuild([{ name: scenario.candidate.name, running: candidate }, { name: scenario.baseline.name, running: baseline }], options.zaddMembers, options.repeats);
        } catch (err) {
          failures.push({ test: `ZADD build of ${options.zaddMembers} members`, pipeline: null, message: (err as Error).message });
          log(`sorted-set build FAILED: ${(err as Error).message}`);
        }
      }
    } finally {
      await Promise.all([candidate.stop(), baseline.stop()]);
    }
  }

  // Fresh processes, one at a time: RSS must not include the throughput runs' leftovers.
  const memory: MemoryResult[] = [];
  if (!options.skipMemory) {
    for (const target of [scenario.candidate, scenario.baseline]) {
      log(`memory: loading ${options.memoryKeys} keys into ${target.name}`);
      try {
        memory.push(await measureMemory(target, options.memoryKeys, { cpu: serverCpu }));
      } catch (err) {
        // Recorded, not fatal: the throughput numbers already measured must still be reported.
        failures.push({ test: `memory (${target.name})`, pipeline: null, message: (err as Error).message });
        log(`memory FAILED for ${target.name}: ${(err as Error).message}`);
      }
    }
  }

  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    scenario: scenario.name,
    labels: scenario.labels,
    candidate: { name: scenario.candidate.name, description: scenario.candidate.description },
    baseline: { name: scenario.baseline.name, description: scenario.baseline.description },
    environment: {
      cpus,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      redisServer: redisServerVersion(),
      pinning: pinned ? `servers pinned to CPU ${SERVER_CPU}, redis-benchmark to CPU ${CLIENT_CPU}` : 'unpinned',
      loadAverage: os.loadavg(),
    },
    settings: {
      clients: options.clients,
      randomKeys: options.randomKeys,
      repeats: options.repeats,
      targetRunSeconds: options.fixedRequests === null ? options.targetRunSeconds : null,
      fixedRequests: options.fixedRequests,
    },
    tests,
    failures,
    memory,
    zaddBuild,
    targets: nodeTargetChecks({ tests, zaddBuild, memory }, scenario.candidate.name, scenario.baseline.name),
  };
  const jsonPath = resolve(repoRoot(), options.resultsPath);
  await writeJson(jsonPath, report);
  process.stdout.write(renderConsole(report));
  process.stdout.write(`\n--- markdown for docs/performance.md ---\n\n${renderMarkdown(report)}\n`);
  if (profileDir !== undefined && profiled.size > 0) process.stdout.write(await renderProfileTops(profileDir, profiled));
  log(`results written to ${jsonPath}`);
  if (failures.length > 0) process.exitCode = 1;
}

installCleanupHandlers();
let options: BenchOptions | null;
try {
  options = parseBenchOptions(process.argv.slice(2), process.env);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (options === null) {
  process.stdout.write(`${USAGE}\n`);
} else {
  try {
    const runScenario = { node: main, proxy: mainProxy, replication: mainReplication, migration: mainMigration, failover: mainFailover, scripting: (o: BenchOptions) => mainScripting(o, log) }[options.scenario];
    await runScenario(options);
  } catch (err) {
    // Our own errors carry their context in the message; BENCH_DEBUG=1 adds the stack.
    const detail = process.env.BENCH_DEBUG === '1' ? (err as Error).stack : (err as Error).message;
    process.stderr.write(`bench failed: ${detail ?? String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await stopAll();
  }
}
