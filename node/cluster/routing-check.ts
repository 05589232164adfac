// The dispatcher's slot-ownership checks (cluster mode only), with Redis Cluster's answers
// (getNodeByQuery in Redis's cluster.c): keys in a slot this node does not serve → -MOVED to the
// owner it was told about; a slot migrating out → run here if every key is still here, -ASK to the
// target if none is, -TRYAGAIN if some are; an importing slot → served only right after ASKING,
// else -MOVED to the source; keys of several slots → -CROSSSLOT. Keyless commands pass, and so
// do the mover's TESSERA.IMPORT commands, which check their keys' slots themselves (SELF_ROUTED).
import { keyIndexes } from '../../common/commands/keys.js';
import { lookupCommand, resolveCommand } from '../../common/commands/table.js';
import type { CommandSpec } from '../../common/commands/spec.js';
import { slotOf } from '../../common/slots.js';
import type { Db } from '../keyspace/db.js';
import type { Session } from '../session.js';
import { SlotState, type SlotOwnership } from './ownership.js';

export const CROSSSLOT_ERR = "CROSSSLOT Keys in request don't hash to the same slot";
export const TRYAGAIN_ERR = 'TRYAGAIN Multiple keys request during rehashing of slot';
export const CLUSTERDOWN_ERR = 'CLUSTERDOWN Hash slot not served';
export const UNCONFIRMED_ERR = 'TRYAGAIN slot ownership not confirmed since restart';

/** What the checks need from replication: who is our master link, and are we a master. */
export interface RoutingReplication {
  isMasterClient(s: Session): boolean;
  readonly role: 'master' | 'slave';
}

/**
 * Commands that check their slot themselves, more strictly than ASKING would (node/cluster/
 * import.ts: each key's slot must be importing here, whatever the session sent before), so the
 * mover needs no ASKING before each, and a batch may span slots (each key answers for itself).
 * Consulted only on the paths that would refuse (several slots, a slot not simply owned), so the
 * usual command pays nothing for it.
 */
const SELF_ROUTED: ReadonlySet<string> = new Set([
  'tessera.import|restore', 'tessera.import|restore-batch', 'tessera.import|chunk', 'tessera.import|commit', 'tessera.import|abort',
]);

export class SlotRouting {
  /** Sessions whose next command may use an importing slot (Redis's CLIENT_ASKING flag). */
  private readonly asking = new WeakSet<Session>();
  /**
   * At least the number of sessions holding the flag (a session that closes with it set is never
   * subtracted): 0, the usual case, skips the WeakSet lookup on every command.
   */
  private askingUpperBound = 0;

  constructor(
    readonly ownership: SlotOwnership,
    private readonly replication: RoutingReplication,
  ) {}

  /** ASKING: lets the session's next command (or its next transaction) into an importing slot. */
  setAsking(s: Session): void {
    if (this.asking.has(s)) return;
    this.asking.add(s);
    this.askingUpperBound++;
  }

  /**
   * Called once at the start of every command: whether ASKING preceded it. The flag is one-shot,
   * as in Redis (resetClient clears it after any other command unless the client is in MULTI
   * then): MULTI and the commands queued after it keep it, so they and EXEC see it; EXEC and
   * DISCARD end it, and RESET clears it as it clears the connection's state.
   */
  takeAsking(s: Session, top: CommandSpec): boolean {
    if (this.askingUpperBound === 0 || !this.asking.has(s)) return false;
    const name = top.name;
    const ends = name === 'exec' || name === 'discard' || name === 'reset';
    const keeps = name === 'asking' || name === 'multi' || (s.multi !== null && !ends);
    if (!keeps) {
      this.asking.delete(s);
      this.askingUpperBound--;
    }
    return true;
  }

