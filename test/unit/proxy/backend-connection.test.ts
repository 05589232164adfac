// BackendConnection against a scripted in-process server on loopback: replies framed across any
// read boundaries, big replies streamed (or gathered and joined once), a silent backend failing
// every pending request exactly once with a timeout that names it, a clean close said as such,
// a link waiting out its retry delay connecting again at once when told (retryNow: the slot
// table changed); and the blocking-command timeouts the session derives from the command.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendConnection, STREAM, STREAMED, type ReplyStream } from '../../../proxy/backend/connection.js';
import { blockingLimit } from '../../../proxy/session.js';
import { waitFor } from '../../helpers/wait-for.js';

let server: Server | null = null;
let conn: BackendConnection | null = null;

afterEach(async () => {
  conn?.close();
  conn = null;
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

/** A server calling `onData` with each chunk it reads (requests are not parsed). */
async function scripted(onData: (socket: Socket, chunk: Buffer) => void): Promise<string> {
  server = createServer((socket) => {
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => onData(socket, chunk));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

function collect(): { replies: Array<string | null>; errors: Array<string | null>; cb: (r: Buffer | null, e: string | null) => void } {
  const replies: Array<string | null> = [];
  const errors: Array<string | null> = [];
  return { replies, errors, cb: (r, e) => {
    replies.push(r === null ? null : r.toString('latin1'));
    errors.push(e);
  } };
}

describe('BackendConnection', () => {
  it('frames replies arriving one byte at a time, in order', async () => {
    const frames = ['+OK\r\n', '$5\r\nhello\r\n', '*2\r\n:1\r\n*1\r\n$-1\r\n', '%1\r\n+k\r\n~1\r\n#t\r\n'];
    const addr = await scripted((socket) => {
      const all = Buffer.from(frames.join(''), 'latin1');
      let i = 0;
      const tick = () => {
        if (i >= all.length) return;
        socket.write(all.subarray(i, ++i));
        setImmediate(tick);
      };
      tick();
    });
    conn = new BackendConnection(addr);
    const c = collect();
    for (let i = 0; i < frames.length; i++) conn.send(Buffer.from('x'), c.cb);
    await waitFor(() => c.replies.length === frames.length, { what: 'all replies' });
    expect(c.replies).toEqual(frames);
  });

  it('streams a big reply to a request that takes it, and gathers one that does not', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 0x62);
    const frame = Buffer.concat([Buffer.from(`$${big.length}\r\n`), big, Buffer.from('\r\n')]);
    const addr = await scripted((socket) => socket.write(Buffer.concat([frame, frame])));
    conn = new BackendConnection(addr);
    const parts: Buffer[] = [];
    let offers = 0;
    const stream: ReplyStream = { offer: () => (++offers, STREAM), chunk: (p) => parts.push(Buffer.from(p)) };
    const c = collect();
    conn.send(Buffer.from('x'), c.cb, -1, stream);
    conn.send(Buffer.from('y'), c.cb); // no stream: gathered whole
    await waitFor(() => c.replies.length === 2, { what: 'two replies' });
    expect(offers).toBe(1);
    expect(Buffer.concat(parts).equals(frame)).toBe(true);
    expect(c.replies[0]).toBe(STREAMED.toString('latin1'));
    expect(c.replies[1]!.length).toBe(frame.length);
    expect(c.errors).toEqual([null, null]);
  });

  it('a silent backend fails every pending request once, with a timeout naming it, and the link is reset', async () => {
    let connections = 0;
    const addr = await scripted(() => {});
    server!.on('connection', () => connections++);
    conn = new BackendConnection(addr, { label: 'group 7', timeoutMs: 200, retryDelayMs: 10 });
    const c = collect();
    const started = Date.now();
    for (let i = 0; i < 3; i++) conn.send(Buffer.from('x'), c.cb);
    await waitFor(() => c.errors.length === 3, { what: 'three failures' });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1000);
    expect(c.errors).toEqual(Array(3).fill(`ERR backend ${addr} (group 7) timed out after 200 ms`));
    expect(conn.timeouts).toBe(1);
    // A request with its own limit of 0 (BLPOP … 0) is never timed out.
    await waitFor(() => Date.now() > started + elapsed + 20);
    const d = collect();
    conn.send(Buffer.from('x'), d.cb, 0);
    await new Promise((r) => setTimeout(r, 500));
    expect(d.errors).toEqual([]);
    expect(connections).toBe(2);
  });

  it('says so when the backend closes the link cleanly', async () => {
    const addr = await scripted((socket) => socket.end());
    conn = new BackendConnection(addr, { label: 'group 3' });
    const c = collect();
    conn.send(Buffer.from('x'), c.cb);
    await waitFor(() => c.errors.length === 1, { what: 'failure' });
    expect(c.errors[0]).toBe(`ERR backend ${addr} (group 3) closed the connection`);
  });
});

describe('blockingLimit', () => {
  it.each([
    [['BLPOP', 'k', '0'], 'blpop', 0],
    [['BLPOP', 'k', '1.5'], 'blpop', 1500 + 5000],
    [['BRPOP', 'a', 'b', '2'], 'brpop', 7000],
    [['BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', '0.01'], 'blmove', 10 + 5000],
    [['BLMPOP', '3', '1', 'k', 'LEFT'], 'blmpop', 8000],
    [['BZMPOP', '0', '1', 'k', 'MIN'], 'bzmpop', 0],
    [['BLPOP', 'k', 'soon'], 'blpop', -1],
    [['BLPOP', 'k', '-1'], 'blpop', -1],
  ] as Array<[string[], string, number]>)('%j → %s limit %d', (args, name, expected) => {
    expect(blockingLimit(name, args, 5000)).toBe(expected);
  });

  it('a link waiting out its retry delay refuses at once, and connects again when told to retry now', async () => {
    // A port nothing listens on yet.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    conn = new BackendConnection(`127.0.0.1:${port}`, { retryDelayMs: 60_000, maxRetryDelayMs: 60_000 });
    const first = collect();
    conn.send(Buffer.from('x'), first.cb);
    await waitFor(() => first.errors.length === 1, { what: 'the refused connect' });
    expect(first.errors[0]).toMatch(/ECONNREFUSED/);
    // The backend comes up: within the retry delay the link still refuses without trying…
    server = createServer((socket) => {
      socket.on('error', () => {});
      socket.on('data', () => socket.write('+PONG\r\n'));
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', () => r()));
    const during = collect();
    conn.send(Buffer.from('x'), during.cb);
    expect(during.errors).toEqual([expect.stringMatching(/is down: unavailable: connect ECONNREFUSED/)]);
    // …until told to retry now, as after a slot table change.
    conn.retryNow();
    const after = collect();
    conn.send(Buffer.from('x'), after.cb);
    await waitFor(() => after.replies.length === 1, { what: 'the reply after the retry' });
    expect(after.replies).toEqual(['+PONG\r\n']);
    expect(after.errors).toEqual([null]);
    conn.retryNow(); // a connected link is left alone
    const again = collect();
    conn.send(Buffer.from('x'), again.cb);
    await waitFor(() => again.replies.length === 1, { what: 'a second reply' });
    expect(again.replies).toEqual(['+PONG\r\n']);
  });

  it('no backend timeout (0) means blocking commands wait forever too', () => {
    expect(blockingLimit('blpop', ['BLPOP', 'k', '3'], 0)).toBe(0);
  });
});
