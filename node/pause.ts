// CLIENT PAUSE / UNPAUSE: postpones commands (all, or only writes) until the pause ends, then
// runs each postponed command before the rest of that client's pipeline.
import type { CommandSpec } from '../common/commands/spec.js';
import { resolveCommand } from '../common/commands/table.js';
import type { Session } from './session.js';

// Besides write commands, WRITE pauses also hold these (they may replicate or modify).
const MAY_WRITE = new Set(['publish', 'spublish', 'pfcount', 'eval', 'evalsha']);

export class PauseManager {
  private until = 0;
  private mode: 'write' | 'all' = 'all';
  private timer: NodeJS.Timeout | null = null;
  private readonly postponed: Array<[Session, string[]]> = [];

  constructor(private readonly run: (s: Session, args: string[]) => void) {}

  get paused(): boolean {
    return this.until > Date.now();
  }

  get pausedWrites(): boolean {
    return this.paused;
  }

  pause(ms: number, mode: 'write' | 'all'): void {
    const until = Date.now() + ms;
    // Redis keeps the stricter of overlapping pauses.
    if (this.paused && this.mode === 'all') mode = 'all';
    this.until = Math.max(this.until, until);
    this.mode = mode;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.unpause(), this.until - Date.now());
  }

  unpause(): void {
    this.until = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const list = this.postponed.splice(0);
    for (const [s, args] of list) {
      if (s.closed) continue;
      s.paused = false;
      this.run(s, args);
      s.processInput();
    }
  }

  shouldPostpone(s: Session, spec: CommandSpec): boolean {
    if (this.until === 0 || !this.paused) return false;
    // The client that paused others, and replication links, keep running.
    if (spec.name === 'client|unpause' || spec.name === 'client|pause') return false;
    if (this.mode === 'all') return true;
    // EXEC is held only when its transaction may write (Redis's mstate.cmd_flags), so a MULTI
    // of reads answers during a WRITE pause as on redis-server.
    return mayWrite(spec) || (spec.name === 'exec' && s.multi !== null && s.multi.some(queuedMayWrite));
  }

  postpone(s: Session, args: string[]): void {
    s.paused = true;
    this.postponed.push([s, args]);
  }

  forget(s: Session): void {
    const i = this.postponed.findIndex(([p]) => p === s);
    if (i >= 0) this.postponed.splice(i, 1);
  }
}

function mayWrite(spec: CommandSpec): boolean {
  return spec.flags.has('write') || MAY_WRITE.has(spec.name);
}

function queuedMayWrite(args: readonly string[]): boolean {
  const resolved = resolveCommand(args);
  return !('error' in resolved) && mayWrite(resolved.spec);
}
