// Opens a CoordStore from a URL:
//   etcd://[user@]host:port[,host:port…][?password-file=PATH]        plain gRPC
//   etcds://[user@]host:port[,…][?ca=PATH&cert=PATH&key=PATH&password-file=PATH]   TLS
//   file:///absolute/dir
// The etcd password never sits in the URL (URLs end up in argv, process titles and logs): it comes
// from `password-file` or TESSERA_ETCD_PASSWORD. With etcds:// the server is verified against `ca`
// (else the system's roots); `cert` + `key` add a client certificate (etcd --client-cert-auth).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CoordStore } from './coord-store.js';
import type { EtcdConnection } from './etcd-store.js';
import { FileStore } from './file-store.js';

const USAGE = 'expected etcd://[user@]host:port[,host:port…][?password-file=PATH], etcds://… (TLS: ?ca=PATH&cert=PATH&key=PATH) or file:///absolute/dir';
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const PARAMS = new Set(['ca', 'cert', 'key', 'password-file']);

/** The http(s):// endpoints of an etcd:// or etcds:// URL; throws on anything malformed. */
export function parseEtcdUrl(url: string): string[] {
  return parseEtcdConnection(url, {}).hosts;
}

/**
 * Everything an etcd URL says: endpoints, user and password, TLS files (read here, so a missing
 * file is an error at start). `env` supplies TESSERA_ETCD_PASSWORD.
 */
export function parseEtcdConnection(url: string, env: Readonly<Record<string, string | undefined>>): EtcdConnection {
  const bad = (why: string) => new Error(`bad store URL ${JSON.stringify(url)}: ${why} (${USAGE})`);
  const tls = url.startsWith('etcds://');
  let rest = url.slice(tls ? 'etcds://'.length : 'etcd://'.length);
  const q = rest.indexOf('?');
  const query = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  if (q >= 0) rest = rest.slice(0, q);
  for (const k of query.keys()) if (!PARAMS.has(k)) throw bad(`unknown parameter ${JSON.stringify(k)}`);
  let username: string | null = null;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const user = rest.slice(0, at);
    if (user.includes(':')) throw bad('a password in the URL would show in argv and logs: give password-file=PATH or TESSERA_ETCD_PASSWORD');
    if (user === '') throw bad('empty user name before "@"');
    username = decodeURIComponent(user);
    rest = rest.slice(at + 1);
  }
  const hosts = rest.replace(/\/$/, '').split(',').map((hostPort) => {
    const m = HOST_PORT.exec(hostPort);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) throw bad(`${JSON.stringify(hostPort)} is not host:port`);
    return `${tls ? 'https' : 'http'}://${hostPort}`;
  });
  const file = (name: string): Buffer | undefined => {
    const path = query.get(name);
    if (path === null) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw bad(`cannot read ${name} file ${path}: ${(err as Error).message}`);
    }
  };
  if (!tls && (query.has('ca') || query.has('cert') || query.has('key'))) throw bad('ca, cert and key need etcds:// (TLS)');
  if (query.has('cert') !== query.has('key')) throw bad('a client certificate needs both cert and key');
  const out: EtcdConnection = { hosts };
  if (username !== null) {
    const fromFile = file('password-file')?.toString('utf8').replace(/\r?\n$/, '');
    const password = fromFile ?? env.TESSERA_ETCD_PASSWORD;
    if (password === undefined || password === '') throw bad(`user ${username} needs a password: give password-file=PATH or TESSERA_ETCD_PASSWORD`);
    out.auth = { username, password };
  } else if (query.has('password-file')) {
    throw bad('password-file needs a user name (etcds://user@host:port?password-file=PATH)');
  }
  if (tls) {
    const ca = file('ca');
    const cert = file('cert');
    const key = file('key');
    out.tls = { ca, cert, key };
  }
  return out;
}

export async function openStore(url: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<CoordStore> {
  if (url.startsWith('etcd://') || url.startsWith('etcds://')) {
    const connection = parseEtcdConnection(url, env);
    // Loaded only for etcd: the etcd3 client brings gRPC and protobufjs (~0.2 s and ~25 MiB of
    // RSS at start), which a process on the file store never uses.
    const { EtcdStore } = await import('./etcd-store.js');
    return new EtcdStore(connection);
  }
  if (url.startsWith('file://')) {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (err) {
      throw new Error(`bad store URL ${JSON.stringify(url)}: ${(err as Error).message} (${USAGE})`);
    }
    return FileStore.open(dir);
  }
  throw new Error(`bad store URL ${JSON.stringify(url)}: ${USAGE}`);
}
