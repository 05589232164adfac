// Redis 7.0 functions: FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/RESTORE/STATS/KILL/HELP, FCALL and
// FCALL_RO (functions.c, script.c's scriptPrepareForRun). The libraries live in
// node/scripting/functions.ts; a function runs like EVAL, through the script runner.
// FUNCTION LOAD/DELETE/FLUSH/RESTORE bump `dirty`, so the dispatcher propagates them as themselves.
import type { CommandSpec } from '../../common/commands/spec.js';
import { globMatch } from '../../common/glob.js';
import { parseInt64 } from '../keyspace/types/canonical-int.js';
import { ENGINE, type FunctionEntry, functionLibraries, LOAD_TIMEOUT_MS, type RestorePolicy } from '../scripting/functions.js';
import { SCRIPT_FLAGS, type ScriptFlag } from '../scripting/library-load.js';
import { BUSY, scriptRunner } from '../scripting/runner.js';
import type { Session } from '../session.js';
import { type HandlerMap, is } from './handler.js';

function subcommandSyntaxError(s: Session, args: string[]): void {
  s.w.error(`ERR unknown subcommand or wrong number of arguments for '${args[1]!.slice(0, 128)}'. Try FUNCTION HELP.`);
}

/** A master's stream and the AOF replay must obey: no load time limit for them (mustObeyClient). */
function mustObey(s: Session): boolean {
  return s.server.replication.isMasterClient(s) || s.server.suppressPropagation;
}

function functionLoad(s: Session, args: string[]): void {
  let replace = false;
  let at = 2;
  while (at < args.length - 1) {
    const opt = args[at++]!;
    if (!is(opt, 'replace')) return s.w.error(`ERR Unknown option given: ${opt}`);
    replace = true;
  }
  if (at >= args.length) return s.w.error('ERR Function code is missing');
  const loaded = functionLibraries(s.server).load(args[at]!, replace, mustObey(s) ? 0 : LOAD_TIMEOUT_MS);
  if (typeof loaded !== 'string') return s.w.error(`ERR ${loaded.error}`);
  s.server.dirty++;
  s.w.bulk(loaded);
}

function functionDelete(s: Session, args: string[]): void {
  if (!functionLibraries(s.server).delete(args[2]!)) return s.w.error('ERR Library not found');
  s.server.dirty++;
  s.w.ok();
}

