// Runs one command for a session: the checks Redis makes, in Redis's order (existence, arity,
// auth, transaction, memory, replicas, read-only, pub/sub context, pause, MULTI queueing), then
// the handler, then the bookkeeping (stats, slowlog, propagation, blocked clients).
import { lookupCommand, lookupSubcommand, resolveCommand } from '../common/commands/table.js';
import type { CommandSpec } from '../common/commands/spec.js';
import { HANDLERS, type Handler } from './handlers/index.js';
import { keepsSilencedReply } from './handlers/client.js';
import { abortExec, isInExec } from './handlers/transactions.js';
import { redactedArgs } from './redact.js';
import type { NodeServer } from './server.js';
import type { Session } from './session.js';

// Commands a RESP2 subscriber may still send.
const PUBSUB_CONTEXT_OK = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe', 'ping', 'quit', 'reset']);
// Commands that run immediately even inside MULTI.
const MULTI_IMMEDIATE = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

export interface ResolvedCommand {
  spec: CommandSpec;
  handler: Handler;
}

export class Dispatcher {
  private readonly handlers = new Map<CommandSpec, Handler>();

  constructor(private readonly server: NodeServer) {
    for (const [name, handler] of Object.entries(HANDLERS)) {
      const [container, sub] = name.split('|') as [string, string | undefined];
      const top = lookupCommand(container);
      const spec = top && sub ? lookupSubcommand(top, sub) : top;
      if (!spec) throw new Error(`handler ${name} has no command table entry`);
      this.handlers.set(spec, handler);
    }
  }

  handlerFor(spec: CommandSpec): Handler | undefined {
    return this.handlers.get(spec);
  }

  /** Checks and runs a command received from a client. */
  execute(s: Session, args: string[]): void {
    const server = this.server;
    const resolved = resolveCommand(args);
    if ('error' in resolved) return this.reject(s, resolved.error, lookupCommand(args[0]!)?.name);
    const { spec, top } = resolved;
    const flags = spec.flags;
    if (!s.authenticated && !flags.has('no_auth')) return this.reject(s, 'NOAUTH Authentication required.', spec.name);
    if (s.multi && flags.has('no_multi')) return this.reject(s, 'ERR Command not allowed inside a transaction', spec.name);
    const isWrite = flags.has('write');
    if (flags.has('denyoom') || (spec.name === 'exec' && queuedHas(s, 'denyoom'))) {
      const oom = server.eviction.checkBeforeWrite(s);
      if (oom) return this.reject(s, oom, spec.name);
    }
    if (isWrite || (spec.name === 'exec' && queuedHas(s, 'write'))) {
      const err = server.replication.writeRefusal(s);
      if (err) return this.reject(s, err, spec.name);
    }
    if (s.inPubSubContext && !PUBSUB_CONTEXT_OK.has(top.name)) {
      return this.reject(s, `ERR Can't execute '${spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`, spec.name);
    }
    const staleErr = server.replication.staleRefusal(spec);
    if (staleErr) return this.reject(s, staleErr, spec.name);
    if (server.pause.shouldPostpone(s, spec)) {
      server.pause.postpone(s, args);
      return;
    }
    if (s.multi !== null && !MULTI_IMMEDIATE.has(top.name)) {
      s.multi.push(args);
      s.w.simple('QUEUED');
      return;
    }
    this.call(s, spec, args);
  }

  /** Runs a command that passed the checks (also used by EXEC for queued commands). */
  call(s: Session, spec: CommandSpec, args: string[]): void {
    const server = this.server;
    const handler = this.handlers.get(spec);
    if (handler === undefined) {
      s.w.error(`ERR command '${spec.name}' is not available on this node`);
      return;
    }
    const mark = s.w.mark();
    const dirtyBefore = server.dirty;
    const errorsBefore = s.w.errorCount;
    s.propagateAs = null;
    const skipThisReply = s.skipNextReply;
    s.skipNextReply = false;
    server.clock.countingReads = spec.flags.has('readonly');
    if (spec.flags.has('write')) server.snapshots.beforeCommand(spec, args, s.db);
    const t0 = performance.now();
    try {
      handler(s, args);
    } catch (err) {
      // A handler bug must cost one reply, never the process and every other client.
      s.w.rewind(mark);
      s.w.error(`ERR internal error running '${spec.name}': ${(err as Error).message}`);
      server.log('warning', `Internal error running ${spec.name}: ${(err as Error).stack}`);
    }
    const micros = (performance.now() - t0) * 1000;
    server.clock.countingReads = false;
    // What MONITOR and SLOWLOG may show: passwords redacted (the same array when none). Like
    // Redis 7's call(), monitors hear of a command once it ran, so EXEC follows its commands.
    const shown = redactedArgs(spec.name, args);
    if (server.monitors.size > 0 && !spec.flags.has('admin') && !spec.flags.has('skip_monitor')) server.feedMonitors(s, shown);
    if (s.blocked !== null) server.snapshots.noteBlocked(s, spec, args);
    server.latency.add(spec.flags.has('fast') ? 'fast-command' : 'command', micros / 1000);
    s.lastCommand = spec.name;
    const failed = s.w.errorCount !== errorsBefore;
    server.stats.recordCall(spec.name, micros, failed);
    if (failed) server.stats.countError(s.w.lastError);
    // EXEC is skip_slowlog in Redis 7: its commands are logged one by one instead.
    if (!spec.flags.has('skip_slowlog')) server.slowlog.consider(s, shown, micros);
    if (server.dirty !== dirtyBefore) {
      const rewritten = s.propagateAs as string[][] | null;
      if (rewritten) for (const argv of rewritten) server.propagate(s.db.id, argv);
      else server.propagate(s.db.id, args);
      s.woff = server.replication.masterReplOffset;
    }
    // CLIENT REPLY: OFF drops every reply, SKIP drops its own and the next command's.
    let dropReply = skipThisReply;
    if (s.replyMode === 'off') dropReply = true;
    else if (s.replyMode === 'skip') {
      s.replyMode = 'on';
      s.skipNextReply = true;
      dropReply = true;
    }
    if (dropReply && !keepsSilencedReply(spec, args)) s.w.rewind(mark);
    // Inside EXEC, waiters are served once after the whole transaction (by EXEC's own call).
    if (!isInExec(s)) server.blocking.serveReadyKeys();
  }

  /** An error before execution: inside MULTI it also dooms the transaction (EXECABORT). */
  private reject(s: Session, message: string, command?: string): void {
    this.server.stats.recordRejected(message, command);
    // A refused EXEC discards the transaction: -EXECABORT … because of: <reason>.
    if (command === 'exec') return abortExec(s, message);
    if (s.multi !== null) s.multiError = true;
    s.w.error(message);
  }
}

function queuedHas(s: Session, flag: 'write' | 'denyoom'): boolean {
  return s.multi !== null && s.multi.some((q) => lookupCommand(q[0]!)?.flags.has(flag) === true);
}
