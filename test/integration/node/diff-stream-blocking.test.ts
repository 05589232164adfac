// Blocked stream readers and stream keyspace notifications: our node vs real redis-server 7.0, the
// same commands, the same replies and events. How FLUSHALL / FLUSHDB / SWAPDB / expiry / RENAME /
// type changes end a blocked XREADGROUP (and leave a blocked XREAD waiting), XREAD / XREADGROUP
// BLOCK refused inside EVAL and FCALL, and the events of every stream command in order.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { plain, usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

type Cmd = Array<string | number>;

/**
 * Every event each subscriber got until now: a sentinel PUBLISH (through `publishers`, one per
 * subscriber's server) ends each collection.
 */
async function collectEvents(publishers: RawClient[], subscribers: RawClient[]): Promise<[unknown[], unknown[]]> {
  for (const c of publishers) await c.call('PUBLISH', '__keyspace@0__:end-of-test', 'done');
  const out: unknown[][] = [];
  for (const c of subscribers) {
    const events: unknown[] = [];
    for (let i = 0; i < 10_000; i++) {
      const m = plain((await c.nextReply()) as Reply) as string[];
      if (m[2] === '__keyspace@0__:end-of-test') break;
      events.push(m.slice(2));
    }
    out.push(events);
  }
  return out as [unknown[], unknown[]];
}

