// Replication and persistence commands (Redis group "server" for these).
import { defineCommands } from '../define.js';

const c = defineCommands('server');
const NODE_ONLY = 'not supported through the proxy: run it against a node';

export const replicationCommands = [
  c('save', 1, 'admin noscript no_async_loading no_multi', null, 'deny', { deny: NODE_ONLY }),
  c('bgsave', -1, 'admin noscript no_async_loading', null, 'deny', { deny: NODE_ONLY }),
  c('bgrewriteaof', 1, 'admin noscript no_async_loading', null, 'deny', { deny: NODE_ONLY }),
];
