// Issue 7, the node's security like Redis 7, side by side with redis-server where it can be:
// protected configs (no SAVE-to-anywhere through CONFIG SET dir/dbfilename), secrets redacted in
// MONITOR, SLOWLOG and logs, and protected mode serving loopback clients whatever `bind` says.
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plain, usePair } from '../../helpers/differential.js';
import { freePort } from '../../helpers/ports.js';
import { infoFields, RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, spawnTracked, startNode, startRedis, stopAll, TESSERA_BIN } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const PASSWORD = 'Sekr1t-pw-7';

describe('protected configs (defaults: enable-protected-configs no)', () => {
  const p = usePair();
  const escaped = `/tmp/tessera-escape-${process.pid}.rdb`;

  afterAll(() => rmSync(escaped, { force: true }));

  it('refuses dir, dbfilename and the immutable file names with Redis 7 errors', async () => {
    await p.same(
      ['CONFIG', 'SET', 'dir', '/tmp'],
      ['CONFIG', 'SET', 'dbfilename', 'x.rdb'],
      ['CONFIG', 'SET', 'dbfilename', `../../../..${escaped}`],
      ['CONFIG', 'SET', 'maxmemory', '0', 'dir', '/tmp'],
      ['CONFIG', 'SET', 'appendfilename', 'a.aof'],
      ['CONFIG', 'SET', 'appenddirname', 'a'],
      ['CONFIG', 'SET', 'enable-protected-configs', 'yes'],
      ['CONFIG', 'GET', 'enable-protected-configs'],
      ['CONFIG', 'GET', 'dbfilename'],
    );
  });

  it('CONFIG SET dbfilename ../../../../tmp/x then SAVE writes nothing outside dir', async () => {
    await p.same(['CONFIG', 'SET', 'dbfilename', `../../../..${escaped}`]);
    expect(plain(await p.ours.call('SET', 'k', 'v'))).toBe('+OK');
    expect(plain(await p.ours.call('SAVE'))).toBe('+OK');
    expect(existsSync(escaped)).toBe(false);
    expect(existsSync(join(p.node.dir, 'dump.rdb'))).toBe(true);
  });
});

describe('protected configs with enable-protected-configs yes', () => {
  const p = usePair(['--enable-protected-configs', 'yes']);
  const dirs: string[] = [];
  const escaped = `/tmp/tessera-escape-yes-${process.pid}.rdb`;

  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    rmSync(escaped, { force: true });
  });

  it('file names still cannot be paths; a missing dir is refused like chdir', async () => {
    await p.same(
      ['CONFIG', 'SET', 'dbfilename', '../x.rdb'],
      ['CONFIG', 'SET', 'dbfilename', 'a\\b.rdb'],
      ['CONFIG', 'SET', 'dbfilename', `../../../..${escaped}`],
      ['CONFIG', 'SET', 'dir', '/nonexistent-tessera-dir'],
      ['CONFIG', 'SET', 'dbfilename', 'ok.rdb'],
      ['CONFIG', 'GET', 'dbfilename'],
    );
  });

  it('a relative dir is taken from the current one, as after a chdir in Redis', async () => {
    for (const [c, server] of [[p.ours, p.node], [p.redis, p.redisServer]] as const) {
      mkdirSync(join(server.dir, 'sub'));
      expect(plain(await c.call('CONFIG', 'SET', 'dir', 'sub'))).toBe('+OK');
      expect(plain(await c.call('CONFIG', 'GET', 'dir'))).toEqual(['dir', join(realpathSync(server.dir), 'sub')]);
      expect(plain(await c.call('CONFIG', 'SET', 'dir', '..'))).toBe('+OK');
      expect(plain(await c.call('CONFIG', 'GET', 'dir'))).toEqual(['dir', realpathSync(server.dir)]);
    }
  });

  it('CONFIG SET dir and dbfilename really move where SAVE writes, and only there', async () => {
    const newDir = mkdtempSync(join(tmpdir(), 'tessera-newdir-'));
    dirs.push(newDir);
    expect(plain(await p.ours.call('CONFIG', 'SET', 'dir', newDir, 'dbfilename', 'moved.rdb'))).toBe('+OK');
    expect(plain(await p.ours.call('CONFIG', 'GET', 'dir'))).toEqual(['dir', resolve(newDir)]);
    expect(plain(await p.ours.call('SET', 'k', 'v'))).toBe('+OK');
    expect(plain(await p.ours.call('SAVE'))).toBe('+OK');
    expect(existsSync(join(newDir, 'moved.rdb'))).toBe(true);
    await p.same(['CONFIG', 'SET', 'dbfilename', `../../../..${escaped}`]);
    expect(plain(await p.ours.call('SAVE'))).toBe('+OK');
    expect(existsSync(escaped)).toBe(false);
  });
});

