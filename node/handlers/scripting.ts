// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP and TESSERA.SCRIPTS DUMP. The Lua side lives in
// node/scripting/ (one VM per server, scripts run synchronously inside this command: atomic).
import { scriptRunner } from '../scripting/runner.js';
import type { Session } from '../session.js';
import { functionHandlers, scriptFlagRefusal } from './functions.js';
import { type HandlerMap, intArg, is } from './handler.js';

/** EVAL-family arguments: script|sha numkeys key… arg…, with Redis's numkeys errors. */
function evalGeneric(s: Session, args: string[], bySha: boolean, readOnly: boolean): void {
  const numkeys = intArg(s, args[2]!);
  if (numkeys === null) return;
  if (numkeys > args.length - 3) return s.w.error("ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) return s.w.error("ERR Number of keys can't be negative");
  const runner = scriptRunner(s.server);
  let sha: string;
  let script;
  if (bySha) {
    script = runner.lookup(args[1]!);
    if (script === undefined) return s.w.error('NOSCRIPT No matching script. Please use EVAL.');
    sha = args[1]!.toLowerCase();
  } else {
    const loaded = runner.load(args[1]!);
    if ('error' in loaded) return s.w.error(loaded.error);
    ({ sha, script } = loaded);
  }
  // A "#!lua flags=…" script is checked and run as a function with those flags (no compat mode).
  const flags = script.flags;
  if (flags !== null) {
    const refusal = scriptFlagRefusal(s, flags, readOnly);
    if (refusal !== null) return s.w.error(refusal);
  }
  const ro = readOnly || flags?.has('no-writes') === true;
  runner.run(s, sha, script, args.slice(3, 3 + numkeys), args.slice(3 + numkeys), ro, null, flags);
}

function scriptLoad(s: Session, args: string[]): void {
  const loaded = scriptRunner(s.server).load(args[2]!);
  if ('error' in loaded) return s.w.error(loaded.error);
  s.w.bulk(loaded.sha);
}

function scriptExists(s: Session, args: string[]): void {
  const runner = scriptRunner(s.server);
  s.w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) s.w.integer(runner.lookup(args[i]!) ? 1 : 0);
}

function scriptFlush(s: Session, args: string[]): void {
  if (args.length > 3 || (args.length === 3 && !is(args[2], 'sync') && !is(args[2], 'async'))) {
    return s.w.error('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
  }
  scriptRunner(s.server).flush();
  s.w.ok();
}

/** Only a script paused at busy-reply-threshold can be killed (scripting/runner.ts). */
function scriptKill(s: Session): void {
  const refusal = scriptRunner(s.server).kill();
  if (refusal !== null) return s.w.error(refusal);
  s.w.ok();
}

/** A page of TESSERA.SCRIPTS DUMP: at most this many scripts and (past the first) this many body bytes. */
const DUMP_DEFAULT_COUNT = 100;
const DUMP_MAX_COUNT = 1000;
const DUMP_MAX_BYTES = 1 << 20;

/**
 * TESSERA.SCRIPTS DUMP [cursor [COUNT n]] → [next cursor, [sha, body, …]], next 0 at the end.
 * Redis has no way to list cached script bodies; the coordinator pages through ours to SCRIPT LOAD
 * them on a group about to serve slots (dashboard/coordinator/script-copy.ts). The cursor is a
 * position in load order: a SCRIPT FLUSH between pages only makes the copy miss scripts that are
 * gone anyway. Pages are bounded by count and bytes so a huge cache never makes one huge reply.
 */
function scriptsDump(s: Session, args: string[]): void {
  let cursor = 0;
  let count = DUMP_DEFAULT_COUNT;
  if (args.length > 2) {
    const c = intArg(s, args[2]!, 'ERR invalid cursor');
    if (c === null) return;
    if (c < 0) return s.w.error('ERR invalid cursor');
    cursor = c;
  }
  if (args.length === 5 && is(args[3], 'count')) {
    const n = intArg(s, args[4]!);
    if (n === null) return;
    if (n < 1 || n > DUMP_MAX_COUNT) return s.w.error(`ERR COUNT must be between 1 and ${DUMP_MAX_COUNT}`);
    count = n;
  } else if (args.length !== 2 && args.length !== 3) {
    return s.w.error('ERR syntax error');
  }
  const page: string[] = [];
  let bytes = 0;
  let at = 0;
  let next = 0; // 0: the page reaches the end of the cache
  for (const [sha, script] of scriptRunner(s.server).cached()) {
    if (at >= cursor) {
      if (page.length / 2 >= count || (page.length > 0 && bytes + script.body.length > DUMP_MAX_BYTES)) {
        next = at;
        break;
      }
      page.push(sha, script.body);
      bytes += script.body.length;
    }
    at++;
  }
  s.w.array(2);
  s.w.bulk(String(next));
  s.w.array(page.length);
  for (const item of page) s.w.bulk(item);
}

const SCRIPT_HELP = [
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DEBUG (YES|SYNC|NO)',
  '    Set the debug mode for subsequent scripts executed.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
  'HELP',
  '    Prints this help.',
];

export const scriptingHandlers: HandlerMap = {
  ...functionHandlers,
  eval: (s, args) => evalGeneric(s, args, false, false),
  evalsha: (s, args) => evalGeneric(s, args, true, false),
  eval_ro: (s, args) => evalGeneric(s, args, false, true),
  evalsha_ro: (s, args) => evalGeneric(s, args, true, true),
  'script|load': scriptLoad,
  'script|exists': scriptExists,
  'script|flush': scriptFlush,
  'script|kill': scriptKill,
  'tessera.scripts|dump': scriptsDump,
  'script|help': (s) => {
    s.w.array(SCRIPT_HELP.length);
    for (const line of SCRIPT_HELP) s.w.simple(line);
  },
};
