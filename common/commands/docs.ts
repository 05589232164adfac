// COMMAND output derived from the command table: Redis 7 COMMAND INFO entries (flags, ACL
// categories, tips, key specs, subcommands), COMMAND LIST filters and minimal COMMAND DOCS.
// Reads the table only; Redis's per-command JSON details we do not keep are approximated.
import { ERR } from '../errors.js';
import { keyIndexes } from './keys.js';
import { COMMANDS, arityOk, lookupCommand, lookupSubcommand } from './table.js';
import type { CommandSpec } from './spec.js';
import type { ReplyWriter } from '../resp/reply-writer.js';
import { globMatch } from '../glob.js';

// Redis's ACL category bits, in the order COMMAND INFO prints them.
export const CATEGORY_ORDER = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog',
  'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction',
  'scripting',
] as const;
type Category = (typeof CATEGORY_ORDER)[number];

const GROUP_CATEGORY: Partial<Record<CommandSpec['group'], Category>> = {
  generic: 'keyspace', string: 'string', list: 'list', hash: 'hash', set: 'set', 'sorted-set': 'sortedset',
  pubsub: 'pubsub', transactions: 'transaction', connection: 'connection', scripting: 'scripting',
};

// Categories Redis's command JSON declares explicitly beyond what flags and group imply.
const EXTRA_CATEGORIES: Record<string, Category[]> = {
  keys: ['dangerous'], flushall: ['keyspace', 'dangerous'], flushdb: ['keyspace', 'dangerous'], sort: ['set', 'sortedset', 'list', 'dangerous'],
  sort_ro: ['set', 'sortedset', 'list', 'dangerous'], swapdb: ['keyspace', 'dangerous'], info: ['dangerous'], lastsave: ['admin', 'dangerous'],
  dbsize: ['keyspace'], migrate: ['dangerous'], restore: ['dangerous'], 'restore-asking': ['dangerous'], role: ['admin', 'dangerous'], wait: ['connection'],
  command: ['connection'], randomkey: [], 'client|kill': ['connection'], 'client|list': ['connection'],
  'client|pause': ['connection'], 'client|unpause': ['connection'], 'client|no-evict': ['connection'],
  'client|unblock': ['connection'], 'client|id': ['connection'], 'client|info': ['connection'], 'client|setname': ['connection'],
  'client|getname': ['connection'], 'client|reply': ['connection'], 'client|help': ['connection'], 'client|setinfo': ['connection'],
  'slowlog|get': ['dangerous'], 'slowlog|len': ['dangerous'], 'slowlog|reset': ['dangerous'], 'latency|latest': ['dangerous'],
  'latency|history': ['dangerous'], 'latency|reset': ['dangerous'], 'latency|histogram': ['dangerous'], asking: ['connection'],
};

// Commands Redis gives no group category: containers (except COMMAND), and a few others.
const NO_GROUP_CATEGORY = new Set(['sort', 'sort_ro', 'pubsub|help', 'wait']);

/** The name's data-type family when Redis files it apart from our table group. */
function typeCategory(spec: CommandSpec): Category | undefined {
  if (NO_GROUP_CATEGORY.has(spec.name) || (spec.subcommands && spec.name !== 'command')) return undefined;
  const base = spec.name.split('|')[0]!;
  if (/^pf/.test(base)) return 'hyperloglog';
  if (/^geo/.test(base)) return 'geo';
  if (/^x[a-z]/.test(base)) return 'stream';
  if (/^(setbit|getbit|bitcount|bitpos|bitop|bitfield|bitfield_ro)$/.test(base)) return 'bitmap';
  if (base === 'command' || base === 'client') return 'connection';
  return GROUP_CATEGORY[spec.group];
}

/** ACL categories of a command, derived as Redis's setImplicitACLCategories does. */
export function aclCategories(spec: CommandSpec): Category[] {
  const cats = new Set<Category>();
  const typed = typeCategory(spec);
  if (typed) cats.add(typed);
  for (const c of EXTRA_CATEGORIES[spec.name] ?? []) cats.add(c);
  const f = spec.flags;
  if (f.has('write')) cats.add('write');
  if (f.has('readonly') && !cats.has('scripting')) cats.add('read');
  if (f.has('admin')) {
    cats.add('admin');
    cats.add('dangerous');
  }
  if (f.has('pubsub')) cats.add('pubsub');
  if (f.has('fast')) cats.add('fast');
  if (f.has('blocking')) cats.add('blocking');
  if (!f.has('fast')) cats.add('slow');
  return CATEGORY_ORDER.filter((c) => cats.has(c));
}

