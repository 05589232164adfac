// Runs one command for a session: the checks Redis makes, in Redis's order, as a declared chain of
// small functions (CHAIN below: existence and arity, auth, slot ownership in cluster mode,
// transaction, memory, replicas and read-only, pub/sub context, stale data, pause, MULTI
// queueing), then the handler, then the bookkeeping (stats, slowlog, propagation, blocked clients).
import { join, resolve } from 'node:path';
// The module's binding, not the global: globalThis.performance is a lazy accessor, read per command.
import { performance } from 'node:perf_hooks';
import { COMMANDS, arityOk, lookupCommand, lookupSubcommand, resolveCommand } from '../common/commands/table.js';
import type { CommandSpec } from '../common/commands/spec.js';
import type { CommandStat } from './stats.js';
import { SlotOwnership } from './cluster/ownership.js';
import { SlotRouting, commandKeys } from './cluster/routing-check.js';
import { KeyLocks } from './keyspace/key-locks.js';
import { HANDLERS, type Handler } from './handlers/index.js';
import { keepsSilencedReply } from './handlers/client.js';
import { abortExec, isInExec } from './handlers/transactions.js';
import { redactedArgs } from './redact.js';
import { busyRefusal } from './scripting/runner.js';
import type { NodeServer } from './server.js';
import type { Session } from './session.js';
import { NOTIFY_KEY_MISS } from './notify.js';
import { notifyReadMisses } from './handlers/key-events.js';

// Commands a RESP2 subscriber may still send.
const PUBSUB_CONTEXT_OK = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe', 'ping', 'quit', 'reset']);
// Commands that run immediately even inside MULTI.
const MULTI_IMMEDIATE = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

export interface ResolvedCommand {
  spec: CommandSpec;
  handler: Handler;
}

/**
 * What the dispatcher reads of a command on every call, taken from its spec once: the flags as
 * booleans (a Set lookup each was a measurable share of a GET) and its handler.
 */
export class Prepared {
  readonly handler: Handler | undefined;
  readonly write: boolean;
  readonly readonly: boolean;
  readonly denyoom: boolean;
  readonly noAuth: boolean;
  readonly noMulti: boolean;
  readonly allowBusy: boolean;
  /** Shown to MONITOR (not admin, not skip_monitor). */
  readonly monitored: boolean;
  readonly slowlogged: boolean;
  readonly latencyEvent: 'fast-command' | 'command';
  /** True for EXEC, whose checks also look at the queued commands. */
  readonly exec: boolean;
  /** Its INFO commandstats counters, of Stats generation `statGeneration` (reset drops them). */
  stat: CommandStat | null = null;
  statGeneration = -1;

  constructor(
    readonly spec: CommandSpec,
    handler: Handler | undefined,
  ) {
    const f = spec.flags;
    this.handler = handler;
    this.write = f.has('write');
    this.readonly = f.has('readonly');
    this.denyoom = f.has('denyoom');
    this.noAuth = f.has('no_auth');
    this.noMulti = f.has('no_multi');
    this.allowBusy = f.has('allow_busy');
    this.monitored = !f.has('admin') && !f.has('skip_monitor');
    this.slowlogged = !f.has('skip_slowlog');
    this.latencyEvent = f.has('fast') ? 'fast-command' : 'command';
    this.exec = spec.name === 'exec';
  }
}

/**
 * A check's verdict: null lets the command on to the next check; a string refuses it with that
 * error; TAKEN means the check dealt with it (queued it, postponed it, or already answered).
 */
const TAKEN = 1;
type Verdict = string | null | typeof TAKEN;
type Check = (d: Dispatcher, s: Session, p: Prepared, top: CommandSpec, args: string[]) => Verdict;

function requireAuth(_d: Dispatcher, s: Session, p: Prepared): Verdict {
  return !s.authenticated && !p.noAuth ? 'NOAUTH Authentication required.' : null;
}

/** Cluster mode: -MOVED / -ASK / -TRYAGAIN / -CROSSSLOT for keys this node must not serve now. */
function routeSlot(d: Dispatcher, s: Session, p: Prepared, top: CommandSpec, args: string[]): Verdict {
  const spec = p.spec;
  const routing = d.routing!;
  const redirect = routing.redirect(s, spec, args, routing.takeAsking(s, top));
  if (redirect === null) return null;
  // Like Redis: a redirected EXEC discards the transaction and answers the bare redirect.
  if (spec.name === 'exec') {
    d.server.stats.recordRejected(redirect, spec.name);
    discardForRedirect(s);
    s.w.error(redirect);
    return TAKEN;
  }
  return redirect;
}

