// Starts real servers on free loopback ports: Tessera nodes (the built CLI) and Debian's
// redis-server. Every process is killed when the test process exits, even on failure.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './ports.js';
import { ReplyErrorValue } from '../../common/resp/reply-decoder.js';
import { RawClient } from './raw-client.js';
import { waitFor } from './wait-for.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const TESSERA_BIN = join(REPO_ROOT, 'bin/tessera');

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export interface ServerHandle {
  kind: 'tessera' | 'redis';
  port: number;
  host: string;
  dir: string;
  proc: ChildProcess;
  /** Everything the process printed. */
  output(): string;
  /** SIGTERM and wait for exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

/** A child process killed when the test process exits, with its output captured. */
export interface TrackedProcess {
  proc: ChildProcess;
  /** Everything the process printed. */
  output(): string;
  /** SIGTERM and wait for exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export function spawnTracked(command: string, args: string[]): TrackedProcess {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => {
    running.delete(proc);
    r();
  }));
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    output: () => out,
    async stop() {
      if (!alive()) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (!alive()) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Polls until the process answers PING on `port`. Fails at once if it exits, and on the deadline
 * (30 s: a start on a loaded 2-core CI machine can take several) with what it printed.
 */
export async function waitForPing(t: TrackedProcess, port: number, what: string): Promise<void> {
  const exited = () => t.proc.exitCode !== null || t.proc.signalCode !== null;
  let outcome: 'ready' | 'exited';
  try {
    outcome = await waitFor(async () => {
      if (exited()) return 'exited'; // not thrown: waitFor would take it for a failed try and go on
      const c = await RawClient.connect(port);
      try {
        // Any reply but -LOADING means ready (-NOAUTH counts: the server is up and wants a password).
        const r = await c.call('PING');
        return r instanceof ReplyErrorValue && r.message.startsWith('LOADING') ? null : 'ready';
      } finally {
        c.close();
      }
    }, { timeoutMs: 30_000, what: `${what} on port ${port}` });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- ${what}'s output (last 2000 characters):\n${t.output().slice(-2000)}`);
  }
  if (outcome === 'exited') throw new Error(`${what} exited (${t.proc.exitCode ?? t.proc.signalCode}): ${t.output()}`);
}

async function startProcess(kind: 'tessera' | 'redis', extraArgs: string[], opts: { port?: number; dir?: string }): Promise<ServerHandle> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `${kind}-`));
  const base = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const t = kind === 'tessera'
    ? spawnTracked(process.execPath, [TESSERA_BIN, 'node', ...base, ...extraArgs])
    : spawnTracked('redis-server', [...base, ...extraArgs]);
  const handle: ServerHandle = { kind, port, host: '127.0.0.1', dir, ...t };
  try {
    await waitForPing(t, port, kind);
  } catch (err) {
    await handle.kill();
    throw err;
  }
  return handle;
}

/** Starts a Tessera node (`bin/tessera node …`); extra args are redis-server style directives. */
export function startNode(extraArgs: string[] = [], opts: { port?: number; dir?: string } = {}): Promise<ServerHandle> {
  return startProcess('tessera', extraArgs, opts);
}

/** Starts Debian's redis-server with the same base options. */
export function startRedis(extraArgs: string[] = [], opts: { port?: number; dir?: string } = {}): Promise<ServerHandle> {
  return startProcess('redis', extraArgs, opts);
}

/** Stops servers, then removes their temp dirs (a dir may be shared by a restarted server). */
export async function stopAll(...handles: Array<ServerHandle | undefined>): Promise<void> {
  const live = handles.filter((h): h is ServerHandle => h !== undefined);
  await Promise.all(live.map((h) => h.stop()));
  for (const dir of new Set(live.map((h) => h.dir))) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}
