// Pub/sub commands.
import type { HandlerMap } from './handler.js';

export const pubsubHandlers: HandlerMap = {};
