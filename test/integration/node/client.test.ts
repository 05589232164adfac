// CLIENT subcommands: replies compared with redis-server, and the connection controls (KILL,
// PAUSE, REPLY, UNBLOCK) exercised on real connections to our node.
import { describe, expect, it } from 'vitest';
import { SimpleString } from '../../../common/resp/reply-decoder.js';
import { plain, usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';

/** Field names of a CLIENT LIST/INFO line. */
function fieldNames(line: string): string[] {
  return line.trim().replace(/^txt:/, '').split(' ').map((kv) => kv.slice(0, kv.indexOf('=')));
}

describe('CLIENT matches redis-server', () => {
  const p = usePair();

  it('ID, SETNAME, GETNAME', async () => {
    const [oid, rid] = await p.both('CLIENT', 'ID');
    expect([typeof oid, typeof rid]).toEqual(['number', 'number']);
    await p.same(
      ['CLIENT', 'GETNAME'], ['CLIENT', 'SETNAME', 'worker-1'], ['CLIENT', 'GETNAME'], ['CLIENT', 'SETNAME', 'a b'],
      ['CLIENT', 'SETNAME', 'bad\nname'], ['CLIENT', 'GETNAME'], ['CLIENT', 'SETNAME', ''], ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME'], ['CLIENT', 'GETNAME', 'x'],
    );
  });

  it('argument errors of every subcommand', async () => {
    await p.same(
      ['CLIENT', 'LIST', 'TYPE', 'foo'], ['CLIENT', 'LIST', 'ID', 'abc'], ['CLIENT', 'LIST', 'ID', '99999'], ['CLIENT', 'LIST', 'foo'],
      ['CLIENT', 'KILL', '1.2.3.4:5'], ['CLIENT', 'KILL', 'ID', '99999'], ['CLIENT', 'KILL', 'ID', 'abc'], ['CLIENT', 'KILL', 'foo', 'bar'],
      ['CLIENT', 'KILL', 'TYPE', 'foo'], ['CLIENT', 'KILL', 'USER', 'nobody'], ['CLIENT', 'KILL', 'SKIPME', 'maybe'],
      ['CLIENT', 'KILL', 'ID', '1', 'SKIPME'], ['CLIENT', 'PAUSE', 'abc'], ['CLIENT', 'PAUSE', '10', 'foo'], ['CLIENT', 'PAUSE', '-1'],
      ['CLIENT', 'UNPAUSE'], ['CLIENT', 'NO-EVICT', 'maybe'], ['CLIENT', 'NO-EVICT', 'on'], ['CLIENT', 'NO-EVICT', 'off'],
      ['CLIENT', 'REPLY', 'maybe'], ['CLIENT', 'UNBLOCK', 'abc'], ['CLIENT', 'UNBLOCK', '99999'], ['CLIENT', 'UNBLOCK', '99999', 'foo'],
      ['CLIENT', 'UNBLOCK', '1', 'TIMEOUT', 'x'], ['CLIENT', 'PAUSE', '10', 'ALL', 'x'], ['CLIENT', 'HELP'], ['CLIENT'], ['CLIENT', 'FOO'],
    );
  });

  it('CLIENT LIST and INFO lines carry Redis 7 fields (plus lib-name, lib-ver)', async () => {
    const [ol, rl] = await p.both('CLIENT', 'LIST');
    expect(fieldNames(String(ol))).toEqual([...fieldNames(String(rl)), 'lib-name', 'lib-ver']);
    const [oi, ri] = await p.both('CLIENT', 'INFO');
    expect(fieldNames(String(oi))).toEqual([...fieldNames(String(ri)), 'lib-name', 'lib-ver']);
    expect(String(oi)).toMatch(/ cmd=client\|info /);
    const [ot, rt] = await p.both('CLIENT', 'LIST', 'TYPE', 'pubsub');
    expect([ot, rt]).toEqual(['', '']);
    const id = await p.ours.call('CLIENT', 'ID');
    expect(String(await p.ours.call('CLIENT', 'LIST', 'ID', String(id), '424242'))).toMatch(new RegExp(`^id=${id} .*\\n$`));
  });

  it('CLIENT SETINFO records the library name and version (Redis 7.2 command)', async () => {
    expect(plain(await p.ours.call('CLIENT', 'SETINFO', 'LIB-NAME', 'ioredis'))).toBe('+OK');
    expect(plain(await p.ours.call('CLIENT', 'SETINFO', 'lib-ver', '6.0.0'))).toBe('+OK');
    expect(plain(await p.ours.call('CLIENT', 'SETINFO', 'lib-name', 'a b'))).toEqual({ error: 'ERR lib-name cannot contain spaces, newlines or special characters.' });
    expect(plain(await p.ours.call('CLIENT', 'SETINFO', 'foo', 'x'))).toEqual({ error: "ERR Unrecognized option 'foo'" });
    expect(String(await p.ours.call('CLIENT', 'INFO'))).toMatch(/ lib-name=ioredis lib-ver=6\.0\.0\n$/);
  });
});

describe('CLIENT controls real connections', () => {
  const p = usePair();

  it('KILL by ID, by address (old form), by TYPE with SKIPME, and MAXAGE', async () => {
    const a = await RawClient.connect(p.node.port);
    const b = await RawClient.connect(p.node.port);
    const c = await RawClient.connect(p.node.port);
    try {
      const aId = await a.call('CLIENT', 'ID');
      expect(await p.ours.call('CLIENT', 'KILL', 'ID', String(aId))).toBe(1);
      await a.waitClosed();
      const bInfo = String(await b.call('CLIENT', 'INFO'));
      const bAddr = /addr=(\S+)/.exec(bInfo)![1]!;
      expect(plain(await p.ours.call('CLIENT', 'KILL', bAddr))).toBe('+OK');
      await b.waitClosed();
      expect(await c.call('CLIENT', 'KILL', 'TYPE', 'normal', 'MAXAGE', '100000')).toBe(0);
      // SKIPME defaults to yes: the caller survives, every other normal client goes.
      expect(await c.call('CLIENT', 'KILL', 'TYPE', 'normal')).toBeGreaterThanOrEqual(1);
      expect(plain(await c.call('PING'))).toBe('+PONG');
      await waitFor(() => p.ours.closed, { what: 'pair client killed' });
      // SKIPME no kills the caller too, after its reply.
      expect(await c.call('CLIENT', 'KILL', 'ID', String(await c.call('CLIENT', 'ID')), 'SKIPME', 'no')).toBe(1);
      await c.waitClosed();
    } finally {
      a.close();
      b.close();
      c.close();
      p.ours = await RawClient.connect(p.node.port);
    }
  });

  it('PAUSE WRITE holds writes (not reads) until UNPAUSE', async () => {
    const admin = await RawClient.connect(p.node.port);
    const writer = await RawClient.connect(p.node.port);
    const reader = await RawClient.connect(p.node.port);
    try {
      await admin.call('DEL', 'paused-key');
      expect(plain(await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE'))).toBe('+OK');
      let settled = false;
      const write = writer.call('SET', 'paused-key', 'v').then((r) => {
        settled = true;
        return r;
      });
      expect(await reader.call('GET', 'paused-key')).toBeNull();
      expect(settled).toBe(false);
      expect(plain(await admin.call('CLIENT', 'UNPAUSE'))).toBe('+OK');
      expect(await write).toEqual(new SimpleString('OK'));
      expect(await reader.call('GET', 'paused-key')).toBe('v');
    } finally {
      admin.close();
      writer.close();
      reader.close();
    }
  });

  it('PAUSE ALL expires by itself', async () => {
    const admin = await RawClient.connect(p.node.port);
    const other = await RawClient.connect(p.node.port);
    try {
      const started = Date.now();
      expect(plain(await admin.call('CLIENT', 'PAUSE', '300', 'ALL'))).toBe('+OK');
      expect(plain(await other.call('PING'))).toBe('+PONG');
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    } finally {
      admin.close();
      other.close();
    }
  });

  it('REPLY OFF and SKIP drop replies', async () => {
    const c = await RawClient.connect(p.node.port);
    try {
      c.write('*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n*3\r\n$3\r\nSET\r\n$2\r\nr1\r\n$1\r\n1\r\n');
      expect(plain(await c.call('CLIENT', 'REPLY', 'ON'))).toBe('+OK');
      expect(await c.call('GET', 'r1')).toBe('1');
      c.write('*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n*3\r\n$3\r\nSET\r\n$2\r\nr2\r\n$1\r\n2\r\n');
      expect(await c.call('GET', 'r2')).toBe('2');
    } finally {
      c.close();
    }
  });

  it('UNBLOCK ends a blocked BLPOP with a timeout or an error', async () => {
    const blocked = await RawClient.connect(p.node.port);
    const admin = await RawClient.connect(p.node.port);
    try {
      const id = String(await blocked.call('CLIENT', 'ID'));
      const first = blocked.call('BLPOP', 'nolist', '0');
      await waitFor(async () => String(await admin.call('INFO', 'clients')).includes('blocked_clients:1'), { what: 'client blocked' });
      expect(await admin.call('CLIENT', 'UNBLOCK', id)).toBe(1);
      expect(await first).toBeNull();
      const second = blocked.call('BLPOP', 'nolist', '0');
      await waitFor(async () => String(await admin.call('INFO', 'clients')).includes('blocked_clients:1'), { what: 'client blocked again' });
      expect(await admin.call('CLIENT', 'UNBLOCK', id, 'ERROR')).toBe(1);
      expect(plain(await second)).toEqual({ error: 'UNBLOCKED client unblocked via CLIENT UNBLOCK' });
      expect(await admin.call('CLIENT', 'UNBLOCK', id)).toBe(0);
    } finally {
      blocked.close();
      admin.close();
    }
  });
});
