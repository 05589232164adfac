// The migration scenario's data: which keys exist (names, values, the slots they hash to, which
// group owns them before and after the move) and the fast loader that writes them pipelined,
// as raw RESP, straight to the master that owns each key. No round trip per key.
import { assignEvenly } from '../common/model.js';
import { SLOT_COUNT, slotOf } from '../common/slots.js';
import { encodeCommand } from './net-util.js';
import { sendPipelined } from './pipelined-send.js';

export type BigType = 'list' | 'hash' | 'zset';

export interface DatasetSpec {
  /** String keys `key:<id>`. */
  keys: number;
  /** Bytes of each string value. */
  valueBytes: number;
  /** Elements of each big key. */
  elements: number;
  bigTypes: readonly BigType[];
  /** The slots that move from group 1 to group 2 (a range of group 1's slots). */
  moved: { from: number; to: number };
  /** True: every string key hashes into a moved slot (the Codis-sized case); false: spread over all slots. */
  keysInMovedSlots: boolean;
  /** INCR counters `ctr:<n>`, spread over all slots. */
  counters: number;
}

export interface Dataset {
  readonly spec: DatasetSpec;
  /** The ids of the string keys, ascending. */
  readonly ids: Int32Array;
  readonly bigKeys: ReadonlyArray<{ name: string; type: BigType }>;
  readonly counters: readonly string[];
  /** Group owning `slot` before the move (the even split of 1024 slots over groups 1 and 2). */
  ownerBefore(slot: number): number;
  ownerAfter(slot: number): number;
  isMoved(slot: number): boolean;
}

export const GROUPS = [1, 2];
export const keyName = (id: number): string => `key:${id}`;

/** A value that tells its key apart from every other (so a misplaced copy is caught), padded to `bytes`. */
export function valueOf(id: number, bytes: number): string {
  const head = `v${id}:`;
  return head.length >= bytes ? head : head.padEnd(bytes, 'x');
}

export const listElement = (i: number): string => `e${i}`;
export const hashField = (i: number): string => `f${i}`;
export const hashValue = (i: number): string => `v${i}`;
export const zsetMember = (i: number): string => `m${i}`;

/**
 * What lives in the moved slots: keys (strings, big keys, counters) and their logical bytes (key
 * names + values; a big key's elements, a zset score as 8 bytes). Counted from the data, not from
 * the coordinator, whose counts miss the keys of a mover call that timed out but completed.
 */
export function movedVolume(data: Dataset): { keys: number; bytes: number } {
  let keys = 0;
  let bytes = 0;
  for (const id of data.ids) {
    const name = keyName(id);
    if (!data.isMoved(slotOf(name))) continue;
    keys++;
    bytes += name.length + data.spec.valueBytes;
  }
  for (const big of data.bigKeys) {
    keys++;
    bytes += big.name.length;
    for (let i = 0; i < data.spec.elements; i++) {
      bytes += big.type === 'list' ? listElement(i).length : big.type === 'hash' ? hashField(i).length + hashValue(i).length : zsetMember(i).length + 8;
    }
  }
  for (const name of data.counters) if (data.isMoved(slotOf(name))) keys++;
  return { keys, bytes };
}

export function buildDataset(spec: DatasetSpec): Dataset {
  const table = new Uint8Array(SLOT_COUNT);
  for (const r of assignEvenly(GROUPS)) table.fill(r.group, r.from, r.to + 1);
  for (let s = spec.moved.from; s <= spec.moved.to; s++) {
    if (table[s] !== 1) throw new Error(`slot ${s} is not group 1's: only group 1's slots (0-511) can be moved`);
  }
  const isMoved = (slot: number): boolean => slot >= spec.moved.from && slot <= spec.moved.to;
  const ids = new Int32Array(spec.keys);
  if (!spec.keysInMovedSlots) {
    for (let i = 0; i < spec.keys; i++) ids[i] = i;
  } else {
    // Bounded: a moved range of k slots holds about k/1024 of all names.
    const limit = spec.keys * SLOT_COUNT + SLOT_COUNT;
    let n = 0;
    for (let id = 0; n < spec.keys && id < limit; id++) if (isMoved(slotOf(keyName(id)))) ids[n++] = id;
    if (n < spec.keys) throw new Error(`found only ${n} key names in slots ${spec.moved.from}-${spec.moved.to}`);
  }
  // The big keys sit in moved slots: moving them is what the scenario measures.
  const bigKeys = spec.bigTypes.map((type) => {
    for (let j = 0; j < 100_000; j++) {
      const name = `big:${type}:${j}`;
      if (isMoved(slotOf(name))) return { name, type };
    }
    throw new Error(`no big ${type} key name found in slots ${spec.moved.from}-${spec.moved.to}`);
  });
  const counters = Array.from({ length: spec.counters }, (_, n) => `ctr:${n}`);
  return {
    spec, ids, bigKeys, counters, isMoved,
    ownerBefore: (slot) => table[slot],
    ownerAfter: (slot) => (isMoved(slot) ? 2 : table[slot]),
  };
}

/** Elements per command when loading a big key. */
const ELEMENTS_PER_COMMAND = 1000;

function bigKeyBatch(name: string, type: BigType, elements: number, from: number, to: number): string {
  let out = '';
  for (let c = from; c < to; c++) {
    const first = c * ELEMENTS_PER_COMMAND;
    const last = Math.min(elements, first + ELEMENTS_PER_COMMAND);
    const args = type === 'list' ? ['RPUSH', name] : type === 'hash' ? ['HSET', name] : ['ZADD', name];
    for (let i = first; i < last; i++) {
      if (type === 'list') args.push(listElement(i));
      else if (type === 'hash') args.push(hashField(i), hashValue(i));
      else args.push(String(i), zsetMember(i));
    }
    out += encodeCommand(args);
  }
  return out;
}

/**
 * Loads every string key into the master of its group and the big keys into group 1's master,
 * all masters in parallel. `masterPorts[g - 1]` is group g's master.
 */
export async function loadDataset(data: Dataset, masterPorts: readonly number[]): Promise<void> {
  const perGroup = GROUPS.map((g) => data.ids.filter((id) => data.ownerBefore(slotOf(keyName(id))) === g));
  const bytes = data.spec.valueBytes;
  const loads = GROUPS.map((g, i) => sendPipelined(masterPorts[i], perGroup[i].length, (from, to) => {
    let out = '';
    for (let j = from; j < to; j++) out += encodeCommand(['SET', keyName(perGroup[i][j]), valueOf(perGroup[i][j], bytes)]);
    return out;
  }).then(async () => {
    for (const big of data.bigKeys) {
      if (data.ownerBefore(slotOf(big.name)) !== g) continue;
      const commands = Math.ceil(data.spec.elements / ELEMENTS_PER_COMMAND);
      await sendPipelined(masterPorts[i], commands, (from, to) => bigKeyBatch(big.name, big.type, data.spec.elements, from, to));
    }
  }));
  await Promise.all(loads);
}
