// CLIENT subcommands.
import type { HandlerMap } from './handler.js';

export const clientHandlers: HandlerMap = {};
