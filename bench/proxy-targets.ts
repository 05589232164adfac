// The issue's proxy targets (issue 11, "Must show"), judged on one proxy-scenario run: rps vs
// twemproxy, added p99 vs redis direct, proxy CPU per request, bytes allocated per request and the
// longest GC pause of our proxy (the ours→redis path: same backends as twemproxy).
import type { ProxyCellResult } from './proxy-throughput.js';
import type { TargetCheck } from './target-checks.js';

export const PROXY_TARGETS = {
  /** Added p99 vs redis direct at pipeline 1 (GET, SET, GET-miss; also the many-clients rows). */
  maxAddedP99Ms: 0.5,
  /** Proxy CPU per request at pipeline 16 (GET, SET); predixy's ~0.9 µs is the goal beyond it. */
  maxCpuMicrosPerRequest: 1.5,
  /** V8-heap bytes allocated per proxied GET/SET (GET-miss included). */
  maxBytesPerRequest: 200,
  /** No GC pause longer than this in any cell. */
  maxGcPauseMs: 1,
} as const;

const SINGLE_KEY = new Set(['GET', 'SET', 'GET-miss']);
const fmt = (n: number, digits: number): string => n.toFixed(digits);

function cellName(c: ProxyCellResult, defaultClients: number): string {
  return `${c.test} -P ${c.pipeline}${c.clients === defaultClients ? '' : ` -c ${c.clients}`}`;
}

function ratioCheck(c: ProxyCellResult, name: string): TargetCheck | null {
  const goal = c.comparison.goal;
  if (goal === null) return null;
  const { oursRedis, twemproxy } = c.paths;
  return {
    name: `${name}: rps vs twemproxy`, target: `≥ ${fmt(goal.minRatio, 2)}×`,
    measured: `${fmt(c.comparison.oursVsTwemproxy, 2)}× (${Math.round(oursRedis.rps)} vs ${Math.round(twemproxy.rps)} rps; best runs ${fmt(c.comparison.oursVsTwemproxyBestRun, 2)}×)`,
    pass: goal.met,
  };
}

function addedP99Check(c: ProxyCellResult, name: string): TargetCheck | null {
  if (c.pipeline !== 1 || !SINGLE_KEY.has(c.test)) return null;
  const added = c.comparison.addedP99Ms.ours;
  return {
    name: `${name}: added p99 vs direct`, target: `≤ ${PROXY_TARGETS.maxAddedP99Ms} ms`,
    measured: `${added >= 0 ? '+' : ''}${fmt(added, 3)} ms (${fmt(c.paths.oursRedis.p99Ms, 3)} vs ${fmt(c.paths.direct.p99Ms, 3)}; twemproxy ${fmt(c.comparison.addedP99Ms.twemproxy, 3)})`,
    pass: added <= PROXY_TARGETS.maxAddedP99Ms,
  };
}

function cpuCheck(c: ProxyCellResult, name: string, defaultClients: number): TargetCheck | null {
  if (c.pipeline !== 16 || (c.test !== 'GET' && c.test !== 'SET') || c.clients !== defaultClients) return null;
  const us = c.comparison.proxyCpuMicrosPerRequest.ours;
  const twem = c.comparison.proxyCpuMicrosPerRequest.twemproxy;
  return {
    name: `${name}: proxy CPU per request`, target: `≤ ${PROXY_TARGETS.maxCpuMicrosPerRequest} µs`,
    measured: us === null ? 'not measured' : `${fmt(us, 2)} µs (twemproxy ${twem === null ? 'n/a' : fmt(twem, 2)})`,
    pass: us === null ? null : us <= PROXY_TARGETS.maxCpuMicrosPerRequest,
  };
}

function bytesCheck(c: ProxyCellResult, name: string, defaultClients: number): TargetCheck | null {
  if (!SINGLE_KEY.has(c.test) || c.clients !== defaultClients) return null;
  const gc = c.paths.oursRedis.gc;
  return {
    name: `${name}: bytes allocated per request`, target: `≤ ${PROXY_TARGETS.maxBytesPerRequest} B`,
    measured: gc === null ? 'not measured (no GC trace)' : `${Math.round(gc.allocatedBytesPerRequest)} B (scavenges freed ${Math.round(gc.scavengeFreedBytesPerRequest)} B)`,
    pass: gc === null ? null : gc.allocatedBytesPerRequest <= PROXY_TARGETS.maxBytesPerRequest,
  };
}

/** The longest pause of our proxy over every cell (one row: the issue says "no GC pause over 1 ms"). */
function pauseCheck(cells: readonly ProxyCellResult[], defaultClients: number): TargetCheck {
  const traced = cells.filter((c) => c.paths.oursRedis.gc !== null);
  if (traced.length === 0) return { name: 'longest GC pause, all cells', target: `≤ ${PROXY_TARGETS.maxGcPauseMs} ms`, measured: 'not measured', pass: null };
  const worst = traced.reduce((a, b) => (b.paths.oursRedis.gc!.pauseMaxMs > a.paths.oursRedis.gc!.pauseMaxMs ? b : a));
  const gcs = traced.reduce((n, c) => n + c.paths.oursRedis.gc!.young + c.paths.oursRedis.gc!.old, 0);
  const maxMs = worst.paths.oursRedis.gc!.pauseMaxMs;
  return {
    name: 'longest GC pause, all cells', target: `≤ ${PROXY_TARGETS.maxGcPauseMs} ms`,
    measured: `${fmt(maxMs, 1)} ms (${cellName(worst, defaultClients)}; ${gcs} collections in all)`,
    pass: maxMs <= PROXY_TARGETS.maxGcPauseMs,
  };
}

/** Every target this run can judge, cell by cell in run order, then the GC pause row. */
export function proxyTargetChecks(cells: readonly ProxyCellResult[], defaultClients: number): TargetCheck[] {
  const perCell = cells.flatMap((c) => {
    const name = cellName(c, defaultClients);
    return [ratioCheck(c, name), addedP99Check(c, name), cpuCheck(c, name, defaultClients), bytesCheck(c, name, defaultClients)];
  });
  return [...perCell.filter((c): c is TargetCheck => c !== null), pauseCheck(cells, defaultClients)];
}
