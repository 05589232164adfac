// Small socket helpers for the harness: free ports, one-shot RESP commands with one-line
// replies (PING, DBSIZE, FLUSHALL), and waiting for a server to answer PING. Not a client library.
import net from 'node:net';

// Ports already handed out by this process: a released port can come back from the next call
// before anything listens on it (a proxy once got the same port for clients and admin).
const handedOut = new Set<number>();

/** Asks the kernel for a free port (listen on 0, read it, close), never the same one twice. */
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
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Encodes a command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

/**
 * Sends one command and resolves with its reply line without the type byte and CRLF
 * (`+PONG` → `PONG`, `:42` → `42`); rejects on an error reply, timeout or socket error.
 * Only for commands whose reply is a single line.
 */
export function sendLineCommand(port: number, args: readonly string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let received = '';
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`${args[0]} timed out after ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(encodeCommand(args)));
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      const end = received.indexOf('\r\n');
      if (end < 0) return;
      socket.destroy();
      const line = received.slice(0, end);
      if (line.startsWith('-')) reject(new Error(`${args[0]}: ${line.slice(1)}`));
      else resolve(line.slice(1));
    });
  });
}

/**
 * Polls PING until the server answers PONG, the deadline passes, or `isDead()` says the
 * process already exited (then there is no point waiting).
 */
export async function waitForPong(port: number, deadlineMs: number, isDead: () => boolean): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (isDead()) throw new Error('process exited before answering PING');
    try {
      if ((await sendLineCommand(port, ['PING'], 500)) === 'PONG') return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no PONG on port ${port} within ${deadlineMs} ms (${String(lastError)})`);
}
