// The keyspace redis-benchmark's `-r N` draws from (key:<12 digits>, its default 3-byte value),
// emptied or filled on servers before the cells that need it: a GET cell must read hits, whatever
// ran before it (a GET on an empty keyspace measures the nil path, not a lookup).
import { sendLineCommand } from './net-util.js';
import { sendPipelined } from './pipelined-send.js';

/** Empty: FLUSHALL; filled: every key redis-benchmark can draw is present. */
export type Keyspace = 'empty' | 'filled';

/** redis-benchmark's key for random number i: `key:__rand_int__` with 12 zero-padded digits. */
export const benchKey = (i: number): string => `key:${String(i).padStart(12, '0')}`;
/** redis-benchmark's default value: -d 3 bytes of 'x'. */
const BENCH_VALUE = 'xxx';
const FLUSH_TIMEOUT_MS = 30_000;

function setBatch(from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const key = benchKey(i);
    out += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${BENCH_VALUE.length}\r\n${BENCH_VALUE}\r\n`;
  }
  return out;
}

/** FLUSHALL or a full load on each port, then checks DBSIZE (0, or at least `keys`). */
export async function prepareBackends(ports: readonly number[], keyspace: Keyspace, keys: number): Promise<void> {
  for (const port of ports) {
    if (keyspace === 'empty') await sendLineCommand(port, ['FLUSHALL'], FLUSH_TIMEOUT_MS);
    else await sendPipelined(port, keys, setBatch, 1000);
    const dbsize = Number(await sendLineCommand(port, ['DBSIZE'], FLUSH_TIMEOUT_MS));
    if (keyspace === 'empty' ? dbsize !== 0 : dbsize < keys) throw new Error(`backend on port ${port}: DBSIZE ${dbsize} after preparing the ${keyspace} keyspace`);
  }
}
