// `tessera up` runs its nodes in cluster mode (slot-ownership yes): it reports ready only once the
// coordinator told every master its slots, keys work through the proxy at once, and slots migrate
// from the CLI (`tessera admin migrate … --wait`), with the data readable afterwards.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { freePort, freePortRun } from '../../helpers/ports.js';
import { RawClient, infoFields } from '../../helpers/raw-client.js';
import { TESSERA_BIN, type TrackedProcess, spawnTracked } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tessera-up-mig-'));
let up: TrackedProcess | null = null;
const nodePids: number[] = [];

afterAll(async () => {
  await up?.stop();
  for (const pid of nodePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* gone with the supervisor, as it should be */ }
  }
  rmSync(dir, { recursive: true, force: true });
});

it('tessera up: cluster-mode nodes reconciled before ready; SET/GET through the proxy; migrate from the CLI', async () => {
  const base = await freePortRun(2);
  const proxyPort = await freePort();
  up = spawnTracked(process.execPath, [
    TESSERA_BIN, 'up', '--dir', dir, '--groups', '2', '--replicas', '0', '--proxies', '1', '--port-base', String(base),
    '--proxy-port', String(proxyPort), '--admin-port', String(await freePort()), '--dashboard-port', String(await freePort()), '--json',
  ]);
  const line = await waitFor(() => {
    if (up!.proc.exitCode !== null) throw new Error(`tessera up exited: ${up!.output()}`);
    return up!.output().split('\n').find((l) => l.startsWith('{'));
  }, { timeoutMs: 60_000, what: 'tessera up to print its JSON line' });
  const info = JSON.parse(line) as { dashboard: { url: string; token: string }; groups: Array<{ master: string }> };
  for (const port of [base, base + 1]) {
    const slots = await infoFields(port, 'slots');
    expect(slots).toMatchObject({ slot_ownership: 'yes', ownership_confirmed: '1', slots_owned: '512' });
    nodePids.push(Number((await infoFields(port, 'server')).process_id));
  }
  // Ready means writable at once: no retry loop here.
  const c = await RawClient.connect(proxyPort);
  try {
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    for (const k of keys) expect(await c.call('SET', k, `v-${k}`)).toMatchObject({ value: 'OK' });
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_')));
    const { stdout } = await run(process.execPath, [TESSERA_BIN, 'admin', '--dashboard', info.dashboard.url, '--token', info.dashboard.token, 'migrate', '0-99', '--to', '2', '--wait'], { env, timeout: 60_000 });
    expect(stdout).toMatch(/slots 0-99 → group 2: done, 100\/100 done/);
    expect((await infoFields(base + 1, 'slots')).slots_owned).toBe('612');
    for (const k of keys) expect(await c.call('GET', k)).toBe(`v-${k}`);
  } finally {
    c.close();
  }
}, 120_000);
