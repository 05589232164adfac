// The processes a target started itself (a proxy's workers): children found by scanning /proc for
// their parent pid, so CPU time and GC marks can be summed over the whole target.
import { readdirSync, readFileSync } from 'node:fs';

/** The parent pid (field 4) of one /proc/<pid>/stat line. */
export function parseStatParentPid(stat: string): number {
  // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  if (!Number.isInteger(ppid)) throw new Error('cannot parse the parent pid of /proc/<pid>/stat');
  return ppid;
}

/** Pids whose parent is `pid`, now (a process that exits meanwhile is skipped). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited between readdir and read
    }
    if (parseStatParentPid(stat) === pid) out.push(Number(name));
  }
  return out.sort((a, b) => a - b);
}
