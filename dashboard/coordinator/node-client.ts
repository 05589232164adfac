// How the coordinator talks to nodes: the few admin commands of slot ownership and the mover
// (docs/compatibility.md "Slot ownership", the mover contract), behind a small interface so the
// state machine is unit-tested against a fake. The real one is ioredis with bounded timeouts:
// a hung node makes one call fail, never the coordinator hang.
import { NodeLinks } from './node-links.js';

/** One run of slots in one state, as TESSERA.SLOTS GET shows it and SET takes it. */
export interface NodeSlotRange {
  start: number;
  end: number;
  state: 'owned' | 'none' | 'migrating' | 'importing';
  /** none: the owner (null = unknown); migrating: the target; importing: the source. */
  peer: string | null;
}

export interface NodeOwnership {
  epoch: number;
  confirmed: boolean;
  ranges: NodeSlotRange[];
}

export interface MigrateResult {
  keys: number;
  bytes: number;
  remaining: number;
}

export interface SlotStats {
  slot: number;
  keys: number;
  bytes: number;
}

/** What the coordinator needs from nodes. `addr` is host:port. */
export interface NodeApi {
  /** null: the node is not in cluster mode (no `slot-ownership yes`): nothing to tell it. */
  ownership(addr: string): Promise<NodeOwnership | null>;
  setSlots(addr: string, epoch: number, ranges: readonly NodeSlotRange[]): Promise<void>;
  confirm(addr: string, epoch: number): Promise<void>;
  /** One TESSERA.MIGRATE SLOT call on the source. `lane` picks a connection: a deferred reply holds its connection. */
  migrateSlot(source: string, lane: number, slot: number, target: string, opts: { maxKeys: number; maxBytes: number; timeoutMs: number }): Promise<MigrateResult>;
  slotStats(addr: string, slots: readonly number[]): Promise<SlotStats[]>;
  close(): Promise<void>;
}

/** One page of a node's cached scripts (TESSERA.SCRIPTS DUMP); next 0 = the last page. */
export interface ScriptsPage {
  next: number;
  scripts: Array<{ sha: string; body: string }>;
}

/** What copying libraries and scripts to a group needs (script-copy.ts); the real one is RedisNodeApi. */
export interface ScriptingApi {
  functionDump(addr: string): Promise<Buffer | null>;
  /** FUNCTION RESTORE <payload> REPLACE. */
  functionRestore(addr: string, payload: Buffer): Promise<void>;
  functionLibraryCount(addr: string): Promise<number>;
  /** null: the node has no TESSERA.SCRIPTS (a plain redis-server). */
  scriptsPage(addr: string, cursor: number): Promise<ScriptsPage | null>;
  scriptsExist(addr: string, shas: readonly string[]): Promise<boolean[]>;
  scriptLoad(addr: string, body: string): Promise<string>;
}

/** TESSERA.SLOTS GET's refusal on a node without slot ownership: ours (node/handlers/cluster.ts) and redis-server's. */
const PLAIN_NODE = /slot ownership is disabled|unknown command/i;

/** A node's answer that is an error (as opposed to the node being unreachable). */
export class NodeReplyError extends Error {
  override name = 'NodeReplyError';
}

/** Copying libraries and scripts (script-copy.ts) fails at once on a node known down: its caller retries or reports. */
const SCRIPTING = { failFast: true } as const;
/** Admin calls (GET/SET/CONFIRM/STATS) are quick on the node: a slow one means trouble (bounds connecting too). */
const ADMIN_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 2_000;
/** The mover call is bounded by its own TIMEOUT argument; the socket waits a little longer. */
const MIGRATE_GRACE_MS = 3_000;
/** Connections per node (admin + mover lanes); lanes beyond it share the last ones. */
const MAX_LANES = 64;

export class RedisNodeApi implements NodeApi, ScriptingApi {
  private readonly links: NodeLinks;

  constructor(password: string | null = null) {
    // Fail fast while the node is down (the state machine retries), reconnect in the background.
    this.links = new NodeLinks({ name: 'tessera-coordinator', password, connectTimeoutMs: CONNECT_TIMEOUT_MS, retryMs: 500 });
  }

  private async call(addr: string, lane: number | 'admin', timeoutMs: number, args: Array<string | number | Buffer>, extra: { buffers?: boolean; failFast?: boolean } = {}): Promise<unknown> {
    try {
      return await this.links.call(addr, args, { timeoutMs, lane: lane === 'admin' ? 'a' : String(lane % MAX_LANES), ...extra });
    } catch (err) {
      if (err instanceof Error && err.name === 'ReplyError') throw new NodeReplyError(`${addr}: ${err.message}`);
      throw err;
    }
  }

  async ownership(addr: string): Promise<NodeOwnership | null> {
    // One call, not INFO first (it ran for every master on every reconcile): a node without
    // slot ownership refuses TESSERA.SLOTS GET (ours) or does not know it (redis-server).
    let reply: unknown;
    try {
      reply = await this.call(addr, 'admin', ADMIN_TIMEOUT_MS, ['TESSERA.SLOTS', 'GET']);
    } catch (err) {
      if (err instanceof NodeReplyError && PLAIN_NODE.test(err.message)) return null;
      throw err;
    }
    return parseSlotsGet(reply);
  }

  async setSlots(addr: string, epoch: number, ranges: readonly NodeSlotRange[]): Promise<void> {
    await this.call(addr, 'admin', ADMIN_TIMEOUT_MS, ['TESSERA.SLOTS', 'SET', epoch, ...setArgs(ranges)]);
  }

