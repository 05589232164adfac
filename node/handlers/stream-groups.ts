// Consumer group commands (t_stream.c, Redis 7.0.15): XGROUP, XREADGROUP (BLOCK, NOACK, `>` and
// history), XACK, XPENDING, XCLAIM, XAUTOCLAIM. Argument checks, error texts and their order follow
// Redis. Group state reaches replicas and the AOF as Redis sends it: XREADGROUP as one XCLAIM …
// FORCE JUSTID LASTID per delivered entry (XGROUP SETID for NOACK), XCLAIM/XAUTOCLAIM likewise.
import { ERR } from '../../common/errors.js';
import type { Db } from '../keyspace/db.js';
import { parseInt64 } from '../keyspace/types/canonical-int.js';
import {
  StreamValue,
  type StreamId,
  U64_MAX,
  compareIds,
  idString,
  incrId,
  noteGroupRead,
} from '../keyspace/types/stream.js';
import { INVALID_ENTRIES_READ, type StreamConsumer, type StreamGroup, StreamGroups, type StreamNack } from '../keyspace/types/stream-groups.js';
import type { Session } from '../session.js';
import { type HandlerMap, is } from './handler.js';
import { fail, notifyNewKey, notifyStream, parseBound, parseId, parseReadOptions, replyEntries, streamAt } from './stream-args.js';
import { isInExec } from './transactions.js';

/** Blocked XREADGROUP without COUNT is served at most this many entries (XREAD_BLOCKED_DEFAULT_COUNT). */
const BLOCKED_DEFAULT_COUNT = 1000;
/** XAUTOCLAIM scans at most COUNT × this many PEL entries per call. */
const AUTOCLAIM_ATTEMPTS_FACTOR = 10;

const XGROUP_HELP = [
  'XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
  'HELP',
  '    Prints this help.',
];

export function subcommandSyntaxError(s: Session, args: string[]): void {
  s.w.error(`ERR unknown subcommand or wrong number of arguments for '${args[1]!.slice(0, 128)}'. Try ${args[0]!.toUpperCase()} HELP.`);
}

/** Group state changed without the key being "modified" (Redis bumps dirty only: WATCH is not touched). */
function groupDirty(s: Session, db: Db, key: string, n = 1): void {
  s.server.dirty += n;
  db.noteChanged(key);
}

function noGroupError(s: Session, key: string, group: string): void {
  s.w.error(`NOGROUP No such key '${key}' or consumer group '${group}'`);
}

/** XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP, in xgroupCommand's order of checks. */
function xgroupCommand(s: Session, args: string[]): void {
  const opt = args[1]!.toLowerCase();
  let stream: StreamValue | undefined;
  let groupName = '';
  let group: StreamGroup | undefined;
  let mkstream = false;
  let entriesRead = INVALID_ENTRIES_READ;
  if (args.length >= 4) {
    for (let i = 5; i < args.length; ) {
      if (opt === 'create' && is(args[i], 'mkstream')) {
        mkstream = true;
        i++;
      } else if ((opt === 'create' || opt === 'setid') && is(args[i], 'entriesread') && i + 1 < args.length) {
        const n = parseInt64(args[i + 1]!);
        if (n === null) return s.w.error(ERR.notInteger);
        if (BigInt(n) < 0n && BigInt(n) !== INVALID_ENTRIES_READ) return s.w.error('ERR value for ENTRIESREAD must be positive or -1');
        entriesRead = BigInt(n);
        i += 2;
      } else {
        return subcommandSyntaxError(s, args);
      }
    }
    const found = streamAt(s, args[2]!);
    if (found === null) return;
    stream = found;
    groupName = args[3]!;
  }
  if (args.length >= 4 && !mkstream) {
    if (stream === undefined) {
      return s.w.error('ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.');
    }
    group = stream.groups?.get(groupName);
    if (group === undefined && (opt === 'setid' || opt === 'createconsumer' || opt === 'delconsumer')) {
      return s.w.error(`NOGROUP No such consumer group '${groupName}' for key name '${args[2]!}'`);
    }
  }
  const key = args[2]!;
  const argc = args.length;
  if (argc === 2 && opt === 'help') {
    s.w.array(XGROUP_HELP.length);
    for (const line of XGROUP_HELP) s.w.simple(line);
  } else if (opt === 'create' && argc >= 5 && argc <= 8) {
    xgroupCreate(s, key, stream, groupName, args[4]!, entriesRead);
  } else if (opt === 'setid' && (argc === 5 || argc === 7)) {
    let id: StreamId;
    if (args[4] === '$') id = stream!.lastId;
    else {
      const parsed = parseId(s, args[4]!, 0n, false);
      if (parsed === null) return;
      id = { ms: parsed.ms, seq: parsed.seq };
    }
    group!.lastId = id;
    group!.entriesRead = entriesRead;
    s.w.ok();
    notifyStream(s, 'xgroup-setid', key);
    groupDirty(s, s.db, key);
  } else if (opt === 'destroy' && argc === 4) {
    if (group === undefined) return s.w.integer(0);
    stream!.groups!.delete(groupName);
    s.w.integer(1);
    notifyStream(s, 'xgroup-destroy', key);
    groupDirty(s, s.db, key);
    // Readers blocked on the group are woken to learn it is gone (-NOGROUP).
    s.server.blocking.signal(s.db, key);
  } else if (opt === 'createconsumer' && argc === 5) {
    const created = group!.createConsumer(args[4]!, s.server.now);
    s.w.integer(created ? 1 : 0);
    if (created) {
      notifyStream(s, 'xgroup-createconsumer', key);
      groupDirty(s, s.db, key);
    }
  } else if (opt === 'delconsumer' && argc === 5) {
    const consumer = group!.consumer(args[4]!);
    let pending = 0;
    if (consumer !== undefined) {
      pending = consumer.pel.size;
      group!.deleteConsumer(consumer);
      notifyStream(s, 'xgroup-delconsumer', key);
      groupDirty(s, s.db, key);
    }
    s.w.integer(pending);
  } else {
    subcommandSyntaxError(s, args);
  }
}

function xgroupCreate(s: Session, key: string, found: StreamValue | undefined, name: string, idText: string, entriesRead: bigint): void {
  let id: StreamId;
  if (idText === '$') id = found === undefined ? { ms: 0n, seq: 0n } : found.lastId;
  else {
    const parsed = parseId(s, idText, 0n, true);
    if (parsed === null) return;
    id = { ms: parsed.ms, seq: parsed.seq };
  }
  let stream = found;
  if (stream === undefined) {
    stream = new StreamValue();
    s.db.add(key, stream);
    notifyNewKey(s, key);
    s.server.changed(s.db, key, 0);
  }
  stream.groups ??= new StreamGroups();
  if (stream.groups.create(name, id, entriesRead) === undefined) return s.w.error('BUSYGROUP Consumer Group name already exists');
  s.w.ok();
  notifyStream(s, 'xgroup-create', key);
  groupDirty(s, s.db, key);
}

// ---------------------------------------------------------------- XREADGROUP

interface ReadGroupRequest {
  count: number;
  /** -1 = no BLOCK; 0 = forever; else an absolute deadline (ms). */
  deadline: number;
  noack: boolean;
  group: string;
  consumer: string;
  keys: string[];
  /** Per key: null for `>`, else the history start (entries above it). */
  after: Array<StreamId | null>;
}

/** xreadCommand's parsing for XREADGROUP, in its order; null after an error. */
function parseXreadgroup(s: Session, args: string[]): ReadGroupRequest | null {
  const opts = parseReadOptions(s, args, true);
  if (opts === null) return null;
  const { count, deadline, streamsAt, noack, group, consumer } = opts;
  if (group === null) return fail(s, 'ERR Missing GROUP option for XREADGROUP');
  const n = (args.length - streamsAt) / 2;
  const keys = args.slice(streamsAt, streamsAt + n);
  const after: Array<StreamId | null> = [];
  for (let i = 0; i < n; i++) {
    const stream = streamAt(s, keys[i]!);
    if (stream === null) return null;
    if (stream === undefined || stream.groups?.get(group) === undefined) {
      return fail(s, `NOGROUP No such key '${keys[i]!}' or consumer group '${group}' in XREADGROUP with GROUP option`);
    }
    const text = args[streamsAt + n + i]!;
    if (text === '$') {
      return fail(s, 'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.');
    }
    if (text === '>') {
      after.push(null);
      continue;
    }
    const id = parseId(s, text, 0n, true);
    if (id === null) return null;
    after.push({ ms: id.ms, seq: id.seq });
  }
  return { count, deadline, noack, group, consumer, keys, after };
}

