// Commands the proxy answers itself: connection state (PING, ECHO, AUTH, HELLO, SELECT 0, QUIT,
// RESET, CLIENT …), TIME and COMMAND. Returns the reply frame.
import type { CommandSpec } from '../common/commands/spec.js';
import { COMMAND_REPLIES } from '../common/commands/docs.js';
import { ERR } from '../common/errors.js';
import { sameSecret } from '../common/same-secret.js';
import { ReplyWriter } from '../common/resp/reply-writer.js';
import { setAdmin } from './admin-commands.js';
import { errorFrame } from './merge.js';
import type { ProxySession } from './session.js';

export const PROXY_VERSION = '0.1.0';

export function answerLocally(s: ProxySession, spec: CommandSpec, args: string[]): Buffer {
  const w = new ReplyWriter();
  w.resp = s.resp;
  const handler = LOCAL[spec.name];
  if (!handler) return errorFrame(`ERR '${spec.name.replace('|', ' ')}' is not supported through the proxy`);
  handler(s, args, w);
  return w.take();
}

type Local = (s: ProxySession, args: string[], w: ReplyWriter) => void;

/**
 * AUTH [user] password and HELLO … AUTH user password: the admin-password (user "default" or
 * "admin") makes an admin session, requirepass an ordinary one. Null on success, else the error.
 */
function authenticate(s: ProxySession, user: string, pass: string): string | null {
  const { requirepass, adminPassword } = s.proxy.config;
  const admin = adminPassword !== '' && (user === 'admin' || user === 'default') && sameSecret(pass, adminPassword);
  if (!admin && (user !== 'default' || !sameSecret(pass, requirepass))) return ERR.wrongPass;
  s.authenticated = true;
  s.decoder.unauthenticated = false;
  // AUTH again as someone else switches user, as in Redis: an admin re-authenticating with
  // requirepass is no longer an admin.
  setAdmin(s, admin);
  return null;
}

/**
 * True for a request that is really an HTTP request (`POST …` or a `Host:` header line): Redis's
 * cross-protocol scripting guard. Checks one short string; no allocation for ordinary commands.
 */
export function isCrossProtocol(args: readonly string[]): boolean {
  const name = args[0]!;
  if (name.length === 4) return name.toLowerCase() === 'post';
  return name.length === 5 && name.toLowerCase() === 'host:';
}

