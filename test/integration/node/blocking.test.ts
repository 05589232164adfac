// Blocking list commands with several real connections: every scenario runs against our node and
// against a real redis-server, and both must observe the same replies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { configFromArgs } from '../../../node/main.js';
import { NodeServer } from '../../../node/server.js';
import { plain } from '../../helpers/differential.js';
import { freePort } from '../../helpers/ports.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

let node: ServerHandle;
let redis: ServerHandle;
const open: RawClient[] = [];
let unique = 0;

beforeAll(async () => {
  [node, redis] = await Promise.all([startNode(), startRedis()]);
});

afterAll(async () => {
  for (const c of open) c.close();
  await stopAll(node, redis);
});

async function client(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  open.push(c);
  return c;
}

/**
 * Sends a blocking command and resolves once the server has run it (it is now blocked, or
 * answered). A marker RPUSH travels in the same write, and servers run a whole read's commands
 * before flushing replies, so the marker's reply proves the blocking command was processed too.
 */
async function sendBlocking(c: RawClient, ...command: string[]): Promise<{ reply: Promise<Reply> }> {
  const marker = c.nextReply();
  const reply = c.nextReply();
  c.write(Buffer.concat([encodeCommand(['RPUSH', `marker:${++unique}`, '1']), encodeCommand(command)]));
  await marker;
  return { reply }; // wrapped: an async function would otherwise wait for the reply itself
}

/** Resolves to true if `p` settled by the time a round trip on `probe` completes. */
async function settledAfterRoundTrip(p: Promise<unknown>, probe: RawClient): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true), () => (settled = true));
  await probe.call('PING');
  return settled;
}

/** INFO clients' blocked_clients. */
async function blockedClients(c: RawClient): Promise<number> {
  const info = (await c.call('INFO', 'clients')) as string;
  const m = /blocked_clients:(\d+)/.exec(info);
  if (!m) throw new Error(`no blocked_clients in INFO: ${info}`);
  return Number(m[1]);
}

/** Runs a scenario on our node and on redis-server; both must observe the same replies. */
async function onBoth(scenario: (port: number, key: (name: string) => string) => Promise<unknown>): Promise<unknown> {
  const prefix = `s${++unique}:`;
  const [ours, theirs] = await Promise.all([
    scenario(node.port, (n) => prefix + n),
    scenario(redis.port, (n) => prefix + n),
  ]);
  expect(plain(ours as Reply)).toEqual(plain(theirs as Reply));
  return ours;
}

