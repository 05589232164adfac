// Health errors name the real cause: a probe of a dead node says why its link is down (the
// connect error, as the proxy reports it), not only "is not connected (reconnecting)"; a node
// refusing the link (NOAUTH) and a silent node (the bound) are named too.
import { type Server, createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisProbe } from '../../../dashboard/coordinator/health.js';
import { freePort } from '../../helpers/ports.js';
import { waitFor } from '../../helpers/wait-for.js';

const servers: Server[] = [];
const probes: RedisProbe[] = [];
afterAll(async () => {
  await Promise.all(probes.map((p) => p.close()));
  for (const s of servers) s.close();
});

/** A socket server that answers every command with `reply` (null: never answers). */
async function fakeNode(reply: string | null, port = 0): Promise<string> {
  const server = createServer((sock) => {
    sock.on('data', (d: Buffer) => { if (reply !== null) sock.write(reply.repeat(d.toString('latin1').match(/(?:^|\r\n)\*\d+\r\n/g)?.length ?? 0)); });
    sock.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

const newProbe = () => {
  const p = new RedisProbe();
  probes.push(p);
  return p;
};

async function probeError(p: RedisProbe, addr: string, timeoutMs = 1000): Promise<string> {
  try {
    await p.probe(addr, timeoutMs);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`probe of ${addr} succeeded`);
}

describe('health probe errors', () => {
  it('a refused connection: every probe names ECONNREFUSED, while connecting and while reconnecting', async () => {
    const port = await freePort();
    const addr = `127.0.0.1:${port}`;
    const p = newProbe();
    const first = await probeError(p, addr);
    expect(first).toContain(`connect ECONNREFUSED ${addr}`);
    // Later probes find the link between reconnect attempts (fail-fast): the cause is kept.
    const messages: string[] = [];
    for (let i = 0; i < 5; i++) messages.push(await probeError(p, addr));
    for (const m of messages) expect(m).toContain(`ECONNREFUSED ${addr}`);
    expect(messages.some((m) => m.startsWith(`${addr} is not connected (reconnecting): connect ECONNREFUSED`))).toBe(true);
  });

  it('the cause is forgotten once the node answers again', async () => {
    const port = await freePort();
    const addr = `127.0.0.1:${port}`;
    const p = newProbe();
    expect(await probeError(p, addr)).toContain('ECONNREFUSED');
    await fakeNode('+PONG\r\n', port);
    // INFO replication answered with +PONG parses as an empty section: reachable.
    await waitFor(() => p.probe(addr, 1000).then(() => true, () => false), { timeoutMs: 5000, what: 'probe reachable again' });
    expect(await p.probe(addr, 1000)).toMatchObject({ role: 'master' });
  });

  it("a node's refusal and a silent node are named as such", async () => {
    const p = newProbe();
    const noauth = await fakeNode('-NOAUTH Authentication required.\r\n');
    // ioredis's CLIENT SETNAME at connect is refused: the call fails on that refusal and names it.
    expect(await probeError(p, noauth)).toBe(`${noauth} refused the connection: NOAUTH Authentication required.`);
    expect(await probeError(p, noauth)).toMatch(/^127\.0\.0\.1:\d+ (refused the connection|is not connected \(reconnecting\)|is not reachable \(connection closed\)): NOAUTH Authentication required\.$/);
    const silent = await fakeNode(null);
    expect(await probeError(p, silent, 300)).toMatch(new RegExp(`^${silent.replace(/\./g, '\\.')} did not answer (PING|INFO replication) within 300 ms$`));
  });
});
