// Server and administration commands (Redis group "server").
import { defineCommands } from '../define.js';

const c = defineCommands('server');
const NODE_ONLY = 'not supported through the proxy: run it against a node';

export const serverCommands = [
  c('time', 1, 'loading stale fast', null, 'local'),
  c('info', -1, 'loading stale sentinel', null, 'info'),
  c('dbsize', 1, 'readonly fast', null, 'allShards:sum'),
  c('flushdb', -1, 'write', null, 'allShards:allOk'),
  c('flushall', -1, 'write', null, 'allShards:allOk'),
  c('swapdb', 3, 'write fast', null, 'deny', { deny: 'the proxy serves only db 0' }),
  c('lastsave', 1, 'loading stale fast', null, 'deny', { deny: NODE_ONLY }),
  c('shutdown', -1, 'admin noscript loading stale no_multi sentinel allow_busy', null, 'deny', { deny: NODE_ONLY }),
  c('monitor', 1, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
  c('debug', -2, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
  c('command', -1, 'loading stale sentinel', null, 'local', {
    subs: [
      c('command|count', 2, 'loading stale', null, 'local'),
      c('command|info', -2, 'loading stale', null, 'local'),
      c('command|getkeys', -4, 'loading stale', null, 'local'),
      c('command|getkeysandflags', -4, 'loading stale', null, 'local'),
      c('command|list', -2, 'loading stale', null, 'local'),
      c('command|docs', -2, 'loading stale', null, 'local'),
      c('command|help', 2, 'loading stale', null, 'local'),
    ],
  }),
  c('config', -2, '', null, 'deny', {
    deny: NODE_ONLY,
    subs: [
      c('config|get', -3, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('config|set', -4, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('config|resetstat', 2, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('config|rewrite', 2, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('config|help', 2, 'loading stale', null, 'local'),
    ],
  }),
  c('acl', -2, '', null, 'deny', {
    deny: NODE_ONLY,
    subs: [
      c('acl|cat', -2, 'noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|deluser', -3, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|dryrun', -4, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|genpass', -2, 'noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|getuser', 3, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|list', 2, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|load', 2, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|log', -2, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|save', 2, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|setuser', -3, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|users', 2, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|whoami', 2, 'noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('acl|help', 2, 'loading stale', null, 'deny', { deny: NODE_ONLY }),
    ],
  }),
  c('slowlog', -2, '', null, 'deny', {
    deny: NODE_ONLY,
    subs: [
      c('slowlog|get', -2, 'admin loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('slowlog|len', 2, 'admin loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('slowlog|reset', 2, 'admin loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('slowlog|help', 2, 'loading stale', null, 'local'),
    ],
  }),
  c('latency', -2, '', null, 'deny', {
    deny: NODE_ONLY,
    subs: [
      c('latency|latest', 2, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('latency|history', 3, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('latency|reset', -2, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('latency|histogram', -2, 'admin noscript loading stale', null, 'deny', { deny: NODE_ONLY }),
      c('latency|help', 2, 'loading stale', null, 'local'),
    ],
  }),
  c('memory', -2, '', null, 'single', {
    subs: [
      c('memory|usage', -3, 'readonly', [2, 2, 1], 'single'),
      c('memory|stats', 2, '', null, 'deny', { deny: NODE_ONLY }),
      c('memory|purge', 2, '', null, 'deny', { deny: NODE_ONLY }),
      c('memory|malloc-stats', 2, '', null, 'deny', { deny: NODE_ONLY }),
      c('memory|help', 2, 'loading stale', null, 'local'),
    ],
  }),
];
