// Argument parsers and reply pieces the stream command files share (t_stream.c's ID parsing,
// stream lookup, entry replies). Replies errors itself; returns null after one.
import { ERR } from '../../common/errors.js';
import { parseInt64 } from '../keyspace/types/canonical-int.js';
import { StreamValue, type StreamEntry, type StreamId, U64_MAX, decrId, idString, incrId } from '../keyspace/types/stream.js';
import { NOTIFY_NEW, NOTIFY_STREAM, notifyKeyspaceEvent } from '../notify.js';
import { calledFromScript } from '../scripting/script-caller.js';
import type { Session } from '../session.js';
import { is, wrongType } from './handler.js';

export const INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';

/** C's string2ull: a canonical int64 (negatives refused), else strtoull's whole-string rules. */
export function string2ull(text: string): bigint | null {
  const ll = parseInt64(text);
  if (ll !== null) return BigInt(ll) < 0n ? null : BigInt(ll);
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(text);
  if (m === null) return null;
  const v = BigInt(m[2]!);
  if (v > U64_MAX) return null;
  return m[1] === '-' ? (U64_MAX + 1n - v) & U64_MAX : v;
}

export interface ParsedId extends StreamId {
  /** False for `ms-*` (XADD lets the sequence be chosen). */
  seqGiven: boolean;
}

/** streamGenericParseIDOrReply: null after replying the error. */
export function parseId(s: Session, text: string, missingSeq: bigint, strict: boolean, allowSeqStar = false): ParsedId | null {
  if (text.length > 127 || (strict && (text === '-' || text === '+'))) return invalidId(s);
  if (text === '-') return { ms: 0n, seq: 0n, seqGiven: true };
  if (text === '+') return { ms: U64_MAX, seq: U64_MAX, seqGiven: true };
  const dash = text.indexOf('-');
  const ms = string2ull(dash < 0 ? text : text.slice(0, dash));
  if (ms === null) return invalidId(s);
  if (dash < 0) return { ms, seq: missingSeq, seqGiven: true };
  const rest = text.slice(dash + 1);
  if (allowSeqStar && rest === '*') return { ms, seq: 0n, seqGiven: false };
  const seq = string2ull(rest);
  if (seq === null) return invalidId(s);
  return { ms, seq, seqGiven: true };
}

function invalidId(s: Session): null {
  s.w.error(INVALID_ID);
  return null;
}

/** streamParseIntervalIDOrReply plus the exclusive-bound step (XRANGE/XREVRANGE). */
export function parseBound(s: Session, text: string, missingSeq: bigint, isStart: boolean): StreamId | null {
  if (text.length > 1 && text[0] === '(') {
    const id = parseId(s, text.slice(1), missingSeq, true);
    if (id === null) return null;
    const moved = isStart ? incrId(id) : decrId(id);
    if (moved === null) s.w.error(isStart ? 'ERR invalid start ID for the interval' : 'ERR invalid end ID for the interval');
    return moved;
  }
  return parseId(s, text, missingSeq, false);
}

/** The stream at key: undefined when missing, null after replying WRONGTYPE. */
export function streamAt(s: Session, key: string): StreamValue | undefined | null {
  const e = s.db.lookup(key);
  if (e === undefined) return undefined;
  if (!(e.value instanceof StreamValue)) {
    wrongType(s);
    return null;
  }
  return e.value;
}

/** A stream event ('t' class: xadd, xtrim, xgroup-create …) on `key` of db `dbId` (default: the session's). */
export function notifyStream(s: Session, event: string, key: string, dbId = s.db.id): void {
  notifyKeyspaceEvent(s.server, NOTIFY_STREAM, event, key, dbId);
}

/** A stream command created `key` (dbAdd's 'n' class event "new", before the command's own event). */
export function notifyNewKey(s: Session, key: string): void {
  notifyKeyspaceEvent(s.server, NOTIFY_NEW, 'new', key, s.db.id);
}

export function fail(s: Session, message: string): null {
  s.w.error(message);
  return null;
}

export function replyEntries(s: Session, entries: readonly StreamEntry[]): void {
  s.w.array(entries.length);
  for (const e of entries) {
    s.w.array(2);
    s.w.bulk(idString(e));
    s.w.bulkArray(e.fields);
  }
}

/** Entries of `stream` above `after` (at most `count`, 0 = all). */
export function entriesAfter(stream: StreamValue, after: StreamId, count: number): StreamEntry[] {
  const start = incrId(after);
  return start === null ? [] : stream.range(start, { ms: U64_MAX, seq: U64_MAX }, count);
}

/** The options of XREAD / XREADGROUP before their keys and ids. */
export interface ReadOptions {
  count: number;
  /** -1 = no BLOCK; 0 = forever; else an absolute deadline (ms). */
  deadline: number;
  /** Index of the first key (after STREAMS). */
  streamsAt: number;
  noack: boolean;
  /** XREADGROUP's GROUP <group> <consumer> (null: not given). */
  group: string | null;
  consumer: string;
}

/**
 * xreadCommand's option loop, shared by XREAD and XREADGROUP (`withGroup`): BLOCK, COUNT, STREAMS,
 * and for XREADGROUP GROUP and NOACK (XREAD refuses those with Redis's words). Null after an error.
 */
export function parseReadOptions(s: Session, args: readonly string[], withGroup: boolean): ReadOptions | null {
  const o: ReadOptions = { count: 0, deadline: -1, streamsAt: 0, noack: false, group: null, consumer: '' };
  for (let i = 1; i < args.length; i++) {
    const more = args.length - i - 1;
    const a = args[i]!;
    if (is(a, 'block') && more > 0) {
      // Checked where BLOCK is seen, before its value (xreadCommand): a script can never wait.
      if (calledFromScript(s)) return fail(s, `ERR ${args[0]!} command is not allowed with BLOCK option from scripts`);
      const n = parseInt64(args[++i]!);
      if (n === null) return fail(s, 'ERR timeout is not an integer or out of range');
      if (Number(n) < 0) return fail(s, 'ERR timeout is negative');
      o.deadline = Number(n) === 0 ? 0 : s.server.now + Number(n);
    } else if (is(a, 'count') && more > 0) {
      const n = parseInt64(args[++i]!);
      if (n === null) return fail(s, ERR.notInteger);
      o.count = Math.max(0, Number(n));
    } else if (is(a, 'streams') && more > 0) {
      o.streamsAt = i + 1;
      if ((args.length - o.streamsAt) % 2 !== 0) {
        return fail(s, "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
      }
      break;
    } else if (is(a, 'group') && more >= 2) {
      if (!withGroup) return fail(s, 'ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
      o.group = args[i + 1]!;
      o.consumer = args[i + 2]!;
      i += 2;
    } else if (is(a, 'noack')) {
      if (!withGroup) return fail(s, 'ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.');
      o.noack = true;
    } else {
      return fail(s, ERR.syntax);
    }
  }
  if (o.streamsAt === 0) return fail(s, ERR.syntax);
  return o;
}
