// List commands, including the blocking ones.
import type { HandlerMap } from './handler.js';

export const listHandlers: HandlerMap = {};
