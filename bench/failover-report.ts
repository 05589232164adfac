// The failover scenario's report: per-run results, medians and maxima, the issue's targets as
// pass/fail checks, and console/markdown tables. Computes nothing but summaries and formatting.
import { median } from './stats.js';
import { consoleTable, markdownTable } from './report.js';

export interface FailoverRunResult {
  /** ms from the kill to the first OK of a write to the group sent after it; null = never (within the deadline). */
  recoveryMs: number | null;
  /** Requests to the group (SET or WAIT) that failed after the kill. */
  failedWrites: number;
  /** SETs answered OK in the run, and how many of them before the kill. */
  acked: number;
  ackedBeforeKill: number;
  /** Acknowledged SETs missing afterwards that no WAIT confirmed (asynchronous replication's loss). */
  lostWithoutWait: number;
  /** SETs whose WAIT 1 answered ≥ 1, and how many of those are missing afterwards (target 0). */
  waitAcked: number;
  lostWithWait: number;
  /** Errors seen by the load on the other group (should be 0). */
  otherGroupErrors: number;
  errorSamples: string[];
  oldMaster: string | null;
  newMaster: string | null;
}

export interface FailoverIdleResult {
  seconds: number;
  requestsPerSecond: number;
  /** Failovers started while nothing was killed (target 0). */
  failovers: number;
  mastersChanged: boolean;
}

export interface FailoverCheck {
  name: string;
  target: string;
  value: string;
  pass: boolean;
}

export interface FailoverBenchReport {
  startedAt: string;
  scenario: 'failover';
  environment: { cpus: number; cpuModel: string; node: string };
  settings: { runs: number; idleSeconds: number; waitTimeoutMs: number; downAfterMs: number; healthIntervalMs: number };
  runs: FailoverRunResult[];
  summary: {
    recoveryMedianMs: number | null;
    recoveryMaxMs: number | null;
    failedWritesMedian: number | null;
    failedWritesMax: number | null;
    lostWithoutWaitMedian: number | null;
    lostWithoutWaitMax: number | null;
    lostWithWaitTotal: number;
    waitAckedTotal: number;
    otherGroupErrorsTotal: number;
  };
  idle: FailoverIdleResult | null;
  checks: FailoverCheck[];
  pass: boolean;
  failures: string[];
}

const maxOf = (v: number[]) => (v.length === 0 ? null : Math.max(...v));
const medianOf = (v: number[]) => (v.length === 0 ? null : median(v));

/** Summary and checks against the issue's targets (median ≤ 2 s, never over 3 s, 0 lost with WAIT, 0 false failovers). */
export function buildFailoverReport(
  base: Pick<FailoverBenchReport, 'startedAt' | 'environment' | 'settings'>,
  runs: FailoverRunResult[],
  idle: FailoverIdleResult | null,
  failures: string[],
): FailoverBenchReport {
  const recovered = runs.flatMap((r) => (r.recoveryMs === null ? [] : [r.recoveryMs]));
  const summary: FailoverBenchReport['summary'] = {
    recoveryMedianMs: medianOf(recovered),
    recoveryMaxMs: maxOf(recovered),
    failedWritesMedian: medianOf(runs.map((r) => r.failedWrites)),
    failedWritesMax: maxOf(runs.map((r) => r.failedWrites)),
    lostWithoutWaitMedian: medianOf(runs.map((r) => r.lostWithoutWait)),
    lostWithoutWaitMax: maxOf(runs.map((r) => r.lostWithoutWait)),
    lostWithWaitTotal: runs.reduce((n, r) => n + r.lostWithWait, 0),
    waitAckedTotal: runs.reduce((n, r) => n + r.waitAcked, 0),
    otherGroupErrorsTotal: runs.reduce((n, r) => n + r.otherGroupErrors, 0),
  };
  const allRecovered = runs.length > 0 && recovered.length === runs.length;
  const checks: FailoverCheck[] = [
    { name: 'median time to writes again', target: '≤ 2000 ms', value: fmtMs(summary.recoveryMedianMs), pass: allRecovered && summary.recoveryMedianMs! <= 2000 },
    { name: 'max time to writes again', target: '≤ 3000 ms', value: allRecovered ? fmtMs(summary.recoveryMaxMs) : 'a run never recovered', pass: allRecovered && summary.recoveryMaxMs! <= 3000 },
    { name: 'acknowledged writes lost with WAIT 1', target: '0', value: `${summary.lostWithWaitTotal} of ${summary.waitAckedTotal}`, pass: summary.lostWithWaitTotal === 0 && summary.waitAckedTotal > 0 },
  ];
  if (idle !== null) {
    checks.push({ name: `false failovers in ${idle.seconds} s of heavy load`, target: '0', value: String(idle.failovers), pass: idle.failovers === 0 && !idle.mastersChanged });
  }
  return {
    ...base, scenario: 'failover', runs, summary, idle, checks, failures,
    pass: failures.length === 0 && checks.every((c) => c.pass),
  };
}

