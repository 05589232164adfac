// Secrets hidden from MONITOR and SLOWLOG, as Redis 7's redactClientCommandArgument does:
// AUTH's arguments, HELLO's AUTH username and password, MIGRATE's AUTH / AUTH2 credentials and
// CONFIG SET values of sensitive directives (requirepass, masterauth) show as "(redacted)".
// Redis redacts while parsing, so a malformed command (HELLO 4 AUTH u p, CONFIG SET requirepass
// x extra, AUTH a b c) is logged in clear; we redact by position whatever the syntax, because a
// mistyped command still carries a real password.

export const REDACTED = '(redacted)';

const SENSITIVE_CONFIGS = new Set(['requirepass', 'masterauth']);

/**
 * The arguments as MONITOR and SLOWLOG may show them: `args` itself when nothing is secret (the
 * common case, no allocation), else a copy with the secrets replaced.
 */
export function redactedArgs(command: string, args: string[]): string[] {
  switch (command) {
    case 'auth':
      return args.length > 1 ? [args[0]!, ...args.slice(1).map(() => REDACTED)] : args;
    case 'hello':
      return redactHello(args);
    case 'migrate':
      return redactMigrate(args);
    case 'config|set':
      return redactConfigSet(args);
    default:
      return args;
  }
}

/**
 * HELLO [protover [AUTH user pass] [SETNAME name]]: options parsed as Redis parses them (SETNAME
 * takes the next word, so a client named "auth" is not a keyword), but past anything unknown
 * too — a bad protover or option makes Redis stop and log the rest in clear.
 */
function redactHello(args: string[]): string[] {
  let out = args;
  let j = 1;
  while (j < args.length) {
    const opt = args[j]!.toLowerCase();
    if (opt === 'setname') {
      j += 2;
      continue;
    }
    if (opt !== 'auth') {
      j++;
      continue;
    }
    for (let k = j + 1; k <= j + 2 && k < args.length; k++) {
      if (out === args) out = args.slice();
      out[k] = REDACTED;
    }
    j += 3;
  }
  return out;
}

/** MIGRATE host port key db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS k …]. */
function redactMigrate(args: string[]): string[] {
  let out = args;
  for (let j = 6; j < args.length; j++) {
    const opt = args[j]!.toLowerCase();
    if (opt === 'keys') break; // the rest are key names
    const count = opt === 'auth' ? 1 : opt === 'auth2' ? 2 : 0;
    for (let k = j + 1; k <= j + count && k < args.length; k++) {
      if (out === args) out = args.slice();
      out[k] = REDACTED;
    }
    j += count;
  }
  return out;
}

/** CONFIG SET name value …: the value of each sensitive name. */
function redactConfigSet(args: string[]): string[] {
  let out = args;
  for (let i = 2; i + 1 < args.length; i += 2) {
    if (!SENSITIVE_CONFIGS.has(args[i]!.toLowerCase())) continue;
    if (out === args) out = args.slice();
    out[i + 1] = REDACTED;
  }
  return out;
}