/**
 * A command touching a hash-tag group being handed over (the slot mover's, MIGRATE's) waits (in
 * order) until the group is released, then runs through the whole chain again
 * (node/keyspace/key-locks.ts); nothing but one size check while no group is locked.
 * Commands queued in MULTI are held at EXEC, over all their keys; the master link never waits.
 */
function holdLockedKeys(d: Dispatcher, s: Session, p: Prepared, top: CommandSpec, args: string[]): Verdict {
  const locks = d.keyLocks;
  if (!locks.active) return null;
  if (s.multi !== null && top.name !== 'exec') return null;
  const keys = commandKeys(s, p.spec, args);
  if (keys.length === 0 || !locks.anyLocked(keys) || d.server.replication.isMasterClient(s)) return null;
  locks.wait(s, args, keys);
  return TAKEN;
}

/** Cluster mode: no writes on a restarted master until the coordinator confirms its slots. */
function fenceUnconfirmedWrites(d: Dispatcher, s: Session, p: Prepared): Verdict {
  return d.routing!.fence(s, p.spec);
}

function refuseNoMulti(_d: Dispatcher, s: Session, p: Prepared): Verdict {
  return s.multi && p.noMulti ? 'ERR Command not allowed inside a transaction' : null;
}

function refuseOom(d: Dispatcher, s: Session, p: Prepared): Verdict {
  if (!p.denyoom && !(p.exec && queuedHas(s, 'denyoom'))) return null;
  // maxmemory 0 (the default): nothing to check (the same test checkBeforeWrite starts with).
  if (d.maxmemory === 0) return null;
  return d.server.eviction.checkBeforeWrite(s);
}

/** READONLY on a replica, NOREPLICAS under min-replicas-to-write. */
function refuseWrite(d: Dispatcher, s: Session, p: Prepared): Verdict {
  if (!p.write && !(p.exec && queuedHas(s, 'write'))) return null;
  return d.server.replication.writeRefusal(s);
}

