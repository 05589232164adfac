// Stream commands (t_stream.c) without groups: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID XREAD
// (groups: stream-groups.ts, XINFO: stream-info.ts). Argument
// checks, error texts and their order follow Redis 7.0; XADD and XTRIM propagate in Redis's
// deterministic form (the concrete id, `=` for `~`, the resulting MAXLEN or MINID).
import { ERR, wrongArity } from '../../common/errors.js';
import { parseInt64 } from '../keyspace/types/canonical-int.js';
import {
  NODE_MAX_ENTRIES,
  StreamValue,
  type StreamEntry,
  type StreamId,
  type TrimArgs,
  U64_MAX,
  compareIds,
  idString,
  incrId,
} from '../keyspace/types/stream.js';
import type { Session } from '../session.js';
import {
  type ParsedId, entriesAfter, fail, notifyNewKey, notifyStream, parseBound, parseId, parseReadOptions, replyEntries, streamAt,
} from './stream-args.js';
import { type HandlerMap, is } from './handler.js';
import { isInExec } from './transactions.js';

interface AddTrimArgs {
  trim: TrimArgs | null;
  /** argv index of the MAXLEN/MINID threshold (rewritten for propagation). */
  thresholdAt: number;
  noMkStream: boolean;
  id: ParsedId | null;
  /** Where the id (XADD) or the end of the arguments (XTRIM) is. */
  next: number;
}