/**
 * Several effects of one command go out as one MULTI … EXEC block, as Redis 7.0 wraps what a
 * command alsoPropagates, so a replica or an AOF replay never stops between them. Inside EXEC or
 * a script the surrounding block already does that.
 */
function wrapped(s: Session, effects: string[][]): string[][] {
  if (effects.length < 2 || isInExec(s)) return effects;
  return [['MULTI'], ...effects, ['EXEC']];
}

/** Where a delivery's effects go: the handler's propagateAs list, or straight to the stream (blocked serve). */
type Emit = (argv: string[]) => void;

/** XCLAIM <key> <group> <consumer> 0 <id> TIME <ms> RETRYCOUNT <n> FORCE JUSTID LASTID <group last id> (streamPropagateXCLAIM). */
function xclaimEffect(key: string, g: StreamGroup, consumerName: string, id: StreamId, nack: { deliveryTime: number; deliveryCount: number }): string[] {
  return [
    'XCLAIM', key, g.name, consumerName, '0', idString(id), 'TIME', String(nack.deliveryTime), 'RETRYCOUNT',
    String(nack.deliveryCount), 'FORCE', 'JUSTID', 'LASTID', idString(g.lastId),
  ];
}

function setIdEffect(key: string, g: StreamGroup): string[] {
  return ['XGROUP', 'SETID', key, g.name, idString(g.lastId), 'ENTRIESREAD', String(g.entriesRead)];
}

/**
 * The consumer, created when missing (NOACK creation is propagated: nothing else would make it on a
 * replica). A creation is an xgroup-createconsumer event on db `dbId`, as streamCreateConsumer fires it.
 */
function consumerFor(s: Session, dbId: number, g: StreamGroup, key: string, name: string, noack: boolean, now: number, emit: Emit): StreamConsumer {
  const found = g.consumer(name);
  if (found !== undefined) {
    found.seenTime = now;
    return found;
  }
  const created = g.createConsumer(name, now)!;
  notifyStream(s, 'xgroup-createconsumer', key, dbId);
  if (noack) emit(['XGROUP', 'CREATECONSUMER', key, g.name, name]);
  return created;
}

/**
 * Delivers new entries above the group's last id to `consumer` (streamReplyWithRange with a
 * group): advances the group, adds NACKs (re-owning any another consumer held), replies them.
 */
function deliverNew(s: Session, key: string, stream: StreamValue, g: StreamGroup, consumer: StreamConsumer, count: number, noack: boolean, now: number, emit: Emit): void {
  const start = incrId(g.lastId);
  const entries = start === null ? [] : stream.range(start, { ms: U64_MAX, seq: U64_MAX }, count);
  let advanced = false;
  for (const e of entries) {
    if (compareIds(e, g.lastId) > 0) {
      noteGroupRead(stream, g, e);
      advanced = true;
    }
    if (noack) continue;
    const id = { ms: e.ms, seq: e.seq };
    let nack = g.pel.get(id);
    if (nack === undefined) {
      nack = { id, deliveryTime: now, deliveryCount: 1, consumer };
      g.pel.insert(nack);
      consumer.pel.insert(nack);
    } else {
      g.assign(nack, consumer);
      nack.deliveryTime = now;
      nack.deliveryCount = 1;
    }
    emit(xclaimEffect(key, g, consumer.name, id, nack));
  }
  if (noack && advanced) emit(setIdEffect(key, g));
  replyEntries(s, entries);
}

