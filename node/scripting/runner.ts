// Runs scripts for one server: the script cache (sha1 → compiled function), and redis.call, which
// sends a command through the dispatcher as the calling client with its replies captured (Redis's
// script client). The writes a script makes go out as one MULTI … EXEC block (effects replication,
// as Redis 7): replicas and the AOF replay what the script did, never the script itself.
import { keyIndexes } from '../../common/commands/keys.js';
import { resolveCommand } from '../../common/commands/table.js';
import { slotOf } from '../../common/slots.js';
import { decodeReply } from '../../common/resp/reply-decoder.js';
import { ReplyWriter } from '../../common/resp/reply-writer.js';
import { enterScriptExec, isInExec, leaveScriptExec } from '../handlers/transactions.js';
import type { Db } from '../keyspace/db.js';
import type { NodeServer } from '../server.js';
import type { Session } from '../session.js';
import type { ScriptFlag } from './library-load.js';
import { type CallResult, LuaVm, sha1hex } from './lua-vm.js';
import { evalShebang } from './shebang.js';
import { setScriptCaller } from './script-caller.js';

interface Script {
  readonly body: string;
  readonly ref: number;
  /** Flags of a "#!lua flags=…" script; null without a shebang (Redis's compat mode). */
  readonly flags: ReadonlySet<ScriptFlag> | null;
}

/** A script run in progress (it may pause at the time limit: see ScriptRunner.pause). */
interface Run {
  readonly s: Session;
  readonly sha: string;
  /** FCALL's arguments when a function runs (FUNCTION STATS shows them), null for EVAL. */
  readonly fcall: readonly string[] | null;
  readonly startedAt: number;
  /**
   * Cluster mode, a function without allow-cross-slot-keys: the one slot its commands may touch
   * (-1 until the first key; its declared keys' slot otherwise). NO_SLOT_CHECK for EVAL (Redis's
   * compat mode allows cross-slot access), for allow-cross-slot-keys and outside cluster mode.
   */
  slot: number;
  /** allow-oom: denyoom commands run even past maxmemory (else only until the run's first write). */
  readonly allowOom: boolean;
  /** A write command ran (SCRIPT_WRITE_DIRTY, whether or not it changed anything). */
  wrote: boolean;
  readonly readOnly: boolean;
  /** EXEC's stream when the script runs inside EXEC, else null. */
  readonly outer: Array<[number, readonly string[]]> | null;
  readonly stream: Array<[number, readonly string[]]>;
  /** The script's current db (SELECT inside it), restored into the session for each slice. */
  db: Db;
  /** This run flagged the session as in EXEC (false inside a real EXEC). */
  readonly marked: boolean;
  readonly saved: { w: ReplyWriter; db: Db; replyMode: Session['replyMode']; skip: boolean };
  activeExpire: boolean;
}

const NO_SLOT_CHECK = -2;

// How long a paused script runs between two looks at the sockets.
const SLICE_MS = 20;

interface RunContext {
  readonly run: Run;
  readonly session: Session;
  readonly readOnly: boolean;
  readonly writer: ReplyWriter;
}

export class ScriptRunner {
  private readonly vm: LuaVm;
  private readonly scripts = new Map<string, Script>();
  private ctx: RunContext | null = null;
  private paused: Run | null = null;
  /** Where a script's commands write their replies (one: scripts never nest, EVAL is noscript). */
  private readonly writer = new ReplyWriter();

  constructor(private readonly server: NodeServer) {
    this.vm = new LuaVm({
      call: (args) => this.call(args),
      log: (level, message) => server.log(level, message),
    });
  }

  get size(): number {
    return this.scripts.size;
  }

  /** Bytes of the cached scripts' bodies (MEMORY STATS lua.caches). */
  get bodyBytes(): number {
    let n = 0;
    for (const script of this.scripts.values()) n += script.body.length;
    return n;
  }

