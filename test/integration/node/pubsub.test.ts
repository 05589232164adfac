// Pub/sub: our node vs real redis-server, byte for byte. Subscribers and publishers are separate
// connections on each server; confirmations and messages are compared as raw frames (RESP2 arrays,
// RESP3 pushes).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { usePair } from '../../helpers/differential.js';
import { FrameDuo } from '../../helpers/frame-client.js';
import { waitFor } from '../../helpers/wait-for.js';

describe('pub/sub matches redis-server', () => {
  const p = usePair();
  const open: FrameDuo[] = [];
  const duo = async () => {
    const d = await FrameDuo.open(p.node.port, p.redisServer.port);
    open.push(d);
    return d;
  };
  beforeEach(async () => {
    await p.both('FLUSHALL');
  });
  afterEach(async () => {
    for (const d of open.splice(0)) d.close();
    // Closed subscribers must be gone before the next test counts channels.
    await waitFor(async () => {
      const [a, b] = await p.both('PUBSUB', 'NUMPAT');
      const [c, d] = await p.both('PUBSUB', 'CHANNELS');
      return a === 0 && b === 0 && (c as unknown[]).length === 0 && (d as unknown[]).length === 0;
    }, { what: 'subscribers of the previous test to disconnect' });
  });

  it('confirms (un)subscriptions with per-client counts (RESP2)', async () => {
    const sub = await duo();
    await sub.same(1, 'UNSUBSCRIBE');
    await sub.same(1, 'PUNSUBSCRIBE');
    await sub.same(1, 'SUNSUBSCRIBE');
    await sub.same(3, 'SUBSCRIBE', 'a', 'b', 'a');
    await sub.same(2, 'PSUBSCRIBE', 'p*', 'q?');
    // Shard channels are counted on their own.
    await sub.same(2, 'SSUBSCRIBE', 's1', 's2');
    await sub.same(1, 'UNSUBSCRIBE', 'not-subscribed');
    await sub.same(1, 'PUNSUBSCRIBE', 'p*');
    await sub.same(2, 'SUNSUBSCRIBE', 's1', 's1');
    await sub.sameUnordered(2, 'UNSUBSCRIBE');
    // Only the pattern is left: UNSUBSCRIBE of all with no channels still reports it.
    await sub.same(1, 'UNSUBSCRIBE');
    await sub.same(1, 'PUNSUBSCRIBE');
    await sub.same(1, 'SUNSUBSCRIBE');
    await sub.same(1, 'GET', 'x');
  });

  it('restricts a RESP2 subscriber to the pub/sub commands', async () => {
    const sub = await duo();
    await sub.same(1, 'SUBSCRIBE', 'a');
    await sub.same(1, 'GET', 'x');
    await sub.same(1, 'SET', 'x', '1');
    await sub.same(1, 'PUBSUB', 'NUMPAT');
    await sub.same(1, 'PING');
    await sub.same(1, 'PING', 'hello');
    await sub.same(1, 'SSUBSCRIBE', 's');
    await sub.same(1, 'UNSUBSCRIBE', 'a');
    // Still subscribed to a shard channel: still restricted.
    await sub.same(1, 'GET', 'x');
    await sub.same(1, 'SUNSUBSCRIBE');
    await sub.same(1, 'GET', 'x');
    await sub.same(1, 'PING');
    await sub.same(1, 'PSUBSCRIBE', 'x*');
    await sub.same(1, 'RESET');
    await sub.same(1, 'GET', 'x');
    await sub.same(1, 'PUBSUB', 'NUMPAT');
  });

  it('delivers messages, pattern messages and shard messages to other connections', async () => {
    const sub = await duo();
    const pub = await duo();
    await sub.same(2, 'SUBSCRIBE', 'news', 'bin\x00ary');
    await sub.same(3, 'PSUBSCRIBE', 'n*', 'ne?s', 'x*');
    await sub.same(1, 'SSUBSCRIBE', 'shard');
    // One channel subscription + two matching patterns = three receivers and three frames.
    await pub.same(1, 'PUBLISH', 'news', 'hello');
    await sub.sameFrames(1, 'message first');
    // Redis walks its patterns in hash-table order.
    await sub.sameFramesUnordered(2, 'pmessages');
    await pub.same(1, 'PUBLISH', 'nope', 'x');
    await sub.sameFrames(1, 'pmessage n*');
    await pub.same(1, 'PUBLISH', 'other', 'x');
    await pub.same(1, 'PUBLISH', 'bin\x00ary', 'payload\r\nwith\x00bytes');
    await sub.sameFrames(1, 'binary message');
    await pub.same(1, 'SPUBLISH', 'shard', 'sm');
    await sub.sameFrames(1, 'smessage');
    // PUBLISH does not reach shard subscribers, nor SPUBLISH channel subscribers.
    await pub.same(1, 'PUBLISH', 'shard', 'x');
    await pub.same(1, 'SPUBLISH', 'news', 'x');
    await pub.same(1, 'PUBLISH', 'a');
    await pub.same(1, 'SPUBLISH', 'a', 'b', 'c');
    // Nothing else arrived.
    await sub.same(1, 'PING');
    expect(sub.ours.pending).toBe('');
  });

  it('counts every subscriber and delivers to each', async () => {
    const s1 = await duo();
    const s2 = await duo();
    const pub = await duo();
    await s1.same(1, 'SUBSCRIBE', 'c');
    await s2.same(1, 'SUBSCRIBE', 'c');
    await s2.same(1, 'PSUBSCRIBE', 'c*');
    await pub.same(1, 'PUBLISH', 'c', 'm');
    await s1.sameFrames(1);
    await s2.sameFrames(2);
    await pub.same(1, 'PUBSUB', 'NUMSUB', 'c', 'd');
    await pub.same(1, 'PUBSUB', 'NUMPAT');
    s1.close();
    // A disconnected subscriber stops counting.
    await waitFor(async () => {
      const [ours] = await p.both('PUBSUB', 'NUMSUB', 'c');
      return (ours as unknown[])[1] === 1;
    }, { what: 'closed subscriber to be dropped' });
    await waitFor(async () => {
      const [, redis] = await p.both('PUBSUB', 'NUMSUB', 'c');
      return (redis as unknown[])[1] === 1;
    }, { what: 'closed subscriber to be dropped by redis' });
    await pub.same(1, 'PUBLISH', 'c', 'm2');
    await s2.sameFrames(2);
  });

  it('delivers a pipeline of messages in order', async () => {
    const sub = await duo();
    const pub = await duo();
    await sub.same(1, 'SUBSCRIBE', 'burst');
    for (let i = 0; i < 300; i++) {
      pub.ours.send('PUBLISH', 'burst', `m${i}`);
      pub.redis.send('PUBLISH', 'burst', `m${i}`);
    }
    await pub.sameFrames(300, 'receiver counts');
    await sub.sameFrames(300, 'messages in order');
  });

  it('speaks RESP3 push frames and allows any command while subscribed', async () => {
    const sub = await duo();
    const pub = await duo();
    await sub.both('HELLO', '3');
    await sub.same(1, 'UNSUBSCRIBE');
    await sub.same(2, 'SUBSCRIBE', 'a', 'b');
    await sub.same(1, 'PSUBSCRIBE', 'a*');
    await sub.same(1, 'SSUBSCRIBE', 's');
    await sub.same(1, 'GET', 'x');
    await sub.same(1, 'SET', 'x', '1');
    await sub.same(1, 'PING');
    await pub.same(1, 'PUBLISH', 'a', 'hi');
    await sub.sameFrames(2, 'message and pmessage pushes');
    await pub.same(1, 'SPUBLISH', 's', 'hi');
    await sub.sameFrames(1, 'smessage push');
    // Publishing to itself: the pushes come before the PUBLISH reply.
    await sub.same(3, 'PUBLISH', 'a', 'self');
    await sub.sameUnordered(2, 'UNSUBSCRIBE');
    await sub.same(1, 'UNSUBSCRIBE');
    await sub.same(1, 'PUNSUBSCRIBE', 'a*', 'zz');
    await sub.same(1, 'SUNSUBSCRIBE');
    await sub.same(1, 'SUNSUBSCRIBE');
    await sub.same(1, 'PUBSUB', 'NUMSUB', 'a');
  });

  it('answers PUBSUB introspection', async () => {
    const sub = await duo();
    const q = await duo();
    await sub.same(3, 'SUBSCRIBE', 'news.a', 'news.b', 'other');
    await sub.same(2, 'PSUBSCRIBE', 'news.*', 'x');
    await sub.same(2, 'SSUBSCRIBE', 'sh1', 'sh2');
    await q.same(1, 'PSUBSCRIBE', 'x');
    await q.same(1, 'RESET');
    await q.same(1, 'PSUBSCRIBE', 'news.*');
    await q.same(1, 'RESET');
    await p.sameUnordered(
      ['PUBSUB', 'CHANNELS'], ['PUBSUB', 'CHANNELS', 'news.*'], ['PUBSUB', 'CHANNELS', 'zz*'], ['pubsub', 'channels', 'n?ws.[ab]'],
      ['PUBSUB', 'SHARDCHANNELS'], ['PUBSUB', 'SHARDCHANNELS', '*2'],
    );
    await p.same(
      ['PUBSUB', 'NUMSUB'], ['PUBSUB', 'NUMSUB', 'news.a', 'nope', 'news.a'], ['PUBSUB', 'NUMPAT'],
      ['PUBSUB', 'SHARDNUMSUB'], ['PUBSUB', 'SHARDNUMSUB', 'sh1', 'news.a'],
      ['PUBSUB', 'HELP'], ['PUBSUB'], ['PUBSUB', 'FOO'], ['PUBSUB', 'NUMPAT', 'x'], ['PUBSUB', 'HELP', 'x'],
      ['PUBSUB', 'CHANNELS', 'a', 'b'], ['pubsub', 'shardchannels', 'a', 'b'],
      ['SUBSCRIBE'], ['PSUBSCRIBE'], ['SSUBSCRIBE'], ['PUBLISH', 'a'],
    );
    await p.both('HELLO', '3');
    await p.same(['PUBSUB', 'NUMSUB', 'news.a'], ['PUBSUB', 'SHARDNUMSUB', 'sh2'], ['PUBSUB', 'NUMPAT']);
    await p.sameUnordered(['PUBSUB', 'CHANNELS', 'news.*']);
    await p.both('HELLO', '2');
  });

  it('subscribes inside MULTI/EXEC but refuses SSUBSCRIBE there', async () => {
    const c = await duo();
    await c.same(1, 'MULTI');
    await c.same(1, 'SUBSCRIBE', 'q');
    await c.same(1, 'SSUBSCRIBE', 'q');
    await c.same(1, 'PING');
    await c.same(1, 'SET', 'k', 'v');
    await c.same(1, 'EXEC');
    await c.same(1, 'PING');
    await c.same(1, 'UNSUBSCRIBE');
    await c.both('HELLO', '3');
    await c.same(1, 'MULTI');
    await c.same(1, 'PSUBSCRIBE', 'q*');
    await c.same(1, 'PUBLISH', 'qq', 'm');
    // The message is pushed in the middle of the EXEC reply (as Redis 7.0 does): the array holds the
    // psubscribe and pmessage pushes, and PUBLISH's count follows as one more frame.
    await c.same(2, 'EXEC');
  });
});
