// Error reply texts shared by node and proxy: the first word is Redis's error code. Keep the
// words identical to Redis's; clients and tests match on them.

export const ERR = {
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  syntax: 'ERR syntax error',
  overflow: 'ERR increment or decrement would overflow',
  noSuchKey: 'ERR no such key',
  indexOutOfRange: 'ERR index out of range',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  crossSlot: "CROSSSLOT Keys in request don't hash to the same slot",
  readonly: "READONLY You can't write against a read only replica.",
  noReplicas: 'NOREPLICAS Not enough good replicas to write.',
  oom: "OOM command not allowed when used memory > 'maxmemory'.",
  execAbort: 'EXECABORT Transaction discarded because of previous errors.',
  dbIndexOutOfRange: 'ERR DB index is out of range',
  stringTooLong: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  nanOrInf: 'ERR increment would produce NaN or Infinity',
  positiveCount: 'ERR value is out of range, must be positive',
  timeoutNotFloat: 'ERR timeout is not a float or out of range',
  timeoutNegative: 'ERR timeout is negative',
  minMaxNotFloat: 'ERR min or max is not a float',
  minMaxLex: 'ERR min or max not valid string range item',
  numkeysZero: "ERR numkeys should be greater than 0",
  busyKey: 'BUSYKEY Target key name already exists.',
} as const;

export function wrongArity(command: string): string {
  return `ERR wrong number of arguments for '${command}' command`;
}

export function invalidExpire(command: string): string {
  return `ERR invalid expire time in '${command}' command`;
}

/** Redis 7's text: unknown command 'x', with args beginning with: 'a' 'b' (C strings: cut at NUL). */
export function unknownCommand(args: readonly string[]): string {
  const c = (s: string) => (s.includes('\0') ? s.slice(0, s.indexOf('\0')) : s);
  let list = '';
  for (let i = 1; i < args.length && list.length < 128; i++) list += `'${c(args[i]!).slice(0, 128 - list.length)}' `;
  return `ERR unknown command '${c(args[0]!).slice(0, 128)}', with args beginning with: ${list}`;
}
