// Issue 7, bounded memory per proxy client (RSS checked in /proc/<pid>/status): a client that
// sends BLPOP never 0 and keeps pipelining PINGs (it grew the proxy to 4 GB) has its requests left
// undecoded past the soft limit and is cut off at the hard limit; its memory and blocking link are
// released when it leaves; a client that never
// reads its replies is cut off at the hard limit, or past the soft limit for too long; maxclients
// and the idle `timeout` as in Redis.
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import { ReplyErrorValue, SimpleString } from '../../../common/resp/reply-decoder.js';
import { slotOf } from '../../../common/slots.js';
import { type Cluster, type ProxyHandle, startCluster } from '../../helpers/cluster.js';
import { RawClient, infoFields } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), 'hardening-memory-'));
let cluster: Cluster;
let plain: ProxyHandle; // defaults
let strict: ProxyHandle; // small limits
let limits: ProxyHandle; // maxclients and timeout

function keyInGroup(group: 1 | 2, prefix: string): string {
  for (let i = 0; ; i++) {
    const k = `${prefix}:${i}`;
    if ((slotOf(k) < 512) === (group === 1)) return k;
  }
}

/** Resident set size of a process, MB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(m![1]) / 1024;
}

async function open(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  return socket;
}

/**
 * Writes `chunk` repeatedly until `limit` bytes went out or the peer stops reading (a write not
 * drained within `stallMs`). Returns the bytes the kernel accepted.
 */
async function writeUntilStalled(socket: Socket, chunk: Buffer, limit: number, stallMs: number): Promise<number> {
  let sent = 0;
  while (sent < limit && !socket.destroyed) {
    sent += chunk.length;
    if (socket.write(chunk)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), stallMs);
      socket.once('drain', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    if (!drained) break;
  }
  return sent;
}

