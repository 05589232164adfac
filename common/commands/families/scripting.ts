// EVAL/EVALSHA and SCRIPT (Redis group "scripting"). EVAL's keys are its numkeys keys (the 'eval'
// rule), so the proxy routes a script by them; a script without keys goes to slot 0's group.
// SCRIPT LOAD/EXISTS/FLUSH go to every master so an EVALSHA finds its script wherever it lands.
import { defineCommands } from '../define.js';

const c = defineCommands('scripting');
const EVAL_FLAGS = 'noscript stale skip_monitor no_mandatory_keys';
const COORDINATOR_ONLY = 'TESSERA.SCRIPTS is the coordinator\'s, sent to the nodes directly, never through the proxy';

export const scriptingCommands = [
  c('eval', -3, EVAL_FLAGS, null, 'single', { movable: 'eval' }),
  c('evalsha', -3, EVAL_FLAGS, null, 'single', { movable: 'eval' }),
  c('eval_ro', -3, `readonly ${EVAL_FLAGS}`, null, 'single', { movable: 'eval' }),
  c('evalsha_ro', -3, `readonly ${EVAL_FLAGS}`, null, 'single', { movable: 'eval' }),
  // Functions (Redis 7): FCALL routes by its numkeys keys as EVAL does; the library commands that
  // change libraries go to every master (so FCALL finds a function wherever its keys live), the
  // ones that read them ask one master (all hold the same libraries).
  c('fcall', -3, EVAL_FLAGS, null, 'single', { movable: 'eval' }),
  c('fcall_ro', -3, `readonly ${EVAL_FLAGS}`, null, 'single', { movable: 'eval' }),
  c('function', -2, '', null, 'deny', {
    deny: 'FUNCTION needs a subcommand',
    subs: [
      c('function|load', -3, 'write denyoom noscript', null, 'allShards:every'),
      c('function|delete', 3, 'write noscript', null, 'allShards:every'),
      c('function|flush', -2, 'write noscript', null, 'allShards:every'),
      c('function|restore', -3, 'write denyoom noscript', null, 'allShards:every'),
      c('function|list', -2, 'noscript', null, 'allShards:random'),
      c('function|dump', 2, 'noscript', null, 'allShards:random'),
      c('function|stats', 2, 'noscript allow_busy', null, 'allShards:random'),
      c('function|kill', 2, 'noscript allow_busy', null, 'allShards:random'),
      c('function|help', 2, 'loading stale', null, 'local'),
    ],
  }),
  // The coordinator reads a node's cached scripts to SCRIPT LOAD them on a group about to serve
  // slots (dashboard/coordinator/script-copy.ts); not for clients: the proxy denies it.
  c('tessera.scripts', -2, '', null, 'deny', {
    deny: COORDINATOR_ONLY,
    subs: [
      c('tessera.scripts|dump', -2, 'admin noscript loading stale', null, 'deny', { deny: COORDINATOR_ONLY }),
    ],
  }),
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