/** Serves the consumer's own pending entries from `after` on (streamReplyWithRangeFromConsumerPEL). */
function deliverHistory(s: Session, stream: StreamValue, consumer: StreamConsumer, after: StreamId, count: number, now: number): void {
  const from = consumer.pel.lowerBound(after);
  const picked: StreamNack[] = [];
  for (let i = from; (count === 0 || picked.length < count) && i < consumer.pel.size; i++) picked.push(consumer.pel.at(i)!);
  s.w.array(picked.length);
  for (const nack of picked) {
    const e = stream.entry(nack.id);
    s.w.array(2);
    s.w.bulk(idString(nack.id));
    if (e === undefined) {
      // Acked-never entry deleted meanwhile: its id with a null body, as Redis signals it.
      s.w.nullArray();
      continue;
    }
    s.w.bulkArray(e.fields);
    nack.deliveryTime = now;
    nack.deliveryCount++;
  }
}

function replyPartHeader(s: Session, key: string): void {
  if (s.w.resp === 2) s.w.array(2);
  s.w.bulk(key);
}

/** XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS key … id|> … */
function xreadgroupCommand(s: Session, args: string[]): void {
  const req = parseXreadgroup(s, args);
  if (req === null) return;
  const effects: string[][] = [];
  const emit: Emit = (argv) => effects.push(argv);
  const now = s.server.now;
  const served: number[] = [];
  for (let i = 0; i < req.keys.length; i++) {
    const stream = s.db.lookup(req.keys[i]!)!.value as StreamValue;
    const g = stream.groups!.get(req.group)!;
    const after = req.after[i]!;
    if (after !== null || (stream.length > 0 && compareIds(stream.lastValidId(), g.lastId) > 0)) served.push(i);
  }
  if (served.length > 0) {
    if (s.w.resp === 2) s.w.array(served.length);
    else s.w.map(served.length);
    for (const i of served) {
      const key = req.keys[i]!;
      const stream = s.db.lookup(key)!.value as StreamValue;
      const g = stream.groups!.get(req.group)!;
      replyPartHeader(s, key);
      const consumer = consumerFor(s, s.db.id, g, key, req.consumer, req.noack, now, emit);
      const after = req.after[i]!;
      if (after !== null) {
        const start = incrId(after);
        if (start === null) s.w.array(0);
        else deliverHistory(s, stream, consumer, start, req.count, now);
      } else deliverNew(s, key, stream, g, consumer, req.count, req.noack, now, emit);
      groupDirty(s, s.db, key);
    }
    s.propagateAs = wrapped(s, effects);
    return;
  }
  s.propagateAs = [];
  if (req.deadline === -1 || isInExec(s)) return s.w.nullArray();
  blockReadgroup(s, req);
}

/** Parks the reader; an XADD above the group's last id, the group's or key's removal or the timeout ends the wait. */
function blockReadgroup(s: Session, req: ReadGroupRequest): void {
  const dbIndex = s.db.id;
  const count = req.count !== 0 ? req.count : BLOCKED_DEFAULT_COUNT;
  s.server.blocking.block(s, {
    dbIndex,
    keys: req.keys,
    deadline: req.deadline,
    tryServe(key: string): boolean {
      const db = s.server.dbs[dbIndex]!;
      const e = db.peek(key);
      // Gone or overwritten (DEL, SET …): its groups went with it (unblockDeletedStreamReadgroupClients).
      if (e === undefined || !(e.value instanceof StreamValue)) {
        s.w.error('UNBLOCKED the stream key no longer exists');
        return true;
      }
      const stream = e.value;
      const g = stream.groups?.get(req.group);
      if (g === undefined) {
        s.w.error('NOGROUP the consumer group this client was blocked on no longer exists');
        return true;
      }
      if (compareIds(stream.lastId, g.lastId) <= 0) return false;
      const now = Date.now();
      const effects: string[][] = [];
      const emit: Emit = (argv) => effects.push(argv);
      const consumer = consumerFor(s, dbIndex, g, key, req.consumer, req.noack, now, emit);
      if (s.w.resp === 2) {
        s.w.array(1);
        s.w.array(2);
      } else s.w.map(1);
      s.w.bulk(key);
      deliverNew(s, key, stream, g, consumer, count, req.noack, now, emit);
      for (const argv of wrapped(s, effects)) s.server.propagate(dbIndex, argv);
      groupDirty(s, db, key);
      return true;
    },
    onTimeout(): void {
      s.w.nullArray();
    },
  });
}

// ---------------------------------------------------------------- XACK, XPENDING

