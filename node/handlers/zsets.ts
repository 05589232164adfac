// Sorted-set commands, including the blocking ones.
import type { HandlerMap } from './handler.js';

export const zsetHandlers: HandlerMap = {};
