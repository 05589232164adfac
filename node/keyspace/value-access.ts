// Reads and writes an entry's access stamp (entry.lru) the way Redis interprets its robj->lru:
// LRU policies keep the access clock (seconds, see eviction.ts accessClock); LFU policies pack
// (minutes since the epoch mod 2^16) << 8 | logarithmic counter. Used by OBJECT and RESTORE.

/** True for the allkeys-lfu / volatile-lfu policies. */
export function isLfuPolicy(policy: string): boolean {
  return policy.endsWith('-lfu');
}

/** OBJECT IDLETIME: whole seconds since the last access, given the current access clock. */
export function idleSeconds(lru: number, clockNow: number): number {
  return Math.max(0, clockNow - lru);
}

function lfuMinutes(nowMs: number): number {
  return Math.floor(nowMs / 60_000) & 0xffff;
}

/** OBJECT FREQ: the LFU counter after applying the decay for the minutes it was not touched. */
export function lfuFrequency(lru: number, nowMs: number, decayMinutes: number): number {
  const counter = lru & 0xff;
  const stamp = (lru >>> 8) & 0xffff;
  const now = lfuMinutes(nowMs);
  const elapsed = now >= stamp ? now - stamp : 0xffff - stamp + now;
  const periods = decayMinutes > 0 ? Math.floor(elapsed / decayMinutes) : 0;
  return periods > counter ? 0 : counter - periods;
}

/** The packed LFU stamp for a counter value set now (RESTORE … FREQ n). */
export function lfuStamp(counter: number, nowMs: number): number {
  return ((lfuMinutes(nowMs) << 8) | (counter & 0xff)) >>> 0;
}
