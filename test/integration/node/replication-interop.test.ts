// Replication interop with Debian's redis-server 7.0: a real replica of our node (full sync, then
// a partial resync after CLIENT KILL TYPE master), and our node as a replica of a real master.
// Datasets are compared key by key (types, values, TTL presence) in every db.
import { afterAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { plain } from '../../helpers/differential.js';
import { RawClient, callOnce, infoFields } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const DBS = 4;

const call = callOnce;

const info = infoFields;

/** Every key of every db with its type, its value in a canonical order, and whether it has a TTL. */
async function dumpAll(port: number): Promise<unknown[]> {
  const c = await RawClient.connect(port);
  try {
    const out: unknown[] = [];
    for (let db = 0; db < DBS; db++) {
      await c.call('SELECT', String(db));
      const keys = ((await c.call('KEYS', '*')) as string[]).sort();
      for (const key of keys) {
        const type = plain(await c.call('TYPE', key));
        let value: unknown;
        if (type === '+string') value = await c.call('GET', key);
        else if (type === '+list') value = await c.call('LRANGE', key, '0', '-1');
        else if (type === '+hash') value = ((await c.call('HGETALL', key)) as string[]).join('\n').split('\n');
        else if (type === '+set') value = ((await c.call('SMEMBERS', key)) as string[]).sort();
        else if (type === '+zset') value = await c.call('ZRANGE', key, '0', '-1', 'WITHSCORES');
        if (type === '+hash') {
          const flat = value as string[];
          const pairs: string[] = [];
          for (let i = 0; i < flat.length; i += 2) pairs.push(`${flat[i]}=${flat[i + 1]}`);
          value = pairs.sort();
        }
        const ttl = (await c.call('PTTL', key)) as number;
        out.push([db, key, type, value, ttl > 0 ? 'ttl' : ttl]);
      }
    }
    return out;
  } finally {
    c.close();
  }
}

/** Mixed writes: every type in small and big encodings, TTLs, several dbs, MULTI/EXEC, SPOP, INCRBYFLOAT. */
async function writeData(port: number, tag: string, rounds: number): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    for (let r = 0; r < rounds; r++) {
      const pending: Array<Promise<Reply>> = [];
      for (let i = 0; i < 40; i++) {
        const n = r * 40 + i;
        const k = `${tag}:${n % 31}`;
        pending.push(
          c.call('SELECT', String(n % DBS)),
          c.call('SET', `${k}:s`, `value-${n}-${'x'.repeat(n % 50)}`),
          c.call('SET', `${k}:int`, String(n * 1000)),
          c.call('INCRBYFLOAT', `${k}:f`, '0.25'),
          c.call('RPUSH', `${k}:l`, `a${n}`, String(n)),
          c.call('HSET', `${k}:h`, `f${n % 9}`, `${n}`),
          c.call('HSET', `${tag}:bighash`, `field${n}`, 'v'.repeat(80)),
          c.call('SADD', `${k}:iset`, String(n % 23)),
          c.call('SADD', `${k}:set`, `m${n % 11}`),
          c.call('ZADD', `${k}:z`, String((n % 17) / 3), `z${n % 5}`),
          c.call('ZADD', `${tag}:bigz`, String(n), `member-${n}`),
          c.call('PEXPIRE', `${k}:s`, '100000'),
          c.call('SPOP', `${k}:set`),
          c.call('MULTI'),
          c.call('LPOP', `${k}:l`),
          c.call('INCR', `${tag}:counter`),
          c.call('EXEC'),
        );
      }
      await Promise.all(pending);
    }
  } finally {
    c.close();
  }
}

/** Waits for the replica to apply the master's whole stream, then compares the datasets. */
async function expectSameData(master: ServerHandle, replica: ServerHandle): Promise<void> {
  await waitFor(async () => {
    const m = await info(master.port, 'replication');
    const r = await info(replica.port, 'replication');
    return r.master_link_status === 'up' && r.master_repl_offset === m.master_repl_offset;
  }, { timeoutMs: 15_000, what: `replica on ${replica.port} caught up` });
  const want = await dumpAll(master.port);
  expect(want.length).toBeGreaterThan(100);
  expect(await dumpAll(replica.port)).toEqual(want);
}

const fieldNames = (fields: Record<string, string>) => Object.keys(fields).filter((k) => !/^slave\d+$/.test(k));

describe('replication interop with redis-server 7.0', () => {
  const started: ServerHandle[] = [];
  /** Our master from the first test, still serving its real replica (compared in the second). */
  let ourMaster: ServerHandle | undefined;
  afterAll(async () => {
    await stopAll(...started);
  });

  it('a real redis-server replicates from our node: full sync, then partial after CLIENT KILL TYPE master', async () => {
    const ours = await startNode(['--enable-debug-command', 'yes', '--repl-diskless-sync-delay', '0']);
    started.push(ours);
    ourMaster = ours;
    await writeData(ours.port, 'pre', 3);
    const redis = await startRedis(['--replicaof', '127.0.0.1', String(ours.port)]);
    started.push(redis);
    await writeData(ours.port, 'live', 3);
    await expectSameData(ours, redis);
    expect(redis.output()).toContain('MASTER <-> REPLICA sync: Finished with success');

    const before = Number((await info(ours.port, 'stats')).sync_partial_ok);
    expect(await call(redis.port, 'CLIENT', 'KILL', 'TYPE', 'master')).toBe(1);
    await writeData(ours.port, 'after-kill', 2);
    await expectSameData(ours, redis);
    expect(redis.output()).toContain('Successful partial resynchronization with master.');
    expect(Number((await info(ours.port, 'stats')).sync_partial_ok)).toBe(before + 1);
    // Their replica reports what it acknowledged; our INFO lists it with Redis's field layout.
    const m = await info(ours.port, 'replication');
    expect(m.slave0).toMatch(new RegExp(`^ip=127\\.0\\.0\\.1,port=${redis.port},state=online,offset=\\d+,lag=\\d+$`));
  }, 40_000);

  it('our node replicates from a real redis-server and prints the same INFO replication fields', async () => {
    const redis = await startRedis(['--repl-diskless-sync-delay', '0']);
    started.push(redis);
    await writeData(redis.port, 'pre', 3);
    const ours = await startNode(['--replicaof', '127.0.0.1', String(redis.port)]);
    started.push(ours);
    await writeData(redis.port, 'live', 3);
    await expectSameData(redis, ours);
    expect(ours.output()).toContain('MASTER <-> REPLICA sync: Finished with success');
    expect(plain(await call(ours.port, 'SET', 'x', '1'))).toEqual({ error: "READONLY You can't write against a read only replica." });

    // A real replica of the same master for a field-by-field comparison of INFO replication.
    const theirs = await startRedis(['--replicaof', '127.0.0.1', String(redis.port)]);
    started.push(theirs);
    await waitFor(async () => (await info(theirs.port, 'replication')).master_link_status === 'up', { what: 'redis replica up' });
    expect(fieldNames(await info(ours.port, 'replication'))).toEqual(fieldNames(await info(theirs.port, 'replication')));
    // Master side too: our master (first test, one real replica) against this real master.
    expect(ourMaster).toBeDefined();
    expect(fieldNames(await info(ourMaster!.port, 'replication'))).toEqual(fieldNames(await info(redis.port, 'replication')));
    // ROLE: same shape and link state; offsets move with the master's pings.
    const theirRole = plain(await call(theirs.port, 'ROLE')) as unknown[];
    expect(plain(await call(ours.port, 'ROLE'))).toEqual(theirRole.map((v, i) => (i === 4 ? expect.any(Number) : v)));
  }, 40_000);
});
