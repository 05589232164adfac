// twemproxy (Debian's `nutcracker`) as a benchmark target: writes its YAML pool config for a set
// of redis backends, checks it with `nutcracker -t`, and starts it on a fresh port.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPong } from './net-util.js';
import { spawnManaged } from './processes.js';
import type { RunningTarget } from './targets.js';

export interface NutcrackerPool {
  /** Pool name (a YAML key: letters, digits, '_' and '-'). */
  name: string;
  listenPort: number;
  /** host:port of each redis backend; every one gets weight 1. */
  servers: readonly string[];
  hash: 'fnv1a_64' | 'crc32a' | 'murmur';
  distribution: 'ketama' | 'modula';
}

const POOL_NAME = /^[A-Za-z0-9_-]+$/;
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/**
 * The nutcracker YAML for one pool. auto_eject_hosts is off so a slow backend is never
 * silently dropped mid-benchmark (which would change the key distribution).
 */
export function nutcrackerYaml(pool: NutcrackerPool): string {
  if (!POOL_NAME.test(pool.name)) throw new Error(`bad nutcracker pool name "${pool.name}"`);
  if (pool.servers.length === 0) throw new Error('nutcracker pool needs at least one server');
  const bad = pool.servers.find((s) => !HOST_PORT.test(s));
  if (bad !== undefined) throw new Error(`bad nutcracker server "${bad}" (expected host:port)`);
  return [
    `${pool.name}:`,
    `  listen: 127.0.0.1:${pool.listenPort}`,
    `  hash: ${pool.hash}`,
    `  distribution: ${pool.distribution}`,
    '  redis: true',
    '  auto_eject_hosts: false',
    '  servers:',
    // "host:port:weight" is nutcracker's server syntax.
    ...pool.servers.map((s) => `   - ${s}:1`),
    '',
  ].join('\n');
}

const READY_DEADLINE_MS = 15_000;
const run = promisify(execFile);

/**
 * Starts nutcracker in front of `servers` (pinned to `cpu` when given). The returned target's
 * pids are nutcracker's own; `backendPids` are passed through for CPU accounting.
 */
export async function startNutcracker(
  servers: readonly string[],
  opts: { cpu?: number; backendPids: readonly number[] },
): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nutcracker-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const port = await freePort();
    const statsPort = await freePort();
    const configPath = join(dir, 'nutcracker.yml');
    writeFileSync(configPath, nutcrackerYaml({ name: 'bench', listenPort: port, servers, hash: 'fnv1a_64', distribution: 'ketama' }));
    // -t checks the file and exits; its message is far clearer than a failed start.
    await run('nutcracker', ['-t', '-c', configPath]).catch((err: Error & { stderr?: string }) => {
      throw new Error(`nutcracker -t rejected ${configPath}: ${err.stderr ?? err.message}`);
    });
    const proc = spawnManaged('nutcracker', [
      '-c', configPath, '-s', String(statsPort), '-a', '127.0.0.1', '-o', join(dir, 'nutcracker.log'),
    ], { cpu: opts.cpu });
    try {
      await waitForPong(port, READY_DEADLINE_MS, () => proc.hasExited());
    } catch (err) {
      await proc.stop();
      throw new Error(`nutcracker did not start: ${(err as Error).message}\n${proc.outputTail()}`);
    }
    return {
      port,
      pids: [proc.pid],
      backendPids: opts.backendPids,
      freezeWhenIdle: true,
      async stop() {
        await proc.stop();
        removeDir();
      },
    };
  } catch (err) {
    removeDir();
    throw err;
  }
}