// Tips Redis's command JSON states that our table does not carry (nondeterministic output,
// all-nodes policies of admin commands), in Redis's order.
const EXPLICIT_TIPS: Record<string, string[]> = {
  'xadd': ['nondeterministic_output'],
  'xautoclaim': ['nondeterministic_output'],
  'xclaim': ['nondeterministic_output'],
  'xinfo|consumers': ['nondeterministic_output'],
  'xpending': ['nondeterministic_output'],
  'xtrim': ['nondeterministic_output'],
  'client|info': ['nondeterministic_output'],
  'client|list': ['nondeterministic_output'],
  'command': ['nondeterministic_output_order'],
  'command|docs': ['nondeterministic_output_order'],
  'command|info': ['nondeterministic_output_order'],
  'command|list': ['nondeterministic_output_order'],
  'config|set': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  'dump': ['nondeterministic_output'],
  'function|delete': ['request_policy:all_shards', 'response_policy:all_succeeded'],
  'function|dump': [],
  'function|flush': ['request_policy:all_shards', 'response_policy:all_succeeded'],
  'function|kill': ['request_policy:all_shards', 'response_policy:one_succeeded'],
  'function|list': ['nondeterministic_output_order'],
  'function|load': ['request_policy:all_shards', 'response_policy:all_succeeded'],
  'function|restore': ['request_policy:all_shards', 'response_policy:all_succeeded'],
  'function|stats': ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'],
  'script|exists': ['request_policy:all_shards', 'response_policy:agg_logical_and'],
  'script|flush': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  'script|kill': ['request_policy:all_shards', 'response_policy:one_succeeded'],
  'script|load': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  'hgetall': ['nondeterministic_output_order'],
  'hkeys': ['nondeterministic_output_order'],
  'hrandfield': ['nondeterministic_output'],
  'hscan': ['nondeterministic_output'],
  'hvals': ['nondeterministic_output_order'],
  'info': ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'],
  'lastsave': ['nondeterministic_output'],
  'migrate': ['nondeterministic_output'],
  'memory|stats': ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'],
  'memory|purge': ['request_policy:all_shards', 'response_policy:all_succeeded'],
  'memory|malloc-stats': ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'],
  'latency|history': ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special'],
  'latency|latest': ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special'],
  'latency|histogram': ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special'],
  'latency|reset': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  'msetnx': ['request_policy:multi_shard', 'response_policy:agg_min'],
  'object|encoding': ['nondeterministic_output'],
  'object|freq': ['nondeterministic_output'],
  'object|idletime': ['nondeterministic_output'],
  'object|refcount': ['nondeterministic_output'],
  'ping': ['request_policy:all_shards', 'response_policy:all_succeeded'],
  'pttl': ['nondeterministic_output'],
  'scan': ['nondeterministic_output', 'request_policy:special'],
  'sdiff': ['nondeterministic_output_order'],
  'sinter': ['nondeterministic_output_order'],
  'slowlog|get': ['request_policy:all_nodes', 'nondeterministic_output'],
  'slowlog|len': ['request_policy:all_nodes', 'response_policy:agg_sum', 'nondeterministic_output'],
  'slowlog|reset': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  'smembers': ['nondeterministic_output_order'],
  'spop': ['nondeterministic_output'],
  'srandmember': ['nondeterministic_output'],
  'sscan': ['nondeterministic_output'],
  'sunion': ['nondeterministic_output_order'],
  'time': ['nondeterministic_output'],
  'ttl': ['nondeterministic_output'],
  'wait': ['request_policy:all_shards', 'response_policy:agg_min'],
  'zrandmember': ['nondeterministic_output'],
  'zscan': ['nondeterministic_output'],
};

