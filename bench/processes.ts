// Spawns the benchmark's child processes (optionally CPU-pinned) and guarantees they all stop:
// on normal completion, on failure, on Ctrl-C/SIGTERM, and (last resort, SIGKILL) on process exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface ManagedProcess {
  readonly pid: number;
  readonly command: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  /** Last few KB of stdout+stderr, for error messages when a process dies early. */
  outputTail(): string;
  /** All of stdout, when spawned with `captureStdout` (for short-lived tools whose output we parse). */
  stdout(): string;
  /** SIGTERM, then SIGKILL if it is still alive after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_TAIL_BYTES = 4096;
const live = new Set<ManagedProcess>();
const children = new Map<ManagedProcess, ChildProcess>();

/** True when `taskset` exists and the machine has the CPU we want to pin to. */
export function canPinTo(cpu: number, cpuCount: number): boolean {
  return cpu < cpuCount && (existsSync('/usr/bin/taskset') || existsSync('/bin/taskset'));
}

/**
 * Starts `file args…`, wrapped in `taskset -c <cpu>` when `cpu` is given. taskset execs the
 * target in place, so the returned pid is the real server's pid (needed for /proc/<pid>/status).
 */
export function spawnManaged(
  file: string,
  args: readonly string[],
  opts: { cpu?: number; cwd?: string; captureStdout?: boolean; onStdoutLine?: (line: string) => void } = {},
): ManagedProcess {
  const [cmd, argv] = opts.cpu === undefined ? [file, [...args]] : ['taskset', ['-c', String(opts.cpu), file, ...args]];
  const child = spawn(cmd, argv, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${file}`);
  const pid = child.pid;
  let tail = '';
  const keepTail = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  const stdoutChunks: Buffer[] = [];
  child.stdout?.on('data', keepTail);
  if (opts.captureStdout) child.stdout?.on('data', (chunk: Buffer) => stdoutChunks.push(chunk));
  if (opts.onStdoutLine !== undefined) child.stdout?.on('data', lineSplitter(opts.onStdoutLine));
  child.stderr?.on('data', keepTail);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    // 'close' (not 'exit') so stdout is fully read before anyone parses it.
    child.once('close', (code, signal) => {
      done = true;
      live.delete(managed);
      children.delete(managed);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (err) => {
      keepTail(Buffer.from(String(err)));
    });
  });
  const managed: ManagedProcess = {
    pid,
    command: [file, ...args].join(' '),
    exited,
    hasExited: () => done,
    outputTail: () => tail,
    stdout: () => Buffer.concat(stdoutChunks).toString('utf8'),
    async stop(graceMs = 3000) {
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(managed);
  children.set(managed, child);
  return managed;
}

/** Longest partial line kept between chunks; a longer one is dropped (no trace line is that long). */
const MAX_PARTIAL_LINE = 64 * 1024;

/** A 'data' listener that calls `onLine` with each complete line (without the newline). */
export function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let partial = '';
  return (chunk) => {
    const text = partial + chunk.toString('utf8');
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      onLine(text.slice(start, end));
      start = end + 1;
    }
    partial = text.length - start > MAX_PARTIAL_LINE ? '' : text.slice(start);
  };
}

/** Stops every process still running, in parallel. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

let handlersInstalled = false;

/**
 * Makes Ctrl-C / SIGTERM stop every child before exiting, and SIGKILLs leftovers if the
 * process exits some other way (an uncaught error), so no server outlives the benchmark.
 */
export function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping ${live.size} child process(es)…\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  process.once('exit', () => {
    for (const child of children.values()) child.kill('SIGKILL');
  });
}
