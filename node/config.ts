// The node's configuration: every directive with its type, default and validation, in one table.
// Reads redis.conf syntax and `--directive value` arguments; serves CONFIG GET/SET/REWRITE.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { globMatch } from '../common/glob.js';
import { splitInlineArgs } from '../common/resp/request-decoder.js';
import { INT64_MAX, INT64_MIN } from './keyspace/types/canonical-int.js';
import { checkKeyspaceEvents } from './notify.js';

type Kind = 'bool' | 'int' | 'memory' | 'enum' | 'string' | 'list';

interface Directive {
  name: string;
  kind: Kind;
  default: string;
  /** Allowed values for 'enum'. */
  values?: readonly string[];
  /** Bounds of an 'int' or 'memory' value, checked exactly (bigint: Redis's long long range). */
  min?: number | bigint;
  max?: number | bigint;
  /** Old names still accepted (Redis 7 keeps the ziplist/slave spellings). */
  aliases?: readonly string[];
  /** Only settable at start-up. */
  immutable?: boolean;
  /**
   * Redis 7's PROTECTED_CONFIG: CONFIG SET refused unless enable-protected-configs is yes (or
   * local and the client is on loopback), because a writable dir or dbfilename lets a client
   * write a file anywhere (the classic SAVE-to-cron attack).
   */
  protected?: boolean;
  /**
   * A 'memory' value may also be a percentage ("10%", at most 100): stored as the text, and as
   * minus the percentage among the numbers (Redis's convention for maxmemory-clients).
   */
  percent?: boolean;
  /** Values outside [lo, hi] are accepted but stored clamped (Redis's hz, repl-backlog-size). */
  clamp?: readonly [number | bigint, number | bigint];
  /** Validates and normalises a 'string' or 'list' value; returns an error text or the value. */
  check?: (value: string) => string | { error: string };
  /**
   * Further checks for CONFIG SET only (start-up has its own, e.g. the node creates its dir);
   * `current` reads the value in force.
   */
  checkSet?: (value: string, current: (name: string) => string) => string | { error: string };
  /** Combines a checked value with the one in force (a directive that sets parts of a whole). */
  merge?: (current: string, value: string) => string;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const UINT_MAX = 4294967295;
// int and memory values are checked against bigint bounds (INT64_MAX: Redis's long long) and
// kept as exact text (CONFIG GET shows 9223372036854775807 as set); the numbers getInt() serves
// are JS numbers, exact to 2^53, which is all the node needs of them.

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
  { name: 'maxclients', kind: 'int', default: '10000', min: 1, max: UINT_MAX },
  { name: 'timeout', kind: 'int', default: '0', min: 0, max: INT_MAX },
  { name: 'tcp-keepalive', kind: 'int', default: '300', min: 0, max: INT_MAX },
  { name: 'tcp-backlog', kind: 'int', default: '511', min: 0, max: 65535, immutable: true },
  { name: 'databases', kind: 'int', default: '16', min: 1, max: 1024, immutable: true },
  { name: 'daemonize', kind: 'bool', default: 'no', immutable: true },
  { name: 'pidfile', kind: 'string', default: '', immutable: true },
  { name: 'loglevel', kind: 'enum', default: 'notice', values: ['debug', 'verbose', 'notice', 'warning'] },
  { name: 'logfile', kind: 'string', default: '', immutable: true },
  { name: 'hz', kind: 'int', default: '10', min: 0, max: INT_MAX, clamp: [1, 500] },
  { name: 'dynamic-hz', kind: 'bool', default: 'yes' },
  { name: 'activerehashing', kind: 'bool', default: 'yes' },
  { name: 'enable-debug-command', kind: 'enum', default: 'no', values: ['no', 'yes', 'local'], immutable: true },
  { name: 'enable-protected-configs', kind: 'enum', default: 'no', values: ['no', 'yes', 'local'], immutable: true },
  { name: 'maxmemory', kind: 'memory', default: '0', min: 0, max: INT64_MAX },
  { name: 'maxmemory-policy', kind: 'enum', default: 'noeviction', values: EVICTION_POLICIES },
  { name: 'maxmemory-samples', kind: 'int', default: '5', min: 1, max: INT_MAX },
  // Client eviction (node/client-eviction.ts): bytes, or a percentage of maxmemory ("10%").
  { name: 'maxmemory-clients', kind: 'memory', default: '0', min: 0, max: INT64_MAX, percent: true },
  { name: 'maxmemory-eviction-tenacity', kind: 'int', default: '10', min: 0, max: 100 },
  { name: 'replica-ignore-maxmemory', kind: 'bool', default: 'yes', aliases: ['slave-ignore-maxmemory'] },
  { name: 'lazyfree-lazy-eviction', kind: 'bool', default: 'no' },
  { name: 'lazyfree-lazy-expire', kind: 'bool', default: 'no' },
  { name: 'lazyfree-lazy-server-del', kind: 'bool', default: 'no' },
  { name: 'lazyfree-lazy-user-del', kind: 'bool', default: 'no' },
  { name: 'lazyfree-lazy-user-flush', kind: 'bool', default: 'no' },
  { name: 'lfu-log-factor', kind: 'int', default: '10', min: 0, max: INT_MAX },
  { name: 'lfu-decay-time', kind: 'int', default: '1', min: 0, max: INT_MAX },
  { name: 'proto-max-bulk-len', kind: 'memory', default: '536870912', min: 1048576, max: INT64_MAX },
  { name: 'client-query-buffer-limit', kind: 'memory', default: '1073741824', min: 1048576, max: INT64_MAX },
  { name: 'client-output-buffer-limit', kind: 'list', default: 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60', check: checkOutputLimits, merge: mergeOutputLimits },
  { name: 'slowlog-log-slower-than', kind: 'int', default: '10000', min: -1, max: INT64_MAX },
  { name: 'slowlog-max-len', kind: 'int', default: '128', min: 0, max: INT64_MAX },
  { name: 'acllog-max-len', kind: 'int', default: '128', min: 0, max: INT64_MAX },
  { name: 'tracking-table-max-keys', kind: 'int', default: '1000000', min: 0, max: INT64_MAX },
  { name: 'latency-monitor-threshold', kind: 'int', default: '0', min: 0, max: INT64_MAX },
  { name: 'latency-tracking', kind: 'bool', default: 'yes' },
  { name: 'latency-tracking-info-percentiles', kind: 'list', default: '50 99 99.9', check: checkPercentiles },
  { name: 'busy-reply-threshold', kind: 'int', default: '5000', min: 0, max: INT64_MAX, aliases: ['lua-time-limit'] },
  { name: 'active-expire-effort', kind: 'int', default: '1', min: 1, max: 10 },
  { name: 'dir', kind: 'string', default: '.', protected: true, checkSet: checkDirExists },
  { name: 'dbfilename', kind: 'string', default: 'dump.rdb', protected: true, check: (v) => baseName(v, "dbfilename can't be a path, just a filename") },
  { name: 'save', kind: 'list', default: '3600 1 300 100 60 10000', check: checkSaveRules },
  { name: 'rdbcompression', kind: 'bool', default: 'yes' },
  { name: 'rdbchecksum', kind: 'bool', default: 'yes', immutable: true },
  { name: 'stop-writes-on-bgsave-error', kind: 'bool', default: 'yes' },
  { name: 'appendonly', kind: 'bool', default: 'no' },
  { name: 'appendfilename', kind: 'string', default: 'appendonly.aof', immutable: true, check: (v) => nonEmptyBaseName(v, 'appendfilename', 'filename') },
  { name: 'appenddirname', kind: 'string', default: 'appendonlydir', immutable: true, check: (v) => nonEmptyBaseName(v, 'appenddirname', 'dirname') },
  { name: 'appendfsync', kind: 'enum', default: 'everysec', values: ['everysec', 'always', 'no'] },
  { name: 'aof-load-truncated', kind: 'bool', default: 'yes' },
  { name: 'auto-aof-rewrite-percentage', kind: 'int', default: '100', min: 0, max: INT_MAX },
  { name: 'auto-aof-rewrite-min-size', kind: 'memory', default: '67108864', min: 0, max: INT64_MAX },
  { name: 'replicaof', kind: 'list', default: '', aliases: ['slaveof'], immutable: true },
  { name: 'masterauth', kind: 'string', default: '' },
  { name: 'masteruser', kind: 'string', default: '' },
  { name: 'replica-read-only', kind: 'bool', default: 'yes', aliases: ['slave-read-only'] },
  { name: 'replica-serve-stale-data', kind: 'bool', default: 'yes', aliases: ['slave-serve-stale-data'] },
  { name: 'replica-lazy-flush', kind: 'bool', default: 'no', aliases: ['slave-lazy-flush'] },
  { name: 'replica-priority', kind: 'int', default: '100', min: 0, max: INT_MAX, aliases: ['slave-priority'] },
  { name: 'repl-backlog-size', kind: 'memory', default: '1048576', min: 1, max: INT64_MAX, clamp: [16384, INT64_MAX] },
  { name: 'repl-backlog-ttl', kind: 'int', default: '3600', min: 0, max: INT64_MAX },
  { name: 'repl-timeout', kind: 'int', default: '60', min: 1, max: INT_MAX },
  { name: 'repl-ping-replica-period', kind: 'int', default: '10', min: 1, max: INT_MAX, aliases: ['repl-ping-slave-period'] },
  { name: 'repl-diskless-sync', kind: 'bool', default: 'yes' },
  { name: 'repl-diskless-sync-delay', kind: 'int', default: '5', min: 0, max: INT_MAX },
  { name: 'min-replicas-to-write', kind: 'int', default: '0', min: 0, max: INT_MAX, aliases: ['min-slaves-to-write'] },
  { name: 'min-replicas-max-lag', kind: 'int', default: '10', min: 0, max: INT_MAX, aliases: ['min-slaves-max-lag'] },
  { name: 'hash-max-listpack-entries', kind: 'int', default: '512', min: 0, max: INT64_MAX, aliases: ['hash-max-ziplist-entries'] },
  { name: 'hash-max-listpack-value', kind: 'memory', default: '64', min: 0, max: INT64_MAX, aliases: ['hash-max-ziplist-value'] },
  { name: 'set-max-intset-entries', kind: 'int', default: '512', min: 0, max: INT64_MAX },
  { name: 'zset-max-listpack-entries', kind: 'int', default: '128', min: 0, max: INT64_MAX, aliases: ['zset-max-ziplist-entries'] },
  { name: 'zset-max-listpack-value', kind: 'memory', default: '64', min: 0, max: INT64_MAX, aliases: ['zset-max-ziplist-value'] },
  { name: 'hll-sparse-max-bytes', kind: 'memory', default: '3000', min: 0, max: INT64_MAX },
  { name: 'list-max-listpack-size', kind: 'int', default: '-2', min: INT_MIN, max: INT_MAX, aliases: ['list-max-ziplist-size'] },
  { name: 'list-compress-depth', kind: 'int', default: '0', min: 0, max: INT_MAX },
  { name: 'notify-keyspace-events', kind: 'string', default: '', check: checkKeyspaceEvents },
  { name: 'cluster-enabled', kind: 'bool', default: 'no', immutable: true },
  // Tessera's cluster mode (node/cluster/): per-slot ownership set by the coordinator, persisted in `dir`.
  { name: 'slot-ownership', kind: 'bool', default: 'no', immutable: true },
  { name: 'slot-ownership-file', kind: 'string', default: 'slots.json', immutable: true, check: (v) => nonEmptyBaseName(v, 'slot-ownership-file', 'filename') },
];

/** Directives holding passwords (Redis's SENSITIVE_CONFIG): never echoed into logs. */
const SECRET_DIRECTIVES = new Set(['requirepass', 'masterauth']);

const byName = new Map<string, Directive>();
for (const d of DIRECTIVES) {
  byName.set(d.name, d);
  for (const a of d.aliases ?? []) byName.set(a, d);
}

const MEMORY_UNITS: Record<string, bigint> = { b: 1n, k: 1000n, kb: 1024n, m: 1000000n, mb: 1048576n, g: 1000000000n, gb: 1073741824n };

/**
 * Parses "100mb", "1gb", "42" exactly, like Redis's memtoull: digits (none = 0) and an optional
 * unit, no sign, no spaces; null when malformed or past 2^64-1.
 */
export function parseMemoryExact(text: string): bigint | null {
  const m = /^(\d*)(k|kb|m|mb|g|gb|b)?$/i.exec(text);
  if (!m) return null;
  const n = BigInt(m[1] === '' ? '0' : m[1]!) * MEMORY_UNITS[(m[2] ?? 'b').toLowerCase()]!;
  return n > 2n ** 64n - 1n ? null : n;
}

/** parseMemoryExact() as a number (exact to 2^53; the node's limits are far below that). */
export function parseMemory(text: string): number | null {
  const n = parseMemoryExact(text);
  return n === null ? null : Number(n);
}

function checkSaveRules(value: string): string | { error: string } {
  const parts = value.trim() === '' ? [] : value.trim().split(/\s+/);
  if (parts.length % 2 !== 0 || parts.some((p) => !/^\d+$/.test(p))) return { error: 'Invalid save parameters' };
  return parts.join(' ');
}

/** Redis's latency-tracking-info-percentiles: numbers in [0, 100], shown as printf %f trimmed. */
function checkPercentiles(value: string): string | { error: string } {
  const parts = value.trim() === '' ? [] : value.trim().split(/\s+/);
  const nums = parts.map((p) => (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(p) ? Number(p) : NaN));
  if (nums.some((n) => Number.isNaN(n))) return { error: 'Invalid latency-tracking-info-percentiles parameters' };
  if (nums.some((n) => n < 0 || n > 100)) return { error: 'latency-tracking-info-percentiles parameters should sit between [0.0,100.0]' };
  return nums.map(formatPercentile).join(' ');
}

/** printf("%f") with trailing zeros (and a bare dot) trimmed, like Redis's trimDoubleString. */
export function formatPercentile(n: number): string {
  return n.toFixed(6).replace(/\.?0+$/, '');
}

/** Redis's pathIsBaseName: file names set by config may not climb out of `dir`. */
function baseName(value: string, error: string): string | { error: string } {
  return value.includes('/') || value.includes('\\') ? { error } : value;
}

function nonEmptyBaseName(value: string, name: string, what: string): string | { error: string } {
  if (value === '') return { error: `${name} can't be empty` };
  return baseName(value, `${name} can't be a path, just a ${what}`);
}

/**
 * CONFIG SET dir: Redis chdir()s (so a relative dir is taken from the current one) and reports
 * strerror; we check the same and keep the absolute path (Redis's CONFIG GET dir shows getcwd()).
 */
function checkDirExists(value: string, current: (name: string) => string): string | { error: string } {
  const dir = resolve(current('dir'), value);
  try {
    if (!statSync(dir).isDirectory()) return { error: 'Not a directory' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { error: code === 'EACCES' ? 'Permission denied' : code === 'ENOTDIR' ? 'Not a directory' : 'No such file or directory' };
  }
  return dir;
}

const OUTPUT_CLASSES = ['normal', 'slave', 'pubsub'] as const;

/**
 * client-output-buffer-limit: groups of `class hard soft soft-seconds`, checked, in bytes, with
 * `replica` spelled `slave` as Redis shows it (master is no class of its own here). Empty = no
 * change.
 */
function checkOutputLimits(value: string): string | { error: string } {
  const parts = value.trim() === '' ? [] : value.trim().split(/\s+/);
  if (parts.length % 4 !== 0) return { error: 'Wrong number of arguments in buffer limit configuration.' };
  const out: string[] = [];
  for (let i = 0; i < parts.length; i += 4) {
    const cls = parts[i]!.toLowerCase();
    if (!['normal', 'slave', 'replica', 'pubsub'].includes(cls)) {
      return { error: 'Invalid client class specified in buffer limit configuration.' };
    }
    const hard = parseMemoryExact(parts[i + 1]!);
    const soft = parseMemoryExact(parts[i + 2]!);
    if (hard === null || soft === null || !/^\d+$/.test(parts[i + 3]!)) {
      return { error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' };
    }
    out.push(cls === 'replica' ? 'slave' : cls, String(hard), String(soft), String(BigInt(parts[i + 3]!)));
  }
  return out.join(' ');
}

/** Redis sets only the classes named and shows all three, in its order. */
function mergeOutputLimits(current: string, value: string): string {
  const limits = new Map<string, string>();
  for (const text of [current, value]) {
    const parts = text === '' ? [] : text.split(' ');
    for (let i = 0; i < parts.length; i += 4) limits.set(parts[i]!, parts.slice(i + 1, i + 4).join(' '));
  }
  return OUTPUT_CLASSES.map((c) => `${c} ${limits.get(c) ?? '0 0 0'}`).join(' ');
}

export type ConfigListener = (name: string, value: string) => void;

export class NodeConfig {
  private values = new Map<string, string>();
  private listeners: ConfigListener[] = [];
  /** The file it was loaded from (for CONFIG REWRITE), if any. */
  file: string | null = null;

  /** Parsed numbers, by name and alias: getInt() runs on hot paths (per command, per read). */
  private readonly ints = new Map<string, number>();

  constructor() {
    for (const d of DIRECTIVES) this.store(d, d.default);
  }

  private store(d: Directive, value: string): void {
    this.values.set(d.name, value);
    if (d.kind === 'int' || d.kind === 'memory') {
      const n = d.percent === true && value.endsWith('%') ? -Number(value.slice(0, -1)) : d.kind === 'memory' ? parseMemory(value)! : Number(value);
      this.ints.set(d.name, n);
      for (const a of d.aliases ?? []) this.ints.set(a, n);
    }
  }

  /** Called after every successful change with the canonical name and the new value. */
  onChange(listener: ConfigListener): void {
    this.listeners.push(listener);
  }

  get(name: string): string {
    return this.values.get(name)!;
  }

  getInt(name: string): number {
    const n = this.ints.get(name);
    if (n === undefined) throw new Error(`config ${name} is not numeric`);
    return n;
  }

  getBool(name: string): boolean {
    return this.values.get(name) === 'yes';
  }

  /** Validates and applies one directive; returns an error reason or null. */
  set(name: string, rawValue: string, startup = false): string | null {
    const d = byName.get(name.toLowerCase());
    if (!d) return `Unknown option or number of arguments for CONFIG SET - '${name}'`;
    const value = this.validate(d, rawValue, startup);
    if (typeof value !== 'string') return value.error;
    this.apply(d, value);
    return null;
  }

  /**
   * Whether a client may CONFIG SET protected directives (Redis's allowProtectedAction on
   * enable-protected-configs): always with `yes`, from loopback or a unix socket with `local`.
   */
  allowsProtected(clientIsLocal: boolean): boolean {
    const mode = this.get('enable-protected-configs');
    return mode === 'yes' || (mode === 'local' && clientIsLocal);
  }

  /**
   * CONFIG SET name value [name value …]: all or nothing, like Redis 7. Returns the full error
   * reply text, or null when every pair was applied. `clientIsLocal` decides protected configs
   * under enable-protected-configs local.
   */
  setMany(pairs: ReadonlyArray<readonly [string, string]>, clientIsLocal = false): string | null {
    const allowProtected = this.allowsProtected(clientIsLocal);
    const seen = new Set<Directive>();
    const planned: Array<[Directive, string]> = [];
    for (const [name, raw] of pairs) {
      const d = byName.get(name.toLowerCase());
      if (!d) return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
      if (seen.has(d)) return `ERR CONFIG SET failed (possibly related to argument '${name}') - duplicate parameter`;
      seen.add(d);
      const value = this.validate(d, raw, false, allowProtected);
      if (typeof value !== 'string') return `ERR CONFIG SET failed (possibly related to argument '${name}') - ${value.error}`;
      planned.push([d, value]);
    }
    for (const [d, value] of planned) this.apply(d, value);
    return null;
  }

  private validate(d: Directive, raw: string, startup: boolean, allowProtected = false): string | { error: string } {
    if (d.immutable && !startup) return { error: "can't set immutable config" };
    if (d.protected && !startup && !allowProtected) return { error: "can't set protected config" };
    const value = normalise(d, raw);
    if (typeof value !== 'string' || startup || !d.checkSet) return value;
    return d.checkSet(value, (name) => this.get(name));
  }

  private apply(d: Directive, value: string): void {
    if (d.clamp) {
      const [lo, hi] = [BigInt(d.clamp[0]), BigInt(d.clamp[1])];
      const n = BigInt(value);
      value = String(n < lo ? lo : n > hi ? hi : n);
    }
    if (d.merge) value = d.merge(this.get(d.name), value);
    this.store(d, value);
    for (const l of this.listeners) l(d.name, value);
  }

  /**
   * Every (name, value) whose name matches one of the glob patterns, like CONFIG GET. An exact
   * (non-glob) name is echoed as the client spelled it, as Redis does.
   */
  matching(patterns: readonly string[]): Array<[string, string]> {
    const out = new Map<string, string>();
    for (const p of patterns) {
      const lower = p.toLowerCase();
      const exact = byName.get(lower);
      if (!/[*?[]/.test(p)) {
        if (exact) out.set(p, this.values.get(exact.name)!);
        continue;
      }
      // Redis matches with nocase=1 on the pattern as given (lowering it first would change
      // escaped class members, which Redis compares exactly).
      for (const d of DIRECTIVES) {
        if (globMatch(p, d.name, true)) out.set(d.name, this.values.get(d.name)!);
        for (const a of d.aliases ?? []) if (globMatch(p, a, true)) out.set(a, this.values.get(d.name)!);
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
      if (value === null) throw new ConfigError(i + 1, SECRET_DIRECTIVES.has(d.name) ? `${d.name} (redacted)` : line, 'wrong number of arguments');
      const err = this.set(name, value, true);
      // The offending line is printed to the log: never with a password in it.
      if (err) throw new ConfigError(i + 1, SECRET_DIRECTIVES.has(d.name) ? `${d.name} (redacted)` : line, err);
    }
  }

  /** Renders the current configuration as redis.conf text (only non-defaults when asked). */
  render(onlyChanged: boolean): string {
    const out: string[] = [];
    for (const d of DIRECTIVES) {
      const v = this.values.get(d.name)!;
      if (onlyChanged && v === d.default) continue;
      out.push(`${d.name} ${quoteConfig(v, d.kind)}`);
    }
    return out.join('\n') + '\n';
  }

  /**
   * CONFIG REWRITE: rewrites the file it was loaded from. Comments, blank lines and unknown
   * lines stay; each known directive line gets the current value (first occurrence; later
   * duplicates are dropped); directives changed from their default and absent from the file are
   * appended. Throws when there is no file. Written to a temp file then renamed (atomic).
   */
  rewrite(): void {
    if (this.file === null) throw new Error('The server is running without a config file');
    let lines: string[];
    try {
      lines = readFileSync(this.file, 'latin1').split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
    } catch {
      lines = [];
    }
    const written = new Set<Directive>();
    const out: string[] = [];
    for (const line of lines) {
      const trimmed = line.trim();
      const name = trimmed.split(/\s+/, 1)[0]!.toLowerCase();
      const d = trimmed === '' || trimmed.startsWith('#') ? undefined : byName.get(name);
      if (!d) {
        out.push(line);
        continue;
      }
      if (written.has(d)) continue;
      written.add(d);
      // A master has no `replicaof` line at all (Redis removes it: `replicaof ""` means nothing).
      if (d.name === 'replicaof' && this.values.get(d.name) === '') continue;
      out.push(`${d.name} ${quoteConfig(this.values.get(d.name)!, d.kind)}`);
    }
    const appended: string[] = [];
    for (const d of DIRECTIVES) {
      const v = this.values.get(d.name)!;
      if (written.has(d) || v === d.default) continue;
      appended.push(`${d.name} ${quoteConfig(v, d.kind)}`);
    }
    if (appended.length > 0) out.push(REWRITE_SIGNATURE, ...appended);
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, out.join('\n') + '\n', 'latin1');
    renameSync(tmp, this.file);
  }

  static directiveNames(): string[] {
    return DIRECTIVES.map((d) => d.name);
  }

  static defaultOf(name: string): string | undefined {
    return byName.get(name)?.default;
  }
}

// Redis marks the block it appends with this line.
const REWRITE_SIGNATURE = '# Generated by CONFIG REWRITE';

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
      if (d.percent === true) {
        const pct = /^(\d+)%$/.exec(raw);
        if (pct !== null) return Number(pct[1]) > 100 ? { error: 'percentage argument must be less or equal to 100' } : `${Number(pct[1])}%`;
        if (parseMemory(raw) === null || raw.includes('-')) return { error: 'argument must be a memory or percent value' };
      }
      // Exact, as Redis's string2ll / memtoull: beyond a long long an integer does not parse.
      const n = d.kind === 'memory' ? parseMemoryExact(raw) : /^-?\d+$/.test(raw) ? BigInt(raw) : null;
      if (n === null || (d.kind === 'int' && (n < INT64_MIN || n > INT64_MAX))) {
        return { error: d.kind === 'memory' ? 'argument must be a memory value' : 'argument couldn\'t be parsed into an integer' };
      }
      if ((d.min !== undefined && n < BigInt(d.min)) || (d.max !== undefined && n > BigInt(d.max))) {
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
