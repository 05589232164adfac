// Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB introspection.
// Each (un)subscribe confirmation is its own push frame (an array in RESP2); the registry and
// message delivery live in node/pubsub.ts.
import { globMatch } from '../../common/glob.js';
import type { PubSub } from '../pubsub.js';
import type { Session } from '../session.js';
import type { HandlerMap } from './handler.js';
import { isInExec } from './transactions.js';

type Kind = 'subscribe' | 'unsubscribe' | 'psubscribe' | 'punsubscribe' | 'ssubscribe' | 'sunsubscribe';

/** [kind, channel or null, count]: count is channels + patterns, or shard channels for s* kinds. */
function confirm(s: Session, kind: Kind, name: string | null, count: number): void {
  s.w.push(3);
  s.w.bulk(kind);
  if (name === null) s.w.null();
  else s.w.bulk(name);
  s.w.integer(count);
}

function channelCount(s: Session): number {
  return s.channels.size + s.patterns.size;
}

function subscribeCommand(s: Session, args: string[]): void {
  const pubsub = s.server.pubsub;
  for (let i = 1; i < args.length; i++) {
    pubsub.subscribe(s, args[i]!);
    confirm(s, 'subscribe', args[i]!, channelCount(s));
  }
}

function psubscribeCommand(s: Session, args: string[]): void {
  const pubsub = s.server.pubsub;
  for (let i = 1; i < args.length; i++) {
    pubsub.psubscribe(s, args[i]!);
    confirm(s, 'psubscribe', args[i]!, channelCount(s));
  }
}

function ssubscribeCommand(s: Session, args: string[]): void {
  // Redis refuses it for "deny blocking" clients, which includes a running EXEC (unlike SUBSCRIBE).
  if (isInExec(s)) return s.w.error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
  const pubsub = s.server.pubsub;
  for (let i = 1; i < args.length; i++) {
    pubsub.ssubscribe(s, args[i]!);
    confirm(s, 'ssubscribe', args[i]!, s.shardChannels.size);
  }
}

/**
 * The shared shape of the three UNSUBSCRIBE commands: named channels are confirmed whether or not
 * the client had them; no names means all of them, or one [kind, null, count] when there are none.
 */
function unsubscribeFrom(
  s: Session,
  args: string[],
  kind: Kind,
  own: Set<string>,
  remove: (pubsub: PubSub, name: string) => boolean,
  count: () => number,
): void {
  const pubsub = s.server.pubsub;
  if (args.length > 1) {
    for (let i = 1; i < args.length; i++) {
      remove(pubsub, args[i]!);
      confirm(s, kind, args[i]!, count());
    }
    return;
  }
  if (own.size === 0) return confirm(s, kind, null, count());
  for (const name of [...own]) {
    remove(pubsub, name);
    confirm(s, kind, name, count());
  }
}

function unsubscribeCommand(s: Session, args: string[]): void {
  unsubscribeFrom(s, args, 'unsubscribe', s.channels, (p, c) => p.unsubscribe(s, c), () => channelCount(s));
}

function punsubscribeCommand(s: Session, args: string[]): void {
  unsubscribeFrom(s, args, 'punsubscribe', s.patterns, (p, c) => p.punsubscribe(s, c), () => channelCount(s));
}

function sunsubscribeCommand(s: Session, args: string[]): void {
  unsubscribeFrom(s, args, 'sunsubscribe', s.shardChannels, (p, c) => p.sunsubscribe(s, c), () => s.shardChannels.size);
}

function publishCommand(s: Session, args: string[]): void {
  s.w.integer(s.server.pubsub.publish(args[1]!, args[2]!));
}

function spublishCommand(s: Session, args: string[]): void {
  s.w.integer(s.server.pubsub.spublish(args[1]!, args[2]!));
}

/** PUBSUB CHANNELS / SHARDCHANNELS [pattern]: active channels matching the pattern (default all). */
function listChannels(s: Session, args: string[], registry: Map<string, Set<Session>>): void {
  if (args.length > 3) {
    return s.w.error(`ERR unknown subcommand or wrong number of arguments for '${args[1]}'. Try PUBSUB HELP.`);
  }
  const pattern = args[2];
  const names: string[] = [];
  for (const name of registry.keys()) if (pattern === undefined || globMatch(pattern, name)) names.push(name);
  s.w.bulkArray(names);
}

/** PUBSUB NUMSUB / SHARDNUMSUB [channel …]: flat channel, count pairs (an array even in RESP3). */
function countSubscribers(s: Session, args: string[], registry: Map<string, Set<Session>>): void {
  s.w.array((args.length - 2) * 2);
  for (let i = 2; i < args.length; i++) {
    s.w.bulk(args[i]!);
    s.w.integer(registry.get(args[i]!)?.size ?? 0);
  }
}

const PUBSUB_HELP = [
  'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
  'HELP',
  '    Prints this help.',
];

function pubsubHelpCommand(s: Session): void {
  s.w.array(PUBSUB_HELP.length);
  for (const line of PUBSUB_HELP) s.w.simple(line);
}

export const pubsubHandlers: HandlerMap = {
  subscribe: subscribeCommand,
  unsubscribe: unsubscribeCommand,
  psubscribe: psubscribeCommand,
  punsubscribe: punsubscribeCommand,
  ssubscribe: ssubscribeCommand,
  sunsubscribe: sunsubscribeCommand,
  publish: publishCommand,
  spublish: spublishCommand,
  'pubsub|channels': (s, args) => listChannels(s, args, s.server.pubsub.channels),
  'pubsub|shardchannels': (s, args) => listChannels(s, args, s.server.pubsub.shardChannels),
  'pubsub|numsub': (s, args) => countSubscribers(s, args, s.server.pubsub.channels),
  'pubsub|shardnumsub': (s, args) => countSubscribers(s, args, s.server.pubsub.shardChannels),
  'pubsub|numpat': (s) => s.w.integer(s.server.pubsub.patterns.size),
  'pubsub|help': pubsubHelpCommand,
};
