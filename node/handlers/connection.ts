// Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT.
import { ERR } from '../../common/errors.js';
import { sameSecret } from '../../common/same-secret.js';
import { aclLogOf } from '../acl-log.js';
import { clientLine } from './client.js';
import { VERSION } from '../version.js';
import type { Session } from '../session.js';
import { type HandlerMap, is } from './handler.js';

function pingCommand(s: Session, args: string[]): void {
  if (args.length > 2) return s.w.error("ERR wrong number of arguments for 'ping' command");
  // A RESP2 subscriber gets PING's reply as a pub/sub style array.
  if (s.inPubSubContext) {
    s.w.array(2);
    s.w.bulk('pong');
    s.w.bulk(args[1] ?? '');
    return;
  }
  if (args.length === 2) s.w.bulk(args[1]!);
  else s.w.simple('PONG');
}

function quitCommand(s: Session): void {
  s.w.ok();
  s.closing = true;
}

function resetCommand(s: Session): void {
  s.resetState();
  s.w.simple('RESET');
}

/** Checks a password (only the "default" user exists); replies and logs (ACL LOG) on failure. */
function authenticate(s: Session, user: string, password: string, command: string): boolean {
  const required = s.server.config.get('requirepass');
  if (user === 'default' && required !== '' && sameSecret(password, required)) {
    s.authenticated = true;
    s.decoder.unauthenticated = false;
    return true;
  }
  if (user === 'default' && required === '' ) {
    // With no password configured the default user accepts any password (nopass), like Redis.
    s.authenticated = true;
    return true;
  }
  aclLogOf(s.server).add({
    reason: 'auth',
    context: s.multi !== null ? 'multi' : 'toplevel',
    object: command,
    username: user,
    clientInfo: clientLine(s, s, command.toLowerCase(), []),
  });
  s.w.error(ERR.wrongPass);
  return false;
}

function authCommand(s: Session, args: string[]): void {
  if (args.length > 3) return s.w.error(ERR.syntax);
  if (args.length === 2 && s.server.config.get('requirepass') === '') {
    return s.w.error('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
  }
  const [user, pass] = args.length === 3 ? [args[1]!, args[2]!] : ['default', args[1]!];
  if (authenticate(s, user, pass, args[0]!)) s.w.ok();
}

/** HELLO [protover [AUTH user pass] [SETNAME name]] */
function helloCommand(s: Session, args: string[]): void {
  let proto = s.w.resp as number;
  let i = 1;
  if (args.length >= 2) {
    const v = Number(args[1]);
    if (!Number.isInteger(v) || !/^-?\d+$/.test(args[1]!)) return s.w.error('ERR Protocol version is not an integer or out of range');
    if (v < 2 || v > 3) return s.w.error('NOPROTO unsupported protocol version');
    proto = v;
    i = 2;
  }
  let name: string | null = null;
  for (; i < args.length; i++) {
    const more = args.length - i - 1;
    if (is(args[i], 'auth') && more >= 2) {
      if (!authenticate(s, args[i + 1]!, args[i + 2]!, args[0]!)) return;
      i += 2;
    } else if (is(args[i], 'setname') && more >= 1) {
      name = args[i + 1]!;
      if (!validClientName(name)) return s.w.error('ERR Client names cannot contain spaces, newlines or special characters.');
      i += 1;
    } else {
      return s.w.error(`ERR Syntax error in HELLO option '${args[i]}'`);
    }
  }
  if (!s.authenticated) return s.w.error('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
  if (name !== null) s.name = name;
  s.w.resp = proto as 2 | 3;
  s.w.map(7);
  s.w.bulk('server');
  s.w.bulk('redis');
  s.w.bulk('version');
  s.w.bulk(VERSION);
  s.w.bulk('proto');
  s.w.integer(proto);
  s.w.bulk('id');
  s.w.integer(s.id);
  s.w.bulk('mode');
  s.w.bulk('standalone');
  s.w.bulk('role');
  s.w.bulk(s.server.replication.role === 'master' ? 'master' : 'replica');
  s.w.bulk('modules');
  s.w.array(0);
}

export function validClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

function selectCommand(s: Session, args: string[]): void {
  if (!/^-?\d+$/.test(args[1]!)) return s.w.error(ERR.notInteger);
  const index = Number(args[1]);
  const db = s.server.dbs[index];
  if (index < 0 || db === undefined) return s.w.error(ERR.dbIndexOutOfRange);
  s.db = db;
  s.w.ok();
}

function echoCommand(s: Session, args: string[]): void {
  s.w.bulk(args[1]!);
}

export const connectionHandlers: HandlerMap = {
  ping: pingCommand,
  echo: echoCommand,
  quit: quitCommand,
  reset: resetCommand,
  auth: authCommand,
  hello: helloCommand,
  select: selectCommand,
};
