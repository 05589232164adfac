// Our proxy as a benchmark target: writes a product's groups and an even slot table into a
// store (one master per group), then starts `bin/tessera proxy` for that product on a fresh port.
import { join } from 'node:path';
import { addServer, assignSlots, createGroup } from '../cli/admin.js';
import { assignEvenly } from '../common/model.js';
import { openStore } from '../common/store/open-store.js';
import { GcMonitor } from './gc-monitor.js';
import { freePort, sendLineCommand, waitForPong } from './net-util.js';
import { childPids } from './process-tree.js';
import { spawnManaged } from './processes.js';
import { nodeFlags, repoRoot, stopGraceMs, type RunningTarget } from './targets.js';

const READY_DEADLINE_MS = 15_000;

/** Group i + 1 gets backends[i] as its master; the 1024 slots are split evenly in that order. */
export async function writeSlotTable(storeUrl: string, product: string, backends: readonly string[]): Promise<void> {
  const store = await openStore(storeUrl);
  try {
    const groupIds = backends.map((_, i) => i + 1);
    for (const [i, addr] of backends.entries()) {
      await createGroup(store, product, groupIds[i]);
      await addServer(store, product, groupIds[i], addr, 'master');
    }
    for (const range of assignEvenly(groupIds)) await assignSlots(store, product, range.from, range.to, range.group);
  } finally {
    await store.close();
  }
}

/** How a proxy is run beyond its store and product. */
export interface ProxyRunOptions {
  /** Write a V8 .cpuprofile here on exit (one per process, workers included). */
  cpuProfileDir?: string;
  /** Run under --trace-gc-nvp with bench/heap-probe.ts (workers inherit Node's flags). */
  gcTrace?: boolean;
  /** `tessera proxy --workers N`; undefined: the flag is not passed (the proxy's default, 1). */
  workers?: number;
}

/** The proxy's command line: the single place to change when its CLI changes. */
export function tesseraProxyCommand(port: number, adminPort: number, storeUrl: string, product: string, run: ProxyRunOptions = {}): { file: string; args: string[] } {
  const workers = run.workers === undefined ? [] : ['--workers', String(run.workers)];
  return {
    file: process.execPath,
    args: [...nodeFlags(run), join(repoRoot(), 'bin', 'tessera'), 'proxy', '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`,
      '--store', storeUrl, '--product', product, ...workers],
  };
}

/**
 * Polls until SETs of a few keys (spread over the slot table) succeed through the proxy: PING is
 * answered locally, so only a routed command shows that the slot table has been loaded.
 */
async function waitUntilRouting(port: number, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      for (let i = 0; i < 8; i++) await sendLineCommand(port, ['SET', `bench:ready:${i}`, '1'], 500);
      return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`proxy on port ${port} did not route within ${deadlineMs} ms (${String(lastError)})`);
}

/** Waits (bounded) until the proxy process has forked `workers` children, and returns their pids. */
async function waitForWorkers(pid: number, workers: number, deadlineMs: number): Promise<number[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const children = childPids(pid);
    if (children.length >= workers) return children;
    if (Date.now() >= deadline) throw new Error(`proxy ${pid} has ${children.length} of ${workers} worker processes after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits (bounded) until every process's heap probe has announced itself: only then may it get SIGUSR2. */
async function waitForProbes(gc: GcMonitor, pids: readonly number[], deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (gc.probed(pids).length < pids.length) {
    if (Date.now() >= deadline) throw new Error(`heap probe loaded in ${gc.probed(pids).length} of ${pids.length} proxy processes after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts our proxy for `product` (whose slot table must already be in the store) and waits until
 * it routes. `backendPids` are passed through for CPU accounting. With `workers` > 1 the target's
 * pids are the primary and its worker processes (CPU, freezing and GC marks cover all of them).
 */
export async function startTesseraProxy(
  storeUrl: string,
  product: string,
  opts: { cpu?: number; backendPids: readonly number[] } & ProxyRunOptions,
): Promise<RunningTarget> {
  const port = await freePort();
  const { file, args } = tesseraProxyCommand(port, await freePort(), storeUrl, product, opts);
  const gc = opts.gcTrace === true ? new GcMonitor() : undefined;
  const proc = spawnManaged(file, args, { cpu: opts.cpu, cwd: repoRoot(), onStdoutLine: gc?.onLine });
  let pids = [proc.pid];
  try {
    await waitForPong(port, READY_DEADLINE_MS, () => proc.hasExited());
    await waitUntilRouting(port, READY_DEADLINE_MS);
    if (opts.workers !== undefined && opts.workers > 1) pids = [proc.pid, ...await waitForWorkers(proc.pid, opts.workers, READY_DEADLINE_MS)];
    if (gc !== undefined) await waitForProbes(gc, pids, READY_DEADLINE_MS);
  } catch (err) {
    await proc.stop();
    throw new Error(`tessera proxy did not start: ${(err as Error).message}\n${proc.outputTail()}`);
  }
  return { port, pids, backendPids: opts.backendPids, freezeWhenIdle: true, gc, stop: () => proc.stop(stopGraceMs(opts.cpuProfileDir)) };
}