/** Request/response policy tips, from the proxy policy (the same facts Redis's tips state). */
export function commandTips(spec: CommandSpec): string[] {
  const explicit = EXPLICIT_TIPS[spec.name];
  if (explicit) return explicit;
  switch (spec.proxy) {
    case 'perKey:sum':
      return ['request_policy:multi_shard', 'response_policy:agg_sum'];
    case 'perKey:allOk':
      return ['request_policy:multi_shard', 'response_policy:all_succeeded'];
    case 'perKey:array':
      return ['request_policy:multi_shard'];
    case 'allShards:sum':
      return ['request_policy:all_shards', 'response_policy:agg_sum'];
    case 'allShards:allOk':
      return ['request_policy:all_shards', 'response_policy:all_succeeded'];
    case 'allShards:concat':
      return ['request_policy:all_shards', 'nondeterministic_output_order'];
    case 'allShards:random':
      return ['request_policy:all_shards', 'nondeterministic_output'];
    default:
      return [];
  }
}

type BeginSearch = { type: 'index'; index: number } | { type: 'keyword'; keyword: string; startfrom: number } | { type: 'unknown' };
type FindKeys =
  | { type: 'range'; lastkey: number; keystep: number; limit: number }
  | { type: 'keynum'; keynumidx: number; firstkey: number; keystep: number }
  | { type: 'unknown' };

export interface KeySpec {
  flags: string[];
  begin: BeginSearch;
  find: FindKeys;
}

/** Key specs of a command, from first/last/step or its movable-keys rule. */
export function keySpecs(spec: CommandSpec): KeySpec[] {
  const flags = spec.flags.has('write') ? ['RW', 'update'] : spec.flags.has('readonly') ? ['RO', 'access'] : ['RW'];
  const numkeys = (index: number): KeySpec => ({ flags, begin: { type: 'index', index }, find: { type: 'keynum', keynumidx: 0, firstkey: 1, keystep: 1 } });
  const single = (index: number, f = flags): KeySpec => ({ flags: f, begin: { type: 'index', index }, find: { type: 'range', lastkey: 0, keystep: 1, limit: 0 } });
  switch (spec.movableKeys) {
    case 'numkeysAt1':
      return [numkeys(1)];
    case 'numkeysAt2':
    case 'eval':
      return [numkeys(2)];
    case 'storeNumkeysAt2':
      return [single(1, ['OW', 'update']), { ...numkeys(2), flags: ['RO', 'access'] }];
    case 'sort':
      return [single(1, ['RO', 'access']), { flags: ['OW', 'update', 'incomplete'], begin: { type: 'unknown' }, find: { type: 'unknown' } }];
    case 'georadius':
    case 'georadiusbymember': {
      const startfrom = spec.movableKeys === 'georadius' ? 6 : 5;
      const store = (keyword: string): KeySpec => ({ flags: ['OW', 'update'], begin: { type: 'keyword', keyword, startfrom }, find: { type: 'range', lastkey: 0, keystep: 1, limit: 0 } });
      return [single(1, ['RO', 'access']), store('STORE'), store('STOREDIST')];
    }
    case 'migrate':
      return [
        single(3, ['RW', 'access', 'delete']),
        { flags: ['RW', 'access', 'delete', 'incomplete'], begin: { type: 'keyword', keyword: 'KEYS', startfrom: -2 }, find: { type: 'range', lastkey: -1, keystep: 1, limit: 0 } },
      ];
    default:
      if (spec.firstKey === 0) return [];
      return [{
        flags,
        begin: { type: 'index', index: spec.firstKey },
        find: { type: 'range', lastkey: spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey, keystep: spec.keyStep, limit: 0 },
      }];
  }
}

function writeKeySpec(w: ReplyWriter, ks: KeySpec): void {
  w.map(3);
  w.bulk('flags');
  w.set(ks.flags.length);
  for (const f of ks.flags) w.simple(f);
  w.bulk('begin_search');
  w.map(2);
  w.bulk('type');
  w.bulk(ks.begin.type);
  w.bulk('spec');
  if (ks.begin.type === 'index') {
    w.map(1);
    w.bulk('index');
    w.integer(ks.begin.index);
  } else if (ks.begin.type === 'keyword') {
    w.map(2);
    w.bulk('keyword');
    w.bulk(ks.begin.keyword);
    w.bulk('startfrom');
    w.integer(ks.begin.startfrom);
  } else {
    w.map(0);
  }
  w.bulk('find_keys');
  w.map(2);
  w.bulk('type');
  w.bulk(ks.find.type);
  w.bulk('spec');
  if (ks.find.type === 'range') {
    w.map(3);
    w.bulk('lastkey');
    w.integer(ks.find.lastkey);
    w.bulk('keystep');
    w.integer(ks.find.keystep);
    w.bulk('limit');
    w.integer(ks.find.limit);
  } else if (ks.find.type === 'keynum') {
    w.map(3);
    w.bulk('keynumidx');
    w.integer(ks.find.keynumidx);
    w.bulk('firstkey');
    w.integer(ks.find.firstkey);
    w.bulk('keystep');
    w.integer(ks.find.keystep);
  } else {
    w.map(0);
  }
}

