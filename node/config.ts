// The node's configuration: every directive with its type, default and validation, in one table.
// Reads redis.conf syntax and `--directive value` arguments; serves CONFIG GET/SET/REWRITE.
import { readFileSync } from 'node:fs';
import { globMatch } from '../common/glob.js';
import { splitInlineArgs } from '../common/resp/request-decoder.js';

type Kind = 'bool' | 'int' | 'memory' | 'enum' | 'string' | 'list';

interface Directive {
  name: string;
  kind: Kind;
  default: string;
  /** Allowed values for 'enum'. */
  values?: readonly string[];
  min?: number;
  max?: number;
  /** Old names still accepted (Redis 7 keeps the ziplist/slave spellings). */
  aliases?: readonly string[];
  /** Only settable at start-up. */
  immutable?: boolean;
  /** Validates and normalises a 'string' or 'list' value; returns an error text or the value. */
  check?: (value: string) => string | { error: string };
}

const EVICTION_POLICIES = [
  'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl',
  'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction',
] as const;

export type EvictionPolicy = (typeof EVICTION_POLICIES)[number];

const DIRECTIVES: Directive[] = [
  { name: 'bind', kind: 'list', default: '* -::*', immutable: true },
  { name: 'port', kind: 'int', default: '6379', min: 0, max: 65535, immutable: true },
  { name: 'protected-mode', kind: 'bool', default: 'yes' },
  { name: 'requirepass', kind: 'string', default: '' },
  { name: 'maxclients', kind: 'int', default: '10000', min: 1, max: 1000000 },
  { name: 'timeout', kind: 'int', default: '0', min: 0, max: 2147483647 },
  { name: 'tcp-keepalive', kind: 'int', default: '300', min: 0, max: 2147483647 },
  { name: 'tcp-backlog', kind: 'int', default: '511', min: 0, max: 65535, immutable: true },
  { name: 'databases', kind: 'int', default: '16', min: 1, max: 1024, immutable: true },
  { name: 'daemonize', kind: 'bool', default: 'no', immutable: true },
  { name: 'pidfile', kind: 'string', default: '', immutable: true },
  { name: 'loglevel', kind: 'enum', default: 'notice', values: ['debug', 'verbose', 'notice', 'warning', 'nothing'] },
  { name: 'logfile', kind: 'string', default: '', immutable: true },
  { name: 'hz', kind: 'int', default: '10', min: 1, max: 500 },
  { name: 'maxmemory', kind: 'memory', default: '0', min: 0 },
  { name: 'maxmemory-policy', kind: 'enum', default: 'noeviction', values: EVICTION_POLICIES },
  { name: 'maxmemory-samples', kind: 'int', default: '5', min: 1, max: 64 },
  { name: 'lfu-log-factor', kind: 'int', default: '10', min: 0, max: 2147483647 },
  { name: 'lfu-decay-time', kind: 'int', default: '1', min: 0, max: 2147483647 },
  { name: 'proto-max-bulk-len', kind: 'memory', default: '536870912', min: 1048576, max: 2 ** 53 },
  { name: 'client-query-buffer-limit', kind: 'memory', default: '1073741824', min: 1048576, max: 2 ** 53 },
  { name: 'client-output-buffer-limit', kind: 'list', default: 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60', check: checkOutputLimits },
  { name: 'slowlog-log-slower-than', kind: 'int', default: '10000', min: -1, max: 2 ** 53 },
  { name: 'slowlog-max-len', kind: 'int', default: '128', min: 0, max: 2 ** 31 },
  { name: 'latency-monitor-threshold', kind: 'int', default: '0', min: 0, max: 2 ** 53 },
  { name: 'active-expire-enabled', kind: 'bool', default: 'yes' },
  { name: 'dir', kind: 'string', default: '.' },
  { name: 'dbfilename', kind: 'string', default: 'dump.rdb' },
  { name: 'save', kind: 'list', default: '3600 1 300 100 60 10000', check: checkSaveRules },
  { name: 'rdbcompression', kind: 'bool', default: 'yes' },
  { name: 'rdbchecksum', kind: 'bool', default: 'yes' },
  { name: 'stop-writes-on-bgsave-error', kind: 'bool', default: 'yes' },
  { name: 'appendonly', kind: 'bool', default: 'no' },
  { name: 'appendfilename', kind: 'string', default: 'appendonly.aof', immutable: true },
  { name: 'appenddirname', kind: 'string', default: 'appendonlydir', immutable: true },
  { name: 'appendfsync', kind: 'enum', default: 'everysec', values: ['always', 'everysec', 'no'] },
  { name: 'aof-load-truncated', kind: 'bool', default: 'yes' },
  { name: 'auto-aof-rewrite-percentage', kind: 'int', default: '100', min: 0, max: 2 ** 31 },
  { name: 'auto-aof-rewrite-min-size', kind: 'memory', default: '67108864', min: 0, max: 2 ** 53 },
  { name: 'replicaof', kind: 'list', default: '', aliases: ['slaveof'], immutable: true },
  { name: 'masterauth', kind: 'string', default: '' },
  { name: 'masteruser', kind: 'string', default: '' },
  { name: 'replica-read-only', kind: 'bool', default: 'yes', aliases: ['slave-read-only'] },
  { name: 'replica-serve-stale-data', kind: 'bool', default: 'yes', aliases: ['slave-serve-stale-data'] },
  { name: 'replica-priority', kind: 'int', default: '100', min: 0, max: 2 ** 31, aliases: ['slave-priority'] },
  { name: 'repl-backlog-size', kind: 'memory', default: '1048576', min: 1, max: 2 ** 53 },
  { name: 'repl-backlog-ttl', kind: 'int', default: '3600', min: 0, max: 2 ** 31 },
  { name: 'repl-timeout', kind: 'int', default: '60', min: 1, max: 2 ** 31 },
  { name: 'repl-ping-replica-period', kind: 'int', default: '10', min: 1, max: 2 ** 31, aliases: ['repl-ping-slave-period'] },
  { name: 'repl-diskless-sync', kind: 'bool', default: 'yes' },
  { name: 'repl-diskless-sync-delay', kind: 'int', default: '5', min: 0, max: 2 ** 31 },
  { name: 'min-replicas-to-write', kind: 'int', default: '0', min: 0, max: 2 ** 31, aliases: ['min-slaves-to-write'] },
  { name: 'min-replicas-max-lag', kind: 'int', default: '10', min: 0, max: 2 ** 31, aliases: ['min-slaves-max-lag'] },
  { name: 'hash-max-listpack-entries', kind: 'int', default: '512', min: 0, max: 2 ** 53, aliases: ['hash-max-ziplist-entries'] },
  { name: 'hash-max-listpack-value', kind: 'int', default: '64', min: 0, max: 2 ** 53, aliases: ['hash-max-ziplist-value'] },
  { name: 'set-max-intset-entries', kind: 'int', default: '512', min: 0, max: 2 ** 53 },
  { name: 'zset-max-listpack-entries', kind: 'int', default: '128', min: 0, max: 2 ** 53, aliases: ['zset-max-ziplist-entries'] },
  { name: 'zset-max-listpack-value', kind: 'int', default: '64', min: 0, max: 2 ** 53, aliases: ['zset-max-ziplist-value'] },
  { name: 'list-max-listpack-size', kind: 'int', default: '-2', min: -5, max: 2 ** 31, aliases: ['list-max-ziplist-size'] },
  { name: 'list-compress-depth', kind: 'int', default: '0', min: 0, max: 2 ** 31 },
  { name: 'notify-keyspace-events', kind: 'string', default: '' },
  { name: 'cluster-enabled', kind: 'bool', default: 'no', immutable: true },
];

const byName = new Map<string, Directive>();
for (const d of DIRECTIVES) {
  byName.set(d.name, d);
  for (const a of d.aliases ?? []) byName.set(a, d);
}

/** Parses "100mb", "1gb", "42" like Redis's memtoull; null when malformed. */
export function parseMemory(text: string): number | null {
  const m = /^(-?\d+)(k|kb|m|mb|g|gb|b)?$/i.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mul = { b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 * 1024, g: 1e9, gb: 1024 * 1024 * 1024 }[unit]!;
  return Number(m[1]) * mul;
}

function checkSaveRules(value: string): string | { error: string } {
  const parts = value.trim() === '' ? [] : value.trim().split(/\s+/);
  if (parts.length % 2 !== 0 || parts.some((p) => !/^\d+$/.test(p))) return { error: 'Invalid save parameters' };
  return parts.join(' ');
}

function checkOutputLimits(value: string): string | { error: string } {
  const parts = value.trim().split(/\s+/);
  if (parts.length % 4 !== 0) return { error: 'Wrong number of arguments in buffer limit configuration.' };
  for (let i = 0; i < parts.length; i += 4) {
    if (!['normal', 'slave', 'replica', 'pubsub', 'master'].includes(parts[i]!.toLowerCase())) {
      return { error: 'Invalid client class specified in buffer limit configuration.' };
    }
    if (parseMemory(parts[i + 1]!) === null || parseMemory(parts[i + 2]!) === null || !/^\d+$/.test(parts[i + 3]!)) {
      return { error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' };
    }
  }
  return value;
}

export type ConfigListener = (name: string, value: string) => void;

export class NodeConfig {
  private values = new Map<string, string>();
  private listeners: ConfigListener[] = [];
  /** The file it was loaded from (for CONFIG REWRITE), if any. */
  file: string | null = null;

  constructor() {
    for (const d of DIRECTIVES) this.values.set(d.name, d.default);
  }

  /** Called after every successful change with the canonical name and the new value. */
  onChange(listener: ConfigListener): void {
    this.listeners.push(listener);
  }

  get(name: string): string {
    return this.values.get(name)!;
  }

  getInt(name: string): number {
    const d = byName.get(name)!;
    const v = this.values.get(d.name)!;
    return d.kind === 'memory' ? parseMemory(v)! : Number(v);
  }

  getBool(name: string): boolean {
    return this.values.get(name) === 'yes';
  }

  /** Validates and applies one directive; returns an error reason or null. */
  set(name: string, rawValue: string, startup = false): string | null {
    const d = byName.get(name.toLowerCase());
    if (!d) return `Unknown option or number of arguments for CONFIG SET - '${name}'`;
    if (d.immutable && !startup) return `can't set immutable config`;
    const value = normalise(d, rawValue);
    if (typeof value !== 'string') return value.error;
    this.values.set(d.name, value);
    for (const l of this.listeners) l(d.name, value);
    return null;
  }

  /** Every (name, value) whose name matches one of the glob patterns, like CONFIG GET. */
  matching(patterns: readonly string[]): Array<[string, string]> {
    const out = new Map<string, string>();
    for (const p of patterns) {
      const lower = p.toLowerCase();
      const exact = byName.get(lower);
      if (exact && !/[*?[]/.test(p)) {
        out.set(lower, this.values.get(exact.name)!);
        continue;
      }
      for (const d of DIRECTIVES) {
        if (globMatch(lower, d.name)) out.set(d.name, this.values.get(d.name)!);
        for (const a of d.aliases ?? []) if (globMatch(lower, a)) out.set(a, this.values.get(d.name)!);
      }
    }
    return [...out];
  }

  /** Applies a redis.conf text (one directive per line). Throws with Redis's message on a bad line. */
  loadText(text: string): void {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '' || line.startsWith('#')) continue;
      const args = splitInlineArgs(line);
      if (!args || args.length === 0) throw new ConfigError(i + 1, line, 'Unbalanced quotes in configuration line');
      const [name, ...rest] = args as [string, ...string[]];
      if (name.toLowerCase() === 'include') {
        for (const f of rest) this.loadText(readFileSync(f, 'latin1'));
        continue;
      }
      if (!byName.has(name.toLowerCase()) || rest.length === 0 && byName.get(name.toLowerCase())!.kind !== 'list') {
        throw new ConfigError(i + 1, line, 'Bad directive or wrong number of arguments');
      }
      const d = byName.get(name.toLowerCase())!;
      const value = d.kind === 'list' ? rest.join(' ') : rest.length === 1 ? rest[0]! : null;
      if (value === null) throw new ConfigError(i + 1, line, 'wrong number of arguments');
      const err = this.set(name, value, true);
      if (err) throw new ConfigError(i + 1, line, err);
    }
  }

  /** Renders the current configuration as redis.conf text (CONFIG REWRITE keeps only non-defaults). */
  render(onlyChanged: boolean): string {
    const out: string[] = [];
    for (const d of DIRECTIVES) {
      const v = this.values.get(d.name)!;
      if (onlyChanged && v === d.default) continue;
      out.push(`${d.name} ${quoteConfig(v, d.kind)}`);
    }
    return out.join('\n') + '\n';
  }

  static directiveNames(): string[] {
    return DIRECTIVES.map((d) => d.name);
  }

  static defaultOf(name: string): string | undefined {
    return byName.get(name)?.default;
  }
}

export class ConfigError extends Error {
  constructor(line: number, text: string, reason: string) {
    super(`*** FATAL CONFIG FILE ERROR ***\nline ${line}\n>>> '${text}'\n${reason}`);
  }
}

function quoteConfig(v: string, kind: Kind): string {
  if (kind === 'list') return v === '' ? '""' : v;
  return v === '' || /[\s"']/.test(v) ? JSON.stringify(v) : v;
}

function normalise(d: Directive, raw: string): string | { error: string } {
  switch (d.kind) {
    case 'bool': {
      const v = raw.toLowerCase();
      if (v !== 'yes' && v !== 'no') return { error: 'argument must be \'yes\' or \'no\'' };
      return v;
    }
    case 'int':
    case 'memory': {
      const n = d.kind === 'memory' ? parseMemory(raw) : /^-?\d+$/.test(raw.trim()) ? Number(raw) : null;
      if (n === null || !Number.isFinite(n)) return { error: 'argument couldn\'t be parsed into an integer' };
      if ((d.min !== undefined && n < d.min) || (d.max !== undefined && n > d.max)) {
        return { error: `argument must be between ${d.min} and ${d.max} inclusive` };
      }
      return String(n);
    }
    case 'enum': {
      const v = raw.toLowerCase();
      if (!d.values!.includes(v)) return { error: `argument(s) must be one of the following: ${d.values!.join(', ')}` };
      return v;
    }
    case 'string':
    case 'list':
      return d.check ? d.check(raw) : raw;
  }
}
