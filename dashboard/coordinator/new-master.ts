// A server added as a group's master must hold no keys: once the group is given slots, whatever
// the server already held in them would be served as if it were the cluster's data (stale or
// foreign keys reappearing), and keys in other slots would sit there unreachable. So the add is
// refused while the node reports keys, unless the operator says `force` (adopting a node whose
// data is meant to be served, e.g. a Redis being brought into Tessera with its slots).
//
// A node that cannot be reached is not refused: servers may be registered before they start,
// and there is nothing to compare against; the add says it could not check.
import { NodeLinks } from './node-links.js';

/** How long the check may take before the node counts as unreachable. */
const CHECK_TIMEOUT_MS = 2000;

export interface KeyCounter {
  /** Keys the node at `addr` holds over all its databases; throws when it cannot be asked. */
  keysHeld(addr: string): Promise<number>;
  close(): Promise<void>;
}

/** Sums `keys=` over INFO keyspace's db lines ("db0:keys=3,expires=0,avg_ttl=0"). */
export function keysInKeyspaceInfo(info: string): number {
  let total = 0;
  for (const m of info.matchAll(/^db\d+:keys=(\d+)/gm)) total += Number(m[1]);
  return total;
}

export class RedisKeyCounter implements KeyCounter {
  private readonly links: NodeLinks;

  constructor(password: string | null) {
    this.links = new NodeLinks({ name: 'tessera-admin', password, connectTimeoutMs: 1000, retryMs: 1000 });
  }

  async keysHeld(addr: string): Promise<number> {
    try {
      return keysInKeyspaceInfo(String(await this.links.call(addr, ['INFO', 'keyspace'], { timeoutMs: CHECK_TIMEOUT_MS, failFast: true, resetOnTimeout: true })));
    } finally {
      // One-off checks: keep no link to a server that may never be added.
      this.links.retain(new Set());
    }
  }

  close(): Promise<void> {
    return this.links.close();
  }
}
