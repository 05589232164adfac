// Fuzzing a real node: fast-check streams of random table commands with random arguments are
// pipelined while other connections send byte garbage. Every command gets exactly one reply, no
// command connection is ever reset, and the process still answers PING at the end.
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../common/commands/table.js';
import { encodeCommand } from '../../../common/resp/encode.js';
import { INCOMPLETE, scanFrame } from '../../../common/resp/frame-scanner.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

// Commands that stop the node, block, change reply counting (pub/sub, CLIENT REPLY), stall every
// client (CLIENT PAUSE), kill other connections, rewrite configuration, or turn the connection
// into a replication link (SYNC/PSYNC stream an RDB; REPLICAOF makes the node a replica) are not fuzzed,
// nor PFSELFTEST (10 M elements: seconds of work per call).
const EXCLUDED = new Set([
  'shutdown', 'monitor', 'debug', 'quit', 'client|pause', 'client|kill', 'client|reply', 'config|set',
  'config|rewrite', 'save', 'bgsave', 'bgrewriteaof', 'subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe',
  'ssubscribe', 'sunsubscribe', 'sync', 'psync', 'replconf', 'replicaof', 'slaveof', 'wait', 'pfselftest',
]);

/** Command name words ([name] or [container, sub]) the fuzzer may send. */
function fuzzableNames(): string[][] {
  const out: string[][] = [];
  for (const [name, spec] of COMMANDS) {
    if (spec.flags.has('blocking')) continue;
    if (spec.subcommands) {
      for (const [sub, subSpec] of spec.subcommands) if (!EXCLUDED.has(subSpec.name)) out.push([name, sub]);
      out.push([name]); // bare, or followed by random words as an unknown subcommand
    } else if (!EXCLUDED.has(name)) {
      out.push([name]);
    }
  }
  return out;
}

const KEYS = ['k1', 'k2', 'k3', '{t}a', '{t}b', 'bin\x00\xff\r\n'];
const WORDS = [
  'NX', 'XX', 'EX', 'PX', 'KEEPTTL', 'GET', 'WITHSCORES', 'LIMIT', 'COUNT', 'MATCH', 'LEFT', 'RIGHT', 'BEFORE',
  'AFTER', 'REV', 'BYSCORE', 'BYLEX', 'STORE', 'BY', 'ALPHA', 'DESC', 'WEIGHTS', 'AGGREGATE', 'MIN', 'MAX', 'SUM',
  'TYPE', 'REPLACE', 'DB', 'GT', 'LT', 'CH', 'INCR', 'IDX', 'LEN', 'MINMATCHLEN', 'WITHMATCHLEN', 'RANK', 'MAXLEN',
  '-inf', '+inf', '(1', '[a', '-', '+', '*', '#', 'nosort', '',
];
const EXTREME_INTS = ['9223372036854775807', '-9223372036854775808', '9223372036854775808', '18446744073709551616', '-0', '00', '1e3', ' 1', '0x10'];
const FLOATS = ['0.5', '-1.5e10', '1e308', '1e309', 'inf', '-inf', 'nan', '3.0', '.5', '5.', '1e-320'];

const arg = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 4, arbitrary: fc.integer({ min: -1000, max: 1000 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom(...EXTREME_INTS) },
  { weight: 2, arbitrary: fc.constantFrom(...FLOATS) },
  { weight: 4, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 12 }).map((u) => Buffer.from(u).toString('latin1')) },
);

function commandArb(names: string[][]) {
  return fc.tuple(fc.constantFrom(...names), fc.array(arg, { maxLength: 7 })).map(([name, rest]) => [...name, ...rest]);
}

const garbageToken = fc.oneof(
  fc.uint8Array({ maxLength: 16 }).map((u) => Buffer.from(u)),
  fc.constantFrom('*', '$', '\r\n', '*-1\r\n', '$99999999999\r\n', '*3\r\n', '"', "'", '\\x', ' ', '\n').map((s) => Buffer.from(s, 'latin1')),
);
const garbage = fc.array(garbageToken, { minLength: 1, maxLength: 40 }).map((ts) => Buffer.concat(ts));

/** A socket that counts complete reply frames and notices resets. */
class FrameCounter {
  private buf = Buffer.alloc(0);
  private pos = 0;
  count = 0;
  last = '';
  errors: string[] = [];
  closed = false;
  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
      this.pos = 0;
      for (;;) {
        const end = scanFrame(this.buf, this.pos);
        if (end === INCOMPLETE) break;
        if (this.buf[this.pos] === 0x2d) this.errors.push(this.buf.toString('latin1', this.pos + 1, end - 2));
        this.last = this.buf.toString('latin1', this.pos, end);
        this.pos = end;
        this.count++;
      }
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

let node: ServerHandle;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await stopAll(node);
});

describe('fuzzing a node', () => {
  it('random command streams and garbage: one reply per command, node alive', async () => {
    const names = fuzzableNames();
    expect(names.length).toBeGreaterThan(100);
    const marker = 'fuzz-end-marker';
    const deadline = Date.now() + 15_000;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(commandArb(names), { minLength: 1, maxLength: 120 }), { minLength: 1, maxLength: 3 }),
        fc.array(garbage, { maxLength: 3 }),
        async (streams, garbageInputs) => {
          runs++;
          const junk = await Promise.all(garbageInputs.map(() => open(node.port)));
          const conns = await Promise.all(streams.map(async () => new FrameCounter(await open(node.port))));
          try {
            streams.forEach((cmds, i) => {
              // DISCARD closes a MULTI the stream may have left open, so the marker is not queued.
              const bytes = Buffer.concat([...cmds.map((c) => encodeCommand(c)), encodeCommand(['DISCARD']), encodeCommand(['ECHO', marker])]);
              // Interleave: half of the stream, then garbage elsewhere, then the rest.
              const half = bytes.length >> 1;
              conns[i]!.socket.write(bytes.subarray(0, half));
              garbageInputs.forEach((g, j) => junk[j]!.write(g));
              conns[i]!.socket.write(bytes.subarray(half));
            });
            await Promise.all(conns.map((c, i) => waitFor(() => c.closed || c.last.endsWith(`${marker}\r\n`), {
              timeoutMs: Math.max(1000, deadline - Date.now()), what: `replies on stream ${i}`,
            })));
            if (node.proc.exitCode !== null || node.proc.signalCode !== null) {
              throw new Error(`node died:\n${node.output().split('\n').slice(-15).join('\n')}`);
            }
            conns.forEach((c, i) => {
              expect(c.closed, `stream ${i} was reset`).toBe(false);
              expect(c.count, `one reply per command on stream ${i}`).toBe(streams[i]!.length + 2);
              // Errors are Redis-style ("CODE message"), never a leaked exception.
              for (const e of c.errors) expect(e).toMatch(/^[A-Z]+[A-Z_-]* /);
              for (const e of c.errors) expect(e).not.toMatch(/TypeError|RangeError|ReferenceError|is not a function|undefined/);
            });
          } finally {
            for (const s of junk) s.destroy();
            for (const c of conns) c.socket.destroy();
          }
        },
      ),
      // A crash kills the shared node, so shrinking could not replay: report the first failure as is.
      { numRuns: 150, interruptAfterTimeLimit: 14_000, endOnFailure: true },
    );
    expect(runs).toBeGreaterThan(0);
    expect(node.proc.exitCode).toBeNull();
    const fresh = await RawClient.connect(node.port);
    try {
      expect(await fresh.call('PING')).toEqual(expect.objectContaining({ value: 'PONG' }));
    } finally {
      fresh.close();
    }
  }, 30_000);
});
