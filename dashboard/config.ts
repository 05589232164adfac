// Coordinator (dashboard) configuration: defaults, the TOML file (configs/dashboard.toml) and
// command-line flags. Unknown keys are errors naming the key. The secrets (the API token, the
// nodes' password, the proxies' admin token) may come from a file flag or an environment variable,
// so they need not appear in argv or in the TOML file.
import { readFileSync } from 'node:fs';
import { parseToml } from '../common/toml.js';
import { checkKeySegment } from '../common/store/keys.js';

export interface DashboardConfig {
  /** host:port of the HTTP API. */
  listen: string;
  /** Coordination store URL: etcd://host:port[,…] or file:///path. */
  store: string;
  product: string;
  /** Bearer token of the HTTP API; required (the API can change the whole cluster). */
  token: string;
  /** Serve the read routes (GET) without the token. */
  openReads: boolean;
  /** URL other coordinators and the CLI reach this one at; empty = http://<listen>. */
  advertise: string;
  /** Seconds a dead leader keeps the leader lock (its lease TTL): the standby takes over after it. */
  leaderTtl: number;
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  logLevel: string;
  /** The nodes' requirepass, sent to every node (ownership, migrations, health, failover); '' = none. */
  nodePassword: string;
  /** The proxies' admin-token, for the web UI's live proxy stats; '' = none. */
  proxyAdminToken: string;
}

export const DASHBOARD_DEFAULTS: DashboardConfig = {
  listen: '127.0.0.1:18080',
  store: 'file:///tmp/tessera-store',
  product: 'tessera',
  token: '',
  openReads: false,
  advertise: '',
  leaderTtl: 3,
  logLevel: 'info',
  nodePassword: '',
  proxyAdminToken: '',
};

/** TOML names (kebab-case, as in configs/dashboard.toml) → config fields. */
const TOML_NAMES: Record<string, keyof DashboardConfig> = {
  listen: 'listen', store: 'store', product: 'product', token: 'token', 'open-reads': 'openReads',
  advertise: 'advertise', 'leader-ttl': 'leaderTtl', 'log-level': 'logLevel',
  'node-password': 'nodePassword', 'proxy-admin-token': 'proxyAdminToken',
};

/** Each secret: its environment variable and its file flag (as commander names it). */
const SECRETS = [
  { field: 'token', env: 'TESSERA_TOKEN', file: 'tokenFile' },
  { field: 'nodePassword', env: 'TESSERA_NODE_PASSWORD', file: 'nodePasswordFile' },
  { field: 'proxyAdminToken', env: 'TESSERA_PROXY_ADMIN_TOKEN', file: 'proxyAdminTokenFile' },
] as const;

export function dashboardTomlNames(): Record<string, keyof DashboardConfig> {
  return TOML_NAMES;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface DashboardFlags extends Partial<DashboardConfig> {
  config?: string;
  tokenFile?: string;
  nodePasswordFile?: string;
  proxyAdminTokenFile?: string;
}

/** A secret file's content without its final newline. */
function readSecretFile(path: string): string {
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

/**
 * Defaults < TOML file < environment (TESSERA_TOKEN, TESSERA_NODE_PASSWORD,
 * TESSERA_PROXY_ADMIN_TOKEN) < file flags (--token-file, --node-password-file,
 * --proxy-admin-token-file) < flags.
 */
export function loadDashboardConfig(flags: DashboardFlags, env: Readonly<Record<string, string | undefined>> = process.env): DashboardConfig {
  const { config: file, tokenFile: _t, nodePasswordFile: _n, proxyAdminTokenFile: _p, ...overrides } = flags;
  const config: DashboardConfig = { ...DASHBOARD_DEFAULTS };
  if (file) {
    for (const [k, v] of Object.entries(parseToml(readFileSync(file, 'utf8')))) {
      const field = TOML_NAMES[k];
      if (!field) throw new Error(`${file}: unknown key '${k}'`);
      if (typeof v !== typeof DASHBOARD_DEFAULTS[field]) throw new Error(`${file}: '${k}' must be a ${typeof DASHBOARD_DEFAULTS[field]}`);
      (config as unknown as Record<string, unknown>)[field] = v;
    }
  }
  for (const secret of SECRETS) {
    const fromEnv = env[secret.env];
    if (fromEnv) config[secret.field] = fromEnv;
    const path = flags[secret.file];
    if (path !== undefined) config[secret.field] = readSecretFile(path);
  }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  checkKeySegment('product', config.product);
  if (config.token === '') throw new Error('no token: give --token-file FILE, TESSERA_TOKEN, or token in the config file (the API can change the whole cluster)');
  if (!Number.isInteger(config.leaderTtl) || config.leaderTtl < 1 || config.leaderTtl > 60) throw new Error('leader-ttl must be an integer 1..60 (seconds)');
  if (!LOG_LEVELS.includes(config.logLevel)) throw new Error(`log-level must be one of ${LOG_LEVELS.join(', ')}`);
  if (config.advertise !== '' && !/^https?:\/\/[^/\s]+$/.test(config.advertise)) throw new Error(`advertise must be http(s)://host:port, got ${JSON.stringify(config.advertise)}`);
  return config;
}