function fmtMs(v: number | null): string {
  return v === null ? 'n/a' : `${Math.round(v)} ms`;
}

function runRows(report: FailoverBenchReport): string[][] {
  const rows = [['run', 'writes again after', 'writes failed', 'acked (before kill)', 'lost without WAIT', 'WAIT-acked', 'lost with WAIT', 'group 2 errors']];
  report.runs.forEach((r, i) => rows.push([
    String(i + 1), fmtMs(r.recoveryMs), String(r.failedWrites), `${r.acked} (${r.ackedBeforeKill})`, String(r.lostWithoutWait),
    String(r.waitAcked), String(r.lostWithWait), String(r.otherGroupErrors),
  ]));
  const s = report.summary;
  rows.push(['median', fmtMs(s.recoveryMedianMs), String(s.failedWritesMedian ?? 'n/a'), '', String(s.lostWithoutWaitMedian ?? 'n/a'), '', '', '']);
  rows.push(['max', fmtMs(s.recoveryMaxMs), String(s.failedWritesMax ?? 'n/a'), '', String(s.lostWithoutWaitMax ?? 'n/a'), String(s.waitAckedTotal), String(s.lostWithWaitTotal), String(s.otherGroupErrorsTotal)]);
  return rows;
}

function checkRows(report: FailoverBenchReport): string[][] {
  return [['check', 'target', 'measured', 'result'], ...report.checks.map((c) => [c.name, c.target, c.value, c.pass ? 'PASS' : 'FAIL'])];
}

function idleLine(report: FailoverBenchReport): string {
  const i = report.idle;
  if (i === null) return 'false-failover check: not run (--idle-seconds=0)';
  return `false-failover check: ${i.seconds} s of redis-benchmark SET -c 50 -P 16 through the proxy (${i.requestsPerSecond} requests/s), no kill: ${i.failovers} failovers${i.mastersChanged ? ', a group master changed' : ''}`;
}

function settingsLine(report: FailoverBenchReport): string {
  const s = report.settings;
  return `${s.runs} runs; kill -9 of group 1's master (2 replicas) under SET load through one proxy (3 connections SET, 2 connections SET + WAIT 1 ${s.waitTimeoutMs}; group 2: 1 connection); coordinator defaults: health every ${s.healthIntervalMs} ms, down-after ${s.downAfterMs} ms`;
}

export function renderFailoverConsole(report: FailoverBenchReport): string {
  const failures = report.failures.length === 0 ? '' : `\nfailures:\n${report.failures.map((f) => `  ${f}`).join('\n')}\n`;
  return `\nfailover scenario: ${settingsLine(report)}\n\n${consoleTable(runRows(report))}\n\n${idleLine(report)}\n\n${consoleTable(checkRows(report))}\n${failures}\nfailover scenario: ${report.pass ? 'PASS' : 'FAIL'}\n`;
}

export function renderFailoverMarkdown(report: FailoverBenchReport): string {
  const e = report.environment;
  return [
    `${settingsLine(report)}. ${e.cpus} CPUs (${e.cpuModel}), Node ${e.node}, file store.`,
    '',
    markdownTable(runRows(report)),
    '',
    `${idleLine(report)}.`,
    '',
    markdownTable(checkRows(report)),
  ].join('\n');
}
