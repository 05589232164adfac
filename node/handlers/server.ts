// Server and administration commands: INFO, CONFIG, COMMAND, SLOWLOG, LATENCY, MEMORY,
// TIME, SHUTDOWN, MONITOR, DEBUG. Rendering of INFO and COMMAND lives in info.ts and common/commands/docs.ts.
import { ERR } from '../../common/errors.js';
import { COMMAND_REPLIES } from '../../common/commands/docs.js';
import type { CommandSpec } from '../../common/commands/spec.js';
import { lookupCommand, lookupSubcommand } from '../../common/commands/table.js';
import type { LogHistogram } from '../../common/latency-histogram.js';
import { idleSeconds, keyMemoryUsage } from '../eviction.js';
import { renderInfo } from '../info.js';
import { encodingOf } from '../keyspace/types/value.js';
import { datasetDigest } from '../replication/digest.js';
import type { Session } from '../session.js';
import { type HandlerMap, helpReply, intArg, is, syntaxError } from './handler.js';
import { isLocalAddress } from '../../common/protected-mode.js';
import { debugReloadCommand } from './persistence.js';

// ---- INFO ----

function infoCommand(s: Session, args: string[]): void {
  s.w.verbatim(renderInfo(s.server, args.slice(1)));
}

// ---- CONFIG ----

function configGetCommand(s: Session, args: string[]): void {
  const pairs = s.server.config.matching(args.slice(2));
  s.w.map(pairs.length);
  for (const [name, value] of pairs) {
    s.w.bulk(name);
    s.w.bulk(value);
  }
}

function configSetCommand(s: Session, args: string[]): void {
  if ((args.length - 2) % 2 !== 0) return syntaxError(s);
  const pairs: Array<[string, string]> = [];
  for (let i = 2; i < args.length; i += 2) pairs.push([args[i]!, args[i + 1]!]);
  const err = s.server.config.setMany(pairs, isLocalAddress(s.socket.remoteAddress));
  if (err) return s.w.error(err);
  s.w.ok();
}

function configResetstatCommand(s: Session): void {
  s.server.stats.reset();
  s.w.ok();
}

function configRewriteCommand(s: Session): void {
  const config = s.server.config;
  if (config.file === null) return s.w.error('ERR The server is running without a config file');
  try {
    config.rewrite();
  } catch (err) {
    s.server.log('warning', `CONFIG REWRITE failed: ${(err as Error).message}`);
    return s.w.error(`ERR Rewriting config file: ${(err as Error).message}`);
  }
  s.server.log('notice', 'CONFIG REWRITE executed with success.');
  s.w.ok();
}

const CONFIG_HELP = [
  'GET <pattern>', '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>', '    Set the configuration <directive> to <value>.',
  'RESETSTAT', '    Reset statistics reported by the INFO command.',
  'REWRITE', '    Rewrite the configuration file.',
];

// ---- COMMAND (replies shared with the proxy, in common/commands/docs.ts) ----

const COMMAND_HELP = [
  '(no subcommand)', '    Return details about all Redis commands.',
  'COUNT', '    Return the total number of commands in this Redis server.',
  'LIST', '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]', '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all', '    commands are returned.',
  'DOCS [<command-name> ...]', '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all', '    commands are returned.',
  'GETKEYS <full-command>', '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>', '    Return the keys and the access flags from a full Redis command.',
];

// ---- SLOWLOG ----

function slowlogGetCommand(s: Session, args: string[]): void {
  let count = 10;
  if (args.length > 3) return syntaxError(s);
  if (args.length === 3) {
    const n = /^-?\d+$/.test(args[2]!) ? Number(args[2]) : NaN;
    if (!Number.isSafeInteger(n) || n < -1) return s.w.error('ERR count should be greater than or equal to -1');
    count = n === -1 ? Infinity : n;
  }
  const entries = s.server.slowlog.entries.slice(0, count);
  s.w.array(entries.length);
  for (const e of entries) {
    s.w.array(6);
    s.w.integer(e.id);
    s.w.integer(e.time);
    s.w.integer(e.micros);
    s.w.bulkArray(e.args);
    s.w.bulk(e.addr);
    s.w.bulk(e.name);
  }
}

const SLOWLOG_HELP = [
  'GET [<count>]', '    Return top <count> entries from the slowlog (default: 10, -1 mean all).', '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,', '    client name',
  'LEN', '    Return the length of the slowlog.',
  'RESET', '    Reset the slowlog.',
];

// ---- LATENCY ----

function latencyLatestCommand(s: Session): void {
  const events = [...s.server.latency.events];
  s.w.array(events.length);
  for (const [name, ev] of events) {
    const last = ev.samples[ev.samples.length - 1]!;
    s.w.array(4);
    s.w.bulk(name);
    s.w.integer(last.time);
    s.w.integer(last.ms);
    s.w.integer(ev.max);
  }
}

