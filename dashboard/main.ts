// `tessera dashboard --store URL --product NAME [--listen host:port] [--token-file F]
// [--node-password-file F] [--proxy-admin-token-file F]`: the
// coordinator. It listens at once (a standby serves reads) and campaigns for the product's
// leader lock in the background; SIGTERM resigns, so a standby takes over without waiting.
import { hostname } from 'node:os';
import { isAddr } from '../common/model.js';
import { openStore } from '../common/store/open-store.js';
import { StateCachingStore } from './coordinator/cluster-state.js';
import { buildApp } from './app.js';
import { type DashboardConfig, type DashboardFlags, loadDashboardConfig } from './config.js';
import { Cluster } from './coordinator/cluster.js';
import { Leadership } from './coordinator/leadership.js';
import { Migrator, driveWhileLeading } from './coordinator/migrations.js';
import { RedisNodeApi } from './coordinator/node-client.js';
import { ReconcileLoop, Reconciler, Serial } from './coordinator/reconcile.js';
import { EventLog } from './coordinator/events.js';
import { ScriptCopier } from './coordinator/script-copy.js';
import { Failover, RedisReplicationAdmin } from './coordinator/failover.js';
import { RedisProbe } from './coordinator/health.js';

export interface RunningDashboard {
  config: DashboardConfig;
  url: string;
  stop(): Promise<void>;
}

export async function runDashboard(flags: DashboardFlags, env: Readonly<Record<string, string | undefined>> = process.env): Promise<RunningDashboard> {
  const config = loadDashboardConfig(flags, env);
  if (!isAddr(config.listen)) throw new Error(`listen must be host:port, got ${JSON.stringify(config.listen)}`);
  const i = config.listen.lastIndexOf(':');
  const host = config.listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(config.listen.slice(i + 1));
  const url = config.advertise || `http://${config.listen}`;
  let log: (msg: string) => void = () => {};
  // The one writer of slots and groups caches the cluster state it reads many times per step (cluster-state.ts).
  const store = new StateCachingStore(await openStore(config.store), config.product, (msg) => log(msg));
  // pino through fastify; request logs carry method, URL and address, never headers (the token).
  const logger = { level: config.logLevel, redact: ['req.headers.authorization'] };
  const self = { id: `${hostname()}:${port}:${process.pid}`, url, pid: process.pid, startedAt: new Date().toISOString() };
  const leadership = new Leadership(store, config.product, self, config.leaderTtl, (msg) => log(msg));
  const cluster = new Cluster(store, config.product, leadership);
  // The leader's work: reconciling nodes' slot ownership and driving migrations (one at a time
  // through `serial`: every step that raises the epoch or tells nodes their slots).
  // The nodes' requirepass, if they have one (a file flag or TESSERA_NODE_PASSWORD; never in argv).
  const nodePassword = config.nodePassword || null;
  const nodes = new RedisNodeApi(nodePassword);
  const serial = new Serial();
  const reconciler = new Reconciler(store, config.product, leadership, nodes, (msg) => log(msg));
  let debug: (msg: string) => void = () => {};
  // Libraries and scripts go to a migration's target before it imports (events: declared below, used later).
  const scripts = new ScriptCopier(nodes, { append: (e) => events.append(e) }, (msg) => log(msg));
  cluster.beforeFirstSlots = (from, to) => scripts.copyForAssign(from, to);
  const migrator = new Migrator({ store, product: config.product, leader: leadership, nodes, reconciler, serial, log: (msg) => log(msg), debug: (msg) => debug(msg), scripts });
  const work = driveWhileLeading(leadership, { migrator, loop: new ReconcileLoop(reconciler, serial, (msg) => log(msg)), log: (msg) => log(msg) });
  // Health checks and failover (issue 9): run by the leader only, next to reconcile and migrations.
  let logEvent: (fields: Record<string, unknown>, msg: string) => void = () => {};
  const events = new EventLog(store, config.product, (fields, msg) => logEvent(fields, msg));
  const repl = new RedisReplicationAdmin(nodePassword);
  const probe = new RedisProbe(nodePassword);
  const failover = new Failover({ store, product: config.product, leader: leadership, nodes, repl, probe, reconciler, serial, events, migrations: migrator, log: (msg) => log(msg) });
  reconciler.skipNode = (addr) => {
    const down = failover.health.downFor(addr);
    return down > 500 ? `down for ${down} ms (health check); not asked` : null;
  };
  leadership.on('elected', () => failover.start());
  leadership.on('deposed', () => void failover.stop());
  const app = buildApp({
    failover: { failover, events, store },
    cluster, leadership, token: config.token, openReads: config.openReads, logger,
    live: { nodePassword, proxyAdminToken: config.proxyAdminToken || null },
    migrations: { migrator, rebalance: { store, product: config.product, nodes, migrator } },
  });
  log = (msg) => app.log.info(msg);
  debug = (msg) => app.log.debug(msg);
  logEvent = (fields, msg) => app.log.info(fields, msg);
  try {
    await app.listen({ host, port });
  } catch (err) {
    await store.close();
    throw err;
  }
  app.log.info(`coordinator of product ${config.product} on ${url} (store ${config.store}); campaigning for leadership`);
  leadership.start();
  let stopping: Promise<void> | null = null;
  return {
    config,
    url,
    stop: () => {
      stopping ??= (async () => {
        await failover.stop();
        await work.stop();
        await leadership.stop();
        await nodes.close();
        await repl.close();
        await probe.close();
        await events.flush();
        await app.close();
        await store.close();
      })();
      return stopping;
    },
  };
}
