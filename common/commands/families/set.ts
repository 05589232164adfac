// Set commands (Redis group "set").
import { defineCommands } from '../define.js';

const c = defineCommands('set');

export const setCommands = [
  c('sadd', -3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('srem', -3, 'write fast', [1, 1, 1], 'single'),
  c('smembers', 2, 'readonly', [1, 1, 1], 'single'),
  c('sismember', 3, 'readonly fast', [1, 1, 1], 'single'),
  c('smismember', -3, 'readonly fast', [1, 1, 1], 'single'),
  c('scard', 2, 'readonly fast', [1, 1, 1], 'single'),
  c('spop', -2, 'write fast', [1, 1, 1], 'single'),
  c('srandmember', -2, 'readonly', [1, 1, 1], 'single'),
  c('smove', 4, 'write fast', [1, 2, 1], 'single'),
  c('sinter', -2, 'readonly', [1, -1, 1], 'single'),
  c('sintercard', -3, 'readonly', null, 'single', { movable: 'numkeysAt1' }),
  c('sinterstore', -3, 'write denyoom', [1, -1, 1], 'single'),
  c('sunion', -2, 'readonly', [1, -1, 1], 'single'),
  c('sunionstore', -3, 'write denyoom', [1, -1, 1], 'single'),
  c('sdiff', -2, 'readonly', [1, -1, 1], 'single'),
  c('sdiffstore', -3, 'write denyoom', [1, -1, 1], 'single'),
  c('sscan', -3, 'readonly', [1, 1, 1], 'single'),
];