/** The legacy (first, last, step) triple: Redis derives it from the first range key spec. */
function legacyKeys(spec: CommandSpec): [number, number, number] {
  if (!spec.movableKeys) return [spec.firstKey, spec.lastKey, spec.keyStep];
  const first = keySpecs(spec)[0];
  if (first && first.begin.type === 'index' && first.find.type === 'range') {
    const last = first.find.lastkey < 0 ? first.find.lastkey : first.begin.index + first.find.lastkey;
    return [first.begin.index, last, first.find.keystep];
  }
  return [0, 0, 0];
}

/** One COMMAND INFO entry (Redis 7: ten elements). */
export function writeCommandInfo(w: ReplyWriter, spec: CommandSpec): void {
  w.array(10);
  w.bulk(spec.name);
  w.integer(spec.arity);
  // Redis does not print the sentinel flags.
  const flags = [...spec.flags].filter((f) => f !== 'sentinel');
  w.set(flags.length);
  for (const f of flags) w.simple(f);
  const [first, last, step] = legacyKeys(spec);
  w.integer(first);
  w.integer(last);
  w.integer(step);
  const cats = aclCategories(spec);
  w.set(cats.length);
  for (const c of cats) w.simple(`@${c}`);
  const tips = commandTips(spec);
  w.set(tips.length);
  for (const t of tips) w.bulk(t);
  const specs = keySpecs(spec);
  w.set(specs.length);
  for (const ks of specs) writeKeySpec(w, ks);
  const subs = spec.subcommands ? [...spec.subcommands.values()] : [];
  w.set(subs.length);
  for (const sub of subs) writeCommandInfo(w, sub);
}

/** Every command and subcommand name (COMMAND LIST). */
export function allCommandNames(): string[] {
  const out: string[] = [];
  for (const spec of COMMANDS.values()) {
    out.push(spec.name);
    if (spec.subcommands) for (const sub of spec.subcommands.values()) out.push(sub.name);
  }
  return out;
}

/** COMMAND LIST FILTERBY ACLCAT|PATTERN|MODULE: the names of commands (and subcommands) that pass. */
export function filterCommandNames(kind: 'aclcat' | 'pattern' | 'module', value: string): string[] {
  if (kind === 'module') return [];
  const out: string[] = [];
  const test = (spec: CommandSpec): boolean =>
    kind === 'pattern' ? globMatch(value.toLowerCase(), spec.name, true) : aclCategories(spec).includes(value.toLowerCase() as Category);
  for (const spec of COMMANDS.values()) {
    if (test(spec)) out.push(spec.name);
    if (spec.subcommands) for (const sub of spec.subcommands.values()) if (test(sub)) out.push(sub.name);
  }
  return out;
}

// Redis's documentation groups (COMMAND DOCS "group").
function docGroup(spec: CommandSpec): string {
  const typed = typeCategory(spec);
  if (typed === 'hyperloglog' || typed === 'geo' || typed === 'stream' || typed === 'bitmap') return typed;
  return spec.group;
}

/**
 * One COMMAND DOCS entry: name → {group, since?, subcommands?}. We keep no summaries or argument
 * docs, so the map carries the group only (clients treat missing fields as absent docs).
 */
export function writeCommandDocs(w: ReplyWriter, spec: CommandSpec): void {
  w.bulk(spec.name);
  const subs = spec.subcommands ? [...spec.subcommands.values()] : [];
  w.map(subs.length > 0 ? 2 : 1);
  w.bulk('group');
  w.bulk(docGroup(spec));
  if (subs.length > 0) {
    w.bulk('subcommands');
    w.map(subs.length);
    for (const sub of subs) writeCommandDocs(w, sub);
  }
}

// ---- COMMAND and its subcommands, answered the same way by nodes and proxies ----

