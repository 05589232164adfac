// Keyspace notifications from command handlers: one flag test on the server's parsed
// notify-keyspace-events before anything is built, so commands pay nothing while they are off.
import { keyIndexes } from '../../common/commands/keys.js';
import type { CommandSpec } from '../../common/commands/spec.js';
import type { Db } from '../keyspace/db.js';
import { NOTIFY_GENERIC, NOTIFY_KEY_MISS, NOTIFY_NEW, notifyKeyspaceEvent } from '../notify.js';
import type { Session } from '../session.js';

export {
  NOTIFY_GENERIC, NOTIFY_HASH, NOTIFY_LIST, NOTIFY_SET, NOTIFY_STRING, NOTIFY_ZSET,
} from '../notify.js';

/** Fires `event` (class `type`) on `key` of the session's db, or of db `dbId`. */
export function keyEvent(s: Session, type: number, event: string, key: string, dbId: number = s.db.id): void {
  if ((s.server.notifyFlags & type) !== 0) notifyKeyspaceEvent(s.server, type, event, key, dbId);
}

/** The generic `del` Redis fires when a command empties (and so removes) a key. */
export function delEvent(s: Session, key: string, dbId: number = s.db.id): void {
  if ((s.server.notifyFlags & NOTIFY_GENERIC) !== 0) notifyKeyspaceEvent(s.server, NOTIFY_GENERIC, 'del', key, dbId);
}

/** `new` for a key about to be added (Redis fires it in dbAdd, before the command's own event). */
export function newEvent(s: Session, key: string, dbId: number = s.db.id): void {
  if ((s.server.notifyFlags & NOTIFY_NEW) !== 0) notifyKeyspaceEvent(s.server, NOTIFY_NEW, 'new', key, dbId);
}

/**
 * `new` before a db.set that may create the key: only while `n` is enabled is the key looked up
 * (that lookup may expire it first, as Redis's setKey does: `expired` then `new`).
 */
export function newEventIfAbsent(s: Session, db: Db, key: string): void {
  if ((s.server.notifyFlags & NOTIFY_NEW) !== 0 && !db.exists(key)) notifyKeyspaceEvent(s.server, NOTIFY_NEW, 'new', key, db.id);
}

// Read-only commands whose lookups Redis makes with LOOKUP_NONOTIFY (object/memory inspection).
const NO_KEYMISS = new Set(['object|encoding', 'object|freq', 'object|idletime', 'object|refcount', 'memory|usage']);

/**
 * keymiss (m) after a read-only command that did not fail: one event per key argument that is
 * absent, in argument order (a read-only command creates no key, so absent now is absent when it
 * was read; a key named twice is looked up, and missed, twice, as in Redis).
 */
export function notifyReadMisses(s: Session, spec: CommandSpec, args: readonly string[]): void {
  if (NO_KEYMISS.has(spec.name)) return;
  const idx = keyIndexes(spec, args);
  if (idx === null) return;
  const db = s.db;
  for (const i of idx) {
    const key = args[i]!;
    if (!db.exists(key)) notifyKeyspaceEvent(s.server, NOTIFY_KEY_MISS, 'keymiss', key, db.id);
  }
}

/**
 * keymiss for a write command's read of an absent source, where Redis reads it with a notifying
 * lookupKeyRead (GETEX, GETDEL, GETSET, SET … GET, COPY, SORT, BITOP, the *STORE sources).
 */
export function keyMissEvent(s: Session, key: string): void {
  if ((s.server.notifyFlags & NOTIFY_KEY_MISS) !== 0) notifyKeyspaceEvent(s.server, NOTIFY_KEY_MISS, 'keymiss', key, s.db.id);
}
