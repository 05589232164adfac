// Client-side caching (CLIENT TRACKING), our node against redis-server: the same scenario runs on
// both, and what each tracking connection received (pushes, pub/sub messages, replies) must be
// the same bytes; BCAST batches, whose split depends on I/O timing, are compared as key sets.
import { createConnection, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';

function encode(args: string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return out;
}

/** A raw connection that keeps every byte it receives. */
class Conn {
  log = '';
  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (this.log += d));
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(port, '127.0.0.1', () => resolve(new Conn(socket)));
      socket.once('error', reject);
    });
  }
  send(...args: string[]): void {
    this.socket.write(encode(args));
  }
  /** Waits (10 s at most) until the log ends with `tail`. */
  async until(tail: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!this.log.endsWith(tail)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(tail)}; got ${JSON.stringify(this.log.slice(-300))}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  /**
   * Everything received up to a PING's reply (sent now, so whatever the server queued for this
   * connection before is in the result), and clears the log.
   */
  async drain(pubsub = false): Promise<string> {
    this.send('PING');
    const pong = pubsub ? '*2\r\n$4\r\npong\r\n$0\r\n\r\n' : '+PONG\r\n';
    await this.until(pong);
    const out = this.log.slice(0, this.log.length - pong.length);
    this.log = '';
    return out;
  }
  close(): void {
    this.socket.destroy();
  }
}

/** A reply's client id (`:N\r\n`). */
async function clientId(c: Conn): Promise<string> {
  c.send('CLIENT', 'ID');
  await c.until('\r\n');
  const id = /^:(\d+)\r\n$/.exec(c.log)![1]!;
  c.log = '';
  return id;
}

type Scenario = (port: number) => Promise<string[]>;

