// Shapes the proxy scenario's results for people: a throughput table (rps, ratios, the issue's
// goal) and a latency/CPU table (p50/p99, added p99, where CPU went), as console text and markdown.
import type { CellFailure } from './throughput.js';
import { PROXY_PATH_LABELS, PROXY_PATHS, type ProxyPath } from './proxy-scenario.js';
import type { ProxyCellResult } from './proxy-throughput.js';
import { consoleTable, failureLines, fmtMs, fmtPercent, fmtRps, markdownTable, type BenchReport } from './report.js';

export interface ProxyBenchReport {
  startedAt: string;
  scenario: 'proxy';
  paths: Record<ProxyPath, { label: string; description: string }>;
  environment: BenchReport['environment'] & { nutcracker: string };
  settings: BenchReport['settings'];
  tests: ProxyCellResult[];
  failures: CellFailure[];
}

const PROXIES_WITH_CPU: readonly ProxyPath[] = ['oursRedis', 'twemproxy', 'oursNodes'];
const fmtRatio = (n: number): string => n.toFixed(2);
const fmtSignedMs = (n: number): string => `${n >= 0 ? '+' : ''}${n.toFixed(3)}`;

function goalCell(t: ProxyCellResult): string {
  const goal = t.comparison.goal;
  if (goal === null) return '—';
  return `≥ ${goal.minRatio.toFixed(1)}: ${goal.met ? 'met' : 'MISSED'}`;
}

export function proxyThroughputRows(report: ProxyBenchReport): string[][] {
  const header = ['test', 'pipeline', ...PROXY_PATHS.map((p) => `${PROXY_PATH_LABELS[p]} rps`),
    'ours/twemproxy', 'best-run ratio', 'goal', 'ours/direct', 'twemproxy/direct', 'nodes/redis behind ours',
    `rps spread ${PROXY_PATHS.map((p) => PROXY_PATH_LABELS[p]).join(' / ')}`];
  const rows = report.tests.map((t) => [
    t.test, String(t.pipeline), ...PROXY_PATHS.map((p) => fmtRps(t.paths[p].rps)),
    fmtRatio(t.comparison.oursVsTwemproxy), fmtRatio(t.comparison.oursVsTwemproxyBestRun), goalCell(t),
    fmtRatio(t.comparison.oursVsDirect), fmtRatio(t.comparison.twemproxyVsDirect), fmtRatio(t.comparison.nodesVsRedisBehindOurs),
    PROXY_PATHS.map((p) => `${(t.paths[p].rpsSpread * 100).toFixed(0)}%`).join(' / '),
  ]);
  return [header, ...rows];
}

export function proxyLatencyRows(report: ProxyBenchReport): string[][] {
  const header = ['test', 'pipeline', ...PROXY_PATHS.map((p) => `${PROXY_PATH_LABELS[p]} p50/p99 ms`),
    'added p99 ms ours / twemproxy',
    `proxy CPU ${PROXIES_WITH_CPU.map((p) => PROXY_PATH_LABELS[p]).join(' / ')}`,
    `backend CPU ${PROXIES_WITH_CPU.map((p) => PROXY_PATH_LABELS[p]).join(' / ')} / direct`,
    `proxy CPU µs/request ${PROXIES_WITH_CPU.map((p) => PROXY_PATH_LABELS[p]).join(' / ')}`];
  const rows = report.tests.map((t) => [
    t.test, String(t.pipeline), ...PROXY_PATHS.map((p) => `${fmtMs(t.paths[p].p50Ms)} / ${fmtMs(t.paths[p].p99Ms)}`),
    `${fmtSignedMs(t.comparison.addedP99Ms.ours)} / ${fmtSignedMs(t.comparison.addedP99Ms.twemproxy)}`,
    PROXIES_WITH_CPU.map((p) => fmtPercent(t.paths[p].serverCpuPercent)).join(' / '),
    // The direct path's server CPU is its backend's CPU.
    [...PROXIES_WITH_CPU.map((p) => fmtPercent(t.paths[p].backendCpuPercent)), fmtPercent(t.paths.direct.serverCpuPercent)].join(' / '),
    [t.comparison.proxyCpuMicrosPerRequest.ours, t.comparison.proxyCpuMicrosPerRequest.twemproxy, t.comparison.proxyCpuMicrosPerRequest.oursNodes]
      .map((us) => (us === null ? 'n/a' : us.toFixed(1))).join(' / '),
  ]);
  return [header, ...rows];
}

function pathLegend(report: ProxyBenchReport): string {
  return PROXY_PATHS.map((p) => `- ${report.paths[p].label}: ${report.paths[p].description}`).join('\n');
}

export function renderProxyConsole(report: ProxyBenchReport): string {
  let out = `\nproxy scenario\n${pathLegend(report)}\n`;
  out += `${report.environment.cpus} CPUs (${report.environment.cpuModel}); ${report.environment.pinning}\n\n`;
  if (report.tests.length > 0) out += `${consoleTable(proxyThroughputRows(report))}\n\n${consoleTable(proxyLatencyRows(report))}\n`;
  return out + failureLines(report);
}

/** The block to paste under the proxy section of docs/performance.md. */
export function renderProxyMarkdown(report: ProxyBenchReport): string {
  const s = report.settings;
  const requests = s.fixedRequests !== null ? `${s.fixedRequests} requests per run` : `requests per run sized for ~${s.targetRunSeconds} s on twemproxy`;
  const e = report.environment;
  let out = `Run ${report.startedAt}: ${e.cpus} CPUs (${e.cpuModel}), node ${e.node}, ${e.redisServer}, ${e.nutcracker}. ` +
    `${e.pinning}. -c ${s.clients}, -r ${s.randomKeys}, ${requests}, median of ${s.repeats} rounds alternating the four paths.\n\n` +
    `${pathLegend(report)}\n\n`;
  if (report.tests.length > 0) out += `${markdownTable(proxyThroughputRows(report))}\n\n${markdownTable(proxyLatencyRows(report))}\n`;
  return out + failureLines(report);
}
