// Key extraction from a command's arguments, driven by the table: first/last/step, or the named
// rule of a movable-keys command. Returns argument indexes so callers can hash bytes or strings.
import type { CommandSpec } from './spec.js';

/**
 * Indexes (into args, args[0] = command name) of the keys of a command, or null when the
 * arguments are malformed for the rule (e.g. a numkeys larger than what follows).
 */
export function keyIndexes(spec: CommandSpec, args: readonly string[]): number[] | null {
  const argc = args.length;
  if (spec.movableKeys) return movableKeyIndexes(spec.movableKeys, args);
  if (spec.firstKey === 0) return [];
  const last = spec.lastKey < 0 ? argc + spec.lastKey : spec.lastKey;
  const out: number[] = [];
  for (let i = spec.firstKey; i <= last && i < argc; i += spec.keyStep) out.push(i);
  return out;
}

function numkeysRange(args: readonly string[], numkeysAt: number, extraFirst: number[]): number[] | null {
  const n = Number(args[numkeysAt]);
  if (!Number.isInteger(n) || n <= 0 || numkeysAt + n >= args.length) return null;
  const out = [...extraFirst];
  for (let i = 1; i <= n; i++) out.push(numkeysAt + i);
  return out;
}

function movableKeyIndexes(rule: NonNullable<CommandSpec['movableKeys']>, args: readonly string[]): number[] | null {
  switch (rule) {
    case 'numkeysAt1':
      return numkeysRange(args, 1, []);
    case 'numkeysAt2':
      return numkeysRange(args, 2, []);
    case 'storeNumkeysAt2':
      return numkeysRange(args, 2, [1]);
    case 'eval':
      return numkeysRange(args, 2, []) ?? (args[2] === '0' ? [] : null);
    case 'sort': {
      // SORT key [BY p] [LIMIT o c] [GET p …] [ASC|DESC] [ALPHA] [STORE dest]: only STORE names a key.
      // Like Redis's sortGetKeys: only the last STORE counts (SORT stores there), and the word after
      // STORE is scanned as an option too.
      let store = -1;
      for (let i = 2; i < args.length; i++) {
        const word = args[i]!.toLowerCase();
        if (word === 'limit') i += 2;
        else if (word === 'by' || word === 'get') i += 1;
        else if (word === 'store' && i + 1 < args.length) store = i + 1;
      }
      return store < 0 ? [1] : [1, store];
    }
    case 'migrate': {
      // MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 u pw] [KEYS k…]:
      // as Redis's migrateGetKeys, a password is never taken for the KEYS keyword.
      for (let i = 6; i < args.length; i++) {
        const word = args[i]!.toLowerCase();
        if (word === 'auth') i++;
        else if (word === 'auth2') i += 2;
        else if (word === 'keys') return Array.from({ length: args.length - i - 1 }, (_, j) => i + 1 + j);
      }
      return args[3] ? [3] : [];
    }
    case 'georadius':
      return georadiusKeys(args, 6);
    case 'georadiusbymember':
      return georadiusKeys(args, 5);
    case 'xread':
      return xreadKeys(args);
  }
}

/** XREAD/XREADGROUP: the first half of what follows STREAMS, options skipped as xreadGetKeys does. */
function xreadKeys(args: readonly string[]): number[] | null {
  let at = -1;
  for (let i = 1; i < args.length; i++) {
    const word = args[i]!.toLowerCase();
    if (word === 'block' || word === 'count') i++;
    else if (word === 'group') i += 2;
    else if (word === 'streams') {
      at = i;
      break;
    } else if (word !== 'noack') break;
  }
  const n = args.length - at - 1;
  if (at < 0 || n === 0 || n % 2 !== 0) return null;
  return Array.from({ length: n / 2 }, (_, j) => at + 1 + j);
}

/** Index of the argument after the first `keyword` at or after `from`, never the last argument (Redis's keyword key spec). */
function keywordKey(args: readonly string[], keyword: string, from: number): number {
  for (let i = from; i < args.length - 1; i++) if (args[i]!.toLowerCase() === keyword) return i + 1;
  return -1;
}

/**
 * GEORADIUS[BYMEMBER]: the source key, then the first STORE and first STOREDIST targets as Redis's
 * key specs find them (options start at `from`), then the target the command really writes (the
 * last STORE/STOREDIST as its parser reads them) when Redis's specs miss it, so that key is routed too.
 */
function georadiusKeys(args: readonly string[], from: number): number[] {
  const out = [1];
  for (const keyword of ['store', 'storedist']) {
    const at = keywordKey(args, keyword, from);
    if (at > 0) out.push(at);
  }
  let written = -1;
  for (let i = from; i < args.length; i++) {
    const word = args[i]!.toLowerCase();
    if ((word === 'store' || word === 'storedist') && i + 1 < args.length) written = ++i;
    else if (word === 'count' && i + 1 < args.length) i++;
  }
  if (written > 0 && !out.includes(written)) out.push(written);
  return out;
}
