// Keyspace commands (Redis group "generic").
import { defineCommands } from '../define.js';

const c = defineCommands('generic');
const ADMIN = 'not supported through the proxy: run it against a node';

export const genericCommands = [
  c('del', -2, 'write', [1, -1, 1], 'perKey:sum'),
  c('unlink', -2, 'write fast', [1, -1, 1], 'perKey:sum'),
  c('exists', -2, 'readonly fast', [1, -1, 1], 'perKey:sum'),
  c('touch', -2, 'readonly fast', [1, -1, 1], 'perKey:sum'),
  c('type', 2, 'readonly fast', [1, 1, 1], 'single'),
  c('expire', -3, 'write fast', [1, 1, 1], 'single'),
  c('pexpire', -3, 'write fast', [1, 1, 1], 'single'),
  c('expireat', -3, 'write fast', [1, 1, 1], 'single'),
  c('pexpireat', -3, 'write fast', [1, 1, 1], 'single'),
  c('expiretime', 2, 'readonly fast', [1, 1, 1], 'single'),
  c('pexpiretime', 2, 'readonly fast', [1, 1, 1], 'single'),
  c('ttl', 2, 'readonly fast', [1, 1, 1], 'single'),
  c('pttl', 2, 'readonly fast', [1, 1, 1], 'single'),
  c('persist', 2, 'write fast', [1, 1, 1], 'single'),
  c('rename', 3, 'write', [1, 2, 1], 'single'),
  c('renamenx', 3, 'write fast', [1, 2, 1], 'single'),
  c('copy', -3, 'write denyoom', [1, 2, 1], 'single'),
  c('move', 3, 'write fast', [1, 1, 1], 'deny', { deny: 'the proxy serves only db 0' }),
  c('keys', 2, 'readonly', null, 'allShards:concat'),
  c('scan', -2, 'readonly', null, 'scan'),
  c('randomkey', 1, 'readonly', null, 'allShards:random'),
  c('dump', 2, 'readonly', [1, 1, 1], 'single'),
  c('restore', -4, 'write denyoom', [1, 1, 1], 'single'),
  c('migrate', -6, 'write', [3, 3, 1], 'deny', { movable: 'migrate', deny: 'not supported through the proxy (it moves keys to another server): run it against a node' }),
  c('sort', -2, 'write denyoom', [1, 1, 1], 'single', { movable: 'sort' }),
  c('sort_ro', -2, 'readonly', [1, 1, 1], 'single'),
  c('object', -2, '', null, 'single', {
    subs: [
      c('object|encoding', 3, 'readonly', [2, 2, 1], 'single'),
      c('object|refcount', 3, 'readonly', [2, 2, 1], 'single'),
      c('object|idletime', 3, 'readonly', [2, 2, 1], 'single'),
      c('object|freq', 3, 'readonly', [2, 2, 1], 'single'),
      c('object|help', 2, 'loading stale', null, 'local'),
    ],
  }),
  c('slotsinfo', -1, 'readonly admin', null, 'deny', { deny: ADMIN }),
  c('slotsscan', -3, 'readonly admin', null, 'deny', { deny: ADMIN }),
  // Deletes in bounded steps over several event-loop turns; each key propagates as a DEL.
  c('slotsdel', -2, 'write admin noscript no_multi', null, 'deny', { deny: ADMIN }),
];
