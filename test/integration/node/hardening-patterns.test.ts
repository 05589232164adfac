// Issue 7, bounded pattern matching: the glob patterns that froze the node (a*a*…*a*b, 20 stars,
// against a 64-char name) answer in well under 100 ms in every pattern consumer, other clients'
// PING stays fast meanwhile, and tricky patterns select exactly what redis-server selects.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyErrorValue, type Reply } from '../../../common/resp/reply-decoder.js';
import { plain, usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';

const STARS20 = `${'a*'.repeat(20)}b`; // never matches an all-'a' name: the worst case for backtracking
const STARS20_HIT = `${'a*'.repeat(20)}a`; // matches it
const NAME64 = 'a'.repeat(64);

/** Median of three timings of `run` (the machine is shared; one sample can be a scheduling hiccup). */
async function medianMs(run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
  }
  return samples.sort((a, b) => a - b)[1]!;
}

function scanItems(reply: Reply): Reply[] {
  expect(Array.isArray(reply)).toBe(true);
  return (reply as Reply[])[1] as Reply[];
}

describe('adversarial glob patterns answer quickly in every consumer', () => {
  let node: ServerHandle;
  let c: RawClient;
  let other: RawClient;
  let subscriber: RawClient;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    node = await startNode();
    c = await RawClient.connect(node.port);
    other = await RawClient.connect(node.port);
    subscriber = await RawClient.connect(node.port);
    // 100 keys of 64 chars (63 'a' and one varying last char, never 'b'), plus one of each type.
    for (let i = 0; i < 100; i++) await c.call('SET', `${'a'.repeat(63)}${String.fromCharCode(i < 60 ? 33 + i : 100 + i)}`, 'v');
    await c.call('SET', NAME64, 'v');
    await c.call('HSET', 'h', NAME64, 'v', 'f', 'v');
    await c.call('SADD', 's', NAME64, 'm');
    await c.call('ZADD', 'z', '1', NAME64, '2', 'm');
    await subscriber.call('SUBSCRIBE', NAME64);
    await subscriber.call('SSUBSCRIBE', NAME64);
    await subscriber.call('PSUBSCRIBE', STARS20, STARS20_HIT);
    await subscriber.nextReply(); // the second PSUBSCRIBE confirmation
  });

  afterAll(async () => {
    for (const x of [c, other, subscriber]) x?.close();
    await stopAll(node);
    console.log('20-star pattern timings (median of 3, ms):', JSON.stringify(timings));
  });

  const cases: Array<[string, () => Promise<void>]> = [
    ['KEYS', async () => expect(await c.call('KEYS', STARS20)).toEqual([])],
    ['KEYS (matching)', async () => expect(await c.call('KEYS', STARS20_HIT)).toEqual([NAME64])],
    ['SCAN MATCH', async () => expect(scanItems(await c.call('SCAN', '0', 'MATCH', STARS20, 'COUNT', '1000'))).toEqual([])],
    ['HSCAN MATCH', async () => expect(scanItems(await c.call('HSCAN', 'h', '0', 'MATCH', STARS20))).toEqual([])],
    ['SSCAN MATCH', async () => expect(scanItems(await c.call('SSCAN', 's', '0', 'MATCH', STARS20))).toEqual([])],
    ['ZSCAN MATCH', async () => expect(scanItems(await c.call('ZSCAN', 'z', '0', 'MATCH', STARS20))).toEqual([])],
    ['ZSCAN MATCH (matching)', async () => expect(scanItems(await c.call('ZSCAN', 'z', '0', 'MATCH', STARS20_HIT))).toEqual([NAME64, '1'])],
    ['PUBSUB CHANNELS', async () => expect(await c.call('PUBSUB', 'CHANNELS', STARS20)).toEqual([])],
    ['PUBSUB SHARDCHANNELS', async () => expect(await c.call('PUBSUB', 'SHARDCHANNELS', STARS20)).toEqual([])],
    ['PUBSUB NUMPAT', async () => expect(await c.call('PUBSUB', 'NUMPAT')).toBe(2)],
    ['CONFIG GET', async () => expect(await c.call('CONFIG', 'GET', STARS20)).toEqual([])],
    // The channel subscriber plus the matching pattern; the 20-star non-match must not hang it.
    ['PUBLISH to a PSUBSCRIBEd pattern', async () => expect(await c.call('PUBLISH', NAME64, 'hi')).toBe(2)],
  ];

  it.each(cases)('%s', async (name, run) => {
    const ms = await medianMs(run);
    timings[name] = Number(ms.toFixed(2));
    expect(ms).toBeLessThan(100);
    const ping = await medianMs(() => other.call('PING'));
    expect(ping).toBeLessThan(100);
  });

  it('while a client pipelines 60 such commands, another client\'s PINGs stay under 100 ms', async () => {
    const hostile: Array<Promise<Reply>> = [];
    for (let i = 0; i < 10; i++) {
      hostile.push(c.call('KEYS', STARS20), c.call('SCAN', '0', 'MATCH', STARS20, 'COUNT', '1000'), c.call('HSCAN', 'h', '0', 'MATCH', STARS20));
      hostile.push(c.call('PUBSUB', 'CHANNELS', STARS20), c.call('CONFIG', 'GET', STARS20), c.call('PUBLISH', 'nobody-listens', 'x'));
    }
    const pings: number[] = [];
    let done = false;
    const all = Promise.all(hostile).finally(() => (done = true));
    while (!done || pings.length < 5) {
      const t0 = performance.now();
      await other.call('PING');
      pings.push(performance.now() - t0);
    }
    await all;
    timings['PING max while 60 hostile commands ran'] = Number(Math.max(...pings).toFixed(2));
    expect(Math.max(...pings)).toBeLessThan(100);
  });

  it('delivers the pmessage for the matching 20-star pattern and none for the other', async () => {
    await c.call('PUBLISH', NAME64, 'once');
    const seen: Reply[] = [];
    for (;;) {
      const r = await subscriber.nextReply();
      seen.push(r);
      if (Array.isArray(r) && r[r.length - 1] === 'once' && r[0] === 'pmessage') break;
    }
    const pmessages = seen.filter((r) => Array.isArray(r) && r[0] === 'pmessage');
    expect(pmessages.length).toBeGreaterThan(0);
    for (const m of pmessages) expect((m as Reply[])[1]).toBe(STARS20_HIT);
  });

  it('a pattern of 5000 stars and a 10 KB key still answers (Redis gives up past 1000 nested stars)', async () => {
    const long = 'a'.repeat(10_000);
    await c.call('SET', long, 'v');
    const ms = await medianMs(async () => {
      expect(await c.call('KEYS', '*a'.repeat(5000))).toEqual([]);
      expect(await c.call('KEYS', `${'a*'.repeat(500)}b`)).toEqual([]);
    });
    timings['KEYS 5000 stars / 500 stars x 10 KB key'] = Number(ms.toFixed(2));
    expect(ms).toBeLessThan(1000);
    await c.call('DEL', long);
  });
});

