// The migration scenario's correctness check, read straight from the masters (SCAN is keyless, so
// never redirected): every key on exactly the group that owns its slot after the move and on no
// other, with its value; every big key whole; every counter equal to its acknowledged INCRs;
// each replica holding as many keys as its master.
import { slotOf } from '../common/slots.js';
import { encodeCommand } from './net-util.js';
import {
  type Dataset, GROUPS, hashField, hashValue, keyName, listElement, valueOf, zsetMember,
} from './migration-data.js';
import { QueryConnection, ReplyErrorValue, type Reply } from './migration-query.js';

export interface CorrectnessCheck {
  /** String keys expected, and how many were found as they should be. */
  keys: number;
  keysOk: number;
  missing: number;
  /** On both groups. */
  duplicated: number;
  /** Only on the group that does not own its slot. */
  misplaced: number;
  wrongValues: number;
  /** Keys found that the scenario never wrote (other than the proxies' readiness keys). */
  unexpected: number;
  bigKeys: Array<{ name: string; type: string; elements: number; ok: boolean; detail: string }>;
  counters: { acked: number; stored: number; lost: number; extra: number };
  replicasInSync: boolean;
  /** First few problems, for the report. */
  samples: string[];
  ok: boolean;
}

const SCAN_COUNT = 5000;
/** Bounded: SCAN of N keys takes about N / SCAN_COUNT calls; this cap is far above any scenario. */
const MAX_SCAN_CALLS = 1_000_000;
const BIG_CHUNK = 5000;
const REPLICA_SYNC_DEADLINE_MS = 60_000;
const MAX_SAMPLES = 10;

const str = (r: Reply): string | null => (typeof r === 'string' ? r : r === null ? null : String(r));

async function scanKeys(port: number, visit: (key: string) => void): Promise<void> {
  const c = await QueryConnection.connect(port);
  try {
    let cursor = '0';
    for (let calls = 0; calls < MAX_SCAN_CALLS; calls++) {
      const [reply] = await c.send(encodeCommand(['SCAN', cursor, 'COUNT', String(SCAN_COUNT)]), 1);
      if (!Array.isArray(reply)) throw new Error(`SCAN on port ${port}: ${String(reply instanceof ReplyErrorValue ? reply.message : reply)}`);
      cursor = String(str(reply[0]));
      for (const k of reply[1] as Reply[]) visit(String(k));
      if (cursor === '0') return;
    }
    throw new Error(`SCAN on port ${port} did not finish in ${MAX_SCAN_CALLS} calls`);
  } finally {
    c.close();
  }
}

async function dbsize(port: number): Promise<number> {
  const c = await QueryConnection.connect(port);
  try {
    return Number((await c.send(encodeCommand(['DBSIZE']), 1))[0]);
  } finally {
    c.close();
  }
}

/** Elements of a big key read back in chunks and compared with what the loader wrote. */
async function checkBigKey(c: QueryConnection, name: string, type: string, elements: number): Promise<string | null> {
  const lenCmd = type === 'list' ? 'LLEN' : type === 'hash' ? 'HLEN' : 'ZCARD';
  const [len] = await c.send(encodeCommand([lenCmd, name]), 1);
  if (len !== elements) return `${lenCmd} ${String(len instanceof ReplyErrorValue ? len.message : len)}, expected ${elements}`;
  for (let from = 0; from < elements; from += BIG_CHUNK) {
    const to = Math.min(elements, from + BIG_CHUNK);
    let args: string[];
    if (type === 'list') args = ['LRANGE', name, String(from), String(to - 1)];
    else if (type === 'zset') args = ['ZRANGE', name, String(from), String(to - 1), 'WITHSCORES'];
    else {
      args = ['HMGET', name];
      for (let i = from; i < to; i++) args.push(hashField(i));
    }
    const [reply] = await c.send(encodeCommand(args), 1);
    if (!Array.isArray(reply)) return `${args[0]} at ${from}: ${String(reply instanceof ReplyErrorValue ? reply.message : reply)}`;
    for (let i = from; i < to; i++) {
      const k = i - from;
      const ok = type === 'list' ? reply[k] === listElement(i)
        : type === 'hash' ? reply[k] === hashValue(i)
          : reply[2 * k] === zsetMember(i) && Number(reply[2 * k + 1]) === i;
      if (!ok) return `element ${i} differs`;
    }
  }
  return null;
}

