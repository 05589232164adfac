// The file store's on-disk state (one JSON document) and the in-memory edits of one write.
// Pure data manipulation: no I/O, no locking (file-store.ts owns both).

import type { StoreEntry } from './coord-store.js';

export const STATE_SCHEMA = 1;
/** Events kept for watch replay; a watch starting before the oldest kept one fails as "compacted". */
const EVENT_LOG_LIMIT = 4096;

export interface FileKv { value: string; create: number; mod: number; lease?: string }
export interface FileEvent { type: 'put' | 'delete'; key: string; value: string; revision: number }
export interface FileState {
  schema: number;
  revision: number;
  /** Every event with revision ≤ compacted has been dropped from `events`. */
  compacted: number;
  kvs: Record<string, FileKv>;
  leases: Record<string, { ttlMs: number; expiresAt: number }>;
  events: FileEvent[];
}

export function emptyState(): FileState {
  return { schema: STATE_SCHEMA, revision: 0, compacted: 0, kvs: {}, leases: {}, events: [] };
}

export function toEntry(key: string, kv: FileKv): StoreEntry {
  return { key, value: kv.value, revision: String(kv.mod), createRevision: String(kv.create) };
}

export function hasExpiredLease(state: FileState, now: number): boolean {
  return Object.values(state.leases).some((l) => l.expiresAt <= now);
}

/** One write: all changes made through it share the next revision, like an etcd txn. */
export class StateWrite {
  private revision = 0;

  constructor(readonly state: FileState) {}

  private rev(): number {
    if (this.revision === 0) this.revision = ++this.state.revision;
    return this.revision;
  }

  put(key: string, value: string, lease?: string): number {
    const rev = this.rev();
    const old = this.state.kvs[key];
    this.state.kvs[key] = { value, create: old ? old.create : rev, mod: rev, ...(lease ? { lease } : {}) };
    this.state.events.push({ type: 'put', key, value, revision: rev });
    return rev;
  }

  delete(key: string): boolean {
    if (!this.state.kvs[key]) return false;
    delete this.state.kvs[key];
    this.state.events.push({ type: 'delete', key, value: '', revision: this.rev() });
    return true;
  }

  dropLease(id: string): void {
    delete this.state.leases[id];
    for (const [key, kv] of Object.entries(this.state.kvs)) if (kv.lease === id) this.delete(key);
  }

  sweepExpiredLeases(now: number): void {
    for (const [id, lease] of Object.entries(this.state.leases)) if (lease.expiresAt <= now) this.dropLease(id);
  }

  /** Drops the oldest events, whole revisions at a time, to keep the log bounded. */
  trimEvents(): void {
    const events = this.state.events;
    if (events.length <= EVENT_LOG_LIMIT) return;
    let cut = events.length - EVENT_LOG_LIMIT;
    while (cut < events.length && events[cut].revision === events[cut - 1].revision) cut++;
    this.state.compacted = events[cut - 1].revision;
    this.state.events = events.slice(cut);
  }
}
