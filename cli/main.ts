// The one `tessera` command line: node | proxy | dashboard | up | admin … subcommands. The composition root:
// the only place that imports the node/, proxy/ and dashboard/ entry points.
// Subcommands import their component lazily: a node must not pay for loading etcd/gRPC at start.
import { Command, InvalidArgumentError } from 'commander';
import type { CoordStore } from '../common/store/coord-store.js';
import { hideSecretsFromTitle } from './process-title.js';
import { registerFailoverVerbs, registerMigrationVerbs } from './admin-api.js';

// First thing: `ps` must not show a --requirepass/--masterauth/--backend-password given as argv.
hideSecretsFromTitle();

// Under `tessera up`, the IPC channel to the supervisor is the orphan guard: when the supervisor
// dies (even by SIGKILL) the channel closes and this child shuts down as on SIGTERM (a node saves).
if (process.env.TESSERA_SUPERVISED === '1' && process.send !== undefined) {
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  process.channel?.unref();
}

const program = new Command();
program.name('tessera').description('Tessera: a proxy-based sharding layer for Redis').version('0.1.0');

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`'${value}' is not an integer`);
  return n;
}

function yesNo(value: string): boolean {
  if (value === 'yes') return true;
  if (value === 'no') return false;
  throw new InvalidArgumentError(`'${value}' must be yes or no`);
}

program
  .command('node')
  .description('run a Tessera node (redis-server compatible): tessera node [file.conf] [--directive value …]')
  .helpOption(false)
  .allowUnknownOption(true)
  .allowExcessArguments(true)
  .argument('[args...]')
  .action(async () => {
    // Everything after "node" goes through redis-server's own argument rules.
    const at = process.argv.indexOf('node', 2);
    const { runNode } = await import('../node/main.js');
    await runNode(process.argv.slice(at + 1));
  });

program
  .command('proxy')
  .description('run a stateless proxy that routes by the slot table in the store')
  .option('--config <file>', 'proxy.toml (see configs/proxy.toml)')
  .option('--listen <host:port>', 'client address')
  .option('--admin <host:port>', 'admin HTTP address')
  .option('--store <url>', 'etcd://host:port[,…] or file:///path')
  .option('--product <name>', 'product (cluster) name')
  .option('--id <id>', 'proxy id in the store')
  .option('--requirepass <password>', 'password clients must AUTH with (prefer --requirepass-file or TESSERA_PROXY_REQUIREPASS)')
  .option('--requirepass-file <file>', 'read requirepass from a file')
  .option('--read-from-replica <mode>', 'never | prefer: serve read-only commands from replicas')
  .option('--backend-password <password>', 'password the proxy sends to nodes (prefer --backend-password-file or TESSERA_BACKEND_PASSWORD)')
  .option('--backend-password-file <file>', 'read backend-password from a file')
  .option('--admin-password <password>', 'AUTH with it to run CONFIG GET/SET on every node (prefer --admin-password-file or TESSERA_ADMIN_PASSWORD)')
  .option('--admin-password-file <file>', 'read admin-password from a file')
  .option('--admin-token <token>', 'bearer token of the admin HTTP API (prefer --admin-token-file or TESSERA_ADMIN_TOKEN)')
  .option('--admin-token-file <file>', 'read admin-token from a file')
  .option('--admin-open-reads', 'serve /health and /metrics without the admin token')
  .option('--protected-mode <yes|no>', 'without requirepass, refuse non-loopback clients (default yes)', yesNo)
  .option('--workers <n|auto>', 'worker processes sharing the listen port (auto = one per core; default 1 = one process)')
  .option('--shutdown-grace <ms>', 'on SIGTERM, how long requests already read may take before clients are closed (default 5000)', int)
  .action(async (opts) => {
    const { runProxy } = await import('../proxy/main.js');
    const { stop } = await runProxy(opts);
    const quit = () => void stop().then(() => process.exit(0));
    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
  });