function latencyHistoryCommand(s: Session, args: string[]): void {
  const ev = s.server.latency.events.get(args[2]!);
  const samples = ev?.samples ?? [];
  s.w.array(samples.length);
  for (const sample of samples) {
    s.w.array(2);
    s.w.integer(sample.time);
    s.w.integer(sample.ms);
  }
}

function latencyResetCommand(s: Session, args: string[]): void {
  s.w.integer(s.server.latency.reset(args.slice(2)));
}

/**
 * LATENCY HISTOGRAM [command …], as Redis 7's: per command with latency data (all of them, or
 * those named: `name` or `container|sub`, any case; a container stands for itself and its
 * subcommands; unknown names are skipped, repeats repeated), its calls and the cumulative count
 * of calls at each power of two of microseconds (hdr's log iteration from 1,024 ns), only where
 * the count grew.
 */
function latencyHistogramCommand(s: Session, args: string[]): void {
  const commands = s.server.stats.commands;
  const picked: Array<[string, LogHistogram]> = [];
  const pick = (spec: CommandSpec) => {
    const h = commands.get(spec.name)?.latency;
    if (h) picked.push([spec.name, h]);
  };
  if (args.length === 2) {
    for (const [name, st] of commands) if (st.latency) picked.push([name, st.latency]);
  } else {
    for (const arg of args.slice(2)) {
      const parts = arg.split('|');
      const top = parts.length <= 2 ? lookupCommand(parts[0]!) : undefined;
      const spec = top && parts.length === 2 ? lookupSubcommand(top, parts[1]!) : top;
      if (spec === undefined) continue;
      pick(spec);
      for (const sub of spec.subcommands?.values() ?? []) pick(sub);
    }
  }
  s.w.map(picked.length);
  for (const [name, h] of picked) {
    s.w.bulk(name);
    s.w.map(2);
    s.w.bulk('calls');
    s.w.integer(h.total);
    s.w.bulk('histogram_usec');
    const levels: number[] = [];
    let previous = 0;
    h.forEachLogLevel(1024, (highestNs, cumulative) => {
      if (cumulative > previous) levels.push(Math.floor(highestNs / 1000), cumulative);
      previous = cumulative;
    });
    s.w.map(levels.length / 2);
    for (const n of levels) s.w.integer(n);
  }
}

const LATENCY_HELP = [
  'DOCTOR', '    Return a human readable latency analysis report.',
  'GRAPH <event>', '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>', '    Return time-latency samples for the <event> class.',
  'LATEST', '    Return the latest latency samples for all events.',
  'RESET [<event> ...]', '    Reset latency data of one or more <event> classes.', '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
];

// ---- MEMORY ----

function memoryUsageCommand(s: Session, args: string[]): void {
  let samples = 5;
  for (let i = 3; i < args.length; i++) {
    if (is(args[i], 'samples') && i + 1 < args.length) {
      const n = intArg(s, args[++i]!);
      if (n === null) return;
      samples = n < 0 ? 5 : n;
    } else {
      return syntaxError(s);
    }
  }
  const entry = s.db.peek(args[2]!);
  if (!entry) return s.w.null();
  s.w.integer(keyMemoryUsage(args[2]!, entry.value, samples));
}

const MEMORY_HELP = [
  'DOCTOR', '    Return memory problems reports.',
  'MALLOC-STATS', '    Return internal statistics report from the memory allocator.',
  'PURGE', '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS', '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]', '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
];

// ---- TIME, SHUTDOWN, MONITOR ----

function timeCommand(s: Session): void {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  s.w.array(2);
  s.w.bulk(String(Math.floor(micros / 1e6)));
  s.w.bulk(String(micros % 1e6));
}

function shutdownCommand(s: Session, args: string[]): void {
  let save: boolean | null = null;
  let abort = false;
  let other = false;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!.toLowerCase();
    if (a === 'nosave' || a === 'save') {
      if (save !== null) return syntaxError(s);
      save = a === 'save';
      other = true;
    } else if (a === 'now' || a === 'force') other = true;
    else if (a === 'abort') abort = true;
    else return syntaxError(s);
  }
  if (abort && other) return syntaxError(s);
  // Shutdowns here are immediate, so there is never one in progress to abort.
  if (abort) return s.w.error('ERR No shutdown in progress.');
  // server.shutdown() makes the final save (persistence/snapshot.ts) and exits unless it fails.
  void s.server.shutdown({ save }).then((exited) => {
    if (exited) return;
    s.w.error('ERR Errors trying to SHUTDOWN. Check logs.');
    s.flush();
  });
}

function monitorCommand(s: Session): void {
  if (!s.monitor) {
    s.monitor = true;
    s.server.monitors.add(s);
  }
  s.w.ok();
}

// ---- DEBUG ----

const DEBUG_NOT_ALLOWED =
  'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local ' +
  'connection, otherwise you need to set this option in the configuration file, and then restart the server.';

function debugAllowed(s: Session): boolean {
  const mode = s.server.config.get('enable-debug-command');
  if (mode === 'yes') return true;
  if (mode === 'local') return isLocalAddress(s.socket.remoteAddress);
  return false;
}

