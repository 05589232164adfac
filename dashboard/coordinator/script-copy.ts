// Copies the cluster's function libraries and cached scripts to a group about to serve slots
// (issue 12: EVALSHA and FCALL must work wherever a key lives). The proxy fans SCRIPT LOAD and
// FUNCTION LOAD/DELETE/FLUSH/RESTORE out to every master it knows, but a group added later missed
// everything loaded before it: so before a migration tells a target it imports (migrations.ts,
// startMovingStep) the source's libraries and scripts are copied to it.
//
// Functions: FUNCTION DUMP on the source → FUNCTION RESTORE <payload> REPLACE on the target, and
// only when the target's own dump differs (a target that already serves slots got the same
// fan-out: usually nothing to do). Why REPLACE: the slots about to move are served by the source
// today, so the code their callers run is the source's; after the move it must be the same code.
// APPEND (Redis's default) would fail the whole restore on any same-named library and block the
// migration forever over a harmless duplicate; FLUSH would delete libraries only the target has
// (which slots it already serves may use). REPLACE overwrites same-named libraries with the
// source's version and keeps the rest.
//
// Scripts: Redis cannot list its script cache, so our node's TESSERA.SCRIPTS DUMP pages through
// it; the target gets SCRIPT LOAD for each sha it lacks (SCRIPT EXISTS first: a sha names its
// body, so a script the target has is the same script). A plain redis-server source has no
// TESSERA.SCRIPTS: functions are copied, and the log says that scripts were not.
//
// A copy that fails throws: the migration's slots wait (preparing, the error in their progress)
// and are retried at the next pass, never skipped. A failure is an event (the same one again at
// most once a minute); a successful copy that changed something is one too.
import type { EventInput } from './events.js';
import type { ScriptingApi } from './node-client.js';

/** Pages of TESSERA.SCRIPTS DUMP read per copy at most (a page holds up to 100 scripts or 1 MB). */
const MAX_PAGES = 10_000;
/** A copy retried every second must not flood the capped event log: the same failure again is an event at most this often. */
const FAILURE_EVENT_EVERY_MS = 60_000;

export interface CopyEnd {
  group: number;
  addr: string;
}

export interface CopyResult {
  libraries: number;
  scripts: number;
  /** The source has no TESSERA.SCRIPTS (a plain redis-server): scripts were not copied. */
  scriptsUnsupported: boolean;
}

export class ScriptCopier {
  /** Per target group: the last failure recorded as an event, and when. */
  private readonly failures = new Map<number, { message: string; at: number }>();

  constructor(
    private readonly api: ScriptingApi,
    private readonly events: { append(e: EventInput): unknown } | null,
    private readonly log: (msg: string) => void,
  ) {}

  /** Copies from `from`'s master to `to`'s; throws with a message naming both groups on failure. */
  async copy(from: CopyEnd, to: CopyEnd): Promise<CopyResult> {
    let result: CopyResult;
    try {
      const libraries = await this.copyFunctions(from.addr, to.addr);
      const scripts = await this.copyScripts(from.addr, to.addr);
      result = { libraries, scripts: scripts ?? 0, scriptsUnsupported: scripts === null };
    } catch (err) {
      const msg = `copying libraries and scripts from group ${from.group} (${from.addr}) to group ${to.group} (${to.addr}) failed: ${(err as Error).message}`;
      const last = this.failures.get(to.group);
      if (!last || last.message !== msg || Date.now() - last.at >= FAILURE_EVENT_EVERY_MS) {
        this.failures.set(to.group, { message: msg, at: Date.now() });
        this.events?.append({ type: 'scripts-copy-failed', group: to.group, message: msg, details: { from: from.group, to: to.group } });
      }
      throw new Error(msg);
    }
    this.failures.delete(to.group);
    if (result.scriptsUnsupported) {
      this.log(`group ${from.group} (${from.addr}) has no TESSERA.SCRIPTS (not a Tessera node?): cached scripts were not copied to group ${to.group}, only function libraries`);
    }
    if (result.libraries > 0 || result.scripts > 0) {
      this.events?.append({
        type: 'scripts-copied', group: to.group,
        message: `copied ${result.libraries} libraries and ${result.scripts} scripts from group ${from.group} to group ${to.group}`,
        details: { from: from.group, to: to.group, libraries: result.libraries, scripts: result.scripts },
      });
    }
    return result;
  }

  /**
   * Before `slots assign` puts slots online in a group that serves none yet. Unlike a migration,
   * a table edit never waited for nodes (an operator may lay out the table before starting them;
   * the reconciler tells them later), so a failed copy does not refuse the assignment: it is an
   * event (scripts-copy-failed) and a log line, and a migration to the group copies again.
   */
  async copyForAssign(from: CopyEnd, to: CopyEnd): Promise<void> {
    try {
      await this.copy(from, to);
    } catch (err) {
      this.log(`${(err as Error).message}; the slots are assigned anyway`);
    }
  }

  /** The number of libraries restored (0 when the target's dump already equals the source's). */
  private async copyFunctions(source: string, target: string): Promise<number> {
    const [dump, theirs] = await Promise.all([this.api.functionDump(source), this.api.functionDump(target)]);
    if (dump === null || (theirs !== null && dump.equals(theirs))) return 0;
    const count = await this.api.functionLibraryCount(source);
    if (count === 0) return 0;
    await this.api.functionRestore(target, dump);
    return count;
  }

  /** The number of scripts loaded on the target, or null if the source cannot list its scripts. */
  private async copyScripts(source: string, target: string): Promise<number | null> {
    let loaded = 0;
    let cursor = 0;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page = await this.api.scriptsPage(source, cursor);
      if (page === null) return null;
      const have = await this.api.scriptsExist(target, page.scripts.map((s) => s.sha));
      for (let i = 0; i < page.scripts.length; i++) {
        if (have[i]) continue;
        await this.api.scriptLoad(target, page.scripts[i]!.body);
        loaded++;
      }
      if (page.next === 0) return loaded;
      cursor = page.next;
    }
    throw new Error(`the script cache of ${source} has more than ${MAX_PAGES} pages`);
  }
}
