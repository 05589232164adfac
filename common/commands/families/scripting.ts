// EVAL/EVALSHA and SCRIPT (Redis group "scripting"). EVAL's keys are its numkeys keys (the 'eval'
// rule), so the proxy routes a script by them; a script without keys goes to slot 0's group.
// SCRIPT LOAD/EXISTS/FLUSH go to every master so an EVALSHA finds its script wherever it lands.
import { defineCommands } from '../define.js';

const c = defineCommands('scripting');
const EVAL_FLAGS = 'noscript stale skip_monitor no_mandatory_keys';

export const scriptingCommands = [
  c('eval', -3, EVAL_FLAGS, null, 'single', { movable: 'eval' }),
  c('evalsha', -3, EVAL_FLAGS, null, 'single', { movable: 'eval' }),
  c('eval_ro', -3, `readonly ${EVAL_FLAGS}`, null, 'single', { movable: 'eval' }),
  c('evalsha_ro', -3, `readonly ${EVAL_FLAGS}`, null, 'single', { movable: 'eval' }),
  c('script', -2, '', null, 'deny', {
    deny: 'SCRIPT needs a subcommand',
    subs: [
      c('script|load', 3, 'noscript stale', null, 'allShards:every'),
      c('script|exists', -3, 'noscript', null, 'allShards:every'),
      c('script|flush', -2, 'noscript', null, 'allShards:every'),
      c('script|kill', 2, 'noscript allow_busy', null, 'allShards:random'),
      c('script|help', 2, 'loading stale', null, 'local'),
    ],
  }),
];
