// maxmemory-clients (Redis 7 client eviction), side by side with Debian's redis-server: the same
// settings and the same clients on both, the same outcome — CONFIG SET/GET of byte and percent
// values (errors included), the biggest client closed once all clients together hold more than the
// limit, a CLIENT NO-EVICT client kept, INFO's evicted_clients counting it, other clients served.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Reply, ReplyErrorValue, SimpleString } from '../../../common/resp/reply-decoder.js';
import { callOnce, infoFields } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const MB = 1024 * 1024;

/** A client that sends raw bytes and notes whether the server closed it. */
class Client {
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
    socket.on('data', () => {});
  }
  static async open(port: number): Promise<Client> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Client(socket);
  }
  /**
   * Starts a SET of a `bytes`-long value and sends all of it but 100 bytes: about that much then
   * sits in the server's query buffer (Redis sizes its buffer by the announced length, so the
   * announced length is the one held).
   */
  holdQueryBuffer(bytes: number): void {
    this.socket.write(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${bytes}\r\n`);
    this.socket.write(Buffer.alloc(bytes - 100, 0x61));
  }
}

describe.each([
  ['redis-server', startRedis],
  ['tessera node', startNode],
] as const)('maxmemory-clients on %s', (_name, start) => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await stopAll(server);
  });

  it('takes bytes or a percentage of maxmemory, and refuses anything else with Redis\'s words', async () => {
    const p = server.port;
    expect(await callOnce(p, 'CONFIG', 'SET', 'maxmemory-clients', '10%')).toEqual(new SimpleString('OK'));
    expect(await callOnce(p, 'CONFIG', 'GET', 'maxmemory-clients')).toEqual(['maxmemory-clients', '10%']);
    expect(await callOnce(p, 'CONFIG', 'SET', 'maxmemory-clients', '1mb')).toEqual(new SimpleString('OK'));
    expect(await callOnce(p, 'CONFIG', 'GET', 'maxmemory-clients')).toEqual(['maxmemory-clients', '1048576']);
    expect(errorText(await callOnce(p, 'CONFIG', 'SET', 'maxmemory-clients', '101%'))).toBe("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100");
    for (const bad of ['-1%', 'abc', '-5']) {
      expect(errorText(await callOnce(p, 'CONFIG', 'SET', 'maxmemory-clients', bad))).toBe("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value");
    }
    expect(await callOnce(p, 'CONFIG', 'SET', 'maxmemory-clients', '0')).toEqual(new SimpleString('OK'));
  });

  /** The text of an error reply (fails the test for anything else). */
  function errorText(r: Reply): string {
    expect(r).toBeInstanceOf(ReplyErrorValue);
    return (r as ReplyErrorValue).message;
  }

  it('closes the biggest client once all clients hold more than the limit, sparing NO-EVICT clients', async () => {
    const p = server.port;
    const before = Number((await infoFields(p, 'stats')).evicted_clients);
    expect(await callOnce(p, 'CONFIG', 'SET', 'maxmemory-clients', '5mb')).toEqual(new SimpleString('OK'));
    const exempt = await Client.open(p);
    exempt.socket.write('*3\r\n$6\r\nCLIENT\r\n$8\r\nNO-EVICT\r\n$2\r\non\r\n');
    const small = await Client.open(p);
    small.holdQueryBuffer(MB);
    const hog = await Client.open(p);
    try {
      exempt.holdQueryBuffer(3 * MB);
      // 4 MB together, under the limit: nobody is evicted.
      await waitFor(async () => [...String(await callOnce(p, 'CLIENT', 'LIST')).matchAll(/tot-mem=(\d+)/g)].filter((m) => Number(m[1]) > 0.9 * MB).length === 2, { timeoutMs: 5000, what: 'both query buffers held' });
      expect(small.closed || exempt.closed).toBe(false);
      hog.holdQueryBuffer(3 * MB); // 7 MB: over; the hog is the biggest evictable client
      await waitFor(() => hog.closed, { timeoutMs: 5000, what: 'the biggest client evicted' });
      expect(small.closed).toBe(false);
      expect(exempt.closed).toBe(false);
      expect(Number((await infoFields(p, 'stats')).evicted_clients)).toBe(before + 1);
      expect(await callOnce(p, 'PING')).toEqual(new SimpleString('PONG'));
    } finally {
      for (const c of [exempt, small, hog]) c.socket.destroy();
      await callOnce(p, 'CONFIG', 'SET', 'maxmemory-clients', '0');
    }
  });
});