program
  .command('up')
  .description('start a local cluster (nodes, store, proxies, coordinator) in the foreground')
  .option('--dir <dir>', 'where data (one directory per node), logs, secrets and the local store live', '.tessera')
  .option('--groups <n>', 'number of groups', int, 2)
  .option('--replicas <n>', 'replicas per group', int, 1)
  .option('--proxies <n>', 'number of proxies', int, 1)
  .option('--store <url>', 'store URL (default: a file store under --dir)')
  .option('--product <name>', 'product name', 'tessera')
  .option('--port-base <port>', 'first node port', int, 16379)
  .option('--proxy-port <port>', 'first proxy port', int, 19000)
  .option('--admin-port <port>', 'first proxy admin port', int, 11080)
  .option('--dashboard-port <port>', 'port of the coordinator (tessera dashboard)', int, 18080)
  .option('--json', 'print one JSON line describing the cluster', false)
  .option('--requirepass-file <file>', 'password for the whole cluster (nodes and proxies); or TESSERA_REQUIREPASS')
  .action(async (o) => {
    const { runUp } = await import('./up.js');
    await runUp({
      dir: o.dir, groups: o.groups, replicas: o.replicas, proxies: o.proxies, store: o.store, product: o.product,
      portBase: o.portBase, proxyPort: o.proxyPort, adminPortBase: o.adminPort, dashboardPort: o.dashboardPort, json: o.json, requirepassFile: o.requirepassFile,
    });
  });

program
  .command('dashboard')
  .description('run the coordinator: HTTP API under /api/v1, one leader per product (others stand by)')
  .option('--config <file>', 'dashboard.toml (see configs/dashboard.toml)')
  .option('--listen <host:port>', 'HTTP address (default 127.0.0.1:18080)')
  .option('--store <url>', 'etcd://host:port[,…] or file:///path')
  .option('--product <name>', 'product (cluster) name')
  .option('--token <token>', 'bearer token of the API (prefer --token-file or TESSERA_TOKEN)')
  .option('--token-file <file>', 'read the token from a file')
  .option('--node-password-file <file>', "read the nodes' requirepass from a file (or TESSERA_NODE_PASSWORD)")
  .option('--proxy-admin-token-file <file>', "read the proxies' admin-token from a file (or TESSERA_PROXY_ADMIN_TOKEN)")
  .option('--open-reads', 'serve GET routes without the token')
  .option('--advertise <url>', 'URL other coordinators and the CLI reach this one at (default http://<listen>)')
  .option('--leader-ttl <seconds>', 'a dead leader is replaced after this long', int)
  .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent')
  .action(async (opts) => {
    const { runDashboard } = await import('../dashboard/main.js');
    let running: Awaited<ReturnType<typeof runDashboard>>;
    try {
      running = await runDashboard(opts);
    } catch (err) {
      process.stderr.write(`tessera dashboard: ${(err as Error).message}\n`);
      process.exit(1);
    }
    const quit = () => void running.stop().then(() => process.exit(0));
    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
  });

const admin = program
  .command('admin')
  .description('edit groups and slots: through the coordinator (--dashboard URL --token T, or TESSERA_DASHBOARD / TESSERA_TOKEN), or directly in the store (--store URL --product NAME) for offline setup and repair')
  .option('--store <url>', 'store URL (direct store edits)')
  .option('--product <name>', 'product name (with --store)')
  .option('--dashboard <url>', 'coordinator URL, e.g. http://127.0.0.1:18080 (or TESSERA_DASHBOARD)')
  .option('--token <token>', 'coordinator token (prefer --token-file or TESSERA_TOKEN)')
  .option('--token-file <file>', 'read the coordinator token from a file');

type AdminModule = typeof import('./admin.js');
type ApiModule = typeof import('./admin-api.js');
interface AdminVerb {
  /** Direct store edit; null when the verb exists only through the coordinator. */
  store: ((store: CoordStore, product: string, a: AdminModule) => Promise<void>) | null;
  api: (client: InstanceType<ApiModule['DashboardClient']>, m: ApiModule) => Promise<void>;
}

/** Which way the admin verbs go: explicit flags first, then TESSERA_DASHBOARD / TESSERA_TOKEN. */
async function runAdmin(verb: string, v: AdminVerb): Promise<void> {
  const o = admin.opts<{ store?: string; product?: string; dashboard?: string; token?: string; tokenFile?: string }>();
  const a = await import('./admin.js');
  const m = await import('./admin-api.js');
  const fail = (msg: string) => {
    process.stderr.write(`error: ${msg}\n`);
    process.exitCode = 1;
  };
  if (o.store !== undefined && o.dashboard !== undefined) return fail('give either --store (direct store edits) or --dashboard (the coordinator), not both');
  const dashboard = o.dashboard ?? (o.store === undefined ? process.env.TESSERA_DASHBOARD : undefined);
  if (dashboard !== undefined && dashboard !== '') {
    let token = o.token ?? process.env.TESSERA_TOKEN ?? '';
    if (o.token === undefined && o.tokenFile !== undefined) {
      const { readFileSync } = await import('node:fs');
      token = readFileSync(o.tokenFile, 'utf8').replace(/\r?\n$/, '');
    }
    if (token === '') return fail(`the coordinator needs its token: give --token-file FILE, --token T or TESSERA_TOKEN`);
    try {
      await v.api(new m.DashboardClient(dashboard, token), m);
    } catch (err) {
      if (err instanceof m.ApiCallError || err instanceof m.UsageError) return fail(err.message);
      throw err;
    }
    return;
  }
  if (o.store === undefined) return fail('give --dashboard URL --token T (or TESSERA_DASHBOARD / TESSERA_TOKEN), or --store URL --product NAME for direct store edits');
  if (o.product === undefined) return fail("required option '--product <name>' not specified (with --store)");
  if (v.store === null) return fail(`'${verb}' goes through the coordinator: use --dashboard URL --token T`);
  const { openStore } = await import('../common/store/open-store.js');
  const store = await openStore(o.store);
  try {
    await v.store(store, o.product, a);
  } catch (err) {
    if (err instanceof a.AdminError) fail(err.message);
    else throw err;
  } finally {
    await store.close();
  }
}

