// CLIENT subcommands: identity (ID, SETNAME, GETNAME, SETINFO), introspection (LIST, INFO),
// control of other connections (KILL, PAUSE, UNPAUSE, UNBLOCK) and of this one (REPLY, NO-EVICT).
import type { CommandSpec } from '../../common/commands/spec.js';
import { ERR } from '../../common/errors.js';
import type { Session } from '../session.js';
import { clientMemory } from '../client-eviction.js';
import { validClientName } from './connection.js';
import { type HandlerMap, is, syntaxError } from './handler.js';

type ClientType = 'normal' | 'master' | 'replica' | 'pubsub';

/** CLIENT LIST/KILL TYPE names (slave is an alias of replica); null when unknown. */
function parseClientType(text: string): ClientType | null {
  const t = text.toLowerCase();
  if (t === 'normal' || t === 'master' || t === 'pubsub') return t;
  if (t === 'replica' || t === 'slave') return 'replica';
  return null;
}

/** Redis's getClientType: the master link and attached replicas first, then subscribers. */
function typeOf(c: Session): ClientType {
  const repl = c.server.replication;
  if (repl.isMasterClient(c)) return 'master';
  if (repl.replicas.isReplica(c) && !c.monitor) return 'replica';
  return c.subscriptionCount > 0 ? 'pubsub' : 'normal';
}

/** Redis's client flags letters ("N" when none apply). */
function flagsOf(c: Session): string {
  let f = '';
  const type = typeOf(c);
  if (c.monitor) f += 'O';
  else if (type === 'replica') f += 'S';
  if (type === 'master') f += 'M';
  if (c.subscriptionCount > 0) f += 'P';
  if (c.multi !== null) f += 'x';
  if (c.blocked) f += 'b';
  if (c.watchDirty) f += 'd';
  if (c.closing) f += 'c';
  if (c.noEvict) f += 'e';
  return f === '' ? 'N' : f;
}

/**
 * One CLIENT LIST line, in Redis 7's field order (plus 7.2's lib-name/lib-ver), with what the
 * session really holds: qbuf = unparsed input, argv-mem = arguments parsed (of the command being
 * received, or of the running one for the caller), multi-mem = the MULTI queue, rbs/rbp = reply
 * buffer size/peak, obl = replies not yet written, oll/omem = writes queued on the socket.
 */
