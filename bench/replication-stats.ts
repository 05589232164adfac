// Numbers derived from the replication scenario's raw samples: percentiles, run summaries and
// replication lag in bytes and in milliseconds. Pure functions.
import { median } from './stats.js';

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export interface RunSummary {
  median: number;
  min: number;
  max: number;
  /** (max − min) / median: how noisy the repeats were (0 for one run). */
  spread: number;
}

export function summarizeRuns(values: readonly number[]): RunSummary {
  const mid = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: mid, min, max, spread: mid === 0 ? 0 : (max - min) / mid };
}

/** One poll during the write load: both offsets as read at (about) the same moment. */
export interface OffsetSample {
  /** Milliseconds since the load started. */
  atMs: number;
  masterOffset: number;
  replicaOffset: number;
}

/**
 * When the master's offset first reached `offset`, interpolating linearly between polls; null
 * if it had not reached it by the first sample (no earlier time to interpolate from).
 */
function timeMasterReached(samples: readonly OffsetSample[], offset: number): number | null {
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (s.masterOffset < offset) continue;
    if (i === 0) return s.masterOffset === offset ? s.atMs : null;
    const prev = samples[i - 1];
    const grew = s.masterOffset - prev.masterOffset;
    return grew === 0 ? prev.atMs : prev.atMs + ((offset - prev.masterOffset) / grew) * (s.atMs - prev.atMs);
  }
  return null;
}

export interface LagSample {
  atMs: number;
  bytes: number;
  /** How long ago the master was where the replica is now; null when that is before the first poll. */
  ms: number | null;
}

/** Byte lag (master − replica, never below 0) and time lag for every sample. */
export function lagSamples(samples: readonly OffsetSample[]): LagSample[] {
  return samples.map((s) => {
    const bytes = Math.max(0, s.masterOffset - s.replicaOffset);
    const reached = bytes === 0 ? s.atMs : timeMasterReached(samples, s.replicaOffset);
    return { atMs: s.atMs, bytes, ms: reached === null ? null : Math.max(0, s.atMs - reached) };
  });
}
