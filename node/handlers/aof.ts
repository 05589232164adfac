// BGREWRITEAOF: starts a background AOF rewrite (see persistence/aof.ts), with Redis's replies.
import { aofOf } from '../persistence/aof.js';
import type { Session } from '../session.js';
import type { HandlerMap } from './handler.js';

function bgrewriteaofCommand(s: Session): void {
  const aof = aofOf(s.server);
  const outcome = aof ? aof.startRewrite() : 'error';
  if (outcome === 'in_progress') return s.w.error('ERR Background append only file rewriting already in progress');
  if (outcome === 'error') {
    return s.w.error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
  }
  s.w.simple('Background append only file rewriting started');
}

export const aofHandlers: HandlerMap = {
  bgrewriteaof: bgrewriteaofCommand,
};
