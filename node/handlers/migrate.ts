// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
// [AUTH2 username password] [KEYS key …], as Redis 7.0's: the keys are DUMPed, sent to the other
// server as RESTOREs (after AUTH and SELECT when needed) and, without COPY, deleted here once the
// other server acknowledged each one; replicas and the AOF see a DEL of the keys acknowledged.
//
// Redis blocks its whole event loop while it talks to the target; the node does not: the client
// that sent MIGRATE waits (its later commands too), and the keys' hash-tag groups are locked
// meanwhile (node/keyspace/key-locks.ts), so a command on them waits until the keys are gone or
// kept, and no write can slip between the DUMP and the DEL. Connections are cached per host:port
// for 10 s of idleness (64 at most) like Redis's, and MIGRATEs to one address run one at a time
// on it, so the database it has SELECTed is known.
import { encodeCommand } from '../../common/resp/encode.js';
import { ReplyErrorValue } from '../../common/resp/reply-decoder.js';
import { ERR } from '../../common/errors.js';
import { TargetLink } from '../cluster/target-link.js';
import type { Db, Entry } from '../keyspace/db.js';
import { createDumpPayload } from '../persistence/dump.js';
import type { NodeServer } from '../server.js';
import type { Session } from '../session.js';
import { delEvent } from './key-events.js';
import { type HandlerMap, is, syntaxError } from './handler.js';

/** Redis's MIGRATE_SOCKET_CACHE_TTL and MIGRATE_SOCKET_CACHE_ITEMS. */
const IDLE_CLOSE_MS = 10_000;
const MAX_CACHED = 64;
// Redis's texts: a connect that times out or a host that does not resolve is "connecting"; a
// connection refused shows up at the first write.
const CONNECT_ERR = 'IOERR error or timeout connecting to the client';
const WRITE_ERR = 'IOERR error or timeout writing to target instance';
const IO_ERR = 'IOERR error or timeout reading to target instance';

interface CachedLink {
  link: TargetLink;
  /** The database the link has SELECTed (-1: unknown, SELECT next time). */
  db: number;
  /** The MIGRATE running on it (the next one waits for it). */
  busy: Promise<void>;
  idle: NodeJS.Timeout | null;
}

/** One cache of links per server (a test process may run several). */
const caches = new WeakMap<NodeServer, Map<string, CachedLink>>();

function cacheOf(server: NodeServer): Map<string, CachedLink> {
  let c = caches.get(server);
  if (c === undefined) caches.set(server, (c = new Map()));
  return c;
}

function drop(cache: Map<string, CachedLink>, address: string, entry: CachedLink): void {
  if (cache.get(address) === entry) cache.delete(address);
  if (entry.idle !== null) clearTimeout(entry.idle);
  entry.link.close();
}

interface Request {
  address: string;
  dbIndex: number;
  timeoutMs: number;
  copy: boolean;
  replace: boolean;
  auth: string[];
  keys: string[];
}