  /** The cache in load order (TESSERA.SCRIPTS DUMP pages through it for the coordinator's copy). */
  cached(): IterableIterator<[string, { readonly body: string }]> {
    return this.scripts.entries();
  }

  /** The cached script for a sha (any letter case), or undefined. */
  lookup(sha: string): Script | undefined {
    return this.scripts.get(sha.length === 40 ? sha.toLowerCase() : sha);
  }

  /** Compiles and caches a body (once per sha); its sha, or Redis's compile error. */
  load(body: string): { sha: string; script: Script } | { error: string } {
    const sha = sha1hex(body);
    const cached = this.scripts.get(sha);
    if (cached) return { sha, script: cached };
    const shebang = evalShebang(body);
    if ('error' in shebang) return shebang;
    const ref = this.vm.compile(shebang.skip === 0 ? body : body.slice(shebang.skip));
    if (typeof ref !== 'number') return ref;
    const script = { body, ref, flags: shebang.flags };
    this.scripts.set(sha, script);
    return { sha, script };
  }

  flush(): void {
    for (const script of this.scripts.values()) this.vm.release(script.ref);
    this.scripts.clear();
  }

  /**
   * Runs a script for `s` and writes its reply to `s.w`. One that runs past busy-reply-threshold
   * pauses (see pause()) unless inside EXEC, where it runs to its end as Redis's would.
   */
  run(
    s: Session, sha: string, script: { readonly ref: number }, keys: string[], argv: string[], readOnly: boolean,
    fcall: readonly string[] | null = null, flags: ReadonlySet<ScriptFlag> | null = null,
  ): void {
    const server = this.server;
    const outer = server.transactionStream;
    const threshold = server.config.getInt('busy-reply-threshold');
    const canPause = threshold > 0 && outer === null && !isInExec(s) && !server.replication.isMasterClient(s);
    const run: Run = {
      s, sha, fcall, startedAt: Date.now(), slot: this.firstSlot(keys, flags === null || flags.has('allow-cross-slot-keys')),
      allowOom: flags !== null && flags.has('allow-oom'), wrote: false, readOnly, outer, stream: outer ?? [], db: s.db, marked: enterScriptExec(s),
      saved: { w: s.w, db: s.db, replyMode: s.replyMode, skip: s.skipNextReply }, activeExpire: true,
    };
    const pauseAt = canPause ? performance.now() + threshold : 0;
    this.vm.begin(script.ref, keys, argv, pauseAt, fcall !== null);
    if (this.slice(run, pauseAt)) this.finish(run);
    else this.pause(run);
  }

  /** The script paused at the time limit, if any (others get -BUSY meanwhile). */
  get busy(): boolean {
    return this.paused !== null;
  }

  private firstSlot(keys: readonly string[], crossSlotOk: boolean): number {
    if (crossSlotOk || this.server.dispatcher.routing === null) return NO_SLOT_CHECK;
    return keys.length > 0 ? slotOf(keys[0]!) : -1;
  }

  /**
   * scriptVerifyOOM: past maxmemory a denyoom command fails until the script has written (a
   * script that wrote must finish: half a script is worse), unless allow-oom; a master's stream
   * and the AOF replay always run.
   */
  private oomRefusal(run: Run, s: Session): string | null {
    if (run.allowOom || run.wrote) return null;
    const server = this.server;
    if (server.suppressPropagation || server.replication.isMasterClient(s)) return null;
    return server.eviction.checkBeforeWrite(s);
  }

  /** scriptVerifyClusterState's same-slot rule for the keys of one redis.call; the refusal or null. */
  private crossSlotRefusal(run: Run, spec: Parameters<typeof keyIndexes>[0], args: readonly string[]): string | null {
    if (run.slot === NO_SLOT_CHECK) return null;
    for (const i of keyIndexes(spec, args) ?? []) {
      const slot = slotOf(args[i]!);
      if (run.slot === -1) run.slot = slot;
      else if (run.slot !== slot) return 'Script attempted to access keys that do not hash to the same slot';
    }
    return null;
  }

