// Snapshot commands: SAVE, BGSAVE [SCHEDULE], LASTSAVE and DEBUG RELOAD. The engine is
// persistence/snapshot.ts (server.snapshots); this file only parses arguments and replies.
import type { Session } from '../session.js';
import { type HandlerMap, syntaxError } from './handler.js';
import { isInExec } from './transactions.js';

const ERR_BGSAVE_IN_PROGRESS = 'ERR Background save already in progress';
const ERR_OTHER_CHILD =
  "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";
const ERR_RELOAD_OPTIONS = 'ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.';
const ERR_RELOAD_LOAD = 'ERR Error trying to load the RDB dump, check server logs.';
/** Redis's shared.err: a bare "-ERR" when a save fails (details go to the log). */
const ERR_BARE = 'ERR';

function saveCommand(s: Session): void {
  const snapshots = s.server.snapshots;
  if (snapshots.inProgress) return s.w.error(ERR_BGSAVE_IN_PROGRESS);
  if (snapshots.saveSync()) s.w.ok();
  else s.w.error(ERR_BARE);
}

function bgsaveCommand(s: Session, args: string[]): void {
  let schedule = false;
  if (args.length > 1) {
    if (args.length === 2 && args[1]!.toLowerCase() === 'schedule') schedule = true;
    else return syntaxError(s);
  }
  const snapshots = s.server.snapshots;
  if (snapshots.inProgress) return s.w.error(ERR_BGSAVE_IN_PROGRESS);
  // Inside EXEC Redis never forks: the save is scheduled for the cron.
  if (isInExec(s)) {
    snapshots.scheduleBgsave();
    return s.w.simple('Background saving scheduled');
  }
  const started = snapshots.bgsave(schedule);
  if (started === 'started') s.w.simple('Background saving started');
  else if (started === 'scheduled') s.w.simple('Background saving scheduled');
  else if (started === 'other-child') s.w.error(ERR_OTHER_CHILD);
  else s.w.error(ERR_BGSAVE_IN_PROGRESS);
}

function lastsaveCommand(s: Session): void {
  s.w.integer(s.server.lastSave);
}

/** DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the dataset, load the file back. */
export function debugReloadCommand(s: Session, args: string[]): void {
  let merge = false;
  let flush = true;
  let save = true;
  for (let i = 2; i < args.length; i++) {
    const opt = args[i]!.toLowerCase();
    if (opt === 'merge') merge = true;
    else if (opt === 'noflush') flush = false;
    else if (opt === 'nosave') save = false;
    else return s.w.error(ERR_RELOAD_OPTIONS);
  }
  const server = s.server;
  server.snapshots.abortBackground('Background saving aborted by DEBUG RELOAD');
  if (save && !server.snapshots.saveSync()) return s.w.error(ERR_BARE);
  try {
    const result = server.snapshots.loadFromDisk({ flushFirst: flush, allowDuplicates: merge });
    if (result === null) return s.w.error(ERR_RELOAD_LOAD);
  } catch (err) {
    server.log('warning', `Error loading the RDB file: ${(err as Error).message}`);
    return s.w.error(ERR_RELOAD_LOAD);
  }
  server.log('warning', 'DB reloaded by DEBUG RELOAD');
  s.w.ok();
}

export const persistenceHandlers: HandlerMap = {
  save: saveCommand,
  bgsave: bgsaveCommand,
  lastsave: lastsaveCommand,
};