function refusePubSubContext(_d: Dispatcher, s: Session, p: Prepared, top: CommandSpec): Verdict {
  if (!s.inPubSubContext || PUBSUB_CONTEXT_OK.has(top.name)) return null;
  return `ERR Can't execute '${p.spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}

function refuseStale(d: Dispatcher, _s: Session, p: Prepared): Verdict {
  return d.server.replication.staleRefusal(p.spec);
}

function postponeWhilePaused(d: Dispatcher, s: Session, p: Prepared, _top: CommandSpec, args: string[]): Verdict {
  if (!d.server.pause.shouldPostpone(s, p.spec)) return null;
  d.server.pause.postpone(s, args);
  return TAKEN;
}

/** -BUSY while a script is paused at busy-reply-threshold (node/scripting/runner.ts). */
function refuseBusyScript(d: Dispatcher, _s: Session, p: Prepared): Verdict {
  return busyRefusal(d.server, p.allowBusy);
}

function queueInMulti(_d: Dispatcher, s: Session, _p: Prepared, top: CommandSpec, args: string[]): Verdict {
  if (s.multi === null || MULTI_IMMEDIATE.has(top.name)) return null;
  s.multi.push(args);
  s.w.simple('QUEUED');
  return TAKEN;
}

/** The checks after lookup and arity, in order; the last ones may take the command. */
const CHAIN: readonly Check[] = [
  requireAuth, holdLockedKeys, routeSlot, fenceUnconfirmedWrites, refuseNoMulti, refuseOom, refuseWrite, refusePubSubContext,
  refuseStale, refuseBusyScript, postponeWhilePaused, queueInMulti,
];
/** Left out of a node without `slot-ownership yes`, so plain mode pays nothing for them. */
const CLUSTER_ONLY: ReadonlySet<Check> = new Set([routeSlot, fenceUnconfirmedWrites]);

export class Dispatcher {
  private readonly handlers = new Map<CommandSpec, Handler>();
  /** Every spec (subcommands too) prepared once. */
  private readonly prepared = new Map<CommandSpec, Prepared>();
  /**
   * Commands without subcommands by their name as clients send it (lower and upper case): one
   * lookup finds what to run; any other spelling takes resolveCommand's path.
   */
  private readonly byName = new Map<string, Prepared>();
  private readonly checks: readonly Check[];
  /** maxmemory, kept in a field (read per write command; the config lookup is a Map get). */
  maxmemory = 0;
  // slowlog-log-slower-than (µs, negative = off) and latency-monitor-threshold (ms, 0 = off).
  private slowlogMicros = 0;
  private latencyMs = 0;
  // A clock reading costs ~0.1 µs and allocates: within a session's batch of pipelined commands
  // the end of one command's timing is the start of the next one's (0 = read the clock). Only
  // top-level commands (depth 0) chain; EXEC's and scripts' inner calls read the clock.
  private chainedAt = 0;
  private depth = 0;
  /** Slot ownership and its routing checks in cluster mode (`slot-ownership yes`), else null. */
  readonly routing: SlotRouting | null = null;
  /** Key locks: the slot mover's (cluster mode) and MIGRATE's. */
  readonly keyLocks: KeyLocks;

  constructor(readonly server: NodeServer) {
    for (const [name, handler] of Object.entries(HANDLERS)) {
      const [container, sub] = name.split('|') as [string, string | undefined];
      const top = lookupCommand(container);
      const spec = top && sub ? lookupSubcommand(top, sub) : top;
      if (!spec) throw new Error(`handler ${name} has no command table entry`);
      this.handlers.set(spec, handler);
    }
    const config = server.config;
    server.stats.followConfig(config); // latency-tracking and its percentiles, read per command
    this.prepareAll();
    const sync = (): void => {
      this.maxmemory = config.getInt('maxmemory');
      this.slowlogMicros = config.getInt('slowlog-log-slower-than');
      this.latencyMs = config.getInt('latency-monitor-threshold');
    };
    sync();
    config.onChange((name) => {
      if (name === 'maxmemory' || name === 'slowlog-log-slower-than' || name === 'latency-monitor-threshold') sync();
    });
    this.keyLocks = new KeyLocks({
      resume: (s, args) => {
        s.runHeld(args);
        s.processInput();
      },
      refuse: (s, args, message) => {
        this.reject(s, message, lookupCommand(args[0]!)?.name);
        s.processInput();
      },
    });
    if (config.getBool('slot-ownership')) {
      const filePath = join(resolve(config.get('dir')), config.get('slot-ownership-file'));
      const ownership = new SlotOwnership({ filePath, log: (level, message) => server.log(level, message) });
      try {
        ownership.load();
      } catch (err) {
        // Guessing the ownership could take writes for slots this node lost: refuse to start.
        throw new Error(`Fatal error loading the slot ownership from ${filePath}: ${(err as Error).message}`);
      }
      this.routing = new SlotRouting(ownership, server.replication);
      // Full resyncs carry the state to replicas (master-link.ts adopts it after loading).
      server.snapshots.extraAux = () => [['tessera-slots', ownership.auxValue()]];
    }
    this.checks = this.routing === null ? CHAIN.filter((c) => !CLUSTER_ONLY.has(c)) : CHAIN;
  }

  private prepareAll(): void {
    const add = (spec: CommandSpec): void => {
      this.prepared.set(spec, new Prepared(spec, this.handlers.get(spec)));
      for (const sub of spec.subcommands?.values() ?? []) add(sub);
    };
    for (const spec of COMMANDS.values()) add(spec);
    for (const spec of COMMANDS.values()) {
      if (spec.subcommands !== undefined) continue;
      const p = this.prepared.get(spec)!;
      this.byName.set(spec.name, p);
      this.byName.set(spec.name.toUpperCase(), p);
    }
  }

  /** True while a command runs inside EXEC or a script (its reply cannot wait for later). */
  get nested(): boolean {
    return this.depth > 1;
  }

  handlerFor(spec: CommandSpec): Handler | undefined {
    return this.handlers.get(spec);
  }

  private preparedFor(spec: CommandSpec): Prepared {
    let p = this.prepared.get(spec);
    if (p === undefined) this.prepared.set(spec, (p = new Prepared(spec, this.handlers.get(spec))));
    return p;
  }

  /**
   * The next command reads the clock afresh: called by a session when its batch starts and ends,
   * and before a command whose big arguments took a while to decode (outside any handler).
   */
  restartTiming(): void {
    this.chainedAt = 0;
  }

  /** Checks and runs a command received from a client. */
  execute(s: Session, args: string[]): void {
    let p = this.byName.get(args[0]!);
    let top: CommandSpec;
    if (p !== undefined && arityOk(p.spec, args.length)) {
      top = p.spec;
    } else {
      // Containers, other letter cases and every error: the table's full resolution.
      const resolved = resolveCommand(args);
      if ('error' in resolved) return this.reject(s, resolved.error, lookupCommand(args[0]!)?.name);
      p = this.preparedFor(resolved.spec);
      top = resolved.top;
    }
    const checks = this.checks;
    for (let i = 0; i < checks.length; i++) {
      const verdict = checks[i]!(this, s, p, top, args);
      if (verdict === null) continue;
      if (verdict !== TAKEN) this.reject(s, verdict, p.spec.name);
      return;
    }
    this.run(s, p, args);
  }

  /** Runs a command that passed the checks (also used by EXEC for queued commands). */
  call(s: Session, spec: CommandSpec, args: string[]): void {
    this.run(s, this.preparedFor(spec), args);
  }

  private run(s: Session, p: Prepared, args: string[]): void {
    const server = this.server;
    const spec = p.spec;
    const handler = p.handler;
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
    server.clock.countingReads = p.readonly;
    if (p.write) server.snapshots.beforeCommand(spec, args, s.db);
    const outermost = this.depth === 0;
    // Client-side caching: the changes this command makes are told to its own client after its reply.
    const tracking = server.tracking;
    if (outermost && tracking.active) tracking.current = s;
    const t0 = outermost && this.chainedAt !== 0 ? this.chainedAt : performance.now();
    this.depth++;
    try {
      handler(s, args);
    } catch (err) {
      // A handler bug must cost one reply, never the process and every other client.
      s.w.rewind(mark);
      s.w.error(`ERR internal error running '${spec.name}': ${(err as Error).message}`);
      server.log('warning', `Internal error running ${spec.name}: ${(err as Error).stack}`);
    }
    this.depth--;
    const t1 = performance.now();
    if (outermost) this.chainedAt = t1;
    // Whole nanoseconds: an integer, so passing it on allocates nothing (see Stats.recordCallNs).
    const ns = Math.floor((t1 - t0) * 1e6);
    server.clock.countingReads = false;
    // What MONITOR and SLOWLOG may show: passwords redacted (the same array when none). Like
    // Redis 7's call(), monitors hear of a command once it ran, so EXEC follows its commands.
    if (server.monitors.size > 0 && p.monitored) server.feedMonitors(s, redactedArgs(spec.name, args));
    if (s.blocked !== null) server.snapshots.noteBlocked(s, spec, args);
    if (this.latencyMs !== 0 && ns >= this.latencyMs * 1e6) server.latency.add(p.latencyEvent, ns / 1e6);
    s.lastCommand = spec.name;
    const failed = s.w.errorCount !== errorsBefore;
    if (p.readonly && (server.notifyFlags & NOTIFY_KEY_MISS) !== 0 && !failed) notifyReadMisses(s, spec, args);
    const stats = server.stats;
    if (p.statGeneration !== stats.generation) {
      p.stat = stats.stat(spec.name);
      p.statGeneration = stats.generation;
    }
    stats.recordCallNs(p.stat!, ns, failed);
    if (failed) stats.countError(s.w.lastError);
    // EXEC is skip_slowlog in Redis 7: its commands are logged one by one instead.
    if (p.slowlogged && this.slowlogMicros >= 0 && ns >= this.slowlogMicros * 1000) server.slowlog.consider(s, redactedArgs(spec.name, args), ns / 1000);
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
    if (s.tracking !== null) trackAfter(s, p, args, outermost);
    if (outermost && tracking.current === s) tracking.afterCommand(s);
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

/** The _RO script commands are read-only, but only the commands the script runs name its keys. */
const READ_SCRIPTS = new Set(['eval_ro', 'evalsha_ro', 'fcall_ro']);

/**
 * CLIENT TRACKING, after a command of a tracking client: a read-only command's keys are remembered
 * (default mode); CLIENT CACHING lasts one command or transaction, as Redis's resetClient.
 */
function trackAfter(s: Session, p: Prepared, args: string[], outermost: boolean): void {
  const state = s.tracking!;
  const spec = p.spec;
  if (p.readonly && !state.bcast && !READ_SCRIPTS.has(spec.name)) s.server.tracking.remember(s, commandKeys(s, spec, args));
  if (outermost && s.multi === null && spec.name !== 'client' && !spec.name.startsWith('client|')) state.caching = false;
}

/** Ends a transaction refused by a redirect (Redis's discardTransaction, without EXECABORT). */
function discardForRedirect(s: Session): void {
  s.multi = null;
  s.multiError = false;
  s.server.watch.unwatchAll(s);
}

function queuedHas(s: Session, flag: 'write' | 'denyoom'): boolean {
  return s.multi !== null && s.multi.some((q) => lookupCommand(q[0]!)?.flags.has(flag) === true);
}
