// Real npm libraries, unchanged, through the proxy against a 2-group cluster: redlock (its
// acquire/extend/release Lua scripts via EVALSHA, falling back to EVAL on NOSCRIPT) and
// rate-limiter-flexible's RateLimiterRedis (a Lua INCR+PEXPIRE via defineCommand, and MULTI for
// penalty/reward/set). Keys are chosen on both groups so both masters run the scripts.
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
// @ts-expect-error redlock 5's package.json "exports" hides its types; they are imported below by path.
import * as redlockModule from 'redlock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../../common/slots.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';
import type * as RedlockTypes from '../../../node_modules/redlock/dist/index.js';

const { default: Redlock, ExecutionError, ResourceLockedError } = redlockModule as typeof RedlockTypes;
type ExecutionError = RedlockTypes.ExecutionError;

let cluster: Cluster;
let client: Redis;
let contender: Redis;
const masters: RawClient[] = [];

/** The index (0 or 1) of the group owning a key's slot: slots split evenly, 0-511 and 512-1023. */
const groupOf = (key: string) => (slotOf(key) < 512 ? 0 : 1);

function keyOnGroup(g: number, prefix: string): string {
  for (let i = 0; ; i++) if (groupOf(`${prefix}${i}`) === g) return `${prefix}${i}`;
}

/** A user id whose limiter key (rate-limiter-flexible stores `${keyPrefix}:${user}`) is on group g. */
function userOnGroup(g: number, keyPrefix: string, name: string): string {
  return keyOnGroup(g, `${keyPrefix}:${name}`).slice(keyPrefix.length + 1);
}

beforeAll(async () => {
  cluster = await startCluster({ groups: 2, replicas: 0, proxies: 1, store: 'file' });
  const port = cluster.proxies[0]!.port;
  client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  contender = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  for (const g of cluster.groups) masters.push(await RawClient.connect(g.port));
});

afterAll(async () => {
  client?.disconnect();
  contender?.disconnect();
  for (const c of masters) c.close();
  await cluster?.stop();
});

describe('redlock through the proxy', () => {
  const noRetry = { retryCount: 0 };

  it('acquires, holds against a second contender, extends and releases, on both groups', async () => {
    const redlock = new Redlock([client], noRetry);
    const other = new Redlock([contender], noRetry);
    for (const g of [0, 1]) {
      const resource = keyOnGroup(g, 'lock:');
      const lock = await redlock.acquire([resource], 2000);
      // The lock value lives on the master owning the key, with its TTL.
      expect(await masters[g]!.call('GET', resource)).toBe(lock.value);
      expect(await masters[1 - g]!.call('EXISTS', resource)).toBe(0);

      const refused = await other.acquire([resource], 2000).then(() => null, (e: unknown) => e);
      expect(refused).toBeInstanceOf(ExecutionError);
      const attempt = await (refused as ExecutionError).attempts[0]!;
      expect(attempt.membershipSize).toBe(1);
      expect(attempt.quorumSize).toBe(1);
      expect(attempt.votesFor.size).toBe(0);
      expect([...attempt.votesAgainst.values()][0]).toBeInstanceOf(ResourceLockedError);

      const extended = await lock.extend(10_000);
      expect(extended.expiration).toBeGreaterThan(lock.expiration);
      const pttl = (await masters[g]!.call('PTTL', resource)) as number;
      expect(pttl).toBeGreaterThan(2000);
      expect(pttl).toBeLessThanOrEqual(10_000);

      await extended.release();
      expect(await masters[g]!.call('EXISTS', resource)).toBe(0);
      // Free again: the contender gets it now.
      const second = await other.acquire([resource], 1000);
      expect(await client.get(resource)).toBe(second.value);
      await second.release();
    }
  });

  it('a lock expires by its TTL and can then be taken by the contender', async () => {
    const redlock = new Redlock([client], noRetry);
    const other = new Redlock([contender], noRetry);
    const resource = keyOnGroup(1, 'ttl-lock:');
    await redlock.acquire([resource], 200);
    const taken = await waitFor(() => other.acquire([resource], 2000).catch(() => null), { timeoutMs: 5000, what: 'lock to expire' });
    expect(await client.get(resource)).toBe(taken.value);
    await taken.release();
  });

  it('multi-resource locks work within one hash tag; across groups the proxy answers CROSSSLOT', async () => {
    const redlock = new Redlock([client], noRetry);
    const lock = await redlock.acquire(['{order:7}:a', '{order:7}:b'], 2000);
    expect(await client.mget('{order:7}:a', '{order:7}:b')).toEqual([lock.value, lock.value]);
    await lock.release();
    expect(await client.exists('{order:7}:a', '{order:7}:b')).toBe(0);

    const split = await redlock.acquire([keyOnGroup(0, 'm:'), keyOnGroup(1, 'm:')], 2000).then(() => null, (e: unknown) => e);
    expect(split).toBeInstanceOf(ExecutionError);
    const attempt = await (split as ExecutionError).attempts[0]!;
    expect(String([...attempt.votesAgainst.values()][0]?.message)).toMatch(/^CROSSSLOT /);
  });
});

