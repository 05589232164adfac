// Real clients against a node: redis-cli prints what it prints for redis-server, redis-benchmark
// completes and reports throughput, and ioredis 6 with default options (HELLO 3, CLIENT SETINFO,
// INFO ready check) connects, pipelines and runs MULTI.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';

const run = promisify(execFile);

let node: ServerHandle;
let redis: ServerHandle;
beforeAll(async () => {
  [node, redis] = await Promise.all([startNode(), startRedis()]);
});
afterAll(async () => {
  await stopAll(node, redis);
});

async function cli(port: number, args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000, encoding: 'latin1' });
  return stdout;
}

describe('redis-cli', () => {
  it('PING, SET and GET', async () => {
    expect(await cli(node.port, ['PING'])).toBe('PONG\n');
    expect(await cli(node.port, ['SET', 'cli:k', 'hello world'])).toBe('OK\n');
    expect(await cli(node.port, ['GET', 'cli:k'])).toBe('hello world\n');
  });

  // Each line runs on a fresh redis-cli against both servers; outputs must be identical.
  const SCRIPT: string[][] = [
    ['FLUSHALL'],
    ['--no-raw', 'SET', 'k', 'v'],
    ['--no-raw', 'GET', 'k'],
    ['--no-raw', 'GET', 'missing'],
    ['--no-raw', 'INCR', 'n'],
    ['--no-raw', 'INCRBYFLOAT', 'f', '1.5'],
    ['--no-raw', 'ECHO', 'tab\there "quoted" \x01\xff'],
    ['--no-raw', 'MGET', 'k', 'missing', 'n'],
    ['--no-raw', 'RPUSH', 'l', 'a', 'b', 'c'],
    ['--no-raw', 'LRANGE', 'l', '0', '-1'],
    ['--no-raw', 'LRANGE', 'l', '5', '10'],
    ['--no-raw', 'GET', 'l'],
    ['--no-raw', 'NOSUCHCMD', 'x'],
    ['--no-raw', 'SET', 'k'],
    ['--no-raw', 'DBSIZE'],
    ['-3', '--no-raw', 'MGET', 'k', 'missing'],
    ['-3', '--no-raw', 'INCRBYFLOAT', 'f', '0.25'],
    ['--raw', 'LRANGE', 'l', '0', '-1'],
  ];
  it('prints the same as for redis-server', async () => {
    for (const args of SCRIPT) {
      const [ours, theirs] = await Promise.all([cli(node.port, args), cli(redis.port, args)]);
      expect(ours, `redis-cli ${args.join(' ')}`).toBe(theirs);
    }
  });

  it('reads commands from stdin (pipelined)', async () => {
    const script = 'SET a 1\nINCR a\nGET a\n';
    const out = await Promise.all([node.port, redis.port].map((port) => new Promise<string>((resolve, reject) => {
      const child = execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port)], { timeout: 10_000 }, (err, stdout) => {
        if (err) reject(err);
        else resolve(stdout);
      });
      child.stdin!.end(script);
    })));
    expect(out[0]).toBe('OK\n2\n2\n');
    expect(out[0]).toBe(out[1]);
  });
});

describe('redis-benchmark', () => {
  it('set,get with -P 16 completes and reports requests per second', async () => {
    const { stdout } = await run(
      'redis-benchmark',
      ['-h', '127.0.0.1', '-p', String(node.port), '-t', 'set,get', '-n', '20000', '-P', '16', '-q'],
      { timeout: 60_000 },
    );
    const rps = (name: string) => {
      const m = new RegExp(`${name}: ([\\d.]+) requests per second`).exec(stdout);
      expect(m, `${name} line in:\n${stdout}`).not.toBeNull();
      return Number(m![1]);
    };
    expect(rps('SET')).toBeGreaterThan(0);
    expect(rps('GET')).toBeGreaterThan(0);
  });
});

/** Connects ioredis with its default options and waits for 'ready' (or fails with the last error). */
async function connectIoredis(port: number): Promise<Redis> {
  const r = new Redis({ host: '127.0.0.1', port });
  try {
    await new Promise<void>((resolve, reject) => {
      let lastError: Error | undefined;
      const t = setTimeout(() => reject(new Error(`ioredis not ready: ${lastError?.message ?? 'no error seen'}`)), 8000);
      r.on('error', (e: Error) => (lastError = e));
      r.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
  } catch (err) {
    r.disconnect();
    throw err;
  }
  return r;
}

describe('ioredis 6 with default options', () => {
  it('connects (HELLO 3, CLIENT SETINFO, INFO) and runs commands', async () => {
    const r = await connectIoredis(node.port);
    try {
      expect(await r.ping()).toBe('PONG');
      expect(await r.set('io:k', 'v')).toBe('OK');
      expect(await r.get('io:k')).toBe('v');
      expect(await r.get('io:missing')).toBeNull();
      expect(await r.incrbyfloat('io:f', '1.5')).toBe('1.5');
      const info = String(await r.call('CLIENT', 'INFO'));
      expect(info).toMatch(/ resp=3 /);
      expect(info).toMatch(/ lib-name=ioredis lib-ver=6\.0\.0/);
      await expect(r.call('NOSUCHCMD', 'x')).rejects.toThrow("ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' ");
    } finally {
      r.disconnect();
    }
  });

  it('binary keys and values round-trip', async () => {
    const r = await connectIoredis(node.port);
    try {
      const key = Buffer.from([0, 0xff, 13, 10, 0x7b]);
      const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await r.set(key, value);
      expect((await r.getBuffer(key))!.equals(value)).toBe(true);
    } finally {
      r.disconnect();
    }
  });

  it('pipelines keep order and isolate errors', async () => {
    const r = await connectIoredis(node.port);
    try {
      const results = await r.pipeline().del('io:p').set('io:p', '1').incr('io:p').get('io:p').lpush('io:p', 'x').incrby('io:p', 10).exec();
      expect(results!.map(([err, v]) => (err ? `error: ${err.message}` : v))).toEqual([
        0, 'OK', 2, '2', 'error: WRONGTYPE Operation against a key holding the wrong kind of value', 12,
      ]);
      const many = r.pipeline();
      for (let i = 0; i < 1000; i++) many.echo(`m${i}`);
      const echoed = await many.exec();
      expect(echoed!.map(([, v]) => v)).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i}`));
    } finally {
      r.disconnect();
    }
  });

  it('multi() runs atomically; queue-time errors abort with EXECABORT', async () => {
    const r = await connectIoredis(node.port);
    try {
      await r.del('io:m');
      expect(await r.multi().set('io:m', '1').incr('io:m').get('io:m').exec()).toEqual([[null, 'OK'], [null, 2], [null, '2']]);
      const runtime = await r.multi().lpush('io:m', 'x').incr('io:m').exec();
      expect(runtime![0]![0]!.message).toMatch(/^WRONGTYPE/);
      expect(runtime![1]).toEqual([null, 3]);
      await expect(r.multi().set('io:m', '5').call('NOSUCHCMD').exec()).rejects.toThrow(/EXECABORT/);
      expect(await r.get('io:m')).toBe('3');
    } finally {
      r.disconnect();
    }
  });
});
