// Stream commands (Redis doc group "stream"), first slice: no consumer groups.
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
];
