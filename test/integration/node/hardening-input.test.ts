// Issue 7, the node's input path under hostile clients, against real processes: a blocked client
// that keeps sending, a never-finished multibulk, an argument longer than a JS string, a handler
// that throws, input after a protocol error, HTTP requests (cross-protocol scripting), and a
// process out of file descriptors. Each case checks that the node stays up, that another client's
// PING stays fast while the hostile one runs, that memory stays bounded (VmRSS), and that the
// hostile client gets a Redis-style error or a closed connection.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import type { SimpleString } from '../../../common/resp/reply-decoder.js';
import { freePort } from '../../helpers/ports.js';
import { callOnce, RawClient } from '../../helpers/raw-client.js';
import {
  type ServerHandle, spawnTracked, startNode, startRedis, stopAll, TESSERA_BIN, type TrackedProcess, waitForPing,
} from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const MB = 1024 * 1024;

/** Resident memory of a process, in MB (VmRSS). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(m![1]) / 1024;
}

/** CPU time (user + system) a process used so far, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

/** A raw socket that records what it receives and how it ended. */
class Hostile {
  private chunks: Buffer[] = [];
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => this.chunks.push(c));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }
  static async open(port: number): Promise<Hostile> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new Hostile(socket);
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
  /** Writes `chunk` `times` times, honouring backpressure; stops early once the server closed us. */
  async pump(chunk: Buffer, times: number): Promise<number> {
    let sent = 0;
    while (sent < times && !this.closed) {
      sent++;
      if (!this.socket.write(chunk)) {
        await new Promise<void>((r) => {
          this.socket.once('drain', r);
          this.socket.once('close', r);
        });
      }
    }
    return sent;
  }
  waitClosed(timeoutMs: number): Promise<void> {
    return waitFor(() => this.closed, { timeoutMs, what: 'the server to close the hostile connection' }).then(() => undefined);
  }
  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends SET <key> <n bytes of `fill`> without building the value in memory; returns the client. */