/** CONFIG GET's flat name/value array as sorted [name, value] pairs (dict order differs). */
function configPairs(r: Reply): string[][] {
  const flat = plain(r) as string[];
  const pairs: string[][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

// Keys with every special character; patterns exercising each rule and quirk of stringmatchlen.
const KEYS = [
  '', 'hello', 'hallo', 'hxllo', 'hllo', 'heeello', 'h[llo', 'a*b', 'a\\b', 'ab', 'aB', 'Ab', 'b', ']', '-', '^', '[', '*', '?',
  '\\', 'A', 'a', 'z', '_', '\x80', '\x90', '\xff', 'a[', 'abc', 'a-c', 'a]c', 'foo:1', 'foo:22', 'FOO:3',
];
const PATTERNS = [
  '*', '**', '?', '??', 'h?llo', 'h*llo', 'h**llo', 'h[ae]llo', 'h[^e]llo', 'h[a-b]llo', 'h[b-a]llo', '[z-a]', '[a-]', '[a-]*',
  '[abc', '[', '[^', '[^]', '[]', '[]]', '[]a]', '\\*', '\\', 'a\\', 'a\\\\b', '[\\]]', '[\\-]', '[a\\-c]', '[a-\xff]',
  '[\x80-\xff]', '[\xff-\x80]', '[!a]', '[-a]', '[a-b-c]', 'a[', 'a[bc', '*\\**', '[*]', '[?]', '*[', 'foo:*', 'foo:??', 'FOO:*',
  '[f]oo:[0-9]*', 'a?c', 'a[^b]c', '\\a*', '*?*', '?*?', '*[^a-z]', '[[]*', '^*',
];

describe('tricky patterns select what redis-server selects', () => {
  const p = usePair();

  beforeAll(async () => {
    await p.both('FLUSHALL');
    for (const k of KEYS) await p.both('SET', k, 'v');
    for (const k of KEYS) {
      await p.both('HSET', 'hash', k === '' ? 'empty' : k, 'v');
      await p.both('SADD', 'set', k);
      await p.both('ZADD', 'zset', '1', k);
    }
  });

  it.each(PATTERNS)('KEYS %j', async (pattern) => {
    await p.sameUnordered(['KEYS', pattern]);
  });

  it('random patterns over the special characters select the same keys (KEYS)', async () => {
    const chars = ['a', 'b', 'h', 'l', 'o', 'A', '*', '?', '[', ']', '^', '-', '\\', '\x80', '\xff', ':'];
    const pattern = fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 8 }).map((a) => a.join(''));
    await fc.assert(
      fc.asyncProperty(pattern, async (pat) => {
        await p.sameUnordered(['KEYS', pat]);
      }),
      { numRuns: 400 },
    );
  });

  it('SCAN, HSCAN, SSCAN and ZSCAN MATCH agree on every pattern', async () => {
    for (const pattern of PATTERNS) {
      await p.sameUnordered(
        ['SCAN', '0', 'MATCH', pattern, 'COUNT', '1000'],
        ['HSCAN', 'hash', '0', 'MATCH', pattern, 'COUNT', '1000'],
        ['SSCAN', 'set', '0', 'MATCH', pattern, 'COUNT', '1000'],
      );
      // ZSCAN pairs members with scores: compare as sets of members.
      const [ours, redis] = await p.both('ZSCAN', 'zset', '0', 'MATCH', pattern, 'COUNT', '1000');
      const members = (r: Reply) => ((plain(r) as [string, string[]])[1].filter((_, i) => i % 2 === 0)).sort();
      expect(members(ours), pattern).toEqual(members(redis));
    }
  });

  it('PUBLISH counts the same pattern subscribers (PSUBSCRIBE uses the matcher with no `*` shortcut)', async () => {
    const subs = await Promise.all([RawClient.connect(p.node.port), RawClient.connect(p.redisServer.port)]);
    try {
      for (const s of subs) {
        await s.call('PSUBSCRIBE', ...PATTERNS);
        for (let i = 1; i < PATTERNS.length; i++) await s.nextReply();
      }
      for (const channel of KEYS) await p.same(['PUBLISH', channel, 'x']);
      await p.same(['PUBSUB', 'NUMPAT']);
    } finally {
      for (const s of subs) s.close();
    }
  });

  it('PUBSUB CHANNELS agrees on every pattern', async () => {
    const subs = await Promise.all([RawClient.connect(p.node.port), RawClient.connect(p.redisServer.port)]);
    try {
      for (const s of subs) {
        await s.call('SUBSCRIBE', ...KEYS);
        for (let i = 1; i < KEYS.length; i++) await s.nextReply();
      }
      for (const pattern of PATTERNS) await p.sameUnordered(['PUBSUB', 'CHANNELS', pattern]);
    } finally {
      for (const s of subs) s.close();
    }
  });

  it('CONFIG GET matches names case-insensitively, escapes included', async () => {
    for (const pattern of ['MAXMEMORY-[p-s]*', 'maxmemory-?olicy', 'Maxmemory-Policy', '[M]AXMEMORY', 'maxmemory-\\policy', 'hz', 'h[!z]']) {
      const [ours, redis] = await p.both('CONFIG', 'GET', pattern);
      expect(ours instanceof ReplyErrorValue).toBe(false);
      expect(configPairs(ours), pattern).toEqual(configPairs(redis));
    }
  });
});
