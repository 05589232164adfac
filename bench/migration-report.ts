// The migration scenario's report: the issue's targets judged pass/fail, a console version and a
// markdown block for docs/performance.md. Computes nothing but ratios and formatting.
import { consoleTable, markdownTable } from './report.js';
import { CODIS_ELEMENTS, CODIS_KEYS, type MigrationResult } from './migration-scenario.js';

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  /** null: not applicable to this run (the Codis target on other sizes). */
  pass: boolean | null;
}

export interface MigrationBenchReport {
  startedAt: string;
  scenario: 'migration';
  result: MigrationResult;
  targets: TargetCheck[];
}

/** The issue's anchors for the Codis-sized case, measured on this machine by the issue's author. */
export const ANCHORS = { redisClusterReshardSeconds: 8.4, codisSeconds: 10.4, targetSeconds: 5 };
const P99_FACTOR = 3;

const ms = (n: number): string => n.toFixed(2);
const s2 = (n: number | null): string => (n === null ? 'n/a' : n.toFixed(2));

export function isCodisSized(r: MigrationResult): boolean {
  const d = r.settings.data;
  return r.settings.preset === 'codis' && d.keys === CODIS_KEYS && d.elements === CODIS_ELEMENTS && d.moved.to - d.moved.from + 1 === 512;
}

export function migrationTargets(r: MigrationResult): TargetCheck[] {
  const c = r.check;
  const { idle, during } = r.probe;
  const ratio = idle.p99Ms > 0 ? during.p99Ms / idle.p99Ms : Infinity;
  const codis = isCodisSized(r);
  const lost = c.counters.lost + c.missing + c.wrongValues;
  return [
    { name: 'client errors', target: '0', measured: String(r.clientErrors.count), pass: r.clientErrors.count === 0 },
    {
      name: 'lost writes', target: '0',
      measured: `${c.counters.lost} INCRs lost, ${c.counters.extra} extra; ${c.missing} keys missing, ${c.wrongValues} wrong values`,
      pass: lost === 0 && c.counters.extra === 0,
    },
    {
      name: 'correctness check', target: 'every key once, with its value',
      measured: `${c.keysOk}/${c.keys} keys, ${c.bigKeys.filter((b) => b.ok).length}/${c.bigKeys.length} big keys whole, counters ${c.counters.stored}/${c.counters.acked}, replicas ${c.replicasInSync ? 'in sync' : 'NOT in sync'}`,
      pass: c.ok,
    },
    {
      name: 'probe p99 during the move', target: `≤ ${P99_FACTOR}× idle`,
      measured: `${ms(during.p99Ms)} ms vs ${ms(idle.p99Ms)} ms idle (${ratio.toFixed(2)}×)`,
      pass: during.samples > 0 && idle.samples > 0 && ratio <= P99_FACTOR,
    },
    {
      name: 'Codis-sized case moved', target: `≤ ${ANCHORS.targetSeconds} s (Redis Cluster reshard ${ANCHORS.redisClusterReshardSeconds} s, Codis ${ANCHORS.codisSeconds} s)`,
      measured: codis
        ? `${s2(r.move.seconds)} s (${(ANCHORS.redisClusterReshardSeconds / r.move.seconds).toFixed(2)}× Redis Cluster's speed, ${(ANCHORS.codisSeconds / r.move.seconds).toFixed(2)}× Codis's)`
        : 'n/a (not the Codis-sized case: run with --codis and no --keys/--elements)',
      pass: codis ? r.move.seconds <= ANCHORS.targetSeconds : null,
    },
  ];
}

const verdict = (p: boolean | null): string => (p === null ? 'n/a' : p ? 'PASS' : 'FAIL');

function describe(r: MigrationResult): string {
  const d = r.settings.data;
  const e = r.environment;
  const what = `${d.keys.toLocaleString('en-US')} string keys of ${d.valueBytes} bytes ${d.keysInMovedSlots ? `all in slots ${d.moved.from}-${d.moved.to}` : 'spread over all 1024 slots'}` +
    ` (${r.load.keysInMovedSlots.toLocaleString('en-US')} in the moved slots), plus ${d.bigTypes.map((t) => `a ${t}`).join(', ')} of ${d.elements.toLocaleString('en-US')} elements each in moved slots`;
  return `preset ${r.settings.preset}, ${r.settings.store} store: ${what}; slots ${d.moved.from}-${d.moved.to} (${d.moved.to - d.moved.from + 1}) moved from group 1 to group 2 ` +
    `while a probe (GET/SET in turn, ${r.settings.probeRatePerSecond}/s, one at a time, through proxy 1) and INCRs on ${d.counters} counters ` +
    `(${r.settings.incrRatePerProxy}/s through each of the 2 proxies) run. Commit ${e.commit}; ${e.cpus} CPUs (${e.cpuModel}), node ${e.node}; ${e.pinning}; ` +
    `load average ${e.loadAverageBefore.toFixed(2)} before, ${e.loadAverageAfter.toFixed(2)} after.`;
}

