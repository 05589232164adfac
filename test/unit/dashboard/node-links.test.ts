// The coordinator's node links (dashboard/coordinator/node-links.ts) against in-process sockets:
// a reply resolves the call, a node that never answers fails it at its bound (and the link is
// dropped when asked), a refused connection fails a fail-fast call at once, lanes are separate
// links, retain() drops the links of forgotten nodes.
import { type Server, type Socket, createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeLinks, NodeTimeoutError, splitAddr } from '../../../dashboard/coordinator/node-links.js';
import { freePort } from '../../helpers/ports.js';

const servers: Server[] = [];
const links: NodeLinks[] = [];
afterAll(async () => {
  await Promise.all(links.map((l) => l.close()));
  for (const s of servers) s.close();
});

/** A socket server that answers every request with `reply` (null: never answers); counts connections. */
async function fakeNode(reply: string | null): Promise<{ addr: string; connections: Socket[] }> {
  const connections: Socket[] = [];
  const server = createServer((sock) => {
    connections.push(sock);
    // One reply per command (ioredis may send CLIENT SETNAME and PING in one write).
    sock.on('data', (d: Buffer) => { if (reply !== null) sock.write(reply.repeat(d.toString('latin1').match(/(?:^|\r\n)\*\d+\r\n/g)?.length ?? 0)); });
    sock.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { addr: `127.0.0.1:${port}`, connections };
}

const newLinks = () => {
  const l = new NodeLinks({ name: 'unit', connectTimeoutMs: 500, retryMs: 50 });
  links.push(l);
  return l;
};

describe('NodeLinks', () => {
  it('splits host:port, IPv6 in brackets too', () => {
    expect(splitAddr('127.0.0.1:7001')).toEqual({ host: '127.0.0.1', port: 7001 });
    expect(splitAddr('[::1]:7001')).toEqual({ host: '::1', port: 7001 });
  });

  it('a reply resolves the call; lanes are separate links', async () => {
    const node = await fakeNode('+PONG\r\n');
    const l = newLinks();
    expect(await l.call(node.addr, ['PING'], { timeoutMs: 2000 })).toBe('PONG');
    expect(await l.call(node.addr, ['PING'], { timeoutMs: 2000, lane: '1' })).toBe('PONG');
    expect(await l.call(node.addr, ['PING'], { timeoutMs: 2000 })).toBe('PONG');
    expect(node.connections.length).toBe(2);
  });

  it('a node that never answers fails the call at its bound; resetOnTimeout drops the link', async () => {
    const node = await fakeNode(null);
    const l = newLinks();
    const t0 = Date.now();
    await expect(l.call(node.addr, ['PING'], { timeoutMs: 300, resetOnTimeout: true })).rejects.toBeInstanceOf(NodeTimeoutError);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2000);
    // The dropped link reconnects: a second connection arrives.
    const deadline = Date.now() + 3000;
    while (node.connections.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(node.connections.length).toBe(2);
  });

  it('a refused connection fails a fail-fast call before its bound', async () => {
    const addr = `127.0.0.1:${await freePort()}`;
    const l = newLinks();
    const t0 = Date.now();
    await expect(l.call(addr, ['PING'], { timeoutMs: 5000, failFast: true })).rejects.toThrow(/not reachable|not connected|ECONNREFUSED/);
    expect(Date.now() - t0).toBeLessThan(2500);
    // Without failFast the call waits for the link, within its bound.
    await expect(l.call(addr, ['PING'], { timeoutMs: 300 })).rejects.toBeInstanceOf(NodeTimeoutError);
  });

  it('retain() closes the links of nodes no longer listed', async () => {
    const node = await fakeNode('+PONG\r\n');
    const l = newLinks();
    await l.call(node.addr, ['PING'], { timeoutMs: 2000 });
    const closed = new Promise<void>((r) => node.connections[0]!.once('close', () => r()));
    l.retain(new Set());
    await closed;
    // A later call opens a new link.
    expect(await l.call(node.addr, ['PING'], { timeoutMs: 2000 })).toBe('PONG');
    expect(node.connections.length).toBe(2);
  });
});
