// Blocking sorted-set pops (BZPOPMIN, BZPOPMAX, BZMPOP) with several real connections: each scenario
// runs against our node and a real redis-server and both must observe the same replies. One
// in-process node checks that served pops reach the replication stream in deterministic form.
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
 * Sends a blocking command and resolves once the server has run it (blocked or answered): a
 * marker ZADD travels in the same write and servers run a whole read's commands before replying.
 */
async function sendBlocking(c: RawClient, ...command: string[]): Promise<{ reply: Promise<Reply> }> {
  const marker = c.nextReply();
  const reply = c.nextReply();
  c.write(Buffer.concat([encodeCommand(['ZADD', `marker:${++unique}`, '1', 'm']), encodeCommand(command)]));
  await marker;
  return { reply }; // wrapped so that awaiting this function does not wait for the reply
}

/** True if `p` settled by the time a round trip on `probe` completes. */
async function settledAfterRoundTrip(p: Promise<unknown>, probe: RawClient): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await probe.call('PING');
  return settled;
}

async function blockedClients(c: RawClient): Promise<number> {
  const info = (await c.call('INFO', 'clients')) as string;
  const m = /blocked_clients:(\d+)/.exec(info);
  if (!m) throw new Error(`no blocked_clients in INFO: ${info}`);
  return Number(m[1]);
}

/** Runs a scenario on our node and on redis-server; both must observe the same replies. */
async function onBoth(scenario: (port: number, key: (name: string) => string) => Promise<unknown>): Promise<unknown> {
  const prefix = `z${++unique}:`;
  const [ours, theirs] = await Promise.all([scenario(node.port, (n) => prefix + n), scenario(redis.port, (n) => prefix + n)]);
  expect(plain(ours as Reply)).toEqual(plain(theirs as Reply));
  return ours;
}

describe('blocking sorted-set pops', () => {
  it('BZPOPMIN is woken by a ZADD from another client', async () => {
    const out = await onBoth(async (port, k) => {
      const [waiter, writer] = await Promise.all([client(port), client(port)]);
      const { reply } = await sendBlocking(waiter, 'BZPOPMIN', k('z'), '0');
      expect(await settledAfterRoundTrip(reply, writer)).toBe(false);
      const added = await writer.call('ZADD', k('z'), '2', 'b', '1', 'a');
      return [added, await reply, await writer.call('ZRANGE', k('z'), '0', '-1', 'WITHSCORES')];
    });
    expect(out).toEqual([2, [expect.stringMatching(/:z$/), 'a', '1'], ['b', '2']]);
  });

  it('BZPOPMAX and BZMPOP wake with the right shapes, in RESP2 and RESP3', async () => {
    await onBoth(async (port, k) => {
      const [w2, w3, w4, writer] = await Promise.all([client(port), client(port), client(port), client(port)]);
      await w3.call('HELLO', '3');
      await w4.call('HELLO', '3');
      const { reply: max2 } = await sendBlocking(w2, 'BZPOPMAX', k('a'), k('b'), '0');
      const { reply: max3 } = await sendBlocking(w3, 'BZPOPMAX', k('c'), '0');
      const { reply: mpop3 } = await sendBlocking(w4, 'BZMPOP', '0', '2', k('d'), k('e'), 'MIN', 'COUNT', '2');
      await writer.call('ZADD', k('b'), '1.5', 'x', '2.5', 'y');
      await writer.call('ZADD', k('c'), '7', 'p', '8', 'q');
      await writer.call('ZADD', k('e'), '3', 'r', '1', 's', '2', 't');
      return [await max2, await max3, await mpop3, await writer.call('ZRANGE', k('e'), '0', '-1')];
    });
  });

  it('serves waiters first come, first served, one element each', async () => {
    const out = await onBoth(async (port, k) => {
      const [w1, w2, w3, writer] = await Promise.all([client(port), client(port), client(port), client(port)]);
      const { reply: r1 } = await sendBlocking(w1, 'BZPOPMIN', k('z'), '0');
      const { reply: r2 } = await sendBlocking(w2, 'BZPOPMAX', k('z'), '0');
      const { reply: r3 } = await sendBlocking(w3, 'BZPOPMIN', k('z'), '0');
      await writer.call('ZADD', k('z'), '1', 'a', '2', 'b');
      const first = [await r1, await r2];
      expect(await settledAfterRoundTrip(r3, writer)).toBe(false);
      await writer.call('ZADD', k('z'), '3', 'c');
      return [...first, await r3, await writer.call('EXISTS', k('z'))];
    });
    expect((out as Reply[][]).map((r) => (Array.isArray(r) ? r[1] : r))).toEqual(['a', 'b', 'c', 0]);
  });

  it('times out with a null array after the deadline, not before', async () => {
    for (const port of [node.port, redis.port]) {
      const c = await client(port);
      for (const command of [['BZPOPMIN', 'none', '0.1'], ['BZPOPMAX', 'none', 'other', '0.1'], ['BZMPOP', '0.1', '1', 'none', 'MAX']]) {
        const t0 = performance.now();
        const reply = await c.call(...command);
        const elapsedMs = performance.now() - t0;
        expect(reply).toBeNull();
        expect(elapsedMs).toBeGreaterThanOrEqual(100);
        expect(elapsedMs).toBeLessThan(1000);
      }
    }
  });

  it('ignores writes that leave the key unusable and keeps waiting', async () => {
    await onBoth(async (port, k) => {
      const [w, ctl] = await Promise.all([client(port), client(port)]);
      const { reply } = await sendBlocking(w, 'BZPOPMIN', k('z'), '0');
      await ctl.call('SET', k('z'), 'string now');
      expect(await settledAfterRoundTrip(reply, ctl)).toBe(false);
      await ctl.call('DEL', k('z'));
      await ctl.call('ZADD', k('z'), '4', 'kept');
      return [await reply, await ctl.call('EXISTS', k('z'))];
    });
  });

  it('waiters see a MULTI only after EXEC: an add and a remove leave nothing to serve', async () => {
    await onBoth(async (port, k) => {
      const [w, ctl] = await Promise.all([client(port), client(port)]);
      const { reply } = await sendBlocking(w, 'BZPOPMIN', k('z'), '0');
      const exec: Reply[] = [];
      for (const command of [['MULTI'], ['ZADD', k('z'), '1', 'gone'], ['ZREM', k('z'), 'gone'], ['EXEC']]) exec.push(await ctl.call(...command));
      expect(await settledAfterRoundTrip(reply, ctl)).toBe(false);
      await ctl.call('ZADD', k('z'), '4', 'kept');
      return [exec, await reply, await ctl.call('EXISTS', k('z'))];
    });
  });

  it('waits on several keys and takes the first that gets elements', async () => {
    await onBoth(async (port, k) => {
      const [w, ctl] = await Promise.all([client(port), client(port)]);
      await ctl.call('ZADD', k('b'), '1', 'b1');
      const now = await w.call('BZPOPMIN', k('a'), k('b'), '0');
      const { reply: later } = await sendBlocking(w, 'BZPOPMAX', k('x'), k('y'), '0');
      await ctl.call('ZADD', k('y'), '5', 'y5', '6', 'y6');
      return [now, await later, await ctl.call('ZRANGE', k('y'), '0', '-1')];
    });
  });

  it('a client that disconnects while blocked leaves no waiter behind', async () => {
    await onBoth(async (port, k) => {
      const [w, ctl] = await Promise.all([client(port), client(port)]);
      const before = await blockedClients(ctl);
      await sendBlocking(w, 'BZPOPMIN', k('z'), '0');
      expect(await blockedClients(ctl)).toBe(before + 1);
      w.close();
      await waitFor(async () => (await blockedClients(ctl)) === before, { what: 'the blocked client to be gone' });
      return [await ctl.call('ZADD', k('z'), '1', 'v'), await ctl.call('ZCARD', k('z'))];
    });
  });

  it('blocking pops inside MULTI answer at once as if timed out', async () => {
    await onBoth(async (port, k) => {
      const c = await client(port);
      const out: Reply[] = [];
      for (const command of [
        ['MULTI'], ['BZPOPMIN', k('z'), '0'], ['BZPOPMAX', k('z'), '0'], ['BZMPOP', '0', '1', k('z'), 'MIN'],
        ['ZADD', k('z'), '1', 'a', '2', 'b'], ['BZPOPMAX', k('z'), '0'], ['BZMPOP', '0', '1', k('z'), 'MIN'], ['EXEC'],
      ]) out.push(await c.call(...command));
      return out;
    });
  });
});

