// MEMORY STATS, MEMORY PURGE and MEMORY MALLOC-STATS (MEMORY USAGE lives with the other server
// commands). The node's allocator is V8's heap, so the figures are the ones the node can know:
// the used-memory estimate maxmemory works with (node/eviction.ts), split as Redis splits it, and
// V8's own heap statistics where Redis shows jemalloc's.
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { DICT_ENTRY_BYTES } from '../eviction.js';
import { existingScriptRunner } from '../scripting/runner.js';
import type { Session } from '../session.js';
import type { HandlerMap } from './handler.js';

// The used-memory estimate counts keys as Redis does (keyMemoryUsage: a dict entry per key, the
// key's sds, the value), so the overheads are counted the same way: a dict entry per key, one per
// key with a TTL, and a pointer per key in the slot index (Redis keeps one only in cluster mode).
const SLOT_INDEX_BYTES = 8;

/** MEMORY STATS: Redis 7.0's fields in its order (a map in RESP3). */
function memoryStatsCommand(s: Session): void {
  const server = s.server;
  const used = server.eviction.usedMemory();
  const peak = Math.max(server.eviction.peakMemory, used);
  const startup = server.eviction.startupMemory;
  let replicaBuffers = 0;
  let clientBuffers = 0;
  for (const c of server.sessions) {
    const bytes = c.w.length + c.socket.writableLength + c.decoder.pendingBytes;
    if (server.replication.replicas.isReplica(c)) replicaBuffers += bytes;
    else clientBuffers += bytes;
  }
  const backlog = server.replication.backlog?.size ?? 0;
  const lua = existingScriptRunner(server)?.bodyBytes ?? 0;
  let overhead = startup + backlog + replicaBuffers + clientBuffers + lua;
  let keys = 0;
  const dbs = server.dbs.filter((db) => db.size > 0).map((db) => {
    const main = db.size * DICT_ENTRY_BYTES;
    const expires = db.visibleVolatileCount * DICT_ENTRY_BYTES;
    const slotToKeys = db.size * SLOT_INDEX_BYTES;
    overhead += main + expires + slotToKeys;
    keys += db.size;
    return { id: db.id, main, expires, slotToKeys };
  });
  const dataset = Math.max(0, used - overhead);
  const net = used - startup;
  const heap = getHeapStatistics();
  const allocated = heap.used_heap_size + heap.external_memory;
  const active = heap.total_heap_size + heap.external_memory;
  const resident = heap.total_physical_size + heap.external_memory;
  const rss = process.memoryUsage.rss();
  const w = s.w;
  const int = (name: string, n: number) => {
    w.bulk(name);
    w.integer(n);
  };
  const ratio = (name: string, n: number) => {
    w.bulk(name);
    w.double(n);
  };
  w.map(27 + dbs.length);
  int('peak.allocated', peak);
  int('total.allocated', used);
  int('startup.allocated', startup);
  int('replication.backlog', backlog);
  int('clients.slaves', replicaBuffers);
  int('clients.normal', clientBuffers);
  int('cluster.links', 0); // no cluster bus: the coordinator talks to nodes over client connections
  int('aof.buffer', 0); // the AOF is written as commands arrive (node/persistence/aof.ts)
  int('lua.caches', lua);
  int('functions.caches', 0);
  for (const d of dbs) {
    w.bulk(`db.${d.id}`);
    w.map(3);
    int('overhead.hashtable.main', d.main);
    int('overhead.hashtable.expires', d.expires);
    int('overhead.hashtable.slot-to-keys', d.slotToKeys);
  }
  int('overhead.total', overhead);
  int('keys.count', keys);
  int('keys.bytes-per-key', keys === 0 ? 0 : Math.floor(net / keys));
  int('dataset.bytes', dataset);
  ratio('dataset.percentage', net <= 0 ? 0 : (dataset * 100) / net);
  ratio('peak.percentage', (used * 100) / peak);
  int('allocator.allocated', allocated);
  int('allocator.active', active);
  int('allocator.resident', resident);
  ratio('allocator-fragmentation.ratio', active / Math.max(1, allocated));
  int('allocator-fragmentation.bytes', active - allocated);
  ratio('allocator-rss.ratio', resident / Math.max(1, active));
  int('allocator-rss.bytes', resident - active);
  ratio('rss-overhead.ratio', rss / Math.max(1, resident));
  int('rss-overhead.bytes', rss - resident);
  ratio('fragmentation', rss / Math.max(1, used));
  int('fragmentation.bytes', rss - used);
}

/** MEMORY MALLOC-STATS: V8's heap spaces (Redis prints jemalloc's report here). */
function mallocStatsCommand(s: Session): void {
  const lines = ['___ Begin V8 heap statistics ___'];
  const h = getHeapStatistics();
  for (const [k, v] of Object.entries(h)) lines.push(`${k}: ${v}`);
  for (const space of getHeapSpaceStatistics()) {
    lines.push(`${space.space_name}: size ${space.space_size} used ${space.space_used_size} available ${space.space_available_size} physical ${space.physical_space_size}`);
  }
  lines.push('--- End V8 heap statistics ---');
  s.w.bulk(`${lines.join('\n')}\n`);
}

export const memoryHandlers: HandlerMap = {
  'memory|stats': memoryStatsCommand,
  // Redis without jemalloc answers OK and does nothing; V8 returns freed pages itself after its
  // collections, and a collection cannot be asked for without --expose-gc.
  'memory|purge': (s) => s.w.ok(),
  'memory|malloc-stats': mallocStatsCommand,
};
