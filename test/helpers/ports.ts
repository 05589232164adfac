// Free loopback ports chosen at run time (bind port 0, read it, close).
import { createServer } from 'node:net';

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
