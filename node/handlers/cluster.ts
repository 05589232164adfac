// Cluster-mode commands: ASKING and TESSERA.SLOTS SET / CONFIRM / GET (node/cluster/ownership.ts
// holds the state; node/cluster/routing-check.ts answers with it). On a node without
// `slot-ownership yes` they refuse, as Redis's cluster commands do without cluster-enabled.
import { slotOf } from '../../common/slots.js';
import { importAbort, importChunk, importCommit, importRestore, importRestoreBatch, settleImports } from '../cluster/import.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_KEYS, DEFAULT_TIMEOUT_MS, MoveError, Mover, approxBytes } from '../cluster/mover.js';
import { parseEpoch, parseSetArgs, parseSlotList, SlotState, stateName } from '../cluster/ownership.js';
import type { NodeServer } from '../server.js';
import { aofOf } from '../persistence/aof.js';
import { CLUSTERDOWN_ERR, UNCONFIRMED_ERR, type SlotRouting } from '../cluster/routing-check.js';
import type { Session } from '../session.js';
import type { HandlerMap } from './handler.js';

const NOT_CLUSTER = 'ERR This instance has cluster support disabled';
const NO_OWNERSHIP = 'ERR slot ownership is disabled on this node: start it with slot-ownership yes';

function routingOf(s: Session, error: string): SlotRouting | null {
  const routing = s.server.dispatcher.routing;
  if (routing === null) s.w.error(error);
  return routing;
}

function askingCommand(s: Session): void {
  const routing = routingOf(s, NOT_CLUSTER);
  if (routing === null) return;
  routing.setAsking(s);
  s.w.ok();
}

/**
 * TESSERA.SLOTS SET <epoch> <ranges> <STATE> […]: applied and persisted before the reply, then
 * propagated as is (the dirty bump makes the dispatcher send it to replicas and the AOF), so a
 * replica, and so a promoted replica, owns what its master owned.
 */
function slotsSetCommand(s: Session, args: string[]): void {
  const routing = routingOf(s, NO_OWNERSHIP);
  if (routing === null) return;
  const parsed = parseSetArgs(args.slice(2));
  if ('error' in parsed) return s.w.error(parsed.error);
  const before = routing.ownership.epoch;
  // An AOF replayed at start is history, not the coordinator: it must not lift the restart fence.
  // Live, the file is written off the event loop and +OK goes once it is durable.
  const live = !s.server.suppressPropagation;
  const { error, durable } = live ? routing.ownership.setDurably(parsed.epoch, parsed.ranges) : { error: routing.ownership.set(parsed.epoch, parsed.ranges, false), durable: null };
  if (routing.ownership.epoch !== before) {
    s.server.dirty++;
    redirectBlockedClients(s, routing);
    settleSlots(s, routing);
  }
  if (error) return s.w.error(error);
  if (durable === null) return s.w.ok();
  s.paused = true; // this client's next commands wait for the reply, like TESSERA.MIGRATE SLOT
  void durable.then((problem) => {
    if (s.closed) return;
    s.paused = false;
    if (problem) s.w.error(problem);
    else s.w.ok();
    s.processInput();
  });
}

/**
 * Clients blocked (BLPOP …) on keys of a slot this node no longer serves would wait for a write
 * that can never come here: like Redis's clusterRedirectBlockedClientIfNeeded, they are unblocked
 * with -MOVED to the new owner (or CLUSTERDOWN). A slot migrating out is still served; an
 * importing one keeps its waiters too. Runs only when an epoch changed, over the blocked clients.
 */
function redirectBlockedClients(s: Session, routing: SlotRouting): void {
  const server = s.server;
  if (server.blocking.blockedCount === 0) return;
  const own = routing.ownership;
  for (const c of server.sessions) {
    const state = c.blocked;
    // All keys of a blocking command share one slot in cluster mode: the first one tells.
    if (state === null || state.keys.length === 0) continue;
    const slot = slotOf(state.keys[0]!);
    if (own.stateOf(slot) !== SlotState.None) continue;
    const owner = own.peerOf(slot);
    server.blocking.unblock(c);
    c.w.error(owner === null ? CLUSTERDOWN_ERR : `MOVED ${slot} ${owner}`);
    c.flush();
    // The unblocked client may have pipelined more commands meanwhile.
    setImmediate(() => c.processInput());
  }
}

/**
 * Partial imports of slots that stopped importing (a cancel) are dropped by a master (its DELs
 * reach replicas and the AOF; a replica and an AOF replay hear of them that way), and untouched
 * marks of settled slots forgotten (node/cluster/import.ts).
 */
function settleSlots(s: Session, routing: SlotRouting): void {
  const server = s.server;
  const db = server.dbs[0]!;
  const master = server.replication.role === 'master' && !server.suppressPropagation && !server.replication.isMasterClient(s);
  settleImports(db, routing.ownership, master ? (argv) => server.propagate(db.id, argv) : null);
}

