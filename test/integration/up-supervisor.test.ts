// `tessera up` as a supervisor, with real processes: a node killed with SIGKILL is reported and
// restarted by itself while the other group and the proxy keep serving; SIGINT stops every child
// and a second `tessera up` on the same --dir has every key; a failure during start stops the
// rest; children of a supervisor that died shut down by themselves.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ReplyErrorValue } from '../../common/resp/reply-decoder.js';
import { slotOf } from '../../common/slots.js';
import { freePort, freePortRun } from '../helpers/ports.js';
import { RawClient, callOnce, infoFields } from '../helpers/raw-client.js';
import { TESSERA_BIN, type TrackedProcess, spawnTracked } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait-for.js';

const dirs: string[] = [];
const ups: TrackedProcess[] = [];
/** Pids of every node and proxy seen, so none can outlive the test. */
const childPids = new Set<number>();

afterEach(async () => {
  await Promise.all(ups.splice(0).map((u) => u.stop()));
  for (const pid of childPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone, as it should be */
    }
  }
  childPids.clear();
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const freeRun = freePortRun;

interface Up {
  t: TrackedProcess;
  info: { proxies: string[]; groups: Array<{ id: number; master: string; replicas: string[] }>; adminTokenFile: string; dashboard: { url: string; token: string } };
  nodePorts: number[];
  proxyPort: number;
}

async function startUp(dir: string, base: number, extra: string[] = [], password?: string): Promise<Up> {
  const t = spawnTracked(process.execPath, [
    TESSERA_BIN, 'up', '--dir', dir, '--groups', '2', '--replicas', '1', '--proxies', '1',
    '--port-base', String(base), '--proxy-port', String(base + 4), '--admin-port', String(base + 5), '--dashboard-port', String(base + 6), '--json', ...extra,
  ]);
  ups.push(t);
  const line = await waitFor(() => {
    if (t.proc.exitCode !== null) throw new Error(`tessera up exited: ${t.output()}`);
    return t.output().split('\n').find((l) => l.startsWith('{'));
  }, { timeoutMs: 60_000, what: 'tessera up to print its JSON line' });
  const nodePorts = [base, base + 1, base + 2, base + 3];
  for (const port of [...nodePorts, base + 4]) childPids.add(await pidOf(port, password));
  return { t, info: JSON.parse(line), nodePorts, proxyPort: base + 4 };
}

async function pidOf(port: number, password?: string): Promise<number> {
  if (password === undefined) return Number((await infoFields(port, 'server')).process_id);
  const c = await RawClient.connect(port);
  try {
    await c.call('AUTH', password);
    return Number(/process_id:(\d+)/.exec(String(await c.call('INFO', 'server')))![1]);
  } finally {
    c.close();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Keys for each group: slots 0-511 are group 1's, 512-1023 group 2's (an even split). */
function keysOf(group: 1 | 2, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const k = `key:${i}`;
    if ((slotOf(k) < 512 ? 1 : 2) === group) out.push(k);
  }
  return out;
}

describe('tessera up supervisor', () => {
  it('restarts a node killed with SIGKILL while the other group and the proxy keep serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-up-'));
    dirs.push(dir);
    const base = await freeRun(7);
    const up = await startUp(dir, base);
    const c = await RawClient.connect(up.proxyPort);
    const g1 = keysOf(1, 50);
    const g2 = keysOf(2, 50);
    for (const k of [...g1, ...g2]) expect(await c.call('SET', k, `v-${k}`)).toMatchObject({ value: 'OK' });

    // This test is about the supervisor restarting the node. With automatic failover on, the
    // coordinator may promote the replica first (down-after 1 s, a restart under load can take
    // longer); that path is the failover tests' subject, so it is switched off here.
    const { url, token } = up.info.dashboard;
    const off = await fetch(`${url}/api/v1/failover/settings`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ auto: false }),
    });
    expect(off.status, await off.text()).toBe(200);
    const masterPort = Number(up.info.groups[0]!.master.split(':')[1]);
    const replicaPort = Number(up.info.groups[0]!.replicas[0]!.split(':')[1]);
    const oldPid = await pidOf(masterPort);
    const killedAt = Date.now();
    process.kill(oldPid, 'SIGKILL');
    // The other group and the proxy answer at once, the killed group's requests fail fast.
    expect(await c.call('PING')).toMatchObject({ value: 'PONG' });
    for (const k of g2.slice(0, 10)) expect(await c.call('GET', k)).toBe(`v-${k}`);
    expect(await c.call('SET', g2[0]!, 'during-outage')).toMatchObject({ value: 'OK' });

    // The killed node comes back by itself, with a new pid and its data (AOF).
    const newPid = await waitFor(async () => {
      const pid = await pidOf(masterPort);
      return pid !== oldPid ? pid : null;
    }, { timeoutMs: 20_000, intervalMs: 25, what: 'the killed master to be restarted' });
    const backMs = Date.now() - killedAt;
    childPids.add(newPid);
    console.log(`tessera up: master restarted and answering ${backMs} ms after SIGKILL`);
    expect(backMs).toBeLessThan(20_000);
    expect(await callOnce(masterPort, 'DBSIZE')).toBe(g1.length);
    // Through the proxy once its link has reconnected (back-off), every key of group 1 is there.
    await waitFor(async () => (await c.call('GET', g1[0]!)) === `v-${g1[0]}`, { timeoutMs: 10_000, what: 'the proxy to reach the restarted master' });
    for (const k of g1) expect(await c.call('GET', k)).toBe(`v-${k}`);
    // The replica follows its restarted master again.
    await waitFor(async () => (await infoFields(replicaPort, 'replication')).master_link_status === 'up', { timeoutMs: 15_000, what: 'the replica to reconnect' });
    c.close();

    // One line saying what exited and how, one saying it is back; the proxy never restarted.
    const out = up.t.output();
    expect(out.match(/node \d+ \(group 1 master\) exited \(signal SIGKILL\)/g)).toHaveLength(1);
    expect(out).toMatch(new RegExp(`node ${masterPort} \\(group 1 master\\) is back \\(pid ${newPid}, restart 1\\), serving \\d+ ms after it exited`));
    expect(out).not.toMatch(/proxy .* exited/);
    expect(out).toMatch(/group 1 master\) exited \(signal SIGKILL\) after [\d.]+ s; restarting in 100 ms/);

    // Killed again soon after: the back-off doubles.
    process.kill(newPid, 'SIGKILL');
    const thirdPid = await waitFor(async () => {
      const pid = await pidOf(masterPort);
      return pid !== newPid ? pid : null;
    }, { timeoutMs: 20_000, intervalMs: 25, what: 'the master to be restarted again' });
    childPids.add(thirdPid);
    expect(up.t.output()).toMatch(/group 1 master\) exited \(signal SIGKILL\) after [\d.]+ s; restarting in 200 ms/);
    expect(up.t.proc.exitCode).toBeNull();
  });

  it('SIGINT stops every child; a second start on the same --dir keeps every key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-up-'));
    dirs.push(dir);
    const base = await freeRun(7);
    const first = await startUp(dir, base);
    const keys = [...keysOf(1, 30), ...keysOf(2, 30)];
    const c = await RawClient.connect(first.proxyPort);
    for (const k of keys) await c.call('SET', k, `v-${k}`);
    await c.call('HSET', 'h', 'f', 'v');
    c.close();
    const childList = await Promise.all([...first.nodePorts, first.proxyPort].map((p) => pidOf(p)));
    first.t.proc.kill('SIGINT');
    await waitFor(() => first.t.proc.exitCode !== null, { timeoutMs: 40_000, what: 'tessera up to exit' });
    expect(first.t.proc.exitCode).toBe(0);
    for (const pid of childList) expect(alive(pid), `child ${pid}`).toBe(false);
    // Each node said it saved before exiting.
    for (const port of first.nodePorts) expect(readFileSync(join(dir, `node-${port}.log`), 'utf8')).toContain('Saving the final RDB snapshot before exiting.');
    ups.splice(ups.indexOf(first.t), 1);

    const second = await startUp(dir, base);
    const d = await RawClient.connect(second.proxyPort);
    await waitFor(async () => (await d.call('DBSIZE')) === keys.length + 1, { timeoutMs: 10_000, what: 'every key after the restart' });
    for (const k of keys) expect(await d.call('GET', k)).toBe(`v-${k}`);
    expect(await d.call('HGET', 'h', 'f')).toBe('v');
    d.close();
    // Same secrets as the first run (kept in --dir).
    expect(second.info.adminTokenFile).toBe(first.info.adminTokenFile);
  });

  it('a failure during start stops everything it started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-up-'));
    dirs.push(dir);
    const base = await freeRun(7);
    // Something else already listens where group 2's master should (and hangs up on everyone,
    // so closing it does not wait for connections nobody reads).
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => squatter.listen(base + 2, '127.0.0.1', () => r()));
    try {
      const t = spawnTracked(process.execPath, [TESSERA_BIN, 'up', '--dir', dir, '--groups', '2', '--replicas', '1', '--port-base', String(base), '--proxy-port', String(base + 4), '--admin-port', String(base + 5), '--dashboard-port', String(base + 6), '--json']);
      ups.push(t);
      await waitFor(() => t.proc.exitCode !== null, { timeoutMs: 25_000, what: 'tessera up to give up' });
      expect(t.proc.exitCode).toBe(1);
      expect(t.output()).toMatch(/node \d+ \(group 2 master\) exited during start \(exit code 1\); stopping the cluster/);
      // Nothing it started is left listening.
      for (const port of [base, base + 1, base + 3, base + 4]) {
        await expect(callOnce(port, 'PING')).rejects.toThrow();
      }
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  it('--requirepass-file protects nodes and proxy, and no child has a secret in its argv', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-up-'));
    dirs.push(dir);
    const pwFile = join(dir, 'cluster-password');
    writeFileSync(pwFile, 'cluster-pw-5e7d\n', { mode: 0o600 });
    const base = await freeRun(7);
    const up = await startUp(dir, base, ['--requirepass-file', pwFile], 'cluster-pw-5e7d');
    const c = await RawClient.connect(up.proxyPort);
    expect((await c.call('GET', 'k') as ReplyErrorValue).message).toBe('NOAUTH Authentication required.');
    expect(await c.call('AUTH', 'cluster-pw-5e7d')).toMatchObject({ value: 'OK' });
    expect(await c.call('SET', 'k', 'v')).toMatchObject({ value: 'OK' }); // the proxy authenticates to the nodes
    // The admin password generated in --dir makes CONFIG work through the proxy.
    expect(await c.call('AUTH', 'admin', readFileSync(join(dir, 'admin-password'), 'utf8').trim())).toMatchObject({ value: 'OK' });
    expect(await c.call('CONFIG', 'GET', 'requirepass')).toEqual(['requirepass', 'cluster-pw-5e7d']);
    c.close();
    const direct = await RawClient.connect(up.nodePorts[1]!);
    expect((await direct.call('PING') as ReplyErrorValue).message).toMatch(/^NOAUTH/);
    direct.close();
    // A replica authenticates to its master with the same password (masterauth).
    await waitFor(async () => {
      const r = await RawClient.connect(up.nodePorts[1]!);
      try {
        await r.call('AUTH', 'cluster-pw-5e7d');
        return String(await r.call('INFO', 'replication')).includes('master_link_status:up');
      } finally {
        r.close();
      }
    }, { timeoutMs: 15_000, what: 'the replica to authenticate to its master' });
    const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    // The admin API wants the token tessera up generated in --dir.
    const adminUrl = `http://127.0.0.1:${base + 5}/health`;
    expect((await fetch(adminUrl)).status).toBe(401);
    const health = await fetch(adminUrl, { headers: { authorization: `Bearer ${token}` } });
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    for (const pid of childPids) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      expect(argv).not.toContain('cluster-pw-5e7d');
      expect(argv).not.toContain(token);
    }
  });

  it('children of a supervisor killed with SIGKILL shut down by themselves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-up-'));
    dirs.push(dir);
    const base = await freeRun(7);
    const up = await startUp(dir, base);
    const pids = await Promise.all([...up.nodePorts, up.proxyPort].map((p) => pidOf(p)));
    await up.t.kill();
    ups.splice(ups.indexOf(up.t), 1);
    await waitFor(() => pids.every((p) => !alive(p)), { timeoutMs: 30_000, what: 'the orphaned children to exit' });
  });
});
