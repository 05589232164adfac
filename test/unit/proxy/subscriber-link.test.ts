// The shared subscriber link against a scripted in-process server: confirmations paired in order
// with messages interleaved, errors named after the backend, unsolicited frames ignored, split
// frames reassembled, and reconnection after a drop only while the owner needs the link.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestDecoder } from '../../../common/resp/request-decoder.js';
import { leastFrameBytes, type MessageKind, SubscriberLink } from '../../../proxy/backend/subscriber-link.js';
import { waitFor } from '../../helpers/wait-for.js';

function bulk(s: string): string {
  return `$${s.length}\r\n${s}\r\n`;
}
function arr(...items: Array<string | number>): string {
  return `*${items.length}\r\n${items.map((x) => (typeof x === 'number' ? `:${x}\r\n` : bulk(x))).join('')}`;
}

/** A server whose reply to each command is decided by `script`; remembers every command. */
async function scripted(script: (argv: string[], sock: Socket) => void): Promise<{ server: Server; port: number; commands: string[][]; sockets: Socket[] }> {
  const commands: string[][] = [];
  const sockets: Socket[] = [];
  const server = createServer((sock) => {
    sockets.push(sock);
    const dec = new RequestDecoder();
    sock.on('data', (chunk) => {
      dec.push(chunk);
      for (let argv = dec.next(); argv !== null; argv = dec.next()) {
        commands.push(argv);
        script(argv, sock);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { server, port, commands, sockets };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function makeLink(port: number, extra: Partial<ConstructorParameters<typeof SubscriberLink>[1]> = {}) {
  const messages: Array<[MessageKind, string, string]> = [];
  let ready = 0;
  let lost = 0;
  let needed = true;
  const link = new SubscriberLink(`127.0.0.1:${port}`, {
    label: 'group 7',
    onMessage: (kind, name, frame) => messages.push([kind, name, frame.toString('latin1')]),
    onReady: () => ready++,
    onLost: () => lost++,
    stillNeeded: () => needed,
    retryDelayMs: 20,
    ...extra,
  });
  cleanups.push(() => link.close());
  return {
    link,
    messages,
    get ready() {
      return ready;
    },
    get lost() {
      return lost;
    },
    setNeeded(v: boolean) {
      needed = v;
    },
  };
}

describe('SubscriberLink', () => {
  it('pairs confirmations in order while messages interleave, and ignores unsolicited frames', async () => {
    const srv = await scripted((argv, sock) => {
      if (argv[0] === 'SUBSCRIBE') {
        sock.write(arr('subscribe', argv[1]!, 1));
        // A message between two confirmations, and a server-side sunsubscribe nobody asked for.
        sock.write(arr('message', argv[1]!, 'early') + arr('sunsubscribe', 'moved', 0));
        sock.write(arr('subscribe', argv[2]!, 2));
      }
    });
    cleanups.push(() => srv.server.close());
    const t = makeLink(srv.port);
    const confirmed: Array<string | null> = [];
    expect(t.link.request('SUBSCRIBE', 'subscribe', ['a', 'b'], [(e) => confirmed.push(e ?? 'a'), (e) => confirmed.push(e ?? 'b')])).toBe(true);
    await waitFor(() => confirmed.length === 2, { what: 'confirmations' });
    expect(confirmed).toEqual(['a', 'b']);
    expect(t.messages).toEqual([['message', 'a', arr('message', 'a', 'early')]]);
    expect(t.link.outstanding).toBe(0);
    expect(t.ready).toBe(1);
  });

  it('names the backend in the error of a refused request (max number of clients)', async () => {
    const srv = await scripted(() => {});
    srv.server.removeAllListeners('connection');
    srv.server.on('connection', (sock) => {
      sock.on('error', () => {});
      sock.end('-ERR max number of clients reached\r\n');
    });
    cleanups.push(() => srv.server.close());
    const t = makeLink(srv.port, { retryDelayMs: 2000 });
    t.setNeeded(false);
    const errors: Array<string | null> = [];
    t.link.request('SUBSCRIBE', 'subscribe', ['a', 'b'], [(e) => errors.push(e), (e) => errors.push(e)]);
    await waitFor(() => errors.length === 2, { what: 'both to fail' });
    expect(errors[0]).toBe(`ERR backend 127.0.0.1:${srv.port} (group 7) refused: ERR max number of clients reached`);
    expect(errors[1]).toBe(`ERR backend 127.0.0.1:${srv.port} (group 7) unavailable: ERR max number of clients reached`);
    // In its back-off the link refuses at once instead of opening another connection.
    expect(t.link.inBackoff).toBe(true);
    expect(t.link.request('SUBSCRIBE', 'subscribe', ['c'], [() => {}])).toBe(false);
    expect(t.link.downReason).toMatch(/max number of clients reached/);
  });

  it('reassembles a big message split into many small reads', async () => {
    const payload = 'y'.repeat(300_000);
    const frame = arr('pmessage', 'p*', 'pq', payload);
    const srv = await scripted((argv, sock) => {
      if (argv[0] !== 'PSUBSCRIBE') return;
      sock.write(arr('psubscribe', 'p*', 1));
      // 1 KB writes with a pause so they arrive as separate reads.
      let pos = 0;
      const step = () => {
        if (pos >= frame.length) return;
        sock.write(frame.slice(pos, pos + 1024), 'latin1');
        pos += 1024;
        setImmediate(step);
      };
      step();
    });
    cleanups.push(() => srv.server.close());
    const t = makeLink(srv.port);
    t.link.request('PSUBSCRIBE', 'psubscribe', ['p*'], [() => {}]);
    await waitFor(() => t.messages.length === 1, { what: 'the message' });
    expect(t.messages[0]![0]).toBe('pmessage');
    expect(t.messages[0]![1]).toBe('p*');
    expect(t.messages[0]![2]).toBe(frame);
  });

  it('fails what is pending when the peer drops, and reconnects only while needed', async () => {
    let replies = true;
    const srv = await scripted((argv, sock) => {
      if (argv[0] === 'SUBSCRIBE' && replies) sock.write(arr('subscribe', argv[1]!, 1));
    });
    cleanups.push(() => srv.server.close());
    const t = makeLink(srv.port);
    const first: Array<string | null> = [];
    t.link.request('SUBSCRIBE', 'subscribe', ['a'], [(e) => first.push(e)]);
    await waitFor(() => first.length === 1, { what: 'confirmation' });
    expect(first).toEqual([null]);
    replies = false;
    const second: Array<string | null> = [];
    t.link.request('SUBSCRIBE', 'subscribe', ['b'], [(e) => second.push(e)]);
    await waitFor(() => srv.commands.length === 2, { what: 'the second request to arrive' });
    srv.sockets[0]!.destroy();
    await waitFor(() => second.length === 1, { what: 'the pending request to fail' });
    expect(second[0]).toMatch(/^ERR backend 127\.0\.0\.1:\d+ \(group 7\) unavailable/);
    expect(t.lost).toBe(1);
    // Still needed: reconnects after the back-off and tells the owner (who re-subscribes).
    await waitFor(() => t.ready === 2 && srv.sockets.length === 2, { what: 'the reconnect' });
    t.setNeeded(false);
    srv.sockets[1]!.destroy();
    await waitFor(() => t.lost === 2, { what: 'second drop' });
    await new Promise((r) => setTimeout(r, 150)); // several back-off periods: no reconnect may happen
    expect(srv.sockets.length).toBe(2);
  });

  it('resets a link whose reply does not come within the reply timeout', async () => {
    const srv = await scripted(() => {}); // never answers
    cleanups.push(() => srv.server.close());
    const t = makeLink(srv.port, { replyTimeoutMs: 200 });
    t.setNeeded(false);
    const errors: Array<string | null> = [];
    const started = Date.now();
    t.link.request('SUBSCRIBE', 'subscribe', ['a'], [(e) => errors.push(e)]);
    await waitFor(() => errors.length === 1, { what: 'the timeout', timeoutMs: 5000 });
    expect(errors[0]).toMatch(/no reply within 200 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('leastFrameBytes', () => {
  it('is the end of the first bulk that runs past the buffer', () => {
    const frame = Buffer.from(arr('message', 'ch', 'z'.repeat(1000)), 'latin1');
    const head = frame.subarray(0, 40);
    expect(leastFrameBytes(head)).toBe(frame.length);
  });

  it('knows a bulk from its header, else asks for one more byte', () => {
    // "$7" is known: the bulk ends at 4 + 4 + 7 + 2.
    expect(leastFrameBytes(Buffer.from('*3\r\n$7\r\nmess', 'latin1'))).toBe(17);
    expect(leastFrameBytes(Buffer.from('*3\r\n$1', 'latin1'))).toBe(7);
  });
});
