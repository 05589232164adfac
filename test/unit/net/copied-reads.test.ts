// common/net/copied-reads.ts on real loopback sockets: every byte arrives in order and each chunk
// keeps its bytes after later reads (they all pass through one shared read buffer, so a chunk
// that were a view of it would be overwritten), pause() stops reading until resume(), a server
// honours maxConnections and counts its connections out again (close() completes), and the
// client side (net.connect's onread) behaves the same.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptWithCopiedReads, copiedReadsOption } from '../../../common/net/copied-reads.js';
import { waitFor } from '../../helpers/wait-for.js';

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function listening(onSocket: (s: Socket) => void, maxConnections = 0): Promise<{ server: Server; port: number }> {
  const server = createServer({ noDelay: true }, onSocket);
  if (maxConnections > 0) server.maxConnections = maxConnections;
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  acceptWithCopiedReads(server);
  return { server, port: (server.address() as { port: number }).port };
}

function dial(port: number, copied = false): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(copied ? { host: '127.0.0.1', port, onread: copiedReadsOption() } : { host: '127.0.0.1', port });
    sockets.push(s);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Bytes 0..n-1 of a pattern that differs at every offset modulo 251 (a prime: no read size aligns with it). */
function pattern(n: number, from = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (from + i) % 251;
  return b;
}

async function writeInPieces(s: Socket, data: Buffer): Promise<void> {
  let pos = 0;
  let size = 1;
  while (pos < data.length) {
    const end = Math.min(data.length, pos + size);
    if (!s.write(data.subarray(pos, end))) await new Promise((r) => s.once('drain', r));
    pos = end;
    size = (size * 7 + 13) % 9000 + 1; // small and large pieces, some over the 4 KiB pool bound
  }
}

describe('accepted sockets with copied reads', () => {
  it('deliver every byte in order, each chunk keeping its bytes after later reads', async () => {
    const chunks: Buffer[] = [];
    let ended = false;
    const { port } = await listening((s) => {
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => (ended = true));
    });
    const client = await dial(port);
    const data = pattern(3 * 1024 * 1024);
    await writeInPieces(client, data);
    client.end();
    await waitFor(() => ended, { what: 'end on the server' });
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('stop reading while paused and read the rest once resumed', async () => {
    let server: Socket | null = null;
    let received = 0;
    let reads = 0;
    const { port } = await listening((s) => {
      server = s;
      s.on('data', (c: Buffer) => {
        reads++;
        received += c.length;
        s.pause();
      });
    });
    const client = await dial(port);
    const data = pattern(16 * 1024 * 1024); // more than loopback's socket buffers hold
    client.write(data);
    await waitFor(() => reads > 0, { what: 'a first read' });
    // Once the kernel's buffers are full the client's queue stops shrinking; a server still
    // reading would have emptied them (and it, eventually) by then.
    let last = -1;
    let steady = 0;
    await waitFor(() => {
      const now = client.writableLength;
      steady = now === last && now > 0 ? steady + 1 : 0;
      last = now;
      return steady >= 3;
    }, { intervalMs: 50, what: "the client's queue to stop shrinking" });
    expect(reads).toBe(1);
    expect(received).toBeLessThan(data.length);
    server!.removeAllListeners('data');
    server!.on('data', (c: Buffer) => (received += c.length));
    server!.resume();
    await waitFor(() => received === data.length, { what: 'every byte after resume()' });
  });

  it('refuse connections past maxConnections and count closed ones out', async () => {
    const { server, port } = await listening((s) => s.on('data', () => {}), 1);
    const first = await dial(port);
    await waitFor(() => new Promise<boolean>((r) => server.getConnections((_e, n) => r(n === 1))), { what: 'one connection' });
    const second = await dial(port);
    const closed = new Promise<void>((r) => second.once('close', () => r()));
    second.on('error', () => {});
    await closed; // the server closed it at once
    first.destroy();
    await waitFor(() => new Promise<boolean>((r) => server.getConnections((_e, n) => r(n === 0))), { what: 'zero connections' });
    servers.splice(servers.indexOf(server), 1);
    await new Promise<void>((r) => server.close(() => r())); // completes: no connection is left counted
  });

  it('work on the client side as net.connect onread', async () => {
    const data = pattern(2 * 1024 * 1024, 7);
    const plain = createServer((s) => {
      s.on('error', () => {});
      void writeInPieces(s, data).then(() => s.end());
    });
    servers.push(plain);
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
    const client = await dial((plain.address() as { port: number }).port, true);
    const chunks: Buffer[] = [];
    let ended = false;
    client.on('data', (c: Buffer) => chunks.push(c));
    client.on('end', () => (ended = true));
    await waitFor(() => ended, { what: 'end on the client' });
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });
});
