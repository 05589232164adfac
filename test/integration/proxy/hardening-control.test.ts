// The proxy's control surfaces, against a real cluster (2 groups × master + replica, nodes with a
// password): admin API bearer token and /health degradation, protected mode (compared byte for
// byte with redis-server), the POST/Host: cross-protocol guard, CONFIG GET/SET as admin commands
// applied to every node, and secrets kept out of `ps` and the proxy's log.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import { MapValue, ReplyErrorValue } from '../../../common/resp/reply-decoder.js';
import { type Cluster, type ProxyHandle, startCluster } from '../../helpers/cluster.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const NODE_PW = 'node-secret-6f1c';
const ADMIN_PW = 'admin-pw-93ab';
const TOKEN = 'admin-token-c0ffee';

let cluster: Cluster;
let proxy: ProxyHandle; // no requirepass: protected mode on
let open: ProxyHandle; // protected-mode no
let redis: ServerHandle;
let secretsDir: string;

beforeAll(async () => {
  secretsDir = mkdtempSync(join(tmpdir(), 'tessera-secrets-'));
  writeFileSync(join(secretsDir, 'backend-pw'), `${NODE_PW}\n`, { mode: 0o600 });
  cluster = await startCluster({ groups: 2, replicas: 1, proxies: 0, store: 'file', nodeArgs: ['--requirepass', NODE_PW, '--masterauth', NODE_PW] });
  // The token through the environment, the backend password from a file, the admin password as a
  // flag (which the process title must then hide).
  process.env.TESSERA_ADMIN_TOKEN = TOKEN;
  try {
    proxy = await cluster.startProxy(['--backend-password-file', join(secretsDir, 'backend-pw'), '--admin-password', ADMIN_PW]);
  } finally {
    delete process.env.TESSERA_ADMIN_TOKEN;
  }
  open = await cluster.startProxy(['--backend-password', NODE_PW, '--protected-mode', 'no']);
  redis = await startRedis(['--protected-mode', 'yes']);
});

afterAll(async () => {
  await cluster?.stop();
  await stopAll(redis);
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
});

/** GET on the admin API, optionally from another loopback source address. */
function adminGet(path: string, headers: Record<string, string> = {}, localAddress?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.adminPort, path, headers, localAddress }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends bytes from `localAddress` and collects everything until the server closes. */
function exchange(port: number, bytes: string, localAddress = '127.0.0.1'): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    let reply = '';
    const s = connect({ host: '127.0.0.1', port, localAddress }, () => s.write(bytes));
    const t = setTimeout(() => {
      s.destroy();
      resolve({ reply, closed: false });
    }, 5000);
    s.on('data', (d) => (reply += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      resolve({ reply, closed: true });
    });
  });
}

async function nodeClient(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  expect(await c.call('AUTH', NODE_PW)).toMatchObject({ value: 'OK' });
  return c;
}

const allNodes = () => [...cluster.groups, ...cluster.replicas.flat()];

describe('admin HTTP API', () => {
  it('needs the bearer token (given by TESSERA_ADMIN_TOKEN) on every route', async () => {
    const none = await adminGet('/stats');
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ code: 'ADMIN_TOKEN_MISSING', message: expect.any(String) });
    const wrong = await adminGet('/slots', { authorization: 'Bearer not-it' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).code).toBe('ADMIN_TOKEN_INVALID');
    expect((await adminGet('/health')).status).toBe(401);
    const ok = await adminGet('/slots', { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toHaveLength(1024);
    const health = JSON.parse((await adminGet('/health', { authorization: `Bearer ${TOKEN}` })).body);
    expect(health.status).toBe('ok');
    expect(health.backends.map((b: { group: number; role: string }) => `${b.group} ${b.role}`).sort()).toEqual(['1 master', '1 replica', '2 master', '2 replica']);
  });

  it('without a token configured, it answers loopback clients only', async () => {
    const req = (localAddress: string) => new Promise<number>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: open.adminPort, path: '/slots', localAddress }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      r.on('error', reject);
      r.end();
    });
    expect(await req('127.0.0.1')).toBe(200);
    expect(await req('127.0.0.2')).toBe(403);
  });
});

describe('protected mode', () => {
  it('refuses a non-loopback client without requirepass with the same bytes as redis-server', async () => {
    // Nothing sent: the refusal comes on accept, and bytes sent after the close would draw a
    // reset that can discard the reply before it is read.
    const ours = await exchange(proxy.port, '', '127.0.0.2');
    const theirs = await exchange(redis.port, '', '127.0.0.2');
    expect(theirs.reply).toMatch(/^-DENIED Redis is running in protected mode/);
    expect(ours).toEqual(theirs);
    // Loopback clients are served, and protected-mode no serves everyone.
    expect((await exchange(proxy.port, 'PING\r\nQUIT\r\n')).reply).toBe('+PONG\r\n+OK\r\n');
    expect((await exchange(open.port, 'PING\r\nQUIT\r\n', '127.0.0.2')).reply).toBe('+PONG\r\n+OK\r\n');
  });
});

