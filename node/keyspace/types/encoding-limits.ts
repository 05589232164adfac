// Thresholds that decide a value's compact vs. general encoding (Redis 7.0.15's CONFIG GET defaults).
// Mutable on purpose: the node's CONFIG SET writes into this one shared object.

export interface EncodingLimits {
  /** hash-max-listpack-entries: a hash with more fields becomes a hashtable. */
  hashMaxListpackEntries: number;
  /** hash-max-listpack-value: a field or value longer than this (bytes) makes the hash a hashtable. */
  hashMaxListpackValue: number;
  /** set-max-intset-entries: an all-integer set with more members becomes a hashtable. */
  setMaxIntsetEntries: number;
  /** zset-max-listpack-entries: a sorted set with more members becomes a skiplist. */
  zsetMaxListpackEntries: number;
  /** zset-max-listpack-value: a member longer than this (bytes) makes the sorted set a skiplist. */
  zsetMaxListpackValue: number;
  /** list-max-listpack-size: quicklist node fill; negative = byte limit class (-2 = 8 KiB), positive = entry count. */
  listMaxListpackSize: number;
}

export const REDIS_DEFAULT_ENCODING_LIMITS: Readonly<EncodingLimits> = Object.freeze({
  hashMaxListpackEntries: 512, // 7.0's default (redis.conf's comment still says 128)
  hashMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  listMaxListpackSize: -2,
});

/** The live limits every value consults. */
export const encodingLimits: EncodingLimits = { ...REDIS_DEFAULT_ENCODING_LIMITS };

/** Restores the Redis defaults (tests use this after changing a limit). */
export function resetEncodingLimits(): void {
  Object.assign(encodingLimits, REDIS_DEFAULT_ENCODING_LIMITS);
}
