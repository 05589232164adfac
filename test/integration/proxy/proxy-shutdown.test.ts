// A proxy's graceful stop: SIGTERM stops accepting, leaves the store, lets requests already read
// finish (at most the shutdown grace, 5 s) and exits, whatever its clients do. Before, the
// listener's close waited for the very sessions it was to destroy afterwards: one idle client kept
// a proxy running for good.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxiesPrefix } from '../../../common/store/keys.js';
import { type Cluster, type ProxyHandle, startCluster } from '../../helpers/cluster.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';

// The grace (5 s) plus room for a loaded machine to run the exit path.
const EXIT_BOUND_MS = 8000;

// Well under the grace: an idle client is closed at once.
const IDLE_BOUND_MS = 3000;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ groups: 1, proxies: 0, store: 'file' });
});

afterAll(async () => {
  await cluster?.stop();
});

/** SIGTERM the proxy and resolve with the milliseconds until it exited, and its exit code. */
async function terminate(p: ProxyHandle): Promise<{ ms: number; code: number | null }> {
  const exited = once(p.proc, 'exit');
  const t0 = performance.now();
  p.proc.kill('SIGTERM');
  const [code] = await exited as [number | null];
  return { ms: performance.now() - t0, code };
}

describe('proxy SIGTERM', () => {
  it('exits promptly with an idle client connected, and leaves the store', async () => {
    const p = await cluster.startProxy();
    const c = await RawClient.connect(p.port);
    expect(await c.call('SET', 'idle-key', 'v')).toMatchObject({ value: 'OK' });
    const registered = async () => (await cluster.store.list(proxiesPrefix(cluster.product))).length;
    await waitFor(async () => (await registered()) === 1, { timeoutMs: 10_000, what: 'proxy registered' });
    const gone = c.waitClosed(EXIT_BOUND_MS);
    const { ms, code } = await terminate(p);
    console.log(`idle client: proxy exited ${ms.toFixed(0)} ms after SIGTERM (code ${code})`);
    expect(code).toBe(0);
    // Nothing was in flight: no reason to wait for the grace at all.
    expect(ms).toBeLessThan(IDLE_BOUND_MS);
    await gone;
    expect(await registered()).toBe(0);
    c.close();
  });

  it('delivers the replies of a pipeline in flight, then closes the client and exits', async () => {
    const p = await cluster.startProxy();
    const node = await RawClient.connect(cluster.groups[0]!.port);
    const c = await RawClient.connect(p.port);
    try {
      // A pipeline whose second request blocks on the node for 1 s; the ones behind it are held in
      // the proxy until it settles: all four are in flight when SIGTERM arrives.
      const replies = Promise.all([
        c.call('SET', 'busy-key', 'v1'),
        c.call('BLPOP', 'empty-list', '1'),
        c.call('GET', 'busy-key'),
        c.call('PING'),
      ]);
      await waitFor(async () => /cmd=blpop/.test(String(await node.call('CLIENT', 'LIST'))), { timeoutMs: 10_000, what: 'BLPOP blocked on the node' });
      const gone = c.waitClosed(EXIT_BOUND_MS);
      const { ms, code } = await terminate(p);
      console.log(`client mid-pipeline: proxy exited ${ms.toFixed(0)} ms after SIGTERM (code ${code})`);
      const [set, blpop, get, ping] = await replies;
      expect(set).toMatchObject({ value: 'OK' });
      expect(blpop).toBeNull();
      expect(get).toBe('v1');
      expect(ping).toMatchObject({ value: 'PONG' });
      await gone;
      expect(code).toBe(0);
      expect(ms).toBeLessThan(EXIT_BOUND_MS);
      // It waited for the blocked request rather than cutting it.
      expect(ms).toBeGreaterThan(300);
    } finally {
      c.close();
      node.close();
    }
  });

  it('closes a client blocked for good once the grace is over', async () => {
    const p = await cluster.startProxy();
    const node = await RawClient.connect(cluster.groups[0]!.port);
    const c = await RawClient.connect(p.port);
    try {
      const blpop = c.call('BLPOP', 'never-pushed', '0').catch((err: Error) => err);
      await waitFor(async () => /cmd=blpop/.test(String(await node.call('CLIENT', 'LIST'))), { timeoutMs: 10_000, what: 'BLPOP blocked on the node' });
      const { ms, code } = await terminate(p);
      console.log(`client blocked without timeout: proxy exited ${ms.toFixed(0)} ms after SIGTERM (code ${code})`);
      await c.waitClosed(EXIT_BOUND_MS);
      expect(code).toBe(0);
      expect(ms).toBeGreaterThan(4000);
      expect(ms).toBeLessThan(EXIT_BOUND_MS);
      // The node let go of the proxy's blocking link: nothing stays blocked behind a stopped proxy.
      await waitFor(async () => !/cmd=blpop/.test(String(await node.call('CLIENT', 'LIST'))), { timeoutMs: 5000, what: 'BLPOP released on the node' });
      expect(await blpop).toBeInstanceOf(Error);
    } finally {
      c.close();
      node.close();
    }
  });

  it('takes its grace from --shutdown-grace', async () => {
    const p = await cluster.startProxy(['--shutdown-grace', '1000']);
    const node = await RawClient.connect(cluster.groups[0]!.port);
    const c = await RawClient.connect(p.port);
    try {
      const blpop = c.call('BLPOP', 'never-pushed-either', '0').catch((err: Error) => err);
      await waitFor(async () => /cmd=blpop/.test(String(await node.call('CLIENT', 'LIST'))), { timeoutMs: 10_000, what: 'BLPOP blocked on the node' });
      const { ms, code } = await terminate(p);
      expect(code).toBe(0);
      // 1 s of grace, then closed: well before the default 5 s.
      expect(ms).toBeGreaterThan(900);
      expect(ms).toBeLessThan(4000);
      expect(await blpop).toBeInstanceOf(Error);
    } finally {
      c.close();
      node.close();
    }
  });
});