  async confirm(addr: string, epoch: number): Promise<void> {
    await this.call(addr, 'admin', ADMIN_TIMEOUT_MS, ['TESSERA.SLOTS', 'CONFIRM', epoch]);
  }

  async migrateSlot(source: string, lane: number, slot: number, target: string, opts: { maxKeys: number; maxBytes: number; timeoutMs: number }): Promise<MigrateResult> {
    const reply = await this.call(source, lane, opts.timeoutMs + MIGRATE_GRACE_MS, [
      'TESSERA.MIGRATE', 'SLOT', slot, target, 'MAXKEYS', opts.maxKeys, 'MAXBYTES', opts.maxBytes, 'TIMEOUT', opts.timeoutMs,
    ]);
    if (!Array.isArray(reply) || reply.length !== 3) throw new NodeReplyError(`${source}: unexpected TESSERA.MIGRATE reply ${JSON.stringify(reply)}`);
    const [keys, bytes, remaining] = reply.map(Number) as [number, number, number];
    return { keys, bytes, remaining };
  }

  async slotStats(addr: string, slots: readonly number[]): Promise<SlotStats[]> {
    if (slots.length === 0) return [];
    const reply = await this.call(addr, 'admin', ADMIN_TIMEOUT_MS, ['TESSERA.SLOTS', 'STATS', compactSlots(slots)]);
    if (!Array.isArray(reply)) throw new NodeReplyError(`${addr}: unexpected TESSERA.SLOTS STATS reply`);
    return reply.map((r) => {
      const [slot, keys, bytes] = (r as unknown[]).map(Number) as [number, number, number];
      return { slot, keys, bytes };
    });
  }

  async functionDump(addr: string): Promise<Buffer | null> {
    const reply = await this.call(addr, 'admin', ADMIN_TIMEOUT_MS, ['FUNCTION', 'DUMP'], { buffers: true, failFast: true });
    return Buffer.isBuffer(reply) ? reply : null;
  }

  async functionRestore(addr: string, payload: Buffer): Promise<void> {
    await this.call(addr, 'admin', ADMIN_TIMEOUT_MS, ['FUNCTION', 'RESTORE', payload, 'REPLACE'], SCRIPTING);
  }

  async functionLibraryCount(addr: string): Promise<number> {
    const reply = await this.call(addr, 'admin', ADMIN_TIMEOUT_MS, ['FUNCTION', 'LIST'], SCRIPTING);
    return Array.isArray(reply) ? reply.length : 0;
  }

  async scriptsPage(addr: string, cursor: number): Promise<ScriptsPage | null> {
    let reply: unknown;
    try {
      reply = await this.call(addr, 'admin', ADMIN_TIMEOUT_MS, ['TESSERA.SCRIPTS', 'DUMP', cursor], SCRIPTING);
    } catch (err) {
      if (err instanceof NodeReplyError && /unknown command/i.test(err.message)) return null;
      throw err;
    }
    if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) throw new NodeReplyError(`${addr}: unexpected TESSERA.SCRIPTS DUMP reply`);
    const flat = reply[1] as unknown[];
    const scripts: ScriptsPage['scripts'] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) scripts.push({ sha: String(flat[i]), body: String(flat[i + 1]) });
    return { next: Number(reply[0]), scripts };
  }

  async scriptsExist(addr: string, shas: readonly string[]): Promise<boolean[]> {
    if (shas.length === 0) return [];
    const reply = await this.call(addr, 'admin', ADMIN_TIMEOUT_MS, ['SCRIPT', 'EXISTS', ...shas], SCRIPTING);
    if (!Array.isArray(reply) || reply.length !== shas.length) throw new NodeReplyError(`${addr}: unexpected SCRIPT EXISTS reply`);
    return reply.map((x) => Number(x) === 1);
  }

  async scriptLoad(addr: string, body: string): Promise<string> {
    return String(await this.call(addr, 'admin', ADMIN_TIMEOUT_MS, ['SCRIPT', 'LOAD', body], SCRIPTING));
  }

  close(): Promise<void> {
    return this.links.close();
  }
}

/** "0-5,9" for sorted slot ids. */
export function compactSlots(slots: readonly number[]): string {
  const sorted = [...slots].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** TESSERA.SLOTS SET arguments: ranges of the same state and peer joined into one `<slots> <state>` pair. */
export function setArgs(ranges: readonly NodeSlotRange[]): string[] {
  const byState = new Map<string, string[]>();
  for (const r of ranges) {
    const words = r.state === 'owned' ? 'OWNED'
      : r.state === 'none' ? (r.peer ? `NONE OWNER ${r.peer}` : 'NONE')
        : `${r.state.toUpperCase()} ${r.peer}`;
    let list = byState.get(words);
    if (!list) byState.set(words, (list = []));
    list.push(r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`);
  }
  const args: string[] = [];
  for (const [words, list] of byState) args.push(list.join(','), ...words.split(' '));
  return args;
}

/** `epoch <n> confirmed <0|1> slots [[start, end, state, peer|nil] …]` */
export function parseSlotsGet(reply: unknown): NodeOwnership {
  if (!Array.isArray(reply)) throw new NodeReplyError(`unexpected TESSERA.SLOTS GET reply ${JSON.stringify(reply)}`);
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
  const runs = (fields.get('slots') ?? []) as unknown[][];
  return {
    epoch: Number(fields.get('epoch')),
    confirmed: Number(fields.get('confirmed')) === 1,
    ranges: runs.map((r) => ({
      start: Number(r[0]), end: Number(r[1]),
      state: String(r[2]).toLowerCase() as NodeSlotRange['state'],
      peer: r[3] === null || r[3] === undefined ? null : String(r[3]),
    })),
  };
}
