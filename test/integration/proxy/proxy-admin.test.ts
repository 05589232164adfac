// The proxy's edges: client AUTH (requirepass) in front of password-protected nodes, redis-cli
// through the proxy, and the admin HTTP API (/health, /stats, /metrics, /slots).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyErrorValue } from '../../../common/resp/reply-decoder.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { RawClient } from '../../helpers/raw-client.js';

const run = promisify(execFile);
let cluster: Cluster;
let port: number;
let admin: string;

beforeAll(async () => {
  cluster = await startCluster({
    groups: 2, proxies: 1, store: 'file',
    nodeArgs: ['--requirepass', 'node-secret'],
    proxyArgs: ['--requirepass', 'proxy-secret', '--backend-password', 'node-secret'],
  });
  port = cluster.proxies[0]!.port;
  admin = `http://127.0.0.1:${cluster.proxies[0]!.adminPort}`;
});

afterAll(async () => {
  await cluster?.stop();
});

describe('proxy auth', () => {
  it('requires AUTH from clients and authenticates itself to the nodes', async () => {
    const c = await RawClient.connect(port);
    const noauth = await c.call('GET', 'k');
    expect(noauth).toBeInstanceOf(ReplyErrorValue);
    expect((noauth as ReplyErrorValue).message).toBe('NOAUTH Authentication required.');
    expect((await c.call('AUTH', 'wrong') as ReplyErrorValue).message).toMatch(/^WRONGPASS/);
    expect(await c.call('AUTH', 'proxy-secret')).toMatchObject({ value: 'OK' });
    expect(await c.call('SET', 'k', 'v')).toMatchObject({ value: 'OK' });
    expect(await c.call('GET', 'k')).toBe('v');
    expect(await c.call('MSET', 'a', '1', 'b', '2', 'c', '3')).toMatchObject({ value: 'OK' });
    expect(await c.call('DBSIZE')).toBe(4);
    c.close();
  });

  it('works with redis-cli', async () => {
    const cli = (...args: string[]) => run('redis-cli', ['-p', String(port), '-a', 'proxy-secret', '--no-auth-warning', ...args]);
    expect((await cli('SET', 'cli-key', 'hello')).stdout.trim()).toBe('OK');
    expect((await cli('GET', 'cli-key')).stdout.trim()).toBe('hello');
    expect((await cli('--no-raw', 'MGET', 'cli-key', 'nope')).stdout).toBe('1) "hello"\n2) (nil)\n');
    expect((await cli('PING')).stdout.trim()).toBe('PONG');
  });
});

describe('admin HTTP API', () => {
  it('serves /health, /stats, /metrics and /slots', async () => {
    const health = await (await fetch(`${admin}/health`)).json() as { status: string; tableRevision: string };
    expect(health.status).toBe('ok');
    expect(BigInt(health.tableRevision)).toBeGreaterThan(0n);
    const stats = await (await fetch(`${admin}/stats`)).json() as { ops: { total: number }; commands: Record<string, { calls: number; p99_us: number }>; backends: unknown[] };
    expect(stats.ops.total).toBeGreaterThan(0);
    expect(stats.commands.get!.calls).toBeGreaterThan(0);
    expect(stats.commands.get!.p99_us).toBeGreaterThan(0);
    expect(stats.backends.length).toBeGreaterThan(0);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toMatch(/tessera_proxy_commands_total\{command="get"\} \d+/);
    expect(metrics).toMatch(/tessera_proxy_sessions \d+/);
    const slots = await (await fetch(`${admin}/slots`)).json() as Array<{ slot: number; kind: string; group: number }>;
    expect(slots).toHaveLength(1024);
    expect(slots[0]).toMatchObject({ slot: 0, kind: 'online', group: 1 });
    expect(slots[1023]).toMatchObject({ slot: 1023, kind: 'online', group: 2 });
  });
});