describe('stream blocking and notifications match redis-server 7.0', () => {
  const p = usePair(['--enable-debug-command', 'yes']); // DEBUG SET-ACTIVE-EXPIRE for the lazy expiry case
  /** Per server: [XREADGROUP reader, XREAD reader, subscriber]. */
  let ours: RawClient[] = [];
  let redis: RawClient[] = [];
  /** CLIENT ID of each server's two readers. */
  let ourIds: number[] = [];
  let redisIds: number[] = [];
  beforeAll(async () => {
    ours = await Promise.all([0, 1, 2].map(() => RawClient.connect(p.node.port)));
    redis = await Promise.all([0, 1, 2].map(() => RawClient.connect(p.redisServer.port)));
    ourIds = await Promise.all(ours.slice(0, 2).map(async (c) => (await c.call('CLIENT', 'ID')) as number));
    redisIds = await Promise.all(redis.slice(0, 2).map(async (c) => (await c.call('CLIENT', 'ID')) as number));
  });
  afterAll(() => {
    for (const c of [...ours, ...redis]) c.close();
  });
  afterEach(async () => {
    // A reader a failed test left blocked would hold its connection's later commands: let it go.
    for (const [server, readerIds] of [[p.ours, ourIds], [p.redis, redisIds]] as const) {
      for (const id of readerIds) await server.call('CLIENT', 'UNBLOCK', String(id));
    }
  });
  beforeEach(async () => {
    await p.both('FLUSHALL');
    await p.both('CONFIG', 'SET', 'notify-keyspace-events', '');
  });

  async function blockedIn(n: number): Promise<void> {
    for (const c of [p.ours, p.redis]) {
      await waitFor(async () => String(await c.call('INFO', 'clients')).includes(`blocked_clients:${n}\r\n`), { timeoutMs: 5000, what: `${n} blocked clients` });
    }
  }

  async function blockedCount(c: RawClient): Promise<string> {
    return /blocked_clients:(\d+)/.exec(String(await c.call('INFO', 'clients')))![1]!;
  }

  /** Runs commands on both, one after another, without comparing (setup). */
  async function setup(...commands: Cmd[]): Promise<void> {
    for (const cmd of commands) await p.both(...cmd);
  }

  // Each case: the state before (stream w in db 0 with group g at its top, XREADGROUP and XREAD
  // blocked on it), the commands that change it, and what 7.0.15 answers the XREADGROUP.
  const endings: Array<{ what: string; before?: Cmd[]; run: Cmd[]; expect: RegExp }> = [
    { what: 'FLUSHALL', run: [['FLUSHALL']], expect: /UNBLOCKED the stream key no longer exists/ },
    { what: 'FLUSHALL ASYNC', run: [['FLUSHALL', 'ASYNC']], expect: /UNBLOCKED/ },
    { what: 'FLUSHDB', run: [['FLUSHDB']], expect: /UNBLOCKED/ },
    { what: 'FLUSHDB in MULTI', run: [['MULTI'], ['FLUSHDB', 'SYNC'], ['EXEC']], expect: /UNBLOCKED/ },
    { what: 'SWAPDB with an empty db', run: [['SWAPDB', '0', '1']], expect: /UNBLOCKED/ },
    { what: 'SWAPDB with a list there', before: [['RPUSH', 'w', 'x']], run: [['SWAPDB', '1', '0']], expect: /UNBLOCKED/ },
    { what: 'SWAPDB with a stream without the group', before: [['XADD', 'w', '5-0', 'f', 'v']], run: [['SWAPDB', '0', '1']], expect: /NOGROUP the consumer group this client was blocked on no longer exists/ },
    { what: 'SWAPDB with a stream with the group', before: [['XADD', 'w', '5-0', 'f', 'v'], ['XGROUP', 'CREATE', 'w', 'g', '0']], run: [['SWAPDB', '0', '1']], expect: /5-0/ },
    { what: 'active expiry', run: [['PEXPIRE', 'w', '30']], expect: /UNBLOCKED/ },
    { what: 'an expiry time in the past', run: [['PEXPIREAT', 'w', '1']], expect: /UNBLOCKED/ },
    { what: 'RENAME of a string over it', run: [['SET', 'x', '1'], ['RENAME', 'x', 'w']], expect: /UNBLOCKED/ },
    { what: 'RENAME of it away', run: [['RENAME', 'w', 'y']], expect: /UNBLOCKED/ },
    { what: 'RENAME of a stream without the group over it', run: [['XADD', 'st', '9-0', 'f', 'v'], ['RENAME', 'st', 'w']], expect: /NOGROUP/ },
    { what: 'RENAME of a stream with the group over it', run: [['XADD', 'st', '9-0', 'f', 'v'], ['XGROUP', 'CREATE', 'st', 'g', '0'], ['RENAME', 'st', 'w']], expect: /9-0/ },
    { what: 'COPY of a string over it', run: [['SET', 'x', '1'], ['COPY', 'x', 'w', 'REPLACE']], expect: /UNBLOCKED/ },
    { what: 'COPY of a stream with the group over it', run: [['XADD', 'st', '8-0', 'f', 'v'], ['XGROUP', 'CREATE', 'st', 'g', '0'], ['COPY', 'st', 'w', 'REPLACE']], expect: /8-0/ },
    { what: 'MOVE to another db', run: [['MOVE', 'w', '1']], expect: /UNBLOCKED/ },
    { what: 'UNLINK', run: [['UNLINK', 'w']], expect: /UNBLOCKED/ },
    { what: 'deleted and re-created as a list in one EXEC', run: [['MULTI'], ['DEL', 'w'], ['RPUSH', 'w', 'a'], ['EXEC']], expect: /UNBLOCKED/ },
    { what: 'deleted and re-created as a stream in one EXEC', run: [['MULTI'], ['DEL', 'w'], ['XADD', 'w', '7-0', 'f', 'v'], ['EXEC']], expect: /NOGROUP/ },
  ];

  it('a blocked XREADGROUP ends and a blocked XREAD waits on as 7.0 does: FLUSHALL/FLUSHDB/SWAPDB/expiry/RENAME/MOVE/type change', async () => {
    for (const c of endings) {
      await setup(['FLUSHALL'], ['SELECT', '1'], ...(c.before ?? []), ['SELECT', '0'], ['XADD', 'w', '1-0', 'f', 'v'], ['XGROUP', 'CREATE', 'w', 'g', '$']);
      const group = [ours[0]!, redis[0]!].map((r) => r.call('XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '0', 'STREAMS', 'w', '>'));
      const plainRead = [ours[1]!, redis[1]!].map((r) => r.call('XREAD', 'BLOCK', '0', 'STREAMS', 'w', '$'));
      await blockedIn(2);
      await p.same(...c.run);
      const ended = await Promise.all(group);
      expect(plain(ended[0]!), `XREADGROUP after ${c.what}`).toEqual(plain(ended[1]!));
      expect(JSON.stringify(plain(ended[0]!)), c.what).toMatch(c.expect);
      // Whether the XREAD was served by the change or still waits (then only a new entry ends it).
      expect(await blockedCount(p.ours), `blocked XREADs after ${c.what}`).toBe(await blockedCount(p.redis));
      // A key left as another type goes first (a DEL serves no XREAD), then a new entry.
      await setup(['SELECT', '0'], ['DEL', 'w'], ['XADD', 'w', '99-0', 'f', 'end']);
      const read = await Promise.all(plainRead);
      expect(plain(read[0]!), `XREAD after ${c.what}`).toEqual(plain(read[1]!));
    }
  });

  it('a lazily expired stream ends a blocked XREADGROUP with -UNBLOCKED; XREAD waits on', async () => {
    expect(plain((await p.same(['DEBUG', 'SET-ACTIVE-EXPIRE', '0']))[0]!)).toBe('+OK');
    await setup(['XADD', 'w', '1-0', 'f', 'v'], ['XGROUP', 'CREATE', 'w', 'g', '$']);
    try {
      const group = [ours[0]!, redis[0]!].map((r) => r.call('XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '0', 'STREAMS', 'w', '>'));
      const plainRead = [ours[1]!, redis[1]!].map((r) => r.call('XREAD', 'BLOCK', '0', 'STREAMS', 'w', '$'));
      await blockedIn(2);
      // A relative expiry (never in the past when it runs, however slow the machine) and each
      // server's clock read in the same transaction, to know when the key is due there.
      await p.same(['MULTI'], ['PEXPIRE', 'w', '30'], ['TIME']);
      const execs = (await p.both('EXEC')) as unknown as Array<[number, [string, string]]>;
      for (const [i, c] of [p.ours, p.redis].entries()) {
        const [s, us] = execs[i]![1];
        const due = Number(s) * 1000 + Number(us) / 1000 + 30;
        // Past the deadline by that server's clock (TIME touches no key): both readers still wait.
        await waitFor(async () => {
          const [s2, us2] = (await c.call('TIME')) as unknown as [string, string];
          return Number(s2) * 1000 + Number(us2) / 1000 > due + 1;
        }, { what: 'the server clock past the expiry' });
      }
      expect(await blockedCount(p.ours)).toBe('2');
      expect(await blockedCount(p.redis)).toBe('2');
      await p.same(['EXISTS', 'w']);
      const ended = await Promise.all(group);
      expect(plain(ended[0]!)).toEqual(plain(ended[1]!));
      expect(JSON.stringify(plain(ended[0]!))).toMatch(/UNBLOCKED/);
      await blockedIn(1);
      await p.both('XADD', 'w', '5-0', 'f', 'v');
      const read = await Promise.all(plainRead);
      expect(plain(read[0]!)).toEqual(plain(read[1]!));
    } finally {
      await p.same(['DEBUG', 'SET-ACTIVE-EXPIRE', '1']);
    }
  });

  it('XREAD / XREADGROUP with BLOCK inside EVAL and FCALL get 7.0\'s error', async () => {
    await setup(['XADD', 's', '1-0', 'f', 'v'], ['XGROUP', 'CREATE', 's', 'g', '0']);
    const evals: string[] = [
      "return redis.call('XREAD','BLOCK',0,'STREAMS','s','$')",
      "return redis.call('xread','block','100','STREAMS','s','0')", // data there: still refused
      "return redis.call('XREADGROUP','GROUP','g','c','BLOCK',0,'STREAMS','s','>')",
      "return redis.pcall('XREADGROUP','GROUP','g','c','BLOCK','x','STREAMS','s','>')", // before the timeout is parsed
      "return redis.call('XREAD','COUNT','x','BLOCK',0,'STREAMS','s','$')", // COUNT first: its error first
      "return redis.call('XREAD','BLOCK',0,'COUNT','x','STREAMS','s','$')",
      "return redis.call('XREAD','BLOCK')", // arity before options
      "return redis.call('XREAD','STREAMS','s','0')", // no BLOCK: a plain read
      "local r = redis.pcall('XREAD','BLOCK',0,'STREAMS','s','$'); return {type(r), r['err']}",
    ];
    for (const body of evals) await p.same(['EVAL', body, '0']);
    await p.same(
      ['EVAL_RO', "return redis.call('XREAD','BLOCK',0,'STREAMS','s','$')", '0'],
      ['EVAL_RO', "return redis.call('XREADGROUP','GROUP','g','c','BLOCK',0,'STREAMS','s','>')", '0'], // a write: refused first
      ['MULTI'], ['EVAL', "return redis.call('XREAD','BLOCK',0,'STREAMS','s','$')", '0'], ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'], ['EXEC'],
    );
    const lib = [
      '#!lua name=blk',
      "redis.register_function('rd', function(keys, args) return redis.call('XREAD', 'BLOCK', 0, 'STREAMS', keys[1], '$') end)",
      "redis.register_function{function_name='rdro', callback=function(keys, args) return redis.call('XREAD', 'BLOCK', 5, 'STREAMS', keys[1], '0') end, flags={'no-writes'}}",
      "redis.register_function('rg', function(keys, args) return redis.call('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', keys[1], '>') end)",
    ].join('\n');
    await p.same(['FUNCTION', 'LOAD', 'REPLACE', lib], ['FCALL', 'rd', '1', 's'], ['FCALL_RO', 'rdro', '1', 's'], ['FCALL', 'rg', '1', 's'], ['XPENDING', 's', 'g']);
    await p.both('FUNCTION', 'FLUSH');
  });

  /** Subscribes both servers' subscriber clients to every keyspace and keyevent channel. */
  async function subscribeAll(): Promise<void> {
    const [a, b] = await Promise.all([ours[2]!, redis[2]!].map((c) => c.call('PSUBSCRIBE', '__key*__:*')));
    expect(plain(a!)).toEqual(plain(b!));
  }

  async function collect(): Promise<[unknown[], unknown[]]> {
    return collectEvents([p.ours, p.redis], [ours[2]!, redis[2]!]);
  }

  it('notify-keyspace-events: CONFIG SET checks and CONFIG GET texts as 7.0', async () => {
    // 'n' together with A is left out: 7.0.15 then prints "AKE" (see node/notify.ts).
    for (const flags of ['KEA', 'Kt', 'tE', 'KEnm', 'g$lshzxeKEtmd', 'KEd', 'KEl$', 'xe', 'A', 'X', 'KEa', '']) {
      await p.same(['CONFIG', 'SET', 'notify-keyspace-events', flags], ['CONFIG', 'GET', 'notify-keyspace-events']);
    }
  });

  it('stream keyspace notifications: event names, channels and order as 7.0 (KEA, n, K/E only, classes off)', async () => {
    await subscribeAll();
    try {
      await setup(['CONFIG', 'SET', 'notify-keyspace-events', 'KEA']);
      await p.same(
        ['XADD', 's', '1-0', 'f', 'v'], ['XADD', 's', 'MAXLEN', '1', '2-0', 'f', 'v'], ['XADD', 's', 'MAXLEN', '~', '1', '3-0', 'f', 'v'],
        ['XADD', 's', 'NOMKSTREAM', '4-0', 'f', 'v'], ['XADD', 'nos', 'NOMKSTREAM', '4-0', 'f', 'v'], ['XADD', 's', '1-0', 'f', 'v'],
        ['XTRIM', 's', 'MAXLEN', '1'], ['XTRIM', 's', 'MAXLEN', '5'], ['XTRIM', 's', 'MINID', '0'], ['XADD', 's', '5-0', 'f', 'v'],
        ['XDEL', 's', '5-0'], ['XDEL', 's', '9-0'], ['XDEL', 'nokey', '1-0'],
        ['XGROUP', 'CREATE', 's', 'g', '0'], ['XGROUP', 'CREATE', 's', 'g', '0'], ['XGROUP', 'CREATE', 's2', 'g', '$', 'MKSTREAM'],
        ['XGROUP', 'SETID', 's', 'g', '0'], ['XGROUP', 'SETID', 's', 'nog', '0'],
        ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c1'], ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c1'],
        ['XGROUP', 'DELCONSUMER', 's', 'g', 'c1'], ['XGROUP', 'DELCONSUMER', 's', 'g', 'nobody'],
        ['XADD', 's', '6-0', 'f', 'v'], ['XREADGROUP', 'GROUP', 'g', 'c2', 'STREAMS', 's', '>'], ['XREADGROUP', 'GROUP', 'g', 'c2', 'STREAMS', 's', '0'],
        ['XREADGROUP', 'GROUP', 'g', 'c3', 'STREAMS', 's', '>'], ['XREADGROUP', 'GROUP', 'g', 'c4', 'NOACK', 'STREAMS', 's', '>'],
        ['XACK', 's', 'g', '6-0'], ['XACK', 's', 'g', '6-0'], ['XPENDING', 's', 'g'], ['XREAD', 'STREAMS', 's', '0'], ['XRANGE', 's', '-', '+'],
        ['XLEN', 's'], ['XINFO', 'GROUPS', 's'], ['XADD', 's', '7-0', 'f', 'v'], ['XADD', 's', '8-0', 'f', 'v'],
        ['XREADGROUP', 'GROUP', 'g', 'c2', 'NOACK', 'COUNT', '1', 'STREAMS', 's', '>'], ['XREADGROUP', 'GROUP', 'g', 'c5', 'NOACK', 'STREAMS', 's', '>'],
        ['XCLAIM', 's', 'g', 'c6', '0', '6-0'], ['XCLAIM', 's', 'g', 'c6', '0', '7-0', 'FORCE', 'JUSTID'], ['XCLAIM', 's', 'g', 'c7', '0', '7-0'],
        ['XDEL', 's', '7-0'], ['XCLAIM', 's', 'g', 'c8', '0', '7-0'], ['XCLAIM', 's', 'g', 'c9', '0', '8-0', 'FORCE', 'LASTID', '9-0'],
        ['XAUTOCLAIM', 's', 'g', 'c10', '0', '0'], ['XAUTOCLAIM', 's', 'g', 'c11', '0', '0', 'JUSTID'], ['XAUTOCLAIM', 's', 'g', 'c12', '99999999', '0'],
        ['XSETID', 's', '10-0'], ['XSETID', 's', '1-0'], ['XSETID', 'nokey', '5'],
        ['XGROUP', 'DESTROY', 's', 'g'], ['XGROUP', 'DESTROY', 's', 'g'],
        ['SELECT', '3'], ['XADD', 's', '1-0', 'f', 'v'], ['XGROUP', 'CREATE', 's', 'g', '$'], ['SELECT', '0'],
        ['MULTI'], ['XADD', 'm', '1-0', 'f', 'v'], ['XTRIM', 'm', 'MAXLEN', '0'], ['XGROUP', 'CREATE', 'm', 'g', '0'], ['EXEC'],
        ['EVAL', "redis.call('XADD', KEYS[1], '2-0', 'f', 'v'); redis.call('XDEL', KEYS[1], '2-0'); return redis.call('XGROUP', 'CREATECONSUMER', KEYS[1], 'g', 'x')", '1', 'm'],
      );
      // 'n': keys the stream commands create; A leaves it out.
      await setup(['CONFIG', 'SET', 'notify-keyspace-events', 'KEAn']);
      await p.same(['XADD', 'n1', '1-0', 'f', 'v'], ['XADD', 'n1', '2-0', 'f', 'v'], ['XGROUP', 'CREATE', 'n2', 'g', '$', 'MKSTREAM'], ['XGROUP', 'CREATE', 'n1', 'g', '$', 'MKSTREAM']);
      // K or E alone, and the stream class alone or off.
      for (const flags of ['Kt', 'Et', 'KEt', 'KEg$lshzxe', 'KE', 't']) {
        await setup(['CONFIG', 'SET', 'notify-keyspace-events', flags]);
        await p.same(['XADD', `k-${flags}`, '1-0', 'f', 'v'], ['XGROUP', 'CREATE', `k-${flags}`, 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', `k-${flags}`, '>']);
      }
      const [a, b] = await collect();
      expect(a).toEqual(b);
      expect(a.length).toBeGreaterThan(60);
    } finally {
      await Promise.all([ours[2]!, redis[2]!].map((c) => c.call('PUNSUBSCRIBE')));
    }
  });

  it('a blocked XREADGROUP served by XADD: xadd, then the new consumer, in db 2', async () => {
    await subscribeAll();
    try {
      await setup(['CONFIG', 'SET', 'notify-keyspace-events', 'KEt'], ['SELECT', '2'], ['XGROUP', 'CREATE', 'b', 'g', '$', 'MKSTREAM']);
      await Promise.all([ours[0]!, redis[0]!].map((c) => c.call('SELECT', '2')));
      const group = [ours[0]!, redis[0]!].map((r) => r.call('XREADGROUP', 'GROUP', 'g', 'fresh', 'BLOCK', '0', 'STREAMS', 'b', '>'));
      await blockedIn(1);
      await p.same(['XADD', 'b', '1-0', 'f', 'v']);
      const got = await Promise.all(group);
      expect(plain(got[0]!)).toEqual(plain(got[1]!));
      await p.both('SELECT', '0');
      const [a, b] = await collect();
      expect(a).toEqual(b);
      expect(a).toEqual([
        ['__keyspace@2__:b', 'xgroup-create'], ['__keyevent@2__:xgroup-create', 'b'],
        ['__keyspace@2__:b', 'xadd'], ['__keyevent@2__:xadd', 'b'],
        ['__keyspace@2__:b', 'xgroup-createconsumer'], ['__keyevent@2__:xgroup-createconsumer', 'b'],
      ]);
    } finally {
      await Promise.all([ours[0]!, redis[0]!].map((c) => c.call('SELECT', '0')));
      await Promise.all([ours[2]!, redis[2]!].map((c) => c.call('PUNSUBSCRIBE')));
    }
  });
});

describe('stream notifications on replicas match a redis-server replica', () => {
  const handles: ServerHandle[] = [];
  const clients: RawClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    await stopAll(...handles);
  });

  it('a redis-server master\'s stream feeds our replica and a redis-server replica: the same events', async () => {
    const started = await Promise.allSettled([startRedis(['--repl-diskless-sync-delay', '0']), startNode(), startRedis()]);
    for (const s of started) if (s.status === 'fulfilled') handles.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [master, ourReplica, redisReplica] = handles as [ServerHandle, ServerHandle, ServerHandle];
    const connect = async (h: ServerHandle) => {
      const c = await RawClient.connect(h.port);
      clients.push(c);
      return c;
    };
    const m = await connect(master);
    const replicas = [await connect(ourReplica), await connect(redisReplica)];
    const subs = [await connect(ourReplica), await connect(redisReplica)];
    for (const r of replicas) {
      await r.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEAn');
      expect(plain(await r.call('REPLICAOF', '127.0.0.1', String(master.port)))).toBe('+OK');
    }
    for (const r of replicas) await waitFor(async () => String(await r.call('INFO', 'replication')).includes('master_link_status:up'), { timeoutMs: 15_000, what: 'replica link up' });
    for (const sub of subs) await sub.call('PSUBSCRIBE', '__key*__:*');
    // Redis propagates these as effects (the XADD's id and exact trim, XREADGROUP / XAUTOCLAIM as
    // XCLAIM … and MULTI/EXEC): each replica fires what the effects it applies fire.
    const workload: string[][] = [
      ['XADD', 'q', '1-0', 'f', 'v'], ['XADD', 'q', 'MAXLEN', '1', '2-0', 'f', 'v'], ['XADD', 'q', '3-0', 'f', 'v'], ['XGROUP', 'CREATE', 'q', 'g', '0'],
      ['XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', 'q', '>'], ['XREADGROUP', 'GROUP', 'g', 'c2', 'NOACK', 'STREAMS', 'q', '>'],
      ['XCLAIM', 'q', 'g', 'c3', '0', '2-0'], ['XDEL', 'q', '2-0'], ['XAUTOCLAIM', 'q', 'g', 'c4', '0', '0'], ['XTRIM', 'q', 'MAXLEN', '0'],
      ['XGROUP', 'CREATECONSUMER', 'q', 'g', 'c5'], ['XGROUP', 'DELCONSUMER', 'q', 'g', 'c5'], ['XGROUP', 'SETID', 'q', 'g', '$'],
      ['XSETID', 'q', '9-0'], ['XGROUP', 'CREATE', 'q2', 'g', '$', 'MKSTREAM'], ['XGROUP', 'DESTROY', 'q', 'g'],
    ];
    for (const cmd of workload) await m.call(...cmd);
    const offset = /master_repl_offset:(\d+)/.exec(String(await m.call('INFO', 'replication')))![1]!;
    for (const r of replicas) {
      await waitFor(async () => String(await r.call('INFO', 'replication')).includes(`slave_repl_offset:${offset}\r\n`), { timeoutMs: 15_000, what: 'replica at the master\'s offset' });
    }
    const [a, b] = await collectEvents(replicas, subs);
    expect(a).toEqual(b);
    expect(a).toContainEqual(['__keyspace@0__:q', 'xgroup-createconsumer']);
    expect(a.length).toBeGreaterThan(20);
  });
});
