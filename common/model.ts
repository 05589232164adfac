// The cluster model stored in the coordination store: types, JSON codecs (with a schema version; changes
// are additive, so readers accept newer schemas and ignore unknown fields) and pure derivations.

import { SLOT_COUNT } from './slots.js';
import { KEY_SEGMENT_PATTERN } from './store/keys.js';

export const SCHEMA_VERSION = 1;
export const MAX_GROUP_ID = 9999;

export interface Product {
  name: string;
  createdAt: string;
}

export type ServerRole = 'master' | 'replica';
export interface Server {
  /** host:port */
  addr: string;
  role: ServerRole;
}

export interface Group {
  /** 1..9999 */
  id: number;
  servers: Server[];
}

export type SlotState =
  | { kind: 'unassigned' }
  | { kind: 'online'; group: number }
  | { kind: 'migrating'; from: number; to: number };

export interface Slot {
  /** 0..SLOT_COUNT-1 */
  id: number;
  state: SlotState;
}

export interface ProxyInfo {
  id: string;
  /** host:port clients connect to */
  listen: string;
  /** host:port of the admin HTTP API */
  admin: string;
  version: string;
  /** Store revision of the slot table the proxy has applied ('0' before the first). */
  tableRevision: string;
  pid: number;
  /** ISO 8601 */
  startedAt: string;
}

export type MigrationPhase = 'pending' | 'preparing' | 'migrating' | 'finished' | 'done' | 'cancelled';
export interface Migration {
  slot: number;
  from: number;
  to: number;
  phase: MigrationPhase;
  /** ISO 8601 */
  createdAt: string;
  updatedAt: string;
  error?: string;
  /** The request (POST /migrations) this slot's record belongs to: `m-…`. */
  batch?: string;
  /** Set by cancel of a slot whose nodes were already told: the same phases run from `to` back to `from`. */
  reverse?: boolean;
  /** No new mover call starts while set (the slot stays in its phase, served through ASK). */
  paused?: boolean;
  /** Cancel asked for; taken up once no mover call of the slot is in flight. */
  cancelRequested?: boolean;
  /** Keys and bytes moved so far (written at phase changes; the live figures are in memory). */
  keysMoved?: number;
  bytesMoved?: number;
}

/** Run-time settings of the migration scheduler (the store's migration-settings key). */
export interface MigrationSettings {
  /** Slots whose mover runs at the same time. */
  concurrency: number;
  /** At most this many slots are prepared (told to the nodes) in one step and epoch. */
  batch: number;
  /** MAXKEYS / MAXBYTES of one TESSERA.MIGRATE call. */
  batchKeys: number;
  batchBytes: number;
  /** Keys per second over all slots; 0 = unthrottled. */
  keysPerSecond: number;
  /** How long preparing waits for live proxies to apply the new table before going on. */
  proxyAckTimeoutMs: number;
}

export const DEFAULT_MIGRATION_SETTINGS: Readonly<MigrationSettings> = {
  concurrency: 16, batch: 1024, batchKeys: 500, batchBytes: 4 << 20, keysPerSecond: 0, proxyAckTimeoutMs: 3000,
};

// ---- validation ----

export class ModelError extends Error {
  override name = 'ModelError';
}

type Json = Record<string, unknown>;

function fail(what: string, message: string): never {
  throw new ModelError(`invalid ${what}: ${message}`);
}

function object(what: string, v: unknown): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(what, `expected an object, got ${JSON.stringify(v)}`);
  return v as Json;
}

