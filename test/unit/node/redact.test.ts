// Secrets redacted from MONITOR and SLOWLOG like Redis 7 (checked side by side with redis-server
// 7.0 in test/integration/node/hardening-security.test.ts), and also in malformed commands.
import { describe, expect, it } from 'vitest';
import { REDACTED as R, redactedArgs } from '../../../node/redact.js';

describe('redactedArgs', () => {
  it.each([
    ['auth', ['AUTH', 'pw'], ['AUTH', R]],
    ['auth', ['AUTH', 'user', 'pw'], ['AUTH', R, R]],
    ['auth', ['AUTH', 'a', 'b', 'c'], ['AUTH', R, R, R]],
    ['hello', ['HELLO', '3', 'AUTH', 'default', 'pw', 'SETNAME', 'foo'], ['HELLO', '3', 'AUTH', R, R, 'SETNAME', 'foo']],
    ['hello', ['HELLO', '3', 'SETNAME', 'x', 'auth', 'u', 'pw'], ['HELLO', '3', 'SETNAME', 'x', 'auth', R, R]],
    ['hello', ['HELLO', '4', 'AUTH', 'u', 'pw'], ['HELLO', '4', 'AUTH', R, R]],
    ['hello', ['HELLO', '3', 'AUTH', 'u'], ['HELLO', '3', 'AUTH', R]],
    ['hello', ['HELLO', '3', 'SETNAME', 'auth', 'AUTH', 'u', 'pw'], ['HELLO', '3', 'SETNAME', 'auth', 'AUTH', R, R]],
    ['hello', ['HELLO', 'AUTH', 'u', 'pw'], ['HELLO', 'AUTH', R, R]],
    ['hello', ['HELLO', '3', 'AUTH', 'auth', 'pw', 'SETNAME', 'n'], ['HELLO', '3', 'AUTH', R, R, 'SETNAME', 'n']],
    ['migrate', ['MIGRATE', 'h', '1', 'k', '0', '10', 'AUTH', 'pw'], ['MIGRATE', 'h', '1', 'k', '0', '10', 'AUTH', R]],
    ['migrate', ['MIGRATE', 'h', '1', '', '0', '10', 'COPY', 'AUTH2', 'u', 'pw', 'KEYS', 'auth', 'b'], ['MIGRATE', 'h', '1', '', '0', '10', 'COPY', 'AUTH2', R, R, 'KEYS', 'auth', 'b']],
    ['config|set', ['CONFIG', 'SET', 'maxmemory', '0', 'MasterAuth', 'pw'], ['CONFIG', 'SET', 'maxmemory', '0', 'MasterAuth', R]],
    ['config|set', ['CONFIG', 'SET', 'requirepass', 'pw', 'extra'], ['CONFIG', 'SET', 'requirepass', R, 'extra']],
  ])('%s %j', (command, args, shown) => {
    expect(redactedArgs(command, args)).toEqual(shown);
    expect(args).not.toContain(R); // the handler's own arguments are never touched
  });

  it('returns the very same array when nothing is secret (no allocation on the hot path)', () => {
    for (const [command, args] of [['get', ['GET', 'auth']], ['auth', ['AUTH']], ['hello', ['HELLO', '3']], ['config|set', ['CONFIG', 'SET', 'hz', '10']]] as const) {
      const a = [...args];
      expect(redactedArgs(command, a)).toBe(a);
    }
  });
});
