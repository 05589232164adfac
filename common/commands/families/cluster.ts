// Slot ownership commands of cluster mode (node directive `slot-ownership yes`): ASKING, as in
// Redis Cluster, and TESSERA.SLOTS, the coordinator's way of telling a node which slots it owns,
// migrates out or imports. See docs/compatibility.md "Slot ownership" for the syntax.
import { defineCommands } from '../define.js';

const c = defineCommands('cluster');
// The coordinator talks to nodes directly; a client of the proxy must never change ownership, and
// ASKING only makes sense on a connection to one node (the proxy sends it itself after -ASK).
const COORDINATOR_ONLY = 'slot ownership is set by the coordinator on the nodes, never through the proxy';
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
    ],
  }),
];
