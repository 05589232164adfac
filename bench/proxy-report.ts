// Shapes the proxy scenario's results for people: a throughput table (rps, ratios, the issue's
// goal) and a latency/CPU table (p50/p99, added p99, where CPU went), as console text and markdown.
import type { CellFailure } from './throughput.js';
import { PROXY_PATH_LABELS, PROXY_PATHS, type ProxyPath } from './proxy-scenario.js';
import type { ProxyCellResult } from './proxy-throughput.js';
import { consoleTable, failureLines, fmtMs, fmtPercent, fmtRps, markdownTable, type BenchReport } from './report.js';
import type { GcSummary } from './stats.js';
import { targetCheckRows, targetSummary, type TargetCheck } from './target-checks.js';

export interface ProxyBenchReport {
  startedAt: string;
  scenario: 'proxy';
  paths: Record<ProxyPath, { label: string; description: string }>;
  environment: BenchReport['environment'] & { nutcracker: string; loadAverage?: number[] };
  settings: BenchReport['settings'] & { manyClients?: number; proxyWorkers?: number | null; keyspaceKeys?: number };
  tests: ProxyCellResult[];
  failures: CellFailure[];
  /** The targets judged on this run (proxy-targets.ts). */
  targets?: TargetCheck[];
}

const PROXIES_WITH_CPU: readonly ProxyPath[] = ['oursRedis', 'twemproxy', 'oursNodes'];
const fmtRatio = (n: number): string => n.toFixed(2);
const fmtSignedMs = (n: number): string => `${n >= 0 ? '+' : ''}${n.toFixed(3)}`;

function goalCell(t: ProxyCellResult): string {
  const goal = t.comparison.goal;
  if (goal === null) return '—';
  return `≥ ${goal.minRatio.toFixed(1)}: ${goal.met ? 'met' : 'MISSED'}`;
}

/** The GC-traced proxies: ours over redis and ours over our nodes. */
const OURS: readonly ProxyPath[] = ['oursRedis', 'oursNodes'];
const oursLabels = OURS.map((p) => PROXY_PATH_LABELS[p]).join(' / ');

export function proxyThroughputRows(report: ProxyBenchReport): string[][] {
  const header = ['test', 'pipeline', 'clients', ...PROXY_PATHS.map((p) => `${PROXY_PATH_LABELS[p]} rps`),
    'ours/twemproxy', 'best-run ratio', 'goal', 'ours/direct', 'twemproxy/direct', 'nodes/redis behind ours',
    `rps spread ${PROXY_PATHS.map((p) => PROXY_PATH_LABELS[p]).join(' / ')}`];
  const rows = report.tests.map((t) => [
    t.test, String(t.pipeline), String(t.clients), ...PROXY_PATHS.map((p) => fmtRps(t.paths[p].rps)),
    fmtRatio(t.comparison.oursVsTwemproxy), fmtRatio(t.comparison.oursVsTwemproxyBestRun), goalCell(t),
    fmtRatio(t.comparison.oursVsDirect), fmtRatio(t.comparison.twemproxyVsDirect), fmtRatio(t.comparison.nodesVsRedisBehindOurs),
    PROXY_PATHS.map((p) => `${(t.paths[p].rpsSpread * 100).toFixed(0)}%`).join(' / '),
  ]);
  return [header, ...rows];
}

export function proxyLatencyRows(report: ProxyBenchReport): string[][] {
  const header = ['test', 'pipeline', 'clients', ...PROXY_PATHS.map((p) => `${PROXY_PATH_LABELS[p]} p50/p99 ms`),
    'added p50 ms ours / twemproxy', 'added p99 ms ours / twemproxy',
    `proxy CPU ${PROXIES_WITH_CPU.map((p) => PROXY_PATH_LABELS[p]).join(' / ')}`,
    `backend CPU ${PROXIES_WITH_CPU.map((p) => PROXY_PATH_LABELS[p]).join(' / ')} / direct`,
    `proxy CPU µs/request ${PROXIES_WITH_CPU.map((p) => PROXY_PATH_LABELS[p]).join(' / ')}`];
  const rows = report.tests.map((t) => [
    t.test, String(t.pipeline), String(t.clients), ...PROXY_PATHS.map((p) => `${fmtMs(t.paths[p].p50Ms)} / ${fmtMs(t.paths[p].p99Ms)}`),
    `${fmtSignedMs(t.comparison.addedP50Ms.ours)} / ${fmtSignedMs(t.comparison.addedP50Ms.twemproxy)}`,
    `${fmtSignedMs(t.comparison.addedP99Ms.ours)} / ${fmtSignedMs(t.comparison.addedP99Ms.twemproxy)}`,
    PROXIES_WITH_CPU.map((p) => fmtPercent(t.paths[p].serverCpuPercent)).join(' / '),
    // The direct path's server CPU is its backend's CPU.
    [...PROXIES_WITH_CPU.map((p) => fmtPercent(t.paths[p].backendCpuPercent)), fmtPercent(t.paths.direct.serverCpuPercent)].join(' / '),
    [t.comparison.proxyCpuMicrosPerRequest.ours, t.comparison.proxyCpuMicrosPerRequest.twemproxy, t.comparison.proxyCpuMicrosPerRequest.oursNodes]
      .map((us) => (us === null ? 'n/a' : us.toFixed(2))).join(' / '),
  ]);
  return [header, ...rows];
}

