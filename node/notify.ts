// Keyspace notifications (Redis's notify.c): an event on a key is published to
// `__keyspace@<db>__:<key>` (message: the event) and `__keyevent@<db>__:<event>` (message: the key)
// when notify-keyspace-events enables its class and K / E. Never writes a reply of its own.
import type { PubSub } from './pubsub.js';

/** Event classes and the K / E switches, with Redis's bit values (server.h NOTIFY_*). */
export const NOTIFY_KEYSPACE = 1 << 0; // K
export const NOTIFY_KEYEVENT = 1 << 1; // E
export const NOTIFY_GENERIC = 1 << 2; // g
export const NOTIFY_STRING = 1 << 3; // $
export const NOTIFY_LIST = 1 << 4; // l
export const NOTIFY_SET = 1 << 5; // s
export const NOTIFY_HASH = 1 << 6; // h
export const NOTIFY_ZSET = 1 << 7; // z
export const NOTIFY_EXPIRED = 1 << 8; // x
export const NOTIFY_EVICTED = 1 << 9; // e
export const NOTIFY_STREAM = 1 << 10; // t
export const NOTIFY_KEY_MISS = 1 << 11; // m (not part of A)
export const NOTIFY_LOADED = 1 << 12; // module key loaded (no letter)
export const NOTIFY_MODULE = 1 << 13; // d
export const NOTIFY_NEW = 1 << 14; // n (not part of A)
const NOTIFY_ALL = NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET
  | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE;

const LETTERS: Record<string, number> = {
  A: NOTIFY_ALL, g: NOTIFY_GENERIC, $: NOTIFY_STRING, l: NOTIFY_LIST, s: NOTIFY_SET, h: NOTIFY_HASH,
  z: NOTIFY_ZSET, x: NOTIFY_EXPIRED, e: NOTIFY_EVICTED, K: NOTIFY_KEYSPACE, E: NOTIFY_KEYEVENT,
  t: NOTIFY_STREAM, m: NOTIFY_KEY_MISS, d: NOTIFY_MODULE, n: NOTIFY_NEW,
};

/** keyspaceEventsStringToFlags: the flags of a notify-keyspace-events value, null for an unknown letter. */
export function parseKeyspaceEvents(text: string): number | null {
  let flags = 0;
  for (const ch of text) {
    const bit = LETTERS[ch];
    if (bit === undefined) return null;
    flags |= bit;
  }
  return flags;
}

/**
 * keyspaceEventsFlagsToString, as 7.0.15 prints the setting (CONFIG GET, REWRITE): A for all
 * classes, K E m after them. One difference: 7.0.15 prints 'n' only without A ("KEAn" reads back
 * as "AKE", the flag still set, lost at the next CONFIG REWRITE); ours prints "AnKE", because the
 * stored text is what the node reads its flags from.
 */
export function keyspaceEventsText(flags: number): string {
  let out = '';
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) {
    out += 'A';
    if ((flags & NOTIFY_NEW) !== 0) out += 'n';
  } else {
    for (const [bit, ch] of CLASS_ORDER) if ((flags & bit) !== 0) out += ch;
  }
  if ((flags & NOTIFY_KEYSPACE) !== 0) out += 'K';
  if ((flags & NOTIFY_KEYEVENT) !== 0) out += 'E';
  if ((flags & NOTIFY_KEY_MISS) !== 0) out += 'm';
  return out;
}

const CLASS_ORDER: ReadonlyArray<[number, string]> = [
  [NOTIFY_GENERIC, 'g'], [NOTIFY_STRING, '$'], [NOTIFY_LIST, 'l'], [NOTIFY_SET, 's'], [NOTIFY_HASH, 'h'],
  [NOTIFY_ZSET, 'z'], [NOTIFY_EXPIRED, 'x'], [NOTIFY_EVICTED, 'e'], [NOTIFY_STREAM, 't'], [NOTIFY_MODULE, 'd'], [NOTIFY_NEW, 'n'],
];

/** CONFIG SET / config file check of notify-keyspace-events: the value as Redis stores it, or its error. */
export function checkKeyspaceEvents(value: string): string | { error: string } {
  const flags = parseKeyspaceEvents(value);
  if (flags === null) return { error: "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." };
  return keyspaceEventsText(flags);
}

/** Where notifications go and what enables them: the node's pub/sub and its current setting. */
export interface NotifyEnv {
  readonly pubsub: PubSub;
  readonly config: { get(name: string): string };
}

// The setting's last text and its flags: parsed again only when the text changes, so an event
// nobody enabled costs one config read and a comparison.
let cachedText = '';
let cachedFlags = 0;

function enabledFlags(env: NotifyEnv): number {
  const text = env.config.get('notify-keyspace-events');
  if (text !== cachedText) {
    cachedFlags = parseKeyspaceEvents(text) ?? 0;
    cachedText = text;
  }
  return cachedFlags;
}

/**
 * notifyKeyspaceEvent: publishes `event` on `key` of db `dbId` if its class `type` is enabled.
 * Called right where the change happens, so events reach subscribers in command order.
 */
export function notifyKeyspaceEvent(env: NotifyEnv, type: number, event: string, key: string, dbId: number): void {
  const flags = enabledFlags(env);
  if ((flags & type) === 0) return;
  const { pubsub } = env;
  // Nobody subscribed to anything: skip building the two channel names.
  if (pubsub.channels.size === 0 && pubsub.patterns.size === 0) return;
  if ((flags & NOTIFY_KEYSPACE) !== 0) pubsub.publish(`__keyspace@${dbId}__:${key}`, event);
  if ((flags & NOTIFY_KEYEVENT) !== 0) pubsub.publish(`__keyevent@${dbId}__:${event}`, key);
}