  /** The paused run, for FUNCTION STATS: its function name, FCALL arguments, start; null for none. */
  get running(): { name: string; fcall: readonly string[] | null; startedAt: number } | null {
    const run = this.paused;
    return run === null ? null : { name: run.sha, fcall: run.fcall, startedAt: run.startedAt };
  }

  /** The Lua VM (FUNCTION LOAD compiles libraries in it: node/scripting/functions.ts). */
  get lua(): LuaVm {
    return this.vm;
  }

  /**
   * SCRIPT KILL's (eval) or FUNCTION KILL's answer: a paused script that has not written fails at
   * its next step; each command kills only its own kind (scriptKill).
   */
  kill(kind: 'eval' | 'function' = 'eval'): string | null {
    const run = this.paused;
    if (run === null) return 'NOTBUSY No scripts in execution right now.';
    if (run.wrote) {
      return 'UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.';
    }
    if (kind === 'eval' && run.fcall !== null) return BUSY_FUNCTION;
    if (kind === 'function' && run.fcall === null) return BUSY;
    this.vm.kill();
    return null;
  }

  /** Runs the script until it ends (true) or pauses, as the calling client with its replies captured. */
  private slice(run: Run, pauseAt: number): boolean {
    const { s, saved } = run;
    const server = this.server;
    const writer = this.writer;
    this.ctx = { run, session: s, readOnly: run.readOnly, writer };
    server.transactionStream = run.stream;
    // The script's commands write to the script writer; CLIENT REPLY applies to EVAL's own reply.
    setWriter(s, writer);
    s.replyMode = 'on';
    s.skipNextReply = false;
    s.db = run.db;
    const outerCaller = setScriptCaller(s);
    try {
      return this.vm.resume(saved.w, run.sha, pauseAt);
    } finally {
      setScriptCaller(outerCaller);
      this.ctx = null;
      if (writer.length > 0) writer.take(); // a call cut short by an exception
      setWriter(s, saved.w);
      run.db = s.db;
      s.db = saved.db; // SELECT inside a script does not change the caller's db (Redis 7)
      s.replyMode = saved.replyMode;
      s.skipNextReply = saved.skip;
      server.transactionStream = run.outer;
    }
  }

  /** The script ended: its writes go out (inside EXEC, the transaction's block carries them). */
  private finish(run: Run): void {
    if (run.marked) leaveScriptExec(run.s);
    if (run.outer === null) propagateEffects(this.server, run.stream);
    run.s.propagateAs = []; // EVAL itself is never propagated
  }

  /**
   * Past busy-reply-threshold: the script's coroutine pauses, its client waits (as a blocked client)
   * and every other command gets -BUSY except the allow_busy ones (SCRIPT KILL, SHUTDOWN …), so
   * the script stays atomic while the node answers; it runs on in slices of SLICE_MS between which
   * the node reads its sockets (Redis processes events from its Lua hook the same way). Active
   * expiry waits too: no key may vanish under a paused script.
   */
  private pause(run: Run): void {
    const server = this.server;
    this.paused = run;
    pausedRuns++;
    run.s.propagateAs = [];
    run.s.blocked = { dbIndex: run.saved.db.id, keys: [], deadline: 0, tryServe: () => false, onTimeout: () => undefined };
    run.activeExpire = (server as unknown as { activeExpire: boolean }).activeExpire;
    server.setActiveExpire(false);
    setImmediate(() => this.runOn());
  }

  private runOn(): void {
    const run = this.paused!;
    const server = this.server;
    let finished: boolean;
    try {
      finished = this.slice(run, performance.now() + SLICE_MS);
    } catch (err) {
      server.log('warning', `Internal error running a paused script: ${(err as Error).stack}`);
      run.saved.w.error(`ERR internal error running the script: ${(err as Error).message}`);
      finished = true;
    }
    if (!finished) {
      setImmediate(() => this.runOn());
      return;
    }
    this.paused = null;
    pausedRuns--;
    server.setActiveExpire(run.activeExpire);
    this.finish(run);
    run.s.propagateAs = null;
    run.s.woff = server.replication.masterReplOffset;
    run.s.blocked = null;
    server.blocking.serveReadyKeys();
    if (!run.s.closed) run.s.processInput(); // flushes the reply, runs what the client sent meanwhile
  }