function int(what: string, field: string, v: unknown, min: number, max: number): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
    fail(what, `${field} must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v as number;
}

function str(what: string, field: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') fail(what, `${field} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/** A name used as a store key segment (product name, proxy id). */
function segment(what: string, field: string, v: unknown): string {
  if (typeof v !== 'string' || !KEY_SEGMENT_PATTERN.test(v) || v === '.' || v === '..') {
    fail(what, `${field} must be 1-64 of A-Z a-z 0-9 _ . -, got ${JSON.stringify(v)}`);
  }
  return v;
}

function oneOf<T extends string>(what: string, field: string, v: unknown, options: readonly T[]): T {
  if (!options.includes(v as T)) fail(what, `${field} must be one of ${options.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** host:port with a 1..65535 port; an IPv6 host goes in brackets. */
export function isAddr(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}

function addr(what: string, field: string, v: unknown): string {
  if (!isAddr(v)) fail(what, `${field} must be host:port, got ${JSON.stringify(v)}`);
  return v;
}

function revision(what: string, field: string, v: unknown): string {
  if (typeof v !== 'string' || !/^\d+$/.test(v)) fail(what, `${field} must be a decimal revision string, got ${JSON.stringify(v)}`);
  return v;
}

/** Parses stored JSON and checks its schema field. */
function parseDocument(what: string, text: string): Json {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    fail(what, `not JSON (${(err as Error).message})`);
  }
  const o = object(what, v);
  int(what, 'schema', o.schema, 1, Number.MAX_SAFE_INTEGER);
  return o;
}

function encode(value: object): string {
  return JSON.stringify({ schema: SCHEMA_VERSION, ...value });
}

// ---- Product ----

export function validateProduct(v: unknown): Product {
  const o = object('product', v);
  return { name: segment('product', 'name', o.name), createdAt: str('product', 'createdAt', o.createdAt) };
}
export const encodeProduct = (p: Product): string => encode(validateProduct(p));
export const parseProduct = (text: string): Product => validateProduct(parseDocument('product', text));

// ---- Group ----

export function validateGroup(v: unknown): Group {
  const o = object('group', v);
  const id = int('group', 'id', o.id, 1, MAX_GROUP_ID);
  const what = `group ${id}`;
  if (!Array.isArray(o.servers)) fail(what, 'servers must be an array');
  const servers = o.servers.map((s, i): Server => {
    const so = object(what, s);
    return { addr: addr(what, `servers[${i}].addr`, so.addr), role: oneOf(what, `servers[${i}].role`, so.role, ['master', 'replica'] as const) };
  });
  if (servers.filter((s) => s.role === 'master').length > 1) fail(what, 'more than one master');
  if (new Set(servers.map((s) => s.addr)).size !== servers.length) fail(what, 'a server is listed twice');
  return { id, servers };
}
export const encodeGroup = (g: Group): string => encode(validateGroup(g));
export const parseGroup = (text: string): Group => validateGroup(parseDocument('group', text));

/** The group's master address, or null if it has none (empty group, or mid-failover). */
export function masterOf(group: Group): string | null {
  return group.servers.find((s) => s.role === 'master')?.addr ?? null;
}

// ---- Slot ----

export function validateSlot(v: unknown): Slot {
  const o = object('slot', v);
  const id = int('slot', 'id', o.id, 0, SLOT_COUNT - 1);
  const what = `slot ${id}`;
  const s = object(what, o.state);
  const kind = oneOf(what, 'state.kind', s.kind, ['unassigned', 'online', 'migrating'] as const);
  if (kind === 'unassigned') return { id, state: { kind } };
  if (kind === 'online') return { id, state: { kind, group: int(what, 'state.group', s.group, 1, MAX_GROUP_ID) } };
  const from = int(what, 'state.from', s.from, 1, MAX_GROUP_ID);
  const to = int(what, 'state.to', s.to, 1, MAX_GROUP_ID);
  if (from === to) fail(what, `migrating from group ${from} to itself`);
  return { id, state: { kind, from, to } };
}
export const encodeSlot = (s: Slot): string => encode(validateSlot(s));
export const parseSlot = (text: string): Slot => validateSlot(parseDocument('slot', text));

// ---- ProxyInfo ----

export function validateProxyInfo(v: unknown): ProxyInfo {
  const o = object('proxy', v);
  const id = segment('proxy', 'id', o.id);
  const what = `proxy ${id}`;
  return {
    id,
    listen: addr(what, 'listen', o.listen),
    admin: addr(what, 'admin', o.admin),
    version: str(what, 'version', o.version),
    tableRevision: revision(what, 'tableRevision', o.tableRevision),
    pid: int(what, 'pid', o.pid, 1, 2 ** 31),
    startedAt: str(what, 'startedAt', o.startedAt),
  };
}
export const encodeProxyInfo = (p: ProxyInfo): string => encode(validateProxyInfo(p));
export const parseProxyInfo = (text: string): ProxyInfo => validateProxyInfo(parseDocument('proxy', text));

// ---- Migration ----

const MIGRATION_PHASES = ['pending', 'preparing', 'migrating', 'finished', 'done', 'cancelled'] as const;

export function validateMigration(v: unknown): Migration {
  const o = object('migration', v);
  const slot = int('migration', 'slot', o.slot, 0, SLOT_COUNT - 1);
  const what = `migration of slot ${slot}`;
  const from = int(what, 'from', o.from, 1, MAX_GROUP_ID);
  const to = int(what, 'to', o.to, 1, MAX_GROUP_ID);
  if (from === to) fail(what, `from and to are both group ${from}`);
  const m: Migration = {
    slot, from, to,
    phase: oneOf(what, 'phase', o.phase, MIGRATION_PHASES),
    createdAt: str(what, 'createdAt', o.createdAt),
    updatedAt: str(what, 'updatedAt', o.updatedAt),
  };
  if (o.error !== undefined) m.error = str(what, 'error', o.error);
  if (o.batch !== undefined) m.batch = segment(what, 'batch', o.batch);
  for (const flag of ['reverse', 'paused', 'cancelRequested'] as const) {
    if (o[flag] === undefined) continue;
    if (typeof o[flag] !== 'boolean') fail(what, `${flag} must be a boolean, got ${JSON.stringify(o[flag])}`);
    if (o[flag]) m[flag] = true;
  }
  if (o.keysMoved !== undefined) m.keysMoved = int(what, 'keysMoved', o.keysMoved, 0, Number.MAX_SAFE_INTEGER);
  if (o.bytesMoved !== undefined) m.bytesMoved = int(what, 'bytesMoved', o.bytesMoved, 0, Number.MAX_SAFE_INTEGER);
  return m;
}
export const encodeMigration = (m: Migration): string => encode(validateMigration(m));
export const parseMigration = (text: string): Migration => validateMigration(parseDocument('migration', text));

// ---- MigrationSettings ----

/** Fields missing from a stored document take their defaults (so settings can grow). */
export function validateMigrationSettings(v: unknown): MigrationSettings {
  const o = object('migration settings', v);
  const d = DEFAULT_MIGRATION_SETTINGS;
  const get = (field: keyof MigrationSettings, min: number, max: number) =>
    o[field] === undefined ? d[field] : int('migration settings', field, o[field], min, max);
  return {
    concurrency: get('concurrency', 1, 64),
    batch: get('batch', 1, SLOT_COUNT),
    batchKeys: get('batchKeys', 1, 100_000),
    batchBytes: get('batchBytes', 1024, 1 << 30),
    keysPerSecond: get('keysPerSecond', 0, 100_000_000),
    proxyAckTimeoutMs: get('proxyAckTimeoutMs', 0, 60_000),
  };
}
export const encodeMigrationSettings = (s: MigrationSettings): string => encode(validateMigrationSettings(s));
export const parseMigrationSettings = (text: string): MigrationSettings => validateMigrationSettings(parseDocument('migration settings', text));

// ---- Epoch ----

/** The product's configuration epoch document: {schema, epoch}. Absent = 0. */
export function parseEpoch(text: string): number {
  return int('epoch', 'epoch', parseDocument('epoch', text).epoch, 0, Number.MAX_SAFE_INTEGER);
}
export const encodeEpoch = (epoch: number): string => encode({ epoch });

// ---- CoordinatorInfo ----

/** What a coordinator (dashboard) candidate stores as the value of its leader-lock key. */
export interface CoordinatorInfo {
  /** Unique among the product's candidates (host and port, or set by the operator). */
  id: string;
  /** Base URL of its HTTP API, e.g. http://127.0.0.1:18080 */
  url: string;
  pid: number;
  /** ISO 8601 */
  startedAt: string;
}

export function validateCoordinatorInfo(v: unknown): CoordinatorInfo {
  const o = object('coordinator', v);
  const id = str('coordinator', 'id', o.id);
  const what = `coordinator ${id}`;
  const url = str(what, 'url', o.url);
  if (!/^https?:\/\/[^/\s]+$/.test(url)) fail(what, `url must be http(s)://host:port, got ${JSON.stringify(url)}`);
  return { id, url, pid: int(what, 'pid', o.pid, 1, 2 ** 31), startedAt: str(what, 'startedAt', o.startedAt) };
}
export const encodeCoordinatorInfo = (c: CoordinatorInfo): string => encode(validateCoordinatorInfo(c));
export const parseCoordinatorInfo = (text: string): CoordinatorInfo => validateCoordinatorInfo(parseDocument('coordinator', text));

// ---- derivations ----

/** Where requests for one slot go. A master is null when its group is unknown or has no master. */
export type SlotRoute =
  | { kind: 'unassigned' }
  | { kind: 'online'; group: number; master: string | null }
  | { kind: 'migrating'; from: number; to: number; fromMaster: string | null; toMaster: string | null };

/**
 * The routing table: one route per slot id (index = slot). Slots missing from `slots` are unassigned.
 */
export function slotTable(slots: readonly Slot[], groups: readonly Group[]): SlotRoute[] {
  const masters = groupMasters(groups);
  const table: SlotRoute[] = Array.from({ length: SLOT_COUNT }, () => ({ kind: 'unassigned' }));
  for (const { id, state } of slots) if (state.kind !== 'unassigned') table[id] = slotRoute(state, masters);
  return table;
}

/** Each group's master by group id (of two groups with one id, the later wins), for slotRoute. */
export function groupMasters(groups: Iterable<Group>): Map<number, string | null> {
  const masters = new Map<number, string | null>();
  for (const g of groups) masters.set(g.id, masterOf(g));
  return masters;
}

/** The route of a slot in `state` (one entry of slotTable: a table can be updated slot by slot). */
export function slotRoute(state: SlotState, masters: ReadonlyMap<number, string | null>): SlotRoute {
  const master = (id: number) => masters.get(id) ?? null;
  if (state.kind === 'online') return { kind: 'online', group: state.group, master: master(state.group) };
  if (state.kind === 'migrating') return { kind: 'migrating', from: state.from, to: state.to, fromMaster: master(state.from), toMaster: master(state.to) };
  return { kind: 'unassigned' };
}

/** An inclusive run of slots owned by one group. */
export interface SlotRange {
  from: number;
  to: number;
  group: number;
}

/**
 * Splits all slots into contiguous, near-equal ranges over the groups (sorted by id; the first
 * SLOT_COUNT % n groups get one extra slot).
 */
export function assignEvenly(groupIds: readonly number[]): SlotRange[] {
  const ids = [...new Set(groupIds)].sort((a, b) => a - b);
  if (ids.length === 0) throw new ModelError('invalid assignment: no groups to assign slots to');
  if (ids.length > SLOT_COUNT) throw new ModelError(`invalid assignment: ${ids.length} groups for ${SLOT_COUNT} slots`);
  const base = Math.floor(SLOT_COUNT / ids.length);
  const extra = SLOT_COUNT % ids.length;
  const ranges: SlotRange[] = [];
  let next = 0;
  ids.forEach((group, i) => {
    const size = base + (i < extra ? 1 : 0);
    ranges.push({ from: next, to: next + size - 1, group });
    next += size;
  });
  return ranges;
}

/** Collapses per-slot states into ranges of consecutive slots that are online in the same group. */
export function onlineRanges(slots: readonly Slot[]): SlotRange[] {
  const sorted = [...slots].sort((a, b) => a.id - b.id);
  const ranges: SlotRange[] = [];
  for (const { id, state } of sorted) {
    if (state.kind !== 'online') continue;
    const last = ranges[ranges.length - 1];
    if (last && last.group === state.group && last.to === id - 1) last.to = id;
    else ranges.push({ from: id, to: id, group: state.group });
  }
  return ranges;
}

// ---- Failover ----

/**
 * A group's failover, written before each step takes effect (dashboard/coordinator/failover.ts):
 * promoting (epoch raised; the chosen replica is made master and told the group's slots) →
 * switching (the group in the store names the new master) → done. `oldMaster` stays pending until
 * it was fenced and made a replica of the new master (it may be down for a long time).
 */
export type FailoverPhase = 'promoting' | 'switching' | 'done';
export interface FailoverRecord {
  group: number;
  id: string;
  phase: FailoverPhase;
  planned: boolean;
  oldMaster: string;
  newMaster: string;
  /** The configuration epoch the new master's ownership carries. */
  epoch: number;
  /** The old master was fenced (NONE at `epoch`) and made a replica of the new master. */
  oldMasterDemoted: boolean;
  /** Slots whose migration this failover paused (resumed when it is done). */
  pausedSlots: number[];
  reason: string;
  startedAt: string;
  updatedAt: string;
  /** Wall-clock ms from the start to the group switched in the store. */
  switchMs?: number;
  /** Old masters of earlier failovers of the group that were still away: demoted when they return. */
  formerMasters?: string[];
}

const FAILOVER_PHASES = ['promoting', 'switching', 'done'] as const;

export function validateFailoverRecord(v: unknown): FailoverRecord {
  const o = object('failover', v);
  const group = int('failover', 'group', o.group, 1, MAX_GROUP_ID);
  const what = `failover of group ${group}`;
  if (!Array.isArray(o.pausedSlots)) fail(what, 'pausedSlots must be an array');
  for (const flag of ['planned', 'oldMasterDemoted'] as const) if (typeof o[flag] !== 'boolean') fail(what, `${flag} must be a boolean`);
  const r: FailoverRecord = {
    group,
    id: str(what, 'id', o.id),
    phase: oneOf(what, 'phase', o.phase, FAILOVER_PHASES),
    planned: o.planned as boolean,
    oldMaster: addr(what, 'oldMaster', o.oldMaster),
    newMaster: addr(what, 'newMaster', o.newMaster),
    epoch: int(what, 'epoch', o.epoch, 1, Number.MAX_SAFE_INTEGER),
    oldMasterDemoted: o.oldMasterDemoted as boolean,
    pausedSlots: o.pausedSlots.map((s, i) => int(what, `pausedSlots[${i}]`, s, 0, SLOT_COUNT - 1)),
    reason: str(what, 'reason', o.reason),
    startedAt: str(what, 'startedAt', o.startedAt),
    updatedAt: str(what, 'updatedAt', o.updatedAt),
  };
  if (o.switchMs !== undefined) r.switchMs = int(what, 'switchMs', o.switchMs, 0, Number.MAX_SAFE_INTEGER);
  if (o.formerMasters !== undefined) {
    if (!Array.isArray(o.formerMasters)) fail(what, 'formerMasters must be an array');
    if (o.formerMasters.length > 0) r.formerMasters = o.formerMasters.map((a, i) => addr(what, `formerMasters[${i}]`, a));
  }
  return r;
}
export const encodeFailoverRecord = (r: FailoverRecord): string => encode(validateFailoverRecord(r));
export const parseFailoverRecord = (text: string): FailoverRecord => validateFailoverRecord(parseDocument('failover', text));

/** Health-check and failover settings (the store's failover-settings key; missing fields take defaults). */
export interface FailoverSettings {
  /** How often the leader PINGs and reads INFO replication of every server. */
  healthIntervalMs: number;
  /** A master unreachable this long is down (and failed over). */
  downAfterMs: number;
  /** After a failover of a group, no automatic failover of it for this long (flapping). */
  holdDownMs: number;
  /** Automatic failover on (manual promote works either way). */
  auto: boolean;
  /** Per-group down-after overrides, by group id. */
  groups: Record<string, { downAfterMs: number }>;
}

export const DEFAULT_FAILOVER_SETTINGS: Readonly<FailoverSettings> = {
  healthIntervalMs: 250, downAfterMs: 1000, holdDownMs: 10_000, auto: true, groups: {},
};

export function validateFailoverSettings(v: unknown): FailoverSettings {
  const o = object('failover settings', v);
  const d = DEFAULT_FAILOVER_SETTINGS;
  const get = (field: 'healthIntervalMs' | 'downAfterMs' | 'holdDownMs', min: number, max: number) =>
    o[field] === undefined ? d[field] : int('failover settings', field, o[field], min, max);
  if (o.auto !== undefined && typeof o.auto !== 'boolean') fail('failover settings', 'auto must be a boolean');
  const groups: FailoverSettings['groups'] = {};
  if (o.groups !== undefined) {
    for (const [id, g] of Object.entries(object('failover settings', o.groups))) {
      int('failover settings', 'groups key', Number(id), 1, MAX_GROUP_ID);
      groups[String(Number(id))] = { downAfterMs: int('failover settings', `groups.${id}.downAfterMs`, object('failover settings', g).downAfterMs, 100, 600_000) };
    }
  }
  return {
    healthIntervalMs: get('healthIntervalMs', 50, 10_000),
    downAfterMs: get('downAfterMs', 100, 600_000),
    holdDownMs: get('holdDownMs', 0, 3_600_000),
    auto: o.auto === undefined ? d.auto : (o.auto as boolean),
    groups,
  };
}
export const encodeFailoverSettings = (s: FailoverSettings): string => encode(validateFailoverSettings(s));
export const parseFailoverSettings = (text: string): FailoverSettings => validateFailoverSettings(parseDocument('failover settings', text));

// ---- Events ----

/** One entry of the coordinator's event log (failovers, promotions, fencing, repairs). */
export interface ClusterEvent {
  seq: number;
  /** ISO 8601 */
  at: string;
  type: string;
  group?: number;
  message: string;
  details?: Record<string, unknown>;
}

export function validateClusterEvent(v: unknown): ClusterEvent {
  const o = object('event', v);
  const e: ClusterEvent = {
    seq: int('event', 'seq', o.seq, 0, Number.MAX_SAFE_INTEGER),
    at: str('event', 'at', o.at),
    type: str('event', 'type', o.type),
    message: str('event', 'message', o.message),
  };
  if (o.group !== undefined) e.group = int('event', 'group', o.group, 1, MAX_GROUP_ID);
  if (o.details !== undefined) e.details = object('event', o.details);
  return e;
}
export const encodeClusterEvent = (e: ClusterEvent): string => encode(validateClusterEvent(e));
export const parseClusterEvent = (text: string): ClusterEvent => validateClusterEvent(parseDocument('event', text));

/** The API's view of one migration (a batch of slots moving to one group): the coordinator builds it, the CLI shows it. */
export interface MigrationBatchView {
  id: string;
  to: number;
  from: number[];
  createdAt: string;
  updatedAt: string;
  state: 'running' | 'paused' | 'cancelling' | 'done' | 'cancelled';
  slots: { total: number; pending: number; preparing: number; migrating: number; finished: number; done: number; cancelled: number; paused: number };
  slotList: string;
  keys: { moved: number; remaining: number | null };
  bytes: { moved: number; total: number | null };
  rate: { keysPerSecond: number; bytesPerSecond: number };
  etaSeconds: number | null;
  errors: Array<{ slot: number; error: string }>;
}
