// Starts a throw-away etcd (Debian's `etcd` binary) on free loopback ports for integration tests.
// Fast raft flags make it healthy in ~100 ms; every process started here is killed on exit.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';

export { freePort };

export interface EtcdHandle {
  /** Store URL for openStore(): etcd://127.0.0.1:<port> */
  url: string;
  /** Client endpoint: http://127.0.0.1:<port> */
  endpoint: string;
  dataDir: string;
  /** Kills etcd and removes its data. */
  stop(): Promise<void>;
  /** SIGKILLs etcd but keeps its data dir (a crash); restart() brings it back. */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports and data dir (after kill()). */
  restart(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** TLS for a test etcd: PEM file paths; clientCertAuth makes it require a client certificate. */
export interface EtcdTls {
  ca: string;
  cert: string;
  key: string;
  clientCertAuth?: boolean;
  /** The client certificate the health check presents when clientCertAuth is on. */
  clientCert?: string;
  clientKey?: string;
}

/** GET /health over https with the test CA (fetch cannot take a CA of its own). */
function httpsHealth(endpoint: string, tls: EtcdTls): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}/health`, {
      ca: readFileSync(tls.ca), timeout: 500,
      ...(tls.clientCert ? { cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey!) } : {}),
    }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function waitHealthy(endpoint: string, child: ChildProcess, logPath: string, timeoutMs: number, tls?: EtcdTls): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      if (tls) {
        if ((JSON.parse(await httpsHealth(endpoint, tls)) as { health?: string }).health === 'true') return;
      } else {
        const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(500) });
        if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return;
      }
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  const log = await readFile(logPath, 'utf8').catch(() => '');
  child.kill('SIGKILL');
  throw new Error(`etcd at ${endpoint} not healthy within ${timeoutMs} ms; log tail:\n${log.slice(-2000)}`);
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startEtcd(options: { timeoutMs?: number; tls?: EtcdTls } = {}): Promise<EtcdHandle> {
  const root = await mkdtemp(join(tmpdir(), 'tessera-etcd-'));
  const dataDir = join(root, 'data');
  const logPath = join(root, 'etcd.log');
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const tls = options.tls;
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let child: ChildProcess | null = null;

  const launch = async () => {
    const proc = spawn('etcd', [
      '--name', 'test', '--data-dir', dataDir,
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `test=${peer}`, '--initial-cluster-state', 'new', '--initial-cluster-token', 'tessera-test',
      '--heartbeat-interval=10', '--election-timeout=100',
      '--logger', 'zap', '--log-outputs', logPath,
      ...(tls ? ['--cert-file', tls.cert, '--key-file', tls.key, '--trusted-ca-file', tls.ca, ...(tls.clientCertAuth ? ['--client-cert-auth'] : [])] : []),
    ], { stdio: 'ignore' });
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    child = proc;
    await waitHealthy(endpoint, proc, logPath, options.timeoutMs ?? 10_000, tls);
  };

  const kill = async () => {
    const proc = child;
    child = null;
    if (!proc) return;
    proc.kill('SIGKILL');
    await waitExit(proc);
  };

  try {
    await launch();
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `${tls ? 'etcds' : 'etcd'}://127.0.0.1:${clientPort}`,
    endpoint,
    dataDir,
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      await rm(root, { recursive: true, force: true });
    },
  };
}
