// WAIT through the proxy with real processes: 2 groups of master + 2 replicas behind one proxy
// that has a single pipelined link per backend (so every client shares it). WAIT counts the
// replicas of the masters this client wrote to since its last WAIT (the smallest count), a client
// that wrote nothing gets slot 0's master's replicas, and a WAIT held by a stopped replica blocks
// only its own client: another client's requests on the same shared link are measured meanwhile.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../../common/slots.js';
import { ReplyErrorValue } from '../../../common/resp/reply-decoder.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { plain } from '../../helpers/differential.js';
import { RawClient, infoFields } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';

let cluster: Cluster;
let proxyPort = 0;
const clients: Redis[] = [];
const dir = mkdtempSync(join(tmpdir(), 'tessera-wait-'));

function client(): Redis {
  const c = new Redis({ port: proxyPort, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

/** The n-th key whose slot is in group 1's range (0-511) or group 2's. */
function keyIn(group: 1 | 2, prefix: string, n = 0): string {
  for (let i = 0, found = 0; ; i++) {
    const k = `${prefix}:${i}`;
    if ((slotOf(k) < 512) === (group === 1) && found++ === n) return k;
  }
}

const wait = async (c: Redis, n: number, timeoutMs: number) => Number(await c.call('WAIT', String(n), String(timeoutMs)));

/** Runs `fn` with one replica of `group` stopped (SIGSTOP: still attached, acknowledging nothing). */
async function withStoppedReplica<T>(group: 1 | 2, fn: () => Promise<T>): Promise<T> {
  const r = cluster.replicas[group - 1]![0]!;
  r.proc.kill('SIGSTOP');
  try {
    return await fn();
  } finally {
    r.proc.kill('SIGCONT');
  }
}

beforeAll(async () => {
  const toml = join(dir, 'proxy.toml');
  writeFileSync(toml, 'backend-connections = 1\n');
  cluster = await startCluster({ groups: 2, replicas: 2, proxies: 0, store: 'file' });
  proxyPort = (await cluster.startProxy(['--config', toml])).port;
  for (const [i, m] of cluster.groups.entries()) {
    await waitFor(async () => (await infoFields(m.port, 'replication')).connected_slaves === '2', { timeoutMs: 20_000, what: `group ${i + 1}'s replicas to attach` });
  }
  const c = client();
  await waitFor(async () => (await c.set(keyIn(1, 'warm'), 'x')) === 'OK' && (await c.set(keyIn(2, 'warm'), 'x')) === 'OK', { what: 'the proxy to route' });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const r of cluster?.replicas.flat() ?? []) r.proc.kill('SIGCONT');
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('WAIT through the proxy', () => {
  it('WAIT 2 answers 2 once both replicas of the written group acknowledged, pipelined right after the writes too', async () => {
    const c = client();
    for (let i = 0; i < 20; i++) await c.set(keyIn(1, 'a', i), 'v');
    expect(await wait(c, 2, 5000)).toBe(2);
    // SET and WAIT in one write: WAIT starts once the SET settled.
    const raw = await RawClient.connect(proxyPort);
    try {
      raw.write(`*3\r\n$3\r\nSET\r\n$${keyIn(1, 'p').length}\r\n${keyIn(1, 'p')}\r\n$1\r\nv\r\n*3\r\n$4\r\nWAIT\r\n$1\r\n2\r\n$4\r\n5000\r\n`);
      expect(plain(await raw.nextReply())).toBe('+OK');
      expect(await raw.nextReply()).toBe(2);
    } finally {
      raw.close();
    }
  });

  it('a stopped replica: WAIT 2 answers 1 after its timeout, and another client on the same shared link is not delayed', async () => {
    const waiter = client();
    const other = client();
    await other.get(keyIn(1, 'warm')); // connected before the clock starts
    const latencies: number[] = [];
    const result = await withStoppedReplica(1, async () => {
      await waiter.set(keyIn(1, 'b'), 'v');
      const t0 = Date.now();
      let waiting = true;
      const done = wait(waiter, 2, 1000).then((n) => {
        waiting = false;
        return { n, ms: Date.now() - t0 };
      });
      // Meanwhile: writes and reads to the same group (same backend link) and the other group.
      for (let i = 0; waiting; i++) {
        const t = performance.now();
        await other.set(keyIn(i % 2 === 0 ? 1 : 2, 'other', i % 50), 'x');
        await other.get(keyIn(1, 'other', i % 50));
        latencies.push(performance.now() - t);
      }
      return done;
    });
    latencies.sort((a, b) => a - b);
    const p50 = latencies[latencies.length >> 1]!;
    const max = latencies[latencies.length - 1]!;
    console.log(`WAIT 2 1000 with a stopped replica: ${result.n} after ${result.ms} ms; meanwhile another client ran ${latencies.length} SET+GET pairs on the same proxy: p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
    expect(result.n).toBe(1);
    expect(result.ms).toBeGreaterThanOrEqual(990);
    expect(result.ms).toBeLessThan(3000);
    // Not held behind the WAIT: many round trips (held, there would be one), none near its second.
    expect(latencies.length).toBeGreaterThan(10);
    expect(max).toBeLessThan(500);
    expect(p50).toBeLessThan(50);
  });

  it('writes to both groups: WAIT answers the smallest count; then only the groups written since the last WAIT count', async () => {
    const c = client();
    await withStoppedReplica(2, async () => {
      await c.set(keyIn(1, 'm'), 'v');
      await c.set(keyIn(2, 'm'), 'v');
      expect(await wait(c, 2, 300)).toBe(1); // group 2 has one replica acknowledging
      // Since that WAIT: writes to group 1 only, whose replicas both acknowledge.
      await c.set(keyIn(1, 'm', 1), 'v');
      const t0 = Date.now();
      expect(await wait(c, 2, 5000)).toBe(2);
      expect(Date.now() - t0).toBeLessThan(2000);
      // A split MSET over both groups counts both again.
      await c.mset(keyIn(1, 'm', 2), 'v', keyIn(2, 'm', 2), 'v');
      expect(await wait(c, 2, 300)).toBe(1);
    });
  });

  it('a client that wrote nothing (or nothing since its last WAIT) gets the replicas of slot 0\'s master', async () => {
    const c = client();
    // Slot 0 is group 1's: both its replicas are attached, answered at once.
    const t0 = Date.now();
    expect(await wait(c, 2, 0)).toBe(2);
    expect(await wait(c, 0, 0)).toBe(2);
    // A stopped replica of group 2 does not matter to a client that wrote nothing…
    await withStoppedReplica(2, async () => {
      expect(await wait(c, 2, 0)).toBe(2);
      // …nor reads of group 2's keys.
      await c.get(keyIn(2, 'warm'));
      expect(await wait(c, 2, 0)).toBe(2);
    });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('argument errors are the node\'s', async () => {
    const raw = await RawClient.connect(proxyPort);
    try {
      const err = async (...args: string[]) => {
        const r = await raw.call(...args);
        return r instanceof ReplyErrorValue ? r.message : `not an error: ${String(r)}`;
      };
      expect(await err('WAIT', 'x', '0')).toBe('ERR value is not an integer or out of range');
      expect(await err('WAIT', '1', 'x')).toBe('ERR timeout is not an integer or out of range');
      expect(await err('WAIT', '1', '-1')).toBe('ERR timeout is negative');
      expect(await err('WAIT', '1')).toBe("ERR wrong number of arguments for 'wait' command");
      expect(await err('TESSERA.WAITOFFSET', '*', '0', '1', '0')).toMatch(/^ERR 'tessera\.waitoffset' sent by the proxy itself/);
      // Inside MULTI the node would count the shared link's writes, not this client's.
      expect(plain(await raw.call('MULTI'))).toBe('+OK');
      expect(await err('WAIT', '1', '0')).toBe("ERR 'wait' is not allowed inside a transaction through the proxy");
      expect(plain(await raw.call('DISCARD'))).toBe('+OK');
    } finally {
      raw.close();
    }
  });
});
