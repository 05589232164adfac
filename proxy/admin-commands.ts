// Admin commands through the proxy: CONFIG GET answered by a node, CONFIG SET/RESETSTAT/REWRITE
// applied to every node of every group (masters and replicas). Only clients that authenticated with
// the proxy's admin-password may run them. Each node is called on a short-lived link with a timeout,
// never on the shared data links (a slow CONFIG must not delay anyone's GETs).
import type { CommandSpec } from '../common/commands/spec.js';
import { encodeCommand } from '../common/resp/encode.js';
import { BackendConnection } from './backend/connection.js';
import { errorFrame, isError } from './merge.js';
import type { ProxySession } from './session.js';

/** Longest a node may take to answer one admin call when backend-timeout is 0 (never): admin calls are always bounded. */
export const ADMIN_CALL_TIMEOUT_MS = 5000;

/** Sessions that authenticated with the admin-password (dropped on RESET, re-AUTH or close). */
const ADMINS = new WeakSet<ProxySession>();

export function setAdmin(s: ProxySession, admin: boolean): void {
  if (admin) ADMINS.add(s);
  else ADMINS.delete(s);
}

export function isAdmin(s: ProxySession): boolean {
  return ADMINS.has(s);
}

const ADMIN_COMMANDS = new Set(['config|get', 'config|set', 'config|resetstat', 'config|rewrite']);

/** True for the commands runAdminCommand handles (the table marks them `deny` for ordinary paths). */
export function isAdminCommand(spec: CommandSpec): boolean {
  return ADMIN_COMMANDS.has(spec.name);
}

export const NOPERM_ADMIN = "NOPERM CONFIG is an admin command: AUTH with the proxy's admin password first";
export const NO_ADMIN_PASSWORD = "NOPERM CONFIG is an admin command and this proxy has no admin-password set (see docs/security.md)";

/** Runs an admin command; `done` is called exactly once with the reply frame. */
export function runAdminCommand(s: ProxySession, spec: CommandSpec, args: string[], done: (reply: Buffer) => void): void {
  if (s.proxy.config.adminPassword === '') return done(errorFrame(NO_ADMIN_PASSWORD));
  if (!isAdmin(s)) return done(errorFrame(NOPERM_ADMIN));
  const servers = allServers(s);
  if (servers.length === 0) return done(errorFrame('ERR no group has any server'));
  const raw = encodeCommand(args);
  const resp3 = s.resp === 3;
  if (spec.name === 'config|get') {
    // Every node runs the same settings when they are set through here: the first master's answer
    // stands for the cluster (lowest group id, so the answer is stable).
    const first = servers.find((x) => x.role === 'master') ?? servers[0]!;
    void callNode(s, first.addr, raw, resp3).then((r) => done(r.reply ?? errorFrame(`ERR CONFIG GET failed on ${first.describe}: ${r.error}`)));
    return;
  }
  void Promise.all(servers.map((x) => callNode(s, x.addr, raw, resp3))).then((results) => {
    const failed = results.flatMap((r, i) => (r.reply !== null && !isError(r.reply) ? [] : [{ server: servers[i]!, r }]));
    if (failed.length === 0) return done(results[0]!.reply!);
    // Refused alike everywhere (a bad argument, a protected config): the node's own error, as Redis.
    const first = failed[0]!.r.reply;
    if (failed.length === servers.length && first !== null && failed.every((f) => f.r.reply !== null && f.r.reply.equals(first))) return done(first);
    const why = failed.map((f) => `${f.server.describe}: ${f.r.reply !== null ? f.r.reply.latin1Slice(1, f.r.reply.length - 2) : f.r.error}`);
    done(errorFrame(`ERR ${spec.name.replace('|', ' ').toUpperCase()} applied on ${servers.length - failed.length} of ${servers.length} nodes; failed on ${why.join('; ')}`));
  });
}

interface Target {
  addr: string;
  role: 'master' | 'replica';
  /** "127.0.0.1:7001 (group 2 replica)" for error texts. */
  describe: string;
}

/** Every server of every group, groups in id order, masters first within a group. */
function allServers(s: ProxySession): Target[] {
  const groups = [...s.proxy.topology.groups.values()].sort((a, b) => a.id - b.id);
  const out: Target[] = [];
  for (const g of groups) {
    const servers = [...g.servers].sort((a, b) => (a.role === b.role ? 0 : a.role === 'master' ? -1 : 1));
    for (const x of servers) out.push({ addr: x.addr, role: x.role, describe: `${x.addr} (group ${g.id} ${x.role})` });
  }
  return out;
}

/** One request on its own link, closed after the reply or after backend-timeout. */
function callNode(s: ProxySession, addr: string, raw: Buffer, resp3: boolean): Promise<{ reply: Buffer | null; error: string }> {
  const timeoutMs = s.proxy.config.backendTimeout > 0 ? s.proxy.config.backendTimeout : ADMIN_CALL_TIMEOUT_MS;
  return new Promise((resolve) => {
    const conn = new BackendConnection(addr, { password: s.proxy.config.backendPassword || undefined, resp3, connectTimeoutMs: timeoutMs });
    let settled = false;
    const settle = (reply: Buffer | null, error: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.close();
      resolve({ reply, error });
    };
    const timer = setTimeout(() => settle(null, `no reply within ${timeoutMs} ms`), timeoutMs);
    conn.send(raw, (reply, err) => settle(reply, err ?? ''));
  });
}