describe('CLIENT TRACKING matches redis-server', () => {
  let node: ServerHandle;
  let redis: ServerHandle;
  beforeAll(async () => {
    [node, redis] = await Promise.all([startNode(), startRedis()]);
  }, 60_000);
  afterAll(async () => {
    await stopAll(node, redis);
  });

  /** Runs a scenario on both servers (the same steps, fresh connections) and compares what it saw. */
  async function same(scenario: Scenario): Promise<string[]> {
    const ours = await scenario(node.port);
    const theirs = await scenario(redis.port);
    expect(ours).toEqual(theirs);
    return ours;
  }

  /** A tracking connection `c` and a writer `w`, after FLUSHALL. */
  async function pair(port: number, resp3 = true): Promise<{ c: Conn; w: Conn; done: () => void }> {
    const [c, w] = await Promise.all([Conn.open(port), Conn.open(port)]);
    w.send('FLUSHALL');
    await w.drain();
    if (resp3) {
      c.send('HELLO', '3');
      await c.drain();
    }
    return { c, w, done: () => (c.close(), w.close()) };
  }

  it('default mode: a read key is invalidated once when another client changes it; own changes after the reply; FLUSHALL says null', async () => {
    const seen = await same(async (port) => {
      const { c, w, done } = await pair(port);
      const out: string[] = [];
      try {
        c.send('CLIENT', 'TRACKING', 'on');
        c.send('GET', 'a');
        c.send('MGET', 'b', 'c');
        out.push(await c.drain());
        w.send('SET', 'a', '1');
        w.send('SET', 'a', '2'); // not read again since: no second invalidation
        w.send('DEL', 'c'); // c does not exist: nothing changes, nothing is told
        await w.drain();
        out.push(await c.drain());
        c.send('GET', 'a');
        c.send('SET', 'a', 'self'); // its own write: told after the SET's reply
        c.send('GET', 'a');
        c.send('MULTI');
        c.send('INCR', 'n');
        c.send('SET', 'a', 'tx');
        c.send('EXEC'); // after EXEC's reply
        out.push(await c.drain());
        c.send('GET', 'a');
        out.push(await c.drain());
        w.send('FLUSHALL');
        await w.drain();
        out.push(await c.drain());
        // A key that expires is invalidated too.
        w.send('SET', 'e', 'v', 'PX', '30');
        await w.drain();
        c.send('GET', 'e');
        out.push(await c.drain());
        const deadline = Date.now() + 10_000;
        for (;;) {
          w.send('PTTL', 'e');
          await w.until('\r\n');
          const gone = w.log === ':-2\r\n';
          w.log = '';
          if (gone || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 5));
        }
        out.push(await c.drain());
        c.send('CLIENT', 'TRACKINGINFO');
        c.send('CLIENT', 'GETREDIR');
        c.send('CLIENT', 'TRACKING', 'off');
        c.send('CLIENT', 'TRACKINGINFO');
        c.send('CLIENT', 'GETREDIR');
        out.push(await c.drain());
        return out;
      } finally {
        done();
      }
    });
    expect(seen[1]).toBe('>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n');
    expect(seen[6]).toBe('>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\ne\r\n'); // expired
    expect(seen[4]).toBe('>2\r\n$10\r\ninvalidate\r\n_\r\n');
  });

  it('NOLOOP, OPTIN with CACHING yes, OPTOUT with CACHING no', async () => {
    await same(async (port) => {
      const { c, w, done } = await pair(port);
      const out: string[] = [];
      try {
        c.send('CLIENT', 'TRACKING', 'on', 'NOLOOP');
        c.send('GET', 'a');
        c.send('SET', 'a', '1'); // its own: not told
        c.send('GET', 'a');
        out.push(await c.drain());
        w.send('SET', 'a', '2'); // another's: told
        await w.drain();
        out.push(await c.drain());
        c.send('CLIENT', 'TRACKING', 'off');
        c.send('CLIENT', 'TRACKING', 'on', 'OPTIN');
        c.send('GET', 'x'); // not cached: no CACHING yes before it
        c.send('CLIENT', 'CACHING', 'yes');
        c.send('GET', 'y');
        c.send('CLIENT', 'TRACKINGINFO');
        out.push(await c.drain());
        w.send('MSET', 'x', '1', 'y', '1');
        await w.drain();
        out.push(await c.drain());
        c.send('CLIENT', 'TRACKING', 'off');
        c.send('CLIENT', 'TRACKING', 'on', 'OPTOUT');
        c.send('CLIENT', 'CACHING', 'no');
        c.send('GET', 'x'); // opted out
        c.send('GET', 'y');
        out.push(await c.drain());
        w.send('MSET', 'x', '2', 'y', '2');
        await w.drain();
        out.push(await c.drain());
        return out;
      } finally {
        done();
      }
    });
  });

  it('BCAST: every change under the prefixes, batched per prefix (compared as key sets)', async () => {
    const keysOf = (log: string) => [...log.matchAll(/\$\d+\r\n([^\r]*)\r\n/g)].map((m) => m[1]).filter((k) => k !== 'invalidate').sort();
    await same(async (port) => {
      const { c, w, done } = await pair(port);
      try {
        c.send('CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'x', 'PREFIX', 'y');
        c.send('CLIENT', 'TRACKINGINFO');
        const head = await c.drain();
        w.send('SET', 'x1', '1');
        w.send('SET', 'y2', '2');
        w.send('SET', 'z', '1');
        w.send('MSET', 'x3', '1', 'x4', '2');
        await w.drain();
        // Broadcasts go out after the I/O turn: poll until all four keys came.
        const deadline = Date.now() + 10_000;
        let got = '';
        while (keysOf(got).length < 4 && Date.now() < deadline) got += await c.drain();
        return [head, ...keysOf(got)];
      } finally {
        done();
      }
    });
  });

  it('REDIRECT to a RESP2 connection subscribed to __redis__:invalidate; a redirect that went away is broken', async () => {
    await same(async (port) => {
      const { c, w, done } = await pair(port, false);
      const r = await Conn.open(port);
      const out: string[] = [];
      try {
        const rid = await clientId(r);
        r.send('SUBSCRIBE', '__redis__:invalidate');
        await r.until('\r\n:1\r\n');
        r.log = '';
        c.send('CLIENT', 'TRACKING', 'on', 'REDIRECT', rid);
        c.send('GET', 'a');
        out.push((await c.drain()).replace(rid, 'ID'));
        w.send('SET', 'a', '1');
        await w.drain();
        out.push(await r.drain(true));
        c.send('CLIENT', 'GETREDIR');
        out.push((await c.drain()).replace(rid, 'ID'));
        c.send('GET', 'a');
        await c.drain();
        // The target goes away (killed, so both servers have dropped it when KILL answers).
        w.send('CLIENT', 'KILL', 'ID', rid);
        out.push(await w.drain());
        w.send('SET', 'a', '2');
        await w.drain();
        c.send('CLIENT', 'TRACKINGINFO');
        out.push((await c.drain()).replace(rid, 'ID'));
        return out;
      } finally {
        r.close();
        done();
      }
    });
  });

  it('keeps at most tracking-table-max-keys keys: the oldest is dropped and its readers told', async () => {
    const c = await Conn.open(node.port);
    const w = await Conn.open(node.port);
    try {
      w.send('FLUSHALL'); // an empty tracking table to start from
      w.send('CONFIG', 'SET', 'tracking-table-max-keys', '2');
      await w.drain();
      c.send('HELLO', '3');
      await c.drain();
      c.send('CLIENT', 'TRACKING', 'on');
      c.send('GET', 'k1');
      c.send('GET', 'k2');
      c.send('GET', 'k3'); // the third: k1, the oldest, goes (told after this GET's reply)
      expect(await c.drain()).toBe('+OK\r\n_\r\n_\r\n_\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk1\r\n');
      w.send('INFO', 'stats');
      expect(await w.drain()).toContain('tracking_total_keys:2\r\n');
    } finally {
      w.send('CONFIG', 'SET', 'tracking-table-max-keys', '1000000');
      await w.drain();
      c.close();
      w.close();
    }
  });

  it('refuses bad option mixes with Redis errors, and counts tracking clients and keys in INFO', async () => {
    await same(async (port) => {
      const { c, w, done } = await pair(port);
      try {
        for (const args of [
          ['CLIENT', 'CACHING', 'yes'], ['CLIENT', 'TRACKING', 'on', 'OPTIN', 'BCAST'], ['CLIENT', 'TRACKING', 'on', 'PREFIX', 'x'],
          ['CLIENT', 'TRACKING', 'on', 'OPTIN', 'OPTOUT'], ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'ab', 'PREFIX', 'a'],
          ['CLIENT', 'TRACKING', 'on', 'REDIRECT', '999999'], ['CLIENT', 'TRACKING', 'on', 'REDIRECT', 'x'], ['CLIENT', 'TRACKING', 'x'],
          ['CLIENT', 'TRACKING', 'on', 'bogus'], ['CLIENT', 'TRACKING', 'on', 'OPTIN'], ['CLIENT', 'CACHING', 'no'], ['CLIENT', 'CACHING', 'maybe'],
          ['CLIENT', 'TRACKING', 'on', 'OPTOUT'], ['CLIENT', 'TRACKING', 'on', 'BCAST'], ['CLIENT', 'TRACKING', 'off'],
          ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'a'], ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'ab'],
          ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'b'], ['CLIENT', 'TRACKINGINFO'], ['CLIENT', 'TRACKING', 'off'],
          ['CLIENT', 'TRACKING', 'on'], ['GET', 'k1'], ['MGET', 'k2', 'k3'],
        ]) c.send(...args);
        const replies = await c.drain();
        w.send('INFO', 'clients');
        w.send('INFO', 'stats');
        const info = (await w.drain()).split('\r\n').filter((l) => l.startsWith('tracking_'));
        return [replies, ...info];
      } finally {
        done();
      }
    });
  });
});
