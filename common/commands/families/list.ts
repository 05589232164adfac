// List commands (Redis group "list").
import { defineCommands } from '../define.js';

const c = defineCommands('list');

export const listCommands = [
  c('lpush', -3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('rpush', -3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('lpushx', -3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('rpushx', -3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('lpop', -2, 'write fast', [1, 1, 1], 'single'),
  c('rpop', -2, 'write fast', [1, 1, 1], 'single'),
  c('llen', 2, 'readonly fast', [1, 1, 1], 'single'),
  c('lrange', 4, 'readonly', [1, 1, 1], 'single'),
  c('lindex', 3, 'readonly', [1, 1, 1], 'single'),
  c('lset', 4, 'write denyoom', [1, 1, 1], 'single'),
  c('lrem', 4, 'write', [1, 1, 1], 'single'),
  c('ltrim', 4, 'write', [1, 1, 1], 'single'),
  c('linsert', 5, 'write denyoom', [1, 1, 1], 'single'),
  c('lpos', -3, 'readonly', [1, 1, 1], 'single'),
  c('rpoplpush', 3, 'write denyoom', [1, 2, 1], 'single'),
  c('lmove', 5, 'write denyoom', [1, 2, 1], 'single'),
  c('lmpop', -4, 'write', null, 'single', { movable: 'numkeysAt1' }),
  c('blpop', -3, 'write noscript blocking', [1, -2, 1], 'blocking'),
  c('brpop', -3, 'write noscript blocking', [1, -2, 1], 'blocking'),
  c('brpoplpush', 4, 'write denyoom noscript blocking', [1, 2, 1], 'blocking'),
  c('blmove', 6, 'write denyoom noscript blocking', [1, 2, 1], 'blocking'),
  c('blmpop', -5, 'write blocking', null, 'blocking', { movable: 'numkeysAt2' }),
];