function commandCommand(w: ReplyWriter): void {
  w.array(COMMANDS.size);
  for (const spec of COMMANDS.values()) writeCommandInfo(w, spec);
}

/** A command or "container|sub" name, as COMMAND INFO / DOCS accept them. */
function specByFullName(name: string): CommandSpec | undefined {
  const bar = name.indexOf('|');
  if (bar < 0) return lookupCommand(name);
  const top = lookupCommand(name.slice(0, bar));
  return top ? lookupSubcommand(top, name.slice(bar + 1)) : undefined;
}

function commandInfoCommand(w: ReplyWriter, args: string[]): void {
  if (args.length === 2) return commandCommand(w);
  w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    const spec = specByFullName(args[i]!);
    if (spec) writeCommandInfo(w, spec);
    else w.null();
  }
}

function commandCountCommand(w: ReplyWriter): void {
  w.integer(COMMANDS.size);
}

function commandListCommand(w: ReplyWriter, args: string[]): void {
  if (args.length === 2) return w.bulkArray(allCommandNames());
  if (args.length !== 5 || args[2]!.toLowerCase() !== 'filterby') return w.error(ERR.syntax);
  const kind = args[3]!.toLowerCase();
  if (kind !== 'module' && kind !== 'aclcat' && kind !== 'pattern') return w.error(ERR.syntax);
  w.bulkArray(filterCommandNames(kind, args[4]!));
}

function commandDocsCommand(w: ReplyWriter, args: string[]): void {
  const specs: CommandSpec[] = [];
  if (args.length === 2) specs.push(...COMMANDS.values());
  else for (let i = 2; i < args.length; i++) {
    const spec = specByFullName(args[i]!);
    if (spec) specs.push(spec);
  }
  w.map(specs.length);
  for (const spec of specs) writeCommandDocs(w, spec);
}

/** Resolves COMMAND GETKEYS's target and its key indexes; null after replying an error. */
function getKeysOf(w: ReplyWriter, args: string[]): { spec: CommandSpec; argv: string[]; indexes: number[] } | null {
  const argv = args.slice(2);
  let spec = lookupCommand(argv[0]!);
  if (spec?.subcommands) spec = argv.length > 1 ? lookupSubcommand(spec, argv[1]!) : undefined;
  if (!spec) {
    w.error('ERR Invalid command specified');
    return null;
  }
  if (spec.firstKey === 0 && !spec.movableKeys) {
    w.error('ERR The command has no key arguments');
    return null;
  }
  if (!arityOk(spec, argv.length)) {
    w.error('ERR Invalid number of arguments specified for command');
    return null;
  }
  const indexes = keyIndexes(spec, argv);
  if (indexes === null || (indexes.length === 0 && !spec.flags.has('no_mandatory_keys'))) {
    w.error('ERR Invalid arguments specified for command');
    return null;
  }
  return { spec, argv, indexes };
}

function commandGetkeysCommand(w: ReplyWriter, args: string[]): void {
  const found = getKeysOf(w, args);
  if (!found) return;
  w.array(found.indexes.length);
  for (const i of found.indexes) w.bulk(found.argv[i]!);
}

function commandGetkeysandflagsCommand(w: ReplyWriter, args: string[]): void {
  const found = getKeysOf(w, args);
  if (!found) return;
  const specs = keySpecs(found.spec);
  w.array(found.indexes.length);
  found.indexes.forEach((argIndex, n) => {
    // The first key follows the first key spec; later ones the last (e.g. ZUNIONSTORE dest, sources).
    const flags = (n === 0 ? specs[0] : specs[specs.length - 1])?.flags ?? [];
    w.array(2);
    w.bulk(found.argv[argIndex]!);
    w.set(flags.length);
    for (const f of flags) w.simple(f);
  });
}

/** The COMMAND family's replies by table name ("command", "command|info" …). */
export const COMMAND_REPLIES: Record<string, (w: ReplyWriter, args: string[]) => void> = {
  command: (w) => commandCommand(w),
  'command|info': commandInfoCommand,
  'command|count': (w) => commandCountCommand(w),
  'command|list': commandListCommand,
  'command|docs': commandDocsCommand,
  'command|getkeys': commandGetkeysCommand,
  'command|getkeysandflags': commandGetkeysandflagsCommand,
};