/** The group of a stream key for XACK/XCLAIM/XPENDING: undefined when key or group is missing, null after WRONGTYPE. */
function groupAt(s: Session, key: string, name: string): { stream: StreamValue; group: StreamGroup } | undefined | null {
  const stream = streamAt(s, key);
  if (stream === null) return null;
  const group = stream?.groups?.get(name);
  if (stream === undefined || group === undefined) return undefined;
  return { stream, group };
}

/** XACK key group id [id …] */
function xackCommand(s: Session, args: string[]): void {
  const found = groupAt(s, args[1]!, args[2]!);
  if (found === null) return;
  if (found === undefined) return s.w.integer(0);
  const ids: StreamId[] = [];
  for (let j = 3; j < args.length; j++) {
    const id = parseId(s, args[j]!, 0n, true);
    if (id === null) return;
    ids.push(id);
  }
  let acked = 0;
  for (const id of ids) if (found.group.ack(id)) acked++;
  s.w.integer(acked);
  if (acked > 0) groupDirty(s, s.db, args[1]!, acked);
}

/** XPENDING key group [[IDLE min-idle] start end count [consumer]] */
function xpendingCommand(s: Session, args: string[]): void {
  const argc = args.length;
  if (argc !== 3 && (argc < 6 || argc > 9)) return s.w.error(ERR.syntax);
  let minIdle = 0;
  let count = 0;
  let start: StreamId = { ms: 0n, seq: 0n };
  let end: StreamId = { ms: 0n, seq: 0n };
  let consumerName: string | null = null;
  if (argc >= 6) {
    let at = 3;
    if (is(args[3], 'idle')) {
      const n = parseInt64(args[4]!);
      if (n === null) return s.w.error(ERR.notInteger);
      minIdle = Number(n);
      if (argc < 8) return s.w.error(ERR.syntax);
      at += 2;
    }
    const n = parseInt64(args[at + 2]!);
    if (n === null) return s.w.error(ERR.notInteger);
    count = Math.max(0, Number(n));
    const from = parseBound(s, args[at]!, 0n, true);
    if (from === null) return;
    const to = parseBound(s, args[at + 1]!, U64_MAX, false);
    if (to === null) return;
    start = from;
    end = to;
    if (at + 3 < argc) consumerName = args[at + 3]!;
  }
  const found = groupAt(s, args[1]!, args[2]!);
  if (found === null) return;
  if (found === undefined) return noGroupError(s, args[1]!, args[2]!);
  const g = found.group;
  if (argc === 3) return pendingSummary(s, g);
  let pel = g.pel;
  if (consumerName !== null) {
    const c = g.consumer(consumerName);
    if (c === undefined) return s.w.array(0);
    pel = c.pel;
  }
  const now = s.server.now;
  const rows: StreamNack[] = [];
  for (let i = pel.lowerBound(start); count > 0 && i < pel.size; i++) {
    const nack = pel.at(i)!;
    if (compareIds(nack.id, end) > 0) break;
    if (minIdle !== 0 && now - nack.deliveryTime < minIdle) continue;
    rows.push(nack);
    count--;
  }
  s.w.array(rows.length);
  for (const nack of rows) {
    s.w.array(4);
    s.w.bulk(idString(nack.id));
    s.w.bulk(nack.consumer!.name);
    s.w.integer(Math.max(0, now - nack.deliveryTime));
    s.w.integer(nack.deliveryCount);
  }
}

function pendingSummary(s: Session, g: StreamGroup): void {
  s.w.array(4);
  s.w.integer(g.pel.size);
  if (g.pel.size === 0) {
    s.w.null();
    s.w.null();
    s.w.nullArray();
    return;
  }
  s.w.bulk(idString(g.pel.first()!.id));
  s.w.bulk(idString(g.pel.last()!.id));
  const owners = g.consumers().filter((c) => c.pel.size > 0);
  s.w.array(owners.length);
  for (const c of owners) {
    s.w.array(2);
    s.w.bulk(c.name);
    s.w.bulk(String(c.pel.size));
  }
}

// ---------------------------------------------------------------- XCLAIM, XAUTOCLAIM

