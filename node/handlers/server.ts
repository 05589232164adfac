// Server and administration commands (INFO, CONFIG, COMMAND, SLOWLOG …).
import type { HandlerMap } from './handler.js';

export const serverHandlers: HandlerMap = {};