  /**
   * The redirect for a command, or null to run it here. EXEC is checked over all its queued
   * commands together (they were also checked one by one when queued), as Redis does.
   */
  redirect(s: Session, spec: CommandSpec, args: readonly string[], asking: boolean): string | null {
    if (this.replication.isMasterClient(s)) return null;
    if (spec.name === 'exec' && s.multi !== null) return this.redirectForKeys(s.db, queuedKeys(s.multi), asking);
    if (spec.movableKeys !== undefined) {
      const idx = keyIndexes(spec, args);
      if (idx === null || idx.length === 0) return null;
      return this.redirectForKeys(s.db, idx.map((i) => args[i]!), asking);
    }
    if (spec.firstKey === 0) return null;
    // Fixed key positions: walk them without building a key array (the common case).
    const last = spec.lastKey < 0 ? args.length + spec.lastKey : spec.lastKey;
    if (spec.firstKey >= args.length) return null;
    const first = args[spec.firstKey]!;
    const slot = slotOf(first);
    let multiple = false;
    for (let i = spec.firstKey + spec.keyStep; i <= last && i < args.length; i += spec.keyStep) {
      const key = args[i]!;
      if (key === first) continue;
      if (slotOf(key) !== slot) return SELF_ROUTED.has(spec.name) ? null : CROSSSLOT_ERR;
      multiple = true;
    }
    const st = this.ownership.stateOf(slot);
    if (st === SlotState.Owned || SELF_ROUTED.has(spec.name)) return null;
    if (st === SlotState.None) return this.notServed(slot);
    let missing = 0;
    let present = 0;
    for (let i = spec.firstKey; i <= last && i < args.length; i += spec.keyStep) {
      if (s.db.exists(args[i]!)) present++;
      else missing++;
    }
    return this.openSlot(slot, st, multiple, missing, present, asking);
  }

  /**
   * Writes are refused on a master whose persisted ownership the coordinator has not confirmed
   * since a restart (reads are served: see docs/compatibility.md). The master link is exempt.
   */
  fence(s: Session, spec: CommandSpec): string | null {
    if (this.ownership.confirmed || this.replication.role !== 'master') return null;
    const writes = spec.flags.has('write') || (spec.name === 'exec' && s.multi !== null && s.multi.some(isWrite));
    return writes ? UNCONFIRMED_ERR : null;
  }

  private redirectForKeys(db: Db, keys: readonly string[], asking: boolean): string | null {
    if (keys.length === 0) return null;
    const first = keys[0]!;
    const slot = slotOf(first);
    let multiple = false;
    for (let i = 1; i < keys.length; i++) {
      if (keys[i] === first) continue;
      if (slotOf(keys[i]!) !== slot) return CROSSSLOT_ERR;
      multiple = true;
    }
    const st = this.ownership.stateOf(slot);
    if (st === SlotState.Owned) return null;
    if (st === SlotState.None) return this.notServed(slot);
    let missing = 0;
    for (const key of keys) if (!db.exists(key)) missing++;
    return this.openSlot(slot, st, multiple, missing, keys.length - missing, asking);
  }

  private notServed(slot: number): string {
    const owner = this.ownership.peerOf(slot);
    return owner === null ? CLUSTERDOWN_ERR : `MOVED ${slot} ${owner}`;
  }

  /**
   * A migrating or importing slot, given how many key references of the command are absent and
   * present here (a key named twice counts twice, as in Redis) and whether it names several
   * distinct keys.
   */
  private openSlot(slot: number, st: SlotState, multiple: boolean, missing: number, present: number, asking: boolean): string | null {
    const peer = this.ownership.peerOf(slot)!;
    if (st === SlotState.Migrating) {
      if (missing === 0) return null;
      return present === 0 ? `ASK ${slot} ${peer}` : TRYAGAIN_ERR;
    }
    // Importing: only after ASKING, and a multi-key command only once all its keys arrived.
    if (!asking) return `MOVED ${slot} ${peer}`;
    return multiple && missing > 0 ? TRYAGAIN_ERR : null;
  }
}

function isWrite(argv: readonly string[]): boolean {
  return lookupCommand(argv[0]!)?.flags.has('write') === true;
}

/** Every key of the queued commands of a transaction (EXEC in cluster mode only). */
function queuedKeys(queue: readonly string[][]): string[] {
  const keys: string[] = [];
  for (const argv of queue) {
    const resolved = resolveCommand(argv);
    if ('error' in resolved) continue;
    const idx = keyIndexes(resolved.spec, argv);
    if (idx !== null) for (const i of idx) keys.push(argv[i]!);
  }
  return keys;
}

const NO_KEYS: readonly string[] = [];

/**
 * The keys a command names (EXEC: those of its queued commands); for the key-lock check, which
 * runs only while the mover holds a lock, so building the array costs nothing otherwise.
 */
export function commandKeys(s: Session, spec: CommandSpec, args: readonly string[]): readonly string[] {
  if (spec.name === 'exec') return s.multi !== null ? queuedKeys(s.multi) : NO_KEYS;
  const idx = keyIndexes(spec, args);
  if (idx === null || idx.length === 0) return NO_KEYS;
  return idx.map((i) => args[i]!);
}
