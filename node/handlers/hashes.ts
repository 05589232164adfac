// Hash commands.
import type { HandlerMap } from './handler.js';

export const hashHandlers: HandlerMap = {};
