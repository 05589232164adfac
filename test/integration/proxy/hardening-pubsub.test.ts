// Issue 7, exhaustion class: pub/sub through the proxy shares one subscriber link per master
// (client counts never become backend connection counts), confirms a subscription only when the
// backend really holds it, re-subscribes after a dropped link, and cuts off a subscriber that
// does not read. Real processes: etcd, two nodes with `maxclients 60`, proxies, redis-server.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import { ReplyErrorValue, type Reply } from '../../../common/resp/reply-decoder.js';
import { slotOf } from '../../../common/slots.js';
import { type Cluster, type ProxyHandle, startCluster } from '../../helpers/cluster.js';
import { FrameClient, FrameDuo } from '../../helpers/frame-client.js';
import { callOnce, infoFields, RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

let cluster: Cluster;
let proxy: ProxyHandle;
const open: RawClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({ groups: 2, proxies: 1, nodeArgs: ['--maxclients', '60'] });
  proxy = cluster.proxies[0]!;
}, 60_000);

afterAll(async () => {
  for (const c of open) c.close();
  await cluster?.stop();
});

async function connect(port = proxy.port): Promise<RawClient> {
  const c = await RawClient.connect(port);
  open.push(c);
  return c;
}

/** A name whose slot lives on group index `g` (0 or 1: slots split evenly, 0-511 and 512-1023). */
function nameOn(g: number, prefix: string): string {
  for (let i = 0; ; i++) if ((slotOf(`${prefix}${i}`) < 512 ? 0 : 1) === g) return `${prefix}${i}`;
}

/** Sends one command and reads `n` replies (confirmations come one per name). */
async function callN(c: RawClient, n: number, ...args: string[]): Promise<Reply[]> {
  const replies = Array.from({ length: n }, () => c.nextReply());
  c.write(encodeCommand(args));
  return Promise.all(replies);
}

/** CLIENT LIST lines on a node, optionally of one TYPE. */
async function clientLines(port: number, type?: string): Promise<string[]> {
  const text = String(await callOnce(port, 'CLIENT', 'LIST', ...(type ? ['TYPE', type] : [])));
  return text.split('\n').filter((l) => l.startsWith('id='));
}

function rssMb(pid: number): number {
  return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))![1]) / 1024);
}

function masterPorts(): number[] {
  return cluster.groups.map((g) => g.port);
}

