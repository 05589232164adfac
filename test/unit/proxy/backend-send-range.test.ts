// BackendConnection's allocation-free paths against an in-process echo-like server on loopback:
// sendRange() (bytes copied into the link's arenas, across arena boundaries and mixed with
// send() of big and small buffers) reaches the backend byte for byte in queue order; replies go
// to ReplySink objects and callbacks alike, in order, through the request ring's growth and
// wrap-around; a sink that takes byte ranges gets each reply lying whole in one read as a range
// of that read (a reply split across reads comes gathered, through onReply); a link failure
// fails every queued sink exactly once.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendConnection, type ReplySink } from '../../../proxy/backend/connection.js';
import { waitFor } from '../../helpers/wait-for.js';

let server: Server | null = null;
let conn: BackendConnection | null = null;
const sockets: Socket[] = [];

afterEach(async () => {
  conn?.close();
  conn = null;
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

/** A server that records every byte and answers one "+<n>\r\n" per '\n'-terminated request. */
async function counting(received: Buffer[]): Promise<string> {
  let n = 0;
  server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      let out = '';
      for (const byte of chunk) if (byte === 10) out += `+${n++}\r\n`;
      if (out !== '') socket.write(out);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

class Sink implements ReplySink {
  reply: string | null = null;
  error: string | null = null;
  calls = 0;
  onReply(reply: Buffer | null, error: string | null): void {
    this.calls++;
    this.reply = reply === null ? null : reply.toString('latin1');
    this.error = error;
  }
}

describe('BackendConnection sendRange and reply sinks', () => {
  it('sends copied ranges and whole buffers in queue order, byte for byte, across arena refills', async () => {
    const received: Buffer[] = [];
    conn = new BackendConnection(await counting(received));
    const expected: Buffer[] = [];
    const sinks: Sink[] = [];
    // 3000 requests of 1..200 bytes (several 64 KB arenas), every 50th a 10 KB send() (not copied).
    for (let i = 0; i < 3000; i++) {
      const body = i % 50 === 49 ? 'B'.repeat(10_000) : String(i % 10).repeat(1 + (i % 200));
      const req = Buffer.from(`${body}\n`);
      const framed = Buffer.concat([Buffer.from('..'), req, Buffer.from('..')]);
      const sink = new Sink();
      sinks.push(sink);
      if (i % 50 === 49) conn.sendTo(req, sink);
      else conn.sendRange(framed, 2, framed.length - 2, sink);
      framed.fill(0); // the range was copied at once: changing the source later changes nothing
      expected.push(Buffer.from(`${body}\n`));
    }
    await waitFor(() => sinks[sinks.length - 1]!.calls === 1, { what: 'last reply' });
    expect(Buffer.concat(received).equals(Buffer.concat(expected))).toBe(true);
    sinks.forEach((s, i) => {
      expect(s.calls).toBe(1);
      expect(s.reply).toBe(`+${i}\r\n`);
    });
  });

  it('mixes sinks and callbacks in one order through the ring growing and wrapping', async () => {
    const received: Buffer[] = [];
    conn = new BackendConnection(await counting(received));
    const order: number[] = [];
    let sent = 0;
    // Bursts of varying size, each started when the previous one is answered: the ring (64 first)
    // grows to fit 300 and wraps around many times.
    for (const burst of [10, 70, 3, 300, 1, 129, 64, 65]) {
      const target = sent + burst;
      for (; sent < target; sent++) {
        const i = sent;
        const req = Buffer.from(`r${i}\n`);
        if (i % 2 === 0) conn.send(req, () => order.push(i));
        else conn.sendRange(req, 0, req.length, { onReply: () => order.push(i) });
      }
      await waitFor(() => order.length === target, { what: `burst up to ${target}` });
    }
    expect(order).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(conn.inFlight).toBe(0);
  });

  it('fails every queued sink exactly once when the backend closes the link', async () => {
    server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      socket.once('data', () => socket.destroy()); // never answers
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    conn = new BackendConnection(`127.0.0.1:${(server.address() as { port: number }).port}`, { label: 'group 7' });
    const sinks = Array.from({ length: 100 }, () => new Sink());
    for (const s of sinks) conn.sendRange(Buffer.from('GET k\n'), 0, 6, s);
    await waitFor(() => sinks.every((s) => s.calls > 0), { what: 'all failed' });
    for (const s of sinks) {
      expect(s.calls).toBe(1);
      expect(s.reply).toBeNull();
      expect(s.error).toMatch(/^ERR backend 127\.0\.0\.1:\d+ \(group 7\) /);
    }
    expect(conn.inFlight).toBe(0);
  });

  it('hands a range sink each reply whole in one read as a range of that read, split ones gathered', async () => {
    // The server answers each request with a bulk reply of the requested size, written in pieces
    // of 7 bytes so that some replies straddle reads.
    server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        let out = '';
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          const size = Number(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
          out += `$${size}\r\n${'x'.repeat(size)}\r\n`;
        }
        for (let i = 0; i < out.length; i += 7) socket.write(out.slice(i, i + 7));
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    conn = new BackendConnection(`127.0.0.1:${(server.address() as { port: number }).port}`);
    const got: Array<{ how: 'range' | 'frame'; text: () => string }> = [];
    const reads = new Set<Buffer>();
    const sizes = Array.from({ length: 200 }, (_, i) => i % 23);
    for (const [i, size] of sizes.entries()) {
      const req = Buffer.from(`${size}\n`);
      conn.sendRange(req, 0, req.length, {
        onReply: (reply, error) => {
          expect(error).toBeNull();
          const text = reply!.toString('latin1');
          got[i] = { how: 'frame', text: () => text };
        },
        onReplyBytes: (buf, start, end) => {
          expect(start).toBeGreaterThanOrEqual(0);
          expect(end).toBeLessThanOrEqual(buf.length);
          reads.add(buf);
          // Read at the end, after every later read: the range must still hold this reply.
          got[i] = { how: 'range', text: () => buf.toString('latin1', start, end) };
        },
      });
    }
    await waitFor(() => got.filter(Boolean).length === sizes.length, { what: 'every reply' });
    sizes.forEach((size, i) => expect(got[i]!.text()).toBe(`$${size}\r\n${'x'.repeat(size)}\r\n`));
    // Both kinds happened: small replies inside one read, longer ones split across reads.
    expect(got.some((g) => g.how === 'range')).toBe(true);
    expect(got.some((g) => g.how === 'frame')).toBe(true);
    expect(reads.size).toBeGreaterThan(1);
    expect(conn.inFlight).toBe(0);
  });
});