/** streamParseAddOrTrimArgsOrReply: null after replying the error. */
function parseAddOrTrim(s: Session, args: string[], xadd: boolean): AddTrimArgs | null {
  const out: AddTrimArgs = { trim: null, thresholdAt: -1, noMkStream: false, id: null, next: args.length };
  let approx = false;
  let limit = 0;
  let limitGiven = false;
  let i = 2;
  for (; i < args.length; i++) {
    const more = args.length - 1 - i;
    const opt = args[i]!;
    if (xadd && opt === '*') break;
    if ((is(opt, 'maxlen') || is(opt, 'minid')) && more > 0) {
      if (out.trim !== null) return fail(s, 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible');
      approx = false;
      const next = args[i + 1]!;
      if (more >= 2 && next === '~') {
        approx = true;
        i++;
      } else if (more >= 2 && next === '=') i++;
      const strategy = is(opt, 'maxlen') ? 'maxlen' : 'minid';
      let maxlen = 0;
      let minid: StreamId = { ms: 0n, seq: 0n };
      if (strategy === 'maxlen') {
        const n = parseInt64(args[i + 1]!);
        if (n === null) return fail(s, ERR.notInteger);
        if (Number(n) < 0) return fail(s, 'ERR The MAXLEN argument must be >= 0.');
        maxlen = Number(n);
      } else {
        const id = parseId(s, args[i + 1]!, 0n, true);
        if (id === null) return null;
        minid = id;
      }
      i++;
      out.thresholdAt = i;
      out.trim = { strategy, maxlen, minid, approx, limit: 0 };
    } else if (is(opt, 'limit') && more > 0) {
      const n = parseInt64(args[i + 1]!);
      if (n === null) return fail(s, ERR.notInteger);
      if (Number(n) < 0) return fail(s, 'ERR The LIMIT argument must be >= 0.');
      limit = Number(n);
      limitGiven = true;
      i++;
    } else if (xadd && is(opt, 'nomkstream')) {
      out.noMkStream = true;
    } else if (xadd) {
      const id = parseId(s, opt, 0n, true, true);
      if (id === null) return null;
      out.id = id;
      break;
    } else {
      return fail(s, ERR.syntax);
    }
  }
  out.next = i;
  if (limit !== 0 && out.trim === null) return fail(s, 'ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
  if (!xadd && out.trim === null) return fail(s, 'ERR syntax error, XTRIM must be called with a trimming strategy');
  if (out.trim !== null) {
    out.trim.approx = approx;
    if (limitGiven) {
      if (!approx) return fail(s, 'ERR syntax error, LIMIT cannot be used without the special ~ option');
      out.trim.limit = limit;
    } else if (approx) out.trim.limit = 100 * NODE_MAX_ENTRIES;
  }
  return out;
}


/** The id XADD gives the new entry, or null when it would not be above the stream's top. */
function nextId(s: Session, stream: StreamValue, given: ParsedId | null): StreamId | null {
  const last = stream.lastId;
  let id: StreamId;
  if (given === null) {
    const ms = BigInt(s.server.now);
    id = ms > last.ms ? { ms, seq: 0n } : incrId(last) ?? last;
  } else if (given.seqGiven) {
    id = { ms: given.ms, seq: given.seq };
  } else if (given.ms === last.ms) {
    if (last.seq === U64_MAX) return null;
    id = { ms: last.ms, seq: last.seq + 1n };
  } else {
    id = { ms: given.ms, seq: 0n };
  }
  return compareIds(id, last) > 0 ? id : null;
}

/** Rewrites `~` to `=` and the threshold to what the trim left, as Redis propagates it. */
function rewriteTrim(argv: string[], at: number, trim: TrimArgs, stream: StreamValue): void {
  if (trim.approx) argv[at - 1] = '=';
  argv[at] = trim.strategy === 'maxlen' ? String(stream.length) : idString(stream.firstId());
}

/** XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value …] */
function xaddCommand(s: Session, args: string[]): void {
  const parsed = parseAddOrTrim(s, args, true);
  if (parsed === null) return;
  const fieldAt = parsed.next + 1;
  const nFields = args.length - fieldAt;
  if (nFields < 2 || nFields % 2 === 1) return s.w.error(wrongArity('xadd'));
  const given = parsed.id;
  if (given !== null && given.seqGiven && given.ms === 0n && given.seq === 0n) {
    return s.w.error('ERR The ID specified in XADD must be greater than 0-0');
  }
  const key = args[1]!;
  let stream = streamAt(s, key);
  if (stream === null) return;
  if (stream === undefined && parsed.noMkStream) return s.w.nullArray();
  const created = stream === undefined;
  stream ??= new StreamValue();
  if (stream.lastId.ms === U64_MAX && stream.lastId.seq === U64_MAX) {
    return s.w.error('ERR The stream has exhausted the last possible ID, unable to add more items');
  }
  const id = nextId(s, stream, given);
  if (id === null) return s.w.error('ERR The ID specified in XADD is equal or smaller than the target stream top item');
  if (created) {
    s.db.add(key, stream);
    notifyNewKey(s, key);
  }
  stream.append(id, args.slice(fieldAt));
  const text = idString(id);
  s.w.bulk(text);
  notifyStream(s, 'xadd', key);
  const argv = args.slice();
  if (parsed.trim !== null) {
    if (stream.trim(parsed.trim) > 0) notifyStream(s, 'xtrim', key);
    rewriteTrim(argv, parsed.thresholdAt, parsed.trim, stream);
  }
  argv[parsed.next] = text;
  s.server.changed(s.db, key);
  s.propagateAs = [argv];
}

/** XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] */
function xtrimCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  const parsed = parseAddOrTrim(s, args, false);
  if (parsed === null) return;
  const stream = streamAt(s, key);
  if (stream === null) return;
  if (stream === undefined) return s.w.integer(0);
  const trim = parsed.trim!;
  const deleted = stream.trim(trim);
  s.w.integer(deleted);
  if (deleted === 0) return;
  notifyStream(s, 'xtrim', key);
  const argv = args.slice();
  rewriteTrim(argv, parsed.thresholdAt, trim, stream);
  s.server.changed(s.db, key, deleted);
  s.propagateAs = [argv];
}

/** XLEN key */
function xlenCommand(s: Session, args: string[]): void {
  const stream = streamAt(s, args[1]!);
  if (stream === null) return;
  s.w.integer(stream === undefined ? 0 : stream.length);
}

/** XDEL key id [id …]: a missing key answers 0 unchecked; else every id is checked before any goes. */
function xdelCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  const stream = streamAt(s, key);
  if (stream === null) return;
  if (stream === undefined) return s.w.integer(0);
  const ids: StreamId[] = [];
  for (let i = 2; i < args.length; i++) {
    const id = parseId(s, args[i]!, 0n, true);
    if (id === null) return;
    ids.push(id);
  }
  let deleted = 0;
  for (const id of ids) if (stream.delete(id)) deleted++;
  s.w.integer(deleted);
  if (deleted === 0) return;
  notifyStream(s, 'xdel', key);
  s.server.changed(s.db, key, deleted);
}