describe('200 subscribers through one proxy to nodes with maxclients 60', () => {
  const N = 200;
  const subs: RawClient[] = [];
  const news = nameOn(0, 'news-');

  it('all subscribe; each master sees one subscriber link from the proxy; INFO and GET keep working', async () => {
    for (let i = 0; i < N; i++) subs.push(await connect());
    const confirms = await Promise.all(subs.map((c, i) => callN(c, 2, 'SUBSCRIBE', news, `own-${i}`)));
    confirms.forEach((r, i) => expect(r).toEqual([['subscribe', news, 1], ['subscribe', `own-${i}`, 2]]));
    // Half of them also hold a pattern (subscribed on every master).
    const pats = await Promise.all(subs.filter((_, i) => i % 2 === 0).map((c) => callN(c, 1, 'PSUBSCRIBE', 'news-*')));
    for (const r of pats) expect(r).toEqual([['psubscribe', 'news-*', 3]]);

    const perMaster = await Promise.all(masterPorts().map((p) => clientLines(p, 'pubsub')));
    const allPerMaster = await Promise.all(masterPorts().map((p) => clientLines(p)));
    console.log(`pubsub links per master: ${perMaster.map((l) => l.length).join(', ')}; all clients per master: ${allPerMaster.map((l) => l.length).join(', ')}`);
    for (const lines of perMaster) expect(lines.length).toBe(1);
    for (const lines of allPerMaster) expect(lines.length).toBeLessThan(10);

    // Operators and ordinary clients are not locked out.
    for (const p of masterPorts()) expect(Number((await infoFields(p, 'clients')).connected_clients)).toBeLessThan(10);
    const c = await connect();
    for (const g of [0, 1]) {
      const key = nameOn(g, 'key-');
      expect(await c.call('SET', key, `v${g}`)).toMatchObject({ value: 'OK' });
      expect(await c.call('GET', key)).toBe(`v${g}`);
    }
  }, 60_000);

  it('a PUBLISH reaches every subscriber exactly once (channel and pattern)', async () => {
    const pub = await connect();
    // As the node sees it: one channel subscription and one pattern, both the proxy's link.
    expect(await pub.call('PUBLISH', news, 'hello')).toBe(2);
    const got = await Promise.all(subs.map((c, i) => Promise.all(Array.from({ length: i % 2 === 0 ? 2 : 1 }, () => c.nextReply()))));
    let messages = 0;
    let pmessages = 0;
    got.forEach((frames) => {
      for (const f of frames) {
        if ((f as Reply[])[0] === 'message') {
          expect(f).toEqual(['message', news, 'hello']);
          messages++;
        } else {
          expect(f).toEqual(['pmessage', 'news-*', news, 'hello']);
          pmessages++;
        }
      }
    });
    console.log(`one PUBLISH delivered: ${messages} messages, ${pmessages} pmessages`);
    expect([messages, pmessages]).toEqual([N, N / 2]);
    // Every client's own channel, on whichever master owns its slot.
    const counts = await Promise.all(subs.map((_, i) => pub.call('PUBLISH', `own-${i}`, `to-${i}`)));
    for (const n of counts) expect(n).toBe(1);
    const own = await Promise.all(subs.map((c) => c.nextReply()));
    own.forEach((f, i) => expect(f).toEqual(['message', `own-${i}`, `to-${i}`]));
    // Nothing else was queued for anyone: the next frame is the PING reply.
    const pongs = await Promise.all(subs.map((c) => c.call('PING')));
    for (const p of pongs) expect(p).toEqual(['pong', '']);
  }, 60_000);

  it('the backend subscription goes away with the last client that wanted it', async () => {
    const node = cluster.groups[0]!.port;
    for (let i = 0; i < N - 1; i++) {
      expect(await subs[i]!.call('UNSUBSCRIBE', news)).toEqual(['unsubscribe', news, i % 2 === 0 ? 2 : 1]);
    }
    expect(await callOnce(node, 'PUBSUB', 'CHANNELS', news)).toEqual([news]);
    expect(await subs[N - 1]!.call('UNSUBSCRIBE', news)).toEqual(['unsubscribe', news, 1]);
    await waitFor(async () => (await callOnce(node, 'PUBSUB', 'CHANNELS', news) as Reply[]).length === 0, { what: 'the node to drop the channel' });
    for (const p of masterPorts()) expect(await callOnce(p, 'PUBSUB', 'NUMPAT')).toBe(1);
    // Disconnecting releases the rest: patterns and own channels, then the links themselves.
    for (const c of subs) c.close();
    await waitFor(async () => {
      for (const p of masterPorts()) {
        if ((await callOnce(p, 'PUBSUB', 'NUMPAT')) !== 0) return false;
        if ((await callOnce(p, 'PUBSUB', 'CHANNELS') as Reply[]).length !== 0) return false;
        if ((await clientLines(p, 'pubsub')).length !== 0) return false;
      }
      return true;
    }, { what: 'every backend subscription and link to go away' });
  }, 60_000);
});

