// The node scenario's sorted-set build: one sorted set of N members (100,000 by default) built by
// pipelined single-member ZADDs over one socket, scores in a scrambled order (so inserts land all
// over the structure, not at its end), on each target in turn; time and server CPU per insert.
import { cpuSeconds } from './cpu-usage.js';
import { encodeCommand, sendLineCommand } from './net-util.js';
import { sendPipelined } from './pipelined-send.js';
import { median } from './stats.js';
import type { RunningTarget } from './targets.js';

export interface ZaddBuildRun {
  seconds: number;
  serverCpuSeconds: number;
}

export interface ZaddBuildResult {
  target: string;
  members: number;
  runs: ZaddBuildRun[];
  /** Median wall time per insert, µs (first write to last reply). */
  microsPerInsert: number;
  /** Median server CPU per insert, µs (/proc/<pid>/stat over the build): far less load-sensitive. */
  cpuMicrosPerInsert: number;
}

const KEY = 'bench:zbuild';
/** A prime above any member count we use: i * 7919 mod it is a permutation of the scores. */
const SCORE_MODULUS = 1_000_003;
const BATCH = 1000;
/** DEL of a 100k-member set and ZCARD right after a build: a loaded machine may take seconds. */
const DEL_TIMEOUT_MS = 30_000;

function zaddBatch(from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += encodeCommand(['ZADD', KEY, String((i * 7919) % SCORE_MODULUS), `m:${i}`]);
  return out;
}

/** One build on an empty key; checks ZCARD, then deletes the set (its free is not timed). */
async function buildOnce(target: RunningTarget, members: number): Promise<ZaddBuildRun> {
  await sendLineCommand(target.port, ['DEL', KEY], DEL_TIMEOUT_MS);
  const cpuBefore = await cpuSeconds(target.pids);
  const started = process.hrtime.bigint();
  await sendPipelined(target.port, members, zaddBatch, BATCH);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const serverCpuSeconds = (await cpuSeconds(target.pids)) - cpuBefore;
  const card = Number(await sendLineCommand(target.port, ['ZCARD', KEY], DEL_TIMEOUT_MS));
  if (card !== members) throw new Error(`ZCARD ${card} after ${members} ZADDs on port ${target.port}`);
  await sendLineCommand(target.port, ['DEL', KEY], DEL_TIMEOUT_MS);
  return { seconds, serverCpuSeconds };
}

/** `repeats` builds per target, alternating target by target (as the throughput runs), medians. */
export async function measureZaddBuild(
  targets: ReadonlyArray<{ name: string; running: RunningTarget }>,
  members: number,
  repeats: number,
): Promise<ZaddBuildResult[]> {
  if (members > SCORE_MODULUS) throw new Error(`at most ${SCORE_MODULUS} members (distinct scores)`);
  const runs: ZaddBuildRun[][] = targets.map(() => []);
  for (let round = 0; round < repeats; round++) {
    for (const [i, t] of targets.entries()) runs[i].push(await buildOnce(t.running, members));
  }
  return targets.map((t, i) => ({
    target: t.name,
    members,
    runs: runs[i],
    microsPerInsert: median(runs[i].map((r) => r.seconds)) / members * 1e6,
    cpuMicrosPerInsert: median(runs[i].map((r) => r.serverCpuSeconds)) / members * 1e6,
  }));
}
