// Memory scenario: RSS of a fresh server before and after loading N small string keys
// (`SET key:<i> v<i>`) through one pipelined raw socket; DBSIZE confirms the load.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { encodeCommand, sendLineCommand } from './net-util.js';
import type { StartOptions, Target } from './targets.js';

export interface MemoryResult {
  target: string;
  keys: number;
  dbsize: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** (after − before) / keys */
  bytesPerKey: number;
  loadSeconds: number;
}

const BATCH_COMMANDS = 1000;
/** Unanswered commands allowed in flight: enough to keep the server busy, bounded so its output buffer stays small. */
const MAX_IN_FLIGHT = 64 * BATCH_COMMANDS;
const OK_REPLY_BYTES = '+OK\r\n'.length;

/** Sum of VmRSS over the given pids, in bytes, from /proc/<pid>/status. */
export async function rssBytes(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) total += parseVmRssBytes(await readFile(`/proc/${pid}/status`, 'utf8'));
  return total;
}

/** Extracts VmRSS (reported in kB) from a /proc/<pid>/status text. */
export function parseVmRssBytes(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error('VmRSS not found in /proc status');
  return Number(match[1]) * 1024;
}

/** The RESP bytes of SET key:<i> v<i> for i in [from, to). */
function setBatch(from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += encodeCommand(['SET', `key:${i}`, `v${i}`]);
  return out;
}

/**
 * Writes SET key:<i> v<i> for i < keys over one connection, keeping at most MAX_IN_FLIGHT
 * unanswered. Every reply must be +OK: the reply byte count is checked at the end.
 */
export function loadStringKeys(port: number, keys: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let sent = 0;
    let answered = 0;
    let replyBytes = 0;
    let firstChunk = '';
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    let waitingForDrain = false;
    const pump = (): void => {
      if (waitingForDrain) return;
      while (sent < keys && sent - answered < MAX_IN_FLIGHT) {
        const to = Math.min(keys, sent + BATCH_COMMANDS);
        const flushed = socket.write(setBatch(sent, to));
        sent = to;
        if (!flushed) {
          waitingForDrain = true;
          socket.once('drain', () => {
            waitingForDrain = false;
            pump();
          });
          return;
        }
      }
    };
    socket.once('error', fail);
    socket.once('connect', pump);
    socket.on('data', (chunk: Buffer) => {
      if (firstChunk === '') firstChunk = chunk.subarray(0, 200).toString('utf8');
      replyBytes += chunk.length;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) answered++;
      if (answered < keys) return pump();
      socket.end();
      if (replyBytes !== keys * OK_REPLY_BYTES) fail(new Error(`not every SET answered +OK (first replies: ${JSON.stringify(firstChunk)})`));
      else resolve();
    });
  });
}

/** Starts a fresh `target`, measures RSS empty and after loading `keys` keys, stops it. */
export async function measureMemory(target: Target, keys: number, opts: StartOptions): Promise<MemoryResult> {
  const running = await target.start(opts);
  try {
    const rssBeforeBytes = await rssBytes(running.pids);
    const started = process.hrtime.bigint();
    await loadStringKeys(running.port, keys);
    const loadSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const dbsize = Number(await sendLineCommand(running.port, ['DBSIZE']));
    if (dbsize !== keys) throw new Error(`${target.name}: DBSIZE ${dbsize} after loading ${keys} keys`);
    const rssAfterBytes = await rssBytes(running.pids);
    return {
      target: target.name,
      keys,
      dbsize,
      rssBeforeBytes,
      rssAfterBytes,
      bytesPerKey: (rssAfterBytes - rssBeforeBytes) / keys,
      loadSeconds,
    };
  } finally {
    await running.stop();
  }
}
