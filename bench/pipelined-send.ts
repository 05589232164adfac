// A bulk loader for the bench scenarios: commands written pipelined as raw RESP over one socket,
// with a bound on the unanswered ones; no round trip per command.
import net from 'node:net';

/** No byte from the server for this long while commands are unanswered: it is hung, not slow. */
const IDLE_TIMEOUT_MS = 60_000;

/**
 * Sends `commands` commands, `batch(from, to)` giving the RESP text of commands [from, to), over
 * one connection, `batchCommands` a write, with at most 64 writes' commands unanswered (enough to
 * keep the server busy, bounded so its output buffer stays small). Every reply must be one line
 * (+OK, :n); an error reply rejects with its text.
 */
export function sendPipelined(
  port: number,
  commands: number,
  batch: (from: number, to: number) => string,
  batchCommands = 500,
  idleTimeoutMs = IDLE_TIMEOUT_MS,
): Promise<void> {
  const maxInFlight = 64 * batchCommands;
  return new Promise((resolve, reject) => {
    if (commands === 0) return resolve();
    const socket = net.connect({ port, host: '127.0.0.1' });
    let sent = 0;
    let answered = 0;
    let atLineStart = true;
    let waitingForDrain = false;
    let failed = false;
    const fail = (err: Error): void => {
      failed = true;
      socket.destroy();
      reject(err);
    };
    const pump = (): void => {
      while (!waitingForDrain && sent < commands && sent - answered < maxInFlight) {
        const to = Math.min(commands, sent + batchCommands);
        const flushed = socket.write(batch(sent, to));
        sent = to;
        if (!flushed) {
          waitingForDrain = true;
          socket.once('drain', () => {
            waitingForDrain = false;
            pump();
          });
        }
      }
    };
    socket.once('error', (err) => fail(err));
    socket.setTimeout(idleTimeoutMs, () => fail(new Error(`port ${port}: no reply for ${idleTimeoutMs} ms with ${sent - answered} commands unanswered`)));
    socket.once('connect', pump);
    socket.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (atLineStart && chunk[0] === 0x2d) return fail(new Error(`port ${port}: ${chunk.subarray(1, chunk.indexOf(13)).toString()}`));
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) {
        answered++;
        if (i + 1 < chunk.length && chunk[i + 1] === 0x2d) return fail(new Error(`port ${port}: ${chunk.subarray(i + 2, chunk.indexOf(13, i + 1)).toString()}`));
      }
      atLineStart = chunk[chunk.length - 1] === 10;
      if (answered < commands) return pump();
      socket.end();
      resolve();
    });
  });
}
