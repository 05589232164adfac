// Command-line flags and BENCH_* environment variables → one validated options object.
import { parseArgs } from 'node:util';
import { BENCH_TESTS, GET_MISS, type BenchTest } from './redis-benchmark.js';

export interface BenchOptions {
  /**
   * "node": our node vs redis-server (+ memory); "proxy": ours vs twemproxy vs direct vs ours over our nodes;
   * "replication": full resync, replication lag and BGSAVE stalls, ours vs redis-server;
   * "migration": online slot migration under load through the coordinator (bench/migration-*.ts);
   * "failover": kill -9 of a master under load, and false failovers under heavy load (bench/failover*.ts);
   * "scripting": EVALSHA of a 2-command script, our node vs redis-server (bench/scripting-*.ts).
   */
  scenario: 'node' | 'proxy' | 'replication' | 'migration' | 'failover' | 'scripting';
  /** "tessera" runs our node; "redis-server" runs a second redis-server as a stand-in. */
  ours: 'tessera' | 'redis-server';
  tests: BenchTest[];
  pipelines: number[];
  repeats: number;
  clients: number;
  randomKeys: number;
  /** Fixed request count per run (BENCH_REQUESTS), or null to size runs by calibration. */
  fixedRequests: number | null;
  /** Wanted duration of one run on the baseline when calibrating. */
  targetRunSeconds: number;
  memoryKeys: number;
  /** Keys in each master for the replication scenario's full-sync and BGSAVE measurements. */
  replicationKeys: number;
  /** Seconds of redis-benchmark write load per replication-lag run. */
  replicationLoadSeconds: number;
  skipMemory: boolean;
  skipThroughput: boolean;
  resultsPath: string;
  /** False with --no-pin: every process unpinned (the scheduler spreads them over all CPUs). */
  pin: boolean;
  /** BENCH_PROXY_CPU_PROF: directory for our proxies' CPU profiles (proxy scenario), or null. */
  proxyCpuProfileDir: string | null;
  /** BENCH_NODE_CPU_PROF: directory for our node's CPU profile (node scenario's throughput node), or null. */
  nodeCpuProfileDir: string | null;
  /** Proxy scenario: --proxy-workers N passes `--workers N` to our proxies (null: not passed). */
  proxyWorkers: number | null;
  /** Proxy scenario: clients of the pipeline-1 GET/SET p99 check (--many-clients, default 500; 0 = skip). */
  manyClients: number;
  /** Node scenario: members of the one sorted set the ZADD build measurement inserts (0 = skip). */
  zaddMembers: number;
  /** Migration scenario: --keys, --elements (null = the preset's), --codis; BENCH_MIGRATION_CPU_PROF. */
  migration: { keys: number | null; elements: number | null; codis: boolean; store: 'file' | 'etcd'; attribute: boolean; cpuProfileDir: string | null };
  /** Failover scenario: --runs (kills, default 5), --idle-seconds (heavy load without a kill, default 60; 0 = skip). */
  failover: { runs: number; idleSeconds: number };
}