function moveRows(r: MigrationResult): string[][] {
  const m = r.move;
  return [
    ['metric', 'value'],
    ['move duration (request → done), s', s2(m.seconds)],
    ['slots moved', String(m.slots)],
    ['keys moved (in the moved slots)', m.keysMoved.toLocaleString('en-US')],
    ['data moved (key names + values), MB', (m.bytesMoved / 1e6).toFixed(1)],
    ['keys / payload MB the coordinator counted', `${m.coordinator.keysMoved.toLocaleString('en-US')} / ${(m.coordinator.bytesMoved / 1e6).toFixed(1)}`],
    ['keys/s', Math.round(m.keysPerSecond).toLocaleString('en-US')],
    ['MB/s', m.megabytesPerSecond.toFixed(1)],
    ['epochs (batched slot-state steps)', String(m.epochs)],
    ['all slots prepared after, s', s2(m.preparedAfterSeconds)],
    ['all slots emptied after, s', s2(m.emptiedAfterSeconds)],
    ['source moving a big key, s (polled)', s2(m.bigKeySeconds)],
    ['acknowledged INCRs (all; rate during the move)', `${r.incr.acked.toLocaleString('en-US')} (${Math.round(r.incr.perSecond)}/s)`],
    ['load (pipelined into the masters), s', s2(r.load.seconds)],
  ];
}

function probeRows(r: MigrationResult): string[][] {
  const row = (name: string, p: MigrationResult['probe']['idle']): string[] =>
    [name, String(p.samples), ms(p.p50Ms), ms(p.p99Ms), ms(p.maxMs), String(p.over50Ms)];
  return [['probe', 'requests', 'p50 ms', 'p99 ms', 'max ms', '> 50 ms'], row('idle (before)', r.probe.idle), row('during the move', r.probe.during)];
}

function cpuRows(r: MigrationResult): string[][] {
  return [['process', 'CPU s during the move', 'CPU % of the move'], ...r.cpu.map((p) => [p.name, p.seconds.toFixed(2), `${p.percent.toFixed(0)}%`])];
}

/** Where the probe's requests over 3 × idle p99 waited (migration-attribution.ts). */
function attributionText(r: MigrationResult): string {
  const a = r.attribution;
  const head = `Probe requests during the move over ${ms(a.thresholdMs)} ms (3 × idle p99): ${a.over} of ${a.requests} ` +
    `(${((100 * a.over) / Math.max(1, a.requests)).toFixed(2)}%; p99 passes while this is under 1%).`;
  const l = a.locks;
  const locks = l === null ? '' : `\nSource mover: ${l.batches} small-key batches, each holding its keys locked p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms ` +
    `(1 ms buckets); ${(100 * l.lockedShare).toFixed(2)}% of the moved keys were locked at a random moment of the move (a request on one waits for its batch).`;
  const causes = [['slow requests by what dominated them', 'requests', 'ms'], ...a.causes.map((c) => [c.cause, String(c.requests), String(c.ms)])];
  const procs = [['process (main thread)', 'ran, share of the slow requests\' time', 'waited for a CPU, share', 'ran, share over all requests of the move'],
    ...a.processes.map((p) => [p.name, `${(100 * p.runShare).toFixed(0)}%`, `${(100 * p.waitShare).toFixed(0)}%`, `${(100 * p.baselineRunShare).toFixed(0)}%`])];
  if (!a.sampled) return `${head}${locks}\n(What the slow requests waited for is sampled with --attribute only: the sampling costs the harness ~9% of a CPU.)\n`;
  return `${head}${locks}\n\n${markdownTable(causes)}\n\n${markdownTable(procs)}\n`;
}

function targetRows(targets: readonly TargetCheck[]): string[][] {
  return [['target', 'wanted', 'measured', 'result'], ...targets.map((t) => [t.name, t.target, t.measured, verdict(t.pass)])];
}

function problems(r: MigrationResult): string {
  const lines = [...r.clientErrors.first.map((e) => `client error: ${e}`), ...r.check.samples.map((s) => `check: ${s}`), ...r.move.errors.map((e) => `mover: ${e}`)];
  return lines.length === 0 ? '' : `\nProblems seen (first few):\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`;
}

export function renderMigrationConsole(report: MigrationBenchReport): string {
  const r = report.result;
  return `\nmigration: ${describe(r)}\n\n${consoleTable(moveRows(r))}\n\n${consoleTable(probeRows(r))}\n\n${consoleTable(cpuRows(r))}\n\n` +
    `${attributionText(r)}\n${consoleTable(targetRows(report.targets))}\n${problems(r)}`;
}

export function renderMigrationMarkdown(report: MigrationBenchReport): string {
  const r = report.result;
  return `Run ${report.startedAt}: ${describe(r)}\n\n${markdownTable(moveRows(r))}\n\n${markdownTable(probeRows(r))}\n\n${markdownTable(cpuRows(r))}\n\n` +
    `${attributionText(r)}\n${markdownTable(targetRows(report.targets))}\n${problems(r)}`;
}
