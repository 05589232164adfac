// Runs redis-benchmark for one test against one port and parses its --csv output.
// Knows redis-benchmark 7.0's test names and CSV columns; nothing about targets or reports.
import { spawnManaged } from './processes.js';

export interface BenchTest {
  /** Our id in tables and JSON. */
  readonly id: string;
  /** redis-benchmark `-t` name. */
  readonly tName: string;
  /** Start of the CSV row's "test" column (7.0 prints e.g. "LRANGE_100 (first 100 elements)"). */
  readonly rowPrefix: string;
}

/** The tests we compare, in the order redis-benchmark itself runs them (SET before GET fills the keys GET reads). */
export const BENCH_TESTS: readonly BenchTest[] = [
  { id: 'SET', tName: 'set', rowPrefix: 'SET' },
  { id: 'GET', tName: 'get', rowPrefix: 'GET' },
  { id: 'INCR', tName: 'incr', rowPrefix: 'INCR' },
  { id: 'LPUSH', tName: 'lpush', rowPrefix: 'LPUSH' },
  { id: 'HSET', tName: 'hset', rowPrefix: 'HSET' },
  { id: 'SADD', tName: 'sadd', rowPrefix: 'SADD' },
  { id: 'ZADD', tName: 'zadd', rowPrefix: 'ZADD' },
  // `-t lrange_100` first fills the list with an untimed "LPUSH (needed to benchmark LRANGE)" row.
  { id: 'LRANGE_100', tName: 'lrange_100', rowPrefix: 'LRANGE_100' },
  { id: 'MSET (10 keys)', tName: 'mset', rowPrefix: 'MSET (10 keys)' },
];

/**
 * GET on keys that do not exist: the proxy scenario runs it on an emptied keyspace, before it is
 * filled, as a row of its own (not in BENCH_TESTS: the node scenario has no empty phase).
 */
export const GET_MISS: BenchTest = { id: 'GET-miss', tName: 'get', rowPrefix: 'GET' };

export interface BenchRunOptions {
  port: number;
  test: BenchTest;
  pipeline: number;
  clients: number;
  requests: number;
  randomKeys: number;
  /** CPU to pin redis-benchmark to, or undefined. */
  cpu?: number;
}

export interface BenchSample {
  rps: number;
  avgMs: number;
  minMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

const CSV_HEADER = ['test', 'rps', 'avg_latency_ms', 'min_latency_ms', 'p50_latency_ms', 'p95_latency_ms', 'p99_latency_ms', 'max_latency_ms'];

/** Splits one CSV line of quoted fields (redis-benchmark quotes every field; no embedded quotes). */
function csvFields(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
}

/** "LRANGE_100" matches "LRANGE_100 (first 100 elements)"; "LPUSH" never matches the untimed list-filling row. */
function rowMatches(testColumn: string, rowPrefix: string): boolean {
  if (testColumn.includes('(needed to benchmark')) return false;
  return testColumn === rowPrefix || testColumn.startsWith(`${rowPrefix} (`);
}

/**
 * Parses redis-benchmark --csv output and returns the row whose test column starts with
 * `rowPrefix`. Throws if the header is not the 7.0 layout or the row is missing, so a
 * format change fails loudly instead of producing wrong numbers.
 */
export function parseBenchCsv(output: string, rowPrefix: string): BenchSample {
  const lines = output.split(/\r?\n/).filter((l) => l.startsWith('"'));
  const header = lines[0] === undefined ? [] : csvFields(lines[0]);
  if (header.join(',') !== CSV_HEADER.join(',')) {
    throw new Error(`unexpected redis-benchmark CSV header: ${lines[0] ?? '(none)'}`);
  }
  for (const line of lines.slice(1)) {
    const fields = csvFields(line);
    if (!rowMatches(fields[0], rowPrefix)) continue;
    const [rps, avgMs, minMs, p50Ms, p95Ms, p99Ms, maxMs] = fields.slice(1).map(Number);
    const sample = { rps, avgMs, minMs, p50Ms, p95Ms, p99Ms, maxMs };
    if (Object.values(sample).some((v) => !Number.isFinite(v))) throw new Error(`bad numbers in CSV row: ${line}`);
    return sample;
  }
  throw new Error(`no "${rowPrefix}" row in redis-benchmark output:\n${output}`);
}

/** Command-line arguments for one run (exported for tests). */
export function benchArgs(opts: BenchRunOptions): string[] {
  return [
    '-h', '127.0.0.1', '-p', String(opts.port),
    '-c', String(opts.clients), '-n', String(opts.requests), '-r', String(opts.randomKeys),
    '-P', String(opts.pipeline), '-t', opts.test.tName, '--csv',
  ];
}

/** A run that has not finished by then is hung (a server that stopped answering), not slow. */
const RUN_TIMEOUT_MS = 180_000;

/** redis-benchmark 7.0 prints this and exits 1 on the first error reply (so errors never count as throughput). */
const SERVER_ERROR_MARK = 'Error from server: ';

/** The "Error from server: …" line of a failed run's output, or null. */
function serverErrorLine(output: string): string | null {
  const at = output.indexOf(SERVER_ERROR_MARK);
  if (at < 0) return null;
  const end = output.indexOf('\n', at);
  return output.slice(at, end < 0 ? undefined : end).trim();
}

/**
 * Runs one redis-benchmark invocation and returns the parsed sample. Rejects (with the server's
 * error when there was one) if redis-benchmark fails or runs longer than RUN_TIMEOUT_MS.
 */
export async function runRedisBenchmark(opts: BenchRunOptions): Promise<BenchSample> {
  const proc = spawnManaged('redis-benchmark', benchArgs(opts), { cpu: opts.cpu, captureStdout: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.stop(1000);
  }, RUN_TIMEOUT_MS);
  const status = await proc.exited;
  clearTimeout(timer);
  if (timedOut) throw new Error(`redis-benchmark -t ${opts.test.tName} -P ${opts.pipeline} did not finish within ${RUN_TIMEOUT_MS} ms`);
  if (status !== 0) {
    const tail = proc.outputTail();
    throw new Error(serverErrorLine(tail) ?? `redis-benchmark exited with ${status}: ${tail}`);
  }
  return parseBenchCsv(proc.stdout(), opts.test.rowPrefix);
}