/** TESSERA.SLOTS CONFIRM <epoch>: lifts the restart write fence when the epochs agree. */
function slotsConfirmCommand(s: Session, args: string[]): void {
  const routing = routingOf(s, NO_OWNERSHIP);
  if (routing === null) return;
  const epoch = parseEpoch(args[2]);
  if (epoch === null) return s.w.error('ERR invalid configuration epoch: a positive integer is expected');
  const error = routing.ownership.confirm(epoch, !s.server.suppressPropagation);
  if (error) return s.w.error(error);
  // Replicas mirror the confirmation, so a promoted replica does not wait for one of its own.
  s.server.dirty++;
  s.w.ok();
}

/**
 * TESSERA.SLOTS GET: ["epoch", n, "confirmed", 0|1, "slots", [[start, end, state, peer|nil] …]],
 * contiguous runs in slot order; peer is the owner (none), target (migrating) or source (importing).
 */
function slotsGetCommand(s: Session): void {
  const routing = routingOf(s, NO_OWNERSHIP);
  if (routing === null) return;
  const own = routing.ownership;
  const ranges = own.ranges();
  const w = s.w;
  w.array(6);
  w.bulk('epoch');
  w.integer(own.epoch);
  w.bulk('confirmed');
  w.integer(own.confirmed ? 1 : 0);
  w.bulk('slots');
  w.array(ranges.length);
  for (const r of ranges) {
    w.array(4);
    w.integer(r.start);
    w.integer(r.end);
    w.bulk(stateName(r.state));
    w.bulkOrNull(r.peer);
  }
}

// ------------------------------------------------------------------ the mover (node/cluster/mover.ts)

const movers = new WeakMap<NodeServer, Mover>();

/** The node's mover, made on first use (cluster mode only). */
function moverOf(server: NodeServer): Mover {
  let m = movers.get(server);
  if (m !== undefined) return m;
  const db = server.dbs[0]!;
  m = new Mover({
    db,
    locks: server.dispatcher.keyLocks,
    authArgs: () => {
      const pass = server.config.get('masterauth') || server.config.get('requirepass');
      if (pass === '') return [];
      const user = server.config.get('masterauth') !== '' ? server.config.get('masteruser') : '';
      return user !== '' ? [user, pass] : [pass];
    },
    rdbCompression: () => server.config.getBool('rdbcompression'),
    now: () => server.now,
    stillMigrating: (slot, target) => {
      const own = server.dispatcher.routing!.ownership;
      return own.stateOf(slot) === SlotState.Migrating && own.peerOf(slot) === target;
    },
    deleted: (keys) => {
      // As expiries do, but one DEL for a batch's keys (one command for replicas and the AOF to
      // apply, not one per key): WATCHers and waiters hear of each key.
      server.propagate(db.id, ['DEL', ...keys]);
      for (const key of keys) server.changed(db, key);
    },
    durable: () => aofOf(server)?.durable() ?? Promise.resolve(),
    log: (level, message) => server.log(level, message),
  });
  movers.set(server, m);
  return m;
}

function parseCount(text: string | undefined, min: number): number | null {
  if (text === undefined || !/^\d{1,15}$/.test(text)) return null;
  const n = Number(text);
  return n >= min ? n : null;
}

/**
 * TESSERA.MIGRATE SLOT <slot> <host:port> [MAXKEYS n] [MAXBYTES n] [TIMEOUT ms]: the reply is
 * deferred (the session reads nothing more meanwhile, like a blocked client) until every key of
 * the batch is acknowledged by the target and deleted here: [moved, bytes, remaining].
 */
function migrateSlotCommand(s: Session, args: string[]): void {
  const routing = routingOf(s, NO_OWNERSHIP);
  if (routing === null) return;
  const slot = parseCount(args[2], 0);
  if (slot === null || slot >= 1024) return s.w.error('ERR invalid slot: 0-1023 expected');
  const target = args[3]!;
  const opts = { maxKeys: DEFAULT_MAX_KEYS, maxBytes: DEFAULT_MAX_BYTES, timeoutMs: DEFAULT_TIMEOUT_MS };
  for (let i = 4; i < args.length; i += 2) {
    const word = args[i]!.toLowerCase();
    const n = parseCount(args[i + 1], 1);
    if (n === null) return s.w.error(`ERR syntax error: ${args[i]} needs a positive integer`);
    if (word === 'maxkeys') opts.maxKeys = n;
    else if (word === 'maxbytes') opts.maxBytes = n;
    else if (word === 'timeout') opts.timeoutMs = n;
    else return s.w.error('ERR syntax error: expected MAXKEYS, MAXBYTES or TIMEOUT');
  }
  const own = routing.ownership;
  if (own.stateOf(slot) !== SlotState.Migrating || own.peerOf(slot) !== target) return s.w.error(`ERR slot ${slot} is not migrating to ${target}`);
  if (s.server.replication.role !== 'master') return s.w.error('ERR slots are migrated by masters only');
  // Moving deletes keys here: not before the coordinator confirmed what a restarted master owns.
  if (!own.confirmed) return s.w.error(UNCONFIRMED_ERR);
  const mover = moverOf(s.server);
  if (mover.isRunning(slot)) return s.w.error(`BUSY slot ${slot} migration in progress`);
  s.paused = true;
  const done = (write: () => void): void => {
    if (s.closed) return;
    s.paused = false;
    write();
    s.processInput();
  };
  mover.migrateSlot(slot, target, opts).then(
    (r) => done(() => {
      s.w.array(3);
      s.w.integer(r.moved);
      s.w.integer(r.bytes);
      s.w.integer(r.remaining);
    }),
    (err: unknown) => done(() => {
      if (!(err instanceof MoveError)) s.server.log('warning', `Slot ${slot} migration failed: ${(err as Error)?.stack ?? String(err)}`);
      s.w.error(err instanceof MoveError ? err.message : `ERR migration failed: ${(err as Error)?.message ?? String(err)}`);
    }),
  );
}

