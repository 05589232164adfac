// Servers for the replication scenario: our node or redis-server, each with a temp --dir of its own
// (BGSAVE and replica RDB files land there) and full syncs that start at once. Removes the dir on stop.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPong } from './net-util.js';
import { spawnManaged } from './processes.js';
import { repoRoot, tesseraNodeCommand } from './targets.js';

/** What kind of server plays master and replica in one column of the report. */
export interface ServerKind {
  readonly name: string;
  readonly description: string;
  command(port: number, dir: string): { file: string; args: string[] };
}

export interface RunningServer {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** No delay before a full sync (else both wait 5 s for more replicas); snapshots only on BGSAVE. */
const REPLICATION_ARGS = ['--repl-diskless-sync-delay', '0'];
const READY_DEADLINE_MS = 15_000;

export const tesseraReplicationKind: ServerKind = {
  name: 'tessera-node',
  description: `node bin/tessera node --save "" --appendonly no --dir <tmp> ${REPLICATION_ARGS.join(' ')}`,
  command(port, dir) {
    const { file, args } = tesseraNodeCommand(port);
    return { file, args: [...args, '--dir', dir, ...REPLICATION_ARGS] };
  },
};

function redisCommand(port: number, dir: string): { file: string; args: string[] } {
  return {
    file: 'redis-server',
    args: ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--dir', dir, ...REPLICATION_ARGS],
  };
}

export const redisReplicationKind: ServerKind = {
  name: 'redis-server',
  description: `redis-server (system build) --save "" --appendonly no --dir <tmp> ${REPLICATION_ARGS.join(' ')}`,
  command: redisCommand,
};

/** A second redis-server as the candidate: the harness check (ratios ≈ 1 expected). */
export const redisStandInReplicationKind: ServerKind = {
  name: 'redis-server (stand-in for ours)',
  description: 'redis-server standing in for the candidate (harness check, ratio ≈ 1 expected)',
  command: redisCommand,
};

/** Starts one server of `kind` on a free port with a fresh temp dir; waits for PONG. */
export async function startServer(kind: ServerKind, cpu: number | undefined): Promise<RunningServer> {
  const dir = await mkdtemp(join(os.tmpdir(), 'tessera-bench-repl-'));
  const port = await freePort();
  const { file, args } = kind.command(port, dir);
  const proc = spawnManaged(file, args, { cpu, cwd: repoRoot() });
  const stop = async (): Promise<void> => {
    await proc.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPong(port, READY_DEADLINE_MS, () => proc.hasExited());
  } catch (err) {
    await stop();
    throw new Error(`${proc.command} did not start: ${(err as Error).message}\n${proc.outputTail()}`);
  }
  return { port, pid: proc.pid, stop };
}
