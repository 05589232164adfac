// Scripts' effects, not scripts, reach replicas and the AOF (effects replication, as Redis 7): a real
// redis-server replica of our master converges after scripts with SPOP, INCRBYFLOAT, EXPIRE,
// SELECT and a failing call; the AOF holds MULTI … EXEC blocks and no EVAL; a restart replays it to
// the same data.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plain } from '../../helpers/differential.js';
import { RawClient, infoFields } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const SCRIPT = `
  redis.call('sadd', KEYS[1], 'a', 'b', 'c', 'd', 'e')
  local popped = redis.call('spop', KEYS[1])
  redis.call('incrbyfloat', KEYS[2], '1.5')
  redis.call('set', KEYS[3], popped)
  redis.call('expire', KEYS[3], 1000)
  redis.pcall('incr', KEYS[1])
  redis.call('select', 1)
  redis.call('rpush', KEYS[4], ARGV[1])
  return popped`;

async function dump(port: number): Promise<unknown[]> {
  const c = await RawClient.connect(port);
  try {
    const out: unknown[] = [];
    for (const db of ['0', '1']) {
      await c.call('SELECT', db);
      for (const key of ((await c.call('KEYS', '*')) as string[]).sort()) {
        const type = plain(await c.call('TYPE', key));
        let value: unknown;
        if (type === '+string') value = await c.call('GET', key);
        else if (type === '+list') value = await c.call('LRANGE', key, '0', '-1');
        else if (type === '+set') value = ((await c.call('SMEMBERS', key)) as string[]).sort();
        const ttl = (await c.call('PTTL', key)) as number;
        out.push([db, key, type, value, ttl > 0 ? 'ttl' : ttl]);
      }
    }
    return out;
  } finally {
    c.close();
  }
}

describe('scripts replicate and persist as their effects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'script-aof-'));
  const started: ServerHandle[] = [];
  afterAll(async () => {
    await stopAll(...started);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a real replica converges, the AOF has MULTI/EXEC and no EVAL, a restart replays it', async () => {
    const master = await startNode(['--appendonly', 'yes', '--repl-diskless-sync-delay', '0'], { dir });
    started.push(master);
    const replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
    started.push(replica);
    await waitFor(async () => (await infoFields(replica.port, 'replication')).master_link_status === 'up', { what: 'replica link up' });

    const c = await RawClient.connect(master.port);
    try {
      const sha = (await c.call('SCRIPT', 'LOAD', SCRIPT)) as string;
      for (let i = 0; i < 5; i++) {
        await c.call('EVALSHA', sha, '4', `s{${i}}`, `f{${i}}`, `p{${i}}`, `l{${i}}`, `v${i}`);
      }
      await c.call('EVAL', SCRIPT, '4', 's', 'f', 'p', 'l', 'plain');
      await c.call('MULTI');
      await c.call('EVALSHA', sha, '4', 'ms', 'mf', 'mp', 'ml', 'in-multi');
      await c.call('SET', 'after', 'x');
      expect((await c.call('EXEC')) as unknown[]).toHaveLength(2);
      await c.call('EVAL', "return redis.call('get', 'after')", '0'); // a read-only script writes nothing
    } finally {
      c.close();
    }

    await waitFor(async () => {
      const [m, r] = await Promise.all([infoFields(master.port, 'replication'), infoFields(replica.port, 'replication')]);
      return r.master_repl_offset === m.master_repl_offset;
    }, { what: 'replica caught up' });
    const ours = await dump(master.port);
    expect(ours.length).toBeGreaterThan(20);
    expect(await dump(replica.port)).toEqual(ours);

    const aofDir = join(dir, 'appendonlydir');
    const incr = readdirSync(aofDir).find((f) => f.includes('.incr.'))!;
    const aof = readFileSync(join(aofDir, incr), 'latin1');
    expect(aof).not.toMatch(/EVAL/i);
    expect(aof).toContain('MULTI');
    expect(aof).toContain('SREM'); // SPOP's effect
    expect(aof).not.toMatch(/\r\nSPOP\r\n/i);

    await master.stop();
    started.splice(started.indexOf(master), 1);
    const restarted = await startNode(['--appendonly', 'yes'], { dir });
    started.push(restarted);
    expect(await dump(restarted.port)).toEqual(ours);
  });
});
