// Health checks against a slow but alive server: a small RESP server in the test answers every
// command after a delay longer than the probe's bound. Its late reply must count (the unreachable
// clock restarts from the reply received), while a closed port is still seen at once.
import { type Server, type Socket, createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { Group } from '../../../common/model.js';
import { HealthTable, RedisProbe } from '../../../dashboard/coordinator/health.js';
import { waitFor } from '../../helpers/wait-for.js';

const INFO = '# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_replid:abc\r\nmaster_repl_offset:77\r\n';

/** Answers PING, INFO and anything else (CLIENT SETNAME) after `delayMs`, in order. */
function slowNode(delayMs: number): Promise<{ server: Server; sockets: Set<Socket>; addr: string }> {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      // Inline-enough RESP parse: each command is an array; its first bulk names it.
      for (;;) {
        const m = /^\*(\d+)\r\n/.exec(buf);
        if (!m) return;
        let pos = m[0].length;
        const parts: string[] = [];
        for (let i = 0; i < Number(m[1]); i++) {
          const b = /^\$(\d+)\r\n/.exec(buf.slice(pos));
          if (!b || buf.length < pos + b[0].length + Number(b[1]) + 2) return;
          parts.push(buf.slice(pos + b[0].length, pos + b[0].length + Number(b[1])));
          pos += b[0].length + Number(b[1]) + 2;
        }
        buf = buf.slice(pos);
        const cmd = parts[0]!.toUpperCase();
        const reply = cmd === 'PING' ? '+PONG\r\n' : cmd === 'INFO' ? `$${INFO.length}\r\n${INFO}\r\n` : '+OK\r\n';
        setTimeout(() => sock.writable && sock.write(reply), delayMs);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    resolve({ server, sockets, addr: `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` });
  }));
}

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

describe('health of a slow node', () => {
  it('a reply past the probe bound resets the unreachable clock; a closed port is down at once', async () => {
    const node = await slowNode(400);
    cleanup.push(() => new Promise((r) => { for (const s of node.sockets) s.destroy(); node.server.close(r); }));
    const probe = new RedisProbe();
    cleanup.push(() => probe.close());
    const table = new HealthTable(probe);
    const group: Group = { id: 1, servers: [{ addr: node.addr, role: 'master' }] };

    // The tick's bound (100 ms) is missed: unreachable for now, but the probe stays in flight.
    const t0 = Date.now();
    await table.check([group], 100, [], Date.now, 2000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(table.get(node.addr)).toMatchObject({ reachable: false });
    expect(table.get(node.addr)?.lastError).toMatch(/did not answer within 100 ms/);
    // A second tick while it is in flight waits for the same probe (no second one piled on).
    await table.check([group], 100, [], Date.now, 2000);
    // The late reply arrives: alive, last seen when it arrived, its INFO taken.
    const h = await waitFor(() => (table.get(node.addr)?.reachable ? table.get(node.addr) : null), { timeoutMs: 5000, what: 'the late reply' });
    expect(h).toMatchObject({ reachable: true, downSince: null, lastError: null, role: 'master', offset: 77 });
    expect(h.lastSeen!).toBeGreaterThanOrEqual(t0 + 350);
    expect(table.downFor(node.addr)).toBe(0);

    // Answering late on every tick, it is never down for longer than one late reply's delay.
    let maxDown = 0;
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      await table.check([group], 100, [], Date.now, 2000);
      maxDown = Math.max(maxDown, table.downFor(node.addr));
    }
    expect(maxDown).toBeLessThan(1000);

    // Closed: the open connection is reset and the next probes are refused, seen at once (not after a bound).
    await new Promise<void>((r) => { for (const s of node.sockets) s.destroy(); node.server.close(() => r()); });
    await waitFor(async () => {
      const t = Date.now();
      await table.check([group], 1000, [], Date.now, 2000);
      const x = table.get(node.addr)!;
      return !x.reachable && Date.now() - t < 500 && !/did not answer/.test(x.lastError ?? '');
    }, { timeoutMs: 5000, what: 'the closed port seen as down at once' });
  });
});
