// `tessera proxy [--config proxy.toml] [--listen …] [--admin …] [--store URL] [--product NAME]`.
import { readFileSync } from 'node:fs';
import { openStore } from '../common/store/open-store.js';
import { buildAdminApp } from './admin.js';
import { loadProxyConfig, type ProxyConfig } from './config.js';
import { Proxy, splitHostPort } from './proxy.js';

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

export async function runProxy(options: { config?: string } & Partial<ProxyConfig> & SecretFileOptions, env: Readonly<Record<string, string | undefined>> = process.env): Promise<{ proxy: Proxy; stop(): Promise<void> }> {
  const { config: file, ...rest } = options;
  const config = loadProxyConfig(file, resolveSecrets(rest, env));
  const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} proxy ${config.id}: ${msg}\n`);
  const store = await openStore(config.store);
  const proxy = new Proxy(config, store, log);
  await proxy.start();
  const admin = buildAdminApp(proxy);
  const [host, port] = splitHostPort(config.admin);
  await admin.listen({ host, port });
  log(`admin API on http://${config.admin}${config.adminToken === '' ? ' (no admin-token: loopback clients only)' : ''}`);
  if (config.requirepass === '' && config.protectedMode) log('no requirepass: protected mode serves loopback clients only (see docs/security.md)');
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await admin.close();
      await proxy.close();
      await store.close();
    })();
    return stopping;
  };
  return { proxy, stop };
}
