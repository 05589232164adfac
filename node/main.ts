// `tessera node [file.conf] [--directive value …]`: starts a node exactly like redis-server.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, NodeConfig } from './config.js';
import { NodeServer } from './server.js';
import { AofLoadError, attachAof } from './persistence/aof.js';
import { TESSERA_VERSION, VERSION } from './version.js';

/** Directives that hold passwords: readable from a file (`--requirepass-file path`) or the environment. */
export const SECRET_DIRECTIVES: Readonly<Record<string, string>> = {
  requirepass: 'TESSERA_REQUIREPASS',
  masterauth: 'TESSERA_MASTERAUTH',
};

/**
 * Builds the config from redis-server style arguments: an optional config file first, then
 * `--name value…` pairs (a directive takes every following word up to the next `--`).
 * Passwords may also come from `env` (TESSERA_REQUIREPASS, TESSERA_MASTERAUTH: after the file,
 * before the arguments) or `--requirepass-file path` / `--masterauth-file path`, so they need not
 * appear in the process's argv.
 */
export function configFromArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): NodeConfig {
  const config = new NodeConfig();
  let i = 0;
  let text = '';
  if (argv[0] !== undefined && !argv[0].startsWith('--')) {
    config.file = resolve(argv[0]);
    text += readFileSync(argv[0], 'latin1') + '\n';
    i = 1;
  }
  for (const [directive, name] of Object.entries(SECRET_DIRECTIVES)) {
    const value = env[name];
    if (value !== undefined && value !== '') text += `${directive} ${quoteArg(checkSecret(value, name))}\n`;
  }
  while (i < argv.length) {
    let name = argv[i]!;
    if (!name.startsWith('--')) throw new Error(`Unexpected argument '${name}': options look like --port 7000`);
    const values: string[] = [];
    i++;
    while (i < argv.length && !argv[i]!.startsWith('--')) values.push(argv[i++]!);
    const secret = /^--(requirepass|masterauth)-file$/.exec(name);
    if (secret) {
      if (values.length !== 1) throw new Error(`${name} takes one file name`);
      name = `--${secret[1]}`;
      values[0] = readSecretFile(values[0]!);
    }
    text += `${name.slice(2)} ${values.map(quoteArg).join(' ')}\n`;
  }
  config.loadText(text);
  return config;
}

/** A password file's content without its final newline (files written by editors end with one). */
export function readSecretFile(path: string): string {
  return checkSecret(readFileSync(path, 'latin1').replace(/\r?\n$/, ''), path);
}

function checkSecret(value: string, source: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`the password in ${source} contains a line break`);
  return value;
}

function quoteArg(v: string): string {
  return v === '' || /[\s"'\\]/.test(v) ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : v;
}

export async function runNode(argv: readonly string[]): Promise<NodeServer> {
  let config: NodeConfig;
  try {
    config = configFromArgs(argv, process.env);
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
