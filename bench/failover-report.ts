// The failover scenario's report: per-run results, medians and maxima, the issue's targets as
// pass/fail checks, and console/markdown tables. Computes nothing but summaries and formatting.
import { median } from './stats.js';
import { consoleTable, markdownTable } from './report.js';

export interface FailoverRunResult {
  /** ms from the kill to the first OK of a write to the group sent after it; null = never (within the deadline). */
  recoveryMs: number | null;
  /** ms from the kill to the store naming the new master (polled every ~10 ms), null = not seen before the first write. */
  switchedMs: number | null;
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
  /** Acknowledged keys that could not be read back (the group still down when checked), and how many of them WAIT confirmed. */
  unchecked: number;
  uncheckedWithWait: number;
  /** Errors seen by the load on the other group (should be 0). */
  otherGroupErrors: number;
  errorSamples: string[];
  /** Group 1's status and the last events when it did not take writes again, else null. */
  diagnosis: string | null;
  /** Failovers the coordinator started during the run (1 expected: the kill's). */
  failovers: number;
  /** Why the run measured nothing about failover (excluded from the summary and the checks), else null. */
  invalid: string | null;
  oldMaster: string | null;
  newMaster: string | null;
}

export interface FailoverIdleResult {
  seconds: number;
  requestsPerSecond: number;
  /** Failovers started while nothing was killed (target 0). */
  failovers: number;
  mastersChanged: boolean;
  /** What the coordinator said about each of those failovers (its failover-started events). */
  failoverEvents: string[];
  /** Error replies that stopped redis-benchmark (it was started again each time). */
  loadErrors: string[];
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
  /** loadAvg: the machine's 1-minute load average at the start and at the end (a shared machine's noise). */
  environment: { cpus: number; cpuModel: string; node: string; loadAvg?: [number, number] };
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
    /** WAIT-acknowledged keys that could not be read back: the check cannot pass while there are any. */
    uncheckedWithWaitTotal: number;
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
  allRuns: FailoverRunResult[],
  idle: FailoverIdleResult | null,
  failures: string[],
): FailoverBenchReport {
  const runs = allRuns.filter((r) => r.invalid === null);
  const recovered = runs.flatMap((r) => (r.recoveryMs === null ? [] : [r.recoveryMs]));
  const summary: FailoverBenchReport['summary'] = {
    recoveryMedianMs: medianOf(recovered),
    recoveryMaxMs: maxOf(recovered),
    failedWritesMedian: medianOf(runs.map((r) => r.failedWrites)),
    failedWritesMax: maxOf(runs.map((r) => r.failedWrites)),
    lostWithoutWaitMedian: medianOf(runs.map((r) => r.lostWithoutWait)),
    lostWithoutWaitMax: maxOf(runs.map((r) => r.lostWithoutWait)),
    lostWithWaitTotal: runs.reduce((n, r) => n + r.lostWithWait, 0),
    uncheckedWithWaitTotal: runs.reduce((n, r) => n + r.uncheckedWithWait, 0),
    waitAckedTotal: runs.reduce((n, r) => n + r.waitAcked, 0),
    otherGroupErrorsTotal: runs.reduce((n, r) => n + r.otherGroupErrors, 0),
  };
  const allRecovered = runs.length > 0 && recovered.length === runs.length;
  const checks: FailoverCheck[] = [
    { name: 'median time to writes again', target: '≤ 2000 ms', value: fmtMs(summary.recoveryMedianMs), pass: allRecovered && summary.recoveryMedianMs! <= 2000 },
    { name: 'max time to writes again', target: '≤ 3000 ms', value: allRecovered ? fmtMs(summary.recoveryMaxMs) : 'a run never recovered', pass: allRecovered && summary.recoveryMaxMs! <= 3000 },
    { name: 'acknowledged writes lost with WAIT 1', target: '0', value: `${summary.lostWithWaitTotal} of ${summary.waitAckedTotal}${summary.uncheckedWithWaitTotal > 0 ? ` (${summary.uncheckedWithWaitTotal} unchecked)` : ''}`,
      pass: summary.lostWithWaitTotal === 0 && summary.uncheckedWithWaitTotal === 0 && summary.waitAckedTotal > 0 },
  ];
  if (idle !== null) {
    checks.push({ name: `false failovers in ${idle.seconds} s of heavy load`, target: '0', value: String(idle.failovers), pass: idle.failovers === 0 && !idle.mastersChanged });
  }
  const invalid = allRuns.flatMap((r, i) => (r.invalid === null ? [] : [`run ${i + 1} excluded: ${r.invalid}`]));
  return {
    ...base, scenario: 'failover', runs: allRuns, summary, idle, checks, failures: [...failures, ...invalid],
    pass: failures.length === 0 && invalid.length === 0 && checks.every((c) => c.pass),
  };
}

function fmtMs(v: number | null): string {
  return v === null ? 'n/a' : `${Math.round(v)} ms`;
}

