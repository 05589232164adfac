// Replication and persistence commands (Redis group "server" for these).
import { defineCommands } from '../define.js';

const c = defineCommands('server');
// WAIT is in Redis's "generic" group.
const cg = defineCommands('generic');
const NODE_ONLY = 'not supported through the proxy: run it against a node';
const PROXY_ONLY = 'sent by the proxy itself to a master for WAIT, never through the proxy';

export const replicationCommands = [
  c('save', 1, 'admin noscript no_async_loading no_multi', null, 'deny', { deny: NODE_ONLY }),
  c('bgsave', -1, 'admin noscript no_async_loading', null, 'deny', { deny: NODE_ONLY }),
  c('bgrewriteaof', 1, 'admin noscript no_async_loading', null, 'deny', { deny: NODE_ONLY }),
  c('replicaof', 3, 'admin noscript stale no_async_loading', null, 'deny', { deny: NODE_ONLY }),
  c('slaveof', 3, 'admin noscript stale no_async_loading', null, 'deny', { deny: NODE_ONLY }),
  c('role', 1, 'noscript loading stale fast', null, 'deny', { deny: NODE_ONLY }),
  c('replconf', -1, 'admin noscript loading stale allow_busy', null, 'deny', { deny: NODE_ONLY }),
  c('psync', -3, 'admin noscript no_async_loading no_multi', null, 'deny', { deny: NODE_ONLY }),
  c('sync', 1, 'admin noscript no_async_loading no_multi', null, 'deny', { deny: NODE_ONLY }),
  // The proxy answers WAIT itself from the masters its client wrote to (proxy/wait.ts).
  cg('wait', 3, 'noscript', null, 'local'),
  // WAIT in two steps for the proxy (node/handlers/wait-offset.ts): the position its client's writes
  // reached, read on their link, then a wait for replicas on a link of its own.
  c('tessera.reploffset', 1, 'noscript loading stale fast', null, 'deny', { deny: PROXY_ONLY }),
  c('tessera.waitoffset', 5, 'noscript', null, 'deny', { deny: PROXY_ONLY }),
];
