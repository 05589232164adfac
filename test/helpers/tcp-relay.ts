// A real TCP relay on a free loopback port to another host:port, which a test can sever: every
// open connection is destroyed and new ones are black-holed (accepted, never forwarded, never
// answered), as a network partition looks to the client — its requests time out, nothing is
// refused. Used to cut one process (a proxy) off from etcd while the rest of the cluster keeps it.
import { type Server, type Socket, connect, createServer } from 'node:net';
import { freePort } from './ports.js';

export interface TcpRelay {
  port: number;
  /** Connections currently relayed (both directions open). */
  readonly open: number;
  /** Destroys every relayed connection; from now on connections are held without an answer. */
  sever(): void;
  /** Relays new connections again (held ones stay dead). */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpRelay> {
  const port = await freePort();
  const pairs = new Set<[Socket, Socket]>();
  // Black-holed sockets: kept (bounded by what the client opens) so they can be closed at the end.
  const held = new Set<Socket>();
  let severed = false;
  const server: Server = createServer((client) => {
    client.on('error', () => {});
    if (severed) {
      held.add(client);
      client.once('close', () => held.delete(client));
      client.pause();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', end);
    upstream.once('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    get open() {
      return pairs.size;
    },
    sever() {
      severed = true;
      for (const [a, b] of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    restore() {
      severed = false;
    },
    async close() {
      severed = true;
      for (const [a, b] of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      for (const s of held) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