  /** One redis.call: Redis's scriptCall checks, then the command through the dispatcher. */
  private call(args: string[]): CallResult {
    const ctx = this.ctx;
    if (ctx === null) return { refused: 'redis.call/pcall can only be called inside a script invocation' };
    const s = ctx.session;
    const resolved = resolveCommand(args);
    if ('error' in resolved) {
      const unknown = resolved.error.startsWith('ERR unknown');
      return { refused: unknown ? 'Unknown Redis command called from script' : 'Wrong number of args calling Redis command from script' };
    }
    const { spec } = resolved;
    if (spec.flags.has('noscript')) return { refused: 'This Redis command is not allowed from script' };
    if (spec.flags.has('write')) {
      if (ctx.readOnly) return { refused: 'Write commands are not allowed from read-only scripts.' };
      const refusal = this.server.replication.writeRefusal(s);
      if (refusal !== null) return { refused: `-${refusal}` };
    }
    const oom = spec.flags.has('denyoom') ? this.oomRefusal(ctx.run, s) : null;
    if (oom !== null) return { refused: `-${oom}` };
    const routing = this.server.dispatcher.routing;
    if (routing !== null && routing.redirect(s, spec, args, false) !== null) {
      return { refused: 'Script attempted to access a non local key in a cluster node' };
    }
    const crossSlot = routing !== null ? this.crossSlotRefusal(ctx.run, spec, args) : null;
    if (crossSlot !== null) return { refused: crossSlot };
    ctx.writer.resp = this.vm.resp;
    if (spec.flags.has('write')) ctx.run.wrote = true;
    this.server.dispatcher.call(s, spec, args);
    const out = ctx.writer.take();
    const decoded = decodeReply(out, 0);
    return decoded === null ? { refused: 'internal error: incomplete reply' } : decoded[0];
  }
}

/** The session's writer is readonly for everything else; only a running script swaps it. */
function setWriter(s: Session, w: ReplyWriter): void {
  (s as unknown as { w: ReplyWriter }).w = w;
}

/** One write alone, several as MULTI … EXEC (as EXEC propagates, handlers/transactions.ts). */
function propagateEffects(server: NodeServer, stream: Array<[number, readonly string[]]>): void {
  if (stream.length > 1) server.propagate(stream[0]![0], ['MULTI']);
  for (const [dbIndex, argv] of stream) server.propagate(dbIndex, argv);
  if (stream.length > 1) server.propagate(stream[stream.length - 1]![0], ['EXEC']);
}

const runners = new WeakMap<NodeServer, ScriptRunner>();
/** Scripts paused at the time limit in this process (any server): 0 lets busyRefusal answer at once. */
let pausedRuns = 0;

/** The server's script runner, started with its first script. */
/** The server's runner if one was made (a read that must not make one). */
export function existingScriptRunner(server: NodeServer): ScriptRunner | undefined {
  return runners.get(server);
}

export function scriptRunner(server: NodeServer): ScriptRunner {
  let runner = runners.get(server);
  if (runner === undefined) {
    runner = new ScriptRunner(server);
    runners.set(server, runner);
  }
  return runner;
}

export const BUSY = 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
const BUSY_FUNCTION = 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.';

/** The dispatcher's check: -BUSY while a script is paused at the time limit, but for allow_busy commands. */
export function busyRefusal(server: NodeServer, allowBusy: boolean): string | null {
  if (allowBusy || pausedRuns === 0) return null;
  const running = runners.get(server)?.running;
  if (running === undefined || running === null) return null;
  return running.fcall === null ? BUSY : BUSY_FUNCTION;
}
