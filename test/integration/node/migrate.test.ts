// MIGRATE, our node against redis-server as the source, both moving keys to the same real
// redis-servers (one with requirepass) and to another node: the same replies and the same state
// on both sides afterwards; then what only the node does differently (it keeps serving while the
// target is slow, holding only commands on the keys in flight) and what it must keep right
// (replicas learn the DEL, a stale cached connection is retried, secrets stay out of SLOWLOG).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { callOnce, RawClient } from '../../helpers/raw-client.js';
import { plain, usePair } from '../../helpers/differential.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';

describe('MIGRATE matches redis-server', () => {
  const p = usePair();
  let target: ServerHandle;
  let locked: ServerHandle; // requirepass pw
  let nodeTarget: ServerHandle;
  let replica: ServerHandle;

  beforeAll(async () => {
    [target, locked, nodeTarget] = await Promise.all([startRedis(), startRedis(['--requirepass', 'pw']), startNode()]);
    await p.ours.call('CONFIG', 'SET', 'repl-diskless-sync-delay', '0'); // the replica syncs at once
    replica = await startNode(['--replicaof', '127.0.0.1', String(p.node.port)]);
  }, 60_000);
  afterAll(async () => {
    await stopAll(target, locked, nodeTarget, replica);
  });

  const source = (which: 'ours' | 'redis') => (which === 'ours' ? p.ours : p.redis);

  async function reset(): Promise<void> {
    for (const port of [target.port, nodeTarget.port]) await callOnce(port, 'FLUSHALL');
    await callOnce(locked.port, 'AUTH', 'pw');
    const c = await RawClient.connect(locked.port);
    await c.call('AUTH', 'pw');
    await c.call('FLUSHALL');
    c.close();
    await p.both('FLUSHALL');
    await p.both('SET', 'a', '1');
    await p.both('RPUSH', 'l', 'x', 'y');
    await p.both('SET', 't', 'v', 'PX', '100000');
    await p.both('SET', '{g}1', 'one');
  }

  /** What a MIGRATE left: the keys still on the source, and the keys with values (and a TTL flag) on `port`. */
  async function state(which: 'ours' | 'redis', port: number, auth?: string): Promise<unknown> {
    const src = source(which);
    const here = [];
    for (const k of ['a', 'l', 't', '{g}1']) if ((await src.call('EXISTS', k)) === 1) here.push(k);
    if (port === 1) return { here }; // nothing listens there
    const c = await RawClient.connect(port);
    try {
      if (auth) await c.call('AUTH', auth);
      const there: Record<string, unknown> = {};
      for (const k of ['a', 'l', 't', '{g}1']) {
        const type = plain(await c.call('TYPE', k));
        if (type === '+none') continue;
        const value = type === '+list' ? await c.call('LRANGE', k, '0', '-1') : await c.call('GET', k);
        const pttl = (await c.call('PTTL', k)) as number;
        there[k] = [plain(value), pttl > 90_000 ? 'ttl' : pttl];
      }
      return { here, there };
    } finally {
      c.close();
    }
  }

  /** Runs `args` as MIGRATE on both sources (one after the other, from the same state) and compares. */
  async function same(targetPort: () => number, args: (port: number) => string[], auth?: string): Promise<unknown> {
    const out: Record<string, unknown> = {};
    for (const which of ['redis', 'ours'] as const) {
      await reset();
      const reply = plain(await source(which).call('MIGRATE', '127.0.0.1', ...args(targetPort())));
      out[which] = { reply, ...(await state(which, targetPort(), auth)) as object };
    }
    expect(out.ours, `MIGRATE ${args(targetPort()).join(' ')}`).toEqual(out.redis);
    return out.ours;
  }

  beforeEach(async () => {
    await p.both('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  });

  it('moves one key, several with KEYS, keeps them with COPY, replaces with REPLACE; NOKEY when none is here', async () => {
    const t = () => target.port;
    expect(await same(t, (port) => [String(port), 'a', '0', '1000'])).toMatchObject({ reply: '+OK', here: ['l', 't', '{g}1'], there: { a: ['1', -1] } });
    expect(await same(t, (port) => [String(port), '', '0', '1000', 'KEYS', 'a', 'l', 't', 'missing'])).toMatchObject({
      reply: '+OK', here: ['{g}1'], there: { a: ['1', -1], l: [['x', 'y'], -1], t: ['v', 'ttl'] },
    });
    expect(await same(t, (port) => [String(port), 'missing', '0', '1000'])).toMatchObject({ reply: '+NOKEY' });
    expect(await same(t, (port) => [String(port), 'a', '0', '1000', 'COPY'])).toMatchObject({ reply: '+OK', here: ['a', 'l', 't', '{g}1'] });
    // Onto an existing key: BUSYKEY without REPLACE (nothing deleted here), replaced with it.
    for (const which of ['redis', 'ours'] as const) {
      await reset();
      await callOnce(target.port, 'SET', 'a', 'old');
      expect(plain(await source(which).call('MIGRATE', '127.0.0.1', String(target.port), '', '0', '1000', 'KEYS', 'l', 'a'))).toEqual({
        error: 'ERR Target instance replied with error: BUSYKEY Target key name already exists.',
      });
      expect(await state(which, target.port)).toEqual({ here: ['a', 't', '{g}1'], there: { a: ['old', -1], l: [['x', 'y'], -1] } });
      expect(plain(await source(which).call('MIGRATE', '127.0.0.1', String(target.port), 'a', '0', '1000', 'REPLACE'))).toBe('+OK');
      expect(await callOnce(target.port, 'GET', 'a')).toBe('1');
    }
  });

  it('refuses bad arguments with Redis errors, and reports the target refusing AUTH, SELECT or the connection', async () => {
    const t = () => target.port;
    for (const args of [
      ['a', '0', '1000', 'KEYS', 'a'], ['a', 'x', '1000'], ['a', '0', 'x'], ['a', '0', '1000', 'bogus'], ['a', '0', '1000', 'AUTH'],
      ['a', '0', '1000', 'AUTH2', 'u'], ['a', '0'],
    ]) await same(t, (port) => [String(port), ...args]);
    // AUTH: missing, wrong, right (the password is never taken for the KEYS keyword).
    await same(() => locked.port, (port) => [String(port), 'a', '0', '1000'], 'pw');
    await same(() => locked.port, (port) => [String(port), 'a', '0', '1000', 'AUTH', 'bad'], 'pw');
    expect(await same(() => locked.port, (port) => [String(port), '', '0', '1000', 'AUTH', 'pw', 'KEYS', 'a', 'l'], 'pw')).toMatchObject({ reply: '+OK', here: ['t', '{g}1'] });
    expect(await same(() => locked.port, (port) => [String(port), '', '0', '1000', 'AUTH2', 'default', 'pw', 'KEYS', 'a'], 'pw')).toMatchObject({ reply: '+OK' });
    // SELECT of a db the target lacks fails every key (they stay here).
    expect(await same(t, (port) => [String(port), 'a', '99', '1000'])).toMatchObject({ reply: { error: 'ERR Target instance replied with error: ERR DB index is out of range' } });
    // Nothing listens on port 1: refused at once.
    expect(await same(() => 1, (port) => [String(port), 'a', '0', '200'])).toMatchObject({
      reply: { error: 'IOERR error or timeout writing to target instance' }, here: ['a', 'l', 't', '{g}1'],
    });
  });

  it('moves keys to another node, into the db asked for, and the source replica sees them deleted', async () => {
    await reset();
    expect(plain(await p.ours.call('MIGRATE', '127.0.0.1', String(nodeTarget.port), '', '3', '1000', 'KEYS', 'l', 't'))).toBe('+OK');
    const c = await RawClient.connect(nodeTarget.port);
    try {
      await c.call('SELECT', '3');
      expect(await c.call('LRANGE', 'l', '0', '-1')).toEqual(['x', 'y']);
      expect(await c.call('PTTL', 't')).toBeGreaterThan(90_000);
    } finally {
      c.close();
    }
    // The replica applies the DEL the source propagated (polled: replication is asynchronous).
    const deadline = Date.now() + 10_000;
    let left: unknown = null;
    while (Date.now() < deadline) {
      left = await callOnce(replica.port, 'EXISTS', 'l', 't', 'a');
      if (left === 1) break;
      await new Promise((r) => setImmediate(r));
    }
    expect(left).toBe(1);
  });

  it('a slow target holds only commands on the keys in flight; a timeout keeps the keys here', async () => {
    await reset();
    // The target holds writes (RESTORE) for a while: MIGRATE waits for its reply.
    await callOnce(target.port, 'CLIENT', 'PAUSE', '400', 'WRITE');
    const other = await RawClient.connect(p.node.port);
    try {
      const order: string[] = [];
      const migrate = p.ours.call('MIGRATE', '127.0.0.1', String(target.port), '{g}1', '0', '5000').then((r) => order.push(`migrate ${JSON.stringify(plain(r))}`));
      // Sent after MIGRATE: a write to a key of the group in flight waits for it, then makes a new key …
      const held = other.call('SET', '{g}2', 'new').then((r) => order.push(`held ${JSON.stringify(plain(r))}`));
      // … while a command on any other key is answered at once.
      const free = await callOnce(p.node.port, 'GET', 'a');
      order.push(`free ${free}`);
      await Promise.all([migrate, held]);
      expect(order).toEqual(['free 1', 'migrate "+OK"', 'held "+OK"']);
      expect(await callOnce(p.node.port, 'EXISTS', '{g}1')).toBe(0);
      expect(await callOnce(target.port, 'GET', '{g}1')).toBe('one');
    } finally {
      other.close();
    }
    // A timeout: the key stays on the source, as on redis-server.
    for (const which of ['redis', 'ours'] as const) {
      await reset();
      await callOnce(target.port, 'CLIENT', 'PAUSE', '1000', 'WRITE');
      expect(plain(await source(which).call('MIGRATE', '127.0.0.1', String(target.port), 'a', '0', '100'))).toEqual({ error: 'IOERR error or timeout reading to target instance' });
      expect(await source(which).call('GET', 'a')).toBe('1');
      await callOnce(target.port, 'CLIENT', 'UNPAUSE');
    }
  });

  it('retries once on a fresh connection when the cached one went stale (the target restarted)', async () => {
    const port = target.port;
    await reset();
    for (const which of ['redis', 'ours'] as const) {
      await callOnce(port, 'FLUSHALL');
      expect(plain(await source(which).call('MIGRATE', '127.0.0.1', String(port), 'a', '0', '1000'))).toBe('+OK');
    }
    await target.stop();
    target = await startRedis([], { port });
    await reset();
    for (const which of ['redis', 'ours'] as const) {
      await callOnce(port, 'FLUSHALL');
      expect(plain(await source(which).call('MIGRATE', '127.0.0.1', String(port), 'a', '0', '1000')), which).toBe('+OK');
    }
  });

  it('keeps the password out of SLOWLOG; refuses MIGRATE inside MULTI (Redis runs it there, blocking)', async () => {
    await reset();
    await p.ours.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await p.ours.call('SLOWLOG', 'RESET');
    await p.ours.call('MIGRATE', '127.0.0.1', String(locked.port), 'a', '0', '1000', 'AUTH', 'pw');
    expect(JSON.stringify(await p.ours.call('SLOWLOG', 'GET'))).not.toContain('"pw"');
    expect(JSON.stringify(await p.ours.call('SLOWLOG', 'GET'))).toContain('(redacted)');
    await p.ours.call('MULTI');
    await p.ours.call('MIGRATE', '127.0.0.1', String(target.port), 'l', '0', '1000');
    expect(plain(await p.ours.call('EXEC'))).toEqual([{ error: 'ERR MIGRATE is not supported inside MULTI/EXEC or scripts by this server' }]);
    expect(await p.ours.call('EXISTS', 'l')).toBe(1);
  });
});