/** `acked[n]`: INCRs acknowledged for counter n. `masterPorts[g - 1]` / `replicaPorts[g - 1]`: group g. */
export async function verifyPlacement(data: Dataset, acked: readonly number[], masterPorts: readonly number[], replicaPorts: readonly number[]): Promise<CorrectnessCheck> {
  const samples: string[] = [];
  const note = (s: string): void => void (samples.length < MAX_SAMPLES && samples.push(s));
  const maxId = data.ids.length === 0 ? 0 : data.ids[data.ids.length - 1];
  const seen = new Uint8Array(maxId + 1);
  const expected = new Uint8Array(maxId + 1);
  for (const id of data.ids) expected[id] = 1;
  const others = new Map<string, number>([...data.bigKeys.map((b) => b.name), ...data.counters].map((n) => [n, 0]));
  let unexpected = 0;
  for (const [i, g] of GROUPS.entries()) {
    await scanKeys(masterPorts[i], (key) => {
      const bit = 1 << (g - 1);
      if (key.startsWith('key:')) {
        const id = Number(key.slice(4));
        if (Number.isInteger(id) && id <= maxId && expected[id] === 1) return void (seen[id] |= bit);
      } else if (others.has(key)) return void others.set(key, others.get(key)! | bit);
      else if (key.startsWith('bench:ready:')) return;
      unexpected++;
      note(`unexpected key ${key} on group ${g}`);
    });
  }
  let keysOk = 0, missing = 0, duplicated = 0, misplaced = 0;
  const placed = (name: string, flags: number): boolean => {
    const owner = data.ownerAfter(slotOf(name));
    if (flags === 1 << (owner - 1)) return true;
    if (flags === 0) missing++;
    else if (flags === 3) duplicated++;
    else misplaced++;
    note(`${name} (slot ${slotOf(name)}) on ${flags === 0 ? 'no group' : flags === 3 ? 'both groups' : `group ${flags === 1 ? 1 : 2}`}, owner group ${owner}`);
    return false;
  };
  for (const id of data.ids) if (placed(keyName(id), seen[id])) keysOk++;

  // Values, read from the owner (the node serves an owned slot's keys directly).
  let wrongValues = 0;
  for (const [i, g] of GROUPS.entries()) {
    const mine = data.ids.filter((id) => data.ownerAfter(slotOf(keyName(id))) === g);
    const c = await QueryConnection.connect(masterPorts[i]);
    try {
      await c.many(mine.length, (j) => encodeCommand(['GET', keyName(mine[j])]), (j, reply) => {
        if (reply === valueOf(mine[j], data.spec.valueBytes)) return;
        wrongValues++;
        note(`${keyName(mine[j])} = ${JSON.stringify(reply instanceof ReplyErrorValue ? `-${reply.message}` : reply)?.slice(0, 80)}`);
      });
    } finally {
      c.close();
    }
  }

  const bigKeys: CorrectnessCheck['bigKeys'] = [];
  const counters = { acked: 0, stored: 0, lost: 0, extra: 0 };
  for (const [i, g] of GROUPS.entries()) {
    const c = await QueryConnection.connect(masterPorts[i]);
    try {
      for (const big of data.bigKeys) {
        if (data.ownerAfter(slotOf(big.name)) !== g) continue;
        const placedOk = placed(big.name, others.get(big.name)!);
        const problem = placedOk ? await checkBigKey(c, big.name, big.type, data.spec.elements) : 'not on its owner only';
        bigKeys.push({ name: big.name, type: big.type, elements: data.spec.elements, ok: problem === null, detail: problem ?? 'whole' });
        if (problem !== null) note(`${big.name}: ${problem}`);
      }
      const mine = data.counters.map((name, n) => ({ name, n })).filter((x) => data.ownerAfter(slotOf(x.name)) === g);
      const replies = mine.length === 0 ? [] : await c.send(mine.map((x) => encodeCommand(['GET', x.name])).join(''), mine.length);
      mine.forEach((x, k) => {
        const stored = replies[k] === null ? 0 : Number(replies[k]);
        const flags = others.get(x.name)!;
        if (flags !== 0) placed(x.name, flags); // an INCR-less counter may be absent
        counters.acked += acked[x.n];
        counters.stored += stored;
        if (stored < acked[x.n]) counters.lost += acked[x.n] - stored;
        if (stored > acked[x.n]) counters.extra += stored - acked[x.n];
        if (stored !== acked[x.n]) note(`${x.name} = ${stored}, acknowledged INCRs ${acked[x.n]}`);
      });
    } finally {
      c.close();
    }
  }

  const replicasInSync = await waitReplicasInSync(masterPorts, replicaPorts);
  if (!replicasInSync) note(`a replica's DBSIZE still differed from its master's after ${REPLICA_SYNC_DEADLINE_MS} ms`);
  const ok = keysOk === data.ids.length && missing + duplicated + misplaced === 0 && wrongValues === 0 && unexpected === 0 && bigKeys.every((b) => b.ok) &&
    bigKeys.length === data.bigKeys.length && counters.lost === 0 && counters.extra === 0 && replicasInSync;
  return { keys: data.ids.length, keysOk, missing, duplicated, misplaced, wrongValues, unexpected, bigKeys, counters, replicasInSync, samples, ok };
}

/** Polls until each replica's DBSIZE equals its master's (replication is asynchronous). */
export async function waitReplicasInSync(masterPorts: readonly number[], replicaPorts: readonly number[]): Promise<boolean> {
  const deadline = Date.now() + REPLICA_SYNC_DEADLINE_MS;
  for (;;) {
    const sizes = await Promise.all([...masterPorts, ...replicaPorts].map(dbsize));
    if (masterPorts.every((_, i) => sizes[i] === sizes[masterPorts.length + i])) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