/** Blocks the whole process, like Redis's DEBUG SLEEP blocks its event loop. */
function blockingSleep(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function debugCommand(s: Session, args: string[]): void {
  if (!debugAllowed(s)) return s.w.error(DEBUG_NOT_ALLOWED);
  const sub = args[1]!.toLowerCase();
  if (sub === 'help' && args.length === 2) return helpReply(s, 'DEBUG', DEBUG_HELP);
  if (sub === 'sleep' && args.length === 3) {
    // Redis reads the seconds with atof: junk counts as 0.
    const secs = parseFloat(args[2]!);
    blockingSleep(Number.isFinite(secs) ? secs * 1000 : 0);
    return s.w.ok();
  }
  if (sub === 'set-active-expire' && args.length === 3) {
    s.server.setActiveExpire(args[2] !== '0');
    return s.w.ok();
  }
  if (sub === 'object' && args.length === 3) return debugObject(s, args[2]!);
  if (sub === 'reload') return debugReloadCommand(s, args);
  if (sub === 'change-repl-id' && args.length === 2) {
    s.server.replication.changeReplId();
    return s.w.ok();
  }
  if (sub === 'digest' && args.length === 2) return s.w.simple(datasetDigest(s.server.dbs, Date.now()));
  s.w.error(`ERR unknown subcommand or wrong number of arguments for '${args[1]!.slice(0, 128)}'. Try DEBUG HELP.`);
}

function debugObject(s: Session, key: string): void {
  const entry = s.db.peek(key);
  if (!entry) return s.w.error(ERR.noSuchKey);
  const value = entry.value;
  const serialized = typeof value === 'string' ? value.length : keyMemoryUsage(key, value, 0);
  const idle = idleSeconds(entry, s.server.now);
  s.w.simple(
    `Value at:0x${(0x7f0000000000 + (entry.slotPos & 0xffffff) * 16).toString(16)} refcount:1 encoding:${encodingOf(value)} ` +
      `serializedlength:${serialized} lru:${lruField(entry.lru)} lru_seconds_idle:${idle}`,
  );
}

/** entry.lru as Redis's 24-bit field: LFU stamps as they are, LRU milliseconds as seconds. */
function lruField(lru: number): number {
  return lru > 0xffffff ? Math.floor(lru / 1000) & 0xffffff : lru;
}

const DEBUG_HELP = [
  'CHANGE-REPL-ID', '    Change the replication IDs of the instance.',
  'DIGEST', '    Output a hex signature representing the current DB content.',
  'OBJECT <key>', '    Show low level info about the `key` and associated value.',
  'RELOAD', '    Save the RDB on disk and reload it back to memory.',
  'SET-ACTIVE-EXPIRE <0|1>', '    Setting it to 0 disables expiring keys in background when they are not accessed.',
  'SLEEP <seconds>', '    Stop the server for <seconds>. Decimals allowed.',
];

export const serverHandlers: HandlerMap = {
  info: infoCommand,
  'config|get': configGetCommand,
  'config|set': configSetCommand,
  'config|resetstat': configResetstatCommand,
  'config|rewrite': configRewriteCommand,
  'config|help': (s) => helpReply(s, 'CONFIG', CONFIG_HELP),
  command: (s, args) => COMMAND_REPLIES.command!(s.w, args),
  'command|info': (s, args) => COMMAND_REPLIES['command|info']!(s.w, args),
  'command|count': (s, args) => COMMAND_REPLIES['command|count']!(s.w, args),
  'command|list': (s, args) => COMMAND_REPLIES['command|list']!(s.w, args),
  'command|docs': (s, args) => COMMAND_REPLIES['command|docs']!(s.w, args),
  'command|getkeys': (s, args) => COMMAND_REPLIES['command|getkeys']!(s.w, args),
  'command|getkeysandflags': (s, args) => COMMAND_REPLIES['command|getkeysandflags']!(s.w, args),
  'command|help': (s) => helpReply(s, 'COMMAND', COMMAND_HELP),
  'slowlog|get': slowlogGetCommand,
  'slowlog|len': (s) => s.w.integer(s.server.slowlog.entries.length),
  'slowlog|reset': (s) => {
    s.server.slowlog.reset();
    s.w.ok();
  },
  'slowlog|help': (s) => helpReply(s, 'SLOWLOG', SLOWLOG_HELP),
  'latency|latest': latencyLatestCommand,
  'latency|history': latencyHistoryCommand,
  'latency|reset': latencyResetCommand,
  'latency|histogram': latencyHistogramCommand,
  'latency|help': (s) => helpReply(s, 'LATENCY', LATENCY_HELP),
  'memory|usage': memoryUsageCommand,
  'memory|help': (s) => helpReply(s, 'MEMORY', MEMORY_HELP),
  time: timeCommand,
  shutdown: shutdownCommand,
  monitor: monitorCommand,
  debug: debugCommand,
};
