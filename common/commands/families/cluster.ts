// Slot ownership commands of cluster mode (node directive `slot-ownership yes`): ASKING, as in
// Redis Cluster, and TESSERA.SLOTS, the coordinator's way of telling a node which slots it owns,
// migrates out or imports. See docs/compatibility.md "Slot ownership" for the syntax.
import { defineCommands } from '../define.js';

const c = defineCommands('cluster');
// The coordinator talks to nodes directly; a client of the proxy must never change ownership, and
// ASKING only makes sense on a connection to one node (the proxy sends it itself after -ASK).
const COORDINATOR_ONLY = 'slot ownership is set by the coordinator on the nodes, never through the proxy';
const MOVER_ONLY = 'sent by a node moving a slot to the node importing it, never through the proxy';
const NODE_ONLY = 'ASKING is sent by the proxy itself to the node a -ASK names';

export const clusterCommands = [
  c('asking', 1, 'fast', null, 'deny', { deny: NODE_ONLY }),
  c('tessera.slots', -2, '', null, 'deny', {
    deny: COORDINATOR_ONLY,
    subs: [
      // Not `write`: ownership changes must reach a replica, an unconfirmed master or a node over
      // its memory limit; the handler propagates them itself.
      c('tessera.slots|set', -5, 'admin noscript loading stale', null, 'deny', { deny: COORDINATOR_ONLY }),
      c('tessera.slots|confirm', 3, 'admin noscript loading stale', null, 'deny', { deny: COORDINATOR_ONLY }),
      c('tessera.slots|get', 2, 'admin noscript loading stale', null, 'deny', { deny: COORDINATOR_ONLY }),
      c('tessera.slots|stats', 3, 'admin noscript loading stale', null, 'deny', { deny: COORDINATOR_ONLY }),
    ],
  }),
  // The mover (node/cluster/mover.ts): run on the source by the coordinator. MIGRATE SLOT is not
  // `write`: the DELs of moved keys are propagated by the mover itself, as expiries are.
  c('tessera.migrate', -2, '', null, 'deny', {
    deny: COORDINATOR_ONLY,
    subs: [
      c('tessera.migrate|slot', -4, 'admin noscript no_multi', null, 'deny', { deny: COORDINATOR_ONLY }),
      c('tessera.migrate|status', 2, 'admin noscript loading stale', null, 'deny', { deny: COORDINATOR_ONLY }),
      c('tessera.migrate|throttle', -2, 'admin noscript loading stale', null, 'deny', { deny: COORDINATOR_ONLY }),
    ],
  }),
  // Sent by a source's mover to the target (node/cluster/import.ts): small keys in batches, big
  // keys in chunks. No ASKING needed: each checks itself that its keys' slot is importing.
  c('tessera.import', -3, '', null, 'deny', {
    deny: MOVER_ONLY,
    subs: [
      c('tessera.import|chunk', -6, 'write admin noscript', [2, 2, 1], 'deny', { deny: MOVER_ONLY }),
      c('tessera.import|commit', -5, 'write admin noscript', [2, 2, 1], 'deny', { deny: MOVER_ONLY }),
      c('tessera.import|abort', 3, 'write admin noscript', [2, 2, 1], 'deny', { deny: MOVER_ONLY }),
      c('tessera.import|restore', -5, 'write admin noscript', [2, 2, 1], 'deny', { deny: MOVER_ONLY }),
      // KEEP|REPLACE, then key abs-ms payload triples: keys at 3, 6, … (the last one 3 from the end).
      c('tessera.import|restore-batch', -6, 'write admin noscript', [3, -3, 3], 'deny', { deny: MOVER_ONLY }),
    ],
  }),
];