const gcCell = (gc: GcSummary | null, f: (g: GcSummary) => string): string => (gc === null ? 'n/a' : f(gc));

/** Our proxies' garbage collection per cell, summed over the cell's runs (see docs/performance.md, Method). */
export function proxyGcRows(report: ProxyBenchReport): string[][] {
  const header = ['test', 'pipeline', 'clients', `heap B/request ${oursLabels}`, `scavenge-freed B/request ${oursLabels}`,
    `GCs young+old ${oursLabels}`, `GC pause total ms ${oursLabels}`, `longest pause ms ${oursLabels}`];
  const per = (t: ProxyCellResult, f: (g: GcSummary) => string): string => OURS.map((p) => gcCell(t.paths[p].gc, f)).join(' / ');
  const rows = report.tests.map((t) => [
    t.test, String(t.pipeline), String(t.clients),
    per(t, (g) => g.allocatedBytesPerRequest.toFixed(0)),
    per(t, (g) => g.scavengeFreedBytesPerRequest.toFixed(0)),
    per(t, (g) => `${g.young}+${g.old}`),
    per(t, (g) => g.pauseTotalMs.toFixed(1)),
    per(t, (g) => g.pauseMaxMs.toFixed(1)),
  ]);
  return [header, ...rows];
}

function targetsBlock(report: ProxyBenchReport, table: (rows: string[][]) => string): string {
  const targets = report.targets ?? [];
  if (targets.length === 0) return '';
  return `\nTargets (issue 11), ours→redis: ${targetSummary(targets)}\n\n${table(targetCheckRows(targets))}\n`;
}

function tables(report: ProxyBenchReport, table: (rows: string[][]) => string): string {
  if (report.tests.length === 0) return '';
  return `${table(proxyThroughputRows(report))}\n\n${table(proxyLatencyRows(report))}\n\n${table(proxyGcRows(report))}\n${targetsBlock(report, table)}`;
}

function pathLegend(report: ProxyBenchReport): string {
  return PROXY_PATHS.map((p) => `- ${report.paths[p].label}: ${report.paths[p].description}`).join('\n');
}

export function renderProxyConsole(report: ProxyBenchReport): string {
  let out = `\nproxy scenario\n${pathLegend(report)}\n`;
  out += `${report.environment.cpus} CPUs (${report.environment.cpuModel}); ${report.environment.pinning}\n\n`;
  out += tables(report, consoleTable);
  return out + failureLines(report);
}

/** The block to paste under the proxy section of docs/performance.md. */
export function renderProxyMarkdown(report: ProxyBenchReport): string {
  const s = report.settings;
  const requests = s.fixedRequests !== null ? `${s.fixedRequests} requests per run` : `requests per run sized for ~${s.targetRunSeconds} s on twemproxy`;
  const e = report.environment;
  const many = s.manyClients ? ` (${s.manyClients} for the GET/SET -P 1 check rows)` : '';
  const workers = s.proxyWorkers ? ` Our proxies ran with --workers ${s.proxyWorkers} (CPU summed over primary + workers).` : '';
  const load = e.loadAverage === undefined ? '' : ` Load average ${e.loadAverage.map((l) => l.toFixed(2)).join(' ')} at the end.`;
  let out = `Run ${report.startedAt}: ${e.cpus} CPUs (${e.cpuModel}), node ${e.node}, ${e.redisServer}, ${e.nutcracker}. ` +
    `${e.pinning}. -c ${s.clients}${many}, -r ${s.randomKeys}, ${requests}, median of ${s.repeats} rounds alternating the four paths; ` +
    `GET-miss on emptied backends, then every backend filled with all ${s.keyspaceKeys ?? s.randomKeys} keys.${workers}${load}\n\n` +
    `${pathLegend(report)}\n\n`;
  out += tables(report, markdownTable);
  return out + failureLines(report);
}
