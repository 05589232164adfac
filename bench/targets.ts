// What the harness can benchmark: a Target starts one server (or a set of processes behind one port)
// and returns a handle to stop it. The command line for "ours" lives here and only here.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gcTraceFlags, GcMonitor } from './gc-monitor.js';
import { freePort, waitForPong } from './net-util.js';
import { spawnManaged, type ManagedProcess } from './processes.js';

export interface StartOptions {
  /** CPU to pin the server processes to (`taskset -c`), or undefined for no pinning. */
  cpu?: number;
  /** Node targets only: write a V8 CPU profile into this directory on exit (BENCH_NODE_CPU_PROF). */
  cpuProfileDir?: string;
  /** Node targets only: run under --trace-gc-nvp with bench/heap-probe.ts and watch its GC (gc-monitor.ts). */
  gcTrace?: boolean;
}

export interface RunningTarget {
  readonly port: number;
  /** Pids whose RSS counts as this target's memory (a proxy scenario lists proxy + backends). */
  readonly pids: readonly number[];
  /** Processes behind a proxy target (its backends), measured separately: shows where CPU went. */
  readonly backendPids?: readonly number[];
  /**
   * True when `pids` may be frozen (SIGSTOP) while other targets are measured, so an idle
   * process's timers never steal the measured one's core. Never set on a shared backend.
   */
  readonly freezeWhenIdle?: boolean;
  /** Set when the target runs with gcTraceFlags(): marks around each run measure its GC and allocation. */
  readonly gc?: GcMonitor;
  stop(): Promise<void>;
}

export interface Target {
  /** Short label used in tables and JSON, e.g. "tessera-node" or "redis-server". */
  readonly name: string;
  /** One line for the report: what exactly runs. */
  readonly description: string;
  start(opts: StartOptions): Promise<RunningTarget>;
}

const READY_DEADLINE_MS = 15_000;

/** The repository root: the nearest ancestor of this file holding package.json (works from dist/ and from source). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above bench/');
    dir = parent;
  }
  return dir;
}

/** Persistence off on every target: we measure command handling, not disk. */
const NO_PERSISTENCE = ['--save', '', '--appendonly', 'no'];

/**
 * Node's own flags for a measured Node process (before the script): a CPU profile written into
 * `cpuProfileDir` on exit (Node refuses --cpu-prof in NODE_OPTIONS, so it has to be a flag), and
 * the GC trace + heap probe.
 */
export function nodeFlags(opts: { cpuProfileDir?: string; gcTrace?: boolean }): string[] {
  const profile = opts.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`];
  return [...profile, ...(opts.gcTrace === true ? gcTraceFlags(repoRoot()) : [])];
}

/**
 * SIGTERM → SIGKILL grace for a Node target: a profiled process writes its .cpuprofile while it
 * exits, which on a loaded machine can take longer than the default 3 s (SIGKILL would lose it).
 */
export function stopGraceMs(cpuProfileDir: string | undefined): number {
  return cpuProfileDir === undefined ? 3000 : 30_000;
}

/** Our node's command line for a given port: the single place to change when the CLI changes. */
export function tesseraNodeCommand(port: number, opts: { cpuProfileDir?: string; gcTrace?: boolean } = {}): { file: string; args: string[] } {
  return {
    file: process.execPath,
    args: [...nodeFlags(opts), join(repoRoot(), 'bin', 'tessera'), 'node', '--port', String(port), ...NO_PERSISTENCE, '--bind', '127.0.0.1'],
  };
}

function redisServerCommand(port: number): { file: string; args: string[] } {
  return { file: 'redis-server', args: ['--port', String(port), ...NO_PERSISTENCE, '--bind', '127.0.0.1'] };
}

/** Starts one process listening on a fresh port and waits until it answers PING. */
async function startSingleProcess(
  command: (port: number) => { file: string; args: string[] },
  opts: StartOptions,
  gc?: GcMonitor,
): Promise<RunningTarget> {
  const port = await freePort();
  const { file, args } = command(port);
  const proc: ManagedProcess = spawnManaged(file, args, { cpu: opts.cpu, cwd: repoRoot(), onStdoutLine: gc?.onLine });
  try {
    await waitForPong(port, READY_DEADLINE_MS, () => proc.hasExited());
    // The probe prints its first mark before the script runs: no mark by now means it did not load.
    if (gc !== undefined && gc.probed([proc.pid]).length === 0) throw new Error('the heap probe (dist/bench/heap-probe.js) did not announce itself');
  } catch (err) {
    await proc.stop();
    throw new Error(`${proc.command} did not start: ${(err as Error).message}\n${proc.outputTail()}`);
  }
  return { port, pids: [proc.pid], gc, stop: () => proc.stop(stopGraceMs(opts.cpuProfileDir)) };
}

export const redisServerTarget: Target = {
  name: 'redis-server',
  description: 'redis-server (system build) --save "" --appendonly no',
  start: (opts) => startSingleProcess(redisServerCommand, opts),
};

export const tesseraNodeTarget: Target = {
  name: 'tessera-node',
  description: 'node bin/tessera node --save "" --appendonly no',
  start: (opts) => startSingleProcess((port) => tesseraNodeCommand(port, opts), opts, opts.gcTrace === true ? new GcMonitor() : undefined),
};

/**
 * A second redis-server labelled as the candidate: lets the harness be exercised (and its
 * noise floor measured — the ratio should be ~1.0) before our node exists.
 */
export const redisStandInTarget: Target = {
  name: 'redis-server (stand-in for ours)',
  description: 'redis-server standing in for the candidate (harness check, ratio ≈ 1 expected)',
  start: (opts) => startSingleProcess(redisServerCommand, opts),
};

/** Fails early with a useful message when our CLI has not been built/written yet. */
export function assertTesseraCliExists(): void {
  const cli = join(repoRoot(), 'bin', 'tessera');
  if (!existsSync(cli)) {
    throw new Error(`${cli} not found. Run with --ours=redis-server to exercise the harness with a stand-in.`);
  }
}
