// Issue 7, timeouts and health in the proxy: a SIGSTOPped master fails its requests within the
// backend timeout (naming the group, each request exactly once) while the other group keeps
// answering at once; the link recovers after SIGCONT; blocking commands wait their own timeout
// (0 = forever) on a bounded pool of blocking links; /health's source says down, then up.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../../common/slots.js';
import { type Reply, ReplyErrorValue, SimpleString } from '../../../common/resp/reply-decoder.js';
import { BackendPool } from '../../../proxy/backend/pool.js';
import { type Cluster, type ProxyHandle, startCluster } from '../../helpers/cluster.js';
import { RawClient, infoFields } from '../../helpers/raw-client.js';
import { startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const TIMEOUT_MS = 1500;
const dir = mkdtempSync(join(tmpdir(), 'hardening-timeouts-'));
let cluster: Cluster;
let proxy: ProxyHandle;
const clients: RawClient[] = [];

function keyInGroup(group: 1 | 2, prefix = 'k'): string {
  for (let i = 0; ; i++) {
    const k = `${prefix}:${i}`;
    if ((slotOf(k) < 512) === (group === 1)) return k;
  }
}

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(proxy.port);
  clients.push(c);
  return c;
}

function text(r: Reply): string {
  return r instanceof SimpleString ? r.value : String(r);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Sends SIGCONT even if the test failed half-way, so afterAll can stop the node. */
function resume(pid: number | undefined): void {
  try {
    if (pid) process.kill(pid, 'SIGCONT');
  } catch {
    // already gone
  }
}

beforeAll(async () => {
  const config = join(dir, 'proxy.toml');
  writeFileSync(config, `backend-timeout = ${TIMEOUT_MS}\nbackend-ping-interval = 200\nbackend-blocking-links = 2\n`);
  cluster = await startCluster({ groups: 2, proxies: 0, store: 'file' });
  proxy = await cluster.startProxy(['--config', config]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const g of cluster?.groups ?? []) resume(g.proc.pid);
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('proxy backend timeout', () => {
  it('fails a stopped master\'s requests within the timeout, each once, naming the group; the other group is unaffected; recovers after SIGCONT', async () => {
    const k1 = keyInGroup(1);
    const k2 = keyInGroup(2);
    const a = await client();
    const other = await client();
    expect(text(await a.call('SET', k1, 'one'))).toBe('OK');
    expect(text(await a.call('SET', k2, 'two'))).toBe('OK');
    const stopped = cluster.groups[1]!;
    process.kill(stopped.proc.pid!, 'SIGSTOP');
    try {
      // Pipelined: 5 requests to the stopped group, then one to the healthy group, on one client.
      const started = Date.now();
      const replies = Array.from({ length: 5 }, () => a.nextReply(TIMEOUT_MS * 4));
      const healthy = a.nextReply(TIMEOUT_MS * 4);
      for (let i = 0; i < 5; i++) a.write(`*2\r\n$3\r\nGET\r\n$${k2.length}\r\n${k2}\r\n`);
      a.write(`*2\r\n$3\r\nGET\r\n$${k1.length}\r\n${k1}\r\n`);
      // Meanwhile another client's PING and GET to group 1 answer at once.
      const latencies: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t = performance.now();
        expect(text(await other.call('PING'))).toBe('PONG');
        expect(String(await other.call('GET', k1))).toBe('one');
        latencies.push(performance.now() - t);
      }
      const errs = await Promise.all(replies);
      const elapsed = Date.now() - started;
      for (const e of errs) {
        expect(e).toBeInstanceOf(ReplyErrorValue);
        expect((e as ReplyErrorValue).message).toMatch(new RegExp(`^ERR backend 127\\.0\\.0\\.1:${stopped.port} \\(group 2\\) (timed out after ${TIMEOUT_MS} ms|is down: timed out after ${TIMEOUT_MS} ms)$`));
      }
      expect(String(await healthy)).toBe('one');
      // Within the timeout plus the watchdog's tick and scheduling slack.
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 1000);
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      console.log(`stopped master: 5 requests failed after ${elapsed} ms (timeout ${TIMEOUT_MS}); other group PING+GET median ${median(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
      expect(median(latencies)).toBeLessThan(100);
      // Each request settled exactly once: the next reply on that client is its own.
      expect(text(await a.call('ECHO', 'after'))).toBe('after');
    } finally {
      resume(stopped.proc.pid);
    }
    await waitFor(async () => String(await a.call('GET', k2)) === 'two', { timeoutMs: 10_000, what: 'group 2 to answer again after SIGCONT' });
  });

  it('with the default backend-timeout (5000 ms) too: a stopped master\'s GET fails in 5 s, naming the group', async () => {
    const defaults = await cluster.startProxy();
    const c = await RawClient.connect(defaults.port);
    clients.push(c);
    const k2 = keyInGroup(2, 'dflt');
    expect(text(await c.call('SET', k2, 'v'))).toBe('OK');
    const stopped = cluster.groups[1]!;
    process.kill(stopped.proc.pid!, 'SIGSTOP');
    try {
      const t = Date.now();
      const pending = c.nextReply(15_000);
      c.write(`*2\r\n$3\r\nGET\r\n$${k2.length}\r\n${k2}\r\n`);
      const reply = await pending;
      const elapsed = Date.now() - t;
      expect(reply).toBeInstanceOf(ReplyErrorValue);
      expect((reply as ReplyErrorValue).message).toMatch(new RegExp(`^ERR backend 127\\.0\\.0\\.1:${stopped.port} \\(group 2\\) (is down: )?timed out after 5000 ms$`));
      console.log(`default backend-timeout: GET to the stopped master failed after ${elapsed} ms: ${(reply as ReplyErrorValue).message}`);
      // The link's clock may have started with an idle PING up to backend-ping-interval (1 s) earlier.
      expect(elapsed).toBeGreaterThanOrEqual(3900);
      expect(elapsed).toBeLessThan(6500);
    } finally {
      resume(stopped.proc.pid);
    }
    await waitFor(async () => text(await c.call('GET', k2)) === 'v', { timeoutMs: 10_000, what: 'recovery' });
  }, 30_000);

  it('does not time out BLPOP … 0 (forever), and a BLPOP with a timeout gets its own nil reply', async () => {
    const b = await client();
    const key = keyInGroup(1, 'blk');
    const reply = b.nextReply(TIMEOUT_MS * 6);
    b.write(`*3\r\n$5\r\nBLPOP\r\n$${key.length}\r\n${key}\r\n$1\r\n0\r\n`);
    let answered = false;
    void reply.then(() => (answered = true));
    // Two backend timeouts pass and the command is still blocked (a window asserted, not a wait for a state).
    await new Promise((r) => setTimeout(r, TIMEOUT_MS * 2));
    expect(answered).toBe(false);
    const pusher = await client();
    await pusher.call('RPUSH', key, 'v');
    expect(await reply).toEqual([key, 'v']);
    // BLPOP 2 outlives the 1.5 s backend timeout: it is the node's nil, not a proxy error.
    const t = Date.now();
    expect(await b.call('BLPOP', key, '2')).toBeNull();
    expect(Date.now() - t).toBeGreaterThanOrEqual(1900);
  });

  it('lends blocking commands a bounded pool of links: extra ones wait, then get a clear error', async () => {
    const master = cluster.groups[0]!;
    const key = keyInGroup(1, 'pool');
    const before = Number((await infoFields(master.port, 'clients')).connected_clients);
    const blockers = await Promise.all(Array.from({ length: 5 }, () => client()));
    const replies = blockers.map((c) => c.nextReply(TIMEOUT_MS * 4));
    for (const c of blockers) c.write(`*3\r\n$5\r\nBLPOP\r\n$${key.length}\r\n${key}\r\n$1\r\n0\r\n`);
    // Two links (backend-blocking-links = 2) block on the node; the three others wait for one.
    await waitFor(async () => Number((await infoFields(master.port, 'clients')).blocked_clients) === 2, { what: 'two blocked links' });
    const during = Number((await infoFields(master.port, 'clients')).connected_clients);
    expect(during - before).toBeLessThanOrEqual(2 + 1); // + our INFO connection
    const pusher = await client();
    // The three waiting ones give up after the backend timeout with a clear error.
    const settled: unknown[] = [];
    for (const r of replies) void r.then((v) => settled.push(v), (e: Error) => settled.push(e));
    await waitFor(() => settled.length === 3, { timeoutMs: TIMEOUT_MS * 3, what: 'three waiting BLPOPs to fail' });
    for (const e of settled) {
      expect(e).toBeInstanceOf(ReplyErrorValue);
      expect((e as ReplyErrorValue).message).toMatch(/^ERR no free blocking link to backend 127\.0\.0\.1:\d+ within 1500 ms \(backend-blocking-links 2 in use\)$/);
    }
    // The two blocked ones are still blocked; pushes release them through their pooled links.
    await pusher.call('RPUSH', key, 'x', 'y');
    await waitFor(() => settled.length === 5, { what: 'the two blocked BLPOPs to return' });
    expect(settled.slice(3).map((v) => (v as string[])[1]).sort()).toEqual(['x', 'y']);
    // The links went back to the pool: a new blocking command reuses one (no new connection).
    expect(await pusher.call('BLPOP', key, '0.1')).toBeNull();
    expect(Number((await infoFields(master.port, 'clients')).connected_clients) - before).toBeLessThanOrEqual(2 + 1);
  });
});

describe('backend health (BackendPool.health, read by /health)', () => {
  it('reports a stopped node down, and up again after SIGCONT', async () => {
    const node = await startNode();
    const addr = `127.0.0.1:${node.port}`;
    const pool = new BackendPool(2, () => ({ label: 'group 9', timeoutMs: 500, pingIntervalMs: 100 }));
    try {
      pool.get(addr, 0);
      await waitFor(() => pool.health()[0]?.connected === 2, { what: 'links connected' });
      expect(pool.health()[0]!.state).toBe('up');
      process.kill(node.proc.pid!, 'SIGSTOP');
      try {
        await waitFor(() => pool.health()[0]!.state === 'down', { timeoutMs: 5000, what: 'down' });
        const h = pool.health()[0]!;
        expect(h.lastError).toBe('timed out after 500 ms');
        expect(h.timeouts).toBeGreaterThan(0);
      } finally {
        process.kill(node.proc.pid!, 'SIGCONT');
      }
      // Answers again: degraded (it failed in the last 30 s), no longer down.
      await waitFor(() => pool.health()[0]!.state === 'degraded', { timeoutMs: 10_000, what: 'degraded after SIGCONT' });
    } finally {
      pool.closeAll();
      await stopAll(node);
    }
  });
});
