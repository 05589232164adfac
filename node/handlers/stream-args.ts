// Argument parsers and reply pieces the stream command files share (t_stream.c's ID parsing,
// stream lookup, entry replies). Replies errors itself; returns null after one.
import { parseInt64 } from '../keyspace/types/canonical-int.js';
import { StreamValue, type StreamEntry, type StreamId, U64_MAX, decrId, idString, incrId } from '../keyspace/types/stream.js';
import type { Session } from '../session.js';
import { wrongType } from './handler.js';

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
