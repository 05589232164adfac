// ACL for the node's one user ("default", requirepass its password), against redis-server: the
// reads (WHOAMI, USERS, LIST, GETUSER, CAT, DRYRUN, LOG of failed AUTHs) answer the same, with and
// without a password; what would make other users is refused by us (Redis would make them).
import { describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { plain, usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';

/** ACL LOG entries without what differs by run (age, the client's own line). */
function logShape(r: Reply): unknown {
  return (plain(r) as unknown[][]).map((e) => e.filter((_, i) => i < 10));
}

describe('ACL matches redis-server (no password)', () => {
  const p = usePair();

  it('answers the reads for the default user alone', async () => {
    await p.same(
      ['ACL', 'WHOAMI'], ['ACL', 'USERS'], ['ACL', 'LIST'], ['ACL', 'GETUSER', 'default'], ['ACL', 'GETUSER', 'nobody'],
      ['ACL', 'CAT'], ['ACL', 'CAT', 'nosuch'], ['ACL', 'CAT', 'a', 'b'], ['ACL', 'WHOAMI', 'x'], ['ACL', 'nosuch'],
      ['ACL', 'GENPASS', 'x'], ['ACL', 'GENPASS', '0'], ['ACL', 'GENPASS', '4097'],
      ['ACL', 'DRYRUN', 'default', 'get', 'a'], ['ACL', 'DRYRUN', 'default', 'get'], ['ACL', 'DRYRUN', 'nobody', 'get', 'a'],
      ['ACL', 'DRYRUN', 'default', 'nosuchcmd'], ['ACL', 'DRYRUN', 'default', 'config', 'nosuch'], ['ACL', 'DRYRUN', 'default', 'config', 'get', 'x'],
      ['ACL', 'DELUSER', 'default'], ['ACL', 'DELUSER', 'bob', 'alice'], ['ACL', 'LOAD'], ['ACL', 'SAVE'],
      ['ACL', 'LOG', 'x'], ['ACL', 'LOG', 'reset', 'x'], ['ACL', 'LOG', 'RESET'], ['ACL', 'HELP'],
    );
    for (const bits of [undefined, '1', '5', '4096']) {
      const [o, r] = await p.both('ACL', 'GENPASS', ...(bits ? [bits] : []));
      expect(String(o)).toMatch(/^[0-9a-f]+$/);
      expect(String(o).length).toBe(String(r).length);
    }
  });

  it('lists the same commands per category (among the commands both servers have)', async () => {
    const [ourNames, theirNames] = (await p.both('COMMAND', 'LIST')).map((r) => new Set(plain(r) as string[]));
    const categories = plain(await p.redis.call('ACL', 'CAT')) as string[];
    for (const cat of categories) {
      const [o, r] = (await p.both('ACL', 'CAT', cat)).map((x) => plain(x) as string[]);
      const both = (names: string[]) => names.filter((n) => ourNames!.has(n) && theirNames!.has(n)).sort();
      expect(both(o!), cat).toEqual(both(r!));
      expect(both(o!).length, cat).toBeGreaterThan(0);
    }
  });

  it('refuses SETUSER: the node has no users but default', async () => {
    expect(plain(await p.ours.call('ACL', 'SETUSER', 'bob', 'on'))).toEqual({ error: expect.stringMatching(/^ERR this server has only the 'default' user/) });
    await p.same(['ACL', 'USERS']);
  });
});

describe('ACL matches redis-server (requirepass)', () => {
  const p = usePair(['--requirepass', 'pw']);

  it('shows the password as its SHA-256 and logs failed AUTH and HELLO AUTH, grouped as Redis groups them', async () => {
    await p.same(['AUTH', 'pw'], ['ACL', 'LOG', 'RESET'], ['ACL', 'LIST'], ['ACL', 'GETUSER', 'default']);
    // Failures on fresh connections (a failed AUTH keeps the connection authenticated as before).
    for (const attempt of [['AUTH', 'wrong'], ['AUTH', 'wrong'], ['auth', 'someone', 'wrong'], ['HELLO', '3', 'AUTH', 'default', 'wrong']]) {
      for (const port of [p.node.port, p.redisServer.port]) {
        const c = await RawClient.connect(port);
        try {
          expect(plain(await c.call(...attempt))).toEqual({ error: 'WRONGPASS invalid username-password pair or user is disabled.' });
        } finally {
          c.close();
        }
      }
    }
    const [o, r] = await p.both('ACL', 'LOG');
    expect(logShape(o)).toEqual(logShape(r));
    expect(logShape(o)).toHaveLength(3);
    const [o1, r1] = await p.both('ACL', 'LOG', '1');
    expect(logShape(o1)).toEqual(logShape(r1));
    expect(String(plain(o)).includes('cmd=auth')).toBe(true);
    await p.same(['CONFIG', 'SET', 'acllog-max-len', '1'], ['CONFIG', 'GET', 'acllog-max-len']);
    // Lowered: nothing dropped until the next entry comes (as Redis).
    const [o2, r2] = await p.both('ACL', 'LOG');
    expect(logShape(o2)).toEqual(logShape(r2));
    expect(logShape(o2)).toHaveLength(3);
    for (const port of [p.node.port, p.redisServer.port]) {
      const c = await RawClient.connect(port);
      await c.call('AUTH', 'newuser', 'x'); // a new entry: the log is cut to acllog-max-len
      c.close();
    }
    const [o3, r3] = await p.both('ACL', 'LOG');
    expect(logShape(o3)).toEqual(logShape(r3));
    expect(logShape(o3)).toHaveLength(1);
    await p.same(['CONFIG', 'SET', 'acllog-max-len', '-1'], ['CONFIG', 'SET', 'acllog-max-len', '128'], ['ACL', 'LOG', 'RESET'], ['ACL', 'LOG']);
  });
});
