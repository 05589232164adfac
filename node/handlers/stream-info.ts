// XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS / HELP (t_stream.c xinfoCommand, Redis 7.0.15):
// the same fields in the same order. Read-only: never changes a group.
import { ERR } from '../../common/errors.js';
import { parseInt64 } from '../keyspace/types/canonical-int.js';
import { StreamValue, U64_MAX, groupLag, idString, radixTreeNodes } from '../keyspace/types/stream.js';
import { INVALID_ENTRIES_READ, type StreamGroup } from '../keyspace/types/stream-groups.js';
import type { Session } from '../session.js';
import { type HandlerMap, wrongType } from './handler.js';
import { replyEntries } from './stream-args.js';
import { subcommandSyntaxError } from './stream-groups.js';

const XINFO_HELP = [
  'XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
  'HELP',
  '    Prints this help.',
];

const MIN = { ms: 0n, seq: 0n };
const MAX = { ms: U64_MAX, seq: U64_MAX };

/** The stream at args[2], or null after replying (no such key / WRONGTYPE). */
function infoStream(s: Session, args: string[]): StreamValue | null {
  const e = s.db.lookup(args[2]!);
  if (e === undefined) {
    s.w.error('ERR no such key');
    return null;
  }
  if (!(e.value instanceof StreamValue)) {
    wrongType(s);
    return null;
  }
  return e.value;
}

function bigint(s: Session, v: bigint): void {
  s.w.integer(Number(v));
}

function entriesRead(s: Session, g: StreamGroup): void {
  if (g.entriesRead === INVALID_ENTRIES_READ) s.w.null();
  else bigint(s, g.entriesRead);
}

function lag(s: Session, stream: StreamValue, g: StreamGroup): void {
  const v = groupLag(stream, g);
  if (v === null) s.w.null();
  else bigint(s, v);
}

function oneEntry(s: Session, stream: StreamValue, rev: boolean): void {
  const e = (rev ? stream.revRange(MIN, MAX, 1) : stream.range(MIN, MAX, 1))[0];
  if (e === undefined) return s.w.null();
  s.w.array(2);
  s.w.bulk(idString(e));
  s.w.bulkArray(e.fields);
}

/** XINFO STREAM key [FULL [COUNT n]] */
function xinfoStreamCommand(s: Session, args: string[]): void {
  const stream = infoStream(s, args);
  if (stream === null) return;
  let full = false;
  let count = 10;
  const optc = args.length - 3;
  if (optc > 0) {
    if ((optc !== 1 && optc !== 3) || args[3]!.toLowerCase() !== 'full') return subcommandSyntaxError(s, args);
    full = true;
    if (optc === 3) {
      if (args[4]!.toLowerCase() !== 'count') return subcommandSyntaxError(s, args);
      const n = parseInt64(args[5]!);
      if (n === null) return s.w.error(ERR.notInteger);
      count = Number(n) < 0 ? 10 : Number(n);
    }
  }
  s.w.map(full ? 9 : 10);
  s.w.bulk('length');
  s.w.integer(stream.length);
  s.w.bulk('radix-tree-keys');
  s.w.integer(stream.nodeCount);
  s.w.bulk('radix-tree-nodes');
  s.w.integer(radixTreeNodes(stream));
  s.w.bulk('last-generated-id');
  s.w.bulk(idString(stream.lastId));
  s.w.bulk('max-deleted-entry-id');
  s.w.bulk(idString(stream.maxDeletedId));
  s.w.bulk('entries-added');
  bigint(s, stream.entriesAdded);
  s.w.bulk('recorded-first-entry-id');
  s.w.bulk(idString(stream.firstId()));
  if (!full) {
    s.w.bulk('groups');
    s.w.integer(stream.groups?.size ?? 0);
    s.w.bulk('first-entry');
    oneEntry(s, stream, false);
    s.w.bulk('last-entry');
    oneEntry(s, stream, true);
    return;
  }
  s.w.bulk('entries');
  replyEntries(s, stream.range(MIN, MAX, count));
  s.w.bulk('groups');
  const groups = stream.groups?.sorted() ?? [];
  s.w.array(groups.length);
  for (const g of groups) fullGroup(s, stream, g, count);
}

