// Which session a running script's redis.call commands run for (Redis's CLIENT_SCRIPT client), so a
// handler can refuse what Redis refuses from scripts. Set by the script runner around each slice.
import type { Session } from '../session.js';

let caller: Session | null = null;

/** Marks `s` as the running script's caller; returns the previous caller, to restore afterwards. */
export function setScriptCaller(s: Session | null): Session | null {
  const previous = caller;
  caller = s;
  return previous;
}

/** True while a script (EVAL or FCALL) runs a command for `s`. */
export function calledFromScript(s: Session): boolean {
  return caller === s;
}