describe('rate-limiter-flexible (RateLimiterRedis on ioredis) through the proxy', () => {
  const limiter = (keyPrefix: string, duration: number) =>
    new RateLimiterRedis({ storeClient: client, useRedisPackage: false, keyPrefix, points: 5, duration });

  async function rejection(p: Promise<RateLimiterRes>): Promise<RateLimiterRes> {
    const r = await p.then(() => null, (e: unknown) => e);
    expect(r).toBeInstanceOf(RateLimiterRes);
    return r as RateLimiterRes;
  }

  it('consumes until blocked, on keys of both groups', async () => {
    const rl = limiter('rl-consume', 60);
    const users = [userOnGroup(0, 'rl-consume', 'user'), userOnGroup(1, 'rl-consume', 'user')];
    for (const user of users) {
      for (let i = 1; i <= 5; i++) {
        const res = await rl.consume(user);
        expect(res.consumedPoints).toBe(i);
        expect(res.remainingPoints).toBe(5 - i);
        expect(res.msBeforeNext).toBeGreaterThan(55_000);
      }
      const blocked = await rejection(rl.consume(user));
      expect(blocked.consumedPoints).toBe(6);
      expect(blocked.remainingPoints).toBe(0);
      expect(blocked.msBeforeNext).toBeGreaterThan(55_000);
    }
    // Each counter is on the master owning its key, which ran the script.
    for (const [g, user] of users.entries()) expect(await masters[g]!.call('GET', `rl-consume:${user}`)).toBe('6');
  });

  it('resets after the window', async () => {
    const rl = limiter('rl-window', 1);
    const user = userOnGroup(1, 'rl-window', 'w');
    for (let i = 0; i < 5; i++) await rl.consume(user);
    await rejection(rl.consume(user));
    // The window is the key's TTL: once it is gone the limiter counts from 1 again.
    const fresh = await waitFor(() => rl.consume(user).catch(() => null), { timeoutMs: 5000, what: 'window reset' });
    expect(fresh.consumedPoints).toBe(1);
    expect(fresh.remainingPoints).toBe(4);
  });

  it('penalty and reward move the count; get and delete see it', async () => {
    const rl = limiter('rl-pr', 60);
    const user = userOnGroup(0, 'rl-pr', 'p');
    expect((await rl.consume(user, 2)).remainingPoints).toBe(3);
    expect((await rl.penalty(user, 2)).consumedPoints).toBe(4);
    expect((await rl.consume(user)).remainingPoints).toBe(0);
    const blocked = await rejection(rl.consume(user));
    expect(blocked.consumedPoints).toBe(6);
    expect((await rl.reward(user, 4)).consumedPoints).toBe(2);
    expect((await rl.consume(user)).consumedPoints).toBe(3);
    expect((await rl.get(user))?.consumedPoints).toBe(3);
    expect(await rl.delete(user)).toBe(true);
    expect(await rl.get(user)).toBeNull();
  });

  it('blockDuration blocks the key with MULTI SET EX after the points are used up', async () => {
    const rl = new RateLimiterRedis({ storeClient: client, useRedisPackage: false, keyPrefix: 'rl-block', points: 2, duration: 60, blockDuration: 30 });
    const user = userOnGroup(1, 'rl-block', 'b');
    await rl.consume(user);
    await rl.consume(user);
    const blocked = await rejection(rl.consume(user));
    expect(blocked.msBeforeNext).toBeGreaterThan(25_000);
    expect(blocked.msBeforeNext).toBeLessThanOrEqual(30_000);
    const pttl = (await masters[1]!.call('PTTL', `rl-block:${user}`)) as number;
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
  });
});
