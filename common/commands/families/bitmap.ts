// Bitmap commands (Redis doc group "bitmap"): bit-level reads and writes on string values.
import { defineCommands } from '../define.js';

const c = defineCommands('string');

export const bitmapCommands = [
  c('setbit', 4, 'write denyoom', [1, 1, 1], 'single'),
  c('getbit', 3, 'readonly fast', [1, 1, 1], 'single'),
  c('bitcount', -2, 'readonly', [1, 1, 1], 'single'),
  c('bitpos', -3, 'readonly', [1, 1, 1], 'single'),
  c('bitop', -4, 'write denyoom', [2, -1, 1], 'single'),
  c('bitfield', -2, 'write denyoom', [1, 1, 1], 'single'),
  c('bitfield_ro', -2, 'readonly fast', [1, 1, 1], 'single'),
];