describe('many clients churning (un)subscriptions, pipelined', () => {
  it('every confirmation count matches a model; the nodes hold exactly the union; deliveries are exact', async () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed >>> 12) % n; // the low bits of this generator cycle quickly
    };
    const channels = Array.from({ length: 10 }, (_, i) => `churn-${i}`);
    const patterns = ['churn-1*', 'churn-[0-4]', '*-5'];
    const matches = (p: string, ch: string) => new RegExp(`^${p.replace(/\*/g, '.*')}$`).test(ch);
    const clients = await Promise.all(Array.from({ length: 30 }, () => connect()));
    const model = clients.map(() => ({ ch: new Set<string>(), pat: new Set<string>() }));
    await Promise.all(clients.map(async (c, ci) => {
      const m = model[ci]!;
      const expected: Reply[] = [];
      const bytes: Buffer[] = [];
      for (let op = 0; op < 40; op++) {
        const r = rnd(4);
        if (r < 2) {
          const names = [channels[rnd(10)]!, ...(rnd(3) === 0 ? [channels[rnd(10)]!] : [])];
          const verb = r === 0 ? 'SUBSCRIBE' : 'UNSUBSCRIBE';
          bytes.push(encodeCommand([verb, ...names]));
          for (const n of names) {
            if (r === 0) m.ch.add(n);
            else m.ch.delete(n);
            expected.push([verb.toLowerCase(), n, m.ch.size + m.pat.size]);
          }
        } else {
          const p = patterns[rnd(3)]!;
          const verb = r === 2 ? 'PSUBSCRIBE' : 'PUNSUBSCRIBE';
          bytes.push(encodeCommand([verb, p]));
          if (r === 2) m.pat.add(p);
          else m.pat.delete(p);
          expected.push([verb.toLowerCase(), p, m.ch.size + m.pat.size]);
        }
      }
      const replies = Array.from({ length: expected.length }, () => c.nextReply(15_000));
      c.write(Buffer.concat(bytes)); // one write: the proxy sees the whole burst at once
      expect(await Promise.all(replies)).toEqual(expected);
    }));
    // The nodes hold exactly what some client holds (unsubscribes may still be on their way).
    const checkUnion = async (live: typeof model) => {
      const wantChannels = [...new Set(live.flatMap((m) => [...m.ch]))].sort();
      const wantPatterns = new Set(live.flatMap((m) => [...m.pat])).size;
      await waitFor(async () => {
        const held: string[] = [];
        for (const p of masterPorts()) {
          held.push(...((await callOnce(p, 'PUBSUB', 'CHANNELS', 'churn-*')) as string[]));
          if ((await callOnce(p, 'PUBSUB', 'NUMPAT')) !== wantPatterns) return false;
        }
        return JSON.stringify(held.sort()) === JSON.stringify(wantChannels);
      }, { what: 'node subscriptions to equal the union of the clients\' ones' });
      return [wantChannels.length, wantPatterns];
    };
    const pub = await connect();
    const checkDelivery = async (live: number[], tag: string) => {
      for (const ch of channels) await pub.call('PUBLISH', ch, `${tag}-${ch}`);
      await Promise.all(live.map(async (ci) => {
        const [c, m] = [clients[ci]!, model[ci]!];
        const want: string[] = [];
        for (const ch of channels) {
          if (m.ch.has(ch)) want.push(JSON.stringify(['message', ch, `${tag}-${ch}`]));
          for (const p of m.pat) if (matches(p, ch)) want.push(JSON.stringify(['pmessage', p, ch, `${tag}-${ch}`]));
        }
        const got = await Promise.all(want.map(() => c.nextReply()));
        expect(got.map((g) => JSON.stringify(g)).sort()).toEqual(want.sort());
        // And nothing more: the next frame is the PING reply.
        const pong = await c.call('PING');
        if (m.ch.size + m.pat.size > 0) expect(pong).toEqual(['pong', '']);
        else expect(pong).toMatchObject({ value: 'PONG' });
      }));
    };
    const all = clients.map((_, i) => i);
    const [ch1, pat1] = await checkUnion(model);
    await checkDelivery(all, 'first');
    // Half disconnect without a word; the others drop a few channels and a pattern.
    const stay = all.filter((i) => i < 15);
    for (const i of all.filter((i) => i >= 15)) clients[i]!.close();
    await Promise.all(stay.map(async (i) => {
      const [c, m] = [clients[i]!, model[i]!];
      const drop = channels.slice(0, 6);
      const replies = Array.from({ length: drop.length + 1 }, () => c.nextReply());
      c.write(Buffer.concat([encodeCommand(['UNSUBSCRIBE', ...drop]), encodeCommand(['PUNSUBSCRIBE', '*-5'])]));
      await Promise.all(replies);
      for (const d of drop) m.ch.delete(d);
      m.pat.delete('*-5');
    }));
    const [ch2, pat2] = await checkUnion(stay.map((i) => model[i]!));
    await checkDelivery(stay, 'second');
    console.log(`churn: ${ch1} channels and ${pat1} patterns held by 30 clients, then ${ch2} and ${pat2} by 15`);
    for (const c of clients) c.close();
  }, 60_000);
});