/** XRANGE / XREVRANGE key start end [COUNT n] (XREVRANGE takes end first). */
function rangeCommand(s: Session, args: string[], rev: boolean): void {
  const start = parseBound(s, args[rev ? 3 : 2]!, 0n, true);
  if (start === null) return;
  const end = parseBound(s, args[rev ? 2 : 3]!, U64_MAX, false);
  if (end === null) return;
  let count = -1;
  for (let j = 4; j < args.length; j++) {
    if (is(args[j], 'count') && j + 1 < args.length) {
      const n = parseInt64(args[j + 1]!);
      if (n === null) return s.w.error(ERR.notInteger);
      count = Number(n) < 0 ? 0 : Number(n);
      j++;
    } else {
      return s.w.error(ERR.syntax);
    }
  }
  const stream = streamAt(s, args[1]!);
  if (stream === null) return;
  if (stream === undefined) return s.w.array(0);
  if (count === 0) return s.w.nullArray();
  const limit = count === -1 ? 0 : count;
  replyEntries(s, rev ? stream.revRange(start, end, limit) : stream.range(start, end, limit));
}

/** XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id] (what AOF rewrites end a stream with). */
function xsetidCommand(s: Session, args: string[]): void {
  const id = parseId(s, args[2]!, 0n, true);
  if (id === null) return;
  let entriesAdded = -1n;
  let maxDeleted: StreamId = { ms: 0n, seq: 0n };
  for (let i = 3; i < args.length; i += 2) {
    const more = args.length - 1 - i;
    if (is(args[i], 'entriesadded') && more > 0) {
      const n = parseInt64(args[i + 1]!);
      if (n === null) return s.w.error(ERR.notInteger);
      if (BigInt(n) < 0n) return s.w.error('ERR entries_added must be positive');
      entriesAdded = BigInt(n);
    } else if (is(args[i], 'maxdeletedid') && more > 0) {
      const m = parseId(s, args[i + 1]!, 0n, true);
      if (m === null) return;
      if (compareIds(id, m) < 0) return s.w.error('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
      maxDeleted = m;
    } else {
      return s.w.error(ERR.syntax);
    }
  }
  const key = args[1]!;
  const stream = streamAt(s, key);
  if (stream === null) return;
  if (stream === undefined) return s.w.error('ERR no such key');
  if (stream.length > 0) {
    const top = stream.revRange({ ms: 0n, seq: 0n }, stream.lastId, 1)[0]!;
    if (compareIds(id, top) < 0) return s.w.error('ERR The ID specified in XSETID is smaller than the target stream top item');
    if (entriesAdded !== -1n && BigInt(stream.length) > entriesAdded) {
      return s.w.error('ERR The entries_added specified in XSETID is smaller than the target stream length');
    }
  }
  if (compareIds(id, stream.maxDeletedId) < 0) return s.w.error('ERR The ID specified in XSETID is smaller than current max_deleted_entry_id');
  stream.lastId = { ms: id.ms, seq: id.seq };
  if (entriesAdded !== -1n) stream.entriesAdded = entriesAdded;
  if (maxDeleted.ms !== 0n || maxDeleted.seq !== 0n) stream.maxDeletedId = maxDeleted;
  notifyStream(s, 'xsetid', key);
  s.server.changed(s.db, key);
  s.w.ok();
}

interface XreadRequest {
  count: number;
  /** -1 = no BLOCK; 0 = forever; else an absolute deadline (ms). */
  deadline: number;
  keys: string[];
  /** Entries must be above these, per key. */
  after: StreamId[];
}

/** XREAD's options and ids (xreadCommand's parsing, in its order); null after an error. */
function parseXread(s: Session, args: string[]): XreadRequest | null {
  const opts = parseReadOptions(s, args, false);
  if (opts === null) return null;
  const { count, deadline, streamsAt } = opts;
  const n = (args.length - streamsAt) / 2;
  const keys = args.slice(streamsAt, streamsAt + n);
  const after: StreamId[] = [];
  for (let i = 0; i < n; i++) {
    const stream = streamAt(s, keys[i]!);
    if (stream === null) return null;
    const text = args[streamsAt + n + i]!;
    if (text === '$') {
      after.push(stream === undefined ? { ms: 0n, seq: 0n } : stream.lastId);
      continue;
    }
    if (text === '>') return fail(s, 'ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
    const id = parseId(s, text, 0n, true);
    if (id === null) return null;
    after.push({ ms: id.ms, seq: id.seq });
  }
  return { count, deadline, keys, after };
}


/** One stream's part of an XREAD reply: [key, entries] in RESP2, a map entry in RESP3. */
function replyStreamPart(s: Session, key: string, entries: readonly StreamEntry[]): void {
  if (s.w.resp === 2) s.w.array(2);
  s.w.bulk(key);
  replyEntries(s, entries);
}

function replyStreams(s: Session, parts: ReadonlyArray<[string, StreamEntry[]]>): void {
  if (s.w.resp === 2) s.w.array(parts.length);
  else s.w.map(parts.length);
  for (const [key, entries] of parts) replyStreamPart(s, key, entries);
}

/** XREAD [COUNT n] [BLOCK ms] STREAMS key … id|$ …: answers now if any stream has newer entries, else waits. */
function xreadCommand(s: Session, args: string[]): void {
  const req = parseXread(s, args);
  if (req === null) return;
  const parts: Array<[string, StreamEntry[]]> = [];
  for (let i = 0; i < req.keys.length; i++) {
    const e = s.db.lookup(req.keys[i]!);
    if (e === undefined || !(e.value instanceof StreamValue)) continue;
    const entries = entriesAfter(e.value, req.after[i]!, req.count);
    if (entries.length > 0) parts.push([req.keys[i]!, entries]);
  }
  if (parts.length > 0) return replyStreams(s, parts);
  if (req.deadline === -1 || isInExec(s)) return s.w.nullArray();
  const dbIndex = s.db.id;
  s.server.blocking.block(s, {
    dbIndex,
    keys: req.keys,
    deadline: req.deadline,
    tryServe(key: string): boolean {
      const e = s.server.dbs[dbIndex]!.peek(key);
      if (e === undefined || !(e.value instanceof StreamValue)) return false;
      // Served once the top id passed the reader's, even when those entries are already gone
      // (an XADD + XDEL in one EXEC): Redis answers the key with no entries then.
      const after = req.after[req.keys.indexOf(key)]!;
      if (compareIds(e.value.lastId, after) <= 0) return false;
      replyStreams(s, [[key, entriesAfter(e.value, after, req.count)]]);
      return true;
    },
    onTimeout(): void {
      s.w.nullArray();
    },
  });
}

export const streamHandlers: HandlerMap = {
  xread: xreadCommand,
  xsetid: xsetidCommand,
  xadd: xaddCommand,
  xtrim: xtrimCommand,
  xlen: xlenCommand,
  xdel: xdelCommand,
  xrange: (s, args) => rangeCommand(s, args, false),
  xrevrange: (s, args) => rangeCommand(s, args, true),
};
