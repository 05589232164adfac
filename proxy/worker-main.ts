// One worker of a multi-worker proxy (`tessera proxy --workers N`), forked by proxy/workers.ts
// through node:cluster: a whole Proxy (own backend links, own store watch) serving its share of the
// clients on the shared listen port. Its config comes by IPC; it registers nothing in the store
// (the primary registers the proxy with the lowest table revision its workers applied).
import { openStore } from '../common/store/open-store.js';
import type { CoordStore } from '../common/store/coord-store.js';
import { Proxy, SHUTDOWN_GRACE_MS } from './proxy.js';
import { type FromWorker, type ToWorker, type WorkerAnswer, BEAT_MS, WORKER_INDEX_ENV } from './workers-ipc.js';
import { exportStats, totalsOf } from './workers-stats.js';

function send(m: FromWorker): void {
  // The channel closes when the primary dies (node:cluster then ends this process).
  if (!process.connected) return;
  try {
    process.send!(m);
  } catch { /* closed meanwhile */ }
}

/** Resolves once `m` was handed to the channel (or at once when it is closed). */
function sent(m: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    try {
      process.send!(m, undefined, {}, () => resolve());
    } catch {
      resolve();
    }
  });
}

let proxy: Proxy | null = null;
let store: CoordStore | null = null;
let stopping: Promise<void> | null = null;

async function start(m: Extract<ToWorker, { t: 'config' }>): Promise<void> {
  const { config, index, count } = m;
  process.title = `tessera proxy ${config.id} worker ${index}`;
  const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} proxy ${config.id} worker ${index}: ${msg}\n`);
  try {
    store = await openStore(config.store);
    proxy = new Proxy(config, store, log, { index, count });
    proxy.topology.on('changed', (revision) => send({ t: 'revision', revision }));
    await proxy.start();
  } catch (err) {
    await sent({ t: 'failed', error: (err as Error).message }); // before exit, or the message may be lost
    await store?.close().catch(() => {});
    process.exit(1);
  }
  send({ t: 'ready', revision: proxy.topology.revision });
  const p = proxy;
  setInterval(() => send({ t: 'beat', totals: totalsOf(p.stats, p.sessions.size) }), BEAT_MS).unref();
}

function answer(p: Proxy, what: Extract<ToWorker, { t: 'ask' }>['what']): WorkerAnswer {
  if (what === 'slots') return p.topology.routes;
  if (what === 'health') return { revision: p.topology.revision, links: p.pool.health(), groups: [...p.topology.groups.values()] };
  return { stats: exportStats(p.stats, p.sessions.size), backends: p.pool.stats(), revision: p.topology.revision };
}

/** Graceful stop (the proxy's shutdown grace), then exit: the primary replaces this worker unless it is stopping too. */
function stop(graceMs: number): Promise<void> {
  stopping ??= (async () => {
    await proxy?.close(graceMs);
    await store?.close().catch(() => {});
    process.exit(0);
  })();
  return stopping;
}

process.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'config':
      if (proxy === null && store === null) void start(m);
      return;
    case 'peers':
      if (proxy !== null) proxy.peers = m.totals;
      return;
    case 'ask':
      if (proxy !== null) send({ t: 'answer', id: m.id, body: answer(proxy, m.what) });
      return;
    case 'stop':
      void stop(m.graceMs);
  }
});
// A terminal's Ctrl-C reaches every process of the group: the primary stops the workers in order.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => void stop(proxy?.config.shutdownGrace ?? SHUTDOWN_GRACE_MS));
process.title = `tessera proxy worker ${process.env[WORKER_INDEX_ENV] ?? '?'}`;
send({ t: 'hello' });
