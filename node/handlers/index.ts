// Every command handler, keyed by command table name ("get", "config|get"). The dispatcher checks
// at start-up that each key has a table entry; a test checks the reverse.
import { connectionHandlers } from './connection.js';
import type { HandlerMap } from './handler.js';
import { stringHandlers } from './strings.js';

export type { Handler } from './handler.js';

export const HANDLERS: HandlerMap = {
  ...connectionHandlers,
  ...stringHandlers,
};
