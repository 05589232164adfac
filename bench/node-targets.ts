// The node targets (issue 11, "Must show"), judged on one node-scenario run: rps vs
// redis-server at pipeline 16 (GET, SET ≥ 0.7×; ZADD ≥ 0.4×), the 100k-member sorted-set build
// within 2× redis-server's time per insert, and 1M small string keys in at most 2× its RSS.
import type { MemoryResult } from './memory.js';
import type { TargetCheck } from './target-checks.js';
import type { TestResult } from './throughput.js';
import type { ZaddBuildResult } from './zadd-build.js';

export const NODE_TARGETS = {
  minRatioP16: { GET: 0.7, SET: 0.7, ZADD: 0.4 } as Readonly<Record<string, number>>,
  zaddBuildMembers: 100_000,
  maxZaddBuildRatio: 2,
  memoryKeys: 1_000_000,
  maxRssRatio: 2,
} as const;

const f2 = (n: number): string => n.toFixed(2);

function ratioChecks(tests: readonly TestResult[]): TargetCheck[] {
  return Object.entries(NODE_TARGETS.minRatioP16).map(([test, min]) => {
    const t = tests.find((r) => r.test === test && r.pipeline === 16);
    const name = `${test} -P 16: rps vs redis-server`;
    if (t === undefined) return { name, target: `≥ ${f2(min)}×`, measured: 'not measured in this run', pass: null };
    const us = (n: number | null): string => (n === null ? 'n/a' : n.toFixed(2));
    return {
      name, target: `≥ ${f2(min)}×`,
      measured: `${f2(t.ratio)}× (${Math.round(t.candidate.rps)} vs ${Math.round(t.baseline.rps)} rps; best runs ${f2(t.bestRatio)}×; ` +
        `CPU ${us(t.candidate.serverCpuMicrosPerRequest)} vs ${us(t.baseline.serverCpuMicrosPerRequest)} µs/request)`,
      pass: t.ratio >= min,
    };
  });
}

function zaddBuildCheck(builds: readonly ZaddBuildResult[], candidate: string, baseline: string): TargetCheck {
  const name = `ZADD ${NODE_TARGETS.zaddBuildMembers.toLocaleString('en-US')} members: time per insert vs redis-server`;
  const target = `≤ ${NODE_TARGETS.maxZaddBuildRatio}×`;
  const ours = builds.find((b) => b.target === candidate);
  const redis = builds.find((b) => b.target === baseline);
  if (ours === undefined || redis === undefined) return { name, target, measured: 'not measured in this run', pass: null };
  const ratio = ours.microsPerInsert / redis.microsPerInsert;
  const sized = ours.members === NODE_TARGETS.zaddBuildMembers;
  return {
    name, target,
    measured: `${f2(ratio)}× (${f2(ours.microsPerInsert)} vs ${f2(redis.microsPerInsert)} µs/insert; CPU ${f2(ours.cpuMicrosPerInsert)} vs ${f2(redis.cpuMicrosPerInsert)} µs/insert)` +
      (sized ? '' : `; n/a: ${ours.members} members`),
    pass: sized ? ratio <= NODE_TARGETS.maxZaddBuildRatio : null,
  };
}

function memoryCheck(memory: readonly MemoryResult[], candidate: string, baseline: string): TargetCheck {
  const name = `${NODE_TARGETS.memoryKeys.toLocaleString('en-US')} small string keys: RSS vs redis-server`;
  const target = `≤ ${NODE_TARGETS.maxRssRatio}×`;
  const ours = memory.find((m) => m.target === candidate);
  const redis = memory.find((m) => m.target === baseline);
  if (ours === undefined || redis === undefined) return { name, target, measured: 'not measured in this run', pass: null };
  const ratio = ours.rssAfterBytes / redis.rssAfterBytes;
  const sized = ours.keys === NODE_TARGETS.memoryKeys;
  const mib = (b: number): string => (b / (1024 * 1024)).toFixed(1);
  return {
    name, target,
    measured: `${f2(ratio)}× (${mib(ours.rssAfterBytes)} vs ${mib(redis.rssAfterBytes)} MiB; bytes/key ${ours.bytesPerKey.toFixed(0)} vs ${redis.bytesPerKey.toFixed(0)})` +
      (sized ? '' : `; n/a: ${ours.keys} keys`),
    pass: sized ? ratio <= NODE_TARGETS.maxRssRatio : null,
  };
}

export function nodeTargetChecks(
  r: { tests: readonly TestResult[]; zaddBuild: readonly ZaddBuildResult[]; memory: readonly MemoryResult[] },
  candidate: string,
  baseline: string,
): TargetCheck[] {
  return [...ratioChecks(r.tests), zaddBuildCheck(r.zaddBuild, candidate, baseline), memoryCheck(r.memory, candidate, baseline)];
}