async function setHuge(port: number, n: number, fill: number, key = 'k'): Promise<Hostile> {
  const c = await Hostile.open(port);
  c.socket.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${n}\r\n`);
  const block = Buffer.alloc(MB, fill);
  await c.pump(block, Math.floor(n / MB));
  if (n % MB > 0) c.socket.write(block.subarray(0, n % MB));
  c.socket.write('\r\n');
  return c;
}

/**
 * Measures another client's PING round trips every 10 ms while `work` runs; returns the sorted
 * latencies in ms (at least 5). A PING that does not come back within 5 s fails the test.
 */
async function pingsDuring(port: number, work: () => Promise<unknown>): Promise<number[]> {
  const c = await RawClient.connect(port);
  const latencies: number[] = [];
  let done = false;
  // At least 5 samples even when the work ends sooner (a fast machine reads 50 MB in tens of ms):
  // the later ones still probe a node that holds all the input.
  const sampler = (async () => {
    while (!done || latencies.length < 5) {
      const t0 = performance.now();
      expect(await c.call('PING')).toMatchObject({ value: 'PONG' });
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    await work();
  } finally {
    done = true;
    await sampler;
    c.close();
  }
  return latencies.sort((a, b) => a - b);
}

/**
 * The bound: another client's PING stays under 100 ms. This shared 2-core machine runs
 * other test suites at once (load averages near 10 were seen), and a single sample can lose the
 * CPU for longer than that, so the bound holds for the 90th percentile (about 1-20 ms per sample
 * when the machine is quiet). The CPU-time bounds beside it catch a node that burns its time.
 */
function expectPingsFast(latencies: number[]): void {
  expect(latencies.length).toBeGreaterThan(3);
  const p90 = latencies[Math.floor(latencies.length * 0.9)]!;
  expect(p90, `PING latencies (ms): median ${latencies[latencies.length >> 1]!.toFixed(1)}, p90 ${p90.toFixed(1)}, max ${latencies[latencies.length - 1]!.toFixed(1)}`).toBeLessThan(100);
}

async function expectServing(port: number): Promise<void> {
  expect(await callOnce(port, 'PING')).toMatchObject({ value: 'PONG' });
}

describe('a client blocked or paused that keeps sending (decoder never re-joins its input)', () => {
  let node: ServerHandle;
  beforeAll(async () => {
    node = await startNode();
  });
  afterAll(() => stopAll(node));

  const ping = encodeCommand(['PING']);
  const chunk = Buffer.concat(Array.from({ length: Math.floor(65536 / ping.length) }, () => ping));
  const times = Math.ceil((50 * MB) / chunk.length);

  it('50 MB pipelined behind BLPOP costs little CPU, other clients stay fast, memory stays bounded', async () => {
    const pid = node.proc.pid!;
    const hostile = await Hostile.open(node.port);
    hostile.socket.write(encodeCommand(['BLPOP', 'never', '0']));
    await waitFor(async () => String(await callOnce(node.port, 'CLIENT', 'LIST')).includes('flags=b'), { what: 'BLPOP to block' });
    const cpuBefore = cpuMs(pid);
    const latencies = await pingsDuring(node.port, async () => {
      await hostile.pump(chunk, times);
      // Everything sent has been read once the node holds it all as unparsed input.
      await waitFor(async () => /qbuf=(\d+)/.exec(String(await callOnce(node.port, 'CLIENT', 'LIST')).split('\n').find((l) => l.includes('flags=b')) ?? '')?.[1] === String(times * chunk.length), { timeoutMs: 30_000, what: 'the node to read 50 MB' });
    });
    const cpu = cpuMs(pid) - cpuBefore;
    // Before the fix: 15.6 s of CPU and PINGs up to 2 s (redis-server: 0.22 s); now about 0.1 s.
    expect(cpu, 'node CPU ms for reading 50 MB behind a blocked command').toBeLessThan(3000);
    expectPingsFast(latencies);
    expect(rssMb(pid), 'node RSS (MB) holding 50 MB of input').toBeLessThan(400);
    expect(hostile.closed).toBe(false);
    hostile.destroy();
    await expectServing(node.port);
  });

  it('30 MB sent by a client held by CLIENT PAUSE WRITE costs little CPU; other clients stay fast', async () => {
    const pid = node.proc.pid!;
    expect(await callOnce(node.port, 'CLIENT', 'PAUSE', '30000', 'WRITE')).toMatchObject({ value: 'OK' });
    const hostile = await Hostile.open(node.port);
    try {
      const incr = encodeCommand(['INCR', 'paused']);
      const burst = Buffer.concat(Array.from({ length: Math.floor(65536 / incr.length) }, () => incr));
      const n = Math.ceil((30 * MB) / burst.length);
      const cpuBefore = cpuMs(pid);
      const latencies = await pingsDuring(node.port, async () => {
        await hostile.pump(burst, n);
        // The first INCR is postponed; everything after it is held unparsed.
        await waitFor(async () => Number(/qbuf=(\d+)/.exec(String(await callOnce(node.port, 'CLIENT', 'LIST')).split('\n').find((l) => l.includes('cmd=NULL') && !l.includes('qbuf=0 ')) ?? '')?.[1]) === n * burst.length - incr.length, { timeoutMs: 30_000, what: 'the node to read 30 MB' });
      });
      expect(cpuMs(pid) - cpuBefore, 'node CPU ms for reading 30 MB while paused').toBeLessThan(3000);
      expectPingsFast(latencies);
    } finally {
      hostile.destroy();
      await callOnce(node.port, 'CLIENT', 'UNPAUSE');
    }
  });

  it('a paused client that kept sending is served in order once the pause ends', async () => {
    expect(await callOnce(node.port, 'CLIENT', 'PAUSE', '30000', 'WRITE')).toMatchObject({ value: 'OK' });
    const c = await RawClient.connect(node.port);
    try {
      const replies = Array.from({ length: 3000 }, (_, i) => (i === 0 ? c.call('INCR', 'ordered') : c.nextReply(30_000)));
      // The rest arrives in pieces of every size, split anywhere, while the first is held.
      const rest = Buffer.concat(Array.from({ length: 2999 }, () => encodeCommand(['INCR', 'ordered'])));
      for (let at = 0, size = 1; at < rest.length; at += size, size = (size * 7) % 5000 + 1) c.write(rest.subarray(at, at + size));
      await waitFor(async () => /cmd=NULL/.test(String(await callOnce(node.port, 'CLIENT', 'LIST'))), { what: 'the held client' });
      expect(await callOnce(node.port, 'GET', 'ordered')).toBeNull();
      expect(await callOnce(node.port, 'CLIENT', 'UNPAUSE')).toMatchObject({ value: 'OK' });
      expect(await Promise.all(replies)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    } finally {
      c.close();
      await callOnce(node.port, 'CLIENT', 'UNPAUSE');
    }
  });
});

describe('client-query-buffer-limit counts what a client really holds', () => {
  let node: ServerHandle;
  beforeAll(async () => {
    node = await startNode(['--client-query-buffer-limit', '64mb']);
  });
  afterAll(() => stopAll(node));

  it('a never-finished *20000 of 400 KB bulks is disconnected past the limit; the node stays up and small', async () => {
    const pid = node.proc.pid!;
    const hostile = await Hostile.open(node.port);
    hostile.socket.write('*20000\r\n');
    const bulk = Buffer.concat([Buffer.from('$400000\r\n'), Buffer.alloc(400_000, 0x61), Buffer.from('\r\n')]);
    let sent = 0;
    let peak = 0;
    const latencies = await pingsDuring(node.port, async () => {
      sent = await hostile.pump(bulk, 20_000);
      await hostile.waitClosed(10_000);
      peak = rssMb(pid);
    });
    // Closed once past 64 MB of parsed arguments (about 168 bulks), long before 8 GB.
    expect(sent * bulk.length).toBeLessThan(200 * MB);
    // Before the fix the node grew to its heap limit (4.2 GB) and aborted, whatever the limit.
    expect(peak, 'node RSS (MB) after the hostile multibulk').toBeLessThan(400);
    expectPingsFast(latencies);
    await waitFor(() => node.output().includes('Closing client that reached max query buffer length'), { what: 'the log line' });
    await expectServing(node.port);
  });

  it('a MULTI queue counts too (Redis 7: argv of queued commands)', async () => {
    const c = await RawClient.connect(node.port);
    try {
      expect(await c.call('MULTI')).toMatchObject({ value: 'OK' });
      const set = encodeCommand(['SET', 'k', 'v'.repeat(MB)]);
      for (let i = 0; i < 100 && !c.closed; i++) {
        c.write(set);
        await new Promise((r) => setTimeout(r, 2));
      }
      await c.waitClosed(10_000);
    } finally {
      c.close();
    }
    const line = node.output().split('\n').filter((l) => l.includes('reached max query buffer length')).pop()!;
    expect(Number(/multi-mem=(\d+)/.exec(line)![1])).toBeGreaterThan(48 * MB);
    await expectServing(node.port);
  });
});

describe('arguments longer than a JS string, and exceptions inside a session', () => {
  let node: ServerHandle;
  beforeAll(async () => {
    node = await startNode();
  });
  afterAll(() => stopAll(node));

  it('SET k <536,870,900 bytes> (inside proto-max-bulk-len) is refused with an error; the connection and the node go on', async () => {
    const pid = node.proc.pid!;
    let c: Hostile | undefined;
    const latencies = await pingsDuring(node.port, async () => {
      c = await setHuge(node.port, 536_870_900, 0x78);
      c.socket.write(encodeCommand(['PING']));
      await waitFor(() => c!.text.includes('+PONG\r\n'), { timeoutMs: 20_000, what: `the error and PONG (have ${JSON.stringify(c!.text)}, closed ${c!.closed})` });
    });
    expect(c!.text).toBe('-ERR argument of 536870900 bytes is longer than the 536870888 bytes this server can hold in one argument\r\n+PONG\r\n');
    expect(c!.closed).toBe(false);
    // The skipped bytes were never held.
    expect(rssMb(pid)).toBeLessThan(400);
    expectPingsFast(latencies);
    c!.destroy();
    expect(await callOnce(node.port, 'EXISTS', 'k')).toBe(0);
  });

  it('the longest argument a string can hold (536,870,888 bytes) is accepted, as redis-server accepts it', async () => {
    const c = await setHuge(node.port, 536_870_888, 0x79, 'big');
    await waitFor(() => c.text.length > 0, { timeoutMs: 60_000, what: 'the SET reply' });
    expect(c.text).toBe('+OK\r\n');
    c.destroy();
    expect(await callOnce(node.port, 'STRLEN', 'big')).toBe(536_870_888);
    expect(await callOnce(node.port, 'DEL', 'big')).toBe(1);
  });

  it('MONITOR of a 135 MB binary value answers at once (the monitor line is cut, not built char by char)', async () => {
    const pid = node.proc.pid!;
    const monitor = await RawClient.connect(node.port);
    try {
      expect(await monitor.call('MONITOR')).toMatchObject({ value: 'OK' });
      const t0 = Date.now();
      const c = await setHuge(node.port, 135 * MB, 0, 'zeros');
      await waitFor(() => c.closed || c.text.length > 0, { timeoutMs: 30_000, what: 'the SET reply' });
      // Before: 30 s at 100 % CPU and 3.6 GB, then the line overflowed a string and killed the node.
      expect(c.text).toBe('+OK\r\n');
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(rssMb(pid)).toBeLessThan(1200);
      c.destroy();
      expect((await monitor.nextReply(5000) as SimpleString).value).toMatch(/"SET" "zeros" "(\\x00){1024}"\.\.\. \(141556736 more bytes\)$/);
    } finally {
      monitor.close();
    }
    expect(await callOnce(node.port, 'DEL', 'zeros')).toBe(1);
  });
});

describe('an exception inside a session closes that client only', () => {
  let node: ServerHandle;
  beforeAll(async () => {
    node = await startNode(['--appendonly', 'yes']);
  });
  afterAll(() => stopAll(node));

  it('a write whose AOF record cannot be encoded (a 536,870,888-byte value) ends its connection, never the node', async () => {
    const c = await setHuge(node.port, 536_870_888, 0x7a, 'big');
    await c.waitClosed(60_000);
    expect(c.text).toBe('');
    // Before the fix: "RangeError: Invalid string length" out of the AOF encoder killed the node.
    expect(node.proc.exitCode).toBeNull();
    expect(node.output()).toContain('after an internal error: RangeError');
    await expectServing(node.port);
    const other = await RawClient.connect(node.port);
    expect(await other.call('SET', 'small', '1')).toMatchObject({ value: 'OK' });
    other.close();
  });
});

describe('side by side with redis-server', () => {
  let node: ServerHandle;
  let redis: ServerHandle;
  beforeAll(async () => {
    [node, redis] = await Promise.all([startNode(), startRedis()]);
  });
  afterAll(() => stopAll(node, redis));

  it('after a protocol error the server replies and closes fully: a client that keeps writing sees the end quickly', async () => {
    for (const server of [node, redis]) {
      const c = await Hostile.open(server.port);
      c.socket.write(Buffer.alloc(70 * 1024, 0x61)); // an inline request past 64 KB without a newline
      const started = Date.now();
      const writer = setInterval(() => {
        if (!c.closed) c.socket.write(Buffer.alloc(1024, 0x61));
      }, 10);
      try {
        await c.waitClosed(3000);
      } finally {
        clearInterval(writer);
      }
      expect(Date.now() - started, `${server.kind}: time to see the connection end`).toBeLessThan(3000);
      // The reply may be lost to the reset (bytes still unread when the server closes); when it
      // arrives, it is Redis's text.
      if (c.text !== '') expect(c.text, server.kind).toBe('-ERR Protocol error: too big inline request\r\n');
      c.destroy();
    }
  });

  it('a protocol error reply arrives before the close when the client stops writing', async () => {
    for (const server of [node, redis]) {
      const c = await Hostile.open(server.port);
      c.socket.write('*1\r\nx\r\n');
      await c.waitClosed(3000);
      expect(c.text, server.kind).toBe("-ERR Protocol error: expected '$', got 'x'\r\n");
    }
  });

  it('an HTTP POST whose body is SET pwned yes is aborted at the request line, runs nothing, is logged', async () => {
    for (const server of [node, redis]) {
      const c = await Hostile.open(server.port);
      const body = 'SET pwned yes\r\n';
      c.socket.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      await c.waitClosed(3000);
      expect(c.text, server.kind).toBe('');
      // A "Host:" header line alone is refused the same way, whatever comes before it.
      const d = await Hostile.open(server.port);
      d.socket.write(encodeCommand(['host:', 'example.com']));
      d.socket.write('SET pwned2 yes\r\n');
      await d.waitClosed(3000);
      expect(await callOnce(server.port, 'EXISTS', 'pwned', 'pwned2'), server.kind).toBe(0);
    }
    await waitFor(() => node.output().includes('Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis.'), { what: 'the log line' });
  });
});

// 128, not 64: Node's ESM loader reads a level of the import graph at once, and the node's modules
// (about 250 files with common/) need more than 64 descriptors while it starts; the point is a limit far below maxclients.
describe('a node started with a low open-file limit (prlimit --nofile=128:128)', () => {
  const procs: TrackedProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
  });

  /** Starts a server under prlimit; `argv` after the binary. */
  async function startLimited(kind: 'tessera' | 'redis'): Promise<{ port: number; t: TrackedProcess }> {
    const port = await freePort();
    const base = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp'];
    const cmd = kind === 'tessera' ? [process.execPath, TESSERA_BIN, 'node', ...base] : ['redis-server', ...base];
    const t = spawnTracked('prlimit', ['--nofile=128:128', ...cmd]);
    procs.push(t);
    await waitForPing(t, port, `${kind} under prlimit`);
    return { port, t };
  }

  /** Opens `n` connections at once, each sends PING; returns each connection's first reply line, or '' when none came. */
  async function burst(port: number, n: number): Promise<string[]> {
    const sockets: Socket[] = [];
    try {
      return await Promise.all(Array.from({ length: n }, () => new Promise<string>((resolve) => {
        const s = connect(port, '127.0.0.1');
        sockets.push(s);
        let got = '';
        const t = setTimeout(() => resolve(got), 5000);
        s.on('connect', () => s.write('PING\r\n'));
        s.on('data', (d) => {
          got += d.toString('latin1');
          if (got.includes('\r\n')) {
            clearTimeout(t);
            resolve(got.split('\r\n')[0]!);
          }
        });
        s.on('error', () => {});
        s.on('close', () => {
          clearTimeout(t);
          resolve(got.split('\r\n')[0]!);
        });
      })));
    } finally {
      for (const s of sockets) s.destroy();
    }
  }

  it('lowers maxclients like redis-server and answers every connection past it with "max number of clients reached"', async () => {
    for (const kind of ['tessera', 'redis'] as const) {
      const { port, t } = await startLimited(kind);
      expect(t.output(), kind).toContain('You requested maxclients of 10000 requiring at least 10032 max file descriptors.');
      expect(t.output(), kind).toContain('Current maximum open files is 128. maxclients has been reduced to 96 to compensate for low ulimit.');
      expect(await callOnce(port, 'CONFIG', 'GET', 'maxclients'), kind).toEqual(['maxclients', '96']);
      const replies = await burst(port, 200);
      const pongs = replies.filter((r) => r === '+PONG').length;
      const refused = replies.filter((r) => r === '-ERR max number of clients reached').length;
      // Every connection is answered: at most maxclients are served, the rest refused in words.
      expect(pongs + refused, `${kind}: ${JSON.stringify(replies.filter((r) => r !== '+PONG' && !r.startsWith('-ERR max')))}`).toBe(200);
      expect(pongs, kind).toBeLessThanOrEqual(96);
      expect(refused, kind).toBeGreaterThanOrEqual(104);
      // Once the burst is gone, new clients are served again.
      await waitFor(async () => (await callOnce(port, 'PING').catch(() => null)) !== null, { what: `${kind} to serve again` });
      expect(await callOnce(port, 'PING')).toMatchObject({ value: 'PONG' });
    }
  });
});
