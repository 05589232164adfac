// Hash commands (Redis group "hash").
import { defineCommands } from '../define.js';

const c = defineCommands('hash');

export const hashCommands = [
  c('hset', -4, 'write denyoom fast', [1, 1, 1], 'single'),
  c('hsetnx', 4, 'write denyoom fast', [1, 1, 1], 'single'),
  c('hmset', -4, 'write denyoom fast', [1, 1, 1], 'single'),
  c('hget', 3, 'readonly fast', [1, 1, 1], 'single'),
  c('hmget', -3, 'readonly fast', [1, 1, 1], 'single'),
  c('hdel', -3, 'write fast', [1, 1, 1], 'single'),
  c('hlen', 2, 'readonly fast', [1, 1, 1], 'single'),
  c('hstrlen', 3, 'readonly fast', [1, 1, 1], 'single'),
  c('hexists', 3, 'readonly fast', [1, 1, 1], 'single'),
  c('hgetall', 2, 'readonly', [1, 1, 1], 'single'),
  c('hkeys', 2, 'readonly', [1, 1, 1], 'single'),
  c('hvals', 2, 'readonly', [1, 1, 1], 'single'),
  c('hincrby', 4, 'write denyoom fast', [1, 1, 1], 'single'),
  c('hincrbyfloat', 4, 'write denyoom fast', [1, 1, 1], 'single'),
  c('hscan', -3, 'readonly', [1, 1, 1], 'single'),
  c('hrandfield', -2, 'readonly', [1, 1, 1], 'single'),
];
