// The one `tessera` command line: node | proxy | up | admin … subcommands. The composition root:
// the only place that imports node/, proxy/ (and later dashboard/) entry points.
// Subcommands import their component lazily: a node must not pay for loading etcd/gRPC at start.
import { Command, InvalidArgumentError } from 'commander';
import type { CoordStore } from '../common/store/coord-store.js';
import { hideSecretsFromTitle } from './process-title.js';

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
  .action(async (opts) => {
    const { runProxy } = await import('../proxy/main.js');
    const { stop } = await runProxy(opts);
    const quit = () => void stop().then(() => process.exit(0));
    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
  });

program
  .command('up')
  .description('start a local cluster (nodes, store, proxies) in the foreground')
  .option('--dir <dir>', 'where data (one directory per node), logs, secrets and the local store live', '.tessera')
  .option('--groups <n>', 'number of groups', int, 2)
  .option('--replicas <n>', 'replicas per group', int, 1)
  .option('--proxies <n>', 'number of proxies', int, 1)
  .option('--store <url>', 'store URL (default: a file store under --dir)')
  .option('--product <name>', 'product name', 'tessera')
  .option('--port-base <port>', 'first node port', int, 16379)
  .option('--proxy-port <port>', 'first proxy port', int, 19000)
  .option('--admin-port <port>', 'first proxy admin port', int, 11080)
  .option('--json', 'print one JSON line describing the cluster', false)
  .option('--requirepass-file <file>', 'password for the whole cluster (nodes and proxies); or TESSERA_REQUIREPASS')
  .action(async (o) => {
    const { runUp } = await import('./up.js');
    await runUp({
      dir: o.dir, groups: o.groups, replicas: o.replicas, proxies: o.proxies, store: o.store, product: o.product,
      portBase: o.portBase, proxyPort: o.proxyPort, adminPortBase: o.adminPort, json: o.json, requirepassFile: o.requirepassFile,
    });
  });

const admin = program
  .command('admin')
  .description('edit groups and slots in the store')
  .requiredOption('--store <url>', 'store URL')
  .requiredOption('--product <name>', 'product name');

async function withStore(fn: (store: CoordStore, product: string, a: typeof import('./admin.js')) => Promise<void>): Promise<void> {
  const { store: url, product } = admin.opts<{ store: string; product: string }>();
  const { openStore } = await import('../common/store/open-store.js');
  const a = await import('./admin.js');
  const store = await openStore(url);
  try {
    await fn(store, product, a);
  } catch (err) {
    if (err instanceof a.AdminError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 1;
    } else throw err;
  } finally {
    await store.close();
  }
}

const group = admin.command('group').description('groups of servers');
group.command('create <gid>').action((gid) => withStore((s, p, a) => a.createGroup(s, p, int(gid))));
group
  .command('add <gid> <addr>')
  .option('--replica', 'add as a replica')
  .action((gid, addr, o) => withStore((s, p, a) => a.addServer(s, p, int(gid), addr, o.replica ? 'replica' : 'master')));

admin
  .command('slots')
  .command('assign <range> <gid>')
  .description('assign slots FROM-TO (or one slot) to a group')
  .action((range: string, gid: string) => withStore(async (s, p, a) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (!m) throw new a.AdminError(`bad slot range '${range}': use FROM-TO`);
    await a.assignSlots(s, p, Number(m[1]), Number(m[2] ?? m[1]), int(gid));
  }));

admin
  .command('status')
  .option('--json', 'JSON output')
  .action((o) => withStore(async (s, p, a) => {
    const st = await a.clusterStatus(s, p);
    process.stdout.write(o.json ? `${JSON.stringify(st)}\n` : `${a.formatStatus(st)}\n`);
  }));

await program.parseAsync(process.argv);