function runRows(report: FailoverBenchReport): string[][] {
  const rows = [['run', 'writes again after', 'store switched after', 'writes failed', 'acked (before kill)', 'lost without WAIT', 'WAIT-acked', 'lost with WAIT', 'group 2 errors']];
  report.runs.forEach((r, i) => rows.push([
    r.invalid === null ? String(i + 1) : `${i + 1} (excluded)`, fmtMs(r.recoveryMs), fmtMs(r.switchedMs), String(r.failedWrites), `${r.acked} (${r.ackedBeforeKill})`,
    `${r.lostWithoutWait}${r.unchecked > 0 ? ` (${r.unchecked} unchecked)` : ''}`, String(r.waitAcked), String(r.lostWithWait), String(r.otherGroupErrors),
  ]));
  const s = report.summary;
  const sum = (pick: (r: FailoverRunResult) => number) => String(report.runs.reduce((n, r) => n + pick(r), 0));
  rows.push(['median', fmtMs(s.recoveryMedianMs), '', String(s.failedWritesMedian ?? 'n/a'), '', String(s.lostWithoutWaitMedian ?? 'n/a'), '', '', '']);
  rows.push(['max', fmtMs(s.recoveryMaxMs), '', String(s.failedWritesMax ?? 'n/a'), '', String(s.lostWithoutWaitMax ?? 'n/a'), '', '', '']);
  rows.push(['total', '', '', sum((r) => r.failedWrites), sum((r) => r.acked), sum((r) => r.lostWithoutWait), String(s.waitAckedTotal), String(s.lostWithWaitTotal), String(s.otherGroupErrorsTotal)]);
  return rows;
}

function checkRows(report: FailoverBenchReport): string[][] {
  return [['check', 'target', 'measured', 'result'], ...report.checks.map((c) => [c.name, c.target, c.value, c.pass ? 'PASS' : 'FAIL'])];
}

function idleLine(report: FailoverBenchReport): string {
  const i = report.idle;
  if (i === null) return 'false-failover check: not run (--idle-seconds=0)';
  const errors = i.loadErrors.length === 0 ? '' : `; ${i.loadErrors.length} error replies stopped redis-benchmark (first: ${i.loadErrors[0]})`;
  const events = i.failoverEvents.length === 0 ? '' : ` (${i.failoverEvents.slice(0, 2).join('; ')})`;
  return `false-failover check: ${i.seconds} s of redis-benchmark SET -c 50 -P 16 through the proxy (${i.requestsPerSecond} requests/s), no kill: ${i.failovers} failovers${events}${i.mastersChanged ? ', a group master changed' : ''}${errors}`;
}

function settingsLine(report: FailoverBenchReport): string {
  const s = report.settings;
  return `${s.runs} runs; kill -9 of group 1's master (2 replicas) under SET load through one proxy (3 connections SET, 2 connections SET + WAIT 1 ${s.waitTimeoutMs}; group 2: 1 connection); coordinator defaults: health every ${s.healthIntervalMs} ms, down-after ${s.downAfterMs} ms`;
}

/** Failures, runs that did not recover, runs with more failovers than the kill's. */
function notesOf(report: FailoverBenchReport): string[] {
  return [
    ...report.failures,
    ...report.runs.flatMap((r, i) => (r.diagnosis === null ? [] : [`run ${i + 1} did not recover: ${r.diagnosis}`])),
    ...report.runs.flatMap((r, i) => (r.failovers === 1 ? [] : [`run ${i + 1}: ${r.failovers} failovers started during the run (1 expected)`])),
  ];
}

export function renderFailoverConsole(report: FailoverBenchReport): string {
  const notes = notesOf(report);
  const failures = notes.length === 0 ? '' : `\nfailures:\n${notes.map((f) => `  ${f}`).join('\n')}\n`;
  const load = report.environment.loadAvg === undefined ? '' : `; load average ${report.environment.loadAvg.map((l) => l.toFixed(1)).join(' → ')}`;
  return `\nfailover scenario: ${settingsLine(report)}${load}\n\n${consoleTable(runRows(report))}\n\n${idleLine(report)}\n\n${consoleTable(checkRows(report))}\n${failures}\nfailover scenario: ${report.pass ? 'PASS' : 'FAIL'}\n`;
}

export function renderFailoverMarkdown(report: FailoverBenchReport): string {
  const e = report.environment;
  const load = e.loadAvg === undefined ? '' : ` Load average ${e.loadAvg[0].toFixed(1)} at the start, ${e.loadAvg[1].toFixed(1)} at the end.`;
  return [
    `${settingsLine(report)}. ${e.cpus} CPUs (${e.cpuModel}), Node ${e.node}, file store.${load}`,
    '',
    markdownTable(runRows(report)),
    '',
    `${idleLine(report)}.`,
    '',
    markdownTable(checkRows(report)),
    ...notesOf(report).map((n, i) => `${i === 0 ? '\n' : ''}- ${n}`),
  ].join('\n');
}
