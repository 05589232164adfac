// Replication and persistence commands (Redis group "server" for these).
import { defineCommands } from '../define.js';

const c = defineCommands('server');
// WAIT is in Redis's "generic" group.
const cg = defineCommands('generic');
const NODE_ONLY = 'not supported through the proxy: run it against a node';

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
  cg('wait', 3, 'noscript', null, 'deny', { deny: NODE_ONLY }),
];
