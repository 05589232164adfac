// Our proxy as a benchmark target: writes a product's groups and an even slot table into a
// store (one master per group), then starts `bin/tessera proxy` for that product on a fresh port.
import { join } from 'node:path';
import { addServer, assignSlots, createGroup } from '../cli/admin.js';
import { assignEvenly } from '../common/model.js';
import { openStore } from '../common/store/open-store.js';
import { freePort, sendLineCommand, waitForPong } from './net-util.js';
import { spawnManaged } from './processes.js';
import { repoRoot, type RunningTarget } from './targets.js';

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

/**
 * The proxy's command line: the single place to change when its CLI changes. With
 * `cpuProfileDir`, node writes a .cpuprofile there when the proxy exits (Node refuses
 * --cpu-prof in NODE_OPTIONS, so it has to be a flag here).
 */
export function tesseraProxyCommand(port: number, adminPort: number, storeUrl: string, product: string, cpuProfileDir?: string): { file: string; args: string[] } {
  const profile = cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`];
  return {
    file: process.execPath,
    args: [...profile, join(repoRoot(), 'bin', 'tessera'), 'proxy', '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`,
      '--store', storeUrl, '--product', product],
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

/**
 * Starts our proxy for `product` (whose slot table must already be in the store) and waits until
 * it routes. `backendPids` are passed through for CPU accounting.
 */
export async function startTesseraProxy(
  storeUrl: string,
  product: string,
  opts: { cpu?: number; backendPids: readonly number[]; cpuProfileDir?: string },
): Promise<RunningTarget> {
  const port = await freePort();
  const { file, args } = tesseraProxyCommand(port, await freePort(), storeUrl, product, opts.cpuProfileDir);
  const proc = spawnManaged(file, args, { cpu: opts.cpu, cwd: repoRoot() });
  try {
    await waitForPong(port, READY_DEADLINE_MS, () => proc.hasExited());
    await waitUntilRouting(port, READY_DEADLINE_MS);
  } catch (err) {
    await proc.stop();
    throw new Error(`tessera proxy did not start: ${(err as Error).message}\n${proc.outputTail()}`);
  }
  return { port, pids: [proc.pid], backendPids: opts.backendPids, freezeWhenIdle: true, stop: () => proc.stop() };
}
