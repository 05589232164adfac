// Shapes benchmark results for people and files: the console table, a markdown version for
// docs/performance.md, and the JSON file. Computes nothing but ratios and formatting.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MemoryResult } from './memory.js';
import { targetCheckRows, targetSummary, type TargetCheck } from './target-checks.js';
import type { CellFailure, TestResult } from './throughput.js';
import type { ZaddBuildResult } from './zadd-build.js';

export interface BenchReport {
  startedAt: string;
  scenario: string;
  labels: { candidate: string; baseline: string };
  candidate: { name: string; description: string };
  baseline: { name: string; description: string };
  environment: { cpus: number; cpuModel: string; node: string; redisServer: string; pinning: string; loadAverage?: number[] };
  settings: { clients: number; randomKeys: number; repeats: number; targetRunSeconds: number | null; fixedRequests: number | null };
  tests: TestResult[];
  failures: CellFailure[];
  memory: MemoryResult[];
  /** The sorted-set build (zadd-build.ts), candidate and baseline; absent in older results. */
  zaddBuild?: ZaddBuildResult[];
  /** The issue's targets judged on this run (node-targets.ts). */
  targets?: TargetCheck[];
}

export const fmtRps = (n: number): string => Math.round(n).toLocaleString('en-US');
export const fmtMs = (n: number): string => n.toFixed(3);
export const fmtPercent = (n: number | null): string => (n === null ? 'n/a' : `${n.toFixed(0)}%`);
const fmtMiB = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);

/** Rows of cells for the throughput table (shared by the console and markdown renderers). */
function throughputRows(report: BenchReport): string[][] {
  const { candidate: c, baseline: b } = report.labels;
  const header = ['test', 'pipeline', `${c} rps`, `${b} rps`, `${c}/${b}`, 'best-run ratio',
    `${c} p50/p99 ms`, `${b} p50/p99 ms`, `rps spread ${c}/${b}`, `server CPU ${c}/${b}`, `server CPU µs/request ${c}/${b}`];
  const us = (n: number | null): string => (n === null ? 'n/a' : n.toFixed(2));
  const rows = report.tests.map((t) => [
    t.test, String(t.pipeline), fmtRps(t.candidate.rps), fmtRps(t.baseline.rps), t.ratio.toFixed(2), t.bestRatio.toFixed(2),
    `${fmtMs(t.candidate.p50Ms)} / ${fmtMs(t.candidate.p99Ms)}`, `${fmtMs(t.baseline.p50Ms)} / ${fmtMs(t.baseline.p99Ms)}`,
    `${(t.candidate.rpsSpread * 100).toFixed(0)}% / ${(t.baseline.rpsSpread * 100).toFixed(0)}%`,
    `${fmtPercent(t.candidate.serverCpuPercent)} / ${fmtPercent(t.baseline.serverCpuPercent)}`,
    `${us(t.candidate.serverCpuMicrosPerRequest)} / ${us(t.baseline.serverCpuMicrosPerRequest)}`,
  ]);
  return [header, ...rows];
}

/** The candidate's garbage collection per cell (GC-traced candidates only), summed over the cell's runs. */
function gcRows(report: BenchReport): string[][] | null {
  const traced = report.tests.filter((t) => t.candidate.gc !== null);
  if (traced.length === 0) return null;
  const c = report.labels.candidate;
  const header = ['test', 'pipeline', `${c} heap B/request`, `${c} scavenge-freed B/request`, `${c} GCs young+old`, `${c} GC pause total ms`, `${c} longest pause ms`];
  return [header, ...traced.map((t) => {
    const g = t.candidate.gc!;
    return [t.test, String(t.pipeline), g.allocatedBytesPerRequest.toFixed(0), g.scavengeFreedBytesPerRequest.toFixed(0), `${g.young}+${g.old}`, g.pauseTotalMs.toFixed(1), g.pauseMaxMs.toFixed(1)];
  })];
}

function zaddBuildRows(report: BenchReport): string[][] | null {
  const builds = report.zaddBuild ?? [];
  if (builds.length === 0) return null;
  return [['sorted-set build', 'members', 'builds', 'median s', 'µs/insert', 'server CPU µs/insert'],
    ...builds.map((b) => [b.target, String(b.members), String(b.runs.length), (b.microsPerInsert * b.members / 1e6).toFixed(3), b.microsPerInsert.toFixed(2), b.cpuMicrosPerInsert.toFixed(2)])];
}

