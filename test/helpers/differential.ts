// Differential testing: the same commands go to a Tessera node and to a real redis-server, and
// the replies must match exactly (types included). One pair of servers is shared per test file.
import { afterAll, beforeAll, expect } from 'vitest';
import { MapValue, type Reply, ReplyErrorValue, SimpleString } from '../../common/resp/reply-decoder.js';
import { RawClient } from './raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from './servers.js';

export interface Pair {
  ours: RawClient;
  redis: RawClient;
  node: ServerHandle;
  redisServer: ServerHandle;
  /** Runs each command on both and expects identical replies; returns our replies. */
  same(...commands: Array<Array<string | number>>): Promise<Reply[]>;
  /** Like same() but arrays in the replies are compared as multisets (hash-table order). */
  sameUnordered(...commands: Array<Array<string | number>>): Promise<Reply[]>;
  /** Runs on both without comparing (setup), returns [ours, redis]. */
  both(...command: Array<string | number>): Promise<[Reply, Reply]>;
}

/** Makes replies printable and comparable (class instances → tagged plain values). */
export function plain(r: Reply): unknown {
  if (r instanceof SimpleString) return `+${r.value}`;
  if (r instanceof ReplyErrorValue) return { error: r.message };
  if (r instanceof MapValue) return { map: r.pairs.map(([k, v]) => [plain(k), plain(v)]) };
  if (Array.isArray(r)) return r.map(plain);
  if (typeof r === 'bigint') return `bigint:${r}`;
  return r;
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return v;
}

/**
 * Starts one node and one redis-server for the calling test file (beforeAll/afterAll) and
 * FLUSHALLs both before use. `extraArgs` go to both servers.
 */
export function usePair(extraArgs: string[] = []): Pair {
  const pair = {} as Pair;
  beforeAll(async () => {
    // allSettled, not all: when one fails to start, the other is still kept so afterAll stops it.
    const [node, redisServer] = await Promise.allSettled([startNode(extraArgs), startRedis(extraArgs)]);
    if (node.status === 'fulfilled') pair.node = node.value;
    if (redisServer.status === 'fulfilled') pair.redisServer = redisServer.value;
    if (node.status === 'rejected') throw node.reason;
    if (redisServer.status === 'rejected') throw redisServer.reason;
    pair.ours = await RawClient.connect(pair.node.port);
    pair.redis = await RawClient.connect(pair.redisServer.port);
  });
  afterAll(async () => {
    pair.ours?.close();
    pair.redis?.close();
    await stopAll(pair.node, pair.redisServer);
  });
  pair.both = async (...command) => Promise.all([pair.ours.call(...command), pair.redis.call(...command)]);
  const run = async (unordered: boolean, commands: Array<Array<string | number>>) => {
    const out: Reply[] = [];
    for (const cmd of commands) {
      const [a, b] = await pair.both(...cmd);
      const pa = plain(a);
      const pb = plain(b);
      expect(unordered ? sortDeep(pa) : pa, `reply to ${JSON.stringify(cmd)}`).toEqual(unordered ? sortDeep(pb) : pb);
      out.push(a);
    }
    return out;
  };
  pair.same = (...commands) => run(false, commands);
  pair.sameUnordered = (...commands) => run(true, commands);
  return pair;
}