describe('a refused backend link', () => {
  it('SUBSCRIBE gets an error, not a confirmation; it works once the node has room again', async () => {
    const full = cluster.groups[0]!.port;
    const fillers: RawClient[] = [];
    try {
      // Fill group 1's master up to its maxclients (the refused one is closed by the node).
      for (let i = 0; i < 80; i++) {
        const f = await RawClient.connect(full);
        const r = await f.call('PING');
        if (r instanceof ReplyErrorValue) {
          expect(r.message).toBe('ERR max number of clients reached');
          f.close();
          break;
        }
        fillers.push(f);
      }
      expect(fillers.length).toBeGreaterThan(40);
      const chan = nameOn(0, 'refused-');
      const c = await connect();
      const reply = await c.call('SUBSCRIBE', chan);
      expect(reply).toBeInstanceOf(ReplyErrorValue);
      expect((reply as ReplyErrorValue).message).toMatch(/^ERR backend 127\.0\.0\.1:\d+ \(group 1\).*max number of clients reached/);
      // The client is not in subscribed mode: an ordinary command runs (on the other group).
      const other = nameOn(1, 'free-');
      expect(await c.call('SET', other, '1')).toMatchObject({ value: 'OK' });
      // A pattern needs every master: refused too, and not left behind on the healthy one.
      const p = await c.call('PSUBSCRIBE', 'refused-*');
      expect(p).toBeInstanceOf(ReplyErrorValue);
      await waitFor(async () => (await callOnce(cluster.groups[1]!.port, 'PUBSUB', 'NUMPAT')) === 0, { what: 'no pattern on group 2' });
      expect(await c.call('PING')).toMatchObject({ value: 'PONG' });

      for (const f of fillers.splice(0)) f.close();
      // After the link's back-off (at most 2 s) the same request succeeds and really holds.
      await waitFor(async () => {
        const r = await c.call('SUBSCRIBE', chan);
        return Array.isArray(r) && r[0] === 'subscribe';
      }, { what: 'SUBSCRIBE to succeed', intervalMs: 200 });
      const pub = await connect();
      expect(await pub.call('PUBLISH', chan, 'after')).toBe(1);
      expect(await c.nextReply()).toEqual(['message', chan, 'after']);
      c.close();
    } finally {
      for (const f of fillers) f.close();
    }
  }, 60_000);
});

describe('a dropped subscriber link', () => {
  it('is re-established and re-subscribed; clients keep their subscriptions', async () => {
    const chan = nameOn(0, 'killed-');
    const node = cluster.groups[0]!.port;
    const subs = await Promise.all(Array.from({ length: 20 }, () => connect()));
    for (const s of subs) expect(await callN(s, 2, 'SUBSCRIBE', chan, 'other')).toEqual([['subscribe', chan, 1], ['subscribe', 'other', 2]]);
    const before = await clientLines(node, 'pubsub');
    expect(before.length).toBe(1);
    const killedAt = Date.now();
    expect(await callOnce(node, 'CLIENT', 'KILL', 'TYPE', 'pubsub')).toBe(1);
    await waitFor(async () => {
      const lines = await clientLines(node, 'pubsub');
      return lines.length === 1 && lines[0] !== before[0] && (await callOnce(node, 'PUBSUB', 'NUMSUB', chan) as Reply[])[1] === 1;
    }, { what: 'the proxy to re-subscribe' });
    console.log(`re-subscribed ${Date.now() - killedAt} ms after CLIENT KILL TYPE pubsub`);
    const pub = await connect();
    expect(await pub.call('PUBLISH', chan, 'later')).toBe(1);
    const got = await Promise.all(subs.map((s) => s.nextReply()));
    for (const f of got) expect(f).toEqual(['message', chan, 'later']);
    // Their counts are intact.
    for (const s of subs) expect(await s.call('UNSUBSCRIBE', chan)).toEqual(['unsubscribe', chan, 1]);
    expect(proxy.output()).toMatch(/subscriber link to 127\.0\.0\.1:\d+ lost/);
    for (const s of subs) s.close();
  }, 60_000);
});