/** GC, sorted-set build and targets tables, in that order, each only when this run has it. */
function extraTables(report: BenchReport, table: (rows: string[][]) => string): string {
  let out = '';
  for (const rows of [gcRows(report), zaddBuildRows(report)]) if (rows !== null) out += `\n${table(rows)}\n`;
  const targets = report.targets ?? [];
  if (targets.length > 0) out += `\nTargets (issue 11): ${targetSummary(targets)}\n\n${table(targetCheckRows(targets))}\n`;
  return out;
}

export function failureLines(report: Pick<BenchReport, 'failures'>): string {
  if (report.failures.length === 0) return '';
  return `\nNot measured:\n\n${report.failures.map((f) => `- ${f.test}${f.pipeline === null ? '' : ` -P ${f.pipeline}`}: ${f.message}`).join('\n')}\n`;
}

function memoryRows(report: BenchReport): string[][] {
  const header = ['target', 'keys', 'DBSIZE', 'RSS empty MiB', 'RSS loaded MiB', 'bytes/key', 'load s'];
  const rows = report.memory.map((m) => [
    m.target, String(m.keys), String(m.dbsize), fmtMiB(m.rssBeforeBytes), fmtMiB(m.rssAfterBytes),
    m.bytesPerKey.toFixed(0), m.loadSeconds.toFixed(2),
  ]);
  return [header, ...rows];
}

/** Left-aligns the first column, right-aligns the rest, two spaces between columns. */
export function consoleTable(rows: string[][]): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  return rows
    .map((r) => r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  '))
    .join('\n');
}

export function markdownTable(rows: string[][]): string {
  const line = (r: string[]): string => `| ${r.join(' | ')} |`;
  const align = rows[0].map((_, col) => (col === 0 ? '---' : '---:'));
  return [line(rows[0]), line(align), ...rows.slice(1).map(line)].join('\n');
}

function memoryRatioLine(report: BenchReport): string {
  const candidate = report.memory.find((m) => m.target === report.candidate.name);
  const baseline = report.memory.find((m) => m.target === report.baseline.name);
  if (candidate === undefined || baseline === undefined) return '';
  const { candidate: c, baseline: b } = report.labels;
  return `\nRSS loaded ${c}/${b}: ${(candidate.rssAfterBytes / baseline.rssAfterBytes).toFixed(2)}` +
    `; bytes/key ${c}/${b}: ${(candidate.bytesPerKey / baseline.bytesPerKey).toFixed(2)}\n`;
}

export function renderConsole(report: BenchReport): string {
  const { candidate: c, baseline: b } = report.labels;
  let out = `\n${report.scenario}: ${c} = ${report.candidate.description}; ${b} = ${report.baseline.description}\n`;
  out += `${report.environment.cpus} CPUs (${report.environment.cpuModel}); ${report.environment.pinning}\n\n`;
  if (report.tests.length > 0) out += `${consoleTable(throughputRows(report))}\n`;
  out += failureLines(report);
  if (report.memory.length > 0) out += `\n${consoleTable(memoryRows(report))}\n${memoryRatioLine(report)}`;
  return out + extraTables(report, consoleTable);
}

/** The block to paste under "Results" in docs/performance.md. */
export function renderMarkdown(report: BenchReport): string {
  const s = report.settings;
  const requests = s.fixedRequests !== null ? `${s.fixedRequests} requests per run` : `requests per run sized for ~${s.targetRunSeconds} s on the baseline`;
  const { candidate: c, baseline: b } = report.labels;
  let out = `Run ${report.startedAt}: ${c} = ${report.candidate.description}; ${b} = ${report.baseline.description}. ` +
    `${report.environment.cpus} CPUs (${report.environment.cpuModel}), node ${report.environment.node}, ${report.environment.redisServer}. ` +
    `${report.environment.pinning}. -c ${s.clients}, -r ${s.randomKeys}, ${requests}, median of ${s.repeats} alternating runs.` +
    `${report.environment.loadAverage === undefined ? '' : ` Load average ${report.environment.loadAverage.map((l) => l.toFixed(2)).join(' ')} at the end.`}\n\n`;
  if (report.tests.length > 0) out += `${markdownTable(throughputRows(report))}\n`;
  out += failureLines(report);
  if (report.memory.length > 0) out += `\n${markdownTable(memoryRows(report))}\n${memoryRatioLine(report)}`;
  return out + extraTables(report, markdownTable);
}

export async function writeJson(path: string, report: object): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}
