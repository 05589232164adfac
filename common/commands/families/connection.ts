// Connection commands (Redis group "connection").
import { defineCommands } from '../define.js';

/** Invalidations come from the node that holds each key, over the client's own connection. */
const TRACKING_DENY = 'not supported through the proxy (each node tracks its own keys): connect to a node';

const c = defineCommands('connection');

export const connectionCommands = [
  c('ping', -1, 'fast sentinel', null, 'local'),
  c('echo', 2, 'fast', null, 'local'),
  c('quit', -1, 'noscript loading stale fast no_auth allow_busy', null, 'local'),
  c('reset', 1, 'noscript loading stale fast no_auth allow_busy', null, 'local'),
  c('auth', -2, 'noscript loading stale fast no_auth sentinel allow_busy', null, 'local'),
  c('hello', -1, 'noscript loading stale fast no_auth sentinel allow_busy', null, 'local'),
  c('select', 2, 'loading stale fast', null, 'local'),
  c('client', -2, '', null, 'local', {
    subs: [
      c('client|id', 2, 'noscript loading stale', null, 'local'),
      c('client|setname', 3, 'noscript loading stale', null, 'local'),
      c('client|getname', 2, 'noscript loading stale', null, 'local'),
      c('client|setinfo', 4, 'noscript loading stale', null, 'local'),
      c('client|list', -2, 'admin noscript loading stale', null, 'local'),
      c('client|info', 2, 'noscript loading stale', null, 'local'),
      c('client|kill', -3, 'admin noscript loading stale', null, 'local'),
      c('client|pause', -3, 'admin noscript loading stale', null, 'local'),
      c('client|unpause', 2, 'admin noscript loading stale', null, 'local'),
      c('client|unblock', -3, 'admin noscript loading stale', null, 'local'),
      c('client|no-evict', 3, 'admin noscript loading stale', null, 'local'),
      c('client|reply', 3, 'noscript loading stale', null, 'local'),
      c('client|tracking', -3, 'noscript loading stale', null, 'deny', { deny: TRACKING_DENY }),
      c('client|caching', 3, 'noscript loading stale', null, 'deny', { deny: TRACKING_DENY }),
      c('client|getredir', 2, 'noscript loading stale', null, 'deny', { deny: TRACKING_DENY }),
      c('client|trackinginfo', 2, 'noscript loading stale', null, 'deny', { deny: TRACKING_DENY }),
      c('client|help', 2, 'loading stale', null, 'local'),
    ],
  }),
];
