// The coordination-store contract every backend (etcd, local file) implements. Types only.
// Revisions are decimal int64 strings: compare them with BigInt, never with Number or `<` on strings.

/** One stored key. `revision` is the key's mod revision; `createRevision` when it was (re)created. */
export interface StoreEntry {
  key: string;
  value: string;
  revision: string;
  createRevision: string;
}

/** Entries under a prefix, read at one store revision (watch from `revision + 1` to miss nothing). */
export interface StoreSnapshot {
  entries: StoreEntry[];
  revision: string;
}

/** A change. Events arrive in revision order; the writes of one txn share a revision. */
export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** The new value; '' for a delete. */
  value: string;
  revision: string;
}

/**
 * Ordered change events under a prefix. Iterate with `for await`; the loop ends after cancel() or
 * store close(), and throws if the store cannot deliver (e.g. the start revision was compacted).
 */
export interface StoreWatch extends AsyncIterable<WatchEvent> {
  cancel(): void;
}

export type CasResult = { ok: true; revision: string } | { ok: false; current: StoreEntry | null };

/** A txn guard: the key's mod revision must equal `revision`; null means the key must not exist. */
export interface TxnCompare {
  key: string;
  revision: string | null;
}

export type TxnOp = { op: 'put'; key: string; value: string } | { op: 'delete'; key: string };

/** ok=false: a compare failed and nothing was written. `revision` is the store revision after. */
export interface TxnResult {
  ok: boolean;
  revision: string;
}

/** A key bound to a lease kept alive by this process; it vanishes within ~ttl when the process dies. */
export interface EphemeralKey {
  readonly key: string;
  /** Mod revision of the latest write through this handle. */
  readonly revision: string;
  update(value: string): Promise<string>;
  /** Deletes the key now and stops the keep-alive. */
  revoke(): Promise<void>;
  /** Called once if the lease is lost (expired, revoked by someone else, store unreachable too long). */
  onLost(listener: (err: Error) => void): void;
}

/** Held leadership. The lease key is `${name}/<unique>`; its revision never changes (use it to fence txns). */
export interface LeaderLease {
  readonly name: string;
  readonly id: string;
  readonly key: string;
  readonly revision: string;
  resign(): Promise<void>;
  /** Called once if leadership is lost without resign() (lease expired, key deleted, store closed). */
  onLost(listener: (err: Error) => void): void;
}

export interface CoordStore {
  get(key: string): Promise<StoreEntry | null>;
  /** Entries whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<StoreEntry[]>;
  /** Like list(), plus the store revision it was read at. */
  snapshot(prefix: string): Promise<StoreSnapshot>;
  /** Returns the new mod revision. A plain put detaches any lease the key had. */
  put(key: string, value: string): Promise<string>;
  /** Returns whether the key existed. */
  delete(key: string): Promise<boolean>;
  /** Put only if the key's mod revision is `expectedRevision` (null: only if absent). */
  compareAndSwap(key: string, expectedRevision: string | null, value: string): Promise<CasResult>;
  /** All ops or none, guarded by every compare. Keep it to a few keys (etcd allows at most 128 ops). */
  txn(compares: TxnCompare[], ops: TxnOp[]): Promise<TxnResult>;
  /** Events under `prefix` with revision ≥ fromRevision (default: only changes after the watch starts). */
  watch(prefix: string, fromRevision?: string): Promise<StoreWatch>;
  putEphemeral(key: string, value: string, ttlSeconds: number): Promise<EphemeralKey>;
  /**
   * Resolves when `id` holds the leader lock `name` (first live campaigner by create revision wins;
   * others wait in line). Rejects if the store is closed while waiting.
   */
  campaign(name: string, id: string, ttlSeconds: number): Promise<LeaderLease>;
  /** The id of the current leader of `name`, or null. */
  leader(name: string): Promise<string | null>;
  /** Cancels watches and revokes this process's leases, so the process can exit. */
  close(): Promise<void>;
}

/** a < b, a = b, a > b → -1, 0, 1 for decimal revision strings. */
export function compareRevisions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
