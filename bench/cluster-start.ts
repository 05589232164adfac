// Pieces shared by the bench scenarios that start a whole cluster (failover-cluster.ts,
// migration-cluster.ts): the cluster-mode node kind, a poll with a deadline, and the coordinator
// (`tessera dashboard`) started and waited on until it leads.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DashboardClient } from '../cli/admin-api.js';
import { freePort } from './net-util.js';
import { spawnManaged, type ManagedProcess } from './processes.js';
import type { ServerKind } from './replication-servers.js';
import { repoRoot, tesseraNodeCommand } from './targets.js';

/** Node's flags that write V8 .cpuprofile files into `dir` on exit; none when `dir` is undefined. */
function cpuProfileArgs(dir: string | undefined): string[] {
  return dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** A cluster-mode node: the harness's node command line, plus a dir, slot ownership, no sync delay. */
export function clusterNodeKind(replicaOf: number | null, cpuProfileDir?: string): ServerKind {
  return {
    name: 'tessera-node (slot-ownership yes)',
    description: 'node bin/tessera node --save "" --appendonly no --slot-ownership yes',
    command(port, dir) {
      const { file, args } = tesseraNodeCommand(port);
      const replica = replicaOf === null ? [] : ['--replicaof', '127.0.0.1', String(replicaOf)];
      return { file, args: [...cpuProfileArgs(cpuProfileDir), ...args, '--dir', dir, '--repl-diskless-sync-delay', '0', '--slot-ownership', 'yes', ...replica] };
    },
  };
}

/** Polls `check` every 50 ms until it holds, `isDead` (the coordinator exited) or `deadlineMs` passes. */
export async function waitUntil(what: string, deadlineMs: number, check: () => Promise<boolean>, isDead: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    if (isDead()) throw new Error(`${what}: the coordinator exited`);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${lastError === null ? '' : ` (${(lastError as Error).message})`}`);
}

export interface DashboardStart {
  product: string;
  token: string;
  /** How long the coordinator may take to listen and lead. */
  deadlineMs: number;
  /** The coordinator writes a V8 .cpuprofile file here on exit. */
  cpuProfileDir?: string;
}

/** Starts `tessera dashboard` on a free port (token file in `dir`) and waits until it leads; stops it on failure. */
export async function startDashboard(dir: string, storeUrl: string, opts: DashboardStart): Promise<{ proc: ManagedProcess; url: string; client: DashboardClient }> {
  const tokenFile = join(dir, 'dashboard-token');
  await writeFile(tokenFile, `${opts.token}\n`, { mode: 0o600 });
  const port = await freePort();
  // warn: fastify logs every request at info, and the harness polls the API.
  const proc = spawnManaged(process.execPath, [...cpuProfileArgs(opts.cpuProfileDir), join(repoRoot(), 'bin', 'tessera'), 'dashboard', '--store', storeUrl,
    '--product', opts.product, '--listen', `127.0.0.1:${port}`, '--token-file', tokenFile, '--log-level', 'warn'], { cwd: repoRoot() });
  const url = `http://127.0.0.1:${port}`;
  const client = new DashboardClient(url, opts.token);
  try {
    await waitUntil('the coordinator to lead', opts.deadlineMs, async () =>
      (await client.call<{ self: { role: string } }>('GET', '/overview')).self.role === 'leader', () => proc.hasExited());
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${proc.outputTail()}`);
  }
  return { proc, url, client };
}