describe('a subscriber that never reads', () => {
  it('is disconnected past the pub/sub output limit (32 MB); other subscribers get every message', async () => {
    const own = await cluster.startProxy();
    const chan = nameOn(1, 'firehose-');
    const slow = await connect(own.port);
    const fast = await connect(own.port);
    expect(await slow.call('SUBSCRIBE', chan)).toEqual(['subscribe', chan, 1]);
    expect(await fast.call('SUBSCRIBE', chan)).toEqual(['subscribe', chan, 1]);
    slow.socket.pause(); // never reads again
    const payload = 'x'.repeat(256 * 1024);
    const total = 200; // 50 MB: past the 32 MB limit plus what the kernel's socket buffers take
    const publisher = await connect(cluster.groups[1]!.port);
    const rssBefore = rssMb(own.proc.pid!);
    let rssPeak = rssBefore;
    const started = Date.now();
    let received = 0;
    for (let i = 0; i < total; i++) {
      expect(await publisher.call('PUBLISH', chan, payload)).toBe(1);
      const m = (await fast.nextReply(10_000)) as Reply[];
      expect(m[0]).toBe('message');
      expect((m[2] as string).length).toBe(payload.length);
      received++;
      if (i % 10 === 0) rssPeak = Math.max(rssPeak, rssMb(own.proc.pid!));
    }
    console.log(`proxy RSS ${rssBefore} MB before, peak ${rssPeak} MB while 50 MB went to a subscriber that never reads`);
    // What the proxy may hold for the slow one is 32 MB (plus the GC's slack), not the 50 MB sent.
    expect(rssPeak - rssBefore).toBeLessThan(150);
    console.log(`fast subscriber got ${received}/${total} messages of 256 KB in ${Date.now() - started} ms while the slow one was cut off`);
    const closed = await waitFor(() => /closing (subscriber|client) 127\.0\.0\.1:\d+.*/.exec(own.output()), { what: 'the slow subscriber to be closed' });
    console.log(`proxy: ${closed[0]}`);
    // The INFO connection counts itself: the fast subscriber and it remain.
    await waitFor(async () => Number((await infoFields(own.port, 'clients')).connected_clients) === 2, { what: 'the slow client to be gone' });
    expect(await fast.call('PING')).toEqual(['pong', '']);
  }, 90_000);
});

describe('client-visible behaviour is the same as redis-server', () => {
  let redis: ServerHandle;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await stopAll(redis);
  });

  for (const resp of [2, 3] as const) {
    it(`RESP${resp}: confirmations, counts, messages, PING, UNSUBSCRIBE without names, RESET`, async () => {
      const duo = await FrameDuo.open(proxy.port, redis.port);
      const pubs = await Promise.all([FrameClient.connect(proxy.port), FrameClient.connect(redis.port)]);
      const publish = async (ch: string, msg: string, sameCount = true) => {
        const replies = await Promise.all(pubs.map((p) => p.call(1, 'PUBLISH', ch, msg)));
        if (sameCount) expect(replies[0]).toBe(replies[1]);
      };
      try {
        if (resp === 3) {
          // HELLO's reply describes the server (different by design); only the switch matters.
          duo.ours.send('HELLO', '3');
          duo.redis.send('HELLO', '3');
          await Promise.all([duo.ours.frames(1), duo.redis.frames(1)]);
        }
        await duo.same(2, 'SUBSCRIBE', 'a', 'b');
        await duo.same(2, 'SUBSCRIBE', 'c', 'c');
        await duo.same(1, 'PSUBSCRIBE', 'p*');
        await duo.same(1, 'SSUBSCRIBE', 's1');
        await duo.same(1, 'PING');
        await duo.same(1, 'PING', 'hi');
        if (resp === 2) await duo.same(1, 'GET', 'k');
        await publish('a', 'one');
        await duo.sameFrames(1, 'message');
        await publish('pq', 'two');
        await duo.sameFrames(1, 'pmessage');
        await Promise.all([pubs[0].call(1, 'SPUBLISH', 's1', 'three'), pubs[1].call(1, 'SPUBLISH', 's1', 'three')]);
        await duo.sameFrames(1, 'smessage');
        await duo.same(1, 'UNSUBSCRIBE', 'nope');
        await duo.sameUnordered(3, 'UNSUBSCRIBE');
        await duo.same(1, 'UNSUBSCRIBE');
        await duo.same(1, 'PUNSUBSCRIBE');
        await duo.same(1, 'SUNSUBSCRIBE');
        await duo.same(2, 'SUBSCRIBE', 'x', 'y');
        await duo.same(1, 'RESET');
        await duo.same(1, 'GET', 'never-set-key');
        // (The proxy's UNSUBSCRIBE may still be on its way to the node: the count can differ, the
        // client must get nothing, which the PING below shows.)
        await publish('x', 'after-reset', false);
        await duo.same(1, 'PING');
        // Pipelined in one write: each confirmation carries the count of its moment.
        const burst = Buffer.concat([
          encodeCommand(['SUBSCRIBE', 'q']), encodeCommand(['UNSUBSCRIBE', 'q']), encodeCommand(['SUBSCRIBE', 'q', 'r']),
          encodeCommand(['PSUBSCRIBE', 'q*']), encodeCommand(['PING']), encodeCommand(['UNSUBSCRIBE', 'r', 'q']), encodeCommand(['PUNSUBSCRIBE', 'q*']),
        ]);
        duo.ours.socket.write(burst);
        duo.redis.socket.write(burst);
        await duo.sameFrames(9, 'pipelined (un)subscribes');
        if (resp === 3) {
          duo.ours.send('HELLO', '3');
          duo.redis.send('HELLO', '3');
          await Promise.all([duo.ours.frames(1), duo.redis.frames(1)]);
        }
        // A RESET right behind a SUBSCRIBE still waiting for its backend: answered in order, in
        // the protocol of its moment, and nothing stays subscribed.
        const reset = Buffer.concat([encodeCommand(['SUBSCRIBE', 'fresh-1', 'fresh-2']), encodeCommand(['RESET']), encodeCommand(['GET', 'never-set-key'])]);
        duo.ours.socket.write(reset);
        duo.redis.socket.write(reset);
        await duo.sameFrames(4, 'SUBSCRIBE, RESET, GET pipelined');
        await publish('fresh-1', 'nobody', false);
        await duo.same(1, 'PING');
        // QUIT while subscribed: +OK, then the connection closes and its subscriptions go.
        await duo.same(1, 'SUBSCRIBE', 'quitter');
        await duo.same(1, 'QUIT');
        await waitFor(() => duo.ours.socket.destroyed || duo.ours.socket.readableEnded, { what: 'the proxy to close after QUIT' });
        await waitFor(async () => ((await callOnce(cluster.groups[slotOf('quitter') < 512 ? 0 : 1]!.port, 'PUBSUB', 'NUMSUB', 'quitter')) as Reply[])[1] === 0, { what: 'quitter released' });
      } finally {
        duo.ours.close();
        duo.redis.close();
        for (const p of pubs) p.close();
      }
    }, 30_000);
  }
});

