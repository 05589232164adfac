// SLOTSDEL slot [slot ...] (Codis): deletes every key of the given slots and answers, per slot
// argument, [slot, keys left]. Used to clear slots a node does not serve (a snapshot restored into
// a group whose slots changed); on a cluster-mode node it works for any slot that is not moving.
//
// Bounded work: the keys go in steps of SCAN_STEP, each event-loop turn stopping after
// TURN_BUDGET_MS and the next one starting IDLE_BETWEEN_TURNS_MS later, so a slot of a million keys never stalls other clients; the caller's reply waits
// (the session reads nothing more, like a blocked client) until every slot was walked. Each key is
// propagated as a DEL (replicas and the AOF see DELs, never SLOTSDEL), as an expiry is. Keys written
// to a slot while it is being cleared may outlive the walk: the reply counts them.
import { SLOT_COUNT } from '../../common/slots.js';
import { SlotState, stateName } from '../cluster/ownership.js';
import type { Session } from '../session.js';
import type { HandlerMap } from './handler.js';

/** Keys deleted between two looks at the clock. */
const SCAN_STEP = 128;
/** Event-loop time one turn of SLOTSDEL may take before other clients run. */
const TURN_BUDGET_MS = 2;
/** Pause between turns: at most half the node's time goes to SLOTSDEL (see step()). */
const IDLE_BETWEEN_TURNS_MS = 2;
/** Arguments accepted per call (a slot may be named once each, in any order). */
const MAX_SLOT_ARGS = SLOT_COUNT;

/** The slot numbers of the arguments, or the error to answer. */
function parseSlots(args: string[]): number[] | string {
  if (args.length - 1 > MAX_SLOT_ARGS) return `ERR too many slots: at most ${MAX_SLOT_ARGS} per SLOTSDEL`;
  const slots: number[] = [];
  for (let i = 1; i < args.length; i++) {
    const text = args[i]!;
    const n = /^\d{1,4}$/.test(text) ? Number(text) : -1;
    if (n < 0 || n >= SLOT_COUNT) return `ERR invalid slot number '${text.length > 32 ? `${text.slice(0, 32)}…` : text}': 0-${SLOT_COUNT - 1} expected`;
    slots.push(n);
  }
  return slots;
}

/** On a cluster-mode node a slot moving in or out belongs to the mover: the error, or null. */
function movingSlotError(s: Session, slots: number[]): string | null {
  const own = s.server.dispatcher.routing?.ownership;
  if (own === undefined) return null;
  for (const slot of slots) {
    const state = own.stateOf(slot);
    if (state === SlotState.Migrating || state === SlotState.Importing) {
      return `ERR slot ${slot} is ${stateName(state).toLowerCase()}: SLOTSDEL would race the mover (cancel or finish the migration first)`;
    }
  }
  return null;
}

function slotsdelCommand(s: Session, args: string[]): void {
  const slots = parseSlots(args);
  if (typeof slots === 'string') return s.w.error(slots);
  const moving = movingSlotError(s, slots);
  if (moving !== null) return s.w.error(moving);
  const server = s.server;
  const db = s.db;
  // Deleting happens in later turns, outside this command's dispatch: nothing here dirties the
  // dataset, so the dispatcher propagates no SLOTSDEL; each key goes out as its own DEL.
  s.paused = true;
  let i = 0;
  let cursor = 0;
  const visit = (key: string) => {
    if (db.delete(key)) {
      server.propagate(db.id, ['DEL', key]);
      server.changed(db, key);
    }
  };
  const step = (): void => {
    if (s.closed) return;
    const deadline = performance.now() + TURN_BUDGET_MS;
    while (i < slots.length && performance.now() < deadline) {
      cursor = db.slots.scanSlot(slots[i]!, cursor, SCAN_STEP, visit);
      if (cursor === 0) i++;
    }
    if (i < slots.length) {
      // A timer, not setImmediate: the node idles between turns, so on a loaded host the OS still
      // schedules it promptly for other clients (a process busy without a pause waits for its
      // share of the CPU: measured with setImmediate, a median probe of 15 ms vs 0.2 ms on an
      // idle node, 6.6 ms with this pause). Costs throughput only: ~1 s for 200,000 keys here.
      setTimeout(step, IDLE_BETWEEN_TURNS_MS);
      return;
    }
    s.paused = false;
    s.woff = server.replication.masterReplOffset;
    s.w.array(slots.length);
    for (const slot of slots) {
      s.w.array(2);
      s.w.integer(slot);
      s.w.integer(db.slots.count(slot));
    }
    s.processInput();
  };
  setImmediate(step);
}

export const slotsDelHandlers: HandlerMap = {
  slotsdel: slotsdelCommand,
};
