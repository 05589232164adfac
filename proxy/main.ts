// `tessera proxy [--config proxy.toml] [--listen …] [--admin …] [--store URL] [--product NAME]`.
import { openStore } from '../common/store/open-store.js';
import { buildAdminApp } from './admin.js';
import { loadProxyConfig, type ProxyConfig } from './config.js';
import { Proxy, splitHostPort } from './proxy.js';

export async function runProxy(options: { config?: string } & Partial<ProxyConfig>): Promise<{ proxy: Proxy; stop(): Promise<void> }> {
  const { config: file, ...overrides } = options;
  const config = loadProxyConfig(file, overrides);
  const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} proxy ${config.id}: ${msg}\n`);
  const store = await openStore(config.store);
  const proxy = new Proxy(config, store, log);
  await proxy.start();
  const admin = buildAdminApp(proxy);
  const [host, port] = splitHostPort(config.admin);
  await admin.listen({ host, port });
  log(`admin API on http://${config.admin}`);
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
