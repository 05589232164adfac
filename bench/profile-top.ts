// Reads a V8 .cpuprofile (node --cpu-prof) and prints the top self-time functions and the
// garbage collector's share of busy time, so every report quotes a profile the same way.
//   node dist/bench/profile-top.js FILE.cpuprofile [N]     (npm run bench:profile-top -- FILE [N])
// The bench prints the same for the profiles it asked for (BENCH_PROXY_CPU_PROF, BENCH_NODE_CPU_PROF).
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { consoleTable } from './report.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** µs since the previous sample (the first: since startTime). */
  timeDeltas: number[];
}

export interface ProfileRow {
  functionName: string;
  /** file:line (1-based), or '' for V8's own entries like (garbage collector). */
  location: string;
  selfMs: number;
  /** Share of busy time (total − idle), 0..1. */
  busyShare: number;
}

export interface ProfileTop {
  /** Time charged to samples (gaps excluded). */
  totalMs: number;
  /** Sampling gaps left out: the process was frozen (the bench SIGSTOPs idle targets) or not scheduled. */
  gapMs: number;
  idleMs: number;
  busyMs: number;
  gcMs: number;
  /** gcMs / busyMs, 0..1. */
  gcShare: number;
  rows: ProfileRow[];
}

function location(frame: ProfileNode['callFrame']): string {
  if (frame.url === '') return '';
  // Paths under the repository are what a reader looks for; keep them short.
  const path = frame.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${path}:${frame.lineNumber + 1}`;
}

/** A gap longer than this many median sampling intervals is not charged to the sample before it. */
const GAP_FACTOR = 10;

function medianDelta(deltas: readonly number[]): number {
  const positive = deltas.filter((d) => d > 0).sort((a, b) => a - b);
  return positive.length === 0 ? 0 : positive[positive.length >> 1];
}

/**
 * Self time per function (summed over its profile nodes), top `n` by self time. Pure. A sample
 * lasts until the next one (as DevTools charges it), but at most GAP_FACTOR median intervals: the
 * sampler runs all the time, idle included, so a longer gap means the process was stopped (the
 * bench freezes targets that are not being measured) and would otherwise be charged to whatever
 * ran last before the freeze.
 */
export function profileTop(profile: CpuProfile, n = 25): ProfileTop {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  const cap = GAP_FACTOR * medianDelta(profile.timeDeltas);
  let gapMicros = 0;
  let lastTimestamp = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    lastTimestamp += profile.timeDeltas[i] ?? 0;
    const raw = Math.max(0, i + 1 < profile.samples.length ? profile.timeDeltas[i + 1] : profile.endTime - lastTimestamp);
    const duration = cap > 0 ? Math.min(raw, cap) : raw;
    gapMicros += raw - duration;
    selfMicros.set(profile.samples[i], (selfMicros.get(profile.samples[i]) ?? 0) + duration);
  }
  const byFunction = new Map<string, { functionName: string; location: string; micros: number }>();
  let totalMicros = 0;
  for (const [id, micros] of selfMicros) {
    const frame = byNode.get(id)?.callFrame;
    if (frame === undefined) continue;
    totalMicros += micros;
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const loc = location(frame);
    const key = `${name}\u0000${loc}`;
    const entry = byFunction.get(key) ?? { functionName: name, location: loc, micros: 0 };
    entry.micros += micros;
    byFunction.set(key, entry);
  }
  const special = (name: string): number => [...byFunction.values()].filter((e) => e.functionName === name && e.location === '').reduce((a, e) => a + e.micros, 0);
  const idleMicros = special('(idle)');
  const busyMicros = totalMicros - idleMicros;
  const gcMicros = special('(garbage collector)');
  const rows = [...byFunction.values()]
    .filter((e) => !(e.functionName === '(idle)' && e.location === ''))
    .sort((a, b) => b.micros - a.micros)
    .slice(0, n)
    .map((e) => ({ functionName: e.functionName, location: e.location, selfMs: e.micros / 1000, busyShare: busyMicros === 0 ? 0 : e.micros / busyMicros }));
  return {
    totalMs: totalMicros / 1000, gapMs: gapMicros / 1000, idleMs: idleMicros / 1000, busyMs: busyMicros / 1000, gcMs: gcMicros / 1000,
    gcShare: busyMicros === 0 ? 0 : gcMicros / busyMicros, rows,
  };
}

export function renderProfileTop(top: ProfileTop, title: string): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const head = `${title}: ${top.totalMs.toFixed(0)} ms sampled (${top.gapMs.toFixed(0)} ms of gaps left out), ${top.busyMs.toFixed(0)} ms busy (idle ${top.idleMs.toFixed(0)} ms), ` +
    `garbage collector ${top.gcMs.toFixed(0)} ms = ${pct(top.gcShare)} of busy`;
  const rows = [['self ms', '% of busy', 'function', 'where'], ...top.rows.map((r) => [r.selfMs.toFixed(1), pct(r.busyShare), r.functionName, r.location])];
  return `${head}\n${consoleTable(rows)}\n`;
}

export async function readProfile(path: string): Promise<CpuProfile> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
    throw new Error(`${path} is not a V8 .cpuprofile (nodes, samples, timeDeltas)`);
  }
  return profile;
}

/** The pid in Node's profile file name: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile. */
export function profilePid(file: string): number | null {
  const m = /^CPU\.\d+\.\d+\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(basename(file));
  return m === null ? null : Number(m[1]);
}

/**
 * The top functions of each profile in `dir` written by one of `labels`' pids (this run's
 * processes), titled with the label; a profile that cannot be read is reported, not fatal.
 */
export async function renderProfileTops(dir: string, labels: ReadonlyMap<number, string>, n = 25): Promise<string> {
  const files = (await readdir(dir)).filter((f) => labels.has(profilePid(f) ?? -1)).sort();
  let out = `\n--- CPU profiles in ${dir} (top ${n} self time) ---\n`;
  if (files.length === 0) out += `no profile of this run's processes (${[...labels.keys()].join(', ')}) was written\n`;
  for (const f of files) {
    try {
      out += `\n${renderProfileTop(profileTop(await readProfile(join(dir, f)), n), `${labels.get(profilePid(f)!)} (${f})`)}`;
    } catch (err) {
      out += `\n${f}: ${(err as Error).message}\n`;
    }
  }
  return out;
}

async function main(argv: readonly string[]): Promise<void> {
  const [file, count] = argv;
  if (file === undefined) throw new Error('usage: node dist/bench/profile-top.js FILE.cpuprofile [N=25]');
  const n = count === undefined ? 25 : Number(count);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`N must be a positive integer, got "${count}"`);
  process.stdout.write(renderProfileTop(profileTop(await readProfile(file), n), file));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  });
}
