// Runs scripts for one server: the script cache (sha1 → compiled function), and redis.call, which
// sends a command through the dispatcher as the calling client with its replies captured (Redis's
// script client). The writes a script makes go out as one MULTI … EXEC block (effects replication,
// as Redis 7): replicas and the AOF replay what the script did, never the script itself.
import { resolveCommand } from '../../common/commands/table.js';
import { decodeReply } from '../../common/resp/reply-decoder.js';
import { ReplyWriter } from '../../common/resp/reply-writer.js';
import { runAsExec } from '../handlers/transactions.js';
import type { NodeServer } from '../server.js';
import type { Session } from '../session.js';
import { type CallResult, LuaVm, sha1hex } from './lua-vm.js';

interface Script {
  readonly body: string;
  readonly ref: number;
}

interface RunContext {
  readonly session: Session;
  readonly readOnly: boolean;
  readonly writer: ReplyWriter;
}

export class ScriptRunner {
  private readonly vm: LuaVm;
  private readonly scripts = new Map<string, Script>();
  private ctx: RunContext | null = null;
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

  /** The cached script for a sha (any letter case), or undefined. */
  lookup(sha: string): Script | undefined {
    return this.scripts.get(sha.length === 40 ? sha.toLowerCase() : sha);
  }

  /** Compiles and caches a body (once per sha); its sha, or Redis's compile error. */
  load(body: string): { sha: string; script: Script } | { error: string } {
    const sha = sha1hex(body);
    const cached = this.scripts.get(sha);
    if (cached) return { sha, script: cached };
    const ref = this.vm.compile(body);
    if (typeof ref !== 'number') return ref;
    const script = { body, ref };
    this.scripts.set(sha, script);
    return { sha, script };
  }

  flush(): void {
    for (const script of this.scripts.values()) this.vm.release(script.ref);
    this.scripts.clear();
  }

  /** Runs a script for `s` and writes its reply to `s.w`. */
  run(s: Session, sha: string, script: Script, keys: string[], argv: string[], readOnly: boolean): void {
    const server = this.server;
    const outerStream = server.transactionStream;
    const stream: Array<[number, readonly string[]]> = outerStream ?? [];
    const saved = { w: s.w, db: s.db, replyMode: s.replyMode, skip: s.skipNextReply };
    const writer = this.writer;
    this.ctx = { session: s, readOnly, writer };
    server.transactionStream = stream;
    // The script's commands write to the script writer; CLIENT REPLY applies to EVAL's own reply.
    setWriter(s, writer);
    s.replyMode = 'on';
    s.skipNextReply = false;
    try {
      runAsExec(s, () => this.vm.run(script.ref, sha, keys, argv, saved.w));
    } finally {
      this.ctx = null;
      if (writer.length > 0) writer.take(); // a call cut short by an exception
      setWriter(s, saved.w);
      s.db = saved.db; // SELECT inside a script does not change the caller's db (Redis 7)
      s.replyMode = saved.replyMode;
      s.skipNextReply = saved.skip;
      server.transactionStream = outerStream;
    }
    // Inside EXEC the transaction's block carries these writes; otherwise they are sent here.
    if (outerStream === null) propagateEffects(server, stream);
    s.propagateAs = [];
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
    const routing = this.server.dispatcher.routing;
    if (routing !== null && routing.redirect(s, spec, args, false) !== null) {
      return { refused: 'Script attempted to access a non local key in a cluster node' };
    }
    ctx.writer.resp = this.vm.resp;
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

/** The server's script runner, started with its first script. */
export function scriptRunner(server: NodeServer): ScriptRunner {
  let runner = runners.get(server);
  if (runner === undefined) {
    runner = new ScriptRunner(server);
    runners.set(server, runner);
  }
  return runner;
}