beforeAll(async () => {
  const config = join(dir, 'strict.toml');
  writeFileSync(config, 'client-pending-soft-bytes = 4194304\nclient-pending-soft-seconds = 2\nclient-max-pending-bytes = 33554432\n');
  const limitsConfig = join(dir, 'limits.toml');
  writeFileSync(limitsConfig, 'maxclients = 8\ntimeout = 1\n');
  cluster = await startCluster({ groups: 2, proxies: 0, store: 'file' });
  plain = await cluster.startProxy();
  strict = await cluster.startProxy(['--config', config]);
  limits = await cluster.startProxy(['--config', limitsConfig]);
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('bounded memory per proxy client', () => {
  it('BLPOP never 0 then endless pipelined PINGs: decoding stops at the soft limit, the client is cut at the hard limit, RSS stays bounded, memory and the blocking link are released', async () => {
    const pid = plain.proc.pid!;
    const master = cluster.groups[0]!;
    const key = keyInGroup(1, 'never');
    const pings = Buffer.from('*1\r\n$4\r\nPING\r\n'.repeat(65536), 'latin1'); // 917 KB of PINGs
    const base = rssMb(pid);
    const peaks: number[] = [];
    for (let round = 0; round < 3; round++) {
      const hostile = await open(plain.port);
      const closed = new Promise<void>((resolve) => hostile.once('close', () => resolve()));
      hostile.write(encodeCommand(['BLPOP', key, '0']));
      const sent = await writeUntilStalled(hostile, pings, 1024 * 1024 * 1024, 3000);
      // Requests stop being decoded at the 16 MB soft limit; raw bytes past the 128 MB hard limit
      // (client-max-pending-bytes) disconnect the client, long before the 1 GB it tries to send.
      await closed;
      peaks.push(rssMb(pid));
      expect(sent).toBeLessThan(512 * 1024 * 1024);
      // Others are served meanwhile.
      const other = await RawClient.connect(plain.port);
      const t = performance.now();
      expect(await other.call('PING')).toEqual(new SimpleString('PONG'));
      expect(performance.now() - t).toBeLessThan(500);
      other.close();
      console.log(`round ${round}: ${(sent / 1e6).toFixed(0)} MB of PINGs written before the proxy cut the client; proxy RSS ${peaks[round]!.toFixed(0)} MB (before ${base.toFixed(0)} MB)`);
      // The blocking link is closed with the client: the node no longer blocks for it.
      await waitFor(async () => (await infoFields(master.port, 'clients')).blocked_clients === '0', { what: 'BLPOP released on the node' });
      // (the INFO connection itself is the one client left)
      await waitFor(async () => (await infoFields(plain.port, 'clients')).connected_clients === '1', { what: 'the proxy to forget the client' });
    }
    expect(plain.output()).toMatch(/bytes pending in the proxy \(client-max-pending-bytes 134217728\)/);
    // Bounded (the old proxy grew ~30× the bytes sent, to 4 GB), and nothing kept from one round
    // to the next: memory of a gone client is reused, not leaked.
    expect(Math.max(...peaks) - base).toBeLessThan(400);
    expect(peaks[2]! - peaks[0]!).toBeLessThan(100);
    const after = rssMb(pid);
    console.log(`after the three hostile clients left: proxy RSS ${after.toFixed(0)} MB`);
  }, 90_000);

  it('held requests run in order, with their replies, once the blocking command returns', async () => {
    const key = keyInGroup(2, 'order');
    const c = await RawClient.connect(plain.port);
    const replies = Array.from({ length: 4 }, () => c.nextReply(10_000));
    c.write(Buffer.concat([encodeCommand(['BLPOP', key, '0']), encodeCommand(['ECHO', 'a']), encodeCommand(['ECHO', 'b']), encodeCommand(['PING'])]));
    const pusher = await RawClient.connect(plain.port);
    await waitFor(async () => (await infoFields(cluster.groups[1]!.port, 'clients')).blocked_clients === '1', { what: 'blocked' });
    await pusher.call('RPUSH', key, 'v');
    expect(await Promise.all(replies)).toEqual([[key, 'v'], 'a', 'b', new SimpleString('PONG')]);
    c.close();
    pusher.close();
  });

  it('past the soft limit a blocked client\'s requests wait undecoded, and all run, in order, once it is released', async () => {
    const key = keyInGroup(2, 'backlog');
    const count = 600_000; // 8.4 MB of PINGs: over the 4 MB soft limit, under the 32 MB hard limit
    const socket = await open(strict.port);
    let pongs = 0;
    let first = '';
    let tail = '';
    socket.on('data', (d: Buffer) => {
      const text = tail + d.toString('latin1');
      if (first === '') first = text.slice(0, 40);
      let i = 0;
      for (;;) {
        const j = text.indexOf('+PONG\r\n', i);
        if (j < 0) break;
        pongs++;
        i = j + 7;
      }
      tail = text.slice(Math.max(i, text.length - 6));
    });
    socket.write(Buffer.concat([encodeCommand(['BLPOP', key, '0']), Buffer.from('*1\r\n$4\r\nPING\r\n'.repeat(count), 'latin1')]));
    const pusher = await RawClient.connect(strict.port);
    await waitFor(async () => (await infoFields(cluster.groups[1]!.port, 'clients')).blocked_clients === '1', { what: 'blocked' });
    // Every byte left this process (the proxy is not paused while blocked, so it reads them all).
    await waitFor(() => socket.writableLength === 0, { what: 'the backlog written' });
    await pusher.call('RPUSH', key, 'v');
    await waitFor(() => pongs === count, { timeoutMs: 20_000, what: `${count} PONGs (have ${pongs})` });
    expect(first.startsWith(`*2\r\n$${key.length}\r\n${key}\r\n$1\r\nv\r\n`)).toBe(true);
    socket.destroy();
    pusher.close();
  });

  it('a client that never reads its replies is disconnected at client-max-pending-bytes; RSS stays bounded', async () => {
    const pid = strict.proc.pid!;
    const key = keyInGroup(1, 'mb');
    const setter = await RawClient.connect(strict.port);
    expect(await setter.call('SET', key, 'x'.repeat(1024 * 1024))).toEqual(new SimpleString('OK'));
    setter.close();
    const base = rssMb(pid);
    const reader = await open(strict.port);
    reader.pause(); // never reads (so it cannot see the proxy's close either: the proxy's log can)
    const closed = new Promise<void>((resolve) => reader.once('close', () => resolve()));
    const gets = Buffer.concat(Array.from({ length: 300 }, () => encodeCommand(['GET', key]))); // 300 MB of replies
    reader.write(gets);
    await waitFor(() => /bytes pending in the proxy \(client-max-pending-bytes 33554432\)/.test(strict.output()), { what: 'the hard-limit disconnect' });
    const peak = rssMb(pid);
    reader.resume();
    await closed;
    console.log(`non-reading client cut at the 32 MB hard limit: proxy RSS ${base.toFixed(0)} → ${peak.toFixed(0)} MB`);
    expect(peak - base).toBeLessThan(150);
  });

  it('reply bytes held past the soft limit for client-pending-soft-seconds disconnect the client', async () => {
    const key = keyInGroup(1, 'mb');
    const setter = await RawClient.connect(strict.port);
    expect(await setter.call('SET', key, 'x'.repeat(1024 * 1024))).toEqual(new SimpleString('OK'));
    setter.close();
    const reader = await open(strict.port);
    reader.pause();
    const started = Date.now();
    const closed = new Promise<void>((resolve) => reader.once('close', () => resolve()));
    reader.write(Buffer.concat(Array.from({ length: 24 }, () => encodeCommand(['GET', key])))); // 24 MB (some in socket buffers): over 4 MB soft, under 32 MB hard
    await waitFor(() => /over client-pending-soft-bytes 4194304 for 2 s/.test(strict.output()), { what: 'the soft-limit disconnect' });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(6000);
    reader.resume();
    await closed;
  });
});

describe('maxclients and idle timeout', () => {
  it('refuses the client past maxclients with Redis\'s error, and closes idle clients after `timeout` seconds (not blocked ones)', async () => {
    await waitFor(async () => (await infoFields(limits.port, 'clients')).connected_clients === '1', { what: 'no clients left from earlier tests' });
    const clients = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(limits.port)));
    try {
      for (const c of clients) expect(await c.call('PING')).toEqual(new SimpleString('PONG'));
      // A 9th is refused (and closed) like redis-server does past maxclients.
      const ninth = await RawClient.connect(limits.port);
      const refused = await ninth.nextReply();
      expect(refused).toBeInstanceOf(ReplyErrorValue);
      expect((refused as ReplyErrorValue).message).toBe('ERR max number of clients reached');
      await ninth.waitClosed();
      // One client blocks; the seven others stay idle and are closed after ~1 s.
      const key = keyInGroup(2, 'idle');
      const blocked = clients[0]!.nextReply(10_000);
      clients[0]!.write(encodeCommand(['BLPOP', key, '0']));
      const t = Date.now();
      await Promise.all(clients.slice(1).map((c) => c.waitClosed(5000)));
      expect(Date.now() - t).toBeLessThan(4000);
      expect(clients[0]!.closed).toBe(false);
      const pusher = await RawClient.connect(limits.port);
      await pusher.call('RPUSH', key, 'v');
      expect(await blocked).toEqual([key, 'v']);
      pusher.close();
    } finally {
      for (const c of clients) c.close();
    }
  });
});
