// Byte counts as Redis's INFO prints them (used_memory_human …): shared by the node's INFO and
// the proxy's, which sums its groups' memory.

/** Redis's bytesToHuman: B, K, M, G … with two decimals. */
export function bytesToHuman(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  if (n < 1024) return `${n}B`;
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}
