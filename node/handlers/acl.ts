// ACL, for the one user a node has: "default", with requirepass as its password (or nopass) and
// every command, key and channel. What reads users, categories, passwords and the log answers as
// Redis 7.0 does for that user; what would create, change or load users is refused, since the
// node keeps no other users (docs/compatibility.md).
import { createHash, randomBytes } from 'node:crypto';
import { CATEGORY_ORDER, filterCommandNames } from '../../common/commands/docs.js';
import { arityOk, lookupCommand, lookupSubcommand } from '../../common/commands/table.js';
import { aclLogOf } from '../acl-log.js';
import type { Session } from '../session.js';
import { type HandlerMap, helpReply, intArg } from './handler.js';

const USER = 'default';
const NO_USERS_ERR = "ERR this server has only the 'default' user (its password is requirepass): ACL SETUSER is not supported";
const NO_ACL_FILE =
  'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.';

/** The default user's password as ACL shows it: the SHA-256 of requirepass, none for nopass. */
function passwordHash(s: Session): string | null {
  const pass = s.server.config.get('requirepass');
  return pass === '' ? null : createHash('sha256').update(pass, 'latin1').digest('hex');
}

function whoamiCommand(s: Session): void {
  s.w.bulk(USER);
}

function usersCommand(s: Session): void {
  s.w.array(1);
  s.w.bulk(USER);
}

function listCommand(s: Session): void {
  const hash = passwordHash(s);
  s.w.array(1);
  s.w.bulk(`user ${USER} on ${hash === null ? 'nopass' : `#${hash}`} ~* &* +@all`);
}

function getuserCommand(s: Session, args: string[]): void {
  if (args[2] !== USER) return s.w.null();
  const hash = passwordHash(s);
  const w = s.w;
  w.map(6);
  w.bulk('flags');
  w.array(hash === null ? 2 : 1);
  w.bulk('on');
  if (hash === null) w.bulk('nopass');
  w.bulk('passwords');
  w.array(hash === null ? 0 : 1);
  if (hash !== null) w.bulk(hash);
  w.bulk('commands');
  w.bulk('+@all');
  w.bulk('keys');
  w.bulk('~*');
  w.bulk('channels');
  w.bulk('&*');
  w.bulk('selectors');
  w.array(0);
}

function catCommand(s: Session, args: string[]): void {
  if (args.length > 3) return s.w.error(`ERR unknown subcommand or wrong number of arguments for '${args[1]}'. Try ACL HELP.`);
  if (args.length === 2) {
    s.w.array(CATEGORY_ORDER.length);
    for (const c of CATEGORY_ORDER) s.w.bulk(c);
    return;
  }
  const category = args[2]!.toLowerCase();
  if (!(CATEGORY_ORDER as readonly string[]).includes(category)) return s.w.error(`ERR Unknown category '${args[2]}'`);
  s.w.bulkArray(filterCommandNames('aclcat', category));
}

function genpassCommand(s: Session, args: string[]): void {
  let bits = 256;
  if (args.length > 2) {
    const n = intArg(s, args[2]!);
    if (n === null) return;
    if (n <= 0 || n > 4096) return s.w.error('ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096');
    bits = n;
  }
  const chars = Math.ceil(bits / 4);
  s.w.bulk(randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars));
}

function logCommand(s: Session, args: string[]): void {
  const log = aclLogOf(s.server);
  if (args.length > 3) return s.w.error(`ERR unknown subcommand or wrong number of arguments for '${args[1]}'. Try ACL HELP.`);
  let count = Infinity;
  if (args.length === 3) {
    if (args[2]!.toLowerCase() === 'reset') {
      log.reset();
      return s.w.ok();
    }
    const n = intArg(s, args[2]!);
    if (n === null) return;
    count = Math.max(0, n);
  }
  const now = Date.now();
  const shown = log.entries.slice(0, Math.min(count, log.entries.length));
  const w = s.w;
  w.array(shown.length);
  for (const e of shown) {
    w.map(7);
    w.bulk('count');
    w.integer(e.count);
    w.bulk('reason');
    w.bulk(e.reason);
    w.bulk('context');
    w.bulk(e.context);
    w.bulk('object');
    w.bulk(e.object);
    w.bulk('username');
    w.bulk(e.username);
    w.bulk('age-seconds');
    w.double((now - e.at) / 1000);
    w.bulk('client-info');
    w.bulk(e.clientInfo);
  }
}

/** ACL DRYRUN user command [arg …]: the default user may run every command there is. */
function dryrunCommand(s: Session, args: string[]): void {
  if (args[2] !== USER) return s.w.error(`ERR User '${args[2]}' not found`);
  const top = lookupCommand(args[3]!);
  const spec = top?.subcommands !== undefined && args.length > 4 ? lookupSubcommand(top, args[4]!) : top;
  if (spec === undefined) return s.w.error(`ERR Command '${args[3]}' not found`);
  if (!arityOk(spec, args.length - 3)) return s.w.error(`ERR wrong number of arguments for '${spec.name}' command`);
  s.w.ok();
}

function deluserCommand(s: Session, args: string[]): void {
  if (args.slice(2).includes(USER)) return s.w.error("ERR The 'default' user cannot be removed");
  s.w.integer(0); // no other user exists to delete
}

const ACL_HELP = [
  'CAT [<category>]', '    List all commands that belong to <category>, or all command categories', '    when no category is specified.',
  'DELUSER <username> [<username> ...]', '    Delete a list of users.',
  'DRYRUN <username> <command> [<arg> ...]', '    Returns whether the user can execute the given command without executing the command.',
  'GETUSER <username>', "    Get the user's details.",
  'GENPASS [<bits>]', '    Generate a secure 256-bit user password. The optional `bits` argument can', '    be used to specify a different size.',
  'LIST', '    Show users details in config file format.',
  'LOAD', '    Reload users from the ACL file.',
  'LOG [<count> | RESET]', '    Show the ACL log entries.',
  'SAVE', '    Save the current config to the ACL file.',
  'SETUSER <username> <attribute> [<attribute> ...]', '    Create or modify a user with the specified attributes.',
  'USERS', '    List all the registered usernames.',
  'WHOAMI', '    Return the current connection username.',
];

export const aclHandlers: HandlerMap = {
  'acl|whoami': whoamiCommand,
  'acl|users': usersCommand,
  'acl|list': listCommand,
  'acl|getuser': getuserCommand,
  'acl|cat': catCommand,
  'acl|genpass': genpassCommand,
  'acl|log': logCommand,
  'acl|dryrun': dryrunCommand,
  'acl|deluser': deluserCommand,
  'acl|setuser': (s) => s.w.error(NO_USERS_ERR),
  'acl|load': (s) => s.w.error(NO_ACL_FILE),
  'acl|save': (s) => s.w.error(NO_ACL_FILE),
  'acl|help': (s) => helpReply(s, 'ACL', ACL_HELP),
};
