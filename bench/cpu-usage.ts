// CPU time consumed by server processes, from /proc/<pid>/stat, so a report can tell a
// server-bound run (server CPU ≈ 100%) from a client-bound one (server CPU well below).
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

let ticksPerSecond: number | undefined;

function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** utime + stime in clock ticks from one /proc/<pid>/stat line (all threads of the process). */
export function parseStatCpuTicks(stat: string): number {
  // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so utime (field 14) is rest[11] and stime (field 15) rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('cannot parse /proc/<pid>/stat');
  return utime + stime;
}

/** Total CPU seconds used so far by the given pids. */
export async function cpuSeconds(pids: readonly number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) ticks += parseStatCpuTicks(await readFile(`/proc/${pid}/stat`, 'utf8'));
  return ticks / clockTicksPerSecond();
}