describe('a stopped master', () => {
  it('fails a SUBSCRIBE within the backend timeout; the other group is unaffected; all recovers on SIGCONT', async () => {
    const stopped = cluster.groups[1]!;
    const chan2 = nameOn(1, 'stopped-');
    const chan1 = nameOn(0, 'alive-');
    const holder = await connect();
    expect(await holder.call('SUBSCRIBE', chan2)).toEqual(['subscribe', chan2, 1]);
    stopped.proc.kill('SIGSTOP');
    try {
      const c = await connect();
      const started = Date.now();
      const pending = c.nextReply(15_000);
      c.write(encodeCommand(['SUBSCRIBE', nameOn(1, 'never-')]));
      // Meanwhile group 1 serves subscriptions and messages at once.
      const other = await connect();
      const t1 = Date.now();
      expect(await other.call('SUBSCRIBE', chan1)).toEqual(['subscribe', chan1, 1]);
      const pub = await connect();
      expect(await pub.call('PUBLISH', chan1, 'alive')).toBe(1);
      expect(await other.nextReply()).toEqual(['message', chan1, 'alive']);
      const otherMs = Date.now() - t1;
      const reply = await pending.catch((e) => e);
      const waited = Date.now() - started;
      console.log(`SUBSCRIBE to the stopped master failed after ${waited} ms (${String((reply as ReplyErrorValue).message)}); group 1 subscribe+publish took ${otherMs} ms meanwhile`);
      expect(reply).toBeInstanceOf(ReplyErrorValue);
      expect((reply as ReplyErrorValue).message).toMatch(/^ERR backend 127\.0\.0\.1:\d+ \(group 2\) unavailable/);
      expect(waited).toBeLessThan(8000); // backend-timeout 5 s + the link's check interval
      expect(otherMs).toBeLessThan(1000);
    } finally {
      stopped.proc.kill('SIGCONT');
    }
    // The holder kept its subscription: once the link is back and re-subscribed, messages flow.
    // Messages published before the new link's SUBSCRIBE holds are lost (the node may even count
    // the dropped link for a moment after SIGCONT): publish until one arrives.
    const pub = await connect();
    let n = 0;
    const first = holder.nextReply(15_000);
    let arrived = false;
    void first.then(() => (arrived = true), () => {});
    await waitFor(async () => {
      if (arrived) return true;
      await pub.call('PUBLISH', chan2, `resumed-${++n}`);
      return false;
    }, { what: 're-subscription on the resumed master', timeoutMs: 15_000, intervalMs: 200 });
    expect(await first).toEqual(['message', chan2, expect.stringMatching(/^resumed-\d+$/)]);
    // From then on every message arrives (late copies of earlier attempts may come first).
    expect(await pub.call('PUBLISH', chan2, 'final')).toBe(1);
    for (let i = 0; ; i++) {
      const m = (await holder.nextReply()) as Reply[];
      if (m[2] === 'final') break;
      expect(m[2]).toMatch(/^resumed-\d+$/);
      expect(i).toBeLessThan(n);
    }
    holder.close();
  }, 60_000);
});