function migrateCommand(s: Session, args: string[]): void {
  const req: Request = { address: '', dbIndex: 0, timeoutMs: 0, copy: false, replace: false, auth: [], keys: [] };
  let keysAt = -1;
  for (let j = 6; j < args.length; j++) {
    const more = args.length - 1 - j;
    if (is(args[j], 'copy')) req.copy = true;
    else if (is(args[j], 'replace')) req.replace = true;
    else if (is(args[j], 'auth')) {
      if (more < 1) return syntaxError(s);
      req.auth = [args[++j]!];
    } else if (is(args[j], 'auth2')) {
      if (more < 2) return syntaxError(s);
      req.auth = [args[j + 1]!, args[j + 2]!];
      j += 2;
    } else if (is(args[j], 'keys')) {
      if (args[3] !== '') return s.w.error('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
      keysAt = j + 1;
      break;
    } else return syntaxError(s);
  }
  const timeout = longArg(args[5]!);
  const dbIndex = longArg(args[4]!);
  if (timeout === null || dbIndex === null) return s.w.error(ERR.notInteger);
  if (s.server.dispatcher.nested) return s.w.error('ERR MIGRATE is not supported inside MULTI/EXEC or scripts by this server');
  req.timeoutMs = timeout <= 0 ? 1000 : Math.min(timeout, 2 ** 31 - 1);
  req.dbIndex = dbIndex;
  req.address = `${args[1]}:${args[2]}`;
  const db = s.db;
  const named = keysAt < 0 ? [args[3]!] : args.slice(keysAt);
  const entries: Entry[] = [];
  for (const key of named) {
    const e = db.lookup(key);
    if (e === undefined) continue;
    req.keys.push(key);
    entries.push(e);
  }
  if (req.keys.length === 0) return s.w.simple('NOKEY');
  // The RESTOREs are made now: the groups are locked from here on, so what is sent is what the
  // DELs will remove.
  const restores: Buffer[] = [];
  const sent: string[] = [];
  const sentEntries: Entry[] = [];
  const now = s.server.now;
  for (let i = 0; i < req.keys.length; i++) {
    const e = entries[i]!;
    let ttl = 0;
    if (e.expireAt !== 0) {
      ttl = e.expireAt - now;
      if (ttl < 0) continue; // expired since the lookup: not sent, as in Redis
      if (ttl < 1) ttl = 1;
    }
    const payload = createDumpPayload(e.value, { compression: s.server.config.getBool('rdbcompression') });
    const argv = ['RESTORE', req.keys[i]!, String(Math.floor(ttl)), payload.toString('latin1')];
    if (req.replace) argv.push('REPLACE');
    restores.push(encodeCommand(argv));
    sent.push(req.keys[i]!);
    sentEntries.push(e);
  }
  const locks = s.server.dispatcher.keyLocks;
  const tags = sent.map((key) => locks.lockKey(key));
  s.paused = true;
  run(s.server, req, restores).then(
    (outcome) => finish(s, db, req, sent, sentEntries, tags, outcome),
    (err: unknown) => finish(s, db, req, sent, sentEntries, tags, { restored: [], error: `ERR MIGRATE failed: ${(err as Error)?.message ?? String(err)}` }),
  );
}

/** What the target made of the request: which RESTOREs it acknowledged (in order), and the error to reply. */
interface Outcome {
  /** Per key sent, whether it is restored there (false: refused, or never answered). */
  restored: boolean[];
  error: string | null;
}

/** A long long as Redis's getLongFromObjectOrReply reads it, or null. */
function longArg(text: string): number | null {
  if (!/^-?\d{1,19}$/.test(text)) return null;
  const n = BigInt(text);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return null;
  return Number(n);
}

async function run(server: NodeServer, req: Request, restores: Buffer[]): Promise<Outcome> {
  const cache = cacheOf(server);
  const cached = cache.get(req.address);
  if (cached !== undefined) {
    // A cached link may be stale (closed by the target while idle): like Redis, one retry on a
    // fresh connection when nothing was answered and it was no timeout.
    const outcome = await onLink(cache, req, cached, restores);
    if (outcome !== 'retry') return outcome;
  }
  let link: TargetLink;
  try {
    link = await TargetLink.open(req.address, req.timeoutMs, []);
  } catch (err) {
    return { restored: [], error: /timeout|ENOTFOUND|EAI_/.test((err as Error).message) ? CONNECT_ERR : WRITE_ERR };
  }
  const outcome = await onLink(cache, req, keep(cache, req.address, link), restores);
  return outcome === 'retry' ? { restored: [], error: IO_ERR } : outcome;
}

/**
 * A new link, cached unless the address has one already or 64 links are in use (an idle one
 * makes room); an uncached link is closed after its MIGRATE.
 */
function keep(cache: Map<string, CachedLink>, address: string, link: TargetLink): CachedLink {
  const entry: CachedLink = { link, db: -1, busy: Promise.resolve(), idle: null };
  if (cache.has(address)) return entry;
  if (cache.size >= MAX_CACHED) {
    for (const [a, e] of cache) {
      if (e.idle === null) continue;
      drop(cache, a, e);
      break;
    }
    if (cache.size >= MAX_CACHED) return entry;
  }
  cache.set(address, entry);
  return entry;
}

/** One MIGRATE on a link, after the one before it on the same link. */
async function onLink(cache: Map<string, CachedLink>, req: Request, entry: CachedLink, restores: Buffer[]): Promise<Outcome | 'retry'> {
  const previous = entry.busy;
  let release!: () => void;
  entry.busy = new Promise<void>((r) => (release = r));
  await previous;
  try {
    if (entry.idle !== null) clearTimeout(entry.idle);
    entry.idle = null;
    if (!entry.link.alive) return 'retry';
    return await exchange(entry, req, restores);
  } finally {
    release();
    if (cache.get(req.address) !== entry) entry.link.close();
    else if (!entry.link.alive) drop(cache, req.address, entry);
    else idleClose(cache, req.address, entry);
  }
}

/** Closes a cached link after IDLE_CLOSE_MS without a MIGRATE. */
function idleClose(cache: Map<string, CachedLink>, address: string, entry: CachedLink): void {
  if (entry.idle !== null) clearTimeout(entry.idle);
  entry.idle = setTimeout(() => drop(cache, address, entry), IDLE_CLOSE_MS);
  entry.idle.unref();
}

/**
 * AUTH (when given), SELECT (when the link is elsewhere), then the RESTOREs, pipelined; each
 * reply awaited in order. 'retry' when the link failed before any reply without a timeout.
 */
async function exchange(entry: CachedLink, req: Request, restores: Buffer[]): Promise<Outcome | 'retry'> {
  const link = entry.link;
  link.setTimeout(req.timeoutMs);
  const select = entry.db !== req.dbIndex;
  // One request per command (a reply each, so the keys answered before a failure are known),
  // all in one write.
  const [auth, selected, replies] = link.batch(() => [
    req.auth.length > 0 ? link.request(encodeCommand(['AUTH', ...req.auth]), 1) : null,
    select ? link.request(encodeCommand(['SELECT', String(req.dbIndex)]), 1) : null,
    restores.map((bytes) => link.request(bytes, 1)),
  ] as const);
  // Every promise is awaited below or here: none may reject unobserved.
  for (const p of [auth, selected, ...replies]) p?.catch(() => {});
  entry.db = req.dbIndex;
  let answered = 0;
  let error: string | null = null;
  const restored: boolean[] = [];
  try {
    const authReply = auth === null ? null : (await auth)[0];
    answered++;
    const selectReply = selected === null ? null : (await selected)[0];
    answered++;
    // As Redis: a failed AUTH or SELECT fails every key; the first error is the one replied.
    const before = authReply instanceof ReplyErrorValue ? authReply : selectReply instanceof ReplyErrorValue ? selectReply : null;
    for (const r of replies) {
      const [reply] = await r;
      answered++;
      const failed = before ?? (reply instanceof ReplyErrorValue ? reply : null);
      restored.push(failed === null);
      if (failed === null) continue;
      error ??= `ERR Target instance replied with error: ${failed.message}`;
      entry.db = -1;
    }
  } catch (err) {
    entry.db = -1;
    if (answered === 0 && !/timeout/.test((err as Error).message)) return 'retry';
    // Keys answered before the link failed were restored there; the rest stay here.
    return { restored, error: error ?? IO_ERR };
  }
  return { restored, error };
}

function finish(s: Session, db: Db, req: Request, sent: string[], entries: Entry[], tags: string[], outcome: Outcome): void {
  const server = s.server;
  if (!req.copy) {
    const deleted: string[] = [];
    for (let i = 0; i < outcome.restored.length; i++) {
      const key = sent[i]!;
      // The group was locked, so only expiry, eviction or a FLUSHALL can have changed the key.
      if (!outcome.restored[i] || db.dict.get(key) !== entries[i]) continue;
      db.delete(key);
      deleted.push(key);
    }
    if (deleted.length > 0) {
      server.propagate(db.id, ['DEL', ...deleted]);
      for (const key of deleted) {
        server.changed(db, key);
        delEvent(s, key, db.id);
      }
    }
  }
  const locks = server.dispatcher.keyLocks;
  for (const tag of tags) locks.unlockTag(tag);
  if (s.closed) return;
  s.paused = false;
  if (outcome.error !== null) s.w.error(outcome.error);
  else s.w.ok();
  s.processInput();
}

export const migrateHandlers: HandlerMap = {
  migrate: migrateCommand,
};
