// Opens a CoordStore from a URL: etcd://host:port[,host:port…] or file:///absolute/dir.

import { fileURLToPath } from 'node:url';
import type { CoordStore } from './coord-store.js';
import { EtcdStore } from './etcd-store.js';
import { FileStore } from './file-store.js';

const USAGE = 'expected etcd://host:port[,host:port…] or file:///absolute/dir';
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** The http:// endpoints of an etcd:// URL; throws on anything malformed. */
export function parseEtcdUrl(url: string): string[] {
  const hosts = url.slice('etcd://'.length).replace(/\/$/, '').split(',');
  return hosts.map((hostPort) => {
    const m = HOST_PORT.exec(hostPort);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) throw new Error(`bad store URL ${JSON.stringify(url)}: ${JSON.stringify(hostPort)} is not host:port (${USAGE})`);
    return `http://${hostPort}`;
  });
}

export async function openStore(url: string): Promise<CoordStore> {
  if (url.startsWith('etcd://')) return new EtcdStore(parseEtcdUrl(url));
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
