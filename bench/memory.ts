// Memory scenario: RSS of a fresh server before and after loading N small string keys
// (`SET key:<i> v<i>`) through one pipelined raw socket; DBSIZE confirms the load.
import { readFile } from 'node:fs/promises';
import { encodeCommand, sendLineCommand } from './net-util.js';
import { sendPipelined } from './pipelined-send.js';
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

/** SETs per pipelined write. */
const BATCH_COMMANDS = 1000;

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
 * Writes SET key:<i> v<i> for i < keys over one pipelined connection (bench/pipelined-send.ts);
 * an error reply to any SET rejects.
 */
export function loadStringKeys(port: number, keys: number): Promise<void> {
  return sendPipelined(port, keys, setBatch, BATCH_COMMANDS);
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