/** TESSERA.MIGRATE STATUS: field/value pairs (a map in RESP3). */
function migrateStatusCommand(s: Session): void {
  if (routingOf(s, NO_OWNERSHIP) === null) return;
  const fields = moverOf(s.server).status();
  s.w.map(fields.length);
  for (const [name, value] of fields) {
    s.w.bulk(name);
    if (typeof value === 'number') s.w.integer(value);
    else s.w.bulkOrNull(value);
  }
}

/**
 * TESSERA.MIGRATE THROTTLE [KEYS n] [BYTES n]: the mover's rate limits, keys and bytes per second
 * over every move of this node (0 = none), applied from the next batch of the moves running.
 * Without arguments, or after setting: ["keys_per_sec", n, "bytes_per_sec", n].
 */
function migrateThrottleCommand(s: Session, args: string[]): void {
  if (routingOf(s, NO_OWNERSHIP) === null) return;
  const throttle = moverOf(s.server).throttle;
  const now = throttle.status();
  let keys = now.keysPerSec;
  let bytes = now.bytesPerSec;
  for (let i = 2; i < args.length; i += 2) {
    const word = args[i]!.toLowerCase();
    const n = parseCount(args[i + 1], 0);
    if (n === null) return s.w.error(`ERR syntax error: ${args[i]} needs a non-negative integer`);
    if (word === 'keys') keys = n;
    else if (word === 'bytes') bytes = n;
    else return s.w.error('ERR syntax error: expected KEYS or BYTES');
  }
  if (args.length > 2) throttle.set(keys, bytes);
  s.w.map(2);
  s.w.bulk('keys_per_sec');
  s.w.integer(keys);
  s.w.bulk('bytes_per_sec');
  s.w.integer(bytes);
}

/** How many keys of a slot are sampled for its byte estimate. */
const STATS_SAMPLE = 16;

/**
 * TESSERA.SLOTS STATS <slots>: [slot, keys, bytes] for each slot with keys. Keys come from the
 * per-slot index; bytes are keys × the average approximate size of a few sampled keys.
 */
function slotsStatsCommand(s: Session, args: string[]): void {
  if (routingOf(s, NO_OWNERSHIP) === null) return;
  const spans = parseSlotList(args[2]!);
  if (spans === null) return s.w.error(`ERR invalid slot range '${args[2]!.slice(0, 64)}': expected slots 0-1023 as a-b,c,...`);
  const db = s.server.dbs[0]!;
  const rows: Array<[number, number, number]> = [];
  for (const [start, end] of spans) {
    for (let slot = start; slot <= end; slot++) {
      const n = db.slots.count(slot);
      if (n > 0) rows.push([slot, n, estimateSlotBytes(s, slot, n)]);
    }
  }
  s.w.array(rows.length);
  for (const [slot, keys, bytes] of rows) {
    s.w.array(3);
    s.w.integer(slot);
    s.w.integer(keys);
    s.w.integer(bytes);
  }
}

function estimateSlotBytes(s: Session, slot: number, n: number): number {
  const db = s.server.dbs[0]!;
  const k = Math.min(STATS_SAMPLE, n);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const key = db.slots.keyAt(slot, Math.floor((i * n) / k))!;
    const e = db.isHidden(key) ? undefined : db.dict.get(key);
    sum += key.length + (e === undefined ? 0 : approxBytes(e.value));
  }
  return Math.round((sum / k) * n);
}

export const clusterHandlers: HandlerMap = {
  'tessera.migrate|slot': migrateSlotCommand,
  'tessera.migrate|status': migrateStatusCommand,
  'tessera.migrate|throttle': migrateThrottleCommand,
  'tessera.import|restore': importRestore,
  'tessera.import|restore-batch': importRestoreBatch,
  'tessera.slots|stats': slotsStatsCommand,
  'tessera.import|chunk': importChunk,
  'tessera.import|commit': importCommit,
  'tessera.import|abort': importAbort,
  asking: askingCommand,
  'tessera.slots|set': slotsSetCommand,
  'tessera.slots|confirm': slotsConfirmCommand,
  'tessera.slots|get': slotsGetCommand,
};