/** FROM-TO or one slot; null when malformed. */
function slotRange(range: string): [number, number] | null {
  const m = /^(\d+)(?:-(\d+))?$/.exec(range);
  return m ? [Number(m[1]), Number(m[2] ?? m[1])] : null;
}
const badRange = (range: string) => `bad slot range '${range}': use FROM-TO`;

const say = (line: string) => process.stdout.write(`${line}\n`);

const group = admin.command('group').description('groups of servers');
group.command('create <gid>').action((gid) => runAdmin('group create', {
  store: (s, p, a) => a.createGroup(s, p, int(gid)),
  api: async (c, m) => {
    await m.apiCreateGroup(c, int(gid));
    say(`group ${gid} created`);
  },
}));
group
  .command('add <gid> <addr>')
  .option('--replica', 'add as a replica')
  .option('--force', 'add a master even though it holds keys (they become the cluster\'s once the group owns their slots)')
  .action((gid, addr, o) => runAdmin('group add', {
    store: (s, p, a) => a.addServer(s, p, int(gid), addr, o.replica ? 'replica' : 'master'),
    api: async (c, m) => {
      const g = await m.apiAddServer(c, int(gid), addr, o.replica ? 'replica' : 'master', o.force === true);
      say(`group ${g.id}: ${g.servers.map((x) => `${x.addr} (${x.role})`).join(', ')}`);
    },
  }));
group.command('remove <gid> <addr>').description('remove a server from a group').action((gid, addr) => runAdmin('group remove', {
  store: null,
  api: async (c, m) => {
    const g = await m.apiRemoveServer(c, int(gid), addr);
    say(`group ${g.id}: ${g.servers.map((x) => `${x.addr} (${x.role})`).join(', ') || '(no servers)'}`);
  },
}));
group.command('delete <gid>').description('delete an empty group (no servers, no slots)').action((gid) => runAdmin('group delete', {
  store: null,
  api: async (c, m) => {
    await m.apiDeleteGroup(c, int(gid));
    say(`group ${gid} deleted`);
  },
}));

admin
  .command('slots')
  .command('assign <range> <gid>')
  .description('assign slots FROM-TO (or one slot) to a group')
  .action((range: string, gid: string) => runAdmin('slots assign', {
    store: async (s, p, a) => {
      const r = slotRange(range);
      if (!r) throw new a.AdminError(badRange(range));
      await a.assignSlots(s, p, r[0], r[1], int(gid));
    },
    api: async (c, m) => {
      const r = slotRange(range);
      if (!r) throw new m.ApiCallError(badRange(range), null, null);
      const res = await m.apiAssignSlots(c, r[0], r[1], int(gid));
      say(`slots ${r[0]}-${r[1]} → group ${gid}: ${res.assigned} assigned, ${res.already} already there`);
    },
  }));

registerMigrationVerbs(admin, (verb, api) => runAdmin(verb, { store: null, api: (c) => api(c) }));
registerFailoverVerbs(admin, group, (verb, api) => runAdmin(verb, { store: null, api: (c) => api(c) }));

admin
  .command('status')
  .option('--json', 'JSON output')
  .action((o) => runAdmin('status', {
    store: async (s, p, a) => {
      const st = await a.clusterStatus(s, p);
      process.stdout.write(o.json ? `${JSON.stringify(st)}\n` : `${a.formatStatus(st)}\n`);
    },
    api: async (c, m) => {
      const st = await m.apiStatus(c);
      const { formatStatus } = await import('./admin.js');
      process.stdout.write(o.json ? `${JSON.stringify(st)}\n` : `${formatStatus(st)}\n${m.formatCoordinators(st)}\n`);
    },
  }));

await program.parseAsync(process.argv);
