// MULTI/EXEC/DISCARD/WATCH/UNWATCH.
import type { HandlerMap } from './handler.js';

export const transactionHandlers: HandlerMap = {};