describe('a slot moved to another group', () => {
  it('moves its channel subscription to the new master; messages keep arriving', async () => {
    const { encodeSlot } = await import('../../../common/model.js');
    const { slotKey } = await import('../../../common/store/keys.js');
    const chan = nameOn(0, 'moving-');
    const slot = slotOf(chan);
    const [from, to] = [cluster.groups[0]!.port, cluster.groups[1]!.port];
    const subs = await Promise.all(Array.from({ length: 5 }, () => connect()));
    for (const s of subs) expect(await s.call('SUBSCRIBE', chan)).toEqual(['subscribe', chan, 1]);
    expect(await callOnce(from, 'PUBSUB', 'CHANNELS', chan)).toEqual([chan]);
    await cluster.store.put(slotKey(cluster.product, slot), encodeSlot({ id: slot, state: { kind: 'online', group: 2 } }));
    await waitFor(async () => {
      const there = (await callOnce(to, 'PUBSUB', 'CHANNELS', chan)) as Reply[];
      const here = (await callOnce(from, 'PUBSUB', 'CHANNELS', chan)) as Reply[];
      return there.length === 1 && here.length === 0;
    }, { what: 'the subscription to follow the slot' });
    const pub = await connect();
    expect(await pub.call('PUBLISH', chan, 'moved')).toBe(1);
    for (const s of subs) expect(await s.nextReply()).toEqual(['message', chan, 'moved']);
    for (const s of subs) s.close();
  }, 60_000);
});

describe('password-protected nodes', () => {
  let secured: Cluster;
  beforeAll(async () => {
    secured = await startCluster({ groups: 2, proxies: 0, store: 'file', nodeArgs: ['--requirepass', 'node-secret'] });
  }, 60_000);
  afterAll(async () => {
    await secured?.stop();
  });

  it('the shared link authenticates; a wrong backend password is an error, never a confirmation', async () => {
    const good = await secured.startProxy(['--backend-password', 'node-secret']);
    const bad = await secured.startProxy(['--backend-password', 'wrong']);
    const c = await connect(good.port);
    expect(await callN(c, 2, 'SUBSCRIBE', 'secure-a', 'secure-b')).toEqual([['subscribe', 'secure-a', 1], ['subscribe', 'secure-b', 2]]);
    const pub = await connect(good.port);
    expect(await pub.call('PUBLISH', 'secure-b', 'hi')).toBe(1);
    expect(await c.nextReply()).toEqual(['message', 'secure-b', 'hi']);
    const refused = await connect(bad.port);
    const r = await refused.call('SUBSCRIBE', 'secure-a');
    expect(r).toBeInstanceOf(ReplyErrorValue);
    console.log(`wrong backend password: ${(r as ReplyErrorValue).message}`);
    expect((r as ReplyErrorValue).message).toMatch(/^ERR backend 127\.0\.0\.1:\d+ \(group \d\) unavailable: WRONGPASS/);
    // Nothing from the refused proxy holds on the node: only the good proxy's link counts.
    expect(await pub.call('PUBLISH', 'secure-a', 'only-one')).toBe(1);
  }, 60_000);
});
