// Console and markdown tables for the replication scenario: medians over repeats with their spread,
// and ours/redis ratios. Computes nothing but summaries and formatting.
import type { KindResult } from './replication.js';
import { summarizeRuns, type RunSummary } from './replication-stats.js';
import { consoleTable, markdownTable } from './report.js';

export interface ReplicationBenchReport {
  startedAt: string;
  scenario: 'replication';
  environment: { cpus: number; cpuModel: string; node: string; redisServer: string; pinning: string };
  settings: { keys: number; repeats: number; loadSeconds: number };
  /** Candidate first, baseline second. */
  kinds: KindResult[];
  failures: string[];
}

const fmtSpread = (s: RunSummary): string => `${(s.spread * 100).toFixed(0)}%`;
const fmt = (n: number, digits: number): string => n.toFixed(digits);

/** One metric's row: median per kind, spread per kind, candidate/baseline ratio of the medians. */
function metricRow(label: string, perKind: number[][], digits: number): string[] {
  const sums = perKind.map(summarizeRuns);
  const ratio = sums.length === 2 && sums[1].median !== 0 ? fmt(sums[0].median / sums[1].median, 2) : 'n/a';
  return [label, ...sums.map((s) => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`), ratio, sums.map(fmtSpread).join(' / ')];
}

function nonNull(values: ReadonlyArray<number | null>): number[] {
  return values.flatMap((v) => (v === null ? [] : [v]));
}

export function replicationRows(report: ReplicationBenchReport): string[][] {
  const k = report.kinds;
  const header = ['metric', ...k.map((x) => `${x.name} median (min–max)`), 'ratio', 'spread'];
  const rows: string[][] = [header];
  const add = (label: string, pick: (x: KindResult) => number[], digits: number): void => {
    const perKind = k.map(pick);
    if (perKind.every((v) => v.length > 0)) rows.push(metricRow(label, perKind, digits));
  };
  add(`full resync of ${report.settings.keys} keys, s`, (x) => x.fullSync.map((r) => r.seconds), 2);
  add('lag max, bytes', (x) => x.lag.map((r) => r.maxBytes), 0);
  add('lag median, bytes', (x) => x.lag.map((r) => r.medianBytes), 0);
  add('lag max, ms', (x) => nonNull(x.lag.map((r) => r.maxMs)), 1);
  add('lag median, ms', (x) => nonNull(x.lag.map((r) => r.medianMs)), 1);
  add('replication stream, MB/s', (x) => x.lag.map((r) => r.streamBytesPerSecond / 1e6), 2);
  add('catch-up after load, ms', (x) => x.lag.map((r) => r.catchUpMs), 0);
  add('BGSAVE duration, ms', (x) => x.bgsave.map((r) => r.saveMs), 0);
  add('BGSAVE reply, ms', (x) => x.bgsave.map((r) => r.bgsaveReplyMs), 2);
  add('PING max during BGSAVE, ms', (x) => x.bgsave.map((r) => r.pingMaxMs), 2);
  add('PING p99 during BGSAVE, ms', (x) => x.bgsave.map((r) => r.pingP99Ms), 2);
  add('PING median during BGSAVE, ms', (x) => x.bgsave.map((r) => r.pingMedianMs), 3);
  add('PINGs answered during BGSAVE', (x) => x.bgsave.map((r) => r.pings), 0);
  add(`load of ${report.settings.keys} keys into master, s`, (x) => [x.loadSeconds], 2);
  return rows;
}

function failureBlock(report: ReplicationBenchReport): string {
  return report.failures.length === 0 ? '' : `\nNot measured:\n\n${report.failures.map((f) => `- ${f}`).join('\n')}\n`;
}

export function renderReplicationConsole(report: ReplicationBenchReport): string {
  const e = report.environment;
  let out = `\nreplication: ${report.kinds.map((k) => `${k.name} = ${k.description}`).join('; ')}\n`;
  out += `${e.cpus} CPUs (${e.cpuModel}); ${e.pinning}\n\n`;
  if (report.kinds.length > 0) out += `${consoleTable(replicationRows(report))}\n`;
  return out + failureBlock(report);
}

export function renderReplicationMarkdown(report: ReplicationBenchReport): string {
  const e = report.environment;
  const s = report.settings;
  let out = `Run ${report.startedAt}: ${report.kinds.map((k) => `${k.name} = \`${k.description}\``).join('; ')}. ` +
    `${e.cpus} CPUs (${e.cpuModel}), node ${e.node}, ${e.redisServer}. ${e.pinning}. ` +
    `${s.keys} keys, ${s.repeats} alternating repeats, ${s.loadSeconds} s of write load per lag run. ` +
    `Ratio = first/second median; spread = (max − min)/median per kind.\n\n`;
  if (report.kinds.length > 0) out += `${markdownTable(replicationRows(report))}\n`;
  return out + failureBlock(report);
}
