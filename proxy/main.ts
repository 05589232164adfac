// `tessera proxy [--config proxy.toml] [--listen …] [--admin …] [--store URL] [--product NAME] [--workers N|auto]`.
// One process (workers = 1), or a primary forking N workers that share the listen port (proxy/workers.ts).
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { CoordStore } from '../common/store/coord-store.js';
import { openStore } from '../common/store/open-store.js';
import { buildAdminApp, buildAdminAppFrom } from './admin.js';
import { loadProxyConfig, type ProxyConfig } from './config.js';
import { Proxy, splitHostPort } from './proxy.js';
import { workersAdminSource } from './workers-admin.js';
import { ProxyWorkers } from './workers.js';

/** Secret settings: a `--<name>-file path` option and an environment variable for each. */
const SECRETS = {
  requirepass: { file: 'requirepassFile', env: 'TESSERA_PROXY_REQUIREPASS' },
  backendPassword: { file: 'backendPasswordFile', env: 'TESSERA_BACKEND_PASSWORD' },
  adminPassword: { file: 'adminPasswordFile', env: 'TESSERA_ADMIN_PASSWORD' },
  adminToken: { file: 'adminTokenFile', env: 'TESSERA_ADMIN_TOKEN' },
} as const;

export type SecretFileOptions = { [K in (typeof SECRETS)[keyof typeof SECRETS]['file']]?: string };

/**
 * Fills secrets given as files or environment variables, so they need not appear in argv:
 * a flag wins over its file, the file over the environment, the environment over the TOML file.
 */
export function resolveSecrets(options: Partial<ProxyConfig> & SecretFileOptions, env: Readonly<Record<string, string | undefined>>): Partial<ProxyConfig> {
  const out: Partial<ProxyConfig> = { ...options };
  for (const [field, from] of Object.entries(SECRETS) as Array<[keyof typeof SECRETS, (typeof SECRETS)[keyof typeof SECRETS]]>) {
    delete (out as Record<string, unknown>)[from.file];
    if (options[field] !== undefined) continue;
    const path = options[from.file];
    if (path !== undefined) out[field] = readSecretFile(path);
    else if (env[from.env] !== undefined && env[from.env] !== '') out[field] = env[from.env];
  }
  return out;
}

/** A secret file's content without its final newline. */
function readSecretFile(path: string): string {
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

/**
 * Starts the proxy. `proxy` is the serving Proxy of a single-process proxy, null for a multi-worker
 * one (its workers serve; this process runs the admin API and the store registration).
 */
export async function runProxy(options: { config?: string } & Partial<ProxyConfig> & SecretFileOptions, env: Readonly<Record<string, string | undefined>> = process.env): Promise<{ proxy: Proxy | null; stop(): Promise<void> }> {
  const { config: file, ...rest } = options;
  const config = loadProxyConfig(file, resolveSecrets(rest, env));
  const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} proxy ${config.id}: ${msg}\n`);
  const store = await openStore(config.store);
  if (config.workers > 1) return runWorkers(config, store, log);
  const proxy = new Proxy(config, store, log);
  await proxy.start();
  const admin = await listenAdmin(buildAdminApp(proxy), config, log);
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await admin.close();
      await proxy.close(config.shutdownGrace);
      await store.close();
    })();
    return stopping;
  };
  return { proxy, stop };
}

async function runWorkers(config: ProxyConfig, store: CoordStore, log: (msg: string) => void): Promise<{ proxy: null; stop(): Promise<void> }> {
  const workers = new ProxyWorkers(config, store, log, Object.values(SECRETS).map((s) => s.env));
  try {
    await workers.start();
  } catch (err) {
    await store.close();
    throw err;
  }
  const admin = await listenAdmin(buildAdminAppFrom(workersAdminSource(workers)), config, log);
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      // First, so a worker that exits meanwhile (systemd's SIGTERM reaches the whole cgroup) is not replaced.
      const workersStopped = workers.stop(config.shutdownGrace);
      await admin.close();
      await workersStopped;
      await store.close();
    })();
    return stopping;
  };
  return { proxy: null, stop };
}

async function listenAdmin(admin: FastifyInstance, config: ProxyConfig, log: (msg: string) => void): Promise<FastifyInstance> {
  const [host, port] = splitHostPort(config.admin);
  await admin.listen({ host, port });
  log(`admin API on http://${config.admin}${config.adminToken === '' ? ' (no admin-token: loopback clients only)' : ''}`);
  if (config.requirepass === '' && config.protectedMode) log('no requirepass: protected mode serves loopback clients only (see docs/security.md)');
  return admin;
}
