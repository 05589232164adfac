// MULTI/EXEC/DISCARD/WATCH/UNWATCH. The dispatcher queues commands into `s.multi` and flags queue-time
// errors in `s.multiError`; EXEC runs the queue through the dispatcher and sends the writes it made to
// the replication stream as one MULTI … EXEC block, as Redis 7.0 does.
import { lookupCommand, lookupSubcommand } from '../../common/commands/table.js';
import { ERR } from '../../common/errors.js';
import type { Session } from '../session.js';
import type { HandlerMap } from './handler.js';

const executing = new WeakSet<Session>();
/** Members of `executing`: 0 (almost always) answers isInExec, asked after every command, at once. */
let executingCount = 0;

function markExecuting(s: Session): boolean {
  if (executing.has(s)) return false;
  executing.add(s);
  executingCount++;
  return true;
}

function unmarkExecuting(s: Session): void {
  if (executing.delete(s)) executingCount--;
}

/**
 * True while the session's EXEC runs its queued commands. Blocking commands must not block then
 * (they answer as on timeout), and SSUBSCRIBE is refused, as for Redis's "deny blocking" clients.
 */
export function isInExec(s: Session): boolean {
  return executingCount !== 0 && executing.has(s);
}

/**
 * Flags `s` as in EXEC while a script runs (also while it is paused at the time limit): blocking
 * commands answer as on timeout and waiters are served once it is over, so nothing runs in the
 * middle of a script. False when it already was (a script inside EXEC): leave the flag then.
 */
export function enterScriptExec(s: Session): boolean {
  return markExecuting(s);
}

export function leaveScriptExec(s: Session): void {
  unmarkExecuting(s);
}

/** Ends a transaction without running it (DISCARD, failed EXEC, RESET). */
function discardTransaction(s: Session): void {
  s.multi = null;
  s.multiError = false;
  s.server.watch.unwatchAll(s);
}

/**
 * The reply when the dispatcher refuses EXEC itself inside MULTI (wrong arity, OOM, READONLY …):
 * Redis discards the transaction and answers "EXECABORT Transaction discarded because of: <why>".
 * For the dispatcher to call instead of its plain error reply.
 */
export function abortExec(s: Session, message: string): void {
  discardTransaction(s);
  // Redis builds these from the bare text of format-built errors ("wrong number of …") but keeps
  // the code of shared errors ("NOAUTH …"), so only the generic "ERR " prefix goes.
  const why = message.startsWith('ERR ') ? message.slice(4) : message;
  s.w.error(`EXECABORT Transaction discarded because of: ${why}`);
}

function multiCommand(s: Session): void {
  if (s.multi !== null) return s.w.error('ERR MULTI calls can not be nested');
  s.multi = [];
  s.multiError = false;
  s.w.ok();
}

function discardCommand(s: Session): void {
  if (s.multi === null) return s.w.error('ERR DISCARD without MULTI');
  discardTransaction(s);
  s.w.ok();
}

function watchCommand(s: Session, args: string[]): void {
  if (s.multi !== null) return s.w.error('ERR WATCH inside MULTI is not allowed');
  const watch = s.server.watch;
  for (let i = 1; i < args.length; i++) {
    // A key already past its TTL is expired now, so its later deletion is not a "change": Redis
    // remembers "expired at WATCH time" for the same effect.
    s.db.peek(args[i]!);
    watch.watch(s, s.db.id, args[i]!);
  }
  s.w.ok();
}

function unwatchCommand(s: Session): void {
  s.server.watch.unwatchAll(s);
  s.w.ok();
}

/** A watched key reached its TTL after WATCH (even if nobody has deleted it yet): EXEC must fail. */
function watchedKeyExpired(s: Session): boolean {
  const now = s.server.now;
  for (const [dbIndex, keys] of s.watched) {
    const dict = s.server.dbs[dbIndex]!.dict;
    for (const key of keys) {
      const e = dict.get(key);
      if (e !== undefined && e.expireAt !== 0 && e.expireAt <= now) return true;
    }
  }
  return false;
}

function execCommand(s: Session): void {
  const queue = s.multi;
  if (queue === null) return s.w.error('ERR EXEC without MULTI');
  if (s.multiError) {
    discardTransaction(s);
    return s.w.error(ERR.execAbort);
  }
  if (s.watchDirty || watchedKeyExpired(s)) {
    discardTransaction(s);
    return s.w.nullArray();
  }
  // Unwatch first: the transaction's own writes must not dirty this client.
  s.server.watch.unwatchAll(s);
  const server = s.server;
  const stream: Array<[number, readonly string[]]> = [];
  server.transactionStream = stream;
  const marked = markExecuting(s);
  s.w.array(queue.length);
  try {
    // s.multi stays set while the queue runs, like Redis's CLIENT_MULTI flag during EXEC.
    for (const args of queue) {
      const top = lookupCommand(args[0]!)!;
      const spec = top.subcommands ? lookupSubcommand(top, args[1]!)! : top;
      server.dispatcher.call(s, spec, args);
    }
  } finally {
    if (marked) unmarkExecuting(s);
    s.multi = null;
    s.multiError = false;
    server.transactionStream = null;
  }
  propagateTransaction(s, stream);
}

/**
 * Sends what the transaction wrote: one write alone (it is atomic by itself), several wrapped in
 * MULTI (with the first write's db, so SELECT precedes it) … EXEC (with the last write's db).
 */
function propagateTransaction(s: Session, stream: Array<[number, readonly string[]]>): void {
  const server = s.server;
  if (stream.length > 1) server.propagate(stream[0]![0], ['MULTI']);
  for (const [dbIndex, argv] of stream) server.propagate(dbIndex, argv);
  if (stream.length > 1) server.propagate(stream[stream.length - 1]![0], ['EXEC']);
  // The dispatcher must not propagate EXEC itself: its writes went out above.
  s.propagateAs = [];
}

export const transactionHandlers: HandlerMap = {
  multi: multiCommand,
  exec: execCommand,
  discard: discardCommand,
  watch: watchCommand,
  unwatch: unwatchCommand,
};
