// HyperLogLog commands (Redis doc group "hyperloglog"): HLLs are string values in Redis's format.
import { defineCommands } from '../define.js';

const c = defineCommands('string');

export const hyperloglogCommands = [
  c('pfadd', -2, 'write denyoom fast', [1, 1, 1], 'single'),
  // Read-only, but it may write the cached cardinality back into the value (and propagates then).
  c('pfcount', -2, 'readonly', [1, -1, 1], 'single'),
  c('pfmerge', -2, 'write denyoom', [1, -1, 1], 'single'),
  c('pfdebug', 3, 'write denyoom admin', [2, 2, 1], 'single'),
  c('pfselftest', 1, 'admin', null, 'deny', { deny: 'PFSELFTEST tests one node: run it on a node, not through the proxy' }),
];
