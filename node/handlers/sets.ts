// Set commands.
import type { HandlerMap } from './handler.js';

export const setHandlers: HandlerMap = {};