export const USAGE = `npm run bench -- [flags]
  --scenario=<node|proxy|replication|migration|failover|scripting>
                        node (default): our node vs redis-server, throughput and memory;
                        proxy: our proxy vs twemproxy vs redis direct vs our proxy over our nodes
                        (tests SET,GET,MSET unless --tests is given; no memory test);
                        replication: full resync time, replication lag under SET -P 16,
                        PING stalls during BGSAVE (ours→ours vs redis→redis; 3 repeats by default);
                        migration: 2 groups (master + replica), 2 proxies, the coordinator; moves half
                        of group 1's slots under a probe and an INCR load, checks every key;
                        scripting: EVALSHA of an INCR+GET script on random keys, our node vs redis-server
  --keys=N --elements=M migration: string keys (default 1000000) and elements per big key (default 1000000)
  --codis               migration: the issue's Codis-sized case (50,000 64-byte keys in 512 slots + one 1M list)
  --store=<file|etcd>   migration: the coordination store (default file; etcd starts a throw-away etcd)
  --attribute           migration: sample every process's scheduler stats every 5 ms and say what the
                        probe's slow requests waited for (costs the harness ~9% of a CPU)
  --runs=N --idle-seconds=S
                        failover: kill -9 of group 1's master under SET (+ WAIT 1) load through a proxy, N runs
                        (default 5); S seconds of heavy load with no kill counting false failovers (default 60, 0 = skip)
  --proxy-workers=N     proxy: run our proxies with --workers N (then they are not pinned: see docs/performance.md)
  --many-clients=N      proxy: clients of the extra GET/SET -P 1 p99 check (default 500; 0 = skip)
  --quick               short runs (~0.3 s), 3 repeats, 200k keys for the memory test
  --ours=<tessera|redis-server>
                        candidate: our node (default) or a second redis-server (harness check)
  --tests=SET,GET,...   subset of: ${BENCH_TESTS.map((t) => t.id.split(' ')[0]).join(',')}
  --pipelines=1,16      pipeline depths (-P)
  --repeats=N           alternating runs per target and cell, median reported (default 5)
  --no-pin              do not pin processes to CPUs (compare with the pinned layout)
  --no-memory           skip the memory test
  --memory-only         only the memory test
  --out=PATH            JSON results (default .bench-results/latest.json, proxy: .bench-results/proxy-latest.json,
                        replication: .bench-results/replication-latest.json)
env: BENCH_REQUESTS (fixed -n per run), BENCH_MEMORY_KEYS, BENCH_REPEATS,
     BENCH_REPLICATION_KEYS (default 1M, 200k with --quick), BENCH_REPLICATION_LOAD_SECONDS (default 3),
     BENCH_PROXY_CPU_PROF=DIR (proxy scenario: our proxies write .cpuprofile files to DIR),
     BENCH_NODE_CPU_PROF=DIR (node scenario: our node writes a .cpuprofile file to DIR),
     BENCH_ZADD_MEMBERS (node scenario's sorted-set build, default 100000, 0 = skip),
     BENCH_MIGRATION_CPU_PROF=DIR (migration scenario: nodes, proxies and the coordinator write .cpuprofile files to DIR)`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** The proxy scenario's default tests: the GET/SET goals, plus MSET, which the proxies split. */
export const PROXY_DEFAULT_TESTS = ['GET-MISS', 'SET', 'GET', 'MSET'];

function pickTests(list: string | undefined, scenario: BenchOptions['scenario']): BenchTest[] {
  if (list === undefined && scenario === 'proxy') return pickTests(PROXY_DEFAULT_TESTS.join(','), scenario);
  if (list === undefined) return [...BENCH_TESTS];
  // GET-miss (GET on an emptied keyspace) is the proxy scenario's own row.
  const known = scenario === 'proxy' ? [GET_MISS, ...BENCH_TESTS] : BENCH_TESTS;
  return list.split(',').map((name) => {
    const wanted = name.trim().toUpperCase();
    const test = known.find((t) => t.id.split(' ')[0].toUpperCase() === wanted);
    if (test === undefined) throw new Error(`unknown test "${name}"; known: ${known.map((t) => t.id.split(' ')[0]).join(', ')}`);
    return test;
  });
}

const DEFAULT_RESULTS_PATHS: Record<BenchOptions['scenario'], string> = {
  node: '.bench-results/latest.json',
  proxy: '.bench-results/proxy-latest.json',
  replication: '.bench-results/replication-latest.json',
  migration: '.bench-results/migration-latest.json',
  failover: '.bench-results/failover-latest.json',
  scripting: '.bench-results/scripting-latest.json',
};

