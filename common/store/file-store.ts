// CoordStore for one host: all state in <dir>/state.json, replaced atomically (temp + fsync + rename)
// under a lock file, so several processes can share it. Watches poll the file; leases expire unless
// their holder refreshes them. Every write rewrites the whole file: meant for one host and modest write rates.
// The file is read lazily (file-format.ts): a watcher parses only the events it has not seen, a
// reader of keys only the keys, and a version this process already holds is not parsed again.

import { isAscii } from 'node:buffer';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type {
  CasResult, CoordStore, EphemeralKey, LeaderLease, StoreEntry, StoreSnapshot, StoreWatch, TxnCompare, TxnOp, TxnResult,
} from './coord-store.js';
import { withFileLock } from './file-lock.js';
import { StateWrite, toEntry } from './file-state.js';
import { StateFile } from './file-format.js';
import { campaignOn, leaderOf } from './leader-lock.js';
import { WatchStream } from './watch-stream.js';

const POLL_INTERVAL_MS = 100;

interface FileWatcher { prefix: string; next: number; stream: WatchStream }

/** What identifies one version of the state file (see FileStore.cached). */
function stampOf(st: { ino: number; mtimeMs: number; size: number }): string {
  return `${st.ino}:${st.mtimeMs}:${st.size}`;
}

class FileEphemeralKey implements EphemeralKey {
  private readonly listeners: ((err: Error) => void)[] = [];
  private readonly timer: NodeJS.Timeout;
  private lostWith: Error | null = null;
  private revoked = false;

  constructor(
    private readonly store: FileStore,
    readonly key: string,
    public revision: string,
    private readonly leaseId: string,
    ttlMs: number,
  ) {
    // Refresh at a third of the TTL so two missed refreshes still leave the key alive.
    this.timer = setInterval(() => {
      this.store.refreshLease(this.leaseId).then(
        (alive) => alive || this.lose(new Error(`lease for ${key} expired`)),
        () => {}, // a failed refresh is retried next tick; expiry is what counts
      );
    }, Math.max(50, Math.floor(ttlMs / 3)));
  }

  async update(value: string): Promise<string> {
    const rev = await this.store.putWithLease(this.key, value, this.leaseId);
    if (rev === null) {
      const err = new Error(`lease for ${this.key} expired`);
      this.lose(err);
      throw err;
    }
    this.revision = rev;
    return rev;
  }

  async revoke(): Promise<void> {
    this.revoked = true;
    clearInterval(this.timer);
    this.store.forgetLease(this);
    await this.store.revokeLease(this.leaseId);
  }

  onLost(listener: (err: Error) => void): void {
    if (this.lostWith) listener(this.lostWith);
    else this.listeners.push(listener);
  }

  /** Stops refreshing without deleting the key (used by close() when revoking fails). */
  stop(): void {
    clearInterval(this.timer);
  }

  private lose(err: Error): void {
    if (this.lostWith || this.revoked) return;
    this.lostWith = err;
    clearInterval(this.timer);
    this.store.forgetLease(this);
    for (const l of this.listeners) l(err);
  }
}

export class FileStore implements CoordStore {
  /** One txn may hold any number of ops (the whole state is rewritten anyway). */
  readonly maxTxnOps = Number.POSITIVE_INFINITY;
  private readonly statePath: string;
  private readonly lockPath: string;
  /** Serializes this process's writes, so only one of them waits on the lock file at a time. */
  private writeChain: Promise<unknown> = Promise.resolve();
  private readonly watchers = new Set<FileWatcher>();
  private readonly leases = new Set<FileEphemeralKey>();
  private pollTimer: NodeJS.Timeout | null = null;
  private pollGeneration = 0;
  private lastStamp = '';
  private lastState: StateFile | null = null;
  /**
   * The last state read or written by this process and the file it came from (inode, mtime,
   * size of that very file: every write is a new file renamed into place, so a change by any
   * process gives a new stamp). Readers and writers reuse it while the file is unchanged and
   * never modify it (a write edits a copy: StateFile.forWrite).
   */
  private cached: { stamp: string; state: StateFile } | null = null;
  private closed = false;

  private constructor(readonly dir: string) {
    this.statePath = join(dir, 'state.json');
    this.lockPath = join(dir, 'lock');
  }

  static async open(dir: string): Promise<FileStore> {
    await mkdir(dir, { recursive: true });
    const store = new FileStore(dir);
    await store.read(); // fail early on a corrupt or foreign state file
    return store;
  }

  // ---- state I/O ----

