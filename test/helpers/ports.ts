// Free loopback ports chosen at run time (bind port 0, read it, close).
import { type Server, createServer } from 'node:net';

// Ports handed out by this process: a port released by one call can come back from the next one
// before anything listens on it, so callers asking for two ports could get the same one twice.
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** `count` consecutive free loopback ports (tessera up numbers its nodes from --port-base). */
export async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + count > 65535) continue;
    const held: Server[] = [];
    let ok = true;
    for (let p = base; p < base + count && ok; p++) {
      const srv = createServer();
      ok = await new Promise<boolean>((r) => {
        srv.once('error', () => r(false));
        srv.listen(p, '127.0.0.1', () => r(true));
      });
      if (ok) held.push(srv);
    }
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
    if (ok) return base;
  }
  throw new Error('no run of free ports');
}