describe('blocking list commands', () => {
  it('BLPOP is woken by an RPUSH from another client', async () => {
    const out = await onBoth(async (port, k) => {
      const [waiter, pusher] = await Promise.all([client(port), client(port)]);
      const { reply: served } = await sendBlocking(waiter, 'BLPOP', k('l'), '0');
      expect(await settledAfterRoundTrip(served, pusher)).toBe(false);
      const pushed = await pusher.call('RPUSH', k('l'), 'a', 'b');
      return [pushed, await served, await pusher.call('LRANGE', k('l'), '0', '-1')];
    });
    expect(out).toEqual([2, [expect.stringMatching(/:l$/), 'a'], ['b']]);
  });

  it('serves waiters FIFO, several per multi-element push', async () => {
    const out = await onBoth(async (port, k) => {
      const [w1, w2, w3, pusher] = await Promise.all([client(port), client(port), client(port), client(port)]);
      const { reply: r1 } = await sendBlocking(w1, 'BLPOP', k('l'), '0');
      const { reply: r2 } = await sendBlocking(w2, 'BLPOP', k('l'), '0');
      const { reply: r3 } = await sendBlocking(w3, 'BRPOP', k('l'), '0');
      const pushed = await pusher.call('RPUSH', k('l'), 'a', 'b');
      const first = [await r1, await r2];
      expect(await settledAfterRoundTrip(r3, pusher)).toBe(false);
      await pusher.call('LPUSH', k('l'), 'c', 'd');
      return [pushed, ...first, await r3, await pusher.call('LRANGE', k('l'), '0', '-1')];
    });
    expect((out as Reply[][]).map((r) => (Array.isArray(r) ? r[1] : r))).toEqual([2, 'a', 'b', 'c', undefined]);
  });

  it('times out with a null array after the deadline, not before', async () => {
    for (const port of [node.port, redis.port]) {
      const c = await client(port);
      for (const command of [['BLPOP', 'none', '0.1'], ['BLMOVE', 'none', 'x', 'LEFT', 'LEFT', '0.1'], ['BLMPOP', '0.1', '1', 'none', 'LEFT']]) {
        const t0 = performance.now();
        const reply = await c.call(...command);
        const elapsedMs = performance.now() - t0;
        expect(reply).toBeNull();
        expect(elapsedMs).toBeGreaterThanOrEqual(100);
        expect(elapsedMs).toBeLessThan(1000);
      }
    }
  });

  it('BLMOVE into a key another client waits on chains to that client', async () => {
    await onBoth(async (port, k) => {
      const [popper, mover, pusher] = await Promise.all([client(port), client(port), client(port)]);
      const { reply: popped } = await sendBlocking(popper, 'BRPOP', k('dst'), '0');
      const { reply: moved } = await sendBlocking(mover, 'BLMOVE', k('src'), k('dst'), 'LEFT', 'RIGHT', '0');
      await pusher.call('RPUSH', k('src'), 'v1', 'v2');
      return [await moved, await popped, await pusher.call('LRANGE', k('src'), '0', '-1'), await pusher.call('EXISTS', k('dst'))];
    });
  });

  it('BRPOPLPUSH served later pushes to the destination; a wrong-type destination errors and keeps the item', async () => {
    await onBoth(async (port, k) => {
      const [w1, w2, ctl] = await Promise.all([client(port), client(port), client(port)]);
      const { reply: r1 } = await sendBlocking(w1, 'BRPOPLPUSH', k('src'), k('dst'), '0');
      await ctl.call('RPUSH', k('src'), 'x');
      const first = [await r1, await ctl.call('LRANGE', k('dst'), '0', '-1'), await ctl.call('EXISTS', k('src'))];
      await ctl.call('SET', k('str'), 'v');
      const { reply: r2 } = await sendBlocking(w2, 'BLMOVE', k('src'), k('str'), 'LEFT', 'LEFT', '0');
      await ctl.call('RPUSH', k('src'), 'y');
      return [...first, await r2, await ctl.call('LRANGE', k('src'), '0', '-1')];
    });
  });

  it('BLPOP on several keys takes the first non-empty one, now or when one is pushed', async () => {
    await onBoth(async (port, k) => {
      const [w, ctl] = await Promise.all([client(port), client(port)]);
      await ctl.call('RPUSH', k('b'), 'b1');
      await ctl.call('RPUSH', k('c'), 'c1');
      const now = await w.call('BLPOP', k('a'), k('c'), k('b'), '0');
      const { reply: later } = await sendBlocking(w, 'BLPOP', k('x'), k('y'), k('z'), '0');
      await ctl.call('RPUSH', k('y'), 'y1');
      const { reply: blmpop } = await sendBlocking(w, 'BLMPOP', '0', '2', k('p'), k('q'), 'RIGHT', 'COUNT', '2');
      await ctl.call('RPUSH', k('q'), '1', '2', '3');
      return [now, await later, await blmpop, await ctl.call('LRANGE', k('q'), '0', '-1')];
    });
  });

  it('a client that disconnects while blocked leaves no waiter behind', async () => {
    await onBoth(async (port, k) => {
      const [w, ctl] = await Promise.all([client(port), client(port)]);
      const before = await blockedClients(ctl);
      await sendBlocking(w, 'BLPOP', k('l'), '0');
      expect(await blockedClients(ctl)).toBe(before + 1);
      w.close();
      // Only a disconnect the server has noticed can be asserted on: wait for it, then push.
      await waitFor(async () => (await blockedClients(ctl)) === before, { what: 'the blocked client to be gone' });
      return [await ctl.call('RPUSH', k('l'), 'v'), await ctl.call('LRANGE', k('l'), '0', '-1')];
    });
  });

  it('commands pipelined after a blocked one run only after it is served', async () => {
    await onBoth(async (port, k) => {
      const [w, ctl] = await Promise.all([client(port), client(port)]);
      const replies = [w.nextReply(), w.nextReply(), w.nextReply(), w.nextReply()];
      w.write(Buffer.concat([
        encodeCommand(['RPUSH', k('mark'), '1']),
        encodeCommand(['BLPOP', k('l'), '0']),
        encodeCommand(['LLEN', k('l')]),
        encodeCommand(['ECHO', 'after']),
      ]));
      await replies[0];
      expect(await settledAfterRoundTrip(replies[2]!, ctl)).toBe(false);
      await ctl.call('RPUSH', k('l'), 'a', 'b', 'c');
      return Promise.all(replies);
    });
  });

  it('waiters see a MULTI only after EXEC completes', async () => {
    await onBoth(async (port, k) => {
      const [w, ctl] = await Promise.all([client(port), client(port)]);
      const { reply } = await sendBlocking(w, 'BLPOP', k('l'), '0');
      const exec: Reply[] = [];
      for (const command of [['MULTI'], ['RPUSH', k('l'), 'a', 'b'], ['LPOP', k('l')], ['EXEC']]) exec.push(await ctl.call(...command));
      return [exec, await reply, await ctl.call('EXISTS', k('l'))];
    });
  });

  it('blocking commands inside MULTI answer at once as if timed out', async () => {
    await onBoth(async (port, k) => {
      const c = await client(port);
      const out: Reply[] = [];
      for (const command of [
        ['MULTI'], ['BLPOP', k('l'), '0'], ['BRPOP', k('l'), '0'], ['BLMOVE', k('l'), k('d'), 'LEFT', 'LEFT', '0'],
        ['BRPOPLPUSH', k('l'), k('d'), '0'], ['BLMPOP', '0', '1', k('l'), 'LEFT'], ['RPUSH', k('l'), 'x'], ['BLPOP', k('l'), '0'], ['EXEC'],
      ]) out.push(await c.call(...command));
      return out;
    });
  });
});

