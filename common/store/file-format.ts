// The file store's state.json as text, read lazily (file-store.ts does the I/O and the locking).
//
//   line 1   {"schema":1,"revision":R,"compacted":C,"leases":{…}}
//   line 2   {"<key>":{"value":…,"create":…,"mod":…},…}            every key and its value
//   line 3…  {"revision":r,"type":"put","key":…,"value":…}         the event log, oldest first
//
// Why lines: the event log (kept for watch replay, up to 4,096 events with their values) was
// 60-75% of the file, and every process parsed all of it after every change by any process (a
// 525 KB file took 7.5 ms to parse; each proxy did it after each change of a migration step).
// Now a watcher parses only the events it has not seen (found from the end by the revision that
// starts each line), and the keys are parsed only by a process that reads or writes them. A file
// written as one JSON document (before this format) is still read; it is rewritten in lines by the
// next write. JSON.stringify never emits a raw newline, so the lines split unambiguously.
import { STATE_SCHEMA, emptyState, type FileEvent, type FileKv, type FileState } from './file-state.js';

/** Events kept for watch replay (as file-state.ts's log): a watch from an older revision is "compacted". */
const EVENT_LOG_LIMIT = 4096;
const REVISION_PREFIX = '{"revision":';

export interface StateHeader {
  schema: number;
  revision: number;
  compacted: number;
  leases: FileState['leases'];
}

/** One version of the state file. Immutable once built: every reader of this process shares it. */
export class StateFile {
  private kvsParsed: Record<string, FileKv> | null;
  private lines: string[] | null;
  private sorted: string[] | null = null;

  private constructor(
    readonly header: StateHeader,
    private kvsText: string | null,
    kvs: Record<string, FileKv> | null,
    private eventsText: string | null,
    lines: string[] | null,
  ) {
    this.kvsParsed = kvs;
    this.lines = lines;
  }

  static empty(): StateFile {
    const s = emptyState();
    return new StateFile({ schema: s.schema, revision: s.revision, compacted: s.compacted, leases: s.leases }, null, {}, null, []);
  }

  /** Parses the header only (and checks the schema); keys and events wait until asked for. */
  static parse(text: string, path: string): StateFile {
    const first = text.indexOf('\n');
    if (first < 0) return StateFile.legacy(text, path);
    const second = text.indexOf('\n', first + 1);
    const header = parseJson<StateHeader>(text.slice(0, first), path);
    checkSchema(header.schema, path);
    if (second < 0) throw new Error(`file store: ${path} is not valid JSON: the keys line is missing`);
    return new StateFile(header, text.slice(first + 1, second), null, text.slice(second + 1), null);
  }

  /** A file written as one JSON document: parsed whole, its events turned into lines. */
  private static legacy(text: string, path: string): StateFile {
    const s = parseJson<FileState>(text, path);
    checkSchema(s.schema, path);
    return new StateFile({ schema: s.schema, revision: s.revision, compacted: s.compacted, leases: s.leases ?? {} }, null, s.kvs ?? {}, null, (s.events ?? []).map(eventLine));
  }

  /** Every key (shared: callers must not change it). */
  kvs(): Record<string, FileKv> {
    if (this.kvsParsed === null) {
      this.kvsParsed = parseJson<Record<string, FileKv>>(this.kvsText!, 'state.json keys');
      this.kvsText = null;
    }
    return this.kvsParsed;
  }

  /** The keys in order (snapshots list a prefix in key order). */
  sortedKeys(): string[] {
    this.sorted ??= Object.keys(this.kvs()).sort();
    return this.sorted;
  }

  private eventLines(): string[] {
    if (this.lines === null) {
      this.lines = this.eventsText === null || this.eventsText === '' ? [] : this.eventsText.split('\n');
      this.eventsText = null;
    }
    return this.lines;
  }

  /** The events with revision ≥ `from`, oldest first; only those lines are parsed. */
  eventsFrom(from: number): FileEvent[] {
    const lines = this.eventLines();
    let start = lines.length;
    while (start > 0 && revisionOf(lines[start - 1]!) >= from) start--;
    const out: FileEvent[] = [];
    for (let i = start; i < lines.length; i++) out.push(parseJson<FileEvent>(lines[i]!, 'state.json event'));
    return out;
  }

  hasExpiredLease(now: number): boolean {
    for (const id in this.header.leases) if (this.header.leases[id]!.expiresAt <= now) return true;
    return false;
  }

  /**
   * A private state for one write (StateWrite edits it): the keys copied (values are replaced,
   * never edited, so a shallow copy), the leases copied (a refresh edits them), no events (the
   * write's own go there; next() appends them to the log).
   */
  forWrite(): FileState {
    const leases: FileState['leases'] = {};
    for (const [id, l] of Object.entries(this.header.leases)) leases[id] = { ...l };
    return { schema: this.header.schema, revision: this.header.revision, compacted: this.header.compacted, kvs: { ...this.kvs() }, leases, events: [] };
  }

  /** The version a write makes: its keys, leases and revision, the log with its events appended (trimmed). */
  next(written: FileState): StateFile {
    let lines = this.eventLines().concat(written.events.map(eventLine));
    let compacted = written.compacted;
    if (lines.length > EVENT_LOG_LIMIT) {
      // Whole revisions at a time, as file-state.ts's trimEvents: a watcher never sees half a txn.
      let cut = lines.length - EVENT_LOG_LIMIT;
      while (cut < lines.length && revisionOf(lines[cut]!) === revisionOf(lines[cut - 1]!)) cut++;
      compacted = revisionOf(lines[cut - 1]!);
      lines = lines.slice(cut);
    }
    const header: StateHeader = { schema: written.schema, revision: written.revision, compacted, leases: written.leases };
    return new StateFile(header, null, written.kvs, null, lines);
  }

  serialize(): string {
    const kvs = this.kvsText ?? JSON.stringify(this.kvs());
    return `${JSON.stringify(this.header)}\n${kvs}\n${this.eventLines().join('\n')}`;
  }
}

/** One event as a line; the revision first, so the log can be searched without parsing it. */
function eventLine(ev: FileEvent): string {
  return JSON.stringify({ revision: ev.revision, type: ev.type, key: ev.key, value: ev.value });
}

function revisionOf(line: string): number {
  let n = 0;
  for (let i = REVISION_PREFIX.length; i < line.length; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
  }
  return n;
}

function parseJson<T>(text: string, path: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`file store: ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

function checkSchema(schema: number, path: string): void {
  if (schema !== STATE_SCHEMA) throw new Error(`file store: ${path} has schema ${schema}, expected ${STATE_SCHEMA}`);
}