function claimedReply(s: Session, stream: StreamValue, id: StreamId, justId: boolean): void {
  if (justId) return s.w.bulk(idString(id));
  const e = stream.entry(id)!;
  s.w.array(2);
  s.w.bulk(idString(id));
  s.w.bulkArray(e.fields);
}

/** XCLAIM key group consumer min-idle id [id …] [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id] */
function xclaimCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  const found = groupAt(s, key, args[2]!);
  if (found === null) return;
  if (found === undefined) return noGroupError(s, key, args[2]!);
  const { stream, group: g } = found;
  const minIdleN = parseInt64(args[4]!);
  if (minIdleN === null) return s.w.error('ERR Invalid min-idle-time argument for XCLAIM');
  const minIdle = Math.max(0, Number(minIdleN));
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < args.length; j++) {
    const id = quietStrictId(args[j]!);
    if (id === null) break;
    ids.push(id);
  }
  const now = s.server.now;
  let retryCount = -1;
  let deliveryTime = -1;
  let force = false;
  let justId = false;
  let lastId: StreamId = { ms: 0n, seq: 0n };
  for (; j < args.length; j++) {
    const more = args.length - 1 - j;
    const opt = args[j]!;
    if (is(opt, 'force')) force = true;
    else if (is(opt, 'justid')) justId = true;
    else if (is(opt, 'idle') && more > 0) {
      const n = parseInt64(args[++j]!);
      if (n === null) return s.w.error('ERR Invalid IDLE option argument for XCLAIM');
      deliveryTime = now - Number(n);
    } else if (is(opt, 'time') && more > 0) {
      const n = parseInt64(args[++j]!);
      if (n === null) return s.w.error('ERR Invalid TIME option argument for XCLAIM');
      deliveryTime = Number(n);
    } else if (is(opt, 'retrycount') && more > 0) {
      const n = parseInt64(args[++j]!);
      if (n === null) return s.w.error('ERR Invalid RETRYCOUNT option argument for XCLAIM');
      retryCount = Number(n);
    } else if (is(opt, 'lastid') && more > 0) {
      const id = parseId(s, args[++j]!, 0n, true);
      if (id === null) return;
      lastId = { ms: id.ms, seq: id.seq };
    } else {
      return s.w.error(`ERR Unrecognized XCLAIM option '${opt}'`);
    }
  }
  const effects: string[][] = [];
  let propagateLastId = false;
  if (compareIds(lastId, g.lastId) > 0) {
    g.lastId = lastId;
    propagateLastId = true;
  }
  if (deliveryTime === -1 || deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
  let consumer: StreamConsumer | undefined;
  const claimed: StreamId[] = [];
  let dirty = 0;
  for (const id of ids) {
    let nack = g.pel.get(id);
    if (!stream.has(id)) {
      // A pending entry whose message is gone leaves the PEL (the replica's XCLAIM does the same).
      if (nack !== undefined) {
        effects.push(xclaimEffect(key, g, nack.consumer?.name ?? args[3]!, id, nack));
        propagateLastId = false;
        dirty++;
        g.ack(id);
      }
      continue;
    }
    if (force && nack === undefined) {
      nack = { id, deliveryTime: now, deliveryCount: 1, consumer: null };
      g.pel.insert(nack);
    }
    if (nack === undefined) continue;
    if (nack.consumer !== null && minIdle !== 0 && now - nack.deliveryTime < minIdle) continue;
    consumer ??= lookupOrCreate(g, args[3]!, now, () => {
      dirty++;
      notifyStream(s, 'xgroup-createconsumer', key);
    });
    g.assign(nack, consumer);
    nack.deliveryTime = deliveryTime;
    if (retryCount >= 0) nack.deliveryCount = retryCount;
    else if (!justId) nack.deliveryCount++;
    claimed.push(id);
    effects.push(xclaimEffect(key, g, consumer.name, id, nack));
    propagateLastId = false;
    dirty++;
  }
  if (propagateLastId) {
    effects.push(setIdEffect(key, g));
    dirty++;
  }
  s.w.array(claimed.length);
  for (const id of claimed) claimedReply(s, stream, id, justId);
  s.propagateAs = wrapped(s, effects);
  if (dirty > 0) groupDirty(s, s.db, key, dirty);
}