export function clientLine(c: Session, self: Session, runningCommand: string, runningArgs: readonly string[]): string {
  const now = Date.now();
  const fd = (c.socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
  const omem = c.socket.writableLength ?? 0;
  const qbuf = c.decoder.pendingBytes;
  const argvMem = c === self ? argsBytes(runningArgs) : c.decoder.parsedArgBytes;
  const multiMem = c.multiBytes;
  const rbs = c.w.capacity;
  const totMem = clientMemory(c, argvMem);
  const reading = !c.closing && !(c.socket.isPaused?.() ?? false);
  const events = `${reading ? 'r' : ''}${omem > 0 ? 'w' : ''}`;
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${fd} name=${c.name} ` +
    `age=${Math.floor((now - c.createdAt) / 1000)} idle=${Math.floor((now - c.lastInteraction) / 1000)} ` +
    `flags=${flagsOf(c)} db=${c.db.id} sub=${c.channels.size} psub=${c.patterns.size} ssub=${c.shardChannels.size} ` +
    `multi=${c.multi === null ? -1 : c.multi.length} qbuf=${qbuf} qbuf-free=0 argv-mem=${argvMem} multi-mem=${multiMem} ` +
    `rbs=${rbs} rbp=${Math.max(c.replyPeak, c.w.length)} obl=${c.w.length} oll=${c.pendingWrites} omem=${omem} ` +
    `tot-mem=${totMem} events=${events} cmd=${c === self ? runningCommand : c.lastCommand} ` +
    // The master link runs as Redis's internal superuser.
    `user=${c.server.replication.isMasterClient(c) ? '(superuser)' : 'default'} redir=-1 ` +
    `resp=${c.w.resp} lib-name=${c.libName} lib-ver=${c.libVer}`
  );
}

function argsBytes(args: readonly string[]): number {
  let n = 0;
  for (const a of args) n += a.length;
  return n;
}

/**
 * Every client CLIENT LIST/KILL see, in id order: the sessions plus, on a replica whose link is up,
 * the master client (it has no socket of its own among the sessions).
 */
function allClients(s: Session): Session[] {
  const clients = [...s.server.sessions];
  const link = s.server.replication.link;
  const master = link?.state === 'connected' ? link.masterSession : null;
  if (master !== null) {
    const at = clients.findIndex((c) => c.id > master.id);
    clients.splice(at < 0 ? clients.length : at, 0, master);
  }
  return clients;
}

function findClient(s: Session, id: number): Session | undefined {
  for (const c of s.server.sessions) if (c.id === id) return c;
  return undefined;
}

function clientIdCommand(s: Session): void {
  s.w.integer(s.id);
}

function clientSetnameCommand(s: Session, args: string[]): void {
  const name = args[2]!;
  if (!validClientName(name)) return s.w.error('ERR Client names cannot contain spaces, newlines or special characters.');
  s.name = name;
  s.w.ok();
}

function clientGetnameCommand(s: Session): void {
  if (s.name === '') s.w.null();
  else s.w.bulk(s.name);
}

/** CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; clients such as ioredis 6 send it). */
function clientSetinfoCommand(s: Session, args: string[]): void {
  const attr = args[2]!.toLowerCase();
  const value = args[3]!;
  if (attr !== 'lib-name' && attr !== 'lib-ver') return s.w.error(`ERR Unrecognized option '${args[2]}'`);
  if (!validClientName(value) && value !== '') return s.w.error(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
  if (attr === 'lib-name') s.libName = value;
  else s.libVer = value;
  s.w.ok();
}

function clientListCommand(s: Session, args: string[]): void {
  let type: ClientType | null = null;
  let ids: Set<number> | null = null;
  if (args.length > 2) {
    if (is(args[2], 'type') && args.length === 4) {
      type = parseClientType(args[3]!);
      if (type === null) return s.w.error(`ERR Unknown client type '${args[3]}'`);
    } else if (is(args[2], 'id') && args.length >= 4) {
      ids = new Set();
      for (let i = 3; i < args.length; i++) {
        const id = /^\d+$/.test(args[i]!) ? Number(args[i]) : 0;
        if (id <= 0) return s.w.error('ERR Invalid client ID');
        ids.add(id);
      }
    } else {
      return syntaxError(s);
    }
  }
  let out = '';
  for (const c of allClients(s)) {
    if (type !== null && typeOf(c) !== type) continue;
    if (ids !== null && !ids.has(c.id)) continue;
    out += `${clientLine(c, s, 'client|list', args)}\n`;
  }
  s.w.verbatim(out);
}

function clientInfoCommand(s: Session, args: string[]): void {
  s.w.verbatim(`${clientLine(s, s, 'client|info', args)}\n`);
}

interface KillFilter {
  id?: number;
  type?: ClientType;
  addr?: string;
  laddr?: string;
  user?: string;
  maxAgeSecs?: number;
  skipMe: boolean;
}

/** Parses CLIENT KILL's filter pairs; null after replying an error. */
function parseKillFilter(s: Session, args: string[]): KillFilter | null {
  const f: KillFilter = { skipMe: true };
  for (let i = 2; i < args.length; i += 2) {
    if (i + 1 >= args.length) {
      syntaxError(s);
      return null;
    }
    const opt = args[i]!.toLowerCase();
    const val = args[i + 1]!;
    if (opt === 'id') {
      const id = /^-?\d+$/.test(val) ? Number(val) : 0;
      if (id <= 0) {
        s.w.error('ERR client-id should be greater than 0');
        return null;
      }
      f.id = id;
    } else if (opt === 'type') {
      const t = parseClientType(val);
      if (t === null) {
        s.w.error(`ERR Unknown client type '${val}'`);
        return null;
      }
      f.type = t;
    } else if (opt === 'addr') f.addr = val;
    else if (opt === 'laddr') f.laddr = val;
    else if (opt === 'user') {
      if (val !== 'default') {
        s.w.error(`ERR No such user '${val}'`);
        return null;
      }
      f.user = val;
    } else if (opt === 'skipme') {
      if (is(val, 'yes')) f.skipMe = true;
      else if (is(val, 'no')) f.skipMe = false;
      else {
        syntaxError(s);
        return null;
      }
    } else if (opt === 'maxage') {
      // MAXAGE (Redis 7.4): kill connections older than this many seconds.
      if (!/^\d+$/.test(val)) {
        s.w.error(ERR.notInteger);
        return null;
      }
      f.maxAgeSecs = Number(val);
    } else {
      syntaxError(s);
      return null;
    }
  }
  return f;
}

function matchesKillFilter(c: Session, s: Session, f: KillFilter, now: number): boolean {
  if (f.skipMe && c === s) return false;
  if (f.id !== undefined && c.id !== f.id) return false;
  if (f.type !== undefined && typeOf(c) !== f.type) return false;
  if (f.addr !== undefined && c.addr !== f.addr) return false;
  if (f.laddr !== undefined && c.laddr !== f.laddr) return false;
  if (f.maxAgeSecs !== undefined && (now - c.createdAt) / 1000 < f.maxAgeSecs) return false;
  return true;
}

/** Closes a connection; the caller's own is closed after its reply is sent. */
function killClient(s: Session, c: Session): void {
  // The master link drops and reconnects from the cron, asking for a partial resync.
  if (s.server.replication.isMasterClient(c)) s.server.replication.link?.kill();
  else if (c === s) s.closing = true;
  else c.close();
}

function clientKillCommand(s: Session, args: string[]): void {
  // Old form: CLIENT KILL ip:port
  if (args.length === 3) {
    for (const c of allClients(s)) {
      if (c.addr === args[2]) {
        s.w.ok();
        killClient(s, c);
        return;
      }
    }
    return s.w.error('ERR No such client');
  }
  const filter = parseKillFilter(s, args);
  if (!filter) return;
  const now = Date.now();
  const victims = allClients(s).filter((c) => matchesKillFilter(c, s, filter, now));
  s.w.integer(victims.length);
  for (const c of victims) killClient(s, c);
}

function clientPauseCommand(s: Session, args: string[]): void {
  if (args.length > 4) return subcommandSyntaxError(s, args);
  const text = args[2]!;
  const ms = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(ms)) return s.w.error('ERR timeout is not an integer or out of range');
  if (ms < 0) return s.w.error('ERR timeout is negative');
  let mode: 'write' | 'all' = 'all';
  if (args.length === 4) {
    if (is(args[3], 'write')) mode = 'write';
    else if (!is(args[3], 'all')) return s.w.error('ERR CLIENT PAUSE mode must be WRITE or ALL');
  }
  s.server.pause.pause(ms, mode);
  s.w.ok();
}

function clientUnpauseCommand(s: Session): void {
  s.w.ok();
  // Postponed commands run after our reply is queued, like Redis resuming them in the next loop.
  setImmediate(() => s.server.pause.unpause());
}

function clientNoEvictCommand(s: Session, args: string[]): void {
  if (is(args[2], 'on')) s.noEvict = true;
  else if (is(args[2], 'off')) s.noEvict = false;
  else return syntaxError(s);
  s.w.ok();
}

// Their replies are pushes (subscription confirmations), which Redis sends whatever CLIENT REPLY says.
const PUSH_REPLY_COMMANDS = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe']);

/**
 * True when a command's reply is sent although CLIENT REPLY OFF/SKIP silences the client:
 * subscription confirmations (pushes), and the +OK of CLIENT REPLY ON, which ends a pending SKIP
 * before replying (Redis clears CLIENT_REPLY_SKIP in the command itself).
 */
export function keepsSilencedReply(spec: CommandSpec, args: readonly string[]): boolean {
  if (spec.name === 'client|reply') return is(args[2], 'on');
  return PUSH_REPLY_COMMANDS.has(spec.name);
}

/** CLIENT REPLY: the dispatcher drops replies by s.replyMode (OFF, and SKIP for one command). */
function clientReplyCommand(s: Session, args: string[]): void {
  if (is(args[2], 'on')) {
    s.replyMode = 'on';
    s.w.ok();
  } else if (is(args[2], 'off')) s.replyMode = 'off';
  else if (is(args[2], 'skip')) s.replyMode = 'skip';
  else syntaxError(s);
}

/** Redis 7.0's reply when a CLIENT subcommand gets an argument count it has no form for. */
function subcommandSyntaxError(s: Session, args: string[]): void {
  s.w.error(`ERR unknown subcommand or wrong number of arguments for '${args[1]!.slice(0, 128)}'. Try CLIENT HELP.`);
}

const UNBLOCKED_ERROR = 'UNBLOCKED client unblocked via CLIENT UNBLOCK';

function clientUnblockCommand(s: Session, args: string[]): void {
  if (!/^-?\d+$/.test(args[2]!)) return s.w.error(ERR.notInteger);
  let asError = false;
  if (args.length === 4) {
    if (is(args[3], 'error')) asError = true;
    else if (!is(args[3], 'timeout')) return s.w.error('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
  } else if (args.length > 4) {
    return subcommandSyntaxError(s, args);
  }
  const target = findClient(s, Number(args[2]));
  const state = target?.blocked;
  if (!target || !state) return s.w.integer(0);
  s.server.blocking.unblock(target);
  if (asError) target.w.error(UNBLOCKED_ERROR);
  else state.onTimeout();
  target.flush();
  // The unblocked client may have pipelined more commands meanwhile.
  setImmediate(() => target.processInput());
  s.w.integer(1);
}

const CLIENT_HELP = [
  'CACHING (YES|NO)', '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR', '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME', '    Return the name of the current connection.',
  'ID', '    Return the ID of the current connection.',
  'INFO', '    Return information about the current client connection.',
  'KILL <ip:port>', '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]', '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)', '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)', '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)', '      Kill connections by type.',
  '    * USER <username>', '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)', '      Skip killing current connection (default: yes).',
  'LIST [options ...]', '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)', '      Return clients of specified type.',
  'UNPAUSE', '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]', '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)', '    Control the replies sent to the current connection.',
  'SETNAME <name>', '    Assign the name <name> to the current connection.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]', '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]', '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO', '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)', '    Protect current client connection from eviction.',
];

function clientHelpCommand(s: Session): void {
  const all = ['CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', ...CLIENT_HELP, 'HELP', '    Prints this help.'];
  s.w.array(all.length);
  for (const l of all) s.w.simple(l);
}

export const clientHandlers: HandlerMap = {
  'client|id': clientIdCommand,
  'client|setname': clientSetnameCommand,
  'client|getname': clientGetnameCommand,
  'client|setinfo': clientSetinfoCommand,
  'client|list': clientListCommand,
  'client|info': clientInfoCommand,
  'client|kill': clientKillCommand,
  'client|pause': clientPauseCommand,
  'client|unpause': clientUnpauseCommand,
  'client|no-evict': clientNoEvictCommand,
  'client|reply': clientReplyCommand,
  'client|unblock': clientUnblockCommand,
  'client|help': clientHelpCommand,
};