describe('propagation of blocking pops', () => {
  let server: NodeServer;
  const propagated: string[][] = [];

  beforeAll(async () => {
    const port = await freePort();
    server = new NodeServer(configFromArgs(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']));
    const original = server.propagate.bind(server);
    server.propagate = (dbIndex, argv) => {
      propagated.push([...argv]);
      original(dbIndex, argv);
    };
    await server.listen();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('served and immediate pops go out as ZPOPMIN/ZPOPMAX key [count]', async () => {
    const port = server.config.getInt('port');
    const [w1, w2, ctl] = await Promise.all([client(port), client(port), client(port)]);
    const { reply: r1 } = await sendBlocking(w1, 'BZPOPMIN', 'p', '0');
    const { reply: r2 } = await sendBlocking(w2, 'BZMPOP', '0', '1', 'p', 'MAX', 'COUNT', '5');
    propagated.length = 0;
    await ctl.call('ZADD', 'p', '1', 'a', '2', 'b', '3', 'c');
    expect(await r1).toEqual(['p', 'a', '1']);
    expect(await r2).toEqual(['p', [['c', '3'], ['b', '2']]]);
    await ctl.call('ZADD', 'q', '1', 'x', '2', 'y', '3', 'z');
    await ctl.call('BZPOPMAX', 'q', '0');
    await ctl.call('BZMPOP', '0', '1', 'q', 'MIN', 'COUNT', '1');
    await ctl.call('ZMPOP', '1', 'q', 'MIN');
    expect(propagated).toEqual([
      ['ZADD', 'p', '1', 'a', '2', 'b', '3', 'c'],
      ['ZPOPMIN', 'p'],
      ['ZPOPMAX', 'p', '5'],
      ['ZADD', 'q', '1', 'x', '2', 'y', '3', 'z'],
      ['ZPOPMAX', 'q'],
      ['ZPOPMIN', 'q', '1'],
      ['ZPOPMIN', 'q', '1'],
    ]);
  });
});