function lookupOrCreate(g: StreamGroup, name: string, now: number, created: () => void): StreamConsumer {
  const c = g.consumer(name);
  if (c !== undefined) {
    c.seenTime = now;
    return c;
  }
  created();
  return g.createConsumer(name, now)!;
}

/** streamParseStrictIDOrReply with no reply (XCLAIM's id list ends at the first non-id). */
function quietStrictId(text: string): StreamId | null {
  if (text === '-' || text === '+' || text.length > 127) return null;
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (m === null) return null;
  const ms = BigInt(m[1]!);
  const seq = m[2] === undefined ? 0n : BigInt(m[2]);
  if (ms > U64_MAX || seq > U64_MAX) return null;
  return { ms, seq };
}

/** XAUTOCLAIM key group consumer min-idle start [COUNT n] [JUSTID] */
function xautoclaimCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  const minIdleN = parseInt64(args[4]!);
  if (minIdleN === null) return s.w.error('ERR Invalid min-idle-time argument for XAUTOCLAIM');
  const minIdle = Math.max(0, Number(minIdleN));
  const start = parseBound(s, args[5]!, 0n, true);
  if (start === null) return;
  let count = 100;
  let justId = false;
  const maxCount = 576460752303423487n; // LONG_MAX / sizeof(streamID)
  for (let j = 6; j < args.length; j++) {
    const more = args.length - 1 - j;
    if (is(args[j], 'count') && more > 0) {
      const n = parseInt64(args[j + 1]!);
      if (n === null || BigInt(n) < 1n || BigInt(n) > maxCount) return s.w.error('ERR COUNT must be > 0');
      count = Number(n);
      j++;
    } else if (is(args[j], 'justid')) justId = true;
    else return s.w.error(ERR.syntax);
  }
  const found = groupAt(s, key, args[2]!);
  if (found === null) return;
  if (found === undefined) return noGroupError(s, key, args[2]!);
  const { stream, group: g } = found;
  const effects: string[][] = [];
  const now = s.server.now;
  let attempts = count * AUTOCLAIM_ATTEMPTS_FACTOR;
  let consumer: StreamConsumer | undefined;
  const claimed: StreamId[] = [];
  const deleted: StreamId[] = [];
  let dirty = 0;
  let i = g.pel.lowerBound(start);
  while (attempts-- > 0 && count > 0 && i < g.pel.size) {
    const nack = g.pel.at(i)!;
    const id = nack.id;
    if (!stream.has(id)) {
      effects.push(xclaimEffect(key, g, nack.consumer?.name ?? args[3]!, id, nack));
      dirty++;
      g.ack(id);
      deleted.push(id);
      count--;
      continue; // the next entry moved into slot i
    }
    i++;
    if (minIdle !== 0 && now - nack.deliveryTime < minIdle) continue;
    consumer ??= lookupOrCreate(g, args[3]!, now, () => {
      dirty++;
      notifyStream(s, 'xgroup-createconsumer', key);
    });
    g.assign(nack, consumer);
    nack.deliveryTime = now;
    if (!justId) nack.deliveryCount++;
    claimed.push(id);
    count--;
    effects.push(xclaimEffect(key, g, consumer.name, id, nack));
    dirty++;
  }
  const next = g.pel.at(i);
  s.w.array(3);
  s.w.bulk(next === undefined ? '0-0' : idString(next.id));
  s.w.array(claimed.length);
  for (const id of claimed) claimedReply(s, stream, id, justId);
  s.w.array(deleted.length);
  for (const id of deleted) s.w.bulk(idString(id));
  s.propagateAs = wrapped(s, effects);
  if (dirty > 0) groupDirty(s, s.db, key, dirty);
}

export const streamGroupHandlers: HandlerMap = {
  'xgroup|create': xgroupCommand,
  'xgroup|setid': xgroupCommand,
  'xgroup|destroy': xgroupCommand,
  'xgroup|createconsumer': xgroupCommand,
  'xgroup|delconsumer': xgroupCommand,
  'xgroup|help': xgroupCommand,
  xreadgroup: xreadgroupCommand,
  xack: xackCommand,
  xpending: xpendingCommand,
  xclaim: xclaimCommand,
  xautoclaim: xautoclaimCommand,
};
