// Key locks for the slot mover (cluster mode): while a hash-tag group is being handed over to
// another node, commands touching any key of the group wait, in arrival order, like blocked
// clients, and run once the group is released, against the new state (on the source the keys are
// gone, so the routing check answers -ASK). A group is named by its hash tag (the text inside the
// first non-empty {…}, else the whole key: common/slots.ts hashTag), so a key of the group that
// does not exist yet is held too. Commands on other keys never wait: the check is one Map lookup
// per key, and nothing at all while no group is locked.
import { hashTag } from '../../common/slots.js';
import type { Session } from '../session.js';

/** How long a command may wait for a locked group before it is answered with TRYAGAIN. */
export const LOCK_WAIT_MAX_MS = 30_000;
export const LOCK_WAIT_ERR = 'TRYAGAIN key is being migrated, try again';

interface Waiter {
  s: Session;
  args: string[];
  keys: readonly string[];
  deadline: number;
}

/** How held commands are run again and answered (the dispatcher, through the session). */
export interface LockHost {
  /** Runs a held command through the whole check chain again, then the rest of its pipeline. */
  resume(s: Session, args: string[]): void;
  /** Answers a held command with an error (wait bound reached), then runs the rest of its pipeline. */
  refuse(s: Session, args: string[], message: string): void;
}

export class KeyLocks {
  /** Locked hash tags → how many holders (a tag locked twice is released twice). */
  private readonly held = new Map<string, number>();
  /** Held commands in arrival order; one per session at most (a waiting session reads no more). */
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private draining = false;

  constructor(
    private readonly host: LockHost,
    private readonly maxWaitMs = LOCK_WAIT_MAX_MS,
  ) {}

  /** True while any group is locked (the dispatcher skips the check otherwise). */
  get active(): boolean {
    return this.held.size > 0;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  lockTag(tag: string): void {
    this.held.set(tag, (this.held.get(tag) ?? 0) + 1);
  }

  /** Locks the group of `key`; returns its tag (for unlockTag). */
  lockKey(key: string): string {
    const tag = hashTag(key);
    this.lockTag(tag);
    return tag;
  }

  unlockTag(tag: string): void {
    const n = this.held.get(tag);
    if (n === undefined) return;
    if (n > 1) this.held.set(tag, n - 1);
    else this.held.delete(tag);
    if (this.waiters.length > 0) setImmediate(() => this.drain());
  }

  isLocked(key: string): boolean {
    return this.held.size > 0 && this.held.has(hashTag(key));
  }

  anyLocked(keys: readonly string[]): boolean {
    if (this.held.size === 0) return false;
    for (let i = 0; i < keys.length; i++) if (this.held.has(hashTag(keys[i]!))) return true;
    return false;
  }

  /** Holds a command until none of `keys` is locked (the session stops reading meanwhile). */
  wait(s: Session, args: string[], keys: readonly string[]): void {
    s.paused = true;
    this.waiters.push({ s, args, keys, deadline: Date.now() + this.maxWaitMs });
    if (this.timer === null) this.armTimer();
  }

  /**
   * Runs, in arrival order, every held command whose keys are all free now. A command that runs
   * may lock nothing (only the mover locks), so one pass over the list is enough.
   */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      const keep: Waiter[] = [];
      const list = this.waiters;
      this.waiters = keep;
      for (const w of list) {
        if (w.s.closed) continue;
        if (this.anyLocked(w.keys)) keep.push(w);
        else {
          w.s.paused = false;
          this.host.resume(w.s, w.args);
        }
      }
    } finally {
      this.draining = false;
    }
    if (this.waiters.length === 0 && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** One timer for the oldest waiter (waiters share one bound, so the oldest expires first). */
  private armTimer(): void {
    const head = this.waiters[0];
    if (head === undefined) return;
    this.timer = setTimeout(() => this.expire(), Math.max(1, head.deadline - Date.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = null;
    const now = Date.now();
    while (this.waiters.length > 0 && this.waiters[0]!.deadline <= now) {
      const w = this.waiters.shift()!;
      if (w.s.closed) continue;
      w.s.paused = false;
      this.host.refuse(w.s, w.args, LOCK_WAIT_ERR);
    }
    this.armTimer();
  }
}
