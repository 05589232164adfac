// MULTI/EXEC/WATCH (Redis group "transactions").
import { defineCommands } from '../define.js';

const c = defineCommands('transactions');

export const transactionCommands = [
  c('multi', 1, 'noscript loading stale fast allow_busy', null, 'transaction'),
  c('exec', 1, 'noscript loading stale skip_slowlog', null, 'transaction'),
  c('discard', 1, 'noscript loading stale fast allow_busy', null, 'transaction'),
  c('watch', -2, 'noscript loading stale fast allow_busy', [1, -1, 1], 'transaction'),
  c('unwatch', 1, 'noscript loading stale fast allow_busy', null, 'transaction'),
];
