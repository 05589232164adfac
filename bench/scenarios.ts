// The node scenario pairs the candidate we measure with the baseline it is compared against.
// The proxy scenario compares four paths at once and lives in proxy-scenario.ts.
import { redisServerTarget, type Target } from './targets.js';

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Short column labels for the tables, e.g. "ours" and "redis". */
  readonly labels: { readonly candidate: string; readonly baseline: string };
  readonly candidate: Target;
  readonly baseline: Target;
}

/** One Tessera node against one redis-server, both standalone, persistence off. */
export function nodeVsRedisScenario(candidate: Target): Scenario {
  return {
    name: 'node-vs-redis',
    description: `${candidate.name} vs redis-server, single process each`,
    labels: { candidate: 'ours', baseline: 'redis' },
    candidate,
    baseline: redisServerTarget,
  };
}
