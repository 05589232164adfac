// `tessera node [file.conf] [--directive value …]`: starts a node exactly like redis-server.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, NodeConfig } from './config.js';
import { NodeServer } from './server.js';
import { AofLoadError, attachAof } from './persistence/aof.js';
import { TESSERA_VERSION, VERSION } from './version.js';

/**
 * Builds the config from redis-server style arguments: an optional config file first, then
 * `--name value…` pairs (a directive takes every following word up to the next `--`).
 */
export function configFromArgs(argv: readonly string[]): NodeConfig {
  const config = new NodeConfig();
  let i = 0;
  let text = '';
  if (argv[0] !== undefined && !argv[0].startsWith('--')) {
    config.file = resolve(argv[0]);
    text += readFileSync(argv[0], 'latin1') + '\n';
    i = 1;
  }
  while (i < argv.length) {
    const name = argv[i]!;
    if (!name.startsWith('--')) throw new Error(`Unexpected argument '${name}': options look like --port 7000`);
    const values: string[] = [];
    i++;
    while (i < argv.length && !argv[i]!.startsWith('--')) values.push(argv[i++]!);
    text += `${name.slice(2)} ${values.map(quoteArg).join(' ')}\n`;
  }
  config.loadText(text);
  return config;
}

function quoteArg(v: string): string {
  return v === '' || /[\s"'\\]/.test(v) ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : v;
}

export async function runNode(argv: readonly string[]): Promise<NodeServer> {
  let config: NodeConfig;
  try {
    config = configFromArgs(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : `*** FATAL CONFIG ERROR *** ${(err as Error).message}`}\n`);
    process.exit(1);
  }
  const server = new NodeServer(config);
  server.log('notice', `Tessera node ${TESSERA_VERSION} (Redis ${VERSION} compatible) starting, pid=${process.pid}`);
  const stop = (signal: string) => {
    server.log('warning', `Received ${signal} scheduling shutdown...`);
    void server.shutdown();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Like Redis, the dataset is loaded before accepting connections; a corrupt file is fatal.
  if (!config.getBool('appendonly')) {
    try {
      server.replication.restoreFromRdb(server.snapshots.loadFromDisk()?.aux);
    } catch (err) {
      server.log('warning', `Fatal error loading the DB: ${(err as Error).message}. Exiting.`);
      process.exit(1);
    }
  }
  // With appendonly yes the AOF alone is the dataset at start (Redis 7.0); it then stays open for appends.
  const aof = attachAof(server);
  try {
    aof.loadAtStartup();
  } catch (err) {
    if (!(err instanceof AofLoadError)) server.log('warning', `Fatal error loading the AOF: ${(err as Error).message}`);
    process.exit(1);
  }
  try {
    await server.listen();
  } catch (err) {
    server.log('warning', `Failed listening on port ${config.get('port')} (tcp): ${(err as Error).message}`);
    process.exit(1);
  }
  server.log('notice', `Server initialized, listening on port ${config.get('port')}`);
  return server;
}
