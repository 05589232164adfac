// Stream commands (Redis doc group "stream"), consumer groups included.
import { defineCommands } from '../define.js';

const c = defineCommands('generic');

export const streamCommands = [
  c('xadd', -5, 'write denyoom fast', [1, 1, 1], 'single'),
  c('xtrim', -4, 'write', [1, 1, 1], 'single'),
  c('xlen', 2, 'readonly fast', [1, 1, 1], 'single'),
  c('xdel', -3, 'write fast', [1, 1, 1], 'single'),
  c('xrange', -4, 'readonly', [1, 1, 1], 'single'),
  c('xread', -4, 'readonly blocking', null, 'blocking', { movable: 'xread' }),
  c('xsetid', -3, 'write denyoom fast', [1, 1, 1], 'single'),
  c('xrevrange', -4, 'readonly', [1, 1, 1], 'single'),
  c('xgroup', -2, '', null, 'single', {
    subs: [
      c('xgroup|destroy', 4, 'write', [2, 2, 1], 'single'),
      c('xgroup|delconsumer', 5, 'write', [2, 2, 1], 'single'),
      c('xgroup|createconsumer', 5, 'write denyoom', [2, 2, 1], 'single'),
      c('xgroup|setid', -5, 'write', [2, 2, 1], 'single'),
      c('xgroup|create', -5, 'write denyoom', [2, 2, 1], 'single'),
      c('xgroup|help', 2, 'loading stale', null, 'local'),
    ],
  }),
  c('xreadgroup', -7, 'write blocking', null, 'blocking', { movable: 'xread' }),
  c('xack', -4, 'write fast', [1, 1, 1], 'single'),
  c('xpending', -3, 'readonly', [1, 1, 1], 'single'),
  c('xclaim', -6, 'write fast', [1, 1, 1], 'single'),
  c('xautoclaim', -6, 'write fast', [1, 1, 1], 'single'),
  c('xinfo', -2, '', null, 'single', {
    subs: [
      c('xinfo|stream', -3, 'readonly', [2, 2, 1], 'single'),
      c('xinfo|help', 2, 'loading stale', null, 'local'),
      c('xinfo|consumers', 4, 'readonly', [2, 2, 1], 'single'),
      c('xinfo|groups', 3, 'readonly', [2, 2, 1], 'single'),
    ],
  }),
];