function functionFlush(s: Session, args: string[]): void {
  if (args.length > 3) return subcommandSyntaxError(s, args);
  if (args.length === 3 && !is(args[2], 'sync') && !is(args[2], 'async')) {
    return s.w.error('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
  }
  functionLibraries(s.server).flush();
  s.server.dirty++;
  s.w.ok();
}

function functionList(s: Session, args: string[]): void {
  let withCode = false;
  let pattern: string | null = null;
  for (let i = 2; i < args.length; i++) {
    const arg = args[i]!;
    if (!withCode && is(arg, 'withcode')) {
      withCode = true;
      continue;
    }
    if (pattern === null && is(arg, 'libraryname')) {
      if (i >= args.length - 1) return s.w.error('ERR library name argument was not given');
      pattern = args[++i]!;
      continue;
    }
    return s.w.error(`ERR Unknown argument ${arg}`);
  }
  const libs = [...functionLibraries(s.server).all()].filter((lib) => pattern === null || globMatch(pattern, lib.name));
  const w = s.w;
  w.array(libs.length);
  for (const lib of libs) {
    w.map(withCode ? 4 : 3);
    w.bulk('library_name');
    w.bulk(lib.name);
    w.bulk('engine');
    w.bulk(ENGINE);
    w.bulk('functions');
    w.array(lib.functions.length);
    for (const fn of lib.functions) {
      w.map(3);
      w.bulk('name');
      w.bulk(fn.name);
      w.bulk('description');
      w.bulkOrNull(fn.description);
      w.bulk('flags');
      const flags = SCRIPT_FLAGS.filter((f) => fn.flags.has(f));
      w.set(flags.length);
      for (const f of flags) w.simple(f);
    }
    if (withCode) {
      w.bulk('library_code');
      w.bulk(lib.code);
    }
  }
}

function functionDump(s: Session): void {
  s.w.bulkBuffer(functionLibraries(s.server).dump(s.server.config.getBool('rdbcompression')));
}

function functionRestore(s: Session, args: string[]): void {
  if (args.length > 4) return subcommandSyntaxError(s, args);
  let policy: RestorePolicy = 'append';
  if (args.length === 4) {
    const p = args[3]!.toLowerCase();
    if (p !== 'append' && p !== 'replace' && p !== 'flush') {
      return s.w.error('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
    }
    policy = p;
  }
  const err = functionLibraries(s.server).restore(Buffer.from(args[2]!, 'latin1'), policy);
  if (err !== null) return s.w.error(`ERR ${err}`);
  s.server.dirty++;
  s.w.ok();
}

function functionStats(s: Session): void {
  const running = scriptRunner(s.server).running;
  if (running !== null && running.fcall === null) return s.w.error(BUSY);
  const libs = functionLibraries(s.server);
  const w = s.w;
  w.map(2);
  w.bulk('running_script');
  if (running === null) w.null();
  else {
    w.map(3);
    w.bulk('name');
    w.bulk(running.name);
    w.bulk('command');
    w.bulkArray(running.fcall!);
    w.bulk('duration_ms');
    w.integer(Date.now() - running.startedAt);
  }
  w.bulk('engines');
  w.map(1);
  w.bulk(ENGINE);
  w.map(2);
  w.bulk('libraries_count');
  w.integer(libs.libraryCount);
  w.bulk('functions_count');
  w.integer(libs.functionCount);
}

function functionKill(s: Session): void {
  const refusal = scriptRunner(s.server).kill('function');
  if (refusal !== null) return s.w.error(refusal);
  s.w.ok();
}

/** A spec without the stale flag: asks replication whether the node serves stale data now. */
const NOT_STALE_OK = { flags: new Set() } as unknown as CommandSpec;

/**
 * The checks Redis makes from a function's (or a "#!lua flags=" script's) flags. processCommand's come first, with their
 * generic texts, because fcallGetCommandFlags gives FCALL the write/denyoom/stale flags the
 * function implies (OOM, then READONLY/NOREPLICAS, then MASTERDOWN); scriptPrepareForRun's own
 * follow (*_ro with a writing function, no-cluster). The error text, or null to run it.
 */
export function scriptFlagRefusal(s: Session, flags: ReadonlySet<ScriptFlag>, readOnlyCommand: boolean): string | null {
  const server = s.server;
  const repl = server.replication;
  const writes = !flags.has('no-writes');
  if (writes && !flags.has('allow-oom')) {
    const oom = server.eviction.checkBeforeWrite(s);
    if (oom !== null) return oom;
  }
  if (writes) {
    const refusal = repl.writeRefusal(s);
    if (refusal !== null) return refusal;
  }
  if (!flags.has('allow-stale')) {
    const stale = repl.staleRefusal(NOT_STALE_OK);
    if (stale !== null) return stale;
  }
  if (flags.has('no-cluster') && server.dispatcher.routing !== null) return "ERR Can not run script on cluster, 'no-cluster' flag is set.";
  if (writes && readOnlyCommand) return 'ERR Can not execute a script with write flag using *_ro command.';
  return null;
}

function fcall(s: Session, args: string[], readOnly: boolean): void {
  const entry = functionLibraries(s.server).lookup(args[1]!);
  if (entry === undefined) return s.w.error('ERR Function not found');
  const n = parseInt64(args[2]!);
  if (n === null) return s.w.error('ERR Bad number of keys provided');
  const numkeys = Number(n);
  if (numkeys > args.length - 3) return s.w.error("ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) return s.w.error("ERR Number of keys can't be negative");
  const refusal = scriptFlagRefusal(s, entry.fn.flags, readOnly);
  if (refusal !== null) return s.w.error(refusal);
  const fn = entry.fn;
  scriptRunner(s.server).run(s, fn.name, fn, args.slice(3, 3 + numkeys), args.slice(3 + numkeys), readOnly || fn.flags.has('no-writes'), args, fn.flags);
}

const FUNCTION_HELP = [
  'FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'LOAD [REPLACE] <FUNCTION CODE>',
  '    Create a new library with the given library name and code.',
  'DELETE <LIBRARY NAME>',
  '    Delete the given library.',
  'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
  '    Return general information on all the libraries:',
  '    * Library name',
  '    * The engine used to run the Library',
  '    * Library description',
  '    * Functions list',
  '    * Library code (if WITHCODE is given)',
  '    It also possible to get only function that matches a pattern using LIBRARYNAME argument.',
  'STATS',
  '    Return information about the current function running:',
  '    * Function name',
  '    * Command used to run the function',
  '    * Duration in MS that the function is running',
  '    If no function is running, return nil',
  '    In addition, returns a list of available engines.',
  'KILL',
  '    Kill the current running function.',
  'FLUSH [ASYNC|SYNC]',
  '    Delete all the libraries.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the libraries.',
  '    * SYNC: Synchronously flush the libraries.',
  'DUMP',
  '    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command',
  'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
  '    Restore the libraries represented by the given payload, it is possible to give a restore policy to',
  '    control how to handle existing libraries (default APPEND):',
  '    * FLUSH: delete all existing libraries.',
  '    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.',
  '    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old',
  '      libraries with the new libraries (notice that even on this option there is a chance of failure',
  '      in case of functions name collision with another library).',
  'HELP',
  '    Prints this help.',
];

export const functionHandlers: HandlerMap = {
  fcall: (s, args) => fcall(s, args, false),
  fcall_ro: (s, args) => fcall(s, args, true),
  'function|load': functionLoad,
  'function|delete': functionDelete,
  'function|flush': functionFlush,
  'function|list': functionList,
  'function|dump': functionDump,
  'function|restore': functionRestore,
  'function|stats': functionStats,
  'function|kill': functionKill,
  'function|help': (s) => {
    s.w.array(FUNCTION_HELP.length);
    for (const line of FUNCTION_HELP) s.w.simple(line);
  },
};