/** One group of XINFO STREAM FULL: at most `count` pending entries per list (0 = all). */
function fullGroup(s: Session, stream: StreamValue, g: StreamGroup, count: number): void {
  const limit = (n: number) => (count === 0 ? n : Math.min(n, count));
  s.w.map(7);
  s.w.bulk('name');
  s.w.bulk(g.name);
  s.w.bulk('last-delivered-id');
  s.w.bulk(idString(g.lastId));
  s.w.bulk('entries-read');
  entriesRead(s, g);
  s.w.bulk('lag');
  lag(s, stream, g);
  s.w.bulk('pel-count');
  s.w.integer(g.pel.size);
  s.w.bulk('pending');
  const shown = limit(g.pel.size);
  s.w.array(shown);
  for (let i = 0; i < shown; i++) {
    const n = g.pel.at(i)!;
    s.w.array(4);
    s.w.bulk(idString(n.id));
    s.w.bulk(n.consumer?.name ?? '');
    s.w.integer(n.deliveryTime);
    s.w.integer(n.deliveryCount);
  }
  s.w.bulk('consumers');
  const consumers = g.consumers();
  s.w.array(consumers.length);
  for (const c of consumers) {
    s.w.map(4);
    s.w.bulk('name');
    s.w.bulk(c.name);
    s.w.bulk('seen-time');
    s.w.integer(c.seenTime);
    s.w.bulk('pel-count');
    s.w.integer(c.pel.size);
    s.w.bulk('pending');
    const mine = limit(c.pel.size);
    s.w.array(mine);
    for (let i = 0; i < mine; i++) {
      const n = c.pel.at(i)!;
      s.w.array(3);
      s.w.bulk(idString(n.id));
      s.w.integer(n.deliveryTime);
      s.w.integer(n.deliveryCount);
    }
  }
}

/** XINFO GROUPS key */
function xinfoGroupsCommand(s: Session, args: string[]): void {
  const stream = infoStream(s, args);
  if (stream === null) return;
  const groups = stream.groups?.sorted() ?? [];
  s.w.array(groups.length);
  for (const g of groups) {
    s.w.map(6);
    s.w.bulk('name');
    s.w.bulk(g.name);
    s.w.bulk('consumers');
    s.w.integer(g.consumerCount);
    s.w.bulk('pending');
    s.w.integer(g.pel.size);
    s.w.bulk('last-delivered-id');
    s.w.bulk(idString(g.lastId));
    s.w.bulk('entries-read');
    entriesRead(s, g);
    s.w.bulk('lag');
    lag(s, stream, g);
  }
}

/** XINFO CONSUMERS key group */
function xinfoConsumersCommand(s: Session, args: string[]): void {
  const stream = infoStream(s, args);
  if (stream === null) return;
  const g = stream.groups?.get(args[3]!);
  if (g === undefined) return s.w.error(`NOGROUP No such consumer group '${args[3]!}' for key name '${args[2]!}'`);
  const now = s.server.now;
  const consumers = g.consumers();
  s.w.array(consumers.length);
  for (const c of consumers) {
    s.w.map(3);
    s.w.bulk('name');
    s.w.bulk(c.name);
    s.w.bulk('pending');
    s.w.integer(c.pel.size);
    s.w.bulk('idle');
    s.w.integer(Math.max(0, now - c.seenTime));
  }
}

function xinfoHelpCommand(s: Session): void {
  s.w.array(XINFO_HELP.length);
  for (const line of XINFO_HELP) s.w.simple(line);
}

export const streamInfoHandlers: HandlerMap = {
  'xinfo|stream': xinfoStreamCommand,
  'xinfo|groups': xinfoGroupsCommand,
  'xinfo|consumers': xinfoConsumersCommand,
  'xinfo|help': xinfoHelpCommand,
};