// Propagation is observed in-process: the node's deterministic write stream (what replicas and
// the AOF receive) must show served blocking pops as plain LPOP/RPOP/LMOVE/RPOPLPUSH.
describe('served blocking commands propagate in deterministic form', () => {
  let server: NodeServer;
  let port: number;
  const stream: string[][] = [];

  beforeAll(async () => {
    port = await freePort();
    server = new NodeServer(configFromArgs(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning']));
    server.replication.onStream((_db, argv) => stream.push([...argv]));
    await server.listen();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('as LPOP, RPOP count, LMOVE and RPOPLPUSH, after the write that served them', async () => {
    const [w1, w2, w3, ctl] = await Promise.all([client(port), client(port), client(port), client(port)]);
    const { reply: popped } = await sendBlocking(w1, 'BLPOP', 'p:dst', '0');
    const { reply: moved } = await sendBlocking(w2, 'BLMOVE', 'p:src', 'p:dst', 'RIGHT', 'LEFT', '0');
    const { reply: mpopped } = await sendBlocking(w3, 'BLMPOP', '0', '1', 'p:q', 'RIGHT', 'COUNT', '5');
    stream.length = 0;
    await ctl.call('RPUSH', 'p:src', 'v');
    expect([await moved, await popped]).toEqual(['v', ['p:dst', 'v']]);
    await ctl.call('RPUSH', 'p:q', '1', '2');
    expect(await mpopped).toEqual(['p:q', ['2', '1']]);
    await ctl.call('RPUSH', 'p:l', 'a', 'b', 'c');
    expect(await ctl.call('BRPOP', 'p:l', '0')).toEqual(['p:l', 'c']);
    expect(await ctl.call('BRPOPLPUSH', 'p:l', 'p:l2', '0')).toBe('b');
    expect(await ctl.call('BLMOVE', 'p:l', 'p:l2', 'LEFT', 'RIGHT', '0')).toBe('a');
    expect(await ctl.call('BLMPOP', '0', '1', 'p:l2', 'LEFT', 'COUNT', '9')).toEqual(['p:l2', ['b', 'a']]);
    expect(await ctl.call('BLPOP', 'p:none', '0.01')).toBeNull();
    expect(stream.filter((argv) => argv[0] !== 'SELECT' && !argv[1]!.startsWith('marker:'))).toEqual([
      ['RPUSH', 'p:src', 'v'],
      ['LMOVE', 'p:src', 'p:dst', 'RIGHT', 'LEFT'],
      ['LPOP', 'p:dst'],
      ['RPUSH', 'p:q', '1', '2'],
      ['RPOP', 'p:q', '2'],
      ['RPUSH', 'p:l', 'a', 'b', 'c'],
      ['RPOP', 'p:l'],
      ['RPOPLPUSH', 'p:l', 'p:l2'],
      ['LMOVE', 'p:l', 'p:l2', 'LEFT', 'RIGHT'],
      ['LPOP', 'p:l2', '2'],
    ]);
  });
});
