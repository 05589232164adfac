// Proxy configuration: defaults (each with its unit), the TOML file (configs/proxy.toml) and
// command-line flags. Unknown keys are errors naming the key.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseToml } from '../common/toml.js';

export interface ProxyConfig {
  /** host:port clients connect to. */
  listen: string;
  /** host:port of the admin HTTP API (/health, /stats, /metrics, /slots). */
  admin: string;
  /** Coordination store URL: etcd://host:port[,…] or file:///path. */
  store: string;
  product: string;
  /** Proxy id in the store (default: host:port of listen). */
  id: string;
  /** Password clients must AUTH with; empty = none. */
  requirepass: string;
  /** Password the proxy sends to backend nodes; empty = none. */
  backendPassword: string;
  /** Pipelined connections per backend node. */
  backendConnections: number;
  /** Requests one client may have in flight before the proxy stops reading from it. */
  maxPipeline: number;
  /**
   * Bytes the proxy holds for one client (requests held behind a blocking command, replies
   * queued or unsent): past the soft limit it stops reading the client, past the hard limit
   * (client-max-pending-bytes) it disconnects it, like Redis's client-output-buffer-limit.
   */
  clientPendingSoftBytes: number;
  /** Reply bytes held past the soft limit for this many seconds disconnect the client (0 = never). */
  clientPendingSoftSeconds: number;
  clientMaxPendingBytes: number;
  /** A backend request with no reply for this long fails and resets its link, ms (0 = never). */
  backendTimeout: number;
  /** Idle backend links send PING this often, ms (0 = never). */
  backendPingInterval: number;
  /** Links per backend node lent to blocking commands (BLPOP …); more wait or are refused. */
  backendBlockingLinks: number;
  /** Most clients connected at once; more get -ERR max number of clients reached. */
  maxclients: number;
  /** Close a client idle this many seconds (0 = never), as Redis's `timeout`. */
  timeout: number;
  /** KEYS replies larger than this are refused (0 = no cap). */
  maxKeysReply: number;
  /** never | prefer: serve read-only commands from replicas. */
  readFromReplica: 'never' | 'prefer';
  /** Without requirepass, refuse clients that are not on loopback (as Redis 7's protected mode). */
  protectedMode: boolean;
  /** Bearer token for the admin HTTP API; empty = the API answers loopback clients only. */
  adminToken: string;
  /** Serve the read-only admin routes (/health, /metrics) without the token. */
  adminOpenReads: boolean;
  /** Password that makes a client an admin (AUTH <pw> or AUTH admin <pw>): CONFIG GET/SET; empty = no admins. */
  adminPassword: string;
  /**
   * Worker processes sharing the listen port (each with its own backend links and store watch);
   * 1 = one process, no workers. `auto` (TOML or flag) = the number of cores.
   */
  workers: number;
  /**
   * On SIGTERM: how long requests already read may take to finish before every client is closed,
   * ms (the store registration is dropped first, so the coordinator stops waiting for this proxy).
   */
  shutdownGrace: number;
}

/** Most worker processes a proxy may run (a typo such as 1000 must not fork a thousand processes). */
export const MAX_WORKERS = 256;

export const PROXY_DEFAULTS: ProxyConfig = {
  listen: '127.0.0.1:19000',
  admin: '127.0.0.1:11080',
  store: 'file:///tmp/tessera-store',
  product: 'tessera',
  id: '',
  requirepass: '',
  backendPassword: '',
  backendConnections: 2,
  maxPipeline: 10000,
  clientPendingSoftBytes: 16 * 1024 * 1024,
  clientPendingSoftSeconds: 10,
  clientMaxPendingBytes: 128 * 1024 * 1024,
  backendTimeout: 5000,
  backendPingInterval: 1000,
  backendBlockingLinks: 64,
  maxclients: 10000,
  timeout: 0,
  maxKeysReply: 100000,
  readFromReplica: 'never',
  protectedMode: true,
  adminToken: '',
  adminOpenReads: false,
  adminPassword: '',
  workers: 1,
  shutdownGrace: 5000,
};

/** TOML names (kebab-case, as in configs/proxy.toml) → config fields. */
const TOML_NAMES: Record<string, keyof ProxyConfig> = {
  listen: 'listen', admin: 'admin', store: 'store', product: 'product', id: 'id', requirepass: 'requirepass',
  'backend-password': 'backendPassword', 'backend-connections': 'backendConnections', 'max-pipeline': 'maxPipeline',
  'client-pending-soft-bytes': 'clientPendingSoftBytes', 'client-pending-soft-seconds': 'clientPendingSoftSeconds', 'client-max-pending-bytes': 'clientMaxPendingBytes',
  'backend-timeout': 'backendTimeout', 'backend-ping-interval': 'backendPingInterval', 'backend-blocking-links': 'backendBlockingLinks',
  maxclients: 'maxclients', timeout: 'timeout', 'max-keys-reply': 'maxKeysReply', 'read-from-replica': 'readFromReplica',
  'protected-mode': 'protectedMode', 'admin-token': 'adminToken', 'admin-open-reads': 'adminOpenReads', 'admin-password': 'adminPassword',
  workers: 'workers', 'shutdown-grace': 'shutdownGrace',
};

export function loadProxyConfig(file: string | undefined, overrides: Partial<ProxyConfig>): ProxyConfig {
  const config: ProxyConfig = { ...PROXY_DEFAULTS };
  if (file) {
    const doc = parseToml(readFileSync(file, 'utf8'));
    for (const [k, v] of Object.entries(doc)) {
      const field = TOML_NAMES[k];
      if (!field) throw new Error(`${file}: unknown key '${k}'`);
      if (field === 'workers') {
        config.workers = withFile(file, () => parseWorkers(v)); // a number or "auto"
        continue;
      }
      if (typeof v !== typeof PROXY_DEFAULTS[field]) throw new Error(`${file}: '${k}' must be a ${typeof PROXY_DEFAULTS[field]}`);
      (config as unknown as Record<string, unknown>)[field] = v;
    }
  }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  config.workers = parseWorkers(config.workers);
  if (config.readFromReplica !== 'never' && config.readFromReplica !== 'prefer') throw new Error(`read-from-replica must be never or prefer`);
  for (const k of ['backendTimeout', 'backendPingInterval', 'timeout', 'clientPendingSoftBytes', 'clientPendingSoftSeconds', 'clientMaxPendingBytes', 'shutdownGrace'] as const) {
    if (!Number.isInteger(config[k]) || config[k] < 0) throw new Error(`${k} must be a non-negative integer`);
  }
  for (const k of ['backendConnections', 'maxPipeline', 'backendBlockingLinks', 'maxclients'] as const) {
    if (!Number.isInteger(config[k]) || config[k] < 1) throw new Error(`${k} must be a positive integer`);
  }
  if (!config.id) config.id = config.listen.replace(/[^A-Za-z0-9_.-]/g, '_');
  return config;
}

/**
 * `workers` from TOML (a number or "auto") or the command line (a string): a positive integer up
 * to MAX_WORKERS, or `auto` for the number of cores.
 */
export function parseWorkers(v: unknown): number {
  if (v === 'auto') return Math.min(MAX_WORKERS, availableParallelism());
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_WORKERS) {
    throw new Error(`workers must be a positive integer up to ${MAX_WORKERS} or auto (got ${JSON.stringify(v)})`);
  }
  return n;
}

function withFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/** The configs/proxy.toml text for the given config (used by tests to check the shipped file). */
export function tomlNames(): Record<string, keyof ProxyConfig> {
  return TOML_NAMES;
}