const LOCAL: Record<string, Local> = {
  ping(s, args, w) {
    if (args.length > 2) return w.error("ERR wrong number of arguments for 'ping' command");
    if (s.resp === 2 && s.pubsub?.active) {
      w.array(2);
      w.bulk('pong');
      w.bulk(args[1] ?? '');
      return;
    }
    if (args.length === 2) w.bulk(args[1]!);
    else w.simple('PONG');
  },
  echo(_s, args, w) {
    w.bulk(args[1]!);
  },
  quit(s, _args, w) {
    w.ok();
    s.socket.end();
  },
  reset(s, _args, w) {
    s.resetState();
    setAdmin(s, false);
    w.resp = 2;
    w.simple('RESET');
  },
  auth(s, args, w) {
    if (args.length > 3) return w.error(ERR.syntax);
    const [user, pass] = args.length === 3 ? [args[1]!, args[2]!] : ['default', args[1]!];
    if (args.length === 2 && s.proxy.config.requirepass === '' && s.proxy.config.adminPassword === '') {
      return w.error('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
    }
    const err = authenticate(s, user, pass);
    if (err !== null) return w.error(err);
    w.ok();
  },
  hello(s, args, w) {
    let proto = s.resp as number;
    let i = 1;
    if (args.length >= 2) {
      if (!/^-?\d+$/.test(args[1]!)) return w.error('ERR Protocol version is not an integer or out of range');
      proto = Number(args[1]);
      if (proto < 2 || proto > 3) return w.error('NOPROTO unsupported protocol version');
      i = 2;
    }
    // Redis's order: every option read, then AUTH, then the NOAUTH check, then SETNAME's checks.
    let auth: [string, string] | null = null;
    let name: string | null = null;
    for (; i < args.length; i++) {
      const opt = args[i]!.toLowerCase();
      if (opt === 'auth' && i + 2 < args.length) {
        auth = [args[i + 1]!, args[i + 2]!];
        i += 2;
      } else if (opt === 'setname' && i + 1 < args.length) {
        name = args[++i]!;
      } else return w.error(`ERR Syntax error in HELLO option '${args[i]}'`);
    }
    if (auth !== null) {
      const err = authenticate(s, auth[0], auth[1]);
      if (err !== null) return w.error(err);
    }
    if (!s.authenticated) return w.error('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
    if (name !== null) {
      if (/[^\x21-\x7e]/.test(name)) return w.error('ERR Client names cannot contain spaces, newlines or special characters.');
      s.name = name;
    }
    s.resp = proto as 2 | 3;
    w.resp = s.resp;
    w.map(7);
    w.bulk('server');
    w.bulk('redis');
    w.bulk('version');
    w.bulk('7.0.15');
    w.bulk('proto');
    w.integer(proto);
    w.bulk('id');
    w.integer(s.id);
    w.bulk('mode');
    w.bulk('standalone');
    w.bulk('role');
    w.bulk('master');
    w.bulk('modules');
    w.array(0);
  },
  select(_s, args, w) {
    if (!/^-?\d+$/.test(args[1]!)) return w.error(ERR.notInteger);
    if (args[1] !== '0') return w.error('ERR SELECT is not allowed in cluster mode');
    w.ok();
  },
  time(_s, _args, w) {
    const now = Date.now();
    w.array(2);
    w.bulk(String(Math.floor(now / 1000)));
    w.bulk(String((now % 1000) * 1000));
  },
  'client|id'(s, _args, w) {
    w.integer(s.id);
  },
  'client|setname'(s, args, w) {
    if (/[^\x21-\x7e]/.test(args[2]!)) return w.error('ERR Client names cannot contain spaces, newlines or special characters.');
    s.name = args[2]!;
    w.ok();
  },
  'client|getname'(s, _args, w) {
    if (s.name === '') w.null();
    else w.bulk(s.name);
  },
  'client|setinfo'(s, args, w) {
    const attr = args[2]!.toLowerCase();
    if (attr === 'lib-name') s.libName = args[3]!;
    else if (attr === 'lib-ver') s.libVer = args[3]!;
    else return w.error(`ERR Unrecognized option '${args[2]}'`);
    w.ok();
  },
  'client|info'(s, _args, w) {
    w.verbatim(`id=${s.id} addr=${s.addr} name=${s.name} age=${Math.floor((Date.now() - s.createdAt) / 1000)} db=0 resp=${s.resp} lib-name=${s.libName} lib-ver=${s.libVer}\n`);
  },
  /** CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id …], with Redis 7.0's checks and errors. */
  'client|list'(s, args, w) {
    let sessions = s.proxy.sessionList();
    if (args.length === 4 && args[2]!.toLowerCase() === 'type') {
      const type = args[3]!.toLowerCase();
      if (!['normal', 'master', 'slave', 'replica', 'pubsub'].includes(type)) return w.error(`ERR Unknown client type '${args[3]}'`);
      // A proxy's clients are normal or, while subscribed, pubsub; never masters or replicas.
      sessions = sessions.filter((x) => (x.pubsub?.active ? 'pubsub' : 'normal') === type);
    } else if (args.length > 3 && args[2]!.toLowerCase() === 'id') {
      const ids: number[] = [];
      for (const a of args.slice(3)) {
        if (!/^-?\d+$/.test(a) || !Number.isSafeInteger(Number(a))) return w.error('ERR Invalid client ID');
        ids.push(Number(a));
      }
      const byId = new Map(sessions.map((x) => [x.id, x]));
      sessions = ids.flatMap((id) => byId.get(id) ?? []);
    } else if (args.length !== 2) {
      return w.error(ERR.syntax);
    }
    const lines = sessions.map((x) => `id=${x.id} addr=${x.addr} name=${x.name} age=${Math.floor((Date.now() - x.createdAt) / 1000)} db=0 resp=${x.resp} lib-name=${x.libName} lib-ver=${x.libVer}\n`);
    w.verbatim(lines.join(''));
  },
  // COMMAND answers from the same table and code as the nodes.
  ...Object.fromEntries(Object.entries(COMMAND_REPLIES).map(([name, reply]) => [name, (_s: ProxySession, args: string[], w: ReplyWriter) => reply(w, args)])),
};
