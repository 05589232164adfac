// Keyspace commands (Redis group generic) plus SLOTSINFO/SLOTSSCAN.
import type { HandlerMap } from './handler.js';

export const keyHandlers: HandlerMap = {};
