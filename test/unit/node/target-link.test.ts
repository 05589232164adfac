// The pipelined link to another server (node/cluster/target-link.ts) against peers that are no
// Redis: each way a peer can misbehave fails the requests owed with an error, never the process.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import { LINK_MAX_BUFFERED, LinkError, TargetLink } from '../../../node/cluster/target-link.js';

/** A peer on a free loopback port that answers each read with `answer(socket)`. */
const sockets = new Set<Socket>();

async function peer(answer: (c: Socket) => void): Promise<{ address: string; server: Server }> {
  const server = createServer((c) => {
    sockets.add(c);
    c.on('error', () => {});
    c.on('data', () => answer(c));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { address: `127.0.0.1:${port}`, server };
}

describe('TargetLink', () => {
  let server: Server | null = null;
  afterEach(async () => {
    for (const c of sockets) c.destroy();
    sockets.clear();
    await new Promise((r) => server?.close(r) ?? r(null));
    server = null;
  });

  async function requestTo(answer: (c: Socket) => void, timeoutMs = 2000): Promise<unknown> {
    const p = await peer(answer);
    server = p.server;
    const link = await TargetLink.open(p.address, timeoutMs, []);
    try {
      return await link.request(encodeCommand(['PING']), 1);
    } catch (err) {
      return err;
    } finally {
      link.close();
    }
  }

  it('answers in order from a peer that speaks RESP', async () => {
    expect(await requestTo((c) => c.write('+PONG\r\n'))).toMatchObject([{ value: 'PONG' }]);
  });

  it('fails on bytes that are not RESP', async () => {
    const err = await requestTo((c) => c.write('?what\r\n'));
    expect(err).toBeInstanceOf(LinkError);
    expect((err as Error).message).toMatch(/malformed reply/);
  });

  it(`fails once more than ${LINK_MAX_BUFFERED} bytes of one unfinished reply pile up`, async () => {
    const chunk = Buffer.alloc(1 << 20, 0x41);
    const err = await requestTo((c) => {
      c.write('$999999999999\r\n');
      const flood = () => {
        while (!c.destroyed && c.write(chunk));
      };
      flood();
      c.on('drain', flood);
    }, 30_000);
    expect((err as Error).message).toMatch(/unparsed/);
  });

  it('fails when the peer closes, or says nothing within the timeout', async () => {
    expect(((await requestTo((c) => c.destroy())) as Error).message).toMatch(/closed/);
    expect(((await requestTo(() => {}, 200)) as Error).message).toMatch(/timeout: no reply within 200 ms/);
  });
});
