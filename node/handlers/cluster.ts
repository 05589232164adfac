// Cluster-mode commands: ASKING and TESSERA.SLOTS SET / CONFIRM / GET (node/cluster/ownership.ts
// holds the state; node/cluster/routing-check.ts answers with it). On a node without
// `slot-ownership yes` they refuse, as Redis's cluster commands do without cluster-enabled.
import { slotOf } from '../../common/slots.js';
import { parseEpoch, parseSetArgs, SlotState, stateName } from '../cluster/ownership.js';
import { CLUSTERDOWN_ERR, type SlotRouting } from '../cluster/routing-check.js';
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
  const error = routing.ownership.set(parsed.epoch, parsed.ranges, !s.server.suppressPropagation);
  if (routing.ownership.epoch !== before) {
    s.server.dirty++;
    redirectBlockedClients(s, routing);
  }
  if (error) return s.w.error(error);
  s.w.ok();
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

export const clusterHandlers: HandlerMap = {
  asking: askingCommand,
  'tessera.slots|set': slotsSetCommand,
  'tessera.slots|confirm': slotsConfirmCommand,
  'tessera.slots|get': slotsGetCommand,
};