describe('file names with paths are refused at start-up too', () => {
  it.each([
    [['--dbfilename', '../x.rdb'], "dbfilename can't be a path, just a filename"],
    [['--appendfilename', 'a/b.aof'], "appendfilename can't be a path, just a filename"],
    [['--appendfilename', ''], "appendfilename can't be empty"],
    [['--appenddirname', 'a/b'], "appenddirname can't be a path, just a dirname"],
    [['--enable-protected-configs', 'maybe'], 'argument(s) must be one of the following: no, yes, local'],
  ])('%j', async (args, reason) => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-badconf-'));
    const port = String(await freePort());
    const ours = spawnTracked(process.execPath, [TESSERA_BIN, 'node', '--port', port, '--bind', '127.0.0.1', '--dir', dir, ...args]);
    const redis = spawnTracked('redis-server', ['--port', port, '--bind', '127.0.0.1', '--dir', dir, ...args]);
    try {
      await waitFor(() => ours.proc.exitCode !== null && redis.proc.exitCode !== null, { what: 'both to exit' });
      expect(ours.proc.exitCode).not.toBe(0);
      expect(redis.output()).toContain(reason);
      expect(ours.output()).toContain(reason);
    } finally {
      await ours.kill();
      await redis.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Strips MONITOR's "<time> [<db> <addr>] " prefix. */
function monitorBody(line: string): string {
  return line.replace(/^\d+\.\d+ \[\d+ [^\]]+\] /, '');
}

/** Reads MONITOR lines until one ends with `last`. */
async function monitorLines(m: RawClient, last: string): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const r = await m.nextReply();
    const body = monitorBody(String(plain(r)).replace(/^\+/, ''));
    lines.push(body);
    if (body === last) return lines;
  }
}

/** SLOWLOG GET -1 as the argument lists, oldest first. */
async function slowlogArgs(c: RawClient): Promise<string[][]> {
  const entries = plain(await c.call('SLOWLOG', 'GET', '-1')) as unknown[][];
  return entries.map((e) => e[3] as string[]).reverse();
}

describe('secrets are redacted in MONITOR and SLOWLOG like Redis 7', () => {
  let ours: ServerHandle;
  let redis: ServerHandle;
  const args = ['--requirepass', PASSWORD, '--slowlog-log-slower-than', '0', '--slowlog-max-len', '1000'];

  beforeAll(async () => {
    [ours, redis] = await Promise.all([startNode(args), startRedis(args)]);
  });
  afterAll(() => stopAll(ours, redis));

  // Well-formed commands: both servers must show exactly the same thing.
  const WELL_FORMED: string[][] = [
    ['AUTH', PASSWORD],
    ['AUTH', 'default', PASSWORD],
    ['AUTH', 'default', 'wrong-one'],
    ['HELLO', '3', 'AUTH', 'default', PASSWORD, 'SETNAME', 'foo'],
    ['HELLO', '2', 'AUTH', 'default', PASSWORD],
    ['HELLO', '2', 'SETNAME', 'bar', 'AUTH', 'default', PASSWORD],
    ['HELLO', '2', 'SETNAME', 'auth', 'AUTH', 'default', PASSWORD],
    ['CONFIG', 'SET', 'masterauth', PASSWORD],
    ['CONFIG', 'SET', 'maxmemory', '0', 'requirepass', PASSWORD],
    // Monitors hear of a command once it ran (Redis 7's call()): EXEC comes after its commands.
    ['MULTI'],
    ['SET', 'm', '1'],
    ['EXEC'],
    ['SET', 'a', 'b'],
  ];
  // Malformed ones Redis logs in clear (it redacts while parsing); we redact them too.
  const MALFORMED: string[][] = [
    ['HELLO', '4', 'AUTH', 'default', PASSWORD],
    ['HELLO', '3', 'BOGUS', 'AUTH', 'default', PASSWORD],
    ['CONFIG', 'SET', 'requirepass', PASSWORD, 'extra'],
    ['AUTH', 'a', PASSWORD, 'c'],
    ['SET', 'done', 'yes'],
  ];

  async function run(port: number, commands: string[][]): Promise<{ monitor: string[]; slowlog: string[][] }> {
    const m = await RawClient.connect(port);
    const c = await RawClient.connect(port);
    try {
      await m.call('AUTH', PASSWORD);
      expect(plain(await m.call('MONITOR'))).toBe('+OK');
      await c.call('AUTH', PASSWORD);
      await c.call('SLOWLOG', 'RESET');
      for (const cmd of commands) await c.call(...cmd);
      const last = commands[commands.length - 1]!.map((a) => `"${a}"`).join(' ');
      const monitor = await monitorLines(m, last);
      const slowlog = (await slowlogArgs(c)).filter((a) => a[0]!.toLowerCase() !== 'slowlog');
      return { monitor, slowlog };
    } finally {
      m.close();
      c.close();
    }
  }

  it('shows what redis-server shows for AUTH, HELLO AUTH, CONFIG SET requirepass/masterauth and MULTI/EXEC', async () => {
    const [a, b] = await Promise.all([run(ours.port, WELL_FORMED), run(redis.port, WELL_FORMED)]);
    expect(a.monitor).toEqual(b.monitor);
    expect(a.slowlog).toEqual(b.slowlog);
    expect(a.monitor).toContain('"AUTH" "(redacted)"');
    expect(a.monitor).toContain('"HELLO" "3" "AUTH" "(redacted)" "(redacted)" "SETNAME" "foo"');
    expect(a.slowlog).toContainEqual(['CONFIG', 'SET', 'maxmemory', '0', 'requirepass', '(redacted)']);
    expect(JSON.stringify(a)).not.toContain(PASSWORD);
  });

  it('never shows a password, even in malformed commands', async () => {
    const a = await run(ours.port, MALFORMED);
    expect(a.monitor).toContain('"HELLO" "4" "AUTH" "(redacted)" "(redacted)"');
    expect(a.slowlog).toContainEqual(['CONFIG', 'SET', 'requirepass', '(redacted)', 'extra']);
    expect(JSON.stringify(a)).not.toContain(PASSWORD);
  });
});

describe('logs never contain passwords', () => {
  let master: ServerHandle;
  let replica: ServerHandle;

  beforeAll(async () => {
    master = await startNode(['--requirepass', PASSWORD, '--loglevel', 'debug', '--repl-diskless-sync-delay', '0']);
    replica = await startNode(['--replicaof', '127.0.0.1', String(master.port), '--masterauth', PASSWORD, '--loglevel', 'debug']);
  });
  afterAll(() => stopAll(master, replica));

  it('through start-up, replication with masterauth, good and bad AUTH, and CONFIG SET', async () => {
    await waitFor(async () => (await infoFields(replica.port, 'replication')).master_link_status === 'up', { what: 'replica link up' });
    const c = await RawClient.connect(master.port);
    try {
      await c.call('AUTH', 'wrong-one');
      await c.call('AUTH', PASSWORD);
      await c.call('CONFIG', 'SET', 'requirepass', PASSWORD);
      await c.call('HELLO', '3', 'AUTH', 'default', PASSWORD);
    } finally {
      c.close();
    }
    expect(master.output()).toContain('Ready to accept connections'); // the log is really captured
    expect(master.output()).not.toContain(PASSWORD);
    expect(replica.output()).not.toContain(PASSWORD);
  });

  it('a bad password directive at start-up is reported without the password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-badpass-'));
    const t = spawnTracked(process.execPath, [TESSERA_BIN, 'node', '--port', String(await freePort()), '--dir', dir, '--requirepass', PASSWORD, 'extra']);
    try {
      await waitFor(() => t.proc.exitCode !== null, { what: 'node to exit' });
      expect(t.output()).toContain('wrong number of arguments');
      expect(t.output()).not.toContain(PASSWORD);
    } finally {
      await t.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Sends `command` inline over a socket whose local (client) address is `from`, a loopback address
 * of our choice, and returns every byte received until the server closes or 2 s pass.
 */
function inlineFrom(port: number, from: string, command: string): Promise<{ bytes: string; closed: boolean }> {
  return new Promise((done, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    let bytes = '';
    const timer = setTimeout(() => {
      socket.destroy();
      done({ bytes, closed: false });
    }, 2000);
    // An empty command sends nothing: a refused client is answered on accept, and bytes sent
    // after the server closed would draw a reset that can discard the reply before it is read.
    socket.on('connect', () => command !== '' && socket.write(`${command}\r\n`));
    socket.on('data', (d) => {
      bytes += d.toString('latin1');
      // A served command ends its one-line reply; stop there instead of waiting for a close.
      if (!bytes.startsWith('-DENIED') && bytes.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        done({ bytes, closed: false });
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      done({ bytes, closed: true });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('protected mode and "local" clients like redis-server 7.0 (whatever bind says)', () => {
  // Both bound to 127.0.0.1 (the helpers' default): Redis 7 applies protected mode anyway. Only
  // 127.0.0.1 and ::1 count as local; a client from 127.0.0.7 stands in for a remote one.
  const p = usePair(['--protected-mode', 'yes', '--enable-debug-command', 'local', '--enable-protected-configs', 'local']);

  it('serves 127.0.0.1 clients of a node bound to 127.0.0.1 with no password', async () => {
    for (const port of [p.node.port, p.redisServer.port]) {
      expect(await inlineFrom(port, '127.0.0.1', 'PING')).toEqual({ bytes: '+PONG\r\n', closed: false });
    }
    await p.same(['CONFIG', 'GET', 'protected-mode'], ['SET', 'k', 'v'], ['GET', 'k']);
  });

  it('refuses a client from another address with the same bytes and closes it', async () => {
    const [ours, redis] = await Promise.all([p.node.port, p.redisServer.port].map((port) => inlineFrom(port, '127.0.0.7', '')));
    expect(ours.bytes).toMatch(/^-DENIED Redis is running in protected mode/);
    expect(ours).toEqual(redis);
    expect(ours.closed).toBe(true);
  });

  it('DEBUG and protected configs under "local" are allowed from loopback', async () => {
    await p.same(['DEBUG', 'SLEEP', '0'], ['CONFIG', 'SET', 'dbfilename', 'local.rdb'], ['CONFIG', 'GET', 'dbfilename']);
  });
});

describe('"local" without protected mode: only 127.0.0.1 and ::1, like redis-server 7.0', () => {
  const p = usePair(['--protected-mode', 'no', '--enable-debug-command', 'local', '--enable-protected-configs', 'local']);

  it.each(['DEBUG SLEEP 0', 'CONFIG SET dbfilename x.rdb'])('%s from 127.0.0.7 is refused with the same error', async (command) => {
    const [ours, redis] = await Promise.all([p.node.port, p.redisServer.port].map((port) => inlineFrom(port, '127.0.0.7', command)));
    expect(ours.bytes).toMatch(/^-ERR /);
    expect(ours.bytes).toBe(redis.bytes);
  });

  it('and allowed from 127.0.0.1', async () => {
    for (const port of [p.node.port, p.redisServer.port]) {
      expect((await inlineFrom(port, '127.0.0.1', 'CONFIG SET dbfilename y.rdb')).bytes).toBe('+OK\r\n');
    }
  });
});