describe('POST / Host: guard', () => {
  it('an HTTP POST whose body is SET pwned yes sets nothing and closes the connection', async () => {
    const post = 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 15\r\n\r\nSET pwned yes\r\n';
    const ours = await exchange(proxy.port, post);
    expect(ours).toEqual({ reply: '', closed: true });
    // A GET request line first: the Host: header line still closes before the body runs.
    const get = await exchange(proxy.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nSET pwned2 yes\r\n');
    expect(get.closed).toBe(true);
    expect(get.reply).not.toContain('+OK');
    const c = await RawClient.connect(proxy.port);
    expect(await c.call('EXISTS', 'pwned', 'pwned2')).toBe(0);
    c.close();
    for (const n of cluster.groups) {
      const d = await nodeClient(n.port);
      expect(await d.call('DBSIZE')).toBe(0);
      d.close();
    }
    expect(proxy.output()).toContain('Possible SECURITY ATTACK detected');
    // redis-server does the same with the same bytes.
    expect(await exchange(redis.port, post)).toEqual({ reply: '', closed: true });
  });
});

describe('CONFIG through the proxy', () => {
  it('is refused to clients that did not AUTH with the admin password', async () => {
    const c = await RawClient.connect(proxy.port);
    const get = await c.call('CONFIG', 'GET', 'maxmemory');
    expect((get as ReplyErrorValue).message).toBe("NOPERM CONFIG is an admin command: AUTH with the proxy's admin password first");
    expect((await c.call('AUTH', 'admin', 'wrong') as ReplyErrorValue).message).toMatch(/^WRONGPASS/);
    expect((await c.call('CONFIG', 'SET', 'maxmemory', '1mb') as ReplyErrorValue).message).toMatch(/^NOPERM/);
    c.close();
    // A proxy without admin-password has no admins at all.
    const o = await RawClient.connect(open.port);
    expect((await o.call('CONFIG', 'GET', 'maxmemory') as ReplyErrorValue).message).toMatch(/^NOPERM .*no admin-password/);
    o.close();
  });

  it('SET reaches every master and replica; GET answers from the nodes', async () => {
    const c = await RawClient.connect(proxy.port);
    expect(await c.call('AUTH', 'admin', ADMIN_PW)).toMatchObject({ value: 'OK' });
    expect(await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru', 'slowlog-max-len', '77')).toMatchObject({ value: 'OK' });
    for (const n of allNodes()) {
      const d = await nodeClient(n.port);
      expect(await d.call('CONFIG', 'GET', 'maxmemory-policy'), `node ${n.port}`).toEqual(['maxmemory-policy', 'allkeys-lru']);
      expect(await d.call('CONFIG', 'GET', 'slowlog-max-len'), `node ${n.port}`).toEqual(['slowlog-max-len', '77']);
      d.close();
    }
    expect(await c.call('CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    // Refused alike by every node: the node's own error, as redis-server words it.
    const bad = await c.call('CONFIG', 'SET', 'maxmemory-policy', 'bogus');
    const r = await RawClient.connect(redis.port);
    const redisBad = await r.call('CONFIG', 'SET', 'maxmemory-policy', 'bogus');
    r.close();
    expect((bad as ReplyErrorValue).message).toBe((redisBad as ReplyErrorValue).message);
    // AUTH with the single-argument form works too; RESET drops the admin right.
    expect(await c.call('RESET')).toMatchObject({ value: 'RESET' });
    expect((await c.call('CONFIG', 'GET', 'maxmemory') as ReplyErrorValue).message).toMatch(/^NOPERM/);
    expect(await c.call('AUTH', ADMIN_PW)).toMatchObject({ value: 'OK' });
    expect(await c.call('CONFIG', 'GET', 'slowlog-max-len')).toEqual(['slowlog-max-len', '77']);
    c.close();
    // HELLO 3 AUTH admin …: an admin speaking RESP3 gets the node's RESP3 map.
    const r3 = await RawClient.connect(proxy.port);
    expect(await r3.call('HELLO', '3', 'AUTH', 'admin', ADMIN_PW)).toBeInstanceOf(MapValue);
    const map = await r3.call('CONFIG', 'GET', 'slowlog-max-len');
    expect(map).toBeInstanceOf(MapValue);
    expect((map as MapValue).pairs).toEqual([['slowlog-max-len', '77']]);
    r3.close();
  });
});

describe('CONFIG SET with a wedged node', () => {
  it('fails within the backend timeout, naming the node, and the others are applied', async () => {
    const stuck = cluster.replicas[0]![0]!;
    const c = await RawClient.connect(proxy.port);
    expect(await c.call('AUTH', 'admin', ADMIN_PW)).toMatchObject({ value: 'OK' });
    process.kill(stuck.proc.pid!, 'SIGSTOP');
    const other = await RawClient.connect(proxy.port);
    try {
      const t0 = Date.now();
      // The reply takes the backend timeout (5 s): wait longer than RawClient.call would.
      const pending = c.nextReply(15_000);
      c.write(encodeCommand(['CONFIG', 'SET', 'slowlog-max-len', '66']));
      // Meanwhile other clients are not held up: CONFIG runs on links of its own.
      const pings: number[] = [];
      for (let i = 0; i < 5; i++) {
        const p0 = performance.now();
        expect(await other.call('PING')).toMatchObject({ value: 'PONG' });
        expect(await other.call('SET', `during-config-${i}`, 'x')).toMatchObject({ value: 'OK' });
        pings.push(performance.now() - p0);
      }
      pings.sort((a, b) => a - b);
      expect(pings[2]!).toBeLessThan(100); // median PING + SET round trip
      const partial = await pending;
      const took = Date.now() - t0;
      expect((partial as ReplyErrorValue).message).toBe(`ERR CONFIG SET applied on 3 of 4 nodes; failed on 127.0.0.1:${stuck.port} (group 1 replica): no reply within 5000 ms`);
      expect(took).toBeGreaterThanOrEqual(4900);
      expect(took).toBeLessThan(9000); // backend-timeout 5 s, plus a loaded machine's slack
    } finally {
      process.kill(stuck.proc.pid!, 'SIGCONT');
      other.close();
    }
    c.close();
  });
});

describe('secrets', () => {
  it('ps shows no password: argv secrets are masked, file and environment ones never appear', async () => {
    const cmdline = readFileSync(`/proc/${proxy.proc.pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
    expect(cmdline).toContain('--admin-password ***');
    expect(cmdline).toContain('--backend-password-file');
    for (const secret of [ADMIN_PW, NODE_PW, TOKEN]) expect(cmdline).not.toContain(secret);
    for (const n of [...allNodes().map((x) => x.proc.pid), open.proc.pid]) {
      const line = readFileSync(`/proc/${n}/cmdline`, 'latin1');
      expect(line).not.toContain(NODE_PW);
      expect(line).toMatch(/--(requirepass|backend-password) \*\*\*/);
    }
  });
});

describe('a backend that goes away', () => {
  it('shows on /health as degraded, fails CONFIG SET by name, and never puts the password in the log', async () => {
    const gone = cluster.replicas[1]![0]!;
    const goneMaster = cluster.groups[1]!;
    const c = await RawClient.connect(proxy.port);
    expect(await c.call('SET', 'k', 'v')).toMatchObject({ value: 'OK' }); // links to both groups exist
    await goneMaster.kill();
    await gone.kill();
    const health = await waitFor(async () => {
      await c.call('MGET', ...Array.from({ length: 20 }, (_, i) => `probe${i}`)); // touches both groups
      const h = JSON.parse((await adminGet('/health', { authorization: `Bearer ${TOKEN}` })).body);
      return h.status === 'degraded' ? h : null;
    }, { what: '/health to report the stopped master', timeoutMs: 15_000, intervalMs: 200 });
    expect(health.degraded.join(' ')).toContain(`127.0.0.1:${goneMaster.port} (group 2 master`);
    expect(await c.call('AUTH', 'admin', ADMIN_PW)).toMatchObject({ value: 'OK' });
    const partial = await c.call('CONFIG', 'SET', 'slowlog-max-len', '88');
    expect((partial as ReplyErrorValue).message).toMatch(/^ERR CONFIG SET applied on 2 of 4 nodes; failed on /);
    expect((partial as ReplyErrorValue).message).toContain(`127.0.0.1:${goneMaster.port} (group 2 master)`);
    expect((partial as ReplyErrorValue).message).toContain(`127.0.0.1:${gone.port} (group 2 replica)`);
    c.close();
    for (const p of [proxy, open]) {
      for (const secret of [NODE_PW, ADMIN_PW, TOKEN]) expect(p.output()).not.toContain(secret);
    }
  });
});
