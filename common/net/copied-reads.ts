// Socket reads into one reused buffer, each read handed on as a copy exactly its size.
//
// Why: for a plain socket Node allocates a new ArrayBuffer for every read (a 64 KiB backing store,
// shrunk to the bytes read). A proxy or node serving small requests reads once per request or
// batch, so those ArrayBuffers are most of what it allocates, and sweeping them is most of each
// young-generation pause (V8's sweep_array_buffers: 1.15 of 1.51 ms per scavenge, measured in
// docs/performance.md). Node's `onread` option reads into a buffer we own instead; the bytes are
// then copied with Buffer.allocUnsafe, which for a read under 4 KiB takes a slice of Node's shared
// 8 KiB pool: no ArrayBuffer per read. The copy keeps every consumer's contract unchanged: a
// 'data' chunk stays valid as long as anyone holds it (requests kept for redirects, partial frames).
//
// What a kept chunk holds: a slice of a pool slab keeps the whole 8 KiB slab alive. Slabs fill
// with consecutive reads of every socket, so this costs memory only when one chunk of a slab
// outlives all the others (a client that stops mid-request, a request held behind a blocking
// one): at most one slab per such chunk, bounded by the clients, as the per-client buffers are.
//
// Node offers `onread` only to net.connect(); for accepted sockets, acceptWithCopiedReads()
// builds each client's Socket itself (net.Server's own accept path does the same with the same
// options, minus onread).
import { Socket, type Server } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { copyBytes } from '../bytes.js';

/** One read buffer for the whole process: each read is copied out before its callback returns. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Emits what was read into READ_BUFFER as an ordinary 'data' chunk (`this` is the socket). */
function emitCopy(this: Socket, nread: number, buf: Uint8Array): boolean {
  const chunk = Buffer.allocUnsafe(nread);
  copyBytes(buf as Buffer, 0, nread, chunk, 0);
  this.emit('data', chunk);
  // True: keep reading. A listener that wants a pause calls socket.pause(), which for an `onread`
  // socket stops the handle's reads itself (until resume()).
  return true;
}

/** The `onread` option for net.connect(): 'data' chunks as before, without an ArrayBuffer per read. */
export function copiedReadsOption(): { buffer: Uint8Array; callback: (nread: number, buf: Uint8Array) => boolean } {
  return { buffer: READ_BUFFER, callback: emitCopy as (nread: number, buf: Uint8Array) => boolean };
}

interface ListenHandle {
  onconnection: (err: number, clientHandle: unknown) => void;
}

interface ServerInternals {
  _handle: ListenHandle | null;
  _connections: number;
  maxConnections: number;
  /** createServer's options, as net.Server keeps them (keepAliveInitialDelay in seconds). */
  noDelay: boolean;
  keepAlive: boolean;
  keepAliveInitialDelay: number;
}

/**
 * Makes a listening `server` create its accepted sockets with copied reads. Call after 'listening'.
 * Accept errors, maxConnections and the server's noDelay and keepAlive options behave as in net.Server.
 */
export function acceptWithCopiedReads(server: Server): void {
  const internals = server as unknown as ServerInternals;
  const handle = internals._handle;
  if (handle === null) throw new Error('acceptWithCopiedReads: the server is not listening');
  handle.onconnection = (err: number, clientHandle: unknown) => {
    if (err) {
      const code = getSystemErrorName(err);
      server.emit('error', Object.assign(new Error(`accept ${code}`), { errno: err, code, syscall: 'accept' }));
      return;
    }
    if (internals.maxConnections && internals._connections >= internals.maxConnections) {
      (clientHandle as { close(): void }).close();
      return;
    }
    const socket = new Socket({ handle: clientHandle, readable: true, writable: true, onread: copiedReadsOption() } as never);
    if (internals.noDelay) socket.setNoDelay(true);
    if (internals.keepAlive) socket.setKeepAlive(true, internals.keepAliveInitialDelay * 1000);
    internals._connections++;
    // net.Socket counts itself out of the server when destroyed through these two fields.
    const owned = socket as unknown as { server: Server; _server: Server };
    owned.server = server;
    owned._server = server;
    server.emit('connection', socket);
  };
}
