// `tessera up`: a whole local cluster in one command — nodes, groups and an even slot assignment in
// the store, proxies — in the foreground; SIGINT/SIGTERM stop every child cleanly.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { assignEvenly } from '../common/model.js';
import { openStore } from '../common/store/open-store.js';
import { addServer, assignSlots, createGroup } from './admin.js';

export interface UpOptions {
  dir: string;
  groups: number;
  replicas: number;
  proxies: number;
  store?: string;
  product: string;
  portBase: number;
  proxyPort: number;
  adminPortBase: number;
  json: boolean;
}

const BIN = resolve(import.meta.dirname, '../../bin/tessera');

interface Child {
  name: string;
  proc: ChildProcess;
}

export async function runUp(opts: UpOptions): Promise<void> {
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const storeUrl = opts.store ?? `file://${resolve(dir, 'store')}`;
  const children: Child[] = [];
  let stopping = false;
  const say = (msg: string) => {
    if (!opts.json) process.stdout.write(`${msg}\n`);
  };
  const stopAll = async (code: number, why?: string) => {
    if (stopping) return;
    stopping = true;
    if (why) process.stderr.write(`${why}\n`);
    await Promise.all(children.map((c) => new Promise<void>((r) => {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) return r();
      c.proc.once('exit', () => r());
      c.proc.kill('SIGTERM');
      setTimeout(() => c.proc.kill('SIGKILL'), 5000).unref();
    })));
    process.exit(code);
  };
  const start = (name: string, args: string[], logFile: string) => {
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(logFile, { flags: 'a' });
    proc.stdout!.pipe(log);
    proc.stderr!.pipe(log);
    proc.once('exit', (code, signal) => {
      if (!stopping) void stopAll(1, `${name} exited (${signal ?? code}); stopping the cluster — see ${logFile}`);
    });
    children.push({ name, proc });
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const groups: Array<{ id: number; master: string; replicas: string[] }> = [];
    const startNode = (port: number, extra: string[]) => {
      const nodeDir = resolve(dir, `node-${port}`);
      mkdirSync(nodeDir, { recursive: true });
      // No diskless-sync delay: replicas of a fresh local cluster should attach at once.
      start(`node ${port}`, ['node', '--port', String(port), '--bind', '127.0.0.1', '--dir', nodeDir, '--save', '', '--repl-diskless-sync-delay', '0', ...extra], resolve(dir, `node-${port}.log`));
      return `127.0.0.1:${port}`;
    };
    let port = opts.portBase;
    for (let g = 1; g <= opts.groups; g++) {
      const masterPort = port++;
      const master = startNode(masterPort, []);
      const replicas: string[] = [];
      for (let r = 0; r < opts.replicas; r++) replicas.push(startNode(port++, ['--replicaof', '127.0.0.1', String(masterPort)]));
      groups.push({ id: g, master, replicas });
    }
    await Promise.all(groups.flatMap((g) => [g.master, ...g.replicas]).map((addr) => waitForPort(addr, 15_000)));

    const store = await openStore(storeUrl);
    try {
      for (const g of groups) {
        await createGroup(store, opts.product, g.id).catch(() => {});
        await addServer(store, opts.product, g.id, g.master, 'master').catch(() => {});
        for (const r of g.replicas) await addServer(store, opts.product, g.id, r, 'replica').catch(() => {});
      }
      for (const r of assignEvenly(groups.map((g) => g.id))) await assignSlots(store, opts.product, r.from, r.to, r.group);
    } finally {
      await store.close();
    }

    const proxies: Array<{ listen: string; admin: string }> = [];
    for (let i = 0; i < opts.proxies; i++) {
      const listen = `127.0.0.1:${opts.proxyPort + i}`;
      const admin = `127.0.0.1:${opts.adminPortBase + i}`;
      start(`proxy ${listen}`, ['proxy', '--listen', listen, '--admin', admin, '--store', storeUrl, '--product', opts.product], resolve(dir, `proxy-${opts.proxyPort + i}.log`));
      proxies.push({ listen, admin });
    }
    await Promise.all(proxies.map((p) => waitForPort(p.listen, 15_000)));

    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ product: opts.product, store: storeUrl, proxies: proxies.map((p) => p.listen), admin: proxies.map((p) => p.admin), groups })}\n`);
    } else {
      say(`Tessera cluster "${opts.product}" is up (store ${storeUrl}, logs in ${dir})`);
      for (const g of groups) say(`  group ${g.id}: master ${g.master}${g.replicas.length ? `, replicas ${g.replicas.join(' ')}` : ''}`);
      for (const p of proxies) say(`  proxy ${p.listen}  (admin http://${p.admin})`);
      say(`Try: redis-cli -p ${opts.proxyPort} ping    — Ctrl-C stops everything.`);
    }
  } catch (err) {
    await stopAll(1, `tessera up failed: ${(err as Error).message}`);
  }
}

/** Resolves when host:port accepts TCP connections. */
export async function waitForPort(addr: string, timeoutMs: number): Promise<void> {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i);
  const port = Number(addr.slice(i + 1));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host, port }, () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${addr} did not start listening within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