  /** The state (shared: callers must not change it), read again only if the file changed. */
  private async readCached(): Promise<StateFile> {
    // One stat when the file is the version held (the usual case: most reads follow no change);
    // open, fstat, read and close only when it changed.
    const cached = this.cached;
    if (cached !== null) {
      const now = await stat(this.statePath).catch(() => null);
      if (now !== null && stampOf(now) === cached.stamp) return cached.state;
    }
    let handle;
    try {
      handle = await open(this.statePath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return StateFile.empty();
      throw err;
    }
    try {
      // fstat and read on one descriptor: the stamp is that of the bytes read, whatever renames happen.
      const stamp = stampOf(await handle.stat());
      if (this.cached?.stamp === stamp) return this.cached.state;
      // Decoded in one go (readFile with an encoding decodes chunk by chunk); the file is ASCII
      // unless a value is not, and ASCII needs no UTF-8 decoding (latin1: a copy).
      const bytes = await handle.readFile();
      const state = StateFile.parse(isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8'), this.statePath);
      this.cached = { stamp, state };
      return state;
    } finally {
      await handle.close();
    }
  }

  /** Current state, with expired leases swept first (so a dead holder's keys are never returned). */
  private async read(): Promise<StateFile> {
    const state = await this.readCached();
    return state.hasExpiredLease(Date.now()) ? this.write(() => undefined).then((r) => r.state) : state;
  }

  private async persist(state: StateFile): Promise<void> {
    const temp = `${this.statePath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temp, 'w');
    let stamp: string;
    try {
      await handle.writeFile(state.serialize());
      await handle.sync();
      stamp = stampOf(await handle.stat()); // a rename keeps inode, mtime and size
    } finally {
      await handle.close();
    }
    await rename(temp, this.statePath);
    // Held under the lock: no other writer came between; readers now reuse what was written.
    this.cached = { stamp, state };
  }

  /** Read-modify-write under the lock. Expired leases are swept in the same write. */
  private write<T>(fn: (w: StateWrite) => T): Promise<{ result: T; state: StateFile }> {
    const run = async () => {
      const out = await withFileLock(this.lockPath, async () => {
        // Under the lock the file cannot change: the version this process holds is reused when
        // it is still the one on disk, and edited as a copy (the event log is trimmed by next()).
        const current = await this.readCached();
        const edit = current.forWrite();
        const w = new StateWrite(edit);
        w.sweepExpiredLeases(Date.now());
        const result = fn(w);
        const state = current.next(edit);
        await this.persist(state);
        return { result, state };
      });
      this.deliver(out.state);
      return out;
    };
    const next = this.writeChain.then(run, run);
    this.writeChain = next.catch(() => {});
    return next;
  }

  // ---- CoordStore ----

  async get(key: string): Promise<StoreEntry | null> {
    const kv = (await this.read()).kvs()[key];
    return kv ? toEntry(key, kv) : null;
  }

  async list(prefix: string): Promise<StoreEntry[]> {
    return (await this.snapshot(prefix)).entries;
  }

  async snapshot(prefix: string): Promise<StoreSnapshot> {
    const state = await this.read();
    const kvs = state.kvs();
    const keys = state.sortedKeys();
    // The keys with a prefix are one run of the sorted keys: found by binary search.
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const entries = [];
    for (let i = lo; i < keys.length && keys[i]!.startsWith(prefix); i++) entries.push(toEntry(keys[i]!, kvs[keys[i]!]));
    return { entries, revision: String(state.header.revision) };
  }

  async put(key: string, value: string): Promise<string> {
    return String((await this.write((w) => w.put(key, value))).result);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.write((w) => w.delete(key))).result;
  }

  async compareAndSwap(key: string, expectedRevision: string | null, value: string): Promise<CasResult> {
    const { result } = await this.write((w): CasResult => {
      const kv = w.state.kvs[key];
      const matches = expectedRevision === null ? !kv : kv !== undefined && String(kv.mod) === expectedRevision;
      if (!matches) return { ok: false, current: kv ? toEntry(key, kv) : null };
      return { ok: true, revision: String(w.put(key, value)) };
    });
    return result;
  }

  async txn(compares: TxnCompare[], ops: TxnOp[]): Promise<TxnResult> {
    const { result } = await this.write((w): TxnResult => {
      const ok = compares.every((c) => {
        const kv = w.state.kvs[c.key];
        return c.revision === null ? !kv : kv !== undefined && String(kv.mod) === c.revision;
      });
      if (ok) for (const op of ops) if (op.op === 'put') w.put(op.key, op.value); else w.delete(op.key);
      return { ok, revision: String(w.state.revision) };
    });
    return result;
  }

  async watch(prefix: string, fromRevision?: string): Promise<StoreWatch> {
    const state = await this.read();
    const watcher: FileWatcher = {
      prefix,
      next: fromRevision === undefined ? state.header.revision + 1 : Math.max(1, Number(fromRevision)),
      stream: new WatchStream(() => {
        this.watchers.delete(watcher);
        if (this.watchers.size === 0) this.stopPolling();
      }),
    };
    this.watchers.add(watcher);
    this.deliver(state);
    this.startPolling();
    return watcher.stream;
  }

  async putEphemeral(key: string, value: string, ttlSeconds: number): Promise<EphemeralKey> {
    const ttlMs = Math.round(ttlSeconds * 1000);
    const leaseId = randomBytes(8).toString('hex');
    const { result: rev } = await this.write((w) => {
      w.state.leases[leaseId] = { ttlMs, expiresAt: Date.now() + ttlMs };
      return w.put(key, value, leaseId);
    });
    const handle = new FileEphemeralKey(this, key, String(rev), leaseId, ttlMs);
    this.leases.add(handle);
    return handle;
  }

  campaign(name: string, id: string, ttlSeconds: number): Promise<LeaderLease> {
    return campaignOn(this, name, id, ttlSeconds);
  }

  leader(name: string): Promise<string | null> {
    return leaderOf(this, name);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watchers]) w.stream.cancel();
    this.stopPolling();
    const leases = [...this.leases];
    await Promise.allSettled(leases.map((l) => l.revoke()));
    for (const l of leases) l.stop();
    await this.writeChain;
  }

  // ---- leases (used by FileEphemeralKey) ----

  /** Pushes the expiry out by one TTL; false if the lease is already gone. */
  async refreshLease(leaseId: string): Promise<boolean> {
    const { result } = await this.write((w) => {
      const lease = w.state.leases[leaseId];
      if (lease) lease.expiresAt = Date.now() + lease.ttlMs;
      return lease !== undefined;
    });
    return result;
  }

  /** Puts a value under a live lease; null if the lease is gone. */
  async putWithLease(key: string, value: string, leaseId: string): Promise<string | null> {
    const { result } = await this.write((w) => (w.state.leases[leaseId] ? String(w.put(key, value, leaseId)) : null));
    return result;
  }

  async revokeLease(leaseId: string): Promise<void> {
    await this.write((w) => w.dropLease(leaseId));
  }

  forgetLease(handle: FileEphemeralKey): void {
    this.leases.delete(handle);
  }

  // ---- watch delivery ----

  /** Hands each watcher the events it has not seen yet, in revision order. */
  private deliver(state: StateFile): void {
    const { revision, compacted } = state.header;
    if (this.lastState === null || revision >= this.lastState.header.revision) this.lastState = state;
    for (const w of this.watchers) {
      if (w.next > revision) continue;
      if (w.next <= compacted) {
        w.stream.fail(new Error(`file store: watch from revision ${w.next} is compacted (oldest kept: ${compacted + 1})`));
        continue;
      }
      for (const ev of state.eventsFrom(w.next)) {
        if (ev.key.startsWith(w.prefix)) w.stream.push({ type: ev.type, key: ev.key, value: ev.value, revision: String(ev.revision) });
      }
      w.next = revision + 1;
    }
  }

  private startPolling(): void {
    if (this.pollTimer || this.closed) return;
    // The generation stops a tick that was in flight during stopPolling() from rescheduling itself.
    const generation = ++this.pollGeneration;
    const tick = async () => {
      try {
        await this.poll();
      } catch {
        // A transient read error is retried next tick.
      }
      if (generation === this.pollGeneration) this.pollTimer = setTimeout(tick, POLL_INTERVAL_MS);
    };
    this.pollTimer = setTimeout(tick, POLL_INTERVAL_MS);
  }

  private stopPolling(): void {
    this.pollGeneration++;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private async poll(): Promise<void> {
    const st = await stat(this.statePath).catch(() => null);
    const stamp = st ? `${st.ino}:${st.mtimeMs}:${st.size}` : '';
    if (stamp !== this.lastStamp) {
      this.lastStamp = stamp;
      this.deliver(await this.readCached());
    }
    // Nobody may be writing, yet a dead holder's lease must still expire for watchers to see it.
    if (this.lastState && this.lastState.hasExpiredLease(Date.now())) await this.write(() => undefined);
  }
}