/** Returns null when --help was asked for. */
export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scenario: { type: 'string', default: 'node' },
      quick: { type: 'boolean', default: false },
      ours: { type: 'string', default: 'tessera' },
      tests: { type: 'string' },
      pipelines: { type: 'string', default: '1,16' },
      repeats: { type: 'string' },
      'no-memory': { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      'memory-only': { type: 'boolean', default: false },
      out: { type: 'string' },
      keys: { type: 'string' },
      elements: { type: 'string' },
      codis: { type: 'boolean', default: false },
      attribute: { type: 'boolean', default: false },
      store: { type: 'string' },
      runs: { type: 'string' },
      'idle-seconds': { type: 'string' },
      'proxy-workers': { type: 'string' },
      'many-clients': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  if (values.ours !== 'tessera' && values.ours !== 'redis-server') throw new Error(`--ours must be tessera or redis-server, got "${values.ours}"`);
  if (values.scenario !== 'node' && values.scenario !== 'proxy' && values.scenario !== 'replication' && values.scenario !== 'migration' && values.scenario !== 'failover' && values.scenario !== 'scripting') {
    throw new Error(`--scenario must be node, proxy, replication, migration, failover or scripting, got "${values.scenario}"`);
  }
  const scenario = values.scenario;
  if (scenario !== 'failover' && (values.runs !== undefined || values['idle-seconds'] !== undefined)) {
    throw new Error('--runs and --idle-seconds are for --scenario=failover');
  }
  if (scenario !== 'migration' && (values.keys !== undefined || values.elements !== undefined || values.codis === true || values.store !== undefined || values.attribute === true)) {
    throw new Error('--keys, --elements, --codis, --store and --attribute are for --scenario=migration');
  }
  if (values.store !== undefined && values.store !== 'file' && values.store !== 'etcd') throw new Error(`--store must be file or etcd, got "${values.store}"`);
  if (scenario !== 'proxy' && (values['proxy-workers'] !== undefined || values['many-clients'] !== undefined)) {
    throw new Error('--proxy-workers and --many-clients are for --scenario=proxy');
  }
  if (scenario !== 'node' && values['memory-only'] === true) throw new Error(`--memory-only is for the node scenario; the ${scenario} scenario has no memory test`);
  const quick = values.quick === true;
  const fixed = env.BENCH_REQUESTS;
  return {
    scenario,
    ours: values.ours,
    tests: pickTests(values.tests, scenario),
    pipelines: values.pipelines.split(',').map((p) => positiveInt('--pipelines', p.trim(), 1)),
    // Replication runs are long (a 1M-key full sync each): 3 repeats unless asked for more.
    repeats: positiveInt('--repeats', values.repeats ?? env.BENCH_REPEATS, quick || scenario === 'replication' ? 3 : 5),
    clients: 50,
    randomKeys: 100_000,
    fixedRequests: fixed === undefined || fixed === '' ? null : positiveInt('BENCH_REQUESTS', fixed, 1),
    targetRunSeconds: quick ? 0.3 : 1.0,
    memoryKeys: positiveInt('BENCH_MEMORY_KEYS', env.BENCH_MEMORY_KEYS, quick ? 200_000 : 1_000_000),
    replicationKeys: positiveInt('BENCH_REPLICATION_KEYS', env.BENCH_REPLICATION_KEYS, quick ? 200_000 : 1_000_000),
    replicationLoadSeconds: positiveInt('BENCH_REPLICATION_LOAD_SECONDS', env.BENCH_REPLICATION_LOAD_SECONDS, 3),
    skipMemory: values['no-memory'] === true,
    skipThroughput: values['memory-only'] === true,
    proxyCpuProfileDir: env.BENCH_PROXY_CPU_PROF === undefined || env.BENCH_PROXY_CPU_PROF === '' ? null : env.BENCH_PROXY_CPU_PROF,
    nodeCpuProfileDir: env.BENCH_NODE_CPU_PROF === undefined || env.BENCH_NODE_CPU_PROF === '' ? null : env.BENCH_NODE_CPU_PROF,
    proxyWorkers: values['proxy-workers'] === undefined ? null : positiveInt('--proxy-workers', values['proxy-workers'], 1),
    manyClients: values['many-clients'] === '0' ? 0 : positiveInt('--many-clients', values['many-clients'], 500),
    zaddMembers: env.BENCH_ZADD_MEMBERS === '0' ? 0 : positiveInt('BENCH_ZADD_MEMBERS', env.BENCH_ZADD_MEMBERS, 100_000),
    pin: values['no-pin'] !== true,
    resultsPath: values.out ?? DEFAULT_RESULTS_PATHS[scenario],
    migration: {
      keys: values.keys === undefined ? null : positiveInt('--keys', values.keys.replaceAll(',', '').replaceAll('_', ''), 1),
      elements: values.elements === undefined ? null : positiveInt('--elements', values.elements.replaceAll(',', '').replaceAll('_', ''), 1),
      codis: values.codis === true,
      store: values.store === 'etcd' ? 'etcd' : 'file',
      attribute: values.attribute === true,
      cpuProfileDir: env.BENCH_MIGRATION_CPU_PROF === undefined || env.BENCH_MIGRATION_CPU_PROF === '' ? null : env.BENCH_MIGRATION_CPU_PROF,
    },
    failover: {
      runs: positiveInt('--runs', values.runs, 5),
      idleSeconds: values['idle-seconds'] === '0' ? 0 : positiveInt('--idle-seconds', values['idle-seconds'], 60),
    },
  };
}
