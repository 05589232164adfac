// String commands (Redis group "string").
import { defineCommands } from '../define.js';

const c = defineCommands('string');

export const stringCommands = [
  c('get', 2, 'readonly fast', [1, 1, 1], 'single'),
  c('set', -3, 'write denyoom', [1, 1, 1], 'single'),
  c('setnx', 3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('setex', 4, 'write denyoom', [1, 1, 1], 'single'),
  c('psetex', 4, 'write denyoom', [1, 1, 1], 'single'),
  c('getex', -2, 'write fast', [1, 1, 1], 'single'),
  c('getdel', 2, 'write fast', [1, 1, 1], 'single'),
  c('getset', 3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('mget', -2, 'readonly fast', [1, -1, 1], 'perKey:array'),
  c('mset', -3, 'write denyoom', [1, -1, 2], 'perKey:allOk'),
  c('msetnx', -3, 'write denyoom', [1, -1, 2], 'single'),
  c('append', 3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('strlen', 2, 'readonly fast', [1, 1, 1], 'single'),
  c('getrange', 4, 'readonly', [1, 1, 1], 'single'),
  c('substr', 4, 'readonly', [1, 1, 1], 'single'),
  c('setrange', 4, 'write denyoom', [1, 1, 1], 'single'),
  c('incr', 2, 'write denyoom fast', [1, 1, 1], 'single'),
  c('decr', 2, 'write denyoom fast', [1, 1, 1], 'single'),
  c('incrby', 3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('decrby', 3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('incrbyfloat', 3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('lcs', -3, 'readonly', [1, 2, 1], 'single'),
];
